/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cda_header.c - the header of a CDA into a document: ids, versions, type,
 * dates, confidentiality and visibility, the patient (one), author,
 * encounter, custodian, replaced document. */
#include "cda.h"

#include <stdlib.h>
#include <string.h>

/* Patient ids of recordTarget/patientRole: the INS (by its system OID)
 * if any, else the first id with an extension; every other id with an
 * extension into other_ids as "root^extension". 0 or -1 (memory). */
static int patient(carnet_doc *d, const xmlNode *role)
{
	const xmlNode *chosen = NULL;
	for (const xmlNode *c = role ? role->children : NULL; c && !chosen; c = c->next) {
		char *root = carnet_cda__attr(c, "root"), *ext = carnet_cda__attr(c, "extension");
		if (carnet_cda__is(c, "id") && ext && carnet_doc__is_ins_system(root))
			chosen = c;
		xmlFree(root);
		xmlFree(ext);
	}
	for (const xmlNode *c = role ? role->children : NULL; c && !chosen; c = c->next) {
		char *ext = carnet_cda__attr(c, "extension");
		if (carnet_cda__is(c, "id") && ext)
			chosen = c;
		xmlFree(ext);
	}
	if (!chosen)
		return 0;
	if (carnet_cda__take_attr(&d->patient_id, chosen, "extension") ||
	    carnet_cda__take_attr(&d->patient_system, chosen, "root"))
		return -1;
	carnet_buf others = CARNET_BUF_INIT;
	int rc = 0;
	for (const xmlNode *c = role->children; c && !rc; c = c->next) {
		if (c == chosen || !carnet_cda__is(c, "id"))
			continue;
		char *root = carnet_cda__attr(c, "root"), *ext = carnet_cda__attr(c, "extension");
		if (ext)
			rc = (others.len && carnet_buf__putc(&others, ' ')) ||
			     carnet_buf__printf(&others, "%s^%s", root ? root : "", ext);
		xmlFree(root);
		xmlFree(ext);
	}
	if (!rc && others.len)
		rc = carnet_doc__set(&d->other_ids, others.data, others.len);
	carnet_buf__free(&others);
	return rc;
}

/* The specialty of an author code: "SM04" for "G15_10/SM04" (a physician's
 * specialty), any other code as given. */
static int take_specialty(char **field, const xmlNode *code)
{
	char *v = carnet_cda__attr(code, "code");
	if (!v)
		return 0;
	const char *s = v;
	if (strncmp(v, "G15_10/SM", 9) == 0 && v[9]) {
		size_t i = 9;
		while (v[i] >= '0' && v[i] <= '9')
			i++;
		if (!v[i])
			s = v + 7;
	}
	int rc = carnet_doc__sets(field, s);
	xmlFree(v);
	return rc;
}

/* "Given FAMILY" of a PN element (the first given name and family name,
 * as written). 0 or -1 (memory). */
static int take_name(char **field, const xmlNode *name)
{
	if (!name)
		return 0;
	char *given = NULL, *family = NULL;
	int rc = carnet_cda__take_text(&given, carnet_cda__child(name, "given")) ||
		 carnet_cda__take_text(&family, carnet_cda__child(name, "family"));
	carnet_buf b = CARNET_BUF_INIT;
	if (!rc && (given || family))
		rc = carnet_buf__printf(&b, "%s%s%s", given ? given : "",
					given && family ? " " : "", family ? family : "") ||
		     carnet_doc__set(field, b.data, b.len);
	carnet_buf__free(&b);
	free(given);
	free(family);
	return rc;
}

static int author(carnet_doc *d, const xmlNode *a)
{
	if (!a)
		return 0;
	return carnet_cda__take_attr(&d->author_id, carnet_cda__child(a, "id"), "extension") ||
	       take_specialty(&d->author_specialty, carnet_cda__child(a, "code")) ||
	       take_name(&d->author_name, carnet_cda__path(a, "assignedPerson/name"));
}

static int encounter(carnet_doc *d, const xmlNode *hcf)
{
	if (!hcf)
		return 0;
	if (carnet_cda__take_attr(&d->practice_setting, carnet_cda__child(hcf, "code"), "code") ||
	    carnet_cda__take_text(&d->facility,
				  carnet_cda__path(hcf, "serviceProviderOrganization/name")))
		return -1;
	if (!d->facility &&
	    carnet_cda__take_text(&d->facility, carnet_cda__path(hcf, "location/name")))
		return -1;
	if (!d->facility &&
	    carnet_cda__take_attr(&d->facility, carnet_cda__child(hcf, "code"), "displayName"))
		return -1;
	return 0;
}

int carnet_cda__header(carnet_doc *d, const xmlNode *cda)
{
	if (carnet_cda__take_id(&d->id, carnet_cda__child(cda, "id")) ||
	    carnet_cda__take_id(&d->set_id, carnet_cda__child(cda, "setId")) ||
	    carnet_cda__take_attr(&d->type, carnet_cda__child(cda, "code"), "code") ||
	    carnet_cda__take_text(&d->title, carnet_cda__child(cda, "title")) ||
	    carnet_cda__take_date(&d->date, carnet_cda__child(cda, "effectiveTime")) ||
	    carnet_cda__take_attr(&d->confidentiality,
				  carnet_cda__child(cda, "confidentialityCode"), "code") ||
	    carnet_cda__take_attr(&d->language, carnet_cda__child(cda, "languageCode"), "code") ||
	    patient(d, carnet_cda__path(cda, "recordTarget/patientRole")) ||
	    author(d, carnet_cda__path(cda, "author/assignedAuthor")) ||
	    encounter(d, carnet_cda__path(cda, "componentOf/encompassingEncounter/location/"
					       "healthCareFacility")))
		return -1;
	char *version = carnet_cda__attr(carnet_cda__child(cda, "versionNumber"), "value");
	if (version) {
		char *end;
		long v = strtol(version, &end, 10);
		if (!*end && v > 0 && v < 1000000)
			d->version = (int)v;
		xmlFree(version);
	}
	const xmlNode *cust = carnet_cda__path(cda, "custodian/assignedCustodian/"
						    "representedCustodianOrganization");
	if (carnet_cda__take_text(&d->custodian, carnet_cda__child(cust, "name")) ||
	    (!d->custodian &&
	     carnet_cda__take_attr(&d->custodian, carnet_cda__child(cust, "id"), "extension")))
		return -1;
	const xmlNode *ev = carnet_cda__path(cda, "documentationOf/serviceEvent/effectiveTime");
	if (carnet_cda__take_date(&d->service_start, carnet_cda__child(ev, "low")) ||
	    carnet_cda__take_date(&d->service_end, carnet_cda__child(ev, "high")))
		return -1;
	for (const xmlNode *c = cda->children; c; c = c->next) {
		if (!carnet_cda__is(c, "relatedDocument"))
			continue;
		char *tc = carnet_cda__attr(c, "typeCode");
		int rplc = tc && strcmp(tc, "RPLC") == 0;
		xmlFree(tc);
		if (rplc &&
		    carnet_cda__take_id(&d->replaces, carnet_cda__path(c, "parentDocument/id")))
			return -1;
	}
	return carnet_doc__sets(&d->format, "cda");
}

int carnet_cda__one_patient(const xmlNode *cda, const carnet_input *in, carnet_error *err)
{
	const xmlNode *first = NULL;
	int n = 0, rc = CARNET_OK;
	for (const xmlNode *c = cda->children; c && rc == CARNET_OK; c = c->next) {
		if (!carnet_cda__is(c, "recordTarget"))
			continue;
		if (n++ == 0) {
			first = c;
			continue;
		}
		carnet_doc a, b;
		carnet_doc__init(&a);
		carnet_doc__init(&b);
		if (patient(&a, carnet_cda__child(first, "patientRole")) ||
		    patient(&b, carnet_cda__child(c, "patientRole"))) {
			rc = carnet_reader__nomem(err, in->path);
		} else {
			const char *ia = carnet_doc__valid_id(a.patient_id) ? a.patient_id : "(none)";
			const char *ib = carnet_doc__valid_id(b.patient_id) ? b.patient_id : "(none)";
			rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					       CARNET_READER_PATIENT_CONFLICT,
					       "%s: CDA has several recordTargets (patients %.128s and %.128s): "
					       "a document belongs to one patient",
					       in->path, ia, ib);
		}
		carnet_doc__clear(&a);
		carnet_doc__clear(&b);
	}
	return rc;
}

int carnet_cda__visibility(carnet_doc *d, const xmlNode *cda)
{
	const xmlNode *cc = carnet_cda__child(cda, "confidentialityCode");
	for (const xmlNode *t = cc ? cc->children : NULL; t; t = t->next) {
		char *code = carnet_cda__is(t, "translation") ? carnet_cda__attr(t, "code") : NULL;
		int rc = 0;
		if (code && carnet_doc__is_visibility(code, strlen(code))) {
			carnet_buf b = CARNET_BUF_INIT;
			rc = carnet_buf__printf(&b, "%s%s%s", d->confidentiality ? d->confidentiality : "",
						d->confidentiality ? " " : "", code) ||
			     carnet_doc__set(&d->confidentiality, b.data, b.len);
			carnet_buf__free(&b);
		}
		xmlFree(code);
		if (rc)
			return -1;
	}
	return 0;
}
