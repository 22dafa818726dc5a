/* SPDX-License-Identifier: GPL-2.0-or-later */
/* words.c - parsing what a user types into query clauses, with synonyms. */
#include "words.h"

#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

#define UNITS_MAX 64      /* clauses kept from one request */
#define UNIT_WORDS_MAX 16 /* words kept from one unit */

/* One unit of the input: a bare token or a quoted phrase, with its sign. */
typedef struct unit {
	int mode;          /* enum carnet_xmode */
	int exact;         /* typed in quotes */
	size_t first;      /* its words: typed[first .. first+count) */
	size_t count;
} unit;

typedef struct alt_ref {
	size_t first, count; /* words in typed, or */
	const carnet_xalt *ext; /* a synonym's words, borrowed from the ranking */
} alt_ref;

typedef struct clause_ref {
	int mode, exact;
	size_t first_alt, alts;
} clause_ref;

typedef struct builder {
	carnet_words *q;
	unit units[UNITS_MAX];
	size_t units_count;
	size_t *offsets;       /* word offsets in q->text */
	size_t words_count, words_cap;
	alt_ref *alts;
	size_t alts_count, alts_cap;
	clause_ref clauses[UNITS_MAX * 2];
	size_t clauses_count;
	unit *current;
} builder;

void carnet_words__free(carnet_words *q)
{
	if (!q)
		return;
	free(q->clauses);
	free(q->typed);
	free(q->marked);
	free(q->alts);
	carnet_buf__free(&q->text);
	memset(q, 0, sizeof *q);
}

static int take_word(const char *word, size_t len, void *payload)
{
	builder *b = payload;
	if (b->current->count == UNIT_WORDS_MAX)
		return 1;
	if (CARNET_GROW(b->offsets, b->words_cap, b->words_count + 1))
		return 2;
	size_t off = b->q->text.len;
	if (carnet_buf__put(&b->q->text, word, len) != 0 ||
	    carnet_buf__putc(&b->q->text, '\0') != 0)
		return 2;
	b->offsets[b->words_count++] = off;
	b->current->count++;
	return 0;
}

/* Fold raw[0..len) and add its words as a unit. */
static int add_unit(builder *b, int mode, int exact, const char *raw, size_t len,
		    carnet_error *err)
{
	if (b->units_count == UNITS_MAX || len == 0)
		return CARNET_OK;
	carnet_buf folded = CARNET_BUF_INIT;
	int rc = carnet_text__fold(&folded, raw, len, err);
	if (rc)
		return rc;
	unit *u = &b->units[b->units_count];
	u->mode = mode;
	u->exact = exact;
	u->first = b->words_count;
	u->count = 0;
	b->current = u;
	rc = carnet_xap_words(folded.data ? folded.data : "", folded.len, take_word, b, err);
	carnet_buf__free(&folded);
	if (rc == 2)
		return carnet_error__nomem(err, "parsing the words");
	if (rc < 0)
		return rc;
	if (u->count)
		b->units_count++;
	return CARNET_OK;
}

/* Split the input into units: "phrases", tokens, with a + or - sign. */
static int split_units(builder *b, const char *s, carnet_error *err)
{
	while (*s) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' ||
		       *s == '\f' || *s == '\v')
			s++;
		if (!*s)
			break;
		int mode = CARNET_XSHOULD;
		if ((*s == '+' || *s == '-') && s[1] && s[1] != ' ' && s[1] != '\t' &&
		    s[1] != '\n' && s[1] != '\r') {
			mode = *s == '+' ? CARNET_XMUST : CARNET_XMUST_NOT;
			s++;
		}
		int rc;
		if (*s == '"') {
			const char *start = ++s;
			while (*s && *s != '"')
				s++;
			rc = add_unit(b, mode, 1, start, (size_t)(s - start), err);
			if (*s == '"')
				s++;
		} else {
			const char *start = s;
			while (*s && *s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' &&
			       *s != '\f' && *s != '\v')
				s++;
			rc = add_unit(b, mode, 0, start, (size_t)(s - start), err);
		}
		if (rc)
			return rc;
	}
	return CARNET_OK;
}

static int push_alt(builder *b, size_t first, size_t count, const carnet_xalt *ext)
{
	if (CARNET_GROW(b->alts, b->alts_cap, b->alts_count + 1))
		return -1;
	b->alts[b->alts_count++] = (alt_ref){ first, count, ext };
	return 0;
}

/* A clause of the words typed[first..first+count) and, unless exact, the
 * synonyms of exactly these words. */
static int push_clause(builder *b, const carnet_ranking *rk, const char **words,
		       int mode, int exact, size_t first, size_t count, int with_self)
{
	if (b->clauses_count == sizeof b->clauses / sizeof b->clauses[0])
		return 0;
	clause_ref *c = &b->clauses[b->clauses_count];
	c->mode = mode;
	c->exact = exact;
	c->first_alt = b->alts_count;
	if (with_self && push_alt(b, first, count, NULL) != 0)
		return -1;
	size_t entry;
	if (!exact && carnet_rank__synonym_at(rk, words + first, count, &entry) == count) {
		const carnet_xalt *p;
		size_t n = carnet_rank__partners(rk, entry, &p);
		for (size_t i = 0; i < n; i++)
			if (push_alt(b, 0, 0, &p[i]) != 0)
				return -1;
	}
	c->alts = b->alts_count - c->first_alt;
	if (c->alts)
		b->clauses_count++;
	return 0;
}

int carnet_words__parse(carnet_words *q, const char *input,
			const carnet_ranking *rk, carnet_error *err)
{
	memset(q, 0, sizeof *q);
	builder b;
	memset(&b, 0, sizeof b);
	b.q = q;
	int rc = split_units(&b, input, err);
	if (rc)
		goto out;
	/* the words, now that the text no longer moves */
	q->typed = calloc(b.words_count ? b.words_count : 1, sizeof *q->typed);
	if (!q->typed) {
		rc = carnet_error__nomem(err, "parsing the words");
		goto out;
	}
	for (size_t i = 0; i < b.words_count; i++)
		q->typed[i] = q->text.data + b.offsets[i];
	q->typed_count = b.words_count;

	for (size_t u = 0; u < b.units_count; u++) {
		unit *un = &b.units[u];
		if (un->exact || un->mode != CARNET_XSHOULD || un->count > 1) {
			/* a phrase, a hyphenated word or a signed word: one clause */
			if (push_clause(&b, rk, q->typed, un->mode, un->exact, un->first,
					un->count, 1) != 0)
				goto oom;
			continue;
		}
		/* a run of plain words: each is a clause (with its own synonyms);
		 * a synonym spanning several of them adds a clause of its own */
		size_t end = u;
		while (end + 1 < b.units_count && !b.units[end + 1].exact &&
		       b.units[end + 1].mode == CARNET_XSHOULD && b.units[end + 1].count == 1)
			end++;
		size_t first = un->first, n = end - u + 1;
		for (size_t i = 0; i < n; i++) {
			if (push_clause(&b, rk, q->typed, CARNET_XSHOULD, 0, first + i, 1, 1) != 0)
				goto oom;
			size_t entry, len = carnet_rank__synonym_at(rk, q->typed + first + i,
								    n - i, &entry);
			if (len > 1 && push_clause(&b, rk, q->typed, CARNET_XSHOULD, 0,
						   first + i, len, 1) != 0)
				goto oom;
		}
		u = end;
	}

	/* resolve the references into the shim's structures */
	q->alts = calloc(b.alts_count ? b.alts_count : 1, sizeof *q->alts);
	q->clauses = calloc(b.clauses_count ? b.clauses_count : 1, sizeof *q->clauses);
	size_t marked = q->typed_count;
	for (size_t i = 0; i < b.alts_count; i++)
		if (b.alts[i].ext)
			marked += b.alts[i].ext->count;
	q->marked = calloc(marked ? marked : 1, sizeof *q->marked);
	if (!q->alts || !q->clauses || !q->marked)
		goto oom;
	for (size_t i = 0; i < b.alts_count; i++) {
		if (b.alts[i].ext) {
			q->alts[i] = *b.alts[i].ext;
		} else {
			q->alts[i].words = q->typed + b.alts[i].first;
			q->alts[i].count = b.alts[i].count;
		}
	}
	for (size_t i = 0; i < q->typed_count; i++)
		q->marked[q->marked_count++] = q->typed[i];
	for (size_t i = 0; i < b.alts_count; i++)
		if (b.alts[i].ext)
			for (size_t j = 0; j < b.alts[i].ext->count; j++)
				q->marked[q->marked_count++] = b.alts[i].ext->words[j];
	for (size_t i = 0; i < b.clauses_count; i++) {
		carnet_xclause *c = &q->clauses[i];
		c->mode = b.clauses[i].mode;
		c->exact = b.clauses[i].exact;
		c->alts = q->alts + b.clauses[i].first_alt;
		c->alts_count = b.clauses[i].alts;
		if (c->mode != CARNET_XMUST_NOT)
			q->positive++;
	}
	q->alts_count = b.alts_count;
	q->count = b.clauses_count;
	rc = CARNET_OK;
	goto out;
oom:
	rc = carnet_error__nomem(err, "parsing the words");
out:
	free(b.offsets);
	free(b.alts);
	if (rc)
		carnet_words__free(q);
	return rc;
}
