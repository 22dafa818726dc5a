/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-pdftext.c - the PDF text extractor, run by the library in its own
 * process (fork + exec, safe from a multi-threaded indexer): with --serve,
 * reads PDFs one after another on standard input and answers each on
 * standard output (pdftext.h); without, one PDF, all of standard input.
 * The parent sets its CPU and memory limits and the time of each PDF. Not
 * meant to be run by hand. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <poppler.h>
#pragma GCC diagnostic pop

#include "pdftext.h"

/* The text of one PDF, growing. */
typedef struct text {
	char *data;
	size_t len, cap;
} text;

static int append(text *t, const char *p, size_t n)
{
	if (!n)
		return 0; /* a page without text: nothing to copy, maybe nowhere yet */
	if (t->cap - t->len < n) {
		size_t cap = t->cap ? t->cap : 1 << 16;
		while (cap - t->len < n)
			cap *= 2;
		char *bigger = realloc(t->data, cap);
		if (!bigger)
			return -1;
		t->data = bigger;
		t->cap = cap;
	}
	memcpy(t->data + t->len, p, n);
	t->len += n;
	return 0;
}

/* The status of the PDF data[0..len), and for OK the text of every page
 * (each ended by a form feed) appended to t; -1 when memory runs out. */
static int extract(const char *data, size_t len, text *t)
{
	GError *gerr = NULL;
	GBytes *bytes = g_bytes_new_static(data, len);
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	int status = CARNET_PDFTEXT_OK;
	if (!doc) {
		status = gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED
				 ? CARNET_PDFTEXT_ENCRYPTED
				 : CARNET_PDFTEXT_DAMAGED;
		g_clear_error(&gerr);
		g_bytes_unref(bytes);
		return status;
	}
	int pages = poppler_document_get_n_pages(doc);
	if (pages <= 0)
		status = CARNET_PDFTEXT_NO_PAGES;
	for (int i = 0; i < pages && status == CARNET_PDFTEXT_OK; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		if (!page)
			continue;
		char *page_text = poppler_page_get_text(page);
		if (page_text && (append(t, page_text, strlen(page_text)) != 0 ||
				  append(t, "\n\f\n", 3) != 0))
			status = -1;
		g_free(page_text);
		g_object_unref(page);
	}
	g_object_unref(doc);
	g_bytes_unref(bytes);
	return status;
}

#ifdef CARNET_TESTING
/* Test hooks, for the isolation tests only: in test builds
 * (build/testing/), never in what make install installs. For every PDF
 * when $CARNET_PDF_TEST says so, or for one PDF that holds the comment
 * %CARNET_PDF_TEST=crash, hang, garbage or grow. The status of a garbage
 * answer (not one of the protocol's), else 0. */
static int test_hook(const char *data, size_t len)
{
	static const char marker[] = "%CARNET_PDF_TEST=";
	const char *hook = getenv("CARNET_PDF_TEST");
	const char *m = memmem(data, len, marker, sizeof marker - 1);
	size_t left = m ? len - (size_t)(m - data) - (sizeof marker - 1) : 0;
	if (m && !hook) {
		hook = m + sizeof marker - 1;
		if (left >= 5 && memcmp(hook, "crash", 5) == 0)
			hook = "crash";
		else if (left >= 4 && memcmp(hook, "hang", 4) == 0)
			hook = "hang";
		else if (left >= 7 && memcmp(hook, "garbage", 7) == 0)
			hook = "garbage";
		else if (left >= 4 && memcmp(hook, "grow", 4) == 0)
			hook = "grow";
		else
			hook = NULL;
	}
	if (hook && strcmp(hook, "crash") == 0)
		raise(SIGABRT); /* not SIGSEGV: AddressSanitizer would report it */
	if (hook && strcmp(hook, "hang") == 0)
		for (;;)
			pause();
	if (hook && strcmp(hook, "grow") == 0) {
		/* keep 60% of the address space allowed, as a leak would */
		static char *kept;
		struct rlimit as;
		if (!kept && getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
			kept = malloc((size_t)(as.rlim_cur / 10 * 6));
	}
	return hook && strcmp(hook, "garbage") == 0 ? '?' : 0;
}
#endif

/* The status of data[0..len), its text in t (the test hooks first). */
static int answer(const char *data, size_t len, text *t)
{
#ifdef CARNET_TESTING
	int garbage = test_hook(data, len);
	if (garbage)
		return garbage;
#endif
	return extract(data, len, t);
}

/* Requests until the end of standard input (pdftext.h). */
static int serve(void)
{
	/* the answers go out on a descriptor of their own, standard output
	 * becomes standard error: nothing a library prints can put the
	 * answers out of step */
	int fd = dup(1);
	FILE *answers = fd >= 0 && dup2(2, 1) == 1 ? fdopen(fd, "w") : NULL;
	if (!answers)
		return 1;
	unsigned char head[CARNET_PDFTEXT_HEADER_BYTES];
	for (;;) {
		size_t got = fread(head, 1, CARNET_PDFTEXT_LEN_BYTES, stdin);
		if (got == 0 && feof(stdin))
			return 0;
		if (got != CARNET_PDFTEXT_LEN_BYTES)
			return 1;
		uint64_t len = carnet_pdftext__get_len(head);
		char *data = len < SIZE_MAX ? malloc(len ? (size_t)len : 1) : NULL;
		if (!data)
			return 3;
		if (fread(data, 1, (size_t)len, stdin) != len) {
			free(data);
			return 1;
		}
		text t = { NULL, 0, 0 };
		int status = answer(data, (size_t)len, &t);
		free(data);
		if (status < 0)
			return 3;
		head[0] = (unsigned char)status;
		carnet_pdftext__put_len(head + 1, t.len);
		int failed = fwrite(head, 1, sizeof head, answers) != sizeof head ||
			     (t.len && fwrite(t.data, 1, t.len, answers) != t.len) ||
			     fflush(answers) != 0;
		free(t.data);
		if (failed)
			return 1;
	}
}

/* One PDF: all of standard input. */
static int once(void)
{
	text in = { NULL, 0, 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		if (append(&in, chunk, n) != 0)
			return 3;
	text t = { NULL, 0, 0 };
	int status = answer(in.data ? in.data : "", in.len, &t);
	free(in.data);
	if (status < 0)
		return 3;
	char c = (char)status;
	int failed = fwrite(&c, 1, 1, stdout) != 1 ||
		     (t.len && fwrite(t.data, 1, t.len, stdout) != t.len) || fflush(stdout) != 0;
	free(t.data);
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], CARNET_PDFTEXT_SERVE) == 0)
		return serve();
	if (argc != 1) {
		fprintf(stderr, "usage: %s [%s] (run by the carnet library)\n", CARNET_PDFTEXT_NAME,
			CARNET_PDFTEXT_SERVE);
		return 2;
	}
	return once();
}
