/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-facets.c - the $facets operation on DocumentReference: how
 * many of the documents a search finds fall in each class, type, author
 * specialty and year, as a FHIR Parameters resource (the library's facets,
 * carnet_results_facet, with their French labels). */
#include <stdio.h>
#include <string.h>

#include "serve.h"

#define LOINC "http://loinc.org"
#define CLASS_SYSTEM "urn:oid:1.2.250.1.213.1.1.4.1"

/* One value of a facet: {name, part: [value, count]}. */
static json_t *facet_value(const char *name, carnet_facet which, const char *code,
			   uint64_t count)
{
	json_t *value;
	if (which == CARNET_FACET_YEAR) {
		value = json_pack("{s:s, s:s}", "name", "value", "valueString", code);
	} else {
		json_t *c = json_pack("{s:s}", "code", code);
		const char *label = carnet_facet_label(which, code);
		const char *system = which == CARNET_FACET_CLASS ? CLASS_SYSTEM
				     : which == CARNET_FACET_TYPE && strchr(code, '-') &&
				       strspn(code, "0123456789-") == strlen(code) ? LOINC : NULL;
		if (system)
			json_object_set_new(c, "system", json_string(system));
		if (*label)
			json_object_set_new(c, "display", json_string(label));
		value = json_pack("{s:s, s:o}", "name", "value", "valueCoding", c);
	}
	return json_pack("{s:s, s:[o, {s:s, s:I}]}", "name", name, "part", value, "name",
			 "count", "valueInteger", (json_int_t)count);
}

int serve_facets(serve_answer *a, const carnet_results *res)
{
	static const struct { const char *name; carnet_facet which; } facets[] = {
		{ "category", CARNET_FACET_CLASS }, { "type", CARNET_FACET_TYPE },
		{ "author.specialty", CARNET_FACET_AUTHOR_SPECIALTY },
		{ "year", CARNET_FACET_YEAR },
	};
	json_t *params = json_array();
	json_array_append_new(params, json_pack("{s:s, s:I}", "name", "total", "valueInteger",
						(json_int_t)carnet_results_total(res)));
	for (size_t f = 0; f < sizeof facets / sizeof *facets; f++) {
		carnet_facet w = facets[f].which;
		for (size_t j = 0; j < carnet_results_facet_count(res, w); j++) {
			uint64_t count;
			const char *v = carnet_results_facet(res, w, j, &count);
			/* a document without a class or an author specialty is
			 * counted in total alone: FHIR has no empty code */
			if (v && *v)
				json_array_append_new(params, facet_value(facets[f].name, w, v,
									  count));
		}
	}
	serve_set_json(a, 200, json_pack("{s:s, s:o}", "resourceType", "Parameters",
					  "parameter", params));
	return a->status == 200 ? 0 : -1;
}
