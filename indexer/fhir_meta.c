/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fhir_meta.c - FHIR metadata into a document: each field filled once, from
 * the first place that has it; authors, custodian, security labels and the
 * replaced document. */
#include "fhir.h"

#include <string.h>

void carnet_fhir__fill_n(carnet_fhir_ctx *c, char **field, const char *value, size_t len)
{
	if (c->rc || *field || !value || !len)
		return;
	if (carnet_doc__set(field, value, len) != 0)
		carnet_fhir__nomem(c);
}

void carnet_fhir__fill(carnet_fhir_ctx *c, char **field, const char *value)
{
	if (value)
		carnet_fhir__fill_n(c, field, value, strlen(value));
}

void carnet_fhir__fill_date(carnet_fhir_ctx *c, char **field, const char *value)
{
	char day[11];
	if (!value || strlen(value) < 10)
		return;
	memcpy(day, value, 10);
	day[10] = '\0';
	if (carnet_doc__valid_date(day))
		carnet_fhir__fill(c, field, day);
}

void carnet_fhir__fill_code(carnet_fhir_ctx *c, char **field, const char *code)
{
	if (!code)
		return;
	const char *slash = strrchr(code, '/');
	if (slash && slash[1])
		code = slash + 1;
	if (carnet_doc__valid_id(code))
		carnet_fhir__fill(c, field, code);
}

void carnet_fhir__fill_language(carnet_fhir_ctx *c, char **field, const char *lang)
{
	char out[4];
	size_t n = 0;
	if (!lang)
		return;
	while (n < 3 && ((lang[n] >= 'a' && lang[n] <= 'z') || (lang[n] >= 'A' && lang[n] <= 'Z'))) {
		out[n] = (char)(lang[n] | 0x20);
		n++;
	}
	if (n >= 2 && (lang[n] == '\0' || lang[n] == '-' || lang[n] == '_'))
		carnet_fhir__fill_n(c, field, out, n);
}

#define RPPS_OID "1.2.250.1.71.4.2.1"

/* The preferred identifier of a Practitioner: the RPPS, else the first. */
static const char *practitioner_id(json_t *pr)
{
	json_t *ids = json_object_get(pr, "identifier"), *id;
	size_t i;
	json_array_foreach(ids, i, id)
		if (carnet_fhir__str(id, "value") &&
		    carnet_fhir__system_ends(carnet_fhir__str(id, "system"), RPPS_OID))
			return carnet_fhir__str(id, "value");
	json_array_foreach(ids, i, id)
		if (carnet_fhir__str(id, "value"))
			return carnet_fhir__str(id, "value");
	return NULL;
}

/* "Prénom NOM" of a HumanName list. */
static void fill_name(carnet_fhir_ctx *c, char **field, json_t *names)
{
	json_t *name = json_is_array(names) ? json_array_get(names, 0) : NULL;
	if (c->rc || *field || !json_is_object(name))
		return;
	if (carnet_fhir__str(name, "text")) {
		carnet_fhir__fill(c, field, carnet_fhir__str(name, "text"));
		return;
	}
	carnet_buf b = CARNET_BUF_INIT;
	json_t *g;
	size_t i;
	int bad = 0;
	json_array_foreach(json_object_get(name, "given"), i, g)
		if (json_is_string(g) && json_string_length(g))
			bad |= (b.len && carnet_buf__putc(&b, ' ')) ||
			       carnet_buf__puts(&b, json_string_value(g));
	if (carnet_fhir__str(name, "family"))
		bad |= (b.len && carnet_buf__putc(&b, ' ')) ||
		       carnet_buf__puts(&b, carnet_fhir__str(name, "family"));
	if (bad)
		carnet_fhir__nomem(c);
	else if (b.len)
		carnet_fhir__fill_n(c, field, b.data, b.len);
	carnet_buf__free(&b);
}

static void fill_practitioner(carnet_fhir_ctx *c, carnet_doc *d, json_t *pr)
{
	const char *id = practitioner_id(pr);
	if (id && carnet_doc__valid_id(id))
		carnet_fhir__fill(c, &d->author_id, id);
	fill_name(c, &d->author_name, json_object_get(pr, "name"));
}

void carnet_fhir__type_and_class(carnet_fhir_ctx *c, carnet_doc *d, json_t *res)
{
	const char *code = carnet_fhir__str(carnet_fhir__coding(json_object_get(res, "type"),
								 "http://loinc.org"),
					    "code");
	if (code && carnet_doc__valid_id(code))
		carnet_fhir__fill(c, &d->type, code);
	json_t *cat, *cc;
	size_t i, k;
	json_array_foreach(json_object_get(res, "category"), i, cat)
		json_array_foreach(json_object_get(cat, "coding"), k, cc) {
			const char *sys = carnet_fhir__str(cc, "system");
			if (carnet_fhir__system_ends(sys, "1.2.250.1.213.1.1.4.1") ||
			    (sys && (strstr(sys, "TRE_A03") || strstr(sys, "TRE-A03"))))
				carnet_fhir__fill_code(c, &d->class_code,
						       carnet_fhir__str(cc, "code"));
		}
}

void carnet_fhir__authors(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle)
{
	json_t *authors = json_object_get(res, "author"), *a;
	size_t i;
	json_array_foreach(authors, i, a) {
		json_t *r = carnet_fhir__resolve(res, bundle, carnet_fhir__str(a, "reference"));
		if (r && carnet_fhir__is(r, "PractitionerRole")) {
			json_t *sp, *cc;
			size_t k;
			json_array_foreach(json_object_get(r, "specialty"), k, sp) {
				json_t *coding = carnet_fhir__coding(sp, NULL);
				carnet_fhir__fill_code(c, &d->author_specialty,
						       carnet_fhir__str(coding, "code"));
			}
			/* French profiles may code the specialty as "G15_10/SM04" */
			json_array_foreach(json_object_get(r, "code"), k, cc) {
				json_t *coding = carnet_fhir__coding(cc, NULL);
				const char *code = carnet_fhir__str(coding, "code");
				if (code && strchr(code, '/'))
					carnet_fhir__fill_code(c, &d->author_specialty, code);
			}
			const char *pref =
				carnet_fhir__str(json_object_get(r, "practitioner"), "reference");
			json_t *pr = carnet_fhir__resolve(res, bundle, pref);
			if (!pr)
				pr = carnet_fhir__resolve(r, bundle, pref);
			if (pr && carnet_fhir__is(pr, "Practitioner"))
				fill_practitioner(c, d, pr);
			const char *rid = practitioner_id(r);
			if (rid && carnet_doc__valid_id(rid))
				carnet_fhir__fill(c, &d->author_id, rid);
		} else if (r && carnet_fhir__is(r, "Practitioner")) {
			fill_practitioner(c, d, r);
		} else if (!r) {
			const char *v = carnet_fhir__str(json_object_get(a, "identifier"), "value");
			if (v && carnet_doc__valid_id(v))
				carnet_fhir__fill(c, &d->author_id, v);
		}
		if (!r || !carnet_fhir__is(r, "Organization"))
			carnet_fhir__fill(c, &d->author_name, carnet_fhir__str(a, "display"));
	}
}

void carnet_fhir__custodian(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle)
{
	json_t *cust = json_object_get(res, "custodian");
	json_t *org = carnet_fhir__resolve(res, bundle, carnet_fhir__str(cust, "reference"));
	if (org && carnet_fhir__is(org, "Organization")) {
		carnet_fhir__fill(c, &d->custodian, carnet_fhir__str(org, "name"));
		carnet_fhir__fill(c, &d->custodian,
				  carnet_fhir__str(carnet_fhir__first(org, "identifier"), "value"));
	}
	carnet_fhir__fill(c, &d->custodian, carnet_fhir__str(cust, "display"));
}

void carnet_fhir__add_conf(carnet_fhir_ctx *c, carnet_buf *b, const char *code)
{
	if (c->rc || !code || !carnet_doc__valid_id(code))
		return;
	if ((b->len && carnet_buf__putc(b, ' ') != 0) || carnet_buf__puts(b, code) != 0)
		carnet_fhir__nomem(c);
}

void carnet_fhir__security_labels(carnet_fhir_ctx *c, carnet_doc *d, json_t *res)
{
	carnet_buf b = CARNET_BUF_INIT;
	json_t *label, *coding;
	size_t i, k;
	json_array_foreach(json_object_get(res, "securityLabel"), i, label)
		json_array_foreach(json_object_get(label, "coding"), k, coding)
			carnet_fhir__add_conf(c, &b, carnet_fhir__str(coding, "code"));
	/* visibility codes may come as security tags of the resource too */
	json_array_foreach(carnet_fhir__path(res, "meta", "security"), i, coding) {
		const char *code = carnet_fhir__str(coding, "code");
		if (code && carnet_doc__is_visibility(code, strlen(code)))
			carnet_fhir__add_conf(c, &b, code);
	}
	if (b.len)
		carnet_fhir__fill_n(c, &d->confidentiality, b.data, b.len);
	carnet_buf__free(&b);
}

const char *carnet_fhir__docref_id(json_t *dr)
{
	const char *id = carnet_fhir__str(json_object_get(dr, "masterIdentifier"), "value");
	if (!id)
		id = carnet_fhir__str(carnet_fhir__first(dr, "identifier"), "value");
	if (!id)
		id = carnet_fhir__str(dr, "id");
	return id;
}

void carnet_fhir__replaces(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle)
{
	json_t *rel;
	size_t i;
	json_array_foreach(json_object_get(res, "relatesTo"), i, rel) {
		const char *code = carnet_fhir__str(rel, "code");
		if (!code || strcmp(code, "replaces") != 0)
			continue;
		json_t *target = json_object_get(rel, "target");
		if (!target)
			target = json_object_get(rel, "targetReference");
		const char *ref = carnet_fhir__str(target, "reference");
		const char *id = NULL;
		size_t n = 0;
		json_t *r = carnet_fhir__resolve(res, bundle, ref);
		if (r && carnet_fhir__is(r, "DocumentReference"))
			id = carnet_fhir__docref_id(r);
		else if (r && carnet_fhir__is(r, "Composition"))
			id = carnet_fhir__str(carnet_fhir__first(r, "identifier"), "value")
				 ? carnet_fhir__str(carnet_fhir__first(r, "identifier"), "value")
				 : carnet_fhir__str(r, "id");
		if (id)
			n = strlen(id);
		else if (ref)
			id = carnet_fhir__ref_id(ref, &n);
		if (!n) {
			id = carnet_fhir__str(json_object_get(target, "identifier"), "value");
			if (!id)
				id = carnet_fhir__str(json_object_get(rel, "targetIdentifier"),
						      "value");
			n = id ? strlen(id) : 0;
		}
		if (!n)
			continue;
		carnet_fhir__fill_n(c, &d->replaces, id, n);
		carnet_fhir__fill_n(c, &d->set_id, id, n);
		d->version = 2;
		return;
	}
}
