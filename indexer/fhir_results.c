/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fhir_results.c - the Observations of a FHIR Bundle as the coded results
 * of the document the Bundle makes. */
#include "fhir.h"

#include <stdio.h>
#include <string.h>

#define LOINC_URI "http://loinc.org"
#define LOINC_OID "2.16.840.1.113883.6.1"
#define UCUM_URI "http://unitsofmeasure.org"

/* What the reading of one Observation builds besides borrowed strings. */
typedef struct obs_text {
	char value[40], low[40], high[40]; /* numbers, printed */
	char bound[48];                    /* a value with its comparator: "<0.5" */
	char date[20];
} obs_text;

/* A code system as a result names it: LOINC's and "urn:oid:" systems as
 * OIDs, others as they are. */
static const char *result_system(const char *system)
{
	if (system && strcmp(system, LOINC_URI) == 0)
		return LOINC_OID;
	return carnet_fhir__oid(system);
}

/* The JSON number v printed into out ("" when it is no number; a string
 * is kept for the document model to judge). Returns out or NULL. */
static const char *number(char out[40], json_t *v)
{
	if (json_is_integer(v))
		snprintf(out, 40, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, 40, "%.15g", json_real_value(v));
	else if (json_is_string(v))
		snprintf(out, 40, "%.39s", json_string_value(v));
	else
		return NULL;
	return out[0] ? out : NULL;
}

/* A FHIR dateTime or instant as "YYYY-MM-DD[THH:MM]" into out, or NULL. */
static const char *result_date(char out[20], const char *v)
{
	if (!v || strlen(v) < 10)
		return NULL;
	snprintf(out, 20, "%.10s", v);
	if (!carnet_doc__valid_date(out))
		return NULL;
	if (v[10] == 'T' && strlen(v) >= 16 && v[13] == ':' &&
	    strspn(v + 11, "0123456789") == 2 && strspn(v + 14, "0123456789") == 2)
		snprintf(out + 10, 10, "T%.5s", v + 11);
	return out;
}

/* The display or code of a CodeableConcept's first coding, else its text. */
static const char *concept_label(json_t *concept)
{
	json_t *coding = carnet_fhir__first(concept, "coding");
	const char *s = carnet_fhir__str(coding, "display");
	if (!s)
		s = carnet_fhir__str(coding, "code");
	return s ? s : carnet_fhir__str(concept, "text");
}

/* The value of Observation obs into r: 1, or 0 when it has none read. */
static int take_value(carnet_result *r, json_t *obs, obs_text *t)
{
	json_t *q = json_object_get(obs, "valueQuantity"), *v;
	if (json_is_object(q)) {
		const char *sys = carnet_fhir__str(q, "system");
		r->kind = CARNET_RESULT_NUMERIC;
		r->value = (char *)number(t->value, json_object_get(q, "value"));
		const char *cmp = carnet_fhir__str(q, "comparator");
		if (r->value && cmp) { /* "<0.5": a bound, text */
			snprintf(t->bound, sizeof t->bound, "%.2s%s", cmp, t->value);
			r->value = t->bound;
		}
		/* the UCUM code when there is one, else the unit as shown */
		r->unit = (char *)(sys && strcmp(sys, UCUM_URI) == 0 ? carnet_fhir__str(q, "code")
								  : NULL);
		if (!r->unit)
			r->unit = (char *)carnet_fhir__str(q, "unit");
		if (!r->unit)
			r->unit = (char *)carnet_fhir__str(q, "code");
	} else if (json_is_object(v = json_object_get(obs, "valueCodeableConcept"))) {
		r->kind = CARNET_RESULT_CODED;
		r->value = (char *)concept_label(v);
	} else if ((v = json_object_get(obs, "valueInteger")) && json_is_integer(v)) {
		r->kind = CARNET_RESULT_NUMERIC;
		r->value = (char *)number(t->value, v);
	} else if (carnet_fhir__str(obs, "valueString")) {
		r->kind = CARNET_RESULT_TEXT;
		r->value = (char *)carnet_fhir__str(obs, "valueString");
	}
	return r->value != NULL;
}

/* The type of the Specimen obs names (contained or in bundle), else the
 * reference's display. */
static const char *specimen(json_t *obs, json_t *bundle)
{
	json_t *ref = json_object_get(obs, "specimen");
	const char *to = carnet_fhir__str(ref, "reference");
	json_t *sp = to ? carnet_fhir__resolve(obs, bundle, to) : NULL;
	const char *s = carnet_fhir__is(sp, "Specimen") ? concept_label(json_object_get(sp, "type"))
						       : NULL;
	return s ? s : carnet_fhir__str(ref, "display");
}

/* Is the subject of obs the subject of the document's resource res (or
 * does obs name none, or one that cannot be compared)? */
static int same_subject(json_t *obs, json_t *res, json_t *bundle)
{
	const char *ro = carnet_fhir__str(json_object_get(obs, "subject"), "reference");
	const char *rd = carnet_fhir__str(json_object_get(res, "subject"), "reference");
	if (!ro || !rd)
		return 1;
	json_t *po = carnet_fhir__resolve(obs, bundle, ro), *pd = carnet_fhir__resolve(res, bundle, rd);
	return po && pd ? po == pd : strcmp(ro, rd) == 0;
}

/* The result of Observation obs into d, if it has one. */
static void observation(carnet_fhir_ctx *c, carnet_doc *d, json_t *obs, json_t *bundle)
{
	const char *status = carnet_fhir__str(obs, "status");
	if (status && (!strcmp(status, "entered-in-error") || !strcmp(status, "cancelled")))
		return;
	json_t *code = json_object_get(obs, "code");
	json_t *coding = carnet_fhir__coding(code, LOINC_URI);
	obs_text t;
	memset(&t, 0, sizeof t);
	carnet_result r;
	memset(&r, 0, sizeof r);
	r.code = (char *)carnet_fhir__str(coding, "code");
	if (!r.code || !take_value(&r, obs, &t))
		return;
	r.system = (char *)result_system(carnet_fhir__str(coding, "system"));
	r.display = (char *)carnet_fhir__str(coding, "display");
	if (!r.display)
		r.display = (char *)carnet_fhir__str(code, "text");
	json_t *range = carnet_fhir__first(obs, "referenceRange");
	r.low = (char *)number(t.low, carnet_fhir__path(range, "low", "value"));
	r.high = (char *)number(t.high, carnet_fhir__path(range, "high", "value"));
	json_t *interp = carnet_fhir__first(obs, "interpretation");
	r.interpretation = (char *)carnet_fhir__str(carnet_fhir__first(interp, "coding"), "code");
	r.date = (char *)result_date(t.date, carnet_fhir__str(obs, "effectiveDateTime"));
	if (!r.date)
		r.date = (char *)result_date(t.date, carnet_fhir__str(json_object_get(obs, "effectivePeriod"), "start"));
	if (!r.date)
		r.date = (char *)result_date(t.date, carnet_fhir__str(obs, "issued"));
	if (!r.date)
		r.date = d->date;
	r.specimen = (char *)specimen(obs, bundle);
	if (carnet_doc__add_result(d, &r) != 0)
		carnet_fhir__nomem(c);
}

void carnet_fhir__results(carnet_fhir_ctx *c, carnet_doc *d, json_t *bundle, json_t *res)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(bundle, "entry"), i, e) {
		json_t *r = json_object_get(e, "resource");
		if (carnet_fhir__late(c))
			return;
		if (carnet_fhir__is(r, "Observation") && same_subject(r, res, bundle))
			observation(c, d, r, bundle);
	}
}
