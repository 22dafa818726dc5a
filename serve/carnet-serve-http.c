/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-http.c - the HTTP side of carnet-serve: libmicrohttpd in
 * thread-pool mode, one carnet_index handle per worker thread, the routes
 * (/fhir/metadata, ITI-67 search, ITI-68 Binary, /healthz, /metrics), the
 * token and client-certificate checks, the limits, the drain. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "serve.h"

struct serve_server {
	struct MHD_Daemon *d;
	const serve_config *cfg;
	const serve_keys *keys;
	char *cert, *key, *ca;
	int tls;
	char base[300]; /* the URL of /fhir, from the listen address */
	atomic_int ready; /* base is written (the port is known once the
			     daemon listens, and its threads already run) */
};

/* One request in progress. */
typedef struct reqctx {
	struct timespec start;
	serve_route route;
	unsigned status;
	int has_body;
	int uri_long;    /* the URI, as sent, is over SERVE_URI_MAX */
} reqctx;

/* ---- one handle per worker thread ---- */

static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void close_handle(void *h)
{
	carnet_index_close(h);
}

static void make_key(void)
{
	pthread_key_create(&handle_key, close_handle);
}

/* This thread's handle on the index, opened at its first request. */
static carnet_index *thread_index(const serve_config *cfg, carnet_error *err)
{
	pthread_once(&handle_once, make_key);
	carnet_index *idx = pthread_getspecific(handle_key);
	if (!idx && carnet_index_open(&idx, cfg->index, err) == CARNET_OK &&
	    pthread_setspecific(handle_key, idx) != 0) {
		carnet_index_close(idx);
		idx = NULL;
	}
	return idx;
}

/* ---- answers ---- */

static enum MHD_Result send_answer(struct MHD_Connection *c, reqctx *ctx, serve_answer *a)
{
	struct MHD_Response *r;
	if (!a->body) {
		serve_outcome(a, 500, "exception", "out of memory");
		if (!a->body)
			return MHD_NO;
	}
	r = MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_MUST_FREE);
	if (!r)
		return MHD_NO;
	a->body = NULL;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	/* the page loads only its own assets and shows documents from blobs;
	 * a document itself (Binary) runs nothing, whatever it holds */
	MHD_add_response_header(r, "Content-Security-Policy", ctx->route == ROUTE_BINARY
		? "sandbox; default-src 'none'"
		: "default-src 'self'; img-src 'self' data: blob:; frame-src blob:; "
		  "object-src blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (a->auth_failed)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer error=\"invalid_token\"");
	if (a->status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ctx->status = a->status;
	enum MHD_Result ok = MHD_queue_response(c, a->status, r);
	MHD_destroy_response(r);
	return ok;
}

/* Say why a request was refused on stderr (the service's own log: the
 * route and the reason, never a patient or a token). */
static void refused(const char *url, unsigned status, const char *why)
{
	fprintf(stderr, "carnet-serve: %u %.80s: %s\n", status, url, why);
}

/* ---- parameters ---- */

typedef struct param_list {
	serve_param p[SERVE_PARAMS_MAX + 1];
	size_t n;
	int bad_utf8;
} param_list;

static int valid_utf8(const unsigned char *s)
{
	for (size_t n; *s; s += n)
		if (!(n = serve_utf8_seq(s)))
			return 0;
	return 1;
}

/* Collect the parameters. Words that are not UTF-8 are left to the
 * library, which refuses them and writes the refusal to the access log. */
static enum MHD_Result take_param(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	param_list *ps = cls;
	(void)kind;
	if (!valid_utf8((const unsigned char *)key) ||
	    (value && strcmp(key, "_text") != 0 && !valid_utf8((const unsigned char *)value)))
		ps->bad_utf8 = 1;
	if (ps->n == SERVE_PARAMS_MAX + 1)
		return MHD_NO;
	ps->p[ps->n].key = key;
	ps->p[ps->n].value = value;
	ps->n++;
	return MHD_YES;
}

static int strict_handling(struct MHD_Connection *c)
{
	const char *prefer = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Prefer");
	return prefer && strstr(prefer, "handling=strict") != NULL;
}

/* ---- who is asking ---- */

static void set_viewer(carnet_request *r, const serve_identity *id)
{
	r->role = id->role;
	r->viewer_id = id->viewer_id[0] ? id->viewer_id : NULL;
	r->profession = id->profession[0] ? id->profession : NULL;
	r->specialty = id->specialty[0] ? id->specialty : NULL;
}

/* Write one refusal row with what is known of the request. */
static void write_refusal(const serve_config *cfg, const carnet_request *r, int identified,
			  int code, const char *reason)
{
	carnet_error err = { 0 };
	carnet_index *idx = thread_index(cfg, &err);
	if (!idx || carnet_index_access_log_refusal(idx, r, identified, code, reason, &err) !=
			    CARNET_OK) {
		serve_metrics_log_failure();
		fprintf(stderr, "carnet-serve: the access log did not take a refusal: %s\n",
			err.message);
	}
}

/* The row standing for the refusals held back (carnet-serve-limit.c). */
static void write_held(const serve_config *cfg, const serve_held *h)
{
	if (h->count == 0)
		return;
	char reason[300];
	snprintf(reason, sizeof reason, "carnet-serve: %lu refusals before a token was "
		 "verified, from %s to %s, not written one by one (over %u a second)",
		 h->count, h->from, h->to, cfg->refusal_log_rate);
	fprintf(stderr, "%s\n", reason);
	carnet_request r = CARNET_REQUEST_INIT;
	write_refusal(cfg, &r, 0, CARNET_E_DENIED, reason);
}

/* A refusal made here, before the library: said on stderr, and written to
 * the access log (carnet_index_access_log_refusal) with what is known of
 * the request: its patient when the parameter names one, the viewer when
 * the token was verified (id, or NULL). Refusals before a verified token
 * are written at most at --refusal-log-rate, the others counted. */
static void log_refusal(const serve_server *s, const char *url, const serve_identity *id,
			const char *patient, unsigned status, const char *why)
{
	serve_held before = { 0 };
	if (!id && !serve_refusal_admit(s->cfg->refusal_log_rate, &before))
		return;
	write_held(s->cfg, &before);
	refused(url, status, why);
	carnet_request r = CARNET_REQUEST_INIT;
	char system[160], pid[160], reason[300];
	if (patient && serve_patient_parse(patient, system, sizeof system, pid, sizeof pid) == 0) {
		r.patient_id = pid;
		r.patient_system = system[0] ? system : NULL;
	}
	if (id)
		set_viewer(&r, id);
	snprintf(reason, sizeof reason, "carnet-serve %u %s: %s", status, url, why);
	write_refusal(s->cfg, &r, id != NULL, status == 400 ? CARNET_E_INVALID : CARNET_E_DENIED,
		      reason);
}

/* The client certificate, when a CA is configured: present and signed
 * by it. */
static int client_cert_ok(const serve_server *s, struct MHD_Connection *c)
{
	if (!s->ca)
		return 1;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return 0;
	unsigned status = 0;
	unsigned n = 0;
	if (!gnutls_certificate_get_peers(ci->tls_session, &n) || n == 0)
		return 0;
	return gnutls_certificate_verify_peers2(ci->tls_session, &status) == 0 && status == 0;
}

/* The viewer of the token, or an answer refusing the request. */
static int authenticate(const serve_server *s, struct MHD_Connection *c, const char *url,
			const char *patient, serve_identity *id, serve_answer *a)
{
	char why[200];
	if (!client_cert_ok(s, c)) {
		log_refusal(s, url, NULL, patient, 403,
			    "no client certificate signed by the configured CA");
		serve_outcome(a, 403, "security", "a client certificate signed by the "
			      "configured CA is required");
		return -1;
	}
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	if (serve_token_check(s->keys, s->cfg, h, time(NULL), id, why, sizeof why)) {
		log_refusal(s, url, NULL, patient, 401, why);
		serve_outcome(a, 401, "login", why);
		a->auth_failed = 1;
		return -1;
	}
	return 0;
}

/* A patient's or representative's token reads its own patient only. */
static int own_patient(const serve_identity *id, const serve_search *s)
{
	if (id->role == CARNET_ROLE_PROFESSIONAL)
		return 1;
	char system[160], pid[160];
	if (serve_patient_parse(id->patient, system, sizeof system, pid, sizeof pid))
		return 0;
	return strcmp(system, s->patient_system) == 0 && strcmp(pid, s->patient_id) == 0;
}


/* A carnet status as HTTP. */
static void library_failure(serve_answer *a, const char *url, int rc, const carnet_error *e)
{
	unsigned st = 500;
	const char *code = "exception";
	switch (rc) {
	case CARNET_E_INVALID: case CARNET_E_QUERY: st = 400; code = "invalid"; break;
	case CARNET_E_DENIED: st = 403; code = "forbidden"; break;
	case CARNET_E_NOMEM: case CARNET_E_MODIFIED: case CARNET_E_LOCKED: case CARNET_E_NOTFOUND:
		st = 503; code = "transient"; break;
	default: break;
	}
	if ((rc == CARNET_E_IO || rc == CARNET_E_CORRUPT) && strstr(e->message, "access log"))
		serve_metrics_log_failure();
	refused(url, st, e->message);
	serve_outcome(a, st, code, st == 500 || st == 503 ? carnet_strerror(rc) : e->message);
}

/* ---- routes ---- */

/* Read the parameters (max, when not NULL, takes the $lastn operation's
 * own), check the token and the patient: q->req is the request, its
 * viewer in *id (which must outlive it). 0, or an answer filled. */
static int take_request(const serve_server *s, struct MHD_Connection *c, const char *url,
			int binary, unsigned *max, serve_identity *id, serve_search *q,
			serve_answer *a)
{
	param_list ps = { .n = 0 };
	memset(q, 0, sizeof *q);
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, take_param, &ps);
	const char *patient = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
							  "patient.identifier");
	if (authenticate(s, c, url, patient, id, a))
		return -1;
	if (ps.bad_utf8) {
		log_refusal(s, url, id, patient, 400, "a parameter is not valid UTF-8");
		serve_outcome(a, 400, "invalid", "a parameter is not valid UTF-8");
		return -1;
	}
	for (size_t i = 0; max && i < ps.n; i++) {
		if (strcmp(ps.p[i].key, "max") != 0)
			continue;
		char *end;
		unsigned long v = strtoul(ps.p[i].value, &end, 10);
		if (end == ps.p[i].value || *end || v < 1 || v > CARNET_SERIES_MAX) {
			log_refusal(s, url, id, patient, 400, "a bad max");
			serve_outcome(a, 400, "invalid", "max: a number of values from 1 to 100");
			return -1;
		}
		*max = (unsigned)v;
		ps.p[i] = ps.p[--ps.n]; /* not a search parameter */
		i--;
	}
	if (serve_search_parse(q, ps.p, ps.n, strict_handling(c), binary, a)) {
		log_refusal(s, url, id, patient, a->status, "a bad parameter");
		return -1;
	}
	if (!own_patient(id, q)) {
		log_refusal(s, url, id, patient, 403, "a patient's token asks for another patient");
		serve_outcome(a, 403, "forbidden", "this token may read its own patient only");
		return -1;
	}
	set_viewer(&q->req, id);
	return 0;
}

/* Read the parameters, check the token and the patient, and run the
 * search (a search for one document with binary). 0 and *res, or an
 * answer filled. */
static int run_search(const serve_server *s, struct MHD_Connection *c, const char *url,
		      const char *doc_id, int facets, serve_search *q, carnet_results **res,
		      serve_answer *a)
{
	serve_identity id;
	*res = NULL;
	if (take_request(s, c, url, doc_id != NULL, NULL, &id, q, a))
		return -1;
	if (facets) {
		/* counts over every hit, no document in the page (nor in the
		 * access log's row of the request) */
		q->req.flags |= CARNET_REQUEST_NO_SNIPPETS;
		q->req.limit = 1;
		q->req.offset = CARNET_OFFSET_MAX;
	}
	if (doc_id) {
		q->req.document_id = doc_id;
		q->req.flags |= CARNET_REQUEST_ALL_VERSIONS | CARNET_REQUEST_NO_SNIPPETS;
		q->req.limit = 1;
		q->req.offset = 0;
	}
	carnet_error err = { 0 };
	carnet_index *idx = thread_index(s->cfg, &err);
	int rc = idx ? carnet_index_search(res, idx, &q->req, &err)
		     : err.code ? err.code : CARNET_E_IO;
	if (rc) {
		library_failure(a, url, rc, &err);
		return -1;
	}
	return 0;
}

static void route_search(const serve_server *s, struct MHD_Connection *c, const char *url,
			 serve_answer *a)
{
	serve_search q;
	carnet_results *res;
	if (!run_search(s, c, url, NULL, 0, &q, &res, a))
		serve_bundle(a, &q, res, s->base);
	carnet_results_free(res);
	serve_search_clear(&q);
}

/* $facets: what the search would find, counted by class, type, author
 * specialty and year. */
static void route_facets(const serve_server *s, struct MHD_Connection *c, const char *url,
			 serve_answer *a)
{
	serve_search q;
	carnet_results *res;
	if (!run_search(s, c, url, NULL, 1, &q, &res, a) && serve_facets(a, res))
		serve_outcome(a, 500, "exception", "out of memory");
	carnet_results_free(res);
	serve_search_clear(&q);
}

/* $lastn: the patient's key results for the viewer (carnet_index_results),
 * each analyte's newest max values as Observations. */
static void route_results(const serve_server *s, struct MHD_Connection *c, const char *url,
			  serve_answer *a)
{
	serve_search q;
	serve_identity id;
	unsigned max = 1;
	if (take_request(s, c, url, 0, &max, &id, &q, a)) {
		serve_search_clear(&q);
		return;
	}
	carnet_error err = { 0 };
	carnet_index *idx = thread_index(s->cfg, &err);
	carnet_panel *p = NULL;
	int rc = idx ? carnet_index_results(&p, idx, &q.req, &err)
		     : err.code ? err.code : CARNET_E_IO;
	if (rc)
		library_failure(a, url, rc, &err);
	else if (serve_observations(a, &q, p, max, s->base))
		serve_outcome(a, 500, "exception", "out of memory");
	carnet_panel_free(p);
	serve_search_clear(&q);
}

static void route_binary(const serve_server *s, struct MHD_Connection *c, const char *url,
			 serve_answer *a)
{
	const char *id = url + strlen("/fhir/Binary/");
	serve_search q;
	carnet_results *res = NULL;
	memset(&q, 0, sizeof q);
	/* the id is everything after the prefix, '/' included (a CDA id's
	 * extension may hold one): it is only ever looked up in the index */
	if (!*id) {
		serve_outcome(a, 404, "not-found", "no such document");
	} else if (!run_search(s, c, "/fhir/Binary", id, 0, &q, &res, a)) {
		const char *src = carnet_results_count(res) == 1
				  ? carnet_results_field(res, 0, CARNET_FIELD_SOURCE) : NULL;
		int rc = src && *src ? serve_document(a, src, q.html) : 1;
		if (rc > 0) {
			refused("/fhir/Binary", 404, src ? "the document's file is not served"
						   : "no such document for this viewer");
			serve_outcome(a, 404, "not-found", "no such document");
		}
	}
	serve_search_clear(&q);
	carnet_results_free(res);
}

static void route_healthz(const serve_server *s, serve_answer *a)
{
	carnet_error err;
	carnet_index *idx = thread_index(s->cfg, &err);
	char log[4200];
	snprintf(log, sizeof log, "%s/access.sqlite", s->cfg->index);
	int log_ok = access(log, W_OK) == 0 || (errno == ENOENT && access(s->cfg->index, W_OK) == 0);
	int ok = idx && carnet_index_refresh(idx, &err) == CARNET_OK && log_ok;
	free(a->body);
	a->body = strdup(ok ? "ok\n" : "unavailable\n");
	a->len = a->body ? strlen(a->body) : 0;
	a->status = ok ? 200 : 503;
	a->content_type = "text/plain; charset=utf-8";
}

static void route(const serve_server *s, struct MHD_Connection *c, const char *url,
		  reqctx *ctx, serve_answer *a)
{
	if (!strcmp(url, "/healthz")) {
		ctx->route = ROUTE_HEALTHZ;
		route_healthz(s, a);
	} else if (!strcmp(url, "/metrics")) {
		carnet_error err;
		carnet_index *idx = thread_index(s->cfg, &err);
		ctx->route = ROUTE_METRICS;
		if (idx)
			carnet_index_refresh(idx, NULL);
		if (serve_metrics_text(a, idx))
			serve_outcome(a, 500, "exception", "out of memory");
	} else if (!strcmp(url, "/fhir/metadata")) {
		ctx->route = ROUTE_METADATA;
		serve_capability(a, s->base);
	} else if (!strcmp(url, "/fhir/DocumentReference")) {
		ctx->route = ROUTE_SEARCH;
		route_search(s, c, url, a);
	} else if (!strcmp(url, "/fhir/DocumentReference/$facets")) {
		ctx->route = ROUTE_FACETS;
		route_facets(s, c, url, a);
	} else if (!strcmp(url, "/fhir/Observation/$lastn")) {
		ctx->route = ROUTE_RESULTS;
		route_results(s, c, url, a);
	} else if (!strncmp(url, "/fhir/Binary/", 13)) {
		ctx->route = ROUTE_BINARY;
		route_binary(s, c, url, a);
	} else if (strncmp(url, "/fhir", 5) != 0 && serve_page(url, a) != 0) {
		ctx->route = ROUTE_PAGE;
		if (!a->body)
			serve_outcome(a, 500, "exception", "out of memory");
	} else {
		serve_outcome(a, 404, "not-found", "no such route");
	}
}

/* A request begins: is its URI, as sent, over the service's limit? Nothing
 * is allocated here (libmicrohttpd may refuse the request before the
 * handler sees it, and then says nothing of it): the handler's first call
 * makes the context. */
static char uri_over_limit;

static void *request_begins(void *cls, const char *uri, struct MHD_Connection *c)
{
	(void)cls;
	(void)c;
	return strlen(uri) > SERVE_URI_MAX ? &uri_over_limit : NULL;
}

static enum MHD_Result add_header_size(void *cls, enum MHD_ValueKind kind, const char *key,
				       const char *value)
{
	size_t *n = cls;
	(void)kind;
	*n += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
	return MHD_YES;
}

/* The service's own limits on the URI and the headers, under the
 * connection's memory (libmicrohttpd answers those over it itself, with its
 * own 414 or 431 page): 0, or the answer. */
static int over_limits(struct MHD_Connection *c, const reqctx *ctx, serve_answer *a)
{
	size_t headers = 0;
	if (ctx->uri_long) {
		serve_outcome(a, 414, "too-long", "the URI is longer than 8192 bytes");
		return -1;
	}
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_header_size, &headers);
	if (headers > SERVE_HEADERS_MAX) {
		serve_outcome(a, 431, "too-long", "the headers are longer than 16384 bytes");
		return -1;
	}
	return 0;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **con_cls)
{
	const serve_server *s = cls;
	reqctx *ctx = *con_cls;
	(void)version;
	(void)upload;
	if (!ctx || ctx == (void *)&uri_over_limit) {
		reqctx *made = calloc(1, sizeof *made);
		if (!made)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &made->start);
		made->route = ROUTE_OTHER;
		made->uri_long = ctx != NULL;
		*con_cls = made;
		return MHD_YES;
	}
	if (*upload_size) {
		ctx->has_body = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	serve_answer a = { .body = NULL };
	if (over_limits(c, ctx, &a))
		refused("request", a.status, "over the service's limits");
	else if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		serve_outcome(&a, 405, "not-supported", "only GET is served");
	else if (ctx->has_body)
		serve_outcome(&a, 413, "too-costly", "a GET request carries no body");
	else if (!atomic_load_explicit(&s->ready, memory_order_acquire))
		serve_outcome(&a, 503, "transient", "the service is starting");
	else
		route(s, c, url, ctx, &a);
	enum MHD_Result r = send_answer(c, ctx, &a);
	free(a.body);
	return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	reqctx *ctx = *con_cls;
	(void)cls;
	(void)c;
	(void)toe;
	if (!ctx || ctx == (void *)&uri_over_limit)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - ctx->start.tv_sec) +
		      (double)(now.tv_nsec - ctx->start.tv_nsec) / 1e9;
	serve_metrics_request(ctx->route, ctx->status, secs);
	free(ctx);
	*con_cls = NULL;
}

/* ---- starting and stopping ---- */

static char *slurp(const char *path, char *why, size_t whysz)
{
	size_t len;
	char *b = serve_read_file(path, &len);
	if (!b) {
		snprintf(why, whysz, "%s: cannot read: %s", path, strerror(errno ? errno : EINVAL));
		return NULL;
	}
	b[len] = '\0';
	return b;
}

/* ADDR:PORT ("[v6]:PORT" for IPv6) into a socket address. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, int *loopback,
			char *why, size_t whysz)
{
	char host[256];
	const char *colon = strrchr(listen, ':');
	if (!colon || colon == listen || (size_t)(colon - listen) >= sizeof host)
		return snprintf(why, whysz, "--listen %s: ADDR:PORT expected", listen), -1;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM }, *ai;
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return snprintf(why, whysz, "--listen %s: not a numeric address and port",
				listen), -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(ai);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		*loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
		*loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	}
	return 0;
}

static int read_tls(serve_server *s, char *why, size_t whysz)
{
	const serve_config *cfg = s->cfg;
	if (!(s->cert = slurp(cfg->tls_cert, why, whysz)) ||
	    !(s->key = slurp(cfg->tls_key, why, whysz)) ||
	    (cfg->client_ca && !(s->ca = slurp(cfg->client_ca, why, whysz))))
		return -1;
	s->tls = 1;
	return 0;
}

static void free_server(serve_server *s)
{
	if (!s)
		return;
	free(s->cert);
	if (s->key) {
		memset(s->key, 0, strlen(s->key));
		free(s->key);
	}
	free(s->ca);
	free(s);
}

static struct MHD_Daemon *start_daemon(serve_server *s, struct sockaddr_storage *ss)
{
	const serve_config *cfg = s->cfg;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_USE_AUTO | (s->tls ? MHD_USE_TLS : 0);
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, s->cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, s->key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0,
		  (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2" },
		{ s->ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, s->ca },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_OptionItem none[] = { { MHD_OPTION_END, 0, NULL } };
	return MHD_start_daemon(
		flags, 0, NULL, NULL, handle, s,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_seconds,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->memory_limit,
		MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
		MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_URI_LOG_CALLBACK, request_begins, NULL,
		MHD_OPTION_ARRAY, s->tls ? tls_opts : none,
		MHD_OPTION_END);
}

int serve_start(serve_server **out, const serve_config *cfg, const serve_keys *keys,
		char *why, size_t whysz)
{
	*out = NULL;
	struct sockaddr_storage ss;
	int loopback = 0;
	if (parse_listen(cfg->listen, &ss, &loopback, why, whysz))
		return -1;
	if (!cfg->tls_cert && !(cfg->insecure_loopback && loopback)) {
		snprintf(why, whysz, "refusing plain HTTP on %s: give --tls-cert and --tls-key "
			 "(plain HTTP only with --insecure-loopback on a loopback address)",
			 cfg->listen);
		return -1;
	}
	serve_server *s = calloc(1, sizeof *s);
	if (!s)
		return snprintf(why, whysz, "out of memory"), -1;
	s->cfg = cfg;
	s->keys = keys;
	if (cfg->tls_cert && read_tls(s, why, whysz)) {
		free_server(s);
		return -1;
	}
	pthread_once(&handle_once, make_key);
	if (!(s->d = start_daemon(s, &ss))) {
		snprintf(why, whysz, "cannot listen on %s (address in use, or a bad certificate "
			 "or key)", cfg->listen);
		free_server(s);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	char host[200];
	const char *colon = strrchr(cfg->listen, ':');
	snprintf(host, sizeof host, "%.*s", (int)(colon - cfg->listen), cfg->listen);
	char bound[sizeof s->base];
	snprintf(bound, sizeof bound, "%s://%s:%u/fhir", s->tls ? "https" : "http", host,
		 di ? (unsigned)di->port : 0);
	/* the line says where this process listens (the port picked for
	 * port 0 included); links in answers use the public base URL */
	if (cfg->base_url) {
		snprintf(s->base, sizeof s->base, "%s/fhir", cfg->base_url);
		printf("carnet-serve: listening on %s (public base URL %s)\n", bound, s->base);
	} else {
		snprintf(s->base, sizeof s->base, "%s", bound);
		printf("carnet-serve: listening on %s\n", s->base);
	}
	atomic_store_explicit(&s->ready, 1, memory_order_release);
	fflush(stdout);
	*out = s;
	return 0;
}

void serve_stop(serve_server *s, unsigned drain_seconds)
{
	if (!s)
		return;
	MHD_socket ls = MHD_quiesce_daemon(s->d);
	if (ls != MHD_INVALID_SOCKET)
		close(ls);
	for (unsigned waited = 0; waited < drain_seconds * 50; waited++) {
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
		if (!di || di->num_connections == 0)
			break;
		struct timespec t = { 0, 20 * 1000 * 1000 };
		nanosleep(&t, NULL);
	}
	MHD_stop_daemon(s->d);
	/* the refusals still held back get their row before the end */
	serve_held h;
	serve_refusal_take_held(&h);
	write_held(s->cfg, &h);
	carnet_index *own = pthread_getspecific(handle_key);
	if (own) {
		pthread_setspecific(handle_key, NULL);
		carnet_index_close(own);
	}
	free_server(s);
}
