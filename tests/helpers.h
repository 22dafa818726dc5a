/* SPDX-License-Identifier: GPL-2.0-or-later */
/* helpers.h - what the criterion suites share: temporary directories,
 * files, the sample corpus, and running the CLIs as a user would. */
#ifndef CARNET_TESTS_HELPERS_H
#define CARNET_TESTS_HELPERS_H

#include <stddef.h>

/* The test's temporary directory under $TMPDIR (or /tmp), made on the
 * first call and the same path on the next ones until th_cleanup removes
 * it (static storage, one per process: tests run in forked children). */
const char *th_tmpdir(void);
/* Remove the directory made by th_tmpdir, recursively. */
void th_cleanup(void);

/* Join into a static rotating buffer: th_path("%s/x", dir). */
const char *th_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write (creating parent directories) a file with these bytes. */
void th_write(const char *path, const char *data, size_t len);
void th_write_str(const char *path, const char *s);
/* A text document with a sidecar: path.txt and path.txt.meta.json. */
void th_write_doc(const char *path, const char *patient, const char *id,
		  const char *date, const char *text);

/* A whole file, NUL-terminated, malloc'd (owned by the caller). */
char *th_slurp(const char *path, size_t *len);

/* The repository root (where the Makefile is) and the build directory. */
const char *th_root(void);
const char *th_build(void);
/* corpora/sample and corpora/bad, absolute. */
const char *th_sample(void);
const char *th_bad(void);

/* A file or folder vendored under corpora/ (licensed public examples:
 * see corpora/README.md), absolute: th_corpus("hl7-C-CDA-Examples/x"). */
const char *th_corpus(const char *rel);

/* The public corpora that may not be redistributed (the ANS CI-SIS CDA
 * examples and value sets, the NOS extracts): the one place that decides
 * where they are: $CARNET_PUBLIC_CORPORA if set (it must then be a
 * directory; set and empty means none), else none (NULL): a test reads
 * nothing outside the repository unless told where. */
const char *th_public_dir(void);
/* rel under th_public_dir(), absolute. Without public corpora the test
 * is skipped (criterion counts it as skipped, never as passed), saying
 * "<what> absent: set CARNET_PUBLIC_CORPORA"; with them, a missing rel
 * fails the test. */
const char *th_public(const char *rel, const char *what);

/* The patient ids of the sample corpus (read from its sidecars), sorted;
 * returns how many (at most max). */
size_t th_sample_patients(char ids[][64], size_t max);

/* Index every file under dir into index home `home` through the public
 * writer API; returns the number of documents added. */
int th_index_dir(const char *home, const char *dir);

/* Run a command (argv[0] is a program in the build directory) with stdin
 * from /dev/null; capture stdout and stderr (NUL-terminated, malloc'd,
 * owned by the caller) and return the exit status (128+signal if killed). */
int th_run(char **out, char **errout, const char *const argv[]);

/* A TCP port nobody listens on now on 127.0.0.1 (the kernel's choice of
 * a free one; another process may take it before the caller does). */
int th_free_port(void);

#endif
