/* SPDX-License-Identifier: GPL-2.0-or-later */
/* words.h - the words a user types, turned into query clauses: words,
 * "phrases", -excluded, +required; each clause widened by its synonyms and
 * abbreviations. The syntax knows no field, operator or wildcard, so
 * nothing typed can reach the patient filter. */
#ifndef CARNET_QUERY_WORDS_H
#define CARNET_QUERY_WORDS_H

#include <stddef.h>

#include "buf.h"
#include "rank.h"
#include "xapian_shim.h"

typedef struct carnet_words {
	carnet_xclause *clauses;
	size_t count;
	size_t positive;        /* clauses that are not MUST_NOT */
	const char **typed;     /* every word typed, folded, in order */
	size_t typed_count;
	const char **marked;    /* the words a snippet marks: typed words and
				   the words of their synonyms */
	size_t marked_count;
	/* storage */
	carnet_buf text;        /* the typed words, NUL-separated */
	carnet_xalt *alts;      /* every clause's alts, clause after clause
				   (clauses[c].alts points into it): the
				   order of the shim's found bits */
	size_t alts_count;
} carnet_words;

/* Parse words (UTF-8, already checked) into q, expanding synonyms from rk.
 * Returns CARNET_OK, CARNET_E_NOMEM, CARNET_E_INTERNAL. */
int carnet_words__parse(carnet_words *q, const char *words,
			const carnet_ranking *rk, carnet_error *err);

void carnet_words__free(carnet_words *q);

#endif
