/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_cdahtml.c - libFuzzer harness for carnet-serve's CDA rendering
 * (serve_cda_html, serve_cda_pdf): any bytes; a page that holds a tag
 * outside the few it writes, an attribute but a table's border and a
 * cell's spans, or a raw '<' or '>' from the text aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allowed[] = {
	"!DOCTYPE html", "html lang=\"fr\"", "html", "head", "meta charset=\"utf-8\"", "title", "body",
	"header", "h1", "h2", "h3", "h4", "h5", "h6", "main", "section", "table class=\"cda-header\"",
	"table border=\"1\" cellpadding=\"4\" cellspacing=\"0\"", "table", "tr",
	"th scope=\"row\"", "thead", "tbody", "tfoot", "caption", "div class=\"narrative\"", "div",
	"p", "ul", "ol", "li", "span", "strong", "em", "sub", "sup", "br", NULL,
};

/* A cell: td or th, then only numeric spans. */
static int cell(const char *t, size_t n)
{
	if (n < 2 || (strncmp(t, "td", 2) && strncmp(t, "th", 2)))
		return 0;
	for (size_t i = 2; i < n;) {
		if (n - i < 11 || (strncmp(t + i, " colspan=\"", 10) &&
				   strncmp(t + i, " rowspan=\"", 10)))
			return 0;
		i += 10;
		size_t d = 0;
		while (i + d < n && t[i + d] >= '0' && t[i + d] <= '9')
			d++;
		if (d == 0 || i + d >= n || t[i + d] != '"')
			return 0;
		i += d + 1;
	}
	return 1;
}

/* Every tag of the page is one the renderer writes; no '>' outside one. */
static void check(const char *h, size_t n)
{
	for (const char *p = h; p < h + n; p++) {
		if (*p == '>') {
			fprintf(stderr, "[%.40s]\n", p - 20);
			abort();
		}
		if (*p != '<')
			continue;
		const char *t = p + 1 + (p[1] == '/');
		const char *end = memchr(t, '>', (size_t)(h + n - t));
		if (!end)
			abort();
		size_t len = (size_t)(end - t), i = 0;
		while (allowed[i] && (strlen(allowed[i]) != len || strncmp(t, allowed[i], len)))
			i++;
		if (!allowed[i] && !cell(t, len)) {
			fprintf(stderr, "[%.*s]\n", (int)len, t);
			abort();
		}
		p = end;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *html = NULL, *pdf = NULL;
	size_t n = 0;
	if (serve_cda_html((const char *)data, size, &html, &n) == 0)
		check(html, n);
	free(html);
	if (serve_cda_pdf((const char *)data, size, &pdf, &n) && (n < 5 || memcmp(pdf, "%PDF-", 5)))
		abort();
	free(pdf);
	return 0;
}
