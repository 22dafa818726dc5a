/* SPDX-License-Identifier: GPL-2.0-or-later */
/* scifact.c - carnet's text ranking alone on the public SciFact collection
 * (BEIR layout), beside the published BM25 figures.
 *
 *   scifact prepare CORPUS_JSONL|- DIR   one .txt + .txt.meta.json per abstract
 *   scifact run INDEX_HOME QUERIES_JSONL QRELS_TSV
 */
#include <carnet.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

const char *eval_program = "scifact";

#define PATIENT "scifact"
#define DEPTH 100 /* recall@100; nDCG@10 */


/* A BEIR id becomes a file name: refuse anything but [A-Za-z0-9._-]. */
static int safe_id(const char *id)
{
	if (!*id || strlen(id) > 100 || id[0] == '.')
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return 1;
}

/*
 * Write every abstract of a BEIR corpus.jsonl as DIR/ID.txt (title, a line
 * break, text) with its sidecar DIR/ID.txt.meta.json (one patient, English,
 * the BEIR title). Returns 0, or 3 after saying what went wrong.
 */
static int prepare(const char *corpus, const char *dir)
{
	FILE *in = strcmp(corpus, "-") == 0 ? stdin : fopen(corpus, "r");
	if (!in) {
		fprintf(stderr, "scifact: %s: %s\n", corpus, strerror(errno));
		return 3;
	}
	char *line = NULL, path[4096];
	size_t size = 0, count = 0;
	long lineno = 0;
	while (getline(&line, &size, in) >= 0) {
		lineno++;
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		const char *id = o ? json_string_value(json_object_get(o, "_id")) : NULL;
		const char *title = o ? json_string_value(json_object_get(o, "title")) : NULL;
		const char *text = o ? json_string_value(json_object_get(o, "text")) : NULL;
		if (!id || !text || !safe_id(id)) {
			fprintf(stderr, "scifact: %s:%ld: expected an object with a safe _id and a text\n",
				corpus, lineno);
			json_decref(o);
			return 3;
		}
		if (!title)
			title = "";
		snprintf(path, sizeof path, "%s/%s.txt", dir, id);
		FILE *f = fopen(path, "w");
		if (!f || (*title && fprintf(f, "%s\n", title) < 0) || fprintf(f, "%s\n", text) < 0 ||
		    fclose(f) != 0) {
			fprintf(stderr, "scifact: %s: %s\n", path, strerror(errno));
			json_decref(o);
			return 3;
		}
		json_t *meta = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s, s:[s]}", "patient_id", PATIENT,
					 "id", id, "set_id", id, "version", 1, "date", "2020-01-01",
					 "language", "en", "confidentiality", "N");
		if (*title)
			json_object_set_new(meta, "title", json_string(title));
		snprintf(path, sizeof path, "%s/%s.txt.meta.json", dir, id);
		if (!meta || json_dump_file(meta, path, JSON_INDENT(1)) != 0) {
			fprintf(stderr, "scifact: %s: cannot write\n", path);
			json_decref(meta);
			json_decref(o);
			return 3;
		}
		json_decref(meta);
		json_decref(o);
		count++;
	}
	free(line);
	if (in != stdin)
		fclose(in);
	printf("scifact: wrote %zu abstracts under %s\n", count, dir);
	return 0;
}

struct query {
	char *id;
	char *text;      /* the claim, NULL until read */
	char **docs;     /* judged documents */
	int *grades;     /* their relevance (BEIR score) */
	size_t count, cap;
};

struct queries {
	struct query *v;
	size_t count, cap;
};

static struct query *find(struct queries *qs, const char *id)
{
	for (size_t i = 0; i < qs->count; i++)
		if (strcmp(qs->v[i].id, id) == 0)
			return &qs->v[i];
	return NULL;
}

/* Read BEIR qrels (query-id, corpus-id, score; a header line). */
static int read_qrels(const char *path, struct queries *qs)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "scifact: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char qid[256], did[256];
	int score;
	char header[256];
	if (!fgets(header, sizeof header, f) || strncmp(header, "query-id", 8) != 0) {
		fprintf(stderr, "scifact: %s: expected a header line query-id corpus-id score\n", path);
		fclose(f);
		return -1;
	}
	int got;
	while ((got = fscanf(f, "%255s %255s %d", qid, did, &score)) == 3) {
		struct query *q = find(qs, qid);
		if (!q) {
			if (qs->count == qs->cap) {
				qs->cap = qs->cap ? 2 * qs->cap : 256;
				qs->v = eval_xrealloc(qs->v, qs->cap * sizeof *qs->v);
			}
			q = &qs->v[qs->count++];
			memset(q, 0, sizeof *q);
			q->id = eval_xstrdup(qid);
		}
		if (q->count == q->cap) {
			q->cap = q->cap ? 2 * q->cap : 4;
			q->docs = eval_xrealloc(q->docs, q->cap * sizeof *q->docs);
			q->grades = eval_xrealloc(q->grades, q->cap * sizeof *q->grades);
		}
		q->docs[q->count] = eval_xstrdup(did);
		q->grades[q->count] = score;
		q->count++;
	}
	fclose(f);
	if (got != EOF) {
		fprintf(stderr, "scifact: %s: malformed line\n", path);
		return -1;
	}
	return 0;
}

/* Give each judged query its text from BEIR queries.jsonl. */
static int read_queries(const char *path, struct queries *qs)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "scifact: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t size = 0;
	while (getline(&line, &size, f) >= 0) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		const char *id = o ? json_string_value(json_object_get(o, "_id")) : NULL;
		const char *text = o ? json_string_value(json_object_get(o, "text")) : NULL;
		struct query *q = id && text ? find(qs, id) : NULL;
		if (q && !q->text)
			q->text = eval_xstrdup(text);
		json_decref(o);
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < qs->count; i++)
		if (!qs->v[i].text) {
			fprintf(stderr, "scifact: %s: no text for query %s\n", path, qs->v[i].id);
			return -1;
		}
	return 0;
}

/*
 * A claim as carnet words: plain words only. Quotes would open a phrase and
 * a leading + or - would require or exclude a word, so they become spaces.
 */
static void plain_words(char *s)
{
	int start = 1;
	for (char *p = s; *p; p++) {
		if (*p == '"' || (start && (*p == '+' || *p == '-')))
			*p = ' ';
		start = *p == ' ' || *p == '\t';
	}
}

static int run(const char *home, const char *queries_path, const char *qrels_path)
{
	struct queries qs = { 0 };
	if (read_qrels(qrels_path, &qs) || read_queries(queries_path, &qs))
		return 3;
	carnet_index *idx;
	carnet_error err;
	if (carnet_index_open(&idx, home, &err) != CARNET_OK)
		eval_die(&err, home);
	if (carnet_index_set_ranking(idx, EVAL_TEXT_ONLY, &err) != CARNET_OK)
		eval_die(&err, "text-only ranking");
	uint64_t docs = 0;
	if (carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, &docs, &err) != CARNET_OK)
		eval_die(&err, "stats");

	double sum_ndcg = 0, sum_recall = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < qs.count; i++) {
		struct query *q = &qs.v[i];
		char *words = eval_xstrdup(q->text);
		plain_words(words);
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = PATIENT;
		req.profession = "10";
		req.words = words;
		req.limit = DEPTH + 1; /* one more, for the query's own id removed below */
		req.flags = CARNET_REQUEST_NO_SNIPPETS;
		carnet_results *res;
		if (carnet_index_search(&res, idx, &req, &err) != CARNET_OK)
			eval_die(&err, q->id);
		int gains[DEPTH + 1];
		size_t n = 0;
		for (size_t h = 0; h < carnet_results_count(res) && n < DEPTH; h++) {
			const char *id = carnet_results_field(res, h, CARNET_FIELD_ID);
			if (strcmp(id, q->id) == 0) /* as pyserini --remove-query */
				continue;
			int g = 0;
			for (size_t j = 0; j < q->count; j++)
				if (strcmp(q->docs[j], id) == 0)
					g = q->grades[j];
			gains[n++] = g;
		}
		carnet_results_free(res);
		free(words);
		sum_ndcg += metric_ndcg(gains, n, q->grades, q->count, 10);
		sum_recall += metric_recall(gains, n, q->grades, q->count, DEPTH);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	carnet_index_close(idx);

	double nq = (double)qs.count;
	printf("\nSciFact (BEIR test): %zu queries, %llu abstracts indexed; carnet's text ranking alone\n"
	       "(weight.text = 1, the others 0), %d hits per query; trec_eval measures, linear gain.\n\n",
	       qs.count, (unsigned long long)docs, DEPTH);
	printf("%-44s %8s %11s\n", "", "nDCG@10", "recall@100");
	printf("%-44s %8.3f %11.3f\n", "carnet, text only", sum_ndcg / nq, sum_recall / nq);
	printf("%-44s %8.3f %11s\n", "BM25, BEIR paper (Elasticsearch, multifield)", 0.665, "-");
	printf("%-44s %8.3f %11.3f\n", "BM25, Pyserini (flat, one field)", 0.679, 0.925);
	printf("\n%zu searches in %.2f s (%.1f ms each)\n", qs.count, secs, 1000 * secs / nq);

	for (size_t i = 0; i < qs.count; i++) {
		for (size_t j = 0; j < qs.v[i].count; j++)
			free(qs.v[i].docs[j]);
		free(qs.v[i].docs);
		free(qs.v[i].grades);
		free(qs.v[i].id);
		free(qs.v[i].text);
	}
	free(qs.v);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "prepare") == 0)
		return prepare(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return run(argv[2], argv[3], argv[4]);
	fprintf(stderr, "usage: scifact prepare CORPUS_JSONL|- DIR\n"
			"       scifact run INDEX_HOME QUERIES_JSONL QRELS_TSV\n");
	return 2;
}
