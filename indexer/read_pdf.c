/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_pdf.c - PDF text through poppler, in another process (carnet-pdftext,
 * started by fork and exec, safe from a multi-threaded indexer, and kept
 * for the thread's next PDFs: pdf_extractor.c): a parser that crashes,
 * loops or eats memory costs only the input it was reading. Its failures
 * are reported as a bad file; a failure to run it at all (not installed,
 * fork, socket) as an unusable extractor. */
#define _GNU_SOURCE /* dladdr */
#include "reader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pdf_extractor.h"
#include "pdftext.h"
#include "text.h"

/* Where make install puts the extractor (generated from PREFIX: a
 * changed PREFIX rebuilds this file), and the same place relative to the
 * library directory. */
#include "carnet_paths.h"

/* out = dir/rel/name if that is an executable file; 0 then, -1 otherwise. */
static int try_extractor(char *out, size_t size, const char *dir, const char *rel)
{
	int n = snprintf(out, size, "%s%s%s/%s", dir, *rel ? "/" : "", rel,
			 CARNET_PDFTEXT_NAME);
	return n > 0 && (size_t)n < size && access(out, X_OK) == 0 ? 0 : -1;
}

/* The directory of a file path into dir (the path itself if it has no
 * slash: then it is not usable). 0 on success. */
static int dir_of(char *dir, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) >= size)
		return -1;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return 0;
}

/* Find the extractor program into out; 0 if found, -1 otherwise. In order:
 * $CARNET_PDFTEXT; beside the shared library that holds this code, as
 * installed (LIBDIR/../libexec/carnet whatever PREFIX and DESTDIR were);
 * the LIBEXECDIR of the build; beside the running program, or in its
 * ../libexec/carnet (the CLIs, linked with the static library). */
static int find_extractor(char *out, size_t size)
{
	const char *env = getenv("CARNET_PDFTEXT");
	if (env && *env) {
		snprintf(out, size, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -1;
	}
	static const char anchor; /* an address inside this library */
	char dir[PATH_MAX];
	Dl_info info;
	if (dladdr(&anchor, &info) && info.dli_fname &&
	    dir_of(dir, sizeof dir, info.dli_fname) == 0 &&
	    try_extractor(out, size, dir, CARNET_LIBEXEC_FROM_LIBDIR) == 0)
		return 0;
	if (try_extractor(out, size, CARNET_LIBEXECDIR, "") == 0)
		return 0;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	if (dir_of(dir, sizeof dir, self) != 0)
		return -1;
	return try_extractor(out, size, dir, "") == 0 ||
	       try_extractor(out, size, dir, "../libexec/carnet") == 0 ? 0 : -1;
}

/* The verdict on an extraction by prog: how it ended (a). CARNET_OK, or
 * the error for path in err. */
static int judge(const char *path, const char *prog, const carnet_pdf_answer *a,
		 const carnet_limits *limits, carnet_error *err)
{
	int status = a->status;
	if (a->end == CARNET_PDF_GONE && WIFEXITED(status) &&
	    (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126) && !a->verdict)
		return carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_CARNET, 0,
					 "PDF extractor unusable: cannot run %s (not executable, or "
					 "its memory limit of %llu bytes is too small to load it)",
					 prog, (unsigned long long)limits->pdf_memory_bytes);
	if (a->end == CARNET_PDF_NOMEM)
		return carnet_error__nomem(err, "reading PDF text");
	if (a->end == CARNET_PDF_TIMED_OUT)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF extraction took longer than %u s", path,
					 limits->pdf_seconds);
	if (a->end == CARNET_PDF_TOO_BIG)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF text larger than %zu bytes", path,
					 CARNET_PDF_TEXT_MAX);
	if (a->end == CARNET_PDF_GONE && WIFSIGNALED(status))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, WTERMSIG(status),
					 "%s: PDF extractor crashed (signal %d) or ran out of time or memory",
					 path, WTERMSIG(status));
	if (a->end == CARNET_PDF_GARBAGE)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF extractor failed (its answer is not in the "
					 "protocol)", path);
	if (a->end == CARNET_PDF_ANSWERED && a->verdict == CARNET_PDFTEXT_ENCRYPTED)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF is encrypted", path);
	if (a->end == CARNET_PDF_ANSWERED && a->verdict == CARNET_PDFTEXT_DAMAGED)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: not a valid PDF (damaged or truncated)", path);
	if (a->end == CARNET_PDF_ANSWERED && a->verdict == CARNET_PDFTEXT_NO_PAGES)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF has no pages", path);
	if (a->end != CARNET_PDF_ANSWERED || a->verdict != CARNET_PDFTEXT_OK)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF extractor failed", path);
	return CARNET_OK;
}

/* The text the extractor answered, from out's byte start on: kept if it
 * is UTF-8 (else an error) and holds something (else nothing is kept). */
static int take_text(carnet_buf *out, size_t start, const char *path, carnet_error *err)
{
	size_t bad;
	size_t tlen = out->len - start;
	if (tlen && !carnet_text__utf8_valid(out->data + start, tlen, &bad)) {
		out->len = start;
		out->data[start] = '\0';
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF text is not UTF-8 (byte offset %zu)", path, bad);
	}
	int has_text = 0;
	for (size_t i = start; i < out->len && !has_text; i++)
		has_text = (unsigned char)out->data[i] > ' ';
	if (!has_text && out->data) {
		/* a scanned document: a valid PDF without text; its metadata
		 * still deserve a place in the record */
		out->len = start;
		out->data[start] = '\0';
	}
	return CARNET_OK;
}

int carnet_pdf__extract(carnet_buf *out, const char *path, const char *data,
			size_t len, const carnet_limits *limits, carnet_error *err)
{
	if (len == 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: empty file", path);
	static const carnet_limits defaults = { CARNET_DEFAULT_INPUT_BYTES,
						CARNET_DEFAULT_PDF_SECONDS,
						CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };
	if (!limits)
		limits = &defaults;
	char prog[CARNET_PDF_PROG_MAX];
	if (find_extractor(prog, sizeof prog) != 0)
		return carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_CARNET, 0,
					 "PDF extractor unusable: %s not found (install it, or set "
					 "CARNET_PDFTEXT)", CARNET_PDFTEXT_NAME);
	size_t start = out->len;
	carnet_pdf_answer a;
	int rc = carnet_pdf__exchange(&a, out, prog, data, len, limits, err);
	if (rc == CARNET_OK && (rc = judge(path, prog, &a, limits, err))) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc ? rc : take_text(out, start, path, err);
}

static int sniff(const carnet_input *in)
{
	size_t n = in->len < 1024 ? in->len : 1024;
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(in->data + i, "%PDF-", 5) == 0)
			return 80;
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	return strcmp(ext, "pdf") == 0 ? 30 : 0;
}

static int read_pdf(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err)
{
	carnet_buf text = CARNET_BUF_INIT;
	carnet_budget__pause(); /* --pdf-timeout bounds the extractor */
	int rc = carnet_pdf__extract(&text, in->path, in->data, in->len, in->limits, err);
	carnet_budget__resume();
	if (rc == CARNET_OK)
		rc = carnet_reader__emit_text(in, "pdf", NULL, 0, text.data, text.len, sink,
					      payload, err);
	carnet_buf__free(&text);
	return rc;
}

const carnet_reader carnet_reader_pdf = { "pdf", CARNET_READER_NEEDS_SIDECAR, sniff,
					  read_pdf };
