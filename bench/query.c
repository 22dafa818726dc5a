/* SPDX-License-Identifier: GPL-2.0-or-later */
/* query.c - the carnet query benchmark: runs the workload in process
 * through libcarnet (carnet_index_search, as a viewer would), and times
 * carnet-query as a process.
 * usage: query [--threads T] HOME QUERIES
 *        query --exec CARNET_QUERY [--fts5 FTS5 --fts5-db DB] --calls N HOME QUERIES
 * On one thread, each browse query is followed by the key results panel
 * of the same request (carnet_index_results), timed as kind=panel.
 * environment (one thread): BENCH_TRACE=FILE each query's time, BENCH_DUMP=FILE
 * each answer in full */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "carnet.h"

/* BENCH_DUMP=FILE: everything a search answered, to compare two builds
 * byte for byte: the query, the totals, the suggestion, the facets, and
 * each hit's fields, version, score, parts and snippet (on one thread;
 * the times then count the writing: for comparing, not timing). */
static void dump_results(FILE *f, const bench_query *q, const carnet_results *res)
{
	fprintf(f, "Q\t%s\t%s\t%s\t%s\ttotal=%llu\tcount=%zu\tsuggestion=%s\n", q->kind,
		q->patient, q->specialty, q->words, (unsigned long long)carnet_results_total(res),
		carnet_results_count(res), carnet_results_suggestion(res));
	for (int fc = CARNET_FACET_TYPE; fc <= CARNET_FACET_CLASS; fc++)
		for (size_t j = 0; j < carnet_results_facet_count(res, (carnet_facet)fc); j++) {
			uint64_t c = 0;
			const char *v = carnet_results_facet(res, (carnet_facet)fc, j, &c);
			fprintf(f, "F%d\t%s\t%llu\n", fc, v, (unsigned long long)c);
		}
	for (size_t i = 0; i < carnet_results_count(res); i++) {
		fprintf(f, "H%zu\tv%d\t%.17g", i, carnet_results_version(res, i),
			carnet_results_score(res, i));
		for (int fl = CARNET_FIELD_ID; fl <= CARNET_FIELD_CLASS; fl++)
			fprintf(f, "\t%s", carnet_results_field(res, i, (carnet_field)fl));
		for (int p = CARNET_PART_TEXT; p <= CARNET_PART_RESULTS; p++)
			fprintf(f, "\t%.17g", carnet_results_part(res, i, (carnet_part)p));
		fprintf(f, "\n\t%s\n", carnet_results_snippet(res, i));
	}
}

/* One thread's share of the workload: the queries it takes from *next
 * (all of them on one thread), each timed into st by kind. */
typedef struct searcher {
	pthread_t t;
	carnet_index *idx;
	const bench_query *qs;
	size_t nq;
	atomic_size_t *next;
	bench_stats st[3];
	bench_stats panel;       /* the key results panels (one thread) */
	int panels;
	FILE *trace;
	FILE *dump;
	int failed;
} searcher;

/* The key results panel of req (a browse request), timed into w->panel,
 * its rows counted as hits. */
static int time_panel(searcher *w, const carnet_request *req)
{
	carnet_error err;
	carnet_panel *p;
	double t0 = bench_now_ms();
	if (carnet_index_results(&p, w->idx, req, &err) != CARNET_OK) {
		fprintf(stderr, "query: results %s: %s\n", req->patient_id, err.message);
		w->failed = 1;
		return -1;
	}
	size_t rows = carnet_panel_count(p);
	carnet_panel_free(p);
	double ms = bench_now_ms() - t0;
	bench_stats_add(&w->panel, ms, rows);
	if (w->trace)
		fprintf(w->trace, "%.3f\tpanel\t%s\t\t%zu\n", ms, req->patient_id, rows);
	return 0;
}

static void *search_share(void *arg)
{
	searcher *w = arg;
	carnet_error err;
	for (;;) {
		size_t i = atomic_fetch_add(w->next, 1);
		if (i >= w->nq)
			break;
		const bench_query *q = &w->qs[i];
		int k = bench_kind(q->kind);
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = q->patient;
		req.words = k ? q->words : NULL;
		req.profession = "10";
		req.specialty = q->specialty;
		req.limit = 20;
		double t0 = bench_now_ms();
		carnet_results *res;
		if (carnet_index_search(&res, w->idx, &req, &err) != CARNET_OK) {
			fprintf(stderr, "query: search %s: %s\n", q->patient, err.message);
			w->failed = 1;
			break;
		}
		size_t hits = carnet_results_count(res);
		if (w->dump)
			dump_results(w->dump, q, res);
		carnet_results_free(res);
		double ms = bench_now_ms() - t0;
		bench_stats_add(&w->st[k], ms, hits);
		if (k == 0 && w->panels && time_panel(w, &req) != 0)
			break;
		/* BENCH_TRACE=FILE: each query's time, to find the slow ones */
		if (w->trace)
			fprintf(w->trace, "%.3f\t%s\t%s\t%s\t%zu\n", ms, q->kind, q->patient,
				k ? q->words : "", hits);
	}
	return NULL;
}

/* The workload in process on `threads` threads at once, each with its
 * own index handle (as carnet-serve's workers), taking the next query
 * until none is left; the statistics over all the threads. One thread
 * prints engine=carnet, more engine=carnet-T. */
static int run_in_process(const char *home, const bench_query *qs, size_t nq, long threads)
{
	searcher *ws = calloc((size_t)threads, sizeof *ws);
	atomic_size_t next = 0;
	int rc = 0;
	long started = 0;
	if (!ws) {
		fputs("query: out of memory\n", stderr);
		return 1;
	}
	for (long t = 0; t < threads && !rc; t++) {
		carnet_error err;
		ws[t] = (searcher){ .qs = qs, .nq = nq, .next = &next };
		if (carnet_index_open(&ws[t].idx, home, &err) != CARNET_OK) {
			fprintf(stderr, "query: %s: %s\n", home, err.message);
			rc = 1;
		}
	}
	const char *tp = threads == 1 ? getenv("BENCH_TRACE") : NULL;
	ws[0].trace = tp ? fopen(tp, "w") : NULL;
	const char *dp = threads == 1 ? getenv("BENCH_DUMP") : NULL;
	ws[0].dump = dp ? fopen(dp, "w") : NULL;
	ws[0].panels = threads == 1;
	if (rc == 0 && threads == 1)
		search_share(&ws[0]);
	for (long t = 0; rc == 0 && threads > 1 && t < threads; t++, started++)
		if (pthread_create(&ws[t].t, NULL, search_share, &ws[t])) {
			fputs("query: cannot start a thread\n", stderr);
			atomic_store(&next, nq);
			rc = 1;
		}
	bench_stats st[3] = { { 0 } };
	for (long t = 0; t < threads; t++) {
		if (t < started)
			pthread_join(ws[t].t, NULL);
		rc |= ws[t].failed;
		for (int k = 0; k < 3; k++)
			bench_stats_merge(&st[k], &ws[t].st[k]);
		if (ws[t].idx)
			carnet_index_close(ws[t].idx);
	}
	char engine[32] = "carnet";
	if (threads > 1)
		snprintf(engine, sizeof engine, "carnet-%ld", threads);
	for (int k = 0; k < 3; k++)
		if (rc == 0)
			bench_stats_print(&st[k], engine, bench_kinds[k]);
		else
			free(st[k].ms);
	if (rc == 0 && threads == 1)
		bench_stats_print(&ws[0].panel, engine, "panel");
	else
		free(ws[0].panel.ms);
	if (ws[0].trace)
		fclose(ws[0].trace);
	if (ws[0].dump)
		fclose(ws[0].dump);
	free(ws);
	return rc;
}

/* Run argv as a process, output discarded; its wall time in ms goes to
 * *ms. Returns 1 if it exited 0, 0 if not, -1 if it could not be run. */
static int run_process(const char *const *argv, double *ms)
{
	double t0 = bench_now_ms();
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return -1;
	}
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		return -1;
	}
	*ms = bench_now_ms() - t0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* carnet-query as a viewer's script would run it: one process per call,
 * the first `calls` word queries of the workload, output discarded. With
 * fts5 and fts5_db, each call is followed by the same query run by a
 * one-query process of the FTS5 baseline (`fts5 one`), so that both see
 * the same load. */
static int run_exec(const char *prog, const char *fts5, const char *fts5_db, long calls,
		    const char *home, const bench_query *qs, size_t nq)
{
	bench_stats st = { 0 }, sf = { 0 };
	size_t failed = 0;
	for (size_t i = 0; i < nq && (long)st.n < calls; i++) {
		const bench_query *q = &qs[i];
		if (bench_kind(q->kind) != 1)
			continue;
		const char *cq[] = { prog, "--index", home, "--patient", q->patient, "--profession",
				     "10", "--specialty", q->specialty, q->words, NULL };
		double ms = 0;
		int ok = run_process(cq, &ms);
		if (ok < 0)
			return 1;
		failed += !ok;
		bench_stats_add(&st, ms, (size_t)ok);
		if (!fts5)
			continue;
		const char *fq[] = { fts5, "one", fts5_db, q->patient, q->words, NULL };
		ok = run_process(fq, &ms);
		if (ok < 0)
			return 1;
		failed += !ok;
		bench_stats_add(&sf, ms, (size_t)ok);
	}
	/* hit_rate here is the share of calls that exited 0 */
	bench_stats_print(&st, "carnet-query", "process");
	if (fts5)
		bench_stats_print(&sf, "fts5-one", "process");
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *prog = NULL, *fts5 = NULL, *fts5_db = NULL;
	long calls = 50, threads = 1;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "--exec") == 0)
			prog = argv[i + 1];
		else if (strcmp(argv[i], "--fts5") == 0)
			fts5 = argv[i + 1];
		else if (strcmp(argv[i], "--fts5-db") == 0)
			fts5_db = argv[i + 1];
		else if (strcmp(argv[i], "--calls") == 0)
			calls = atol(argv[i + 1]);
		else if (strcmp(argv[i], "--threads") == 0)
			threads = atol(argv[i + 1]);
		else
			break;
	}
	if (argc - i != 2 || !fts5 != !fts5_db || (fts5 && !prog) || threads < 1 || threads > 256 ||
	    (prog && threads != 1)) {
		fputs("usage: query [--threads T | --exec CARNET_QUERY [--fts5 FTS5 --fts5-db DB] "
		      "--calls N] HOME QUERIES\n", stderr);
		return 2;
	}
	size_t nq;
	bench_query *qs = bench_load_queries(argv[i + 1], &nq);
	int rc = prog ? run_exec(prog, fts5, fts5_db, calls, argv[i], qs, nq)
		      : run_in_process(argv[i], qs, nq, threads);
	free(qs);
	return rc;
}
