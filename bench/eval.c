/* SPDX-License-Identifier: GPL-2.0-or-later */
/* eval.c - the relevance evaluation of carnet on the judged corpus
 * (corpora/eval/judgments.tsv): nDCG@5 and nDCG@10 per context for carnet
 * beside two baselines computed in the same run, newest-first and BM25 alone.
 *
 *   eval INDEX_HOME JUDGMENTS_TSV
 *   eval --self-test          check the measures and the parser on hand-made cases
 */
#include <carnet.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

const char *eval_program = "eval";

#define HITS_MAX 1000 /* carnet's largest page: every document of a context */

struct judged {
	char *id;
	int grade;
};

struct context {
	char *name, *patient, *profession, *specialty, *as_of, *words;
	struct judged *judged; /* every document graded for this context */
	size_t count, cap;
};

struct hit {
	char *id;
	char *date; /* YYYY-MM-DD */
};

struct contexts {
	struct context *v;
	size_t count, cap;
};


/*
 * Read judgments: tab-separated lines of context, patient_id, profession,
 * specialty, as_of, words, doc_id, grade; '#' lines and blank lines are
 * skipped. Contexts keep the order in which they first appear. Returns 0,
 * or -1 after printing the line at fault.
 */
static int parse(FILE *f, const char *path, struct contexts *out)
{
	char *line = NULL;
	size_t size = 0;
	long lineno = 0;
	ssize_t len;
	while ((len = getline(&line, &size, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		char *field[8];
		int nf = 0;
		for (char *s = line; nf < 8; nf++) {
			field[nf] = s;
			char *tab = strchr(s, '\t');
			if (!tab) {
				nf++;
				break;
			}
			*tab = '\0';
			s = tab + 1;
		}
		char *end;
		long grade = nf == 8 ? strtol(field[7], &end, 10) : -1;
		if (nf != 8 || strchr(field[7], '\t') || end == field[7] || *end || grade < 0 || grade > 3 ||
		    !*field[0] || !*field[1] || !*field[2] || strlen(field[4]) != 10 || !*field[6]) {
			fprintf(stderr, "eval: %s:%ld: expected context, patient_id, profession, specialty, "
					"as_of, words, doc_id, grade 0-3\n", path, lineno);
			free(line);
			return -1;
		}
		struct context *c = NULL;
		for (size_t i = 0; i < out->count; i++)
			if (strcmp(out->v[i].name, field[0]) == 0)
				c = &out->v[i];
		if (!c) {
			if (out->count == out->cap) {
				out->cap = out->cap ? 2 * out->cap : 16;
				out->v = eval_xrealloc(out->v, out->cap * sizeof *out->v);
			}
			c = &out->v[out->count++];
			memset(c, 0, sizeof *c);
			c->name = eval_xstrdup(field[0]);
			c->patient = eval_xstrdup(field[1]);
			c->profession = eval_xstrdup(field[2]);
			c->specialty = eval_xstrdup(field[3]);
			c->as_of = eval_xstrdup(field[4]);
			c->words = eval_xstrdup(field[5]);
		} else if (strcmp(c->patient, field[1]) || strcmp(c->profession, field[2]) ||
			   strcmp(c->specialty, field[3]) || strcmp(c->as_of, field[4]) ||
			   strcmp(c->words, field[5])) {
			fprintf(stderr, "eval: %s:%ld: context %s changes its patient, viewer or words\n",
				path, lineno, field[0]);
			free(line);
			return -1;
		}
		if (c->count == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 32;
			c->judged = eval_xrealloc(c->judged, c->cap * sizeof *c->judged);
		}
		c->judged[c->count].id = eval_xstrdup(field[6]);
		c->judged[c->count].grade = (int)grade;
		c->count++;
	}
	free(line);
	return 0;
}

static void free_contexts(struct contexts *cs)
{
	for (size_t i = 0; i < cs->count; i++) {
		struct context *c = &cs->v[i];
		for (size_t j = 0; j < c->count; j++)
			free(c->judged[j].id);
		free(c->judged);
		free(c->name);
		free(c->patient);
		free(c->profession);
		free(c->specialty);
		free(c->as_of);
		free(c->words);
	}
	free(cs->v);
	memset(cs, 0, sizeof *cs);
}

static int grade_of(const struct context *c, const char *id)
{
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->judged[i].id, id) == 0)
			return c->judged[i].grade;
	return 0;
}

/* nDCG at k of a ranking of hits for context c. */
static double ndcg(const struct context *c, const struct hit *hits, size_t n, size_t k)
{
	int *gains = eval_xrealloc(NULL, (n ? n : 1) * sizeof *gains);
	int *judged = eval_xrealloc(NULL, (c->count ? c->count : 1) * sizeof *judged);
	for (size_t i = 0; i < n; i++)
		gains[i] = grade_of(c, hits[i].id);
	for (size_t i = 0; i < c->count; i++)
		judged[i] = c->judged[i].grade;
	double v = metric_ndcg(gains, n, judged, c->count, k);
	free(gains);
	free(judged);
	return v;
}

static int by_date_down(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;
	int d = strcmp(y->date, x->date);
	return d ? d : strcmp(x->id, y->id);
}

/* The newest-first baseline: the same hits, by date (newest first), then id. */
static void newest_first(struct hit *hits, size_t n)
{
	qsort(hits, n, sizeof *hits, by_date_down);
}

/*
 * Run the search of context c on idx (every hit, up to HITS_MAX) and copy
 * the hits in rank order. Any library error ends the program.
 */
static size_t search(carnet_index *idx, const struct context *c, struct hit **out)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = c->patient;
	req.words = *c->words ? c->words : NULL;
	req.limit = HITS_MAX;
	req.profession = c->profession;
	req.specialty = *c->specialty ? c->specialty : NULL;
	req.as_of = c->as_of;
	req.flags = CARNET_REQUEST_NO_SNIPPETS;
	carnet_results *res;
	carnet_error err;
	if (carnet_index_search(&res, idx, &req, &err) != CARNET_OK)
		eval_die(&err, c->name);
	size_t n = carnet_results_count(res);
	struct hit *hits = eval_xrealloc(NULL, (n ? n : 1) * sizeof *hits);
	for (size_t i = 0; i < n; i++) {
		hits[i].id = eval_xstrdup(carnet_results_field(res, i, CARNET_FIELD_ID));
		hits[i].date = eval_xstrdup(carnet_results_field(res, i, CARNET_FIELD_DATE));
	}
	carnet_results_free(res);
	*out = hits;
	return n;
}

static void free_hits(struct hit *hits, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(hits[i].id);
		free(hits[i].date);
	}
	free(hits);
}

/* Print s left-aligned in width columns, counting UTF-8 characters. */
static void pad(const char *s, int width)
{
	int chars = 0;
	for (const char *p = s; *p; p++)
		chars += ((unsigned char)*p & 0xC0) != 0x80;
	fputs(s, stdout);
	for (; chars < width; chars++)
		putchar(' ');
}

static void row(const char *name, const char *viewer, const char *words, const double v[6], int fallback)
{
	pad(name, 30);
	pad(viewer, 9);
	pad(words, 22);
	printf("%6.3f %6.3f   %6.3f %6.3f   %6.3f %6.3f%s\n", v[0], v[1], v[2], v[3], v[4], v[5],
	       fallback ? " *" : "");
}

static int evaluate(const char *home, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		return 3;
	}
	struct contexts cs = { 0 };
	int rc = parse(f, path, &cs);
	fclose(f);
	if (rc)
		return 3;
	if (cs.count == 0) {
		free_contexts(&cs);
		fprintf(stderr, "eval: %s: no judgments\n", path);
		return 3;
	}

	carnet_index *idx, *text_idx;
	carnet_error err;
	if (carnet_index_open(&idx, home, &err) != CARNET_OK)
		eval_die(&err, home);
	if (carnet_index_open(&text_idx, home, &err) != CARNET_OK)
		eval_die(&err, home);
	if (carnet_index_set_ranking(text_idx, EVAL_TEXT_ONLY, &err) != CARNET_OK)
		eval_die(&err, "text-only ranking");

	printf("Relevance on corpora/eval: %zu contexts (patient x viewer x words), nDCG with gain = grade\n\n",
	       cs.count);
	pad("context", 30);
	pad("viewer", 9);
	pad("words", 22);
	printf("   carnet          newest-first     BM25 alone\n");
	pad("", 61);
	printf("    @5    @10       @5    @10       @5    @10\n");

	double sum[3][6] = { { 0 } }; /* all, browse, words */
	size_t count[3] = { 0 }, wins = 0;
	for (size_t i = 0; i < cs.count; i++) {
		const struct context *c = &cs.v[i];
		struct hit *ranked, *newest, *text;
		size_t n = search(idx, c, &ranked);
		size_t nn = search(idx, c, &newest);
		newest_first(newest, nn);
		int browse = *c->words == '\0';
		size_t nt = browse ? 0 : search(text_idx, c, &text);
		double v[6];
		v[0] = ndcg(c, ranked, n, 5);
		v[1] = ndcg(c, ranked, n, 10);
		v[2] = ndcg(c, newest, nn, 5);
		v[3] = ndcg(c, newest, nn, 10);
		v[4] = browse ? v[2] : ndcg(c, text, nt, 5);
		v[5] = browse ? v[3] : ndcg(c, text, nt, 10);
		char viewer[64];
		snprintf(viewer, sizeof viewer, "%s%s%s", c->profession, *c->specialty ? "/" : "", c->specialty);
		row(c->name, viewer, browse ? "(browse)" : c->words, v, browse);
		for (int j = 0; j < 6; j++) {
			sum[0][j] += v[j];
			sum[browse ? 1 : 2][j] += v[j];
		}
		count[0]++;
		count[browse ? 1 : 2]++;
		wins += v[1] > v[3] + 1e-9 && v[1] > v[5] + 1e-9;
		free_hits(ranked, n);
		free_hits(newest, nn);
		if (!browse)
			free_hits(text, nt);
	}
	static const char *const label[3] = { "mean", "mean (browse)", "mean (words)" };
	printf("\n");
	for (int g = 0; g < 3; g++) {
		if (!count[g])
			continue;
		double m[6];
		for (int j = 0; j < 6; j++)
			m[j] = sum[g][j] / (double)count[g];
		char n[32];
		snprintf(n, sizeof n, "%zu contexts", count[g]);
		row(label[g], "", n, m, 0);
	}
	printf("\n* browse mode: BM25 is undefined without words; the newest-first ranking stands in for it.\n");
	printf("carnet beats both on %zu of %zu contexts (nDCG@10 strictly above newest-first and BM25 alone)\n",
	       wins, cs.count);

	carnet_index_close(idx);
	carnet_index_close(text_idx);
	free_contexts(&cs);
	return 0;
}

/* ---- self-test ---------------------------------------------------------- */

static int failures;

static void expect(const char *what, double got, double want)
{
	if (fabs(got - want) > 1e-6) {
		fprintf(stderr, "self-test: %s: got %.7f, want %.7f\n", what, got, want);
		failures++;
	}
}

static int self_test(void)
{
	const int judged[] = { 3, 2, 1, 0 };
	const int ranking[] = { 3, 0, 2 };
	/* DCG = 3 + 0 + 2/log2(4) = 4; ideal = 3 + 2/log2(3) + 1/log2(4) */
	expect("ndcg@5 of 3,0,2", metric_ndcg(ranking, 3, judged, 4, 5), 0.8400080);
	expect("ndcg@2 of 3,0,2", metric_ndcg(ranking, 3, judged, 4, 2), 3 / (3 + 2 / log2(3)));
	const int perfect[] = { 3, 2, 1 };
	expect("ndcg@10 of the ideal ranking", metric_ndcg(perfect, 3, judged, 4, 10), 1);
	expect("ndcg of an empty ranking", metric_ndcg(NULL, 0, judged, 4, 10), 0);
	const int none[] = { 0, 0 };
	expect("ndcg with nothing relevant", metric_ndcg(none, 2, none, 2, 10), 0);
	const int late[] = { 0, 0, 0, 0, 0, 3 };
	const int one[] = { 3 };
	expect("ndcg@5 of a hit at rank 6", metric_ndcg(late, 6, one, 1, 5), 0);
	expect("ndcg@10 of a hit at rank 6", metric_ndcg(late, 6, one, 1, 10), 1 / log2(7));
	const int found[] = { 1, 0, 1 };
	const int rel[] = { 1, 1, 1, 1 };
	expect("recall@2", metric_recall(found, 3, rel, 4, 2), 0.25);
	expect("recall@100", metric_recall(found, 3, rel, 4, 100), 0.5);

	/* judgments: comments, an empty specialty and empty words, grades */
	static char text[] =
		"# a comment\n"
		"\n"
		"A\tP1\t21\t\t2026-01-01\t\td1\t3\n"
		"B\tP1\t10\tSM04\t2026-01-01\tHTA\td2\t1\n"
		"A\tP1\t21\t\t2026-01-01\t\td3\t2\n";
	FILE *f = fmemopen(text, strlen(text), "r");
	struct contexts cs = { 0 };
	if (!f || parse(f, "self-test", &cs) != 0 || cs.count != 2 || cs.v[0].count != 2 ||
	    strcmp(cs.v[0].specialty, "") || strcmp(cs.v[0].words, "") || strcmp(cs.v[1].words, "HTA") ||
	    grade_of(&cs.v[0], "d3") != 2 || grade_of(&cs.v[0], "d2") != 0) {
		fprintf(stderr, "self-test: parsing judgments\n");
		failures++;
	}
	if (f)
		fclose(f);
	static char bad[] = "A\tP1\t21\t\t2026-01-01\t\td1\t4\n";
	f = fmemopen(bad, strlen(bad), "r");
	struct contexts none_cs = { 0 };
	fprintf(stderr, "self-test: a grade of 4 must be refused:\n  ");
	if (!f || parse(f, "self-test", &none_cs) == 0) {
		fprintf(stderr, "self-test: a grade of 4 was accepted\n");
		failures++;
	}
	if (f)
		fclose(f);

	/* newest-first: date down, then id up */
	char a[] = "a", b[] = "b", c[] = "c", d1[] = "2024-01-01", d2[] = "2025-06-01";
	struct hit hits[] = { { b, d1 }, { c, d2 }, { a, d1 } };
	newest_first(hits, 3);
	if (strcmp(hits[0].id, "c") || strcmp(hits[1].id, "a") || strcmp(hits[2].id, "b")) {
		fprintf(stderr, "self-test: newest-first order\n");
		failures++;
	}
	/* a context's nDCG from its judged documents */
	if (cs.count == 2) {
		char i1[] = "d3", i2[] = "x", i3[] = "d1", none_date[] = "";
		struct hit r[] = { { i1, none_date }, { i2, none_date }, { i3, none_date } };
		expect("context ndcg@5", ndcg(&cs.v[0], r, 3, 5), (2 + 3 / 2.0) / (3 + 2 / log2(3)));
	}
	free_contexts(&cs);
	free_contexts(&none_cs);
	printf("self-test: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--self-test") == 0)
		return self_test();
	if (argc != 3) {
		fprintf(stderr, "usage: eval INDEX_HOME JUDGMENTS_TSV\n       eval --self-test\n");
		return 2;
	}
	return evaluate(argv[1], argv[2]);
}
