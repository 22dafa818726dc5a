/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fhir.h - what the files of the FHIR reader share (read_fhir.c and
 * fhir_*.c): the reading state of one input and the steps that fill a
 * document from FHIR JSON. Internal to the reader. */
#ifndef CARNET_INDEXER_FHIR_H
#define CARNET_INDEXER_FHIR_H

#include <stddef.h>

#include <jansson.h>

#include "reader.h"

/* Reading state of one input. Errors are sticky: once rc is set, the
 * steps that follow do nothing. */
typedef struct carnet_fhir_ctx {
	const carnet_input *in;
	carnet_error *err;
	int rc;
	carnet_doc *docs;  /* built documents, emitted once all are good */
	size_t count, cap;
} carnet_fhir_ctx;

/* ---- the reading state (read_fhir.c) ---- */

/* Memory ran out (or the time budget: carnet_reader__nomem): sets c->rc
 * unless already set; returns c->rc. */
int carnet_fhir__nomem(carnet_fhir_ctx *c);

/* Has the document's time budget run out? Sets c->rc if so. */
int carnet_fhir__late(carnet_fhir_ctx *c);

/* ---- JSON and references (fhir_json.c) ---- */

/* How a reference resolved (carnet_fhir__resolve_ref). */
enum { REF_FOUND, REF_NONE, REF_OTHER_SERVER, REF_AMBIGUOUS };

/* A value safe to name in a message (a FHIR type or code name, never
 * free text): letters, digits and '-', at most 40 bytes. */
const char *carnet_fhir__safe_name(const char *s);

/* json_loadb, stopping when the document's time is up (NULL then, and
 * carnet_budget__expired says so). */
json_t *carnet_fhir__load(const char *data, size_t len, json_error_t *jerr);

/* The non-empty string at obj[key], or NULL. */
const char *carnet_fhir__str(json_t *obj, const char *key);

/* obj[key][0] when obj[key] is an array, obj[key] when it is an object. */
json_t *carnet_fhir__first(json_t *obj, const char *key);

/* obj[k1][k2], or NULL. */
json_t *carnet_fhir__path(json_t *obj, const char *k1, const char *k2);

/* Is res a resource of that resourceType? */
int carnet_fhir__is(json_t *res, const char *type);

/* "urn:oid:1.2.3" -> "1.2.3"; other systems unchanged. */
const char *carnet_fhir__oid(const char *system);

/* Does system (with or without "urn:oid:") end with the OID suffix? */
int carnet_fhir__system_ends(const char *system, const char *suffix);

/* The code of the first coding of a CodeableConcept, preferring a coding
 * of system `prefer` (NULL: the first). */
json_t *carnet_fhir__coding(json_t *concept, const char *prefer);

/* The id part of a reference: "DocumentReference/x" -> "x",
 * "http://h/Patient/x/_history/2" -> "x", "urn:uuid:u" -> "u". Returns a
 * pointer into ref and the length in *len (0 when there is none). */
const char *carnet_fhir__ref_id(const char *ref, size_t *len);

/* The resource a reference points to: "#id" among container's contained
 * resources; otherwise the entry of bundle whose fullUrl is the reference
 * (a relative one made absolute with the base of container's own
 * fullUrl). A relative reference in a bundle whose entries have no
 * fullUrl falls back to the entry of that type and id. Returns REF_FOUND
 * with *out set; REF_OTHER_SERVER when only an entry of another server
 * has that type and id (its fullUrl in *other); REF_AMBIGUOUS when
 * entries of several servers do; REF_NONE otherwise. */
int carnet_fhir__resolve_ref(json_t *container, json_t *bundle, const char *ref, json_t **out,
			     const char **other);

/* The resource ref points to when carnet_fhir__resolve_ref finds it, or NULL. */
json_t *carnet_fhir__resolve(json_t *container, json_t *bundle, const char *ref);

/* A reference, to show in a message (printable ASCII, at most 100 bytes). */
const char *carnet_fhir__ref_label(char *out, size_t size, const char *ref);

/* ---- metadata (fhir_meta.c) ---- */

/* Set *field to value[0..len) unless it is already set or value is empty. */
void carnet_fhir__fill_n(carnet_fhir_ctx *c, char **field, const char *value, size_t len);

/* The same for a NUL-terminated value (NULL: nothing). */
void carnet_fhir__fill(carnet_fhir_ctx *c, char **field, const char *value);

/* Set a date field from a FHIR date, dateTime or instant (its day). */
void carnet_fhir__fill_date(carnet_fhir_ctx *c, char **field, const char *value);

/* A code usable as an index term: the part after the last '/'
 * ("G15_10/SM04" -> "SM04"). */
void carnet_fhir__fill_code(carnet_fhir_ctx *c, char **field, const char *code);

/* "fr-FR" -> "fr". */
void carnet_fhir__fill_language(carnet_fhir_ctx *c, char **field, const char *lang);

/* The type of res (its LOINC coding, a valid code) and its DMP class
 * (a category coding of the TRE_A03 system, by OID or by name). */
void carnet_fhir__type_and_class(carnet_fhir_ctx *c, carnet_doc *d, json_t *res);

/* Author id, name and specialty from the author references of res,
 * resolved among res's contained resources or in bundle. */
void carnet_fhir__authors(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle);

/* The custodian of res: its Organization's name or identifier, else the
 * reference's display. */
void carnet_fhir__custodian(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle);

/* Confidentiality codes joined with single spaces. */
void carnet_fhir__add_conf(carnet_fhir_ctx *c, carnet_buf *b, const char *code);

/* Confidentiality from the securityLabel codes of res, and visibility
 * codes among its meta.security tags. */
void carnet_fhir__security_labels(carnet_fhir_ctx *c, carnet_doc *d, json_t *res);

/* The id of a DocumentReference: masterIdentifier, identifier[0], id. */
const char *carnet_fhir__docref_id(json_t *dr);

/* relatesTo[code=replaces]: the replaced document's id becomes replaces and
 * the set id, and this is version 2. */
void carnet_fhir__replaces(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle);

/* ---- the patient (fhir_patient.c) ---- */

/* Take the patient `p` found in `where` into d; if d already has one
 * that is another patient, the document is refused naming both. */
void carnet_fhir__agree_patient(carnet_fhir_ctx *c, carnet_doc *d, const carnet_doc *p,
				const char *what, const char *where);

/* The patient of a DocumentReference or Composition (`what`, for
 * messages): subject.identifier; the Patient subject.reference resolves
 * to (its INS, else its first identifier); the identifier of a
 * conditional reference. A reference that resolves to nothing in the
 * file, to another server's resource, or to a Patient without an
 * identifier refuses the document: the id part of a reference alone does
 * not name a patient. The DocumentReference's source patient brings
 * aliases only. */
void carnet_fhir__patient(carnet_fhir_ctx *c, carnet_doc *d, json_t *res, json_t *bundle,
			  const char *what);

/* ---- attachments (fhir_content.c) ---- */

/* An error of the content itself (bad or unreadable embedded file) costs
 * only its text; a failure of the machine (memory, extractor) stops. */
int carnet_fhir__content_error_is_fatal(int rc);

/* Make rc (described by e) the input's error when it is fatal (above). */
void carnet_fhir__keep_fatal(carnet_fhir_ctx *c, int rc, const carnet_error *e);

/* The attachments of DocumentReference number n of the file. */
void carnet_fhir__content(carnet_fhir_ctx *c, carnet_doc *d, json_t *dr, json_t *bundle, size_t n,
			  char **set_id, int *version);

/* ---- Compositions (fhir_composition.c) ---- */

/* Metadata (where d has none) and sections of a Composition in its
 * document Bundle. */
void carnet_fhir__composition(carnet_fhir_ctx *c, carnet_doc *d, json_t *bundle, json_t *comp);

/* ---- results (fhir_results.c) ---- */

/* The Observations among bundle's entries whose subject is that of res
 * (the Composition or DocumentReference of d; an Observation naming no
 * subject is taken) as d's coded results: code (LOINC coding first),
 * valueQuantity (its UCUM code, else its unit), valueCodeableConcept,
 * valueInteger or valueString, referenceRange[0], interpretation[0],
 * effectiveDateTime / effectivePeriod.start / issued (else d's date),
 * and the type of the Specimen found in the file. Entered in error or
 * cancelled ones are left out. */
void carnet_fhir__results(carnet_fhir_ctx *c, carnet_doc *d, json_t *bundle, json_t *res);

#endif
