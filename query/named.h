/* SPDX-License-Identifier: GPL-2.0-or-later */
/* named.h - the analytes the words of a request name: runs of words of
 * analytes.tsv's words column, and LOINC codes typed. The results panel
 * keeps their series; the ranking puts their reports in date order. */
#ifndef CARNET_QUERY_NAMED_H
#define CARNET_QUERY_NAMED_H

#include <stddef.h>

#include "analytes.h"
#include "carnet.h"

typedef struct carnet_named {
	unsigned char *sel;    /* a flag per analyte of the table */
	size_t count;          /* analytes flagged */
	char **codes;          /* LOINC codes typed that the table does not know */
	size_t ncodes, codes_cap;
} carnet_named;

/* Fill n (zeroed by the caller, freed with carnet_named__free even on
 * failure) from words (UTF-8, checked; NULL or "": nothing named, sel
 * stays NULL) against table t: each LOINC code typed flags its analyte
 * or, unknown to t, is kept in codes; each run of the other words that
 * is an entry of t's words column flags its analytes; a word that names
 * none is passed over. CARNET_E_NOMEM, CARNET_E_INTERNAL. */
int carnet_named__parse(carnet_named *n, const carnet_analytes *t, const char *words,
			carnet_error *err);

/* Does the space-separated list of LOINC codes s[0..len) (a document's,
 * as its rank value holds them) hold one that n names? 1 or 0. */
int carnet_named__in(const carnet_named *n, const carnet_analytes *t, const char *s,
		     size_t len);

void carnet_named__free(carnet_named *n);

#endif
