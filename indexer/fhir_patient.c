/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fhir_patient.c - whose document a FHIR resource is: its subject (an
 * identifier, a Patient in the file, a conditional reference), the
 * patient's other ids, and agreement between the places that name one. */
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patient.h"

/* The OIDs of the INS (national health identifier), preferred in order. */
static const char *const ins_oids[] = {
	"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10",
	"1.2.250.1.213.1.4.11",
};

/* Append "system^value" to the patient's other ids (skipping the main id,
 * duplicates and values that cannot be terms). */
static void add_other_id(carnet_fhir_ctx *c, carnet_doc *d, const char *system, const char *value)
{
	if (c->rc || !value || !carnet_doc__valid_id(value))
		return;
	system = carnet_fhir__oid(system);
	if (!system || !carnet_doc__valid_id(system) || strchr(system, '^'))
		system = "";
	if (d->patient_id && strcmp(d->patient_id, value) == 0 &&
	    strcmp(d->patient_system ? d->patient_system : "", system) == 0)
		return;
	carnet_buf b = CARNET_BUF_INIT;
	if (carnet_buf__printf(&b, "%s^%s", system, value) != 0)
		goto oom;
	if (d->other_ids) {
		const char *p = d->other_ids;
		size_t n = b.len;
		while (*p) {
			size_t w = strcspn(p, " ");
			if (w == n && memcmp(p, b.data, n) == 0) {
				carnet_buf__free(&b);
				return;
			}
			p += w;
			while (*p == ' ')
				p++;
		}
		carnet_buf__reset(&b);
		if (carnet_buf__printf(&b, "%s %s^%s", d->other_ids, system, value) != 0)
			goto oom;
	}
	if (carnet_doc__set(&d->other_ids, b.data, b.len) != 0)
		goto oom;
	carnet_buf__free(&b);
	return;
oom:
	carnet_buf__free(&b);
	carnet_fhir__nomem(c);
}

/* Take the patient from a Patient resource: an INS identifier first, else
 * the first identifier; the others become other ids. Returns whether an
 * identifier was found. */
static int patient_from(carnet_fhir_ctx *c, carnet_doc *d, json_t *patient)
{
	json_t *ids = json_object_get(patient, "identifier"), *id, *best = NULL;
	size_t i;
	for (size_t k = 0; k < sizeof ins_oids / sizeof ins_oids[0] && !best; k++)
		json_array_foreach(ids, i, id) {
			const char *sys = carnet_fhir__oid(carnet_fhir__str(id, "system"));
			if (sys && carnet_fhir__str(id, "value") && strcmp(sys, ins_oids[k]) == 0) {
				best = id;
				break;
			}
		}
	if (!best)
		json_array_foreach(ids, i, id)
			if (carnet_fhir__str(id, "value") &&
			    carnet_doc__valid_id(carnet_fhir__str(id, "value"))) {
				best = id;
				break;
			}
	if (!best)
		return 0;
	if (!d->patient_id) {
		carnet_fhir__fill(c, &d->patient_id, carnet_fhir__str(best, "value"));
		carnet_fhir__fill(c, &d->patient_system,
				  carnet_fhir__oid(carnet_fhir__str(best, "system")));
	}
	json_array_foreach(ids, i, id)
		add_other_id(c, d, carnet_fhir__str(id, "system"), carnet_fhir__str(id, "value"));
	return 1;
}

/* Decode %XX escapes of s[0..n) into out. Returns 0 or -1 (no memory). */
static int percent_decode(carnet_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%' && i + 2 < n) {
			char hex[3] = { s[i + 1], s[i + 2], '\0' }, *end;
			unsigned long v = strtoul(hex, &end, 16);
			if (*end == '\0' && strspn(hex, "0123456789abcdefABCDEF") == 2 && v) {
				ch = (char)v;
				i += 2;
			}
		}
		if (carnet_buf__putc(out, ch) != 0)
			return -1;
	}
	return 0;
}

/* A conditional reference "Patient?identifier=system|value": take its
 * identifier. Returns whether one was found. */
static int patient_from_search(carnet_fhir_ctx *c, carnet_doc *d, const char *ref)
{
	const char *q = strchr(ref, '?');
	if (!q)
		return 0;
	for (const char *p = q + 1; *p;) {
		size_t n = strcspn(p, "&");
		if (n > 11 && strncmp(p, "identifier=", 11) == 0) {
			carnet_buf v = CARNET_BUF_INIT;
			if (percent_decode(&v, p + 11, n - 11) != 0) {
				carnet_buf__free(&v);
				carnet_fhir__nomem(c);
				return 0;
			}
			char *bar = strchr(v.data, '|');
			const char *value = bar ? bar + 1 : v.data;
			int found = 0;
			if (carnet_doc__valid_id(value)) {
				carnet_fhir__fill(c, &d->patient_id, value);
				if (bar && bar > v.data) {
					*bar = '\0';
					carnet_fhir__fill(c, &d->patient_system,
							  carnet_fhir__oid(v.data));
				}
				found = 1;
			}
			carnet_buf__free(&v);
			return found;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* A patient named by (system, id), to show in a message: its key, or
 * the id as given when it has none (never unprintable bytes). */
static const char *patient_label(char *out, size_t size, const char *system, const char *id)
{
	char key[CARNET_ID_MAX + 1], why[160];
	if (carnet_patient__key(key, system, id, why, sizeof why) == 0)
		snprintf(out, size, "%s", key);
	else if (carnet_doc__valid_id(id) && (!system || carnet_doc__valid_id(system)))
		snprintf(out, size, "%s%s%s", system ? system : "", system ? "|" : "", id);
	else
		snprintf(out, size, "(unprintable id)");
	return out;
}

/* Do (s1, i1) and (s2, i2) name the same patient? */
static int same_patient(const char *s1, const char *i1, const char *s2, const char *i2)
{
	char k1[CARNET_ID_MAX + 1], k2[CARNET_ID_MAX + 1], why[160];
	if (carnet_patient__key(k1, s1, i1, why, sizeof why) == 0 &&
	    carnet_patient__key(k2, s2, i2, why, sizeof why) == 0)
		return strcmp(k1, k2) == 0;
	s1 = carnet_fhir__oid(s1);
	s2 = carnet_fhir__oid(s2);
	return strcmp(i1, i2) == 0 && strcmp(s1 ? s1 : "", s2 ? s2 : "") == 0;
}

void carnet_fhir__agree_patient(carnet_fhir_ctx *c, carnet_doc *d, const carnet_doc *p,
				const char *what, const char *where)
{
	if (c->rc || !p->patient_id)
		return;
	if (!d->patient_id) {
		carnet_fhir__fill(c, &d->patient_id, p->patient_id);
		carnet_fhir__fill(c, &d->patient_system, p->patient_system);
		return;
	}
	if (same_patient(d->patient_system, d->patient_id, p->patient_system, p->patient_id))
		return;
	char a[CARNET_ID_MAX + 64], b[CARNET_ID_MAX + 64];
	c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				  "%s: %s names patient %s but %s names patient %s: the document "
				  "is not filed under either",
				  c->in->path, what,
				  patient_label(a, sizeof a, d->patient_system, d->patient_id), where,
				  patient_label(b, sizeof b, p->patient_system, p->patient_id));
}

void carnet_fhir__patient(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle,
			  const char *what)
{
	json_t *subj = json_object_get(res, "subject");
	json_t *ident = json_object_get(subj, "identifier");
	const char *ref = carnet_fhir__str(subj, "reference");
	char rl[128];
	carnet_doc p;
	carnet_doc__init(&p);
	if (carnet_fhir__str(ident, "value") &&
	    carnet_doc__valid_id(carnet_fhir__str(ident, "value"))) {
		carnet_fhir__fill(c, &p.patient_id, carnet_fhir__str(ident, "value"));
		carnet_fhir__fill(c, &p.patient_system,
				  carnet_fhir__oid(carnet_fhir__str(ident, "system")));
	}
	if (ref && !c->rc) {
		json_t *r;
		const char *other;
		int how = carnet_fhir__resolve_ref(res, bundle, ref, &r, &other);
		carnet_doc q;
		carnet_doc__init(&q);
		carnet_fhir__ref_label(rl, sizeof rl, ref);
		if (how == REF_FOUND && carnet_fhir__is(r, "Patient")) {
			if (!patient_from(c, &q, r))
				c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
							  "%s: %s subject %s is a Patient without an identifier",
							  c->in->path, what, rl);
		} else if (how == REF_FOUND) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s is not a Patient", c->in->path, what,
						  rl);
		} else if (how == REF_OTHER_SERVER) {
			char ol[128];
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s is not on the server of the bundle's entry %s",
						  c->in->path, what, rl,
						  carnet_fhir__ref_label(ol, sizeof ol, other));
		} else if (how == REF_AMBIGUOUS) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s matches Patients of several servers",
						  c->in->path, what, rl);
		} else if (!(strchr(ref, '?') && patient_from_search(c, &q, ref)) && !p.patient_id) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s resolves to no Patient in the file",
						  c->in->path, what, rl);
		}
		if (!p.patient_id) {
			carnet_fhir__fill(c, &p.patient_id, q.patient_id);
			carnet_fhir__fill(c, &p.patient_system, q.patient_system);
			carnet_fhir__fill(c, &p.other_ids, q.other_ids);
		} else {
			char where[200];
			snprintf(where, sizeof where, "its subject reference %s", rl);
			carnet_fhir__agree_patient(c, &p, &q, "its subject identifier", where);
			carnet_fhir__fill(c, &p.other_ids, q.other_ids);
		}
		carnet_doc__clear(&q);
	}
	json_t *source = carnet_fhir__path(res, "context", "sourcePatientInfo");
	json_t *src = carnet_fhir__resolve(res, bundle, carnet_fhir__str(source, "reference"));
	if (src && carnet_fhir__is(src, "Patient") && p.patient_id)
		patient_from(c, &p, src); /* the source's ids are aliases */
	int had = d->patient_id != NULL;
	carnet_fhir__agree_patient(c, d, &p, had ? "the document" : what, what);
	if (!had)
		carnet_fhir__fill(c, &d->other_ids, p.other_ids);
	carnet_doc__clear(&p);
}
