/* SPDX-License-Identifier: GPL-2.0-or-later */
/* benchutil.h - what the benchmark programs share: a clock, the query
 * workload written by gencorpus (queries.tsv), and latency statistics
 * printed in one format that bench.sh reads. */
#ifndef CARNET_BENCH_BENCHUTIL_H
#define CARNET_BENCH_BENCHUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One query: kind ("browse", "w1", "w3"), patient, viewer specialty, words. */
typedef struct bench_query {
	char kind[8];
	char patient[32];
	char specialty[32];
	char words[224];
} bench_query;

/* Copy src into dst[size], cut if longer. */
static inline void bench_copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Read queries.tsv; exits on error. */
static inline bench_query *bench_load_queries(const char *path, size_t *count)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t cap = 1024, n = 0;
	bench_query *q = (bench_query *)malloc(cap * sizeof *q);
	char line[1024];
	while (q && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = '\0';
		if (n == cap) {
			cap *= 2;
			bench_query *nq = (bench_query *)realloc(q, cap * sizeof *q);
			if (!nq) {
				free(q);
				q = NULL;
				break;
			}
			q = nq;
		}
		char *f1 = line, *f2 = strchr(f1, '\t');
		char *f3 = f2 ? strchr(f2 + 1, '\t') : NULL;
		char *f4 = f3 ? strchr(f3 + 1, '\t') : NULL;
		if (!f4)
			continue;
		*f2++ = *f3++ = *f4++ = '\0';
		bench_copy(q[n].kind, sizeof q[n].kind, f1);
		bench_copy(q[n].patient, sizeof q[n].patient, f2);
		bench_copy(q[n].specialty, sizeof q[n].specialty, f3);
		bench_copy(q[n].words, sizeof q[n].words, f4);
		n++;
	}
	fclose(f);
	if (!q) {
		fputs("out of memory\n", stderr);
		exit(1);
	}
	*count = n;
	return q;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Latencies of one kind of query, and how many found something. */
typedef struct bench_stats {
	double *ms;
	size_t n, cap, with_hits;
	double hits_sum;
} bench_stats;

static inline void bench_stats_add(bench_stats *s, double ms, size_t hits)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		double *p = (double *)realloc(s->ms, s->cap * sizeof *p);
		if (!p) {
			fputs("out of memory\n", stderr);
			exit(1);
		}
		s->ms = p;
	}
	s->ms[s->n++] = ms;
	s->with_hits += hits > 0;
	s->hits_sum += (double)hits;
}

/* Add the samples of from to into, and free from's. */
static inline void bench_stats_merge(bench_stats *into, bench_stats *from)
{
	for (size_t j = 0; j < from->n; j++)
		bench_stats_add(into, from->ms[j], 0);
	into->with_hits += from->with_hits;
	into->hits_sum += from->hits_sum;
	free(from->ms);
	memset(from, 0, sizeof *from);
}

/* One line: "engine=E kind=K n=.. hit_rate=.. mean_hits=.. median_ms=..
 * p99_ms=.. max_ms=..", then the samples are freed. */
static inline void bench_stats_print(bench_stats *s, const char *engine, const char *kind)
{
	if (!s->n) {
		printf("engine=%s kind=%s n=0\n", engine, kind);
		return;
	}
	qsort(s->ms, s->n, sizeof *s->ms, bench_cmp_double);
	size_t p99 = (size_t)((double)s->n * 0.99);
	if (p99 >= s->n)
		p99 = s->n - 1;
	printf("engine=%s kind=%s n=%zu hit_rate=%.3f mean_hits=%.1f median_ms=%.3f "
	       "p99_ms=%.3f max_ms=%.3f\n",
	       engine, kind, s->n, (double)s->with_hits / (double)s->n,
	       s->hits_sum / (double)s->n, s->ms[s->n / 2], s->ms[p99], s->ms[s->n - 1]);
	free(s->ms);
	memset(s, 0, sizeof *s);
}

static inline int bench_kind(const char *kind)
{
	return strcmp(kind, "browse") == 0 ? 0 : strcmp(kind, "w1") == 0 ? 1 : 2;
}

static const char *const bench_kinds[] = { "browse", "w1", "w3" };

#endif
