/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vectors.c - content vectors: which profiles' keywords a document has and
 * how much they weigh. The indexer finds the keywords (carnet_rank__keys)
 * in a document and stores its vector (carnet_rank__content); a search
 * reads the viewer's weight back (carnet_rank__content_of). Both sides
 * name profiles by the one-byte codes the index keeps (carnet_rank__codes). */
#include "tables.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"

#define CONTENT_STEPS 20 /* a content vector stores sums in 1/20ths */
#define LOADING "loading the ranking tables" /* what ran out of memory */

/* The stem terms of a one-word keyword, French [0] and English [1], as
 * the index holds them ("Z" and the stem), appended to terms (NUL after
 * each); their offsets in off (the buffer moves while it grows). */
static int stem_terms(const char *word, carnet_buf *terms, size_t off[2],
		      carnet_error *err)
{
	static const char *const langs[2] = { "french", "english" };
	for (int l = 0; l < 2; l++) {
		char stem[256];
		int rc = carnet_xap_stem(langs[l], word, stem, sizeof stem, err);
		if (rc)
			return rc;
		off[l] = terms->len;
		if (carnet_buf__printf(terms, "Z%s", stem) != 0 ||
		    carnet_buf__putc(terms, '\0') != 0)
			return carnet_error__nomem(err, LOADING);
	}
	return CARNET_OK;
}

int carnet_rank__keys(carnet_ranking *rk, const carnet_xkey **keys_out,
		      size_t *count_out, carnet_error *err)
{
	if (!rk->keys) {
		/* one key per distinct entry used as a keyword, numbered by
		 * loading (carnet_rank__number_keys) */
		size_t n = rk->distinct_keys;
		carnet_xkey *keys = calloc(n ? n : 1, sizeof *keys);
		size_t (*offs)[2] = calloc(n ? n : 1, sizeof *offs);
		carnet_buf terms = CARNET_BUF_INIT;
		int rc = keys && offs ? CARNET_OK : carnet_error__nomem(err, LOADING);
		/* stems first, into one buffer (offsets: it moves while growing) */
		for (size_t p = 0; rc == CARNET_OK && p < rk->profiles_count; p++) {
			const profile *pr = &rk->profiles[p];
			for (size_t j = 0; rc == CARNET_OK && j < pr->words_count; j++) {
				const keyword *k = &pr->words[j];
				if (keys[k->key].words)
					continue;
				const entry *e = rk->entries[k->entry];
				keys[k->key].words = e->words;
				keys[k->key].count = e->count;
				if (e->count == 1)
					rc = stem_terms(e->words[0], &terms, offs[k->key], err);
			}
		}
		if (rc == CARNET_OK) {
			for (size_t i = 0; i < n; i++)
				if (keys[i].count == 1) {
					keys[i].zterm[0] = terms.data + offs[i][0];
					keys[i].zterm[1] = terms.data + offs[i][1];
				}
			rk->keys = keys;
			rk->keys_count = n;
			rk->key_terms = terms.data; /* owned now */
			terms.data = NULL;
			rc = carnet_xap_keyset_new(&rk->keyset, rk->keys, n, err);
		} else {
			free(keys);
		}
		carnet_buf__free(&terms);
		free(offs);
		if (rc)
			return rc;
	}
	*keys_out = rk->keys;
	*count_out = rk->keys_count;
	return CARNET_OK;
}

int carnet_rank__codes(carnet_ranking *rk, const char *stored, carnet_buf *updated)
{
	memset(rk->code_of, 0, sizeof rk->code_of);
	for (size_t i = 0; i < 256; i++)
		rk->profile_of_code[i] = -1;
	size_t code = 0;
	for (const char *p = stored ? stored : ""; *p && code < 255;) {
		size_t n = strcspn(p, ",");
		code++;
		for (size_t i = 0; i < rk->profiles_count && i < 255; i++)
			if (strlen(rk->profiles[i].name) == n &&
			    memcmp(rk->profiles[i].name, p, n) == 0) {
				rk->code_of[i] = (unsigned char)code;
				rk->profile_of_code[code] = (int)i;
			}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!updated)
		return 0;
	/* a writer gives the profiles the stored list lacks the next codes */
	if (stored && carnet_buf__puts(updated, stored) != 0)
		return -1;
	for (size_t i = 0; i < rk->profiles_count && i < 255; i++) {
		if (rk->code_of[i] || code == 255)
			continue;
		code++;
		if ((updated->len && carnet_buf__putc(updated, ',') != 0) ||
		    carnet_buf__puts(updated, rk->profiles[i].name) != 0)
			return -1;
		rk->code_of[i] = (unsigned char)code;
		rk->profile_of_code[code] = (int)i;
	}
	return 0;
}

int carnet_rank__content(const carnet_ranking *rk, const unsigned char *hits,
			 carnet_buf *out)
{
	for (size_t p = 0; p < rk->profiles_count; p++) {
		const profile *pr = &rk->profiles[p];
		double sum = 0;
		for (size_t j = 0; j < pr->words_count; j++)
			if (hits[pr->words[j].key])
				sum += pr->words[j].weight;
		if (sum <= 0 || !rk->code_of[p])
			continue;
		/* two bytes: the profile's code, the sum in 0.05 steps */
		long q = lround(sum * CONTENT_STEPS);
		if (q < 1)
			q = 1;
		if (carnet_buf__putc(out, (char)rk->code_of[p]) != 0 ||
		    carnet_buf__putc(out, (char)(unsigned char)(q > 255 ? 255 : q)) != 0)
			return -1;
	}
	return 0;
}

double carnet_rank__content_of(const carnet_ranking *rk, const carnet_viewer *v,
			       const char *vector, size_t len)
{
	if (v->profile < 0)
		return 0;
	unsigned char code = rk->code_of[v->profile];
	for (size_t i = 0; code && i + 1 < len; i += 2)
		if ((unsigned char)vector[i] == code)
			return (unsigned char)vector[i + 1] / (double)CONTENT_STEPS;
	return 0;
}

size_t carnet_rank__keys_ready(const carnet_ranking *rk, const carnet_xkeyset **set_out)
{
	*set_out = rk->keyset;
	return rk->keyset ? rk->keys_count : 0;
}

double carnet_rank__topic_content(const carnet_ranking *rk, const carnet_viewer *v,
				  const char *vector, size_t len)
{
	carnet_viewer t = *v;
	t.profile = v->topic;
	return carnet_rank__content_of(rk, &t, vector, len);
}

