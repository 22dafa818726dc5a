/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-fhir.c - FHIR R4 JSON: the ITI-67 search parameters read
 * into a carnet request, the searchset Bundle of its results, the
 * CapabilityStatement, OperationOutcomes. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

#define FHIR_JSON "application/fhir+json; charset=utf-8"
#define LOINC "http://loinc.org"
#define CLASS_SYSTEM "urn:oid:1.2.250.1.213.1.1.4.1" /* TRE_A03 classe de document */
#define RPPS_SYSTEM "urn:oid:1.2.250.1.71.4.2.1"     /* identifiant national des PS */
#define HL7_CONF "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

void serve_set_json(serve_answer *a, unsigned status, json_t *o)
{
	free(a->body);
	a->body = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	a->len = a->body ? strlen(a->body) : 0;
	a->status = a->body ? status : 500;
	a->content_type = FHIR_JSON;
	json_decref(o);
}

size_t serve_utf8_seq(const unsigned char *u)
{
	if (u[0] < 0x80)
		return 1;
	size_t n = u[0] >= 0xC2 && u[0] <= 0xDF ? 2 : u[0] >= 0xE0 && u[0] <= 0xEF ? 3
		   : u[0] >= 0xF0 && u[0] <= 0xF4 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if ((u[i] & 0xC0) != 0x80)
			return 0;
	/* no overlong form, no surrogate, nothing above U+10FFFF */
	if ((u[0] == 0xE0 && u[1] < 0xA0) || (u[0] == 0xED && u[1] >= 0xA0) ||
	    (u[0] == 0xF0 && u[1] < 0x90) || (u[0] == 0xF4 && u[1] >= 0x90))
		return 0;
	return n;
}

/* Copy s, each byte that is not part of a valid UTF-8 sequence (a
 * parameter's bytes, or one cut short) replaced by '?'. */
static void utf8_copy(char *out, size_t outsz, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t o = 0;
	while (*u && o + 5 < outsz) {
		size_t n = serve_utf8_seq(u);
		if (n == 0) {
			out[o++] = '?';
			u++;
			continue;
		}
		memcpy(out + o, u, n);
		o += n;
		u += n;
	}
	out[o] = '\0';
}

void serve_outcome(serve_answer *a, unsigned status, const char *code,
		   const char *diagnostics)
{
	char text[600];
	utf8_copy(text, sizeof text, diagnostics);
	json_t *o = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "resourceType", "OperationOutcome",
			      "issue", "severity", status >= 500 ? "fatal" : "error", "code", code,
			      "diagnostics", text);
	serve_set_json(a, status, o);
}

static unsigned bad(serve_answer *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static unsigned bad(serve_answer *a, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	serve_outcome(a, 400, "invalid", msg);
	return 400;
}

int serve_patient_parse(const char *v, char *system, size_t ssz, char *id, size_t isz)
{
	const char *bar = strchr(v, '|');
	system[0] = '\0';
	if (bar) {
		size_t n = (size_t)(bar - v);
		if (n) {
			if (n <= 8 || strncmp(v, "urn:oid:", 8) != 0 || n - 8 >= ssz)
				return -1;
			memcpy(system, v + 8, n - 8);
			system[n - 8] = '\0';
		}
		v = bar + 1;
	}
	if (!*v || strlen(v) >= isz || strchr(v, '|'))
		return -1;
	snprintf(id, isz, "%s", v);
	return 0;
}

/* A copy of v kept until the search is cleared. */
struct serve_kept {
	struct serve_kept *next;
	char text[];
};

static char *keep(serve_search *s, const char *v)
{
	size_t n = strlen(v);
	struct serve_kept *k = malloc(sizeof *k + n + 1);
	if (!k)
		return NULL;
	memcpy(k->text, v, n + 1);
	k->next = s->scratch;
	s->scratch = k;
	return k->text;
}

/* Split a comma-separated token list into codes (the part after '|'). */
static unsigned codes(serve_search *s, const char *v, const char **out, size_t *n,
		      const char *name, serve_answer *a)
{
	char *copy = keep(s, v);
	if (!copy)
		return serve_outcome(a, 500, "exception", "out of memory"), 500;
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *bar = strchr(t, '|');
		char *code = bar ? bar + 1 : t;
		if (!*code || *n == CARNET_CODES_MAX)
			return bad(a, "bad %s: an empty code, or more than 64 codes", name);
		out[(*n)++] = code;
	}
	return 0;
}

void serve_search_clear(serve_search *s)
{
	while (s->scratch) {
		struct serve_kept *k = s->scratch;
		s->scratch = k->next;
		free(k);
	}
}

static int valid_date(const char *d)
{
	return strlen(d) == 10 && d[4] == '-' && d[7] == '-' &&
	       strspn(d, "0123456789-") == 10;
}

/* date=geYYYY-MM-DD, leYYYY-MM-DD, or eqYYYY-MM-DD / YYYY-MM-DD. */
static unsigned date_param(serve_search *s, const char *v, serve_answer *a)
{
	const char *d = v;
	int ge = 1, le = 1;
	if (!strncmp(v, "ge", 2) || !strncmp(v, "le", 2) || !strncmp(v, "eq", 2)) {
		ge = v[0] != 'l';
		le = v[0] != 'g';
		d = v + 2;
	}
	if (!valid_date(d))
		return bad(a, "bad date %s: ge, le or eq and YYYY-MM-DD", v);
	if (ge)
		memcpy(s->since, d, 11);
	if (le)
		memcpy(s->until, d, 11);
	return 0;
}

static unsigned number_param(unsigned *out, const char *v, unsigned lo, unsigned hi,
			     const char *name, serve_answer *a)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (!*v || *end || v[0] == '-' || v[0] == '+' || n < lo || n > hi) {
		char msg[200];
		snprintf(msg, sizeof msg, "bad %s %.20s: a number from %u to %u", name, v, lo, hi);
		serve_outcome(a, 400, "invalid", msg);
		return 400;
	}
	*out = (unsigned)n;
	return 0;
}

/* One parameter; returns 0, a status, or 1 for an unknown parameter. */
static unsigned one_param(serve_search *s, const serve_param *p, serve_answer *a)
{
	const char *k = p->key, *v = p->value ? p->value : "";
	carnet_request *r = &s->req;
	if (!strcmp(k, "patient.identifier")) {
		if (s->patient_param[0])
			return bad(a, "%s given twice", k);
		if (strlen(v) >= sizeof s->patient_param ||
		    serve_patient_parse(v, s->patient_system, sizeof s->patient_system,
					s->patient_id, sizeof s->patient_id))
			return bad(a, "bad %s: urn:oid:OID|ID", k);
		snprintf(s->patient_param, sizeof s->patient_param, "%s", v);
		return 0;
	}
	if (!strcmp(k, "status")) {
		/* any of the statuses listed: current is the one served */
		size_t n = strlen(v);
		for (const char *t = v; t < v + n; t += strcspn(t, ",") + 1)
			if (strcspn(t, ",") == 7 && !strncmp(t, "current", 7))
				return 0;
		return bad(a, "status: only current documents are served");
	}
	if (!strcmp(k, "type"))
		return codes(s, v, s->types, &r->types_count, k, a);
	if (!strcmp(k, "category"))
		return codes(s, v, s->classes, &r->classes_count, k, a);
	if (!strcmp(k, "author.specialty"))
		return codes(s, v, s->specialties, &r->author_specialties_count, k, a);
	if (!strcmp(k, "date"))
		return date_param(s, v, a);
	if (!strcmp(k, "_text")) {
		if (r->words)
			return bad(a, "%s given twice", k);
		r->words = v;
		return 0;
	}
	if (!strcmp(k, "_count"))
		return number_param(&r->limit, v, 1, CARNET_HITS_MAX, k, a);
	if (!strcmp(k, "_offset"))
		return number_param(&r->offset, v, 0, CARNET_OFFSET_MAX, k, a);
	if (!strcmp(k, "_summary")) {
		if (strcmp(v, "count") && strcmp(v, "false"))
			return bad(a, "_summary: count or false");
		s->count_only = !strcmp(v, "count");
		return 0;
	}
	if (!strcmp(k, "_emergency")) {
		if (strcmp(v, "true") && strcmp(v, "false"))
			return bad(a, "_emergency: true or false");
		if (!strcmp(v, "true"))
			r->flags |= CARNET_REQUEST_EMERGENCY;
		return 0;
	}
	if (!strcmp(k, "_format")) {
		/* JSON is the only resource format; html asks for a CDA
		 * document rendered (Binary) */
		s->html = !strcmp(v, "html") || !strcmp(v, "text/html");
		return 0;
	}
	return 1;
}

unsigned serve_search_parse(serve_search *s, const serve_param *p, size_t n,
			    int strict, int binary, serve_answer *a)
{
	memset(s, 0, sizeof *s);
	s->req = (carnet_request)CARNET_REQUEST_INIT;
	s->req.types = s->types;
	s->req.classes = s->classes;
	s->req.author_specialties = s->specialties;
	if (n > SERVE_PARAMS_MAX)
		return bad(a, "too many parameters (at most %d)", SERVE_PARAMS_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned st = one_param(s, &p[i], a);
		if (st == 1 && strict)
			return bad(a, "unknown parameter %.100s (Prefer: handling=strict)", p[i].key);
		if (st == 1 && binary)
			continue;
		if (st > 1)
			return st;
		if (binary && strcmp(p[i].key, "patient.identifier") && strcmp(p[i].key, "_emergency") &&
		    strcmp(p[i].key, "_format"))
			return bad(a, "%.100s: a document is asked for by its patient alone",
				   p[i].key);
	}
	if (!s->patient_param[0])
		return bad(a, "patient.identifier is required (urn:oid:OID|ID)");
	s->req.patient_id = s->patient_id;
	s->req.patient_system = s->patient_system[0] ? s->patient_system : NULL;
	s->req.since = s->since[0] ? s->since : NULL;
	s->req.until = s->until[0] ? s->until : NULL;
	if (s->count_only)
		s->req.flags |= CARNET_REQUEST_NO_SNIPPETS;
	return 0;
}

/* ---- the Bundle ---- */

static json_t *coding(const char *system, const char *code, const char *display)
{
	json_t *c = json_pack("{s:s}", "code", code);
	if (system)
		json_object_set_new(c, "system", json_string(system));
	if (display && *display)
		json_object_set_new(c, "display", json_string(display));
	return json_pack("{s:[o]}", "coding", c);
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

static json_t *security_labels(const char *codes)
{
	json_t *arr = json_array();
	char copy[256], *save = NULL;
	snprintf(copy, sizeof copy, "%s", codes);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		int hl7 = strlen(t) == 1 && strchr("ULMNRV", t[0]);
		json_t *c = json_pack("{s:s}", "code", t);
		if (hl7)
			json_object_set_new(c, "system", json_string(HL7_CONF));
		json_array_append_new(arr, json_pack("{s:[o]}", "coding", c));
	}
	return arr;
}

/* carnet's explanation: the three parts of the score, and what they
 * are made of. */
static json_t *explanation(const carnet_results *res, size_t i)
{
	static const struct { const char *name; carnet_part part; } parts[] = {
		{ "text", CARNET_PART_TEXT }, { "specialty", CARNET_PART_SPECIALTY },
		{ "recency", CARNET_PART_RECENCY }, { "textRelevance", CARNET_PART_TEXT_RAW },
		{ "affinity", CARNET_PART_AFFINITY }, { "ageDays", CARNET_PART_AGE_DAYS },
	};
	json_t *ext = json_array();
	for (size_t j = 0; j < sizeof parts / sizeof *parts; j++)
		json_array_append_new(ext, json_pack("{s:s, s:f}", "url", parts[j].name,
						     "valueDecimal",
						     carnet_results_part(res, i, parts[j].part)));
	return json_pack("{s:s, s:o}", "url", SERVE_SD_BASE "carnet-score", "extension", ext);
}

static json_t *author(const carnet_results *res, size_t i)
{
	const char *spec = carnet_results_field(res, i, CARNET_FIELD_AUTHOR_SPECIALTY);
	const char *aid = carnet_results_field(res, i, CARNET_FIELD_AUTHOR_ID);
	json_t *role = json_pack("{s:s, s:s}", "resourceType", "PractitionerRole", "id", "author");
	if (*aid)
		json_object_set_new(role, "practitioner",
				    json_pack("{s:{s:s, s:s}}", "identifier", "system",
					      RPPS_SYSTEM, "value", aid));
	if (*spec)
		json_object_set_new(role, "specialty", json_pack("[o]", coding(NULL, spec,
			carnet_results_field(res, i, CARNET_FIELD_AUTHOR_SPECIALTY_LABEL))));
	return role;
}

static json_t *document_reference(const carnet_results *res, size_t i, const serve_search *s,
				  const char *base)
{
	const char *id = carnet_results_field(res, i, CARNET_FIELD_ID);
	const char *type = carnet_results_field(res, i, CARNET_FIELD_TYPE);
	const char *title = carnet_results_field(res, i, CARNET_FIELD_TITLE);
	const char *date = carnet_results_field(res, i, CARNET_FIELD_DATE);
	const char *cls = carnet_results_field(res, i, CARNET_FIELD_CLASS);
	const char *source = carnet_results_field(res, i, CARNET_FIELD_SOURCE);
	char url[1500], eid[400], epat[900], instant[32];
	qencode(eid, sizeof eid, id);
	qencode(epat, sizeof epat, s->patient_param);
	snprintf(url, sizeof url, "%s/Binary/%s?patient.identifier=%s", base, eid, epat);
	int loinc = strspn(type, "0123456789-") == strlen(type) && strchr(type, '-');
	json_t *d = json_pack("{s:s, s:{s:s}, s:[{s:s, s:s}], s:s, s:o}",
			      "resourceType", "DocumentReference", "masterIdentifier", "value", id,
			      "identifier", "system", SERVE_SD_BASE "set-id", "value",
			      carnet_results_field(res, i, CARNET_FIELD_SET_ID),
			      "status", "current",
			      "type", coding(loinc ? LOINC : NULL, type,
					     carnet_results_field(res, i, CARNET_FIELD_TYPE_LABEL)));
	if (fhir_id(id))
		json_object_set_new(d, "id", json_string(id));
	if (*cls)
		json_object_set_new(d, "category", json_pack("[o]", coding(CLASS_SYSTEM, cls, NULL)));
	if (*date) {
		snprintf(instant, sizeof instant, "%sT00:00:00Z", date);
		json_object_set_new(d, "date", json_string(instant));
		json_object_set_new(d, "context", json_pack("{s:{s:s}}", "period", "start", date));
	}
	json_object_set_new(d, "contained", json_pack("[o]", author(res, i)));
	json_object_set_new(d, "author", json_pack("[{s:s}]", "reference", "#author"));
	json_t *labels = security_labels(carnet_results_field(res, i,
							      CARNET_FIELD_CONFIDENTIALITY));
	if (json_array_size(labels))
		json_object_set(d, "securityLabel", labels);
	json_decref(labels);
	if (*title)
		json_object_set_new(d, "description", json_string(title));
	json_t *att = json_pack("{s:s, s:s}", "contentType",
				serve_content_type(source, NULL, 0), "url", url);
	if (*title)
		json_object_set_new(att, "title", json_string(title));
	json_object_set_new(d, "content", json_pack("[{s:o}]", "attachment", att));
	json_t *ext = json_pack("[o, {s:s, s:i}]", explanation(res, i), "url",
				SERVE_SD_BASE "document-version", "valueInteger",
				carnet_results_version(res, i));
	const char *snip = carnet_results_snippet(res, i);
	if (snip && *snip)
		json_array_append_new(ext, json_pack("{s:s, s:s}", "url",
						     SERVE_SD_BASE "carnet-snippet",
						     "valueString", snip));
	json_object_set_new(d, "extension", ext);
	return d;
}

/* The self, next and previous links of a page. */
static void page_link(json_t *links, const char *rel, const serve_search *s,
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
	json_array_append_new(links, json_pack("{s:s, s:s}", "relation", rel, "url", url));
}

int serve_bundle(serve_answer *a, const serve_search *s, const carnet_results *res,
		 const char *base)
{
	uint64_t total = carnet_results_total(res);
	const carnet_request *r = &s->req;
	json_t *b = json_pack("{s:s, s:s, s:I}", "resourceType", "Bundle", "type", "searchset",
			      "total", (json_int_t)total);
	json_t *links = json_array();
	page_link(links, "self", s, base, r->offset);
	if (!s->count_only && (uint64_t)r->offset + r->limit < total &&
	    r->offset + r->limit <= CARNET_OFFSET_MAX)
		page_link(links, "next", s, base, r->offset + r->limit);
	if (!s->count_only && r->offset > 0)
		page_link(links, "previous", s, base, r->offset > r->limit ? r->offset - r->limit : 0);
	json_object_set_new(b, "link", links);
	if (!s->count_only) {
		json_t *entries = json_array();
		for (size_t i = 0; i < carnet_results_count(res); i++) {
			json_t *d = document_reference(res, i, s, base);
			json_t *e = json_pack("{s:o, s:{s:s, s:f}}", "resource", d, "search",
					      "mode", "match", "score", carnet_results_score(res, i));
			const char *id = carnet_results_field(res, i, CARNET_FIELD_ID);
			if (fhir_id(id)) {
				char full[600];
				snprintf(full, sizeof full, "%s/DocumentReference/%s", base, id);
				json_object_set_new(e, "fullUrl", json_string(full));
			}
			json_array_append_new(entries, e);
		}
		json_object_set_new(b, "entry", entries);
	}
	serve_set_json(a, 200, b);
	return a->status == 200 ? 0 : -1;
}

void serve_capability(serve_answer *a, const char *base)
{
	static const char *const params[][2] = {
		{ "patient.identifier", "token" }, { "status", "token" }, { "type", "token" },
		{ "category", "token" }, { "date", "date" }, { "author.specialty", "token" },
		{ "_text", "string" }, { "_count", "number" }, { "_offset", "number" },
		{ "_emergency", "token" },
	};
	json_t *sp = json_array();
	for (size_t i = 0; i < sizeof params / sizeof *params; i++)
		json_array_append_new(sp, json_pack("{s:s, s:s}", "name", params[i][0],
						    "type", params[i][1]));
	json_t *docref = json_pack("{s:s, s:[{s:s}], s:o, s:[{s:s, s:s, s:s}]}", "type",
				   "DocumentReference", "interaction", "code", "search-type",
				   "searchParam", sp, "operation", "name", "facets", "definition",
				   "https://carnet.example/fhir/OperationDefinition/"
				   "DocumentReference-facets",
				   "documentation", "GET DocumentReference/$facets with the search's "
				   "parameters: a Parameters resource with the total and the count "
				   "of each category, type, author.specialty and year found");
	json_t *binary = json_pack("{s:s, s:[{s:s, s:s}]}", "type", "Binary", "interaction",
				   "code", "read", "documentation", "the document's own bytes; "
				   "with _format=html, a CDA document rendered as a page (its "
				   "PDF body, when it carries one)");
	json_t *security = json_pack("{s:[{s:[{s:s, s:s}]}], s:s}", "service", "coding",
				     "system", "http://terminology.hl7.org/CodeSystem/"
				     "restful-security-service", "code", "OAuth",
				     "description", "a bearer JWT (RS256 or ES256) on every "
				     "request but metadata");
	json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:[s],"
			      " s:[{s:s, s:o, s:[o, o]}]}",
			      "resourceType", "CapabilityStatement", "status", "active",
			      "date", "2026-12-02", "kind", "instance", "fhirVersion", "4.0.1",
			      "software", "name", "carnet-serve", "version", CARNET_VERSION_STRING,
			      "implementation", "description", "carnet: one patient's documents, "
			      "ranked for the professional asking (IHE MHD Document Responder)",
			      "url", base, "format", "json",
			      "rest", "mode", "server", "security", security, "resource", docref,
			      binary);
	serve_set_json(a, 200, c);
}

const char *serve_content_type(const char *path, const char *head, size_t n)
{
	const char *dot = strrchr(path, '.');
	if (head && n >= 5 && memcmp(head, "%PDF-", 5) == 0)
		return "application/pdf";
	if (!dot)
		return "text/plain; charset=utf-8";
	if (!strcasecmp(dot, ".pdf"))
		return "application/pdf";
	if (!strcasecmp(dot, ".xml"))
		return "application/xml";
	if (!strcasecmp(dot, ".json"))
		return "application/fhir+json";
	if (!strcasecmp(dot, ".html") || !strcasecmp(dot, ".htm"))
		return "text/html; charset=utf-8";
	return "text/plain; charset=utf-8";
}
