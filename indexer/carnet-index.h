/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index.h - what the files of the carnet-index program share:
 * carnet-index.c (main, options, help), carnet-index-run.c (add, sync,
 * rebuild), carnet-index-record.c (their JSON record and the rejects on
 * record), carnet-index-home.c (init, stats, rejects, mask), and
 * carnet-index-log.c (access-log). */
#ifndef CARNET_INDEXER_CARNET_INDEX_H
#define CARNET_INDEXER_CARNET_INDEX_H

#include <stdint.h>
#include <time.h>

#include "carnet.h"
#include "walk.h"

enum { EXIT_OK = 0, EXIT_REJECTS = 1, EXIT_USAGE = 2, EXIT_FAILURE_ = 3 };

enum { MODE_ADD, MODE_SYNC, MODE_REBUILD };

/* The options of the command line, as main read them. */
typedef struct cli_options {
	/* Files per commit: bounds memory and the work a crash can lose. */
	unsigned long batch;
	unsigned jobs;     /* extraction threads; 0 until set: all cores */
	/* reader limits; 0: the library's default */
	uint64_t max_size, pdf_timeout, doc_timeout;
	/* sync: what it may do. A sync that would remove more than max_remove
	 * documents (or max_remove percent of them) stops before removing. */
	int allow_empty, dry_run, max_remove_is_pct;
	uint64_t max_remove;
	const char *from_audience;         /* mask, unmask --from */
	const char *init_group;            /* init --group NAME */
	const char *log_before, *log_archive; /* access-log --before, --archive */
	uint64_t log_after;                /* access-log export --after SEQ */
	unsigned shard, shards;            /* --shard I/N (shards 0: none) */
} cli_options;

extern cli_options cli;

/* When the process started, for the JSON record. */
extern struct timespec started_at, started_mono;
/* The first error reported, for the JSON record. */
extern char first_error[512];

/* Report an error on stderr; the first one is also the record's. */
__attribute__((format(printf, 1, 2)))
void complain(const char *fmt, ...);

/* A usage error: the reason on one line, then the synopsis; returns
 * EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int usage_error(const char *fmt, ...);

/* An add, sync or rebuild under way. */
typedef struct run {
	carnet_writer *w;
	carnet_walk *inputs;
	int json, quiet, progress, sync;
	unsigned long seen, added, replaced, unchanged, rejected, moved, other_shard, left_shard;
	uint64_t removed;
	int failed;
	int uncommitted; /* a batch added with --jobs above 1 waits for its commit */
	int mode;        /* MODE_* */
	int open_rc;     /* why the writer did not open (EXIT_*), or EXIT_OK */
	int list_errors; /* a directory could not be listed: do not remove */
	struct timespec start;
	/* the JSON record of the run (see record()) */
	const char *command, *home;
	struct rejects *before; /* the rejects on record before the run, or NULL */
	unsigned long long new_rejects;
	long long rejects_total, generation; /* -1: unknown */
} run;

/* A run of command mode (MODE_*) on home, not started. */
void run_init(run *r, const char *home, int json, int quiet, int mode);

/* add PATH..., sync DIR, rebuild DIR (carnet-index-run.c) */
int cmd_add(const char *home, int json, int quiet, int argc, char **argv, int mode);

/* ---- carnet-index-record.c ---- */

/* The rejects on record in an index, by path. */
typedef struct reject_row {
	char *path, *reason, *when;
} reject_row;

typedef struct rejects {
	reject_row *rows;
	size_t count, cap;
	int nomem;
} rejects;

/* Read the rejects on record in the live generation of home, sorted by
 * path, and its generation number. -1 when there is no readable index. */
int rejects_read(const char *home, rejects *rj, long long *generation);
void rejects_free(rejects *rj);

/* After a run: the rejects on record now, and how many of them this run
 * made. */
void tally_rejects(run *r, int mode);

/* The index home named by --index (home), or else the one the library
 * takes: $CARNET_INDEX, else ./carnet.idx. */
const char *cli_home(const char *home);

/* Print the run's JSON record: one line on stdout, whatever happened. */
void record(const run *r, int exit_code);

/* The end of an add, sync or rebuild that stopped before indexing (usage
 * error, missing input, index locked...): the record still says so. */
int stopped(run *r, int exit_code);

/* ---- carnet-index-home.c, carnet-index-log.c ---- */
int cmd_init(const char *home, const char *group);
int cmd_stats(const char *home, int json);
int cmd_rejects(const char *home, int json);
int cmd_mask(const char *home, const char *id, int hidden);
int cmd_access_log(const char *home, int json, int argc, char **argv);

#endif
