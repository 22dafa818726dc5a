/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_fhir.c - FHIR R4 JSON reader: a DocumentReference, a submission,
 * search or collection Bundle of DocumentReferences, or a document Bundle
 * (Composition); one document per DocumentReference or Composition, with
 * the text of its attachments (base64 text, HTML, PDF, CDA) or sections.
 * This file: what the file holds, the documents built and handed over;
 * the steps are in fhir_*.c (fhir.h). */
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int carnet_fhir__nomem(carnet_fhir_ctx *c)
{
	if (!c->rc)
		c->rc = carnet_reader__nomem(c->err, c->in->path);
	return c->rc;
}

int carnet_fhir__late(carnet_fhir_ctx *c)
{
	if (!c->rc && carnet_budget__over())
		c->rc = carnet_budget__fail(c->err, c->in->path);
	return c->rc != CARNET_OK;
}

/* Keep a built document for emission. */
static void keep(carnet_fhir_ctx *c, carnet_doc *d)
{
	if (!c->rc && !d->set_id)
		carnet_fhir__fill(c, &d->set_id, d->id);
	carnet_fhir__fill(c, &d->format, "fhir");
	if (c->rc)
		return;
	if (CARNET_GROW(c->docs, c->cap, c->count + 1) != 0) {
		carnet_fhir__nomem(c);
		return;
	}
	c->docs[c->count++] = *d;
	carnet_doc__init(d);
}

/* The metadata and attachments of DocumentReference dr, number n of the
 * file, into d. */
static void read_docref(carnet_fhir_ctx *c, carnet_doc *d, json_t *dr, json_t *bundle, size_t n)
{
	char *cda_set = NULL;
	int cda_version = 1;
	carnet_fhir__fill(c, &d->id, carnet_fhir__docref_id(dr));
	carnet_fhir__replaces(c, d, dr, bundle);
	char what[64];
	snprintf(what, sizeof what, "DocumentReference %zu", n);
	carnet_fhir__patient(c, d, dr, bundle, what);
	carnet_fhir__type_and_class(c, d, dr);
	json_t *type = json_object_get(dr, "type");
	json_t *att0 = json_object_get(carnet_fhir__first(dr, "content"), "attachment");
	json_t *context = json_object_get(dr, "context");
	json_t *period = json_object_get(context, "period");
	carnet_fhir__fill_date(c, &d->date, carnet_fhir__str(dr, "date"));
	carnet_fhir__fill_date(c, &d->date, carnet_fhir__str(att0, "creation"));
	carnet_fhir__fill_date(c, &d->date, carnet_fhir__str(period, "start"));
	carnet_fhir__fill(c, &d->title, carnet_fhir__str(dr, "description"));
	carnet_fhir__fill(c, &d->title, carnet_fhir__str(att0, "title"));
	json_t *type0 = carnet_fhir__coding(type, NULL);
	carnet_fhir__fill(c, &d->title, carnet_fhir__str(type0, "display"));
	carnet_fhir__fill(c, &d->title, carnet_fhir__str(type, "text"));
	carnet_fhir__authors(c, d, dr, bundle);
	carnet_fhir__custodian(c, d, dr, bundle);
	json_t *setting = carnet_fhir__coding(json_object_get(context, "practiceSetting"), NULL);
	carnet_fhir__fill_code(c, &d->practice_setting, carnet_fhir__str(setting, "code"));
	json_t *fac = carnet_fhir__coding(json_object_get(context, "facilityType"), NULL);
	carnet_fhir__fill(c, &d->facility, carnet_fhir__str(fac, "display"));
	carnet_fhir__fill(c, &d->facility, carnet_fhir__str(fac, "code"));
	carnet_fhir__fill_date(c, &d->service_start, carnet_fhir__str(period, "start"));
	carnet_fhir__fill_date(c, &d->service_end, carnet_fhir__str(period, "end"));
	carnet_fhir__security_labels(c, d, dr);
	carnet_fhir__fill_language(c, &d->language, carnet_fhir__str(att0, "language"));
	carnet_fhir__content(c, d, dr, bundle, n, &cda_set, &cda_version);
	if (!d->set_id && cda_set) {
		carnet_fhir__fill(c, &d->set_id, cda_set);
		d->version = cda_version;
	}
	free(cda_set);
}

/* The id, metadata and sections of Composition comp into d (bundle: its
 * document Bundle, or NULL for a Composition alone). */
static void read_composition(carnet_fhir_ctx *c, carnet_doc *d, json_t *comp, json_t *bundle)
{
	json_t *bundle_id = json_object_get(bundle, "identifier");
	carnet_fhir__fill(c, &d->id, carnet_fhir__str(bundle_id, "value"));
	carnet_fhir__fill(c, &d->id, carnet_fhir__str(carnet_fhir__first(comp, "identifier"), "value"));
	carnet_fhir__fill(c, &d->id, carnet_fhir__str(comp, "id"));
	carnet_fhir__fill(c, &d->id, carnet_fhir__str(bundle, "id"));
	carnet_fhir__replaces(c, d, comp, bundle);
	carnet_fhir__composition(c, d, bundle, comp);
	if (bundle) /* the results of a document Bundle are its document's */
		carnet_fhir__results(c, d, bundle, comp);
}

/* Build and keep the document of res, the DocumentReference or Composition
 * number n of the file (bundle: the Bundle holding it, or NULL). */
static void read_document(carnet_fhir_ctx *c, json_t *res, json_t *bundle, size_t n)
{
	int docref = carnet_fhir__is(res, "DocumentReference");
	if (!json_is_object(json_object_get(res, "subject"))) {
		c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					  "%s: %s %zu has no subject", c->in->path,
					  docref ? "DocumentReference" : "Composition", n);
		return;
	}
	carnet_doc d;
	carnet_doc__init(&d);
	if (docref)
		read_docref(c, &d, res, bundle, n);
	else
		read_composition(c, &d, res, bundle);
	keep(c, &d);
	carnet_doc__clear(&d);
}

/* The first Composition of a document Bundle. */
static json_t *bundle_composition(json_t *bundle)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(bundle, "entry"), i, e)
		if (carnet_fhir__is(json_object_get(e, "resource"), "Composition"))
			return json_object_get(e, "resource");
	return NULL;
}

static void read_bundle(carnet_fhir_ctx *c, json_t *bundle)
{
	const char *type = carnet_fhir__str(bundle, "type");
	const carnet_input *in = c->in;
	json_t *e, *r;
	size_t i, n = 0;
	if (!type) {
		c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					  "%s: FHIR Bundle has no type", in->path);
		return;
	}
	if (strcmp(type, "document") == 0) {
		json_t *comp = bundle_composition(bundle);
		if (!comp)
			c->rc = carnet_error__set(c->err, CARNET_E_UNSUPPORTED_FORMAT,
						  CARNET_ORIGIN_INPUT, 0,
						  "%s: FHIR document Bundle holds no Composition",
						  in->path);
		else
			read_document(c, comp, bundle, 1);
		return;
	}
	if (strcmp(type, "transaction") != 0 && strcmp(type, "batch") != 0 &&
	    strcmp(type, "searchset") != 0 && strcmp(type, "collection") != 0) {
		c->rc = carnet_error__set(c->err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
					  0, "%s: FHIR Bundle of type %s carries no document to read (document, transaction, batch, searchset or collection are read)",
					  in->path, carnet_fhir__safe_name(type));
		return;
	}
	size_t before = c->count;
	json_t *only = NULL;
	json_array_foreach(json_object_get(bundle, "entry"), i, e) {
		r = json_object_get(e, "resource");
		if (!carnet_fhir__late(c) && carnet_fhir__is(r, "DocumentReference")) {
			read_document(c, r, bundle, ++n);
			only = r;
		}
	}
	/* Observations beside one DocumentReference are its document's;
	 * beside several, they are no one's in particular */
	if (n == 1 && !c->rc && c->count == before + 1)
		carnet_fhir__results(c, &c->docs[before], bundle, only);
	/* a collection of FHIR documents */
	if (n == 0)
		json_array_foreach(json_object_get(bundle, "entry"), i, e) {
			r = json_object_get(e, "resource");
			const char *t = carnet_fhir__str(r, "type");
			json_t *comp;
			if (!c->rc && carnet_fhir__is(r, "Bundle") && t &&
			    strcmp(t, "document") == 0 && (comp = bundle_composition(r)))
				read_document(c, comp, r, ++n);
		}
	if (n == 0 && !c->rc)
		c->rc = carnet_error__set(c->err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
					  0, "%s: FHIR Bundle of type %s holds no DocumentReference or Composition",
					  in->path, carnet_fhir__safe_name(type));
}

static int sniff(const carnet_input *in)
{
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	if (strcmp(ext, "json") != 0)
		return 0;
	static const char key[] = "\"resourceType\"";
	size_t n = in->len < 8192 ? in->len : 8192, m = sizeof key - 1;
	for (size_t i = 0; i + m <= n; i++)
		if (in->data[i] == '"' && memcmp(in->data + i, key, m) == 0)
			return 40;
	return 10; /* other JSON: ours to reject with a reason */
}

static int parse_error(const carnet_input *in, json_error_t *jerr, carnet_error *err)
{
	/* jansson quotes the offending token after " near " or in quotes:
	 * keep the reason, drop the quote (it may be patient data) */
	char *cut = strstr(jerr->text, " near ");
	if (cut)
		*cut = '\0';
	if ((cut = strstr(jerr->text, "'\\")))
		*cut = '\0';
	size_t n = strlen(jerr->text);
	while (n && (jerr->text[n - 1] == ' ' || jerr->text[n - 1] == ':'))
		jerr->text[--n] = '\0';
	int truncated = jerr->position >= (int)in->len || strstr(jerr->text, "end of") != NULL;
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				 "%s: invalid JSON at line %d column %d (byte offset %d): %s%s",
				 in->path, jerr->line, jerr->column, jerr->position,
				 n ? jerr->text : "syntax error",
				 truncated ? " (truncated?)" : "");
}

static int read_fhir(const carnet_input *in, carnet_doc_sink sink, void *payload,
		     carnet_error *err)
{
	const char *data = in->data;
	size_t len = in->len;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		data += 3, len -= 3;
	int rc = carnet_json__check(in->path, data, len, in->limits, err);
	if (rc)
		return rc;
	json_error_t jerr;
	json_t *root = carnet_fhir__load(data, len, &jerr);
	if (!root && carnet_budget__expired())
		return carnet_budget__fail(err, in->path);
	if (!root)
		return parse_error(in, &jerr, err);
	carnet_fhir_ctx c = { in, err, CARNET_OK, NULL, 0, 0 };
	json_t *rt = json_object_get(root, "resourceType");
	if (!json_is_object(root)) {
		c.rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT, 0,
					 "%s: not a FHIR resource (the JSON is not an object)", in->path);
	} else if (!rt) {
		c.rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT, 0,
					 "%s: not a FHIR resource (no resourceType)", in->path);
	} else if (!json_is_string(rt)) {
		c.rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: resourceType is not a string", in->path);
	} else if (carnet_fhir__is(root, "DocumentReference")) {
		read_document(&c, root, NULL, 1);
	} else if (carnet_fhir__is(root, "Bundle")) {
		read_bundle(&c, root);
	} else if (carnet_fhir__is(root, "Composition")) {
		read_document(&c, root, NULL, 1);
	} else {
		c.rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT, 0,
					 "%s: FHIR resourceType %s carries no document", in->path,
					 carnet_fhir__safe_name(json_string_value(rt)));
	}
	json_decref(root);
	/* every document was built: now hand them over */
	for (size_t i = 0; i < c.count; i++) {
		if (c.rc == CARNET_OK)
			c.rc = sink(&c.docs[i], payload);
		carnet_doc__clear(&c.docs[i]);
	}
	free(c.docs);
	return c.rc;
}

const carnet_reader carnet_reader_fhir = { "fhir", 0, sniff, read_fhir };
