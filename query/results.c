/* SPDX-License-Identifier: GPL-2.0-or-later */
/* results.c - reading what a search returned: the hits' fields, scores and
 * snippets, the facets, the suggestion; and freeing it. */
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "results.h"

/* Empty what a search filled: before a retry, and when freed. */
void carnet_results__clear(carnet_results *res)
{
	for (size_t i = 0; i < res->count; i++) {
		free(res->hits[i].rec);
		free(res->hits[i].snippet);
	}
	free(res->hits);
	for (int f = 0; f < FACETS; f++) {
		for (size_t j = 0; j < res->facets[f].count; j++)
			free(res->facets[f].v[j].value);
		free(res->facets[f].v);
	}
	free(res->suggestion);
	memset(res, 0, sizeof *res);
}

size_t carnet_results_count(const carnet_results *res)
{
	return res ? res->count : 0;
}

uint64_t carnet_results_total(const carnet_results *res)
{
	return res ? res->total : 0;
}

const char *carnet_results_field(const carnet_results *res, size_t i,
				 carnet_field field)
{
	if (!res || i >= res->count)
		return NULL;
	const hit *h = &res->hits[i];
	switch (field) {
	case CARNET_FIELD_ID: return h->f[CARNET_REC_ID];
	case CARNET_FIELD_SET_ID: return h->f[CARNET_REC_SET_ID];
	case CARNET_FIELD_PATIENT: return h->f[CARNET_REC_PATIENT];
	case CARNET_FIELD_TYPE: return h->f[CARNET_REC_TYPE];
	case CARNET_FIELD_TYPE_LABEL: return h->type_label;
	case CARNET_FIELD_TITLE: return h->f[CARNET_REC_TITLE];
	case CARNET_FIELD_DATE: return h->f[CARNET_REC_DATE];
	case CARNET_FIELD_AUTHOR_ID: return h->f[CARNET_REC_AUTHOR_ID];
	case CARNET_FIELD_AUTHOR_SPECIALTY: return h->f[CARNET_REC_AUTHOR_SPECIALTY];
	case CARNET_FIELD_SOURCE: return h->f[CARNET_REC_SOURCE];
	case CARNET_FIELD_AUTHOR_SPECIALTY_LABEL: return h->specialty_label;
	case CARNET_FIELD_CONFIDENTIALITY: return h->f[CARNET_REC_CONFIDENTIALITY];
	case CARNET_FIELD_CLASS: {
		const char *c = carnet_codes__type_class(h->f[CARNET_REC_TYPE]);
		return c ? c : "";
	}
	}
	return NULL;
}

int carnet_results_version(const carnet_results *res, size_t i)
{
	return res && i < res->count ? res->hits[i].version : 0;
}

double carnet_results_score(const carnet_results *res, size_t i)
{
	return res && i < res->count ? res->hits[i].score : 0.0;
}

double carnet_results_part(const carnet_results *res, size_t i, carnet_part part)
{
	if (!res || i >= res->count || (int)part < 0 ||
	    (size_t)part >= sizeof res->hits[i].parts.v / sizeof res->hits[i].parts.v[0])
		return 0.0;
	return res->hits[i].parts.v[part];
}

const char *carnet_results_snippet(const carnet_results *res, size_t i)
{
	if (!res || i >= res->count)
		return NULL;
	return res->hits[i].snippet ? res->hits[i].snippet : "";
}

size_t carnet_results_facet_count(const carnet_results *res, carnet_facet which)
{
	if (!res || (int)which < 0 || (int)which >= FACETS)
		return 0;
	return res->facets[which].count;
}

const char *carnet_results_facet(const carnet_results *res, carnet_facet which,
				 size_t j, uint64_t *count_out)
{
	if (count_out)
		*count_out = 0;
	if (!res || (int)which < 0 || (int)which >= FACETS || j >= res->facets[which].count)
		return NULL;
	if (count_out)
		*count_out = res->facets[which].v[j].count;
	return res->facets[which].v[j].value;
}

const char *carnet_facet_label(carnet_facet which, const char *code)
{
	const char *l = NULL;
	if (!code)
		return "";
	switch (which) {
	case CARNET_FACET_TYPE: l = carnet_codes__type_label(code); break;
	case CARNET_FACET_AUTHOR_SPECIALTY: l = carnet_codes__specialty_label(code); break;
	case CARNET_FACET_CLASS: l = carnet_codes__class_label(code); break;
	case CARNET_FACET_YEAR: break;
	}
	return l ? l : "";
}

const char *carnet_results_suggestion(const carnet_results *res)
{
	return res && res->suggestion ? res->suggestion : "";
}

void carnet_results_free(carnet_results *res)
{
	if (!res)
		return;
	carnet_results__clear(res);
	free(res);
}
