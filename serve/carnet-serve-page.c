/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-page.c - the professional's page (serve/page/), compiled
 * into the program: GET / and its two assets, nothing else. */
#include <stdlib.h>
#include <string.h>

#include "page_assets.h"
#include "serve.h"

int serve_page(const char *url, serve_answer *a)
{
	static const struct {
		const char *url;
		const char *bytes;
		size_t len;
		const char *type;
	} assets[] = {
		{ "/", page_index, sizeof page_index_bytes - 1, "text/html; charset=utf-8" },
		{ "/index.html", page_index, sizeof page_index_bytes - 1, "text/html; charset=utf-8" },
		{ "/app.js", page_js, sizeof page_js_bytes - 1, "text/javascript; charset=utf-8" },
		{ "/app.css", page_css, sizeof page_css_bytes - 1, "text/css; charset=utf-8" },
	};
	for (size_t i = 0; i < sizeof assets / sizeof *assets; i++) {
		if (strcmp(url, assets[i].url) != 0)
			continue;
		free(a->body);
		a->body = malloc(assets[i].len ? assets[i].len : 1);
		if (!a->body)
			return -1;
		memcpy(a->body, assets[i].bytes, assets[i].len);
		a->len = assets[i].len;
		a->status = 200;
		a->content_type = assets[i].type;
		return 1;
	}
	return 0;
}
