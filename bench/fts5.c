/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fts5.c - the SQLite FTS5 baseline: index corpus.tsv (one transaction per
 * 10,000 rows, unicode61 tokenizer without diacritics, the patient an
 * indexed column) and run the query workload with the patient inside the
 * MATCH expression, ranked by bm25(), 20 hits.
 * usage: fts5 index DB TSV | fts5 query DB QUERIES | fts5 one DB PATIENT WORDS */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"

static void fail(sqlite3 *db, const char *what)
{
	fprintf(stderr, "fts5: %s: %s\n", what, db ? sqlite3_errmsg(db) : "cannot open");
	exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail(db, sql);
}

/* Split line into at most n tab-separated fields; returns how many. */
static int split(char *line, char **f, int n)
{
	int k = 0;
	f[k++] = line;
	for (char *p = line; *p && k < n; p++)
		if (*p == '\t') {
			*p = '\0';
			f[k++] = p + 1;
		}
	return k;
}

static int cmd_index(const char *dbpath, const char *tsv)
{
	sqlite3 *db;
	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		fail(db, dbpath);
	exec(db, "CREATE VIRTUAL TABLE docs USING fts5(patient, title, body, docid UNINDEXED, "
		 "type UNINDEXED, specialty UNINDEXED, date UNINDEXED, "
		 "tokenize = 'unicode61 remove_diacritics 2')");
	sqlite3_stmt *ins;
	if (sqlite3_prepare_v2(db, "INSERT INTO docs(patient, title, body, docid, type, specialty, date) "
			       "VALUES (?, ?, ?, ?, ?, ?, ?)", -1, &ins, NULL) != SQLITE_OK)
		fail(db, "prepare");
	FILE *f = fopen(tsv, "r");
	if (!f) {
		perror(tsv);
		return 1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long rows = 0;
	unsigned long long bytes = 0;
	exec(db, "BEGIN");
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		char *c[7];
		if (split(line, c, 7) != 7)
			continue;
		/* columns: patient, title, body, docid, type, specialty, date */
		const char *vals[7] = { c[0], c[5], c[6], c[1], c[2], c[3], c[4] };
		for (int i = 0; i < 7; i++)
			sqlite3_bind_text(ins, i + 1, vals[i], -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			fail(db, "insert");
		sqlite3_reset(ins);
		bytes += strlen(c[5]) + strlen(c[6]);
		if (++rows % 10000 == 0) {
			exec(db, "COMMIT");
			exec(db, "BEGIN");
		}
	}
	exec(db, "COMMIT");
	free(line);
	fclose(f);
	sqlite3_finalize(ins);
	sqlite3_stmt *cnt;
	long count = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM docs", -1, &cnt, NULL) == SQLITE_OK &&
	    sqlite3_step(cnt) == SQLITE_ROW)
		count = sqlite3_column_int64(cnt, 0);
	sqlite3_finalize(cnt);
	sqlite3_close(db);
	printf("rows=%ld count=%ld text_bytes=%llu\n", rows, count, bytes);
	return count == rows ? 0 : 1;
}

/* The MATCH expression of a query: patient:"ID" AND ("w1" OR "w2" ...),
 * or the patient alone when words is NULL; words are letters only. */
static void build_match(char *match, size_t size, const char *patient, const char *words)
{
	int len = snprintf(match, size, "patient:\"%s\"", patient);
	if (!words)
		return;
	len += snprintf(match + len, size - (size_t)len, " AND (");
	char w[224];
	snprintf(w, sizeof w, "%s", words);
	int first = 1;
	char *save = NULL;
	for (char *tok = strtok_r(w, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		len += snprintf(match + len, size - (size_t)len, "%s\"%s\"", first ? "" : " OR ", tok);
		first = 0;
	}
	snprintf(match + len, size - (size_t)len, ")");
}

static int cmd_query(const char *dbpath, const char *qpath)
{
	size_t nq;
	bench_query *qs = bench_load_queries(qpath, &nq);
	sqlite3 *db;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail(db, dbpath);
	sqlite3_stmt *browse, *ranked;
	if (sqlite3_prepare_v2(db, "SELECT docid FROM docs WHERE docs MATCH ? "
			       "ORDER BY date DESC, docid LIMIT 20", -1, &browse, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT docid, bm25(docs, 0.0, 2.0, 1.0) FROM docs WHERE docs MATCH ? "
			       "ORDER BY bm25(docs, 0.0, 2.0, 1.0) LIMIT 20", -1, &ranked, NULL) != SQLITE_OK)
		fail(db, "prepare");
	bench_stats st[3] = { { 0 } };
	char match[1024];
	for (size_t i = 0; i < nq; i++) {
		const bench_query *q = &qs[i];
		int k = bench_kind(q->kind);
		build_match(match, sizeof match, q->patient, k ? q->words : NULL);
		sqlite3_stmt *s = k ? ranked : browse;
		double t0 = bench_now_ms();
		sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
		size_t hits = 0;
		int rc;
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			hits++;
		if (rc != SQLITE_DONE)
			fail(db, match);
		sqlite3_reset(s);
		bench_stats_add(&st[k], bench_now_ms() - t0, hits);
	}
	for (int k = 0; k < 3; k++)
		bench_stats_print(&st[k], "fts5", bench_kinds[k]);
	sqlite3_finalize(browse);
	sqlite3_finalize(ranked);
	sqlite3_close(db);
	free(qs);
	return 0;
}

/* One ranked query as a process, as a viewer's script would run it: open
 * the database, print the 20 best hits (docid, title and a snippet of the
 * body), close. The process baseline beside carnet-query. */
static int cmd_one(const char *dbpath, const char *patient, const char *words)
{
	sqlite3 *db;
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		fail(db, dbpath);
	sqlite3_stmt *s;
	if (sqlite3_prepare_v2(db, "SELECT docid, title, snippet(docs, 2, '[', ']', '...', 16) "
			       "FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 0.0, 2.0, 1.0) LIMIT 20",
			       -1, &s, NULL) != SQLITE_OK)
		fail(db, "prepare");
	char match[1024];
	build_match(match, sizeof match, patient, words[0] ? words : NULL);
	sqlite3_bind_text(s, 1, match, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		printf("%s\t%s\t%s\n", (const char *)sqlite3_column_text(s, 0),
		       (const char *)sqlite3_column_text(s, 1), (const char *)sqlite3_column_text(s, 2));
	if (rc != SQLITE_DONE)
		fail(db, match);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "index") == 0)
		return cmd_index(argv[2], argv[3]);
	if (argc == 4 && strcmp(argv[1], "query") == 0)
		return cmd_query(argv[2], argv[3]);
	if (argc == 5 && strcmp(argv[1], "one") == 0)
		return cmd_one(argv[2], argv[3], argv[4]);
	fputs("usage: fts5 index DB TSV | fts5 query DB QUERIES | fts5 one DB PATIENT WORDS\n", stderr);
	return 2;
}
