/* SPDX-License-Identifier: GPL-2.0-or-later */
/* xapian_plain.c - the plain Xapian baseline: the shim alone, with no
 * extraction, registry or policy. Indexes corpus.tsv (texts folded by
 * carnet_text__fold, French stemmer, positions, a commit every 10,000
 * documents, one thread) and runs the query workload with BM25 and the
 * patient term as the only filter.
 * usage: xapian_plain index DIR TSV | xapian_plain query DIR QUERIES */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "buf.h"
#include "schema.h"
#include "text.h"
#include "xapian_shim.h"

static void fail(const char *what, const carnet_error *err)
{
	fprintf(stderr, "xapian_plain: %s: %s\n", what, err->message);
	exit(1);
}

static int cmd_index(const char *path, const char *tsv)
{
	carnet_error err;
	carnet_xwriter *w;
	if (carnet_xap_writer_open(&w, path, &err) != CARNET_OK)
		fail(path, &err);
	FILE *f = fopen(tsv, "r");
	if (!f) {
		perror(tsv);
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long rows = 0;
	carnet_buf title = CARNET_BUF_INIT, body = CARNET_BUF_INIT;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		/* patient, id, type, specialty, date, title, text */
		char *c[7];
		int k = 0;
		c[k++] = line;
		for (char *p = line; *p && k < 7; p++)
			if (*p == '\t') {
				*p = '\0';
				c[k++] = p + 1;
			}
		if (k != 7)
			continue;
		carnet_buf__reset(&title);
		carnet_buf__reset(&body);
		if (carnet_text__fold(&title, c[5], strlen(c[5]), &err) != CARNET_OK ||
		    carnet_text__fold(&body, c[6], strlen(c[6]), &err) != CARNET_OK)
			fail("fold", &err);
		char id_term[64], pt[64], ty[64], sp[64], ymd[9];
		snprintf(id_term, sizeof id_term, CARNET_PREFIX_ID "%s", c[1]);
		snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", c[0]);
		snprintf(ty, sizeof ty, CARNET_PREFIX_TYPE "%s", c[2]);
		snprintf(sp, sizeof sp, CARNET_PREFIX_SPECIALTY "%s", c[3]);
		snprintf(ymd, sizeof ymd, "%.4s%.2s%.2s", c[4], c[4] + 5, c[4] + 8);
		const char *terms[] = { pt, ty, sp };
		carnet_xvalue values[] = { { CARNET_SLOT_DATE, ymd, 8 },
					   { CARNET_SLOT_ID, c[1], strlen(c[1]) } };
		carnet_xtext texts[] = { { title.data ? title.data : "", title.len, 2, "" },
					 { body.data ? body.data : "", body.len, 1, "" } };
		carnet_xdoc d = { id_term, terms, 3, values, 2, texts, 2, c[1], strlen(c[1]), "french" };
		if (carnet_xap_writer_put(w, &d, &err) != CARNET_OK)
			fail(c[1], &err);
		if (++rows % 10000 == 0 && carnet_xap_writer_commit(w, &err) != CARNET_OK)
			fail("commit", &err);
	}
	if (carnet_xap_writer_commit(w, &err) != CARNET_OK)
		fail("commit", &err);
	unsigned long count = 0;
	if (carnet_xap_writer_doccount(w, &count, &err) != CARNET_OK)
		fail("doccount", &err);
	carnet_xap_writer_free(w);
	carnet_buf__free(&title);
	carnet_buf__free(&body);
	free(line);
	fclose(f);
	printf("rows=%ld count=%lu\n", rows, count);
	return (long)count == rows ? 0 : 1;
}

static int cmd_query(const char *path, const char *qpath)
{
	size_t nq;
	bench_query *qs = bench_load_queries(qpath, &nq);
	carnet_error err;
	carnet_xreader *r;
	if (carnet_xap_reader_open(&r, path, &err) != CARNET_OK)
		fail(path, &err);
	bench_stats st[3] = { { 0 } };
	carnet_buf words = CARNET_BUF_INIT;
	for (size_t i = 0; i < nq; i++) {
		const bench_query *q = &qs[i];
		int k = bench_kind(q->kind);
		double t0 = bench_now_ms();
		char pt[64];
		snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", q->patient);
		const char *must[] = { pt };
		carnet_buf__reset(&words);
		if (k && carnet_text__fold(&words, q->words, strlen(q->words), &err) != CARNET_OK)
			fail("fold", &err);
		carnet_xsearch s;
		memset(&s, 0, sizeof s);
		s.words = k ? words.data : NULL;
		s.stem_language = "french";
		s.must = must;
		s.must_count = 1;
		s.limit = 20;
		carnet_xhits *h;
		if (carnet_xap_reader_search(r, &s, &h, &err) != CARNET_OK)
			fail("search", &err);
		size_t hits = carnet_xap_hits_count(h);
		carnet_xap_hits_free(h);
		bench_stats_add(&st[k], bench_now_ms() - t0, hits);
	}
	for (int k = 0; k < 3; k++)
		bench_stats_print(&st[k], "xapian", bench_kinds[k]);
	carnet_buf__free(&words);
	carnet_xap_reader_free(r);
	free(qs);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "index") == 0)
		return cmd_index(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "query") == 0)
		return cmd_query(argv[2], argv[3]);
	fputs("usage: xapian_plain index DIR TSV | xapian_plain query DIR QUERIES\n", stderr);
	return 2;
}
