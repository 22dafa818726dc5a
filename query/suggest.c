/* SPDX-License-Identifier: GPL-2.0-or-later */
/* suggest.c - the spelling suggestion of a search that found nothing:
 * each typed word the record does not hold, replaced by the closest word
 * it does (Levenshtein distance, then the most documents). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "suggest.h"

/* Levenshtein distance of a and b, or max + 1 once it is over max. */
static size_t distance(const char *a, size_t an, const char *b, size_t bn, size_t max)
{
	size_t row[64 + 1];
	if (an > 64 || bn > 64)
		return max + 1;
	if ((an > bn ? an - bn : bn - an) > max)
		return max + 1;
	for (size_t j = 0; j <= bn; j++)
		row[j] = j;
	for (size_t i = 1; i <= an; i++) {
		size_t prev = row[0], low;
		row[0] = i;
		low = row[0];
		for (size_t j = 1; j <= bn; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
			if (best < low)
				low = best;
		}
		if (low > max)
			return max + 1;
	}
	return row[bn];
}

typedef struct suggest {
	const char **words;     /* typed words */
	size_t count;
	char (*best)[65];       /* the closest known word of each, or "" */
	size_t *best_dist;
	unsigned *best_docs;
	unsigned char *known;   /* the word itself is in the record */
} suggest;

static int on_term(const char *term, size_t len, unsigned docs, void *payload)
{
	suggest *g = payload;
	for (size_t i = 0; i < g->count; i++) {
		const char *w = g->words[i];
		size_t wn = strlen(w);
		if (wn == len && memcmp(w, term, len) == 0) {
			g->known[i] = 1;
			continue;
		}
		size_t max = wn <= 4 ? 1 : 2;
		size_t d = distance(w, wn, term, len, max);
		if (d > max || len > 64)
			continue;
		if (d < g->best_dist[i] || (d == g->best_dist[i] && docs > g->best_docs[i]) ||
		    (d == g->best_dist[i] && docs == g->best_docs[i] &&
		     strncmp(term, g->best[i], len) < 0)) {
			g->best_dist[i] = d;
			g->best_docs[i] = docs;
			memcpy(g->best[i], term, len);
			g->best[i][len] = '\0';
		}
	}
	return 0;
}

/* The typed words with each unknown one replaced by the closest word of
 * the record passing s's filter; "" when nothing would change. */
int carnet_suggest__make(char **out, carnet_xreader *xr, const carnet_xsearch *s,
			 const carnet_words *w, carnet_error *err)
{
	*out = NULL;
	suggest g = { (const char **)w->typed, w->typed_count, NULL, NULL, NULL, NULL };
	size_t n = w->typed_count ? w->typed_count : 1;
	g.best = calloc(n, sizeof *g.best);
	g.best_dist = malloc(n * sizeof *g.best_dist);
	g.best_docs = calloc(n, sizeof *g.best_docs);
	g.known = calloc(n, 1);
	carnet_buf text = CARNET_BUF_INIT;
	int rc = CARNET_OK;
	if (!g.best || !g.best_dist || !g.best_docs || !g.known)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		g.best_dist[i] = (size_t)-1;
	rc = carnet_xap_reader_vocabulary(xr, s, 5000, on_term, &g, err);
	if (rc)
		goto out;
	int changed = 0;
	for (size_t i = 0; i < w->typed_count; i++) {
		const char *word = !g.known[i] && g.best[i][0] ? g.best[i] : w->typed[i];
		changed |= word != w->typed[i];
		if ((i && carnet_buf__putc(&text, ' ') != 0) || carnet_buf__puts(&text, word) != 0)
			goto nomem;
	}
	if (!changed)
		carnet_buf__reset(&text);
	if (!(*out = carnet_buf__detach(&text)))
		goto nomem;
	goto out;
nomem:
	rc = carnet_error__nomem(err, NULL);
out:
	free(g.best);
	free(g.best_dist);
	free(g.best_docs);
	free(g.known);
	carnet_buf__free(&text);
	return rc;
}
