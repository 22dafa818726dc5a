/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-results.c - the key results as FHIR: the Observation $lastn
 * operation's searchset Bundle, each analyte of the viewer's panel (in
 * carnet's order) with its newest values, built from carnet_panel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

#define LOINC_OID "2.16.840.1.113883.6.1"
#define UCUM "http://unitsofmeasure.org"
#define INTERPRETATION "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
#define CATEGORY "http://terminology.hl7.org/CodeSystem/observation-category"

static const char *field(const carnet_panel *p, size_t i, size_t j, carnet_value_field f)
{
	const char *v = carnet_panel_value(p, i, j, f);
	return v ? v : "";
}

/* A value of a range bound, as a Quantity (NULL when empty or not a number). */
static json_t *bound(const char *v, const char *unit)
{
	char *end;
	double x = strtod(v, &end);
	if (!*v || *end)
		return NULL;
	return json_pack("{s:f, s:s}", "value", x, "unit", unit);
}

/* Value j of analyte i as an Observation. */
static json_t *observation(const carnet_panel *p, size_t i, size_t j, const serve_search *s)
{
	const char *system = field(p, i, j, CARNET_VALUE_SYSTEM);
	int loinc = !strcmp(system, LOINC_OID);
	char sys[200];
	snprintf(sys, sizeof sys, loinc ? "http://loinc.org" : "urn:oid:%s", system);
	json_t *code = json_pack("{s:[{s:s, s:s}], s:s}", "coding", "system", sys, "code",
				 field(p, i, j, CARNET_VALUE_CODE), "text",
				 carnet_panel_analyte(p, i, CARNET_ANALYTE_LABEL));
	const char *display = field(p, i, j, CARNET_VALUE_DISPLAY);
	if (*display)
		json_object_set_new(json_array_get(json_object_get(code, "coding"), 0), "display",
				    json_string(display));
	char psys[200];
	snprintf(psys, sizeof psys, "urn:oid:%s", s->patient_system);
	json_t *o = json_pack("{s:s, s:s, s:[{s:[{s:s, s:s}]}], s:o, s:{s:{s:s, s:s}}}",
			      "resourceType", "Observation", "status", "final", "category",
			      "coding", "system", CATEGORY, "code", "laboratory", "code", code,
			      "subject", "identifier", "system", s->patient_system[0]
			      ? psys : "urn:ietf:rfc:3986", "value", s->patient_id);
	const char *date = field(p, i, j, CARNET_VALUE_DATE);
	if (*date)
		json_object_set_new(o, "effectiveDateTime", json_string(date));
	double num;
	const char *unit = field(p, i, j, CARNET_VALUE_UNIT);
	if (carnet_panel_number(p, i, j, &num))
		json_object_set_new(o, "valueQuantity", json_pack("{s:f, s:s, s:s, s:s}", "value", num,
			"unit", unit, "system", UCUM, "code", unit));
	else
		json_object_set_new(o, "valueString", json_string(field(p, i, j, CARNET_VALUE_VALUE)));
	json_t *lo = bound(field(p, i, j, CARNET_VALUE_LOW), unit);
	json_t *hi = bound(field(p, i, j, CARNET_VALUE_HIGH), unit);
	if (lo || hi) {
		json_t *r = json_object();
		if (lo)
			json_object_set_new(r, "low", lo);
		if (hi)
			json_object_set_new(r, "high", hi);
		json_object_set_new(o, "referenceRange", json_pack("[o]", r));
	}
	const char *flag = field(p, i, j, CARNET_VALUE_FLAG);
	if (*flag)
		json_object_set_new(o, "interpretation", json_pack("[{s:[{s:s, s:s}]}]", "coding",
			"system", INTERPRETATION, "code", flag));
	json_object_set_new(o, "derivedFrom", json_pack("[{s:s, s:{s:s}}]", "type",
		"DocumentReference", "identifier", "value", field(p, i, j, CARNET_VALUE_DOC_ID)));
	/* what carnet adds: the analyte, whether the viewer follows it, the
	 * value as the document wrote it */
	json_object_set_new(o, "extension", json_pack("[{s:s, s:s}, {s:s, s:b}, {s:s, s:s}]",
		"url", SERVE_SD_BASE "carnet-analyte", "valueString",
		carnet_panel_analyte(p, i, CARNET_ANALYTE_KEY),
		"url", SERVE_SD_BASE "carnet-panel-wanted", "valueBoolean",
		carnet_panel_wanted(p, i),
		"url", SERVE_SD_BASE "carnet-original-value", "valueString",
		field(p, i, j, CARNET_VALUE_ORIGINAL)));
	return o;
}

int serve_observations(serve_answer *a, const serve_search *s, const carnet_panel *p,
		       unsigned max, const char *base)
{
	json_t *entries = json_array();
	size_t total = 0;
	for (size_t i = 0; entries && i < carnet_panel_count(p); i++)
		for (size_t j = 0; j < carnet_panel_values(p, i) && j < max; j++) {
			json_array_append_new(entries, json_pack("{s:o, s:{s:s}}", "resource",
				observation(p, i, j, s), "search", "mode", "match"));
			total++;
		}
	char self[700];
	snprintf(self, sizeof self, "%s/Observation/$lastn?max=%u", base, max);
	serve_set_json(a, 200, json_pack("{s:s, s:s, s:I, s:[{s:s, s:s}], s:o}", "resourceType",
		"Bundle", "type", "searchset", "total", (json_int_t)total, "link", "relation", "self",
		"url", self, "entry", entries));
	return a->status == 200 ? 0 : -1;
}
