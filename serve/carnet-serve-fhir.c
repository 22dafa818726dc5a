/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-fhir.c - FHIR R4 JSON: the ITI-67 search parameters read
 * into a carnet request, the CapabilityStatement, OperationOutcomes (the
 * searchset Bundle of a search's results: carnet-serve-bundle.c). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"


void serve_set_json(serve_answer *a, unsigned status, json_t *o)
{
	free(a->body);
	a->body = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	a->len = a->body ? strlen(a->body) : 0;
	a->status = a->body ? status : 500;
	a->content_type = SERVE_FHIR_JSON;
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
