/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.c - nDCG and recall as trec_eval computes them (see metrics.h). */
#include "metrics.h"

#include <carnet.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double dcg(const int *gains, size_t n, size_t k)
{
	double sum = 0;
	for (size_t i = 0; i < n && i < k; i++)
		if (gains[i] > 0)
			sum += gains[i] / log2((double)i + 2);
	return sum;
}

static int by_grade_down(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x < y) - (x > y);
}

double metric_ndcg(const int *gains, size_t n, const int *judged, size_t m, size_t k)
{
	if (m == 0)
		return 0;
	int *ideal = malloc(m * sizeof *ideal);
	if (!ideal)
		abort();
	memcpy(ideal, judged, m * sizeof *ideal);
	qsort(ideal, m, sizeof *ideal, by_grade_down);
	double best = dcg(ideal, m, k);
	free(ideal);
	return best > 0 ? dcg(gains, n, k) / best : 0;
}

double metric_recall(const int *gains, size_t n, const int *judged, size_t m, size_t k)
{
	size_t relevant = 0, found = 0;
	for (size_t i = 0; i < m; i++)
		relevant += judged[i] > 0;
	for (size_t i = 0; i < n && i < k; i++)
		found += gains[i] > 0;
	return relevant ? (double)found / (double)relevant : 0;
}

void *eval_xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", eval_program);
		exit(3);
	}
	return p;
}

char *eval_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(eval_xrealloc(NULL, n), s, n);
}

void eval_die(const carnet_error *err, const char *what)
{
	fprintf(stderr, "%s: %s: %s (%s)\n", eval_program, what, err->message,
		carnet_strerror(err->code));
	exit(3);
}
