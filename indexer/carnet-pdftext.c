/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-pdftext.c - the PDF text extractor, run by the library in its own
 * process (fork + exec, safe from a multi-threaded indexer): reads a PDF on
 * standard input, writes one status byte then the text of every page on
 * standard output. The parent sets its CPU and memory limits. Not meant to
 * be run by hand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <poppler.h>
#pragma GCC diagnostic pop

#include "pdftext.h"

static int write_all(const char *p, size_t n)
{
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

int main(void)
{
#ifdef CARNET_TESTING
	/* test hooks, for the isolation tests only: in test builds
	 * (build/testing/), never in what make install installs */
	const char *hook = getenv("CARNET_PDF_TEST");
	if (hook && strcmp(hook, "crash") == 0)
		raise(SIGABRT); /* not SIGSEGV: AddressSanitizer would report it */
	if (hook && strcmp(hook, "hang") == 0)
		for (;;)
			pause();
#endif

	size_t cap = 1 << 20, len = 0, n;
	char *data = malloc(cap);
	while (data && (n = fread(data + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap) {
			char *bigger = realloc(data, cap * 2);
			if (!bigger) {
				free(data);
				data = NULL;
				break;
			}
			data = bigger;
			cap *= 2;
		}
	}
	if (!data)
		return 3;
	GError *gerr = NULL;
	GBytes *bytes = g_bytes_new_static(data, len);
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	char status = CARNET_PDFTEXT_OK;
	if (!doc) {
		status = gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED
				 ? CARNET_PDFTEXT_ENCRYPTED
				 : CARNET_PDFTEXT_DAMAGED;
		write_all(&status, 1);
		return 0;
	}
	int pages = poppler_document_get_n_pages(doc);
	if (pages <= 0) {
		status = CARNET_PDFTEXT_NO_PAGES;
		write_all(&status, 1);
		return 0;
	}
	write_all(&status, 1);
	for (int i = 0; i < pages; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		if (!page)
			continue;
		char *text = poppler_page_get_text(page);
		if (text) {
			if (write_all(text, strlen(text)) != 0 || write_all("\n\f\n", 3) != 0)
				return 1;
			g_free(text);
		}
		g_object_unref(page);
	}
	g_object_unref(doc);
	g_bytes_unref(bytes);
	free(data);
	return fflush(stdout) == 0 ? 0 : 1;
}
