/* SPDX-License-Identifier: GPL-2.0-or-later */
/* eval_panel.c - how good the key results panel is (make eval): for each
 * context of corpora/eval/panels.tsv, the panel carnet_index_results gives
 * that viewer, against what a clinician of that area wants to see first,
 * beside the same analytes ordered newest first (what a plain lab viewer
 * shows).
 * usage: eval_panel INDEX_HOME PANELS_TSV */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carnet.h"
#include "metrics.h"

const char *eval_program = "eval_panel";

#define TOP 5 /* the rows a clinician reads at a glance */

struct want {
	char code[160];   /* "system|code" */
	int grade;        /* 2 followed first, 1 looked at too */
	char date[11], value[64];
};

struct pcontext {
	char name[96], patient[64], profession[16], specialty[32], as_of[11], words[128];
	struct want *w;
	size_t n, cap;
};

/* One analyte of a panel, as the evaluation reads it. */
struct shown {
	int grade;         /* the best grade of its codes, 0 if not wanted */
	char date[17];     /* its newest value's date */
	int latest_right;  /* its newest value is the judged latest (date, value) */
};

static struct pcontext *parse(const char *path, size_t *count)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(3);
	}
	struct pcontext *cs = NULL;
	size_t n = 0;
	char line[1024];
	unsigned long no = 0;
	while (fgets(line, sizeof line, f)) {
		no++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		char *col[12];
		size_t k = 0;
		for (char *p = line; k < 12; k++) {
			col[k] = p;
			char *tab = strchr(p, '\t');
			if (!tab) {
				k++;
				break;
			}
			*tab = '\0';
			p = tab + 1;
		}
		if (k != 12) {
			fprintf(stderr, "%s:%lu: 12 tab-separated fields expected\n", path, no);
			exit(3);
		}
		if (!n || strcmp(cs[n - 1].name, col[0]) != 0) {
			cs = eval_xrealloc(cs, (n + 1) * sizeof *cs);
			struct pcontext *c = &cs[n++];
			memset(c, 0, sizeof *c);
			snprintf(c->name, sizeof c->name, "%s", col[0]);
			snprintf(c->patient, sizeof c->patient, "%s", col[1]);
			snprintf(c->profession, sizeof c->profession, "%s", col[2]);
			snprintf(c->specialty, sizeof c->specialty, "%s", col[3]);
			snprintf(c->as_of, sizeof c->as_of, "%s", col[4]);
			snprintf(c->words, sizeof c->words, "%s", col[5]);
		}
		struct pcontext *c = &cs[n - 1];
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 16;
			c->w = eval_xrealloc(c->w, c->cap * sizeof *c->w);
		}
		struct want *w = &c->w[c->n++];
		snprintf(w->code, sizeof w->code, "%s|%s", col[6], col[7]);
		w->grade = atoi(col[8]);
		snprintf(w->date, sizeof w->date, "%s", col[9]);
		snprintf(w->value, sizeof w->value, "%s", col[10]);
	}
	fclose(f);
	*count = n;
	return cs;
}

static const struct want *wanted(const struct pcontext *c, const char *system, const char *code)
{
	char key[160];
	snprintf(key, sizeof key, "%s|%s", system, code);
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->w[i].code, key) == 0)
			return &c->w[i];
	return NULL;
}

/* The panel of context c, each analyte judged; how many. */
static size_t panel_of(carnet_index *idx, const struct pcontext *c, struct shown **out)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = c->patient;
	req.words = c->words[0] ? c->words : NULL;
	req.profession = c->profession;
	req.specialty = c->specialty[0] ? c->specialty : NULL;
	req.as_of = c->as_of;
	carnet_panel *p;
	carnet_error err;
	if (carnet_index_results(&p, idx, &req, &err) != CARNET_OK)
		eval_die(&err, c->name);
	size_t n = carnet_panel_count(p);
	struct shown *s = eval_xrealloc(NULL, (n ? n : 1) * sizeof *s);
	for (size_t i = 0; i < n; i++) {
		s[i].grade = 0;
		s[i].latest_right = 0;
		snprintf(s[i].date, sizeof s[i].date, "%s",
			 carnet_panel_value(p, i, 0, CARNET_VALUE_DATE));
		const struct want *first = NULL;
		for (size_t j = 0; j < carnet_panel_values(p, i); j++) {
			const struct want *w = wanted(c, carnet_panel_value(p, i, j, CARNET_VALUE_SYSTEM),
						      carnet_panel_value(p, i, j, CARNET_VALUE_CODE));
			if (w && w->grade > s[i].grade)
				s[i].grade = w->grade;
			if (w && !first)
				first = w;
		}
		/* the newest value shown is the latest the record holds */
		if (first)
			s[i].latest_right =
				strncmp(carnet_panel_value(p, i, 0, CARNET_VALUE_DATE), first->date, 10) == 0 &&
				strcmp(carnet_panel_value(p, i, 0, CARNET_VALUE_ORIGINAL), first->value) == 0;
	}
	carnet_panel_free(p);
	*out = s;
	return n;
}

/* Precision at TOP (wanted rows among the first TOP shown), recall at
 * TOP of the analytes followed first, and the share of the wanted rows
 * shown whose newest value is the latest. */
static void measure(const struct pcontext *c, const struct shown *s, size_t n, double m[3])
{
	size_t top = n < TOP ? n : TOP, good = 0, core_top = 0, core = 0, shown_w = 0, right = 0;
	for (size_t i = 0; i < c->n; i++)
		core += c->w[i].grade == 2;
	for (size_t i = 0; i < n; i++) {
		if (i < top && s[i].grade > 0)
			good++;
		if (i < top && s[i].grade == 2)
			core_top++;
		if (s[i].grade > 0) {
			shown_w++;
			right += (size_t)s[i].latest_right;
		}
	}
	size_t core_max = core < TOP ? core : TOP;
	m[0] = top ? (double)good / (double)top : 0;
	m[1] = core_max ? (double)core_top / (double)core_max : 0;
	m[2] = shown_w ? (double)right / (double)shown_w : 0;
}

static int newest_first(const void *a, const void *b)
{
	return strcmp(((const struct shown *)b)->date, ((const struct shown *)a)->date);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: eval_panel INDEX_HOME PANELS_TSV\n");
		return 2;
	}
	size_t nc;
	struct pcontext *cs = parse(argv[2], &nc);
	carnet_index *idx;
	carnet_error err;
	if (carnet_index_open(&idx, argv[1], &err) != CARNET_OK)
		eval_die(&err, argv[1]);
	printf("Key results panel: %zu contexts of %s; the first %d rows against what a\n"
	       "clinician of that area wants (grade 2: followed first), beside the same\n"
	       "analytes newest first.\n\n", nc, argv[2], TOP);
	printf("%-28s %-20s %9s %9s %7s   %9s %9s\n", "context", "words", "P@5", "core@5", "latest",
	       "P@5 new", "core@5 new");
	double sum[5] = { 0 };
	for (size_t i = 0; i < nc; i++) {
		struct shown *s;
		size_t n = panel_of(idx, &cs[i], &s);
		double m[3], b[3];
		measure(&cs[i], s, n, m);
		qsort(s, n, sizeof *s, newest_first);
		measure(&cs[i], s, n, b);
		printf("%-28s %-20s %9.3f %9.3f %7.3f   %9.3f %9.3f\n", cs[i].name,
		       cs[i].words[0] ? cs[i].words : "(browse)", m[0], m[1], m[2], b[0], b[1]);
		sum[0] += m[0], sum[1] += m[1], sum[2] += m[2], sum[3] += b[0], sum[4] += b[1];
		free(s);
		free(cs[i].w);
	}
	double k = nc ? (double)nc : 1;
	printf("\n%-28s %-20s %9.3f %9.3f %7.3f   %9.3f %9.3f\n", "mean", "", sum[0] / k, sum[1] / k,
	       sum[2] / k, sum[3] / k, sum[4] / k);
	carnet_index_close(idx);
	free(cs);
	return 0;
}
