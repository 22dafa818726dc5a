/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fhir_content.c - the attachments of a DocumentReference: decoded, and read
 * through the embedded content readers, the CDA reader or as a FHIR
 * document Bundle. */
#include "fhir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static int is_xml_mime(const char *m)
{
	static const char *const xml[] = { "text/xml", "application/xml",
					   "application/hl7-cda+xml",
					   "application/cda+xml" };
	for (size_t i = 0; i < sizeof xml / sizeof xml[0]; i++)
		if (carnet_reader__mime_is(m, xml[i]))
			return 1;
	return 0;
}

static int starts_xml(const char *data, size_t len)
{
	size_t i = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	return (len - i >= 5 && memcmp(data + i, "<?xml", 5) == 0) ||
	       (len - i >= 17 && memcmp(data + i, "<ClinicalDocument", 17) == 0);
}

int carnet_fhir__content_error_is_fatal(int rc)
{
	/* so is the end of the document's time budget */
	return (rc != CARNET_E_INVALID && rc != CARNET_E_UNSUPPORTED_FORMAT) ||
	       (rc && carnet_budget__expired());
}

void carnet_fhir__keep_fatal(carnet_fhir_ctx *c, int rc, const carnet_error *e)
{
	if (rc && carnet_fhir__content_error_is_fatal(rc) && !c->rc) {
		if (c->err)
			*c->err = *e;
		c->rc = rc;
	}
}

/* What a CDA attachment brings: sections, and metadata the
 * DocumentReference left empty. */
typedef struct cda_state {
	carnet_fhir_ctx *c;
	carnet_doc *d;
	char *set_id;  /* the CDA's set id and version, used when the */
	int version;   /* DocumentReference says nothing of versions */
	int seen;
} cda_state;

static int cda_sink(carnet_doc *cda, void *payload)
{
	cda_state *st = payload;
	carnet_fhir_ctx *c = st->c;
	carnet_doc *d = st->d;
	for (size_t i = 0; i < cda->sections_count; i++)
		if (carnet_doc__add_section(d, cda->sections[i].kind, cda->sections[i].text,
					    cda->sections[i].len) != 0)
			return carnet_fhir__nomem(c);
	if (st->seen++)
		return 0;
	/* the container and the CDA it carries must name one patient */
	if (d->patient_id && cda->patient_id) {
		carnet_fhir__agree_patient(c, d, cda, "the FHIR resource",
					   "its embedded CDA's recordTarget");
		if (c->rc)
			return c->rc;
	}
	/* what the DocumentReference left empty; the CDA's patient system
	 * only with its patient id */
	static const carnet_doc_field fields[] = {
		CARNET_DOC_ID, CARNET_DOC_PATIENT_ID, CARNET_DOC_TYPE, CARNET_DOC_TITLE,
		CARNET_DOC_DATE, CARNET_DOC_AUTHOR_ID, CARNET_DOC_AUTHOR_SPECIALTY,
		CARNET_DOC_CONFIDENTIALITY, CARNET_DOC_CLASS_CODE, CARNET_DOC_PRACTICE_SETTING,
		CARNET_DOC_FACILITY, CARNET_DOC_AUTHOR_NAME, CARNET_DOC_CUSTODIAN,
		CARNET_DOC_SERVICE_START, CARNET_DOC_SERVICE_END, CARNET_DOC_REPLACES,
		CARNET_DOC_OTHER_IDS,
	};
	static const carnet_doc_field system = CARNET_DOC_PATIENT_SYSTEM;
	int had_patient = d->patient_id != NULL;
	if (carnet_doc__copy(d, cda, fields, sizeof fields / sizeof fields[0], 0) != 0 ||
	    (!had_patient && carnet_doc__copy(d, cda, &system, 1, 0) != 0))
		return carnet_fhir__nomem(c);
	carnet_fhir__fill_language(c, &d->language, cda->language);
	if (cda->set_id && !(st->set_id = strdup(cda->set_id)))
		return carnet_fhir__nomem(c);
	st->version = cda->version;
	return c->rc;
}

/* Read a CDA attachment through the CDA reader, as "<file>#attachment". */
static void cda_content(carnet_fhir_ctx *c, carnet_doc *d, const char *data, size_t len, size_t k,
			char **set_id, int *version)
{
	carnet_buf label = CARNET_BUF_INIT;
	int bad = k ? carnet_buf__printf(&label, "%s#attachment-%zu", c->in->path, k + 1)
		    : carnet_buf__printf(&label, "%s#attachment", c->in->path);
	if (bad) {
		carnet_fhir__nomem(c);
		return;
	}
	carnet_input sub = { label.data, data, len, c->in->limits };
	cda_state st = { c, d, NULL, 1, 0 };
	carnet_error e;
	carnet_error__clear(&e);
	int rc = carnet_reader_cda.read(&sub, cda_sink, &st, &e);
	if (!c->rc && rc && e.sys_code == CARNET_READER_PATIENT_CONFLICT) {
		if (c->err)
			*c->err = e; /* whose document it is cannot be told */
		c->rc = rc;
	}
	if (!c->rc)
		carnet_fhir__keep_fatal(c, rc, &e);
	if (!c->rc && st.set_id && !*set_id) {
		*set_id = st.set_id;
		*version = st.version > 0 ? st.version : 1;
		st.set_id = NULL;
	}
	free(st.set_id);
	carnet_buf__free(&label);
}

/* The text of decoded attachment bytes data[0..len) (NUL-terminated). */
static void attachment_content(carnet_fhir_ctx *c, carnet_doc *d, const char *mime,
			       const char *data, size_t len, size_t k, char **set_id, int *version)
{
	carnet_error e;
	if (c->rc || !len)
		return;
	if (!mime)
		mime = "";
	if (carnet_reader__mime_is(mime, "text/plain") || carnet_reader__mime_is(mime, "text/html") ||
	    carnet_reader__mime_is(mime, "application/xhtml+xml") ||
	    carnet_reader__mime_is(mime, "application/pdf")) {
		carnet_error__clear(&e);
		int rc = carnet_reader__embedded(d, c->in, mime, data, len, &e);
		carnet_fhir__keep_fatal(c, rc, &e);
	} else if (is_xml_mime(mime) || starts_xml(data, len)) {
		cda_content(c, d, data, len, k, set_id, version);
	} else if (carnet_reader__mime_is(mime, "application/fhir+json") ||
		   carnet_reader__mime_is(mime, "application/json")) {
		/* a FHIR document (Bundle) sent as the attachment */
		json_error_t jerr;
		carnet_error__clear(&e);
		int rc = carnet_json__check(c->in->path, data, len, NULL, &e);
		carnet_fhir__keep_fatal(c, rc, &e);
		json_t *b = rc ? NULL : carnet_fhir__load(data, len, &jerr);
		if (!b && carnet_budget__expired())
			carnet_fhir__late(c);
		json_t *e0, *comp = NULL;
		size_t i;
		if (b && carnet_fhir__is(b, "Bundle") && carnet_fhir__str(b, "type") &&
		    strcmp(carnet_fhir__str(b, "type"), "document") == 0)
			json_array_foreach(json_object_get(b, "entry"), i, e0)
				if (!comp &&
				    carnet_fhir__is(json_object_get(e0, "resource"), "Composition"))
					comp = json_object_get(e0, "resource");
		if (comp)
			carnet_fhir__composition(c, d, b, comp);
		json_decref(b);
	}
	/* other types (images, DICOM...) carry no text we read */
}

void carnet_fhir__content(carnet_fhir_ctx *c, carnet_doc *d, json_t *dr, json_t *bundle, size_t n,
			  char **set_id, int *version)
{
	json_t *content, *att;
	size_t k;
	json_array_foreach(json_object_get(dr, "content"), k, content) {
		if (carnet_fhir__late(c))
			return;
		att = json_object_get(content, "attachment");
		const char *mime = carnet_fhir__str(att, "contentType");
		const char *b64 = carnet_fhir__str(att, "data");
		if (!b64) {
			json_t *r = carnet_fhir__resolve(dr, bundle, carnet_fhir__str(att, "url"));
			if (r && carnet_fhir__is(r, "Binary")) {
				b64 = carnet_fhir__str(r, "data");
				if (!mime)
					mime = carnet_fhir__str(r, "contentType");
			} else if (r && carnet_fhir__is(r, "Bundle")) {
				json_t *e0, *comp = NULL;
				size_t i;
				json_array_foreach(json_object_get(r, "entry"), i, e0)
					if (!comp &&
					    carnet_fhir__is(json_object_get(e0, "resource"),
							    "Composition"))
						comp = json_object_get(e0, "resource");
				if (comp)
					carnet_fhir__composition(c, d, r, comp);
			}
		}
		if (!b64)
			continue; /* an external url: the metadata is the document */
		carnet_buf bytes = CARNET_BUF_INIT;
		size_t bad = 0;
		int rc = carnet_base64__decode(&bytes, b64, strlen(b64), &bad);
		if (rc == CARNET_E_NOMEM) {
			carnet_fhir__nomem(c);
		} else if (rc) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: DocumentReference %zu attachment %zu: invalid base64 at byte offset %zu of its data",
						  c->in->path, n, k + 1, bad);
		} else if (bytes.data) {
			attachment_content(c, d, mime, bytes.data, bytes.len, k, set_id, version);
		}
		carnet_buf__free(&bytes);
	}
}
