/* SPDX-License-Identifier: GPL-2.0-or-later */
/* serveload.c - the load client of make bench: CLIENTS threads, each with
 * one kept-alive HTTPS connection (libcurl), send the query workload
 * (queries.tsv, the in-process bench's) to carnet-serve's ITI-67 search
 * as the viewer of each query (a token per viewer specialty), until every
 * query was sent once, at most MAX requests, or SECONDS passed. Prints the
 * latencies in benchutil.h's format (engine=serve-CLIENTS) and a summary
 * line (requests, errors, wall seconds, searches per second, and the CPU
 * seconds this client used meanwhile, user + system, to tell its share
 * of the cores from the server's).
 * usage: serveload --url FHIR_BASE --cacert CA --tokens FILE --clients N
 *                  [--max N] [--seconds S] QUERIES
 * TOKENS: lines "SPECIALTY TOKEN". Exit 1 when a request failed. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/resource.h>

#include <curl/curl.h>

#include "benchutil.h"

typedef struct viewer {
	char specialty[32];
	char *auth; /* "Authorization: Bearer ..." */
} viewer;

typedef struct load {
	const char *url, *cacert;
	const bench_query *qs;
	size_t nq, max;
	viewer *viewers;
	size_t nviewers;
	double deadline_ms;
	atomic_size_t next;
	atomic_size_t errors;
} load;

typedef struct worker {
	pthread_t t;
	load *l;
	bench_stats st[3];
} worker;

static viewer *load_tokens(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	viewer *v = NULL;
	size_t cap = 0;
	char line[8192];
	*n = 0;
	while (fgets(line, sizeof line, f)) {
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp++ = '\0';
		sp[strcspn(sp, "\n")] = '\0';
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			v = realloc(v, cap * sizeof *v);
		}
		char *auth = malloc(strlen(sp) + 32);
		if (!v || !auth) {
			fputs("serveload: out of memory\n", stderr);
			exit(1);
		}
		sprintf(auth, "Authorization: Bearer %s", sp);
		bench_copy(v[*n].specialty, sizeof v[*n].specialty, line);
		v[(*n)++].auth = auth;
	}
	fclose(f);
	return v;
}

static const char *auth_for(const load *l, const char *specialty)
{
	for (size_t i = 0; i < l->nviewers; i++)
		if (!strcmp(l->viewers[i].specialty, specialty))
			return l->viewers[i].auth;
	return NULL;
}

/* The body, kept only to count the hits (entries) of the Bundle. */
typedef struct body {
	char *b;
	size_t len, cap;
} body;

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	body *b = ud;
	size_t k = size * n;
	if (b->len + k + 1 > b->cap) {
		size_t cap = (b->len + k + 1) * 2;
		char *nb = realloc(b->b, cap);
		if (!nb)
			return 0;
		b->b = nb;
		b->cap = cap;
	}
	memcpy(b->b + b->len, p, k);
	b->len += k;
	b->b[b->len] = '\0';
	return k;
}

static size_t hits_of(const char *b)
{
	size_t n = 0;
	for (const char *p = b; (p = strstr(p, "\"mode\":\"match\"")); p++)
		n++;
	return n;
}

/* Percent-encode v into out. */
static void enc(char *out, size_t outsz, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)v; *p && o + 4 < outsz; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

static void *run(void *arg)
{
	worker *w = arg;
	load *l = w->l;
	CURL *c = curl_easy_init();
	body b = { 0 };
	char url[2048], pat[128], words[700];
	curl_easy_setopt(c, CURLOPT_CAINFO, l->cacert);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	for (;;) {
		size_t i = atomic_fetch_add(&l->next, 1);
		if (i >= l->max || bench_now_ms() > l->deadline_ms)
			break;
		const bench_query *q = &l->qs[i % l->nq];
		int k = bench_kind(q->kind);
		const char *auth = auth_for(l, q->specialty);
		if (!auth) {
			atomic_fetch_add(&l->errors, 1);
			continue;
		}
		enc(pat, sizeof pat, q->patient);
		int n = snprintf(url, sizeof url, "%s/DocumentReference?patient.identifier=%s&_count=20",
				 l->url, pat);
		if (k) {
			enc(words, sizeof words, q->words);
			snprintf(url + n, sizeof url - (size_t)n, "&_text=%s", words);
		}
		struct curl_slist *h = curl_slist_append(NULL, auth);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		b.len = 0;
		double t0 = bench_now_ms();
		long status = 0;
		CURLcode rc = curl_easy_perform(c);
		double ms = bench_now_ms() - t0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(h);
		if (rc != CURLE_OK || status != 200) {
			if (atomic_fetch_add(&l->errors, 1) < 3)
				fprintf(stderr, "serveload: %s: %s, HTTP %ld\n", q->patient,
					curl_easy_strerror(rc), status);
			continue;
		}
		bench_stats_add(&w->st[k], ms, b.b ? hits_of(b.b) : 0);
	}
	free(b.b);
	curl_easy_cleanup(c);
	return NULL;
}

/* This process's CPU seconds so far, user + system. */
static double cpu_s(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The workers' samples of one kind, in one. */
static void merge(bench_stats *into, worker *ws, size_t n, int k)
{
	for (size_t i = 0; i < n; i++)
		bench_stats_merge(into, &ws[i].st[k]);
}

int main(int argc, char **argv)
{
	const char *url = NULL, *cacert = NULL, *tokens = NULL;
	long clients = 1, max = 0, seconds = 60;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--url"))
			url = argv[i + 1];
		else if (!strcmp(argv[i], "--cacert"))
			cacert = argv[i + 1];
		else if (!strcmp(argv[i], "--tokens"))
			tokens = argv[i + 1];
		else if (!strcmp(argv[i], "--clients"))
			clients = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--max"))
			max = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atol(argv[i + 1]);
		else
			break;
	}
	if (argc - i != 1 || !url || !cacert || !tokens || clients < 1 || clients > 256 ||
	    max < 0 || seconds < 1) {
		fputs("usage: serveload --url FHIR_BASE --cacert CA --tokens FILE --clients N "
		      "[--max N] [--seconds S] QUERIES\n", stderr);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	load l = { .url = url, .cacert = cacert };
	l.qs = bench_load_queries(argv[i], &l.nq);
	l.max = max ? (size_t)max : l.nq;
	l.viewers = load_tokens(tokens, &l.nviewers);
	worker *ws = calloc((size_t)clients, sizeof *ws);
	if (!l.nq || !ws) {
		fputs("serveload: no queries, or out of memory\n", stderr);
		return 1;
	}
	double c0 = cpu_s(), t0 = bench_now_ms();
	l.deadline_ms = t0 + (double)seconds * 1e3;
	for (long w = 0; w < clients; w++) {
		ws[w].l = &l;
		if (pthread_create(&ws[w].t, NULL, run, &ws[w])) {
			fputs("serveload: cannot start a thread\n", stderr);
			return 1;
		}
	}
	for (long w = 0; w < clients; w++)
		pthread_join(ws[w].t, NULL);
	double wall = (bench_now_ms() - t0) / 1e3, cpu = cpu_s() - c0;
	char engine[32];
	snprintf(engine, sizeof engine, "serve-%ld", clients);
	size_t done = 0;
	for (int k = 0; k < 3; k++) {
		bench_stats all = { 0 };
		merge(&all, ws, (size_t)clients, k);
		done += all.n;
		bench_stats_print(&all, engine, bench_kinds[k]);
	}
	size_t errors = atomic_load(&l.errors);
	printf("engine=%s summary clients=%ld requests=%zu errors=%zu wall_s=%.3f per_s=%.1f "
	       "cpu_s=%.3f\n", engine, clients, done, errors, wall, (double)done / wall, cpu);
	for (size_t v = 0; v < l.nviewers; v++)
		free(l.viewers[v].auth);
	free(l.viewers);
	free(ws);
	free((void *)l.qs);
	curl_global_cleanup();
	return errors ? 1 : 0;
}
