/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-bundle.c - the searchset Bundle of a search's results
 * (ITI-67), written straight into the answer's buffer
 * (carnet-serve-json.c): it is built on every search, and a tree of
 * jansson objects per hit cost more than the search itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

#define LOINC "http://loinc.org"
#define CLASS_SYSTEM "urn:oid:1.2.250.1.213.1.1.4.1" /* TRE_A03 classe de document */
#define RPPS_SYSTEM "urn:oid:1.2.250.1.71.4.2.1"     /* identifiant national des PS */
#define HL7_CONF "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

/* {"coding":[{"code":..,"system":..,"display":..}]}, system and display
 * when given. */
static void coding(serve_json *j, const char *system, const char *code, const char *display)
{
	serve_json_open(j, '{');
	serve_json_key(j, "coding");
	serve_json_open(j, '[');
	serve_json_open(j, '{');
	serve_json_kstr(j, "code", code);
	if (system)
		serve_json_kstr(j, "system", system);
	if (display && *display)
		serve_json_kstr(j, "display", display);
	serve_json_close(j, '}');
	serve_json_close(j, ']');
	serve_json_close(j, '}');
}

/* A FHIR id: [A-Za-z0-9.-]{1,64}. */
static int fhir_id(const char *id)
{
	size_t n = strlen(id);
	return n >= 1 && n <= 64 &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.") == n;
}

/* Percent-encode a query value into out. */
static void qencode(char *out, size_t outsz, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (; *v && o + 4 < outsz; v++) {
		unsigned char c = (unsigned char)*v;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

/* "securityLabel": one coding per confidentiality code (the HL7 ones
 * with their system); nothing when there is no code. */
static void security_labels(serve_json *j, const char *codes)
{
	char copy[256], *save = NULL;
	snprintf(copy, sizeof copy, "%s", codes);
	char *t = strtok_r(copy, " ", &save);
	if (!t)
		return;
	serve_json_key(j, "securityLabel");
	serve_json_open(j, '[');
	for (; t; t = strtok_r(NULL, " ", &save)) {
		int hl7 = strlen(t) == 1 && strchr("ULMNRV", t[0]);
		coding(j, hl7 ? HL7_CONF : NULL, t, NULL);
	}
	serve_json_close(j, ']');
}

/* carnet's explanation: the three parts of the score, and what they
 * are made of. */
static void explanation(serve_json *j, const carnet_results *res, size_t i)
{
	static const struct { const char *name; carnet_part part; } parts[] = {
		{ "text", CARNET_PART_TEXT }, { "specialty", CARNET_PART_SPECIALTY },
		{ "recency", CARNET_PART_RECENCY }, { "textRelevance", CARNET_PART_TEXT_RAW },
		{ "affinity", CARNET_PART_AFFINITY }, { "ageDays", CARNET_PART_AGE_DAYS },
	};
	serve_json_open(j, '{');
	serve_json_kstr(j, "url", SERVE_SD_BASE "carnet-score");
	serve_json_key(j, "extension");
	serve_json_open(j, '[');
	for (size_t k = 0; k < sizeof parts / sizeof *parts; k++) {
		serve_json_open(j, '{');
		serve_json_kstr(j, "url", parts[k].name);
		serve_json_key(j, "valueDecimal");
		serve_json_real(j, carnet_results_part(res, i, parts[k].part));
		serve_json_close(j, '}');
	}
	serve_json_close(j, ']');
	serve_json_close(j, '}');
}

/* "contained": the author as a PractitionerRole, and the reference to it. */
static void author(serve_json *j, const carnet_results *res, size_t i)
{
	const char *spec = carnet_results_field(res, i, CARNET_FIELD_AUTHOR_SPECIALTY);
	const char *aid = carnet_results_field(res, i, CARNET_FIELD_AUTHOR_ID);
	serve_json_key(j, "contained");
	serve_json_open(j, '[');
	serve_json_open(j, '{');
	serve_json_kstr(j, "resourceType", "PractitionerRole");
	serve_json_kstr(j, "id", "author");
	if (*aid) {
		serve_json_key(j, "practitioner");
		serve_json_open(j, '{');
		serve_json_key(j, "identifier");
		serve_json_open(j, '{');
		serve_json_kstr(j, "system", RPPS_SYSTEM);
		serve_json_kstr(j, "value", aid);
		serve_json_close(j, '}');
		serve_json_close(j, '}');
	}
	if (*spec) {
		serve_json_key(j, "specialty");
		serve_json_open(j, '[');
		coding(j, NULL, spec,
		       carnet_results_field(res, i, CARNET_FIELD_AUTHOR_SPECIALTY_LABEL));
		serve_json_close(j, ']');
	}
	serve_json_close(j, '}');
	serve_json_close(j, ']');
	serve_json_key(j, "author");
	serve_json_open(j, '[');
	serve_json_open(j, '{');
	serve_json_kstr(j, "reference", "#author");
	serve_json_close(j, '}');
	serve_json_close(j, ']');
}

/* "content" (the attachment: where ITI-68 serves the document) and
 * "extension" (the score's explanation, the version, the snippet). */
static void content_and_extensions(serve_json *j, const carnet_results *res, size_t i,
				   const serve_search *s, const char *base)
{
	const char *title = carnet_results_field(res, i, CARNET_FIELD_TITLE);
	char url[1500], eid[400], epat[900];
	qencode(eid, sizeof eid, carnet_results_field(res, i, CARNET_FIELD_ID));
	qencode(epat, sizeof epat, s->patient_param);
	snprintf(url, sizeof url, "%s/Binary/%s?patient.identifier=%s", base, eid, epat);
	serve_json_key(j, "content");
	serve_json_open(j, '[');
	serve_json_open(j, '{');
	serve_json_key(j, "attachment");
	serve_json_open(j, '{');
	serve_json_kstr(j, "contentType",
			serve_content_type(carnet_results_field(res, i, CARNET_FIELD_SOURCE),
					   NULL, 0));
	serve_json_kstr(j, "url", url);
	if (*title)
		serve_json_kstr(j, "title", title);
	serve_json_close(j, '}');
	serve_json_close(j, '}');
	serve_json_close(j, ']');
	serve_json_key(j, "extension");
	serve_json_open(j, '[');
	explanation(j, res, i);
	serve_json_open(j, '{');
	serve_json_kstr(j, "url", SERVE_SD_BASE "document-version");
	serve_json_key(j, "valueInteger");
	serve_json_int(j, carnet_results_version(res, i));
	serve_json_close(j, '}');
	const char *snip = carnet_results_snippet(res, i);
	if (snip && *snip) {
		serve_json_open(j, '{');
		serve_json_kstr(j, "url", SERVE_SD_BASE "carnet-snippet");
		serve_json_kstr(j, "valueString", snip);
		serve_json_close(j, '}');
	}
	serve_json_close(j, ']');
}

static void document_reference(serve_json *j, const carnet_results *res, size_t i,
			       const serve_search *s, const char *base)
{
	const char *id = carnet_results_field(res, i, CARNET_FIELD_ID);
	const char *type = carnet_results_field(res, i, CARNET_FIELD_TYPE);
	const char *title = carnet_results_field(res, i, CARNET_FIELD_TITLE);
	const char *date = carnet_results_field(res, i, CARNET_FIELD_DATE);
	const char *cls = carnet_results_field(res, i, CARNET_FIELD_CLASS);
	int loinc = strspn(type, "0123456789-") == strlen(type) && strchr(type, '-');
	serve_json_open(j, '{');
	serve_json_kstr(j, "resourceType", "DocumentReference");
	serve_json_key(j, "masterIdentifier");
	serve_json_open(j, '{');
	serve_json_kstr(j, "value", id);
	serve_json_close(j, '}');
	serve_json_key(j, "identifier");
	serve_json_open(j, '[');
	serve_json_open(j, '{');
	serve_json_kstr(j, "system", SERVE_SD_BASE "set-id");
	serve_json_kstr(j, "value", carnet_results_field(res, i, CARNET_FIELD_SET_ID));
	serve_json_close(j, '}');
	serve_json_close(j, ']');
	serve_json_kstr(j, "status", "current");
	serve_json_key(j, "type");
	coding(j, loinc ? LOINC : NULL, type, carnet_results_field(res, i, CARNET_FIELD_TYPE_LABEL));
	if (fhir_id(id))
		serve_json_kstr(j, "id", id);
	if (*cls) {
		serve_json_key(j, "category");
		serve_json_open(j, '[');
		coding(j, CLASS_SYSTEM, cls, NULL);
		serve_json_close(j, ']');
	}
	if (*date) {
		char instant[32];
		snprintf(instant, sizeof instant, "%sT00:00:00Z", date);
		serve_json_kstr(j, "date", instant);
		serve_json_key(j, "context");
		serve_json_open(j, '{');
		serve_json_key(j, "period");
		serve_json_open(j, '{');
		serve_json_kstr(j, "start", date);
		serve_json_close(j, '}');
		serve_json_close(j, '}');
	}
	author(j, res, i);
	security_labels(j, carnet_results_field(res, i, CARNET_FIELD_CONFIDENTIALITY));
	if (*title)
		serve_json_kstr(j, "description", title);
	content_and_extensions(j, res, i, s, base);
	serve_json_close(j, '}');
}

/* The self, next and previous links of a page. */
static void page_link(serve_json *j, const char *rel, const serve_search *s,
		      const char *base, unsigned offset)
{
	char url[16384], v[1200];
	int n = snprintf(url, sizeof url, "%s/DocumentReference?", base);
	qencode(v, sizeof v, s->patient_param);
	n += snprintf(url + n, sizeof url - (size_t)n, "patient.identifier=%s", v);
	const carnet_request *r = &s->req;
	if (r->words && *r->words && (size_t)n < sizeof url) {
		char w[CARNET_WORDS_MAX * 3 + 1];
		qencode(w, sizeof w, r->words);
		n += snprintf(url + n, sizeof url - (size_t)n, "&_text=%s", w);
	}
	const char *const *lists[3] = { r->types, r->classes, r->author_specialties };
	const size_t counts[3] = { r->types_count, r->classes_count, r->author_specialties_count };
	static const char *names[3] = { "type", "category", "author.specialty" };
	for (int g = 0; g < 3; g++)
		for (size_t i = 0; i < counts[g] && (size_t)n < sizeof url; i++) {
			qencode(v, sizeof v, lists[g][i]);
			n += snprintf(url + n, sizeof url - (size_t)n, "&%s=%s", names[g], v);
		}
	if (r->since && (size_t)n < sizeof url)
		n += snprintf(url + n, sizeof url - (size_t)n, "&date=ge%s", r->since);
	if (r->until && (size_t)n < sizeof url)
		n += snprintf(url + n, sizeof url - (size_t)n, "&date=le%s", r->until);
	if ((size_t)n < sizeof url)
		snprintf(url + n, sizeof url - (size_t)n, "&_count=%u&_offset=%u%s%s", r->limit,
			 offset, s->count_only ? "&_summary=count" : "",
			 r->flags & CARNET_REQUEST_EMERGENCY ? "&_emergency=true" : "");
	serve_json_open(j, '{');
	serve_json_kstr(j, "relation", rel);
	serve_json_kstr(j, "url", url);
	serve_json_close(j, '}');
}

int serve_bundle(serve_answer *a, const serve_search *s, const carnet_results *res,
		 const char *base)
{
	uint64_t total = carnet_results_total(res);
	const carnet_request *r = &s->req;
	serve_json j = { 0 };
	serve_json_open(&j, '{');
	serve_json_kstr(&j, "resourceType", "Bundle");
	serve_json_kstr(&j, "type", "searchset");
	serve_json_key(&j, "total");
	serve_json_int(&j, (long long)total);
	serve_json_key(&j, "link");
	serve_json_open(&j, '[');
	page_link(&j, "self", s, base, r->offset);
	if (!s->count_only && (uint64_t)r->offset + r->limit < total &&
	    r->offset + r->limit <= CARNET_OFFSET_MAX)
		page_link(&j, "next", s, base, r->offset + r->limit);
	if (!s->count_only && r->offset > 0)
		page_link(&j, "previous", s, base, r->offset > r->limit ? r->offset - r->limit : 0);
	serve_json_close(&j, ']');
	if (!s->count_only) {
		serve_json_key(&j, "entry");
		serve_json_open(&j, '[');
		for (size_t i = 0; i < carnet_results_count(res); i++) {
			const char *id = carnet_results_field(res, i, CARNET_FIELD_ID);
			serve_json_open(&j, '{');
			serve_json_key(&j, "resource");
			document_reference(&j, res, i, s, base);
			serve_json_key(&j, "search");
			serve_json_open(&j, '{');
			serve_json_kstr(&j, "mode", "match");
			serve_json_key(&j, "score");
			serve_json_real(&j, carnet_results_score(res, i));
			serve_json_close(&j, '}');
			if (fhir_id(id)) {
				char full[600];
				snprintf(full, sizeof full, "%s/DocumentReference/%s", base, id);
				serve_json_kstr(&j, "fullUrl", full);
			}
			serve_json_close(&j, '}');
		}
		serve_json_close(&j, ']');
	}
	serve_json_close(&j, '}');
	serve_json_answer(a, 200, &j);
	return a->status == 200 ? 0 : -1;
}
