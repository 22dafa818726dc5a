/* SPDX-License-Identifier: GPL-2.0-or-later */
/* metrics.h - relevance measures shared by the evaluation programs, with
 * trec_eval's conventions. */
#ifndef CARNET_BENCH_METRICS_H
#define CARNET_BENCH_METRICS_H

#include <stddef.h>

/*
 * nDCG at depth k: gains[i] is the grade of the document ranked i (0-based),
 * n the length of the ranking; judged[] the grades of every judged document
 * of the query (any order, 0 allowed), m their number. The gain is the grade
 * and the discount log2(rank + 1) with ranks from 1; the ideal ranking is
 * the judged grades sorted down. Returns 0 when no judged document has a
 * grade above 0.
 */
double metric_ndcg(const int *gains, size_t n, const int *judged, size_t m, size_t k);

/*
 * Recall at depth k: the number of relevant documents (grade > 0) among
 * the first k of the ranking, over the number of relevant judged documents.
 * Returns 0 when none is relevant.
 */
double metric_recall(const int *gains, size_t n, const int *judged, size_t m, size_t k);

/* The ranking override that leaves BM25 alone. */
#define EVAL_TEXT_ONLY "weight.text = 1\nweight.specialty = 0\nweight.recency = 0\nweight.results = 0"

/* What both programs do on failure: print, prefixed by eval_program (which
 * each defines), and exit with status 3. */
extern const char *eval_program;
struct carnet_error;
void *eval_xrealloc(void *p, size_t size);
char *eval_xstrdup(const char *s);
void eval_die(const struct carnet_error *err, const char *what);

#endif
