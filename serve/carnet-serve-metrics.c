/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-metrics.c - what /metrics reports, in Prometheus text:
 * requests by route and status, their latency, the index's figures and
 * the access-log failures. Counters are atomics, shared by the workers. */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

static const char *const route_names[ROUTES] = {
	"metadata", "DocumentReference", "Binary", "healthz", "metrics", "page", "Observation",
	"DocumentReference/$facets", "other",
};
static const unsigned statuses[] = { 200, 400, 401, 403, 404, 405, 413, 414, 431, 500, 503 };
#define STATUSES (sizeof statuses / sizeof *statuses + 1) /* the last: any other */
static const double bounds[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
				 0.5, 1, 2.5, 5 };
#define BOUNDS (sizeof bounds / sizeof *bounds)

static atomic_ulong requests[ROUTES][STATUSES];
static atomic_ulong buckets[BOUNDS + 1];
static atomic_ullong latency_us;
static atomic_ulong log_failures;

void serve_metrics_request(serve_route r, unsigned status, double seconds)
{
	size_t s = 0;
	while (s < STATUSES - 1 && statuses[s] != status)
		s++;
	atomic_fetch_add(&requests[r][s], 1);
	size_t b = 0;
	while (b < BOUNDS && seconds > bounds[b])
		b++;
	atomic_fetch_add(&buckets[b], 1);
	atomic_fetch_add(&latency_us, (unsigned long long)(seconds * 1e6));
}

void serve_metrics_log_failure(void)
{
	atomic_fetch_add(&log_failures, 1);
}

/* printf into a growing buffer; -1 on no memory. */
static int put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -1;
		if (*buf && *len + (size_t)n < *cap) {
			*len += (size_t)n;
			return 0;
		}
		size_t want = (*cap ? *cap : 4096) * 2 + (size_t)n;
		char *b = realloc(*buf, want);
		if (!b)
			return -1;
		*buf = b;
		*cap = want;
	}
}

int serve_metrics_text(serve_answer *a, carnet_index *idx)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	int bad = put(&b, &len, &cap, "# HELP carnet_serve_requests_total Requests answered, "
		      "by route and HTTP status.\n# TYPE carnet_serve_requests_total counter\n");
	for (int r = 0; r < ROUTES; r++)
		for (size_t s = 0; s < STATUSES; s++) {
			unsigned long n = atomic_load(&requests[r][s]);
			char code[8];
			snprintf(code, sizeof code, "%u", s < STATUSES - 1 ? statuses[s] : 0);
			if (n)
				bad |= put(&b, &len, &cap, "carnet_serve_requests_total{route=\"%s\","
					   "status=\"%s\"} %lu\n", route_names[r],
					   s < STATUSES - 1 ? code : "other", n);
		}
	bad |= put(&b, &len, &cap, "# HELP carnet_serve_request_seconds Time to answer a "
		   "request.\n# TYPE carnet_serve_request_seconds histogram\n");
	unsigned long cum = 0;
	for (size_t i = 0; i <= BOUNDS; i++) {
		cum += atomic_load(&buckets[i]);
		if (i < BOUNDS)
			bad |= put(&b, &len, &cap, "carnet_serve_request_seconds_bucket{le=\"%g\"} "
				   "%lu\n", bounds[i], cum);
		else
			bad |= put(&b, &len, &cap, "carnet_serve_request_seconds_bucket{le=\"+Inf\"} "
				   "%lu\n", cum);
	}
	bad |= put(&b, &len, &cap, "carnet_serve_request_seconds_sum %.6f\n"
		   "carnet_serve_request_seconds_count %lu\n",
		   (double)atomic_load(&latency_us) / 1e6, cum);
	bad |= put(&b, &len, &cap, "# HELP carnet_serve_access_log_failures_total Requests "
		   "refused because the access log could not be written.\n"
		   "# TYPE carnet_serve_access_log_failures_total counter\n"
		   "carnet_serve_access_log_failures_total %lu\n", atomic_load(&log_failures));
	bad |= put(&b, &len, &cap, "# HELP carnet_serve_refusals_unlogged_total Refusals before "
		   "a token was verified, over --refusal-log-rate: counted in a summary row of "
		   "the access log instead of a row each.\n"
		   "# TYPE carnet_serve_refusals_unlogged_total counter\n"
		   "carnet_serve_refusals_unlogged_total %lu\n", serve_refusals_held_total());
	uint64_t gen = 0, docs = 0;
	if (idx && !carnet_index_stat(idx, CARNET_STAT_GENERATION, &gen, NULL) &&
	    !carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, &docs, NULL))
		bad |= put(&b, &len, &cap, "# HELP carnet_index_generation The index generation "
			   "served.\n# TYPE carnet_index_generation gauge\n"
			   "carnet_index_generation %llu\n# HELP carnet_index_documents Document "
			   "versions in the index.\n# TYPE carnet_index_documents gauge\n"
			   "carnet_index_documents %llu\n", (unsigned long long)gen,
			   (unsigned long long)docs);
	if (bad) {
		free(b);
		return -1;
	}
	free(a->body);
	a->body = b;
	a->len = len;
	a->status = 200;
	a->content_type = "text/plain; version=0.0.4; charset=utf-8";
	return 0;
}
