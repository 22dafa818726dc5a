/* SPDX-License-Identifier: GPL-2.0-or-later */
/* results.h - what a search returns (carnet_results of the public API):
 * the page of hits, with their stored records and snippets, the total,
 * the facets and the spelling suggestion. */
#ifndef CARNET_QUERY_RESULTS_H
#define CARNET_QUERY_RESULTS_H

#include <stddef.h>
#include <stdint.h>

#include "carnet.h"
#include "doc.h"
#include "rank.h"

#define FACETS 4

typedef struct facet_value {
	char *value;
	uint64_t count;
} facet_value;

typedef struct facet {
	facet_value *v;     /* most frequent first */
	size_t count;
} facet;

typedef struct hit {
	char *rec;                     /* stored data: record (split in place), NUL, text */
	char *f[CARNET_REC_COUNT];
	const char *type_label;
	const char *specialty_label;
	double score;
	carnet_parts parts;
	char *snippet;                 /* or NULL */
	int version;
} hit;

struct carnet_results {
	hit *hits;
	size_t count;
	uint64_t total;
	facet facets[FACETS];             /* over every hit, not just this page */
	char *suggestion;
};

/* Empty what a search filled (before a retry, and when freed). */
void carnet_results__clear(carnet_results *res);

#endif
