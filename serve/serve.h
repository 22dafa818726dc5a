/* SPDX-License-Identifier: GPL-2.0-or-later */
/* serve.h - what the parts of carnet-serve share: its configuration, the
 * caller's identity from a token, the FHIR answers, the metrics. */
#ifndef CARNET_SERVE_H
#define CARNET_SERVE_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "carnet.h"

/* How far exp and nbf may be off the server's clock, in seconds. */
#define SERVE_LEEWAY_SECONDS 60
/* Most query parameters one request may carry. */
#define SERVE_PARAMS_MAX 64
/* Longest URI and headers (all of them, as sent) a request may carry;
 * over them, 414 and 431 as OperationOutcomes. Over the connection's
 * memory (--memory-limit) libmicrohttpd answers 414 or 431 itself. */
#define SERVE_URI_MAX 8192
#define SERVE_HEADERS_MAX 16384
/* Largest document ITI-68 serves (the indexer reads at most 64 MiB). */
#define SERVE_DOCUMENT_MAX ((size_t)64 << 20)

/* The extensions carnet adds to a DocumentReference live under this URL:
 * carnet.example is the project's placeholder domain (RFC 2606). */
#define SERVE_SD_BASE "https://carnet.example/fhir/StructureDefinition/"

/* Where each claim of the token is read (a path: names separated by
 * '.', an array element as name[N]). */
typedef struct serve_claims {
	const char *viewer_id;
	const char *profession;
	const char *specialty;
	const char *role;
	const char *patient;
} serve_claims;

typedef struct serve_config {
	const char *index;
	const char *listen;
	const char *jwks;
	const char *issuer;
	const char *audience;
	const char *tls_cert;
	const char *tls_key;
	const char *client_ca;
	const char *base_url; /* the public URL of /fhir's parent, or NULL */
	int insecure_loopback;
	unsigned threads;
	unsigned max_connections;
	unsigned timeout_seconds;
	size_t memory_limit;
	unsigned refusal_log_rate; /* rows a second for unidentified refusals; 0: all */
	serve_claims claims;
} serve_config;

/* ---- tokens (carnet-serve-auth.c) ---- */

typedef struct serve_keys serve_keys;

/* Read the JWKS file: every RSA or EC P-256 signing key with a kid.
 * Returns 0, or -1 with the reason (naming the file) in why. */
int serve_keys_load(serve_keys **out, const char *path, char *why, size_t whysz);
void serve_keys_free(serve_keys *k);

/* Who is asking, from a verified token. Empty strings when absent. */
typedef struct serve_identity {
	carnet_role role;
	char viewer_id[129];
	char profession[33];
	char specialty[33];
	char patient[300]; /* patient_identifier, "urn:oid:OID|ID" */
} serve_identity;

/* Check an Authorization header value ("Bearer JWT") against the keys,
 * the issuer, the audience and the time now; fill *id from the claims.
 * Returns 0, or -1 with the reason (never the token) in why. */
int serve_token_check(const serve_keys *k, const serve_config *cfg,
		      const char *authorization, time_t now, serve_identity *id,
		      char *why, size_t whysz);

/* ---- FHIR (carnet-serve-fhir.c) ---- */

/* An HTTP answer being built: status, body (owned), content type. */
typedef struct serve_answer {
	unsigned status;
	char *body;
	size_t len;
	const char *content_type;
	int auth_failed; /* add WWW-Authenticate */
} serve_answer;

/* The page (carnet-serve-page.c): when url is the page or one of its
 * assets, fill a with it and return 1; 0 when it is not; -1 out of
 * memory. */
int serve_page(const char *url, serve_answer *a);

/* The length of the valid UTF-8 sequence at u (1 to 4), or 0 when the
 * bytes there are not one (NUL is a sequence of 1). */
size_t serve_utf8_seq(const unsigned char *u);

/* An OperationOutcome with one issue (code: FHIR issue type); bytes of
 * the diagnostics that are not UTF-8 are written '?'. */
void serve_outcome(serve_answer *a, unsigned status, const char *code,
		   const char *diagnostics);

/* The query parameters of a request, as MHD hands them (decoded). */
typedef struct serve_param {
	const char *key;
	const char *value;
} serve_param;

/* A FHIR search turned into a carnet request, and what it keeps. */
typedef struct serve_search {
	carnet_request req;
	const char *types[CARNET_CODES_MAX];
	const char *classes[CARNET_CODES_MAX];
	const char *specialties[CARNET_CODES_MAX];
	char patient_system[160];
	char patient_id[160];
	char since[11], until[11];
	struct serve_kept *scratch; /* copies of the parameter values split */
	int count_only;   /* _summary=count */
	int html;         /* _format=html (a CDA document rendered) */
	char patient_param[300];
} serve_search;

/* Read the ITI-67 parameters (strict: Prefer handling=strict) into
 * s->req. Returns 0, or an HTTP status with *a filled. */
unsigned serve_search_parse(serve_search *s, const serve_param *p, size_t n,
			    int strict, int binary, serve_answer *a);
void serve_search_clear(serve_search *s);

/* Parse "urn:oid:OID|ID" (or "|ID", or "ID") into system and id.
 * Returns 0 or -1. */
int serve_patient_parse(const char *v, char *system, size_t ssz, char *id, size_t isz);

/* The searchset Bundle of results (base: the public URL of /fhir). */
int serve_bundle(serve_answer *a, const serve_search *s, const carnet_results *res,
		 const char *base);

/* Answer with the JSON of o (taken) and status; 500 out of memory. */
void serve_set_json(serve_answer *a, unsigned status, json_t *o);

#define SERVE_FHIR_JSON "application/fhir+json; charset=utf-8"

/* JSON written straight into a buffer (carnet-serve-json.c), the text
 * json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) gives for the same members
 * in the same order. Start from { 0 }; open and close with '{' '}' or
 * '[' ']'; in an object, a key before each value. Out of memory (or a
 * real that is not finite) is kept in failed and ends in a 500. */
typedef struct serve_json {
	char *b;
	size_t len, cap;
	int more; /* the container open has a member already: a comma next */
	int failed;
} serve_json;

void serve_json_open(serve_json *j, char c);
void serve_json_close(serve_json *j, char c);
void serve_json_key(serve_json *j, const char *key);
void serve_json_str(serve_json *j, const char *v);
void serve_json_int(serve_json *j, long long v);
void serve_json_real(serve_json *j, double v);
/* key and string value */
void serve_json_kstr(serve_json *j, const char *key, const char *v);
/* Answer with the text of j (taken: j is left empty) and status, as
 * FHIR JSON; 500 when j failed. */
void serve_json_answer(serve_answer *a, unsigned status, serve_json *j);

/* The searchset Bundle of a results panel: each analyte's newest max
 * values as Observations (carnet-serve-results.c). 0, or -1 out of
 * memory. */
int serve_observations(serve_answer *a, const serve_search *s, const carnet_panel *p,
		       unsigned max, const char *base);

/* The $facets answer: a Parameters resource with the total and, per
 * class, type, author specialty and year found, its count
 * (carnet-serve-facets.c). 0, or -1 out of memory. */
int serve_facets(serve_answer *a, const carnet_results *res);

/* A CDA document (xml, len bytes) rendered as a standalone HTML page
 * (carnet-serve-cda.c): its header and sections, every text escaped, no
 * script, style or external resource. 0 and *html (malloc'd, *html_len
 * bytes); 1 when the bytes are not a CDA document; -1 out of memory or
 * over the size of a rendering. */
int serve_cda_html(const char *xml, size_t len, char **html, size_t *html_len);
/* The PDF a CDA document's nonXMLBody carries (base64), decoded: 1 and
 * *pdf (malloc'd), or 0 when it carries none. */
int serve_cda_pdf(const char *xml, size_t len, char **pdf, size_t *pdf_len);

/* The bytes of a file, if it is a regular file of at most
 * SERVE_DOCUMENT_MAX bytes (with room for a NUL after them), or NULL. */
char *serve_read_file(const char *path, size_t *len);
/* Fill a with the document read from src (carnet-serve-binary.c): its
 * bytes and content type, or with html a CDA document's rendering. 0; 1
 * when the file is not served (missing, not a regular file, too large, a
 * FHIR file of several documents); -1 with a filled with a 500. */
int serve_document(serve_answer *a, const char *src, int html);

/* The CapabilityStatement. */
void serve_capability(serve_answer *a, const char *base);

/* The content type of a document file, from its name and first bytes. */
const char *serve_content_type(const char *path, const char *head, size_t n);

/* ---- metrics (carnet-serve-metrics.c) ---- */

typedef enum serve_route {
	ROUTE_METADATA, ROUTE_SEARCH, ROUTE_BINARY, ROUTE_HEALTHZ, ROUTE_METRICS,
	ROUTE_PAGE, ROUTE_RESULTS, ROUTE_FACETS, ROUTE_OTHER, ROUTES
} serve_route;

void serve_metrics_request(serve_route r, unsigned status, double seconds);
void serve_metrics_log_failure(void);
/* The Prometheus text, with the index's figures (idx may be NULL). */
int serve_metrics_text(serve_answer *a, carnet_index *idx);

/* ---- refusals of unidentified requests (carnet-serve-limit.c) ---- */

/* Refusals counted instead of written one by one. */
typedef struct serve_held {
	unsigned long count;
	char from[32], to[32]; /* UTC times of the first and the last */
} serve_held;

/* May this refusal (made before a token was verified) have its own row,
 * at most rate a second (bursts of 10 rate; 0: every one)? 1: yes, and
 * *before says how many were held back since the last row (their
 * summary row comes first); 0: no, it was counted. */
int serve_refusal_admit(unsigned rate, serve_held *before);
/* What is held back, now (the service stops); the count starts again. */
void serve_refusal_take_held(serve_held *out);
unsigned long serve_refusals_held_total(void);

/* ---- the router (carnet-serve-haproxy.c) ---- */

/* carnet-serve --haproxy-config N ...: print the HAProxy configuration;
 * returns the exit status (2 for a usage error, said on stderr). */
int serve_haproxy_main(int argc, char **argv);

/* ---- the HTTP side (carnet-serve-http.c) ---- */

typedef struct serve_server serve_server;

/* Start listening (prints "listening on URL" on stdout). Returns 0, or
 * -1 with the reason in why. */
int serve_start(serve_server **out, const serve_config *cfg, const serve_keys *keys,
		char *why, size_t whysz);
/* Stop taking connections, let those in flight finish (at most
 * drain_seconds), and stop. */
void serve_stop(serve_server *s, unsigned drain_seconds);

#endif
