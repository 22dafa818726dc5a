/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_nightly.c - the nightly job under stress: carnet-index killed with
 * SIGKILL at random moments of a sync must leave an index equal to one
 * built cleanly; viewers keep answering while a sync and a rebuild run. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"

/* 25 patients x 60 documents, and a second version of every fourth: 1875
 * files; make stress multiplies the documents by 5 (CARNET_STRESS=1). */
#define PATIENTS 25
#define MAX_DOCS 300
static int DOCS = 60;

static char src[4096], clean[4096], crashed[4096];

static void init(void)
{
	if (getenv("CARNET_STRESS"))
		DOCS = MAX_DOCS;
	const char *tmp = th_tmpdir();
	snprintf(src, sizeof src, "%s/src", tmp);
	snprintf(clean, sizeof clean, "%s/clean", tmp);
	snprintf(crashed, sizeof crashed, "%s/crashed", tmp);
}

TestSuite(nightly, .init = init, .fini = th_cleanup);

static uint64_t rng = 0x2545F4914F6CDD1Dull;

static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static const char *words[] = { "hémoglobine", "créatinine", "œdème", "échographie",
			       "conclusion", "tension", "asthme", "rétinopathie",
			       "insuffisance", "kaliémie", "vaccination", "fracture" };

/* Write (or rewrite, with `round` changing the text) document d of patient p;
 * every fourth document has a second version in another file. */
static void write_doc(int p, int d, int round)
{
	char text[512], meta[512];
	const char *path = th_path("%s/p%02d/d%03d.txt", src, p, d);
	snprintf(text, sizeof text, "Compte rendu %d\n%s %s %s, révision %d.\n", d,
		 words[(p + d) % 12], words[(p * 5 + d) % 12], words[(d * 7) % 12], round);
	th_write_str(path, text);
	snprintf(meta, sizeof meta,
		 "{\"patient_id\":\"P%02d\",\"id\":\"P%02d-D%03d\",\"set_id\":\"P%02d-S%03d\","
		 "\"version\":1,\"date\":\"20%02d-%02d-%02d\",\"type\":\"11502-2\"}",
		 p, p, d, p, d, 15 + d % 10, 1 + d % 12, 1 + d % 28);
	th_write_str(th_path("%s.meta.json", path), meta);
	if (d % 4 == 0) {
		path = th_path("%s/p%02d/d%03d-v2.txt", src, p, d);
		snprintf(text, sizeof text, "Compte rendu %d corrigé\n%s %s, révision %d.\n", d,
			 words[(p + d + 1) % 12], words[(d * 3) % 12], round);
		th_write_str(path, text);
		snprintf(meta, sizeof meta,
			 "{\"patient_id\":\"P%02d\",\"id\":\"P%02d-D%03d-v2\",\"set_id\":\"P%02d-S%03d\","
			 "\"version\":2,\"date\":\"20%02d-%02d-%02d\",\"type\":\"11502-2\"}",
			 p, p, d, p, d, 15 + d % 10, 1 + d % 12, 2 + d % 27);
		th_write_str(th_path("%s.meta.json", path), meta);
	}
}

/* Start carnet-index with args; returns its pid. */
static pid_t spawn(const char *const argv[])
{
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		execv(th_path("%s/%s", th_build(), argv[0]), (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sync src into home to the end; returns how long it took. */
static double sync_to_end(const char *home)
{
	const char *argv[] = { "carnet-index", "--index", home, "--quiet", "--batch", "25",
			       "sync", src, NULL };
	double t = now();
	cr_assert_eq(wait_exit(spawn(argv)), 0, "sync of %s", home);
	return now() - t;
}

/* Kill a sync of src into home `kills` times at random moments within
 * `span` seconds, then let one finish. */
static void sync_with_kills(const char *home, int kills, double span)
{
	const char *argv[] = { "carnet-index", "--index", home, "--quiet", "--batch", "25",
			       "sync", src, NULL };
	for (int k = 0; k < kills; k++) {
		pid_t pid = spawn(argv);
		double delay = (double)(next() % 1000) / 1000.0 * span;
		struct timespec ts = { (time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9) };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		kill(pid, SIGKILL);
		int rc = wait_exit(pid);
		cr_assert(rc == 128 + SIGKILL || rc == 0, "sync ended with %d", rc);
	}
	sync_to_end(home);
}

typedef struct snapshot {
	char lines[PATIENTS * (MAX_DOCS + 1) * 6][48];
	size_t count;
} snapshot;

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Every document version of every patient, and the answers to a few
 * queries, as sorted lines. */
static void take(snapshot *s, const char *home)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	uint64_t in_index, in_registry;
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, &in_index, &err), CARNET_OK);
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_REGISTERED, &in_registry, &err), CARNET_OK);
	cr_assert_eq(in_index, in_registry, "%s: index and registry agree", home);
	s->count = 0;
	const char *queries[] = { NULL, "conclusion", "hemoglobine", "oedeme kaliemie" };
	for (int p = 0; p < PATIENTS; p++) {
		char pid[16];
		snprintf(pid, sizeof pid, "P%02d", p);
		for (size_t q = 0; q < 4; q++) {
			carnet_request req = CARNET_REQUEST_INIT;
			req.patient_id = pid;
			req.profession = "10";
			req.words = queries[q];
			req.limit = 1000;
			req.flags = q == 0 ? CARNET_REQUEST_ALL_VERSIONS : 0;
			carnet_results *res;
			cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s",
				     err.message);
			cr_assert_leq(s->count + carnet_results_count(res),
				      sizeof s->lines / sizeof s->lines[0]);
			for (size_t i = 0; i < carnet_results_count(res); i++)
				snprintf(s->lines[s->count++], 48, "%zu %s v%d", q,
					 carnet_results_field(res, i, CARNET_FIELD_ID),
					 carnet_results_version(res, i));
			carnet_results_free(res);
		}
	}
	carnet_index_close(idx);
	qsort(s->lines, s->count, sizeof s->lines[0], cmp_lines);
}

static void same(const char *a, const char *b)
{
	static snapshot sa, sb;
	take(&sa, a);
	take(&sb, b);
	cr_assert_eq(sa.count, sb.count, "%zu answers against %zu", sa.count, sb.count);
	for (size_t i = 0; i < sa.count; i++)
		cr_assert_str_eq(sa.lines[i], sb.lines[i]);
}

Test(nightly, killed_syncs_end_equal_to_a_clean_build, .timeout = 300)
{
	for (int p = 0; p < PATIENTS; p++)
		for (int d = 0; d < DOCS; d++)
			write_doc(p, d, 0);
	double span = sync_to_end(clean);
	/* 10 kills during the first sync */
	sync_with_kills(crashed, 10, span);
	same(clean, crashed);

	/* the source changes: files removed, changed and added */
	for (int p = 0; p < PATIENTS; p += 2) {
		remove(th_path("%s/p%02d/d%03d.txt", src, p, 1));
		remove(th_path("%s/p%02d/d%03d.txt.meta.json", src, p, 1));
		remove(th_path("%s/p%02d/d%03d-v2.txt", src, p, 4));
		remove(th_path("%s/p%02d/d%03d-v2.txt.meta.json", src, p, 4));
		write_doc(p, 2, 1);
		write_doc(p, DOCS, 1);
	}
	span = sync_to_end(clean);
	/* 10 kills during the sync of the changes */
	sync_with_kills(crashed, 10, span > 0.05 ? span : 0.05);
	same(clean, crashed);
	cr_log_info("clean sync of the changes took %.2f s", span);
}

Test(nightly, viewers_keep_answering_during_sync_and_rebuild, .timeout = 300)
{
	for (int p = 0; p < PATIENTS; p++)
		for (int d = 0; d < DOCS / 2; d++)
			write_doc(p, d, 0);
	sync_to_end(clean);
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, clean, &err), CARNET_OK, "%s", err.message);

	/* more documents to sync, then a rebuild, while we search */
	for (int p = 0; p < PATIENTS; p++)
		for (int d = DOCS / 2; d < DOCS; d++)
			write_doc(p, d, 0);
	const char *sync_argv[] = { "carnet-index", "--index", clean, "--quiet", "--batch", "10",
				    "sync", src, NULL };
	const char *rebuild_argv[] = { "carnet-index", "--index", clean, "--quiet", "--batch", "50",
				       "rebuild", src, NULL };
	const char *const *jobs[] = { sync_argv, rebuild_argv };
	unsigned long searches = 0, errors = 0, empty = 0;
	for (int j = 0; j < 2; j++) {
		pid_t pid = spawn(jobs[j]);
		int status, done = 0;
		while (!done) {
			carnet_request req = CARNET_REQUEST_INIT;
			char pid_s[16];
			snprintf(pid_s, sizeof pid_s, "P%02d", (int)(searches % PATIENTS));
			req.patient_id = pid_s;
			req.profession = "10";
			req.words = searches % 2 ? "conclusion compte" : NULL;
			carnet_results *res;
			if (carnet_index_search(&res, idx, &req, &err) != CARNET_OK) {
				errors++;
				cr_log_error("search failed during %s: %s", jobs[j][6], err.message);
			} else {
				if (carnet_results_count(res) == 0)
					empty++;
				carnet_results_free(res);
			}
			searches++;
			done = waitpid(pid, &status, WNOHANG) == pid;
		}
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed", jobs[j][6]);
	}
	uint64_t gen;
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_GENERATION, &gen, &err), CARNET_OK);
	carnet_index_close(idx);
	cr_log_info("%lu searches during a sync and a rebuild", searches);
	cr_assert_gt(searches, 20);
	cr_assert_eq(errors, 0);
	cr_assert_eq(empty, 0);
	cr_assert_eq(gen, 2, "the handle moved to the rebuilt generation by itself");
}

Test(nightly, a_crash_between_the_two_commits_is_repaired_by_the_next_run)
{
	for (int d = 0; d < 5; d++)
		write_doc(0, d, 0);
	sync_to_end(crashed);
	/* a new file is committed to the index, and the job dies before the
	 * registry commits */
	write_doc(0, 9, 0);
	setenv("CARNET_CRASH_AT", "between-index-and-registry-commits", 1);
	/* the testing copy (make testing): only it has the crash point */
	const char *argv[] = { "testing/carnet-index", "--index", crashed, "--quiet", "sync", src,
			       NULL };
	int rc = wait_exit(spawn(argv));
	unsetenv("CARNET_CRASH_AT");
	cr_assert_eq(rc, 99, "the crash point was reached");
	carnet_index *idx;
	cr_assert_eq(carnet_index_open(&idx, crashed, NULL), CARNET_OK);
	uint64_t in_index, in_registry;
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, &in_index, NULL), CARNET_OK);
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_REGISTERED, &in_registry, NULL), CARNET_OK);
	cr_assert_eq(in_index, in_registry + 1, "the index is one document ahead");
	carnet_index_close(idx);
	/* the file goes away before the next run: nothing will re-read it */
	remove(th_path("%s/p00/d009.txt", src));
	remove(th_path("%s/p00/d009.txt.meta.json", src));
	sync_to_end(crashed);
	write_doc(0, 0, 0);
	sync_to_end(clean);
	same(clean, crashed);
}

/* --- readers never fail while syncs and rebuilds run --- */

enum { RP = 10, RD = 20 }; /* patients and documents of the readers' test */

typedef struct reader {
	const char *home;
	atomic_int *stop;
	unsigned long searches, failures, wrong;
	char first[640];          /* the first failure or wrong answer */
	uint64_t rng;
} reader;

/* Is the answer exactly patient p's record (newest versions)? Says why not
 * into why. */
static int right_answer(const carnet_results *res, int p, char *why, size_t size)
{
	char patient[8];
	snprintf(patient, sizeof patient, "P%02d", p);
	unsigned char seen[RD] = { 0 };
	size_t n = carnet_results_count(res);
	for (size_t i = 0; i < n; i++) {
		const char *id = carnet_results_field(res, i, CARNET_FIELD_ID);
		const char *who = carnet_results_field(res, i, CARNET_FIELD_PATIENT);
		int ip, d;
		char tail[8] = "";
		if (strcmp(who, patient) != 0 ||
		    sscanf(id, "P%d-D%d%7s", &ip, &d, tail) < 2 || ip != p || d < 0 || d >= RD ||
		    strcmp(tail, d % 4 == 0 ? "-v2" : "") != 0 || seen[d]++) {
			snprintf(why, size, "%s: hit %s of patient %s", patient, id, who);
			return 0;
		}
	}
	if (n != RD) {
		snprintf(why, size, "%s: %zu hits instead of %d", patient, n, RD);
		return 0;
	}
	return 1;
}

static void *read_on(void *arg)
{
	reader *r = arg;
	carnet_index *idx;
	carnet_error err;
	if (carnet_index_open(&idx, r->home, &err) != CARNET_OK) {
		r->failures++;
		snprintf(r->first, sizeof r->first, "open: %s", err.message);
		return NULL;
	}
	while (!atomic_load(r->stop)) {
		r->rng = r->rng * 6364136223846793005ull + 1442695040888963407ull;
		int p = (int)((r->rng >> 33) % RP);
		char patient[8];
		snprintf(patient, sizeof patient, "P%02d", p);
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = patient;
		req.profession = "10";
		req.words = r->searches % 2 ? "compte rendu" : NULL;
		carnet_results *res;
		r->searches++;
		if (carnet_index_search(&res, idx, &req, &err) != CARNET_OK) {
			if (!r->failures++)
				snprintf(r->first, sizeof r->first, "search failed: %s", err.message);
			continue;
		}
		char why[256];
		if (!right_answer(res, p, why, sizeof why) && !r->wrong++ && !r->failures)
			snprintf(r->first, sizeof r->first, "wrong answer: %s", why);
		carnet_results_free(res);
	}
	carnet_index_close(idx);
	return NULL;
}

Test(nightly, readers_never_fail_while_syncs_and_rebuilds_run, .timeout = 300)
{
	for (int p = 0; p < RP; p++)
		for (int d = 0; d < RD; d++)
			write_doc(p, d, 0);
	sync_to_end(clean);
	atomic_int stop = 0;
	reader rs[2];
	pthread_t th[2];
	for (int i = 0; i < 2; i++) {
		memset(&rs[i], 0, sizeof rs[i]);
		rs[i].home = clean;
		rs[i].stop = &stop;
		rs[i].rng = 1234567u + (uint64_t)i;
		cr_assert_eq(pthread_create(&th[i], NULL, read_on, &rs[i]), 0);
	}
	/* the writer: documents rewritten and synced, and every other round
	 * the index rebuilt, for a bounded time (longer under make stress),
	 * two rebuilds at least (one under the sanitizers, which slow the
	 * writer: the other tests of the suite run beside this one) */
	/* a commit per document: many revisions go by under each reader */
	const char *sync_argv[] = { "carnet-index", "--index", clean, "--quiet", "--batch", "1",
				    "sync", src, NULL };
	const char *rebuild_argv[] = { "carnet-index", "--index", clean, "--quiet", "rebuild",
				       src, NULL };
	int slow = getenv("CARNET_SANITIZE") && strcmp(getenv("CARNET_SANITIZE"), "1") == 0;
	double span = getenv("CARNET_STRESS") ? 60 : slow ? 2 : 6, start = now();
	int rounds = 0, rebuilds = 0;
	while (now() - start < span || rebuilds < (slow ? 1 : 2)) {
		rounds++;
		for (int k = 0; k < 20; k++)
			write_doc((int)(next() % RP), (int)(next() % RD), rounds);
		int rc = wait_exit(spawn(sync_argv));
		if (rc != 0)
			break;
		if (rounds % 2 == 0) {
			rebuilds++;
			if ((rc = wait_exit(spawn(rebuild_argv))) != 0)
				break;
		}
	}
	atomic_store(&stop, 1);
	unsigned long searches = 0;
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		searches += rs[i].searches;
		cr_assert_eq(rs[i].failures + rs[i].wrong, 0,
			     "reader %d: %lu failures, %lu wrong answers in %lu searches; %s", i,
			     rs[i].failures, rs[i].wrong, rs[i].searches, rs[i].first);
	}
	cr_log_info("%lu searches during %d syncs and %d rebuilds", searches, rounds, rebuilds);
	cr_assert_geq(rebuilds, slow ? 1 : 2, "the writer rebuilt the index while readers searched");
	cr_assert_gt(searches, 100);
	/* and the writer's last state is what readers now see */
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, clean, &err), CARNET_OK, "%s", err.message);
	uint64_t gen;
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_GENERATION, &gen, &err), CARNET_OK);
	cr_assert_eq(gen, (uint64_t)rebuilds + 1);
	carnet_index_close(idx);
}

/* ---- What a sync refuses, the walk's rules, renames ---- */

static char *out, *err;
static char base[4000], home_[4096]; /* the test's directory; its index */

/* Run carnet-index with args to the end, stdout and stderr in out and
 * err. The child has an alarm: a hang (a FIFO opened, a walk that
 * loops) ends it with SIGALRM, which the test reports as a failure. */
static int ci(const char *const argv[])
{
	free(out);
	free(err);
	const char *o = strdup(th_path("%s/.ci-out", base));
	const char *e = th_path("%s/.ci-err", base);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);
		if (fo < 0 || fe < 0 || in < 0)
			_exit(126);
		dup2(in, 0);
		dup2(fo, 1);
		dup2(fe, 2);
		alarm(60); /* kept across execv */
		execv(th_path("%s/%s", th_build(), argv[0]), (char *const *)argv);
		_exit(127);
	}
	int rc = wait_exit(pid);
	size_t n;
	out = th_slurp(o, &n);
	err = th_slurp(e, &n);
	free((void *)o);
	cr_assert_neq(rc, 128 + SIGALRM, "carnet-index hung: %s", err);
	cr_assert_null(strstr(err, "Sanitizer"), "%s", err);
	cr_assert_null(strstr(err, "runtime error:"), "%s", err);
	return rc;
}

static void free_output(void)
{
	free(out);
	free(err);
	out = err = NULL;
	th_cleanup();
}

static void init_sync(void)
{
	init();
	snprintf(base, sizeof base, "%.*s", (int)(strlen(src) - 4), src); /* without /src */
	snprintf(home_, sizeof home_, "%s/idx", base);
}

TestSuite(sync, .init = init_sync, .fini = free_output);

/* n text documents P01-D000... in src (d000.txt ...), under sub/ for
 * those from `in_sub` on. */
static void write_docs(int n, int in_sub)
{
	for (int d = 0; d < n; d++) {
		char id[32];
		snprintf(id, sizeof id, "P01-D%03d", d);
		th_write_doc(th_path("%s/%sd%03d.txt", src, d >= in_sub ? "sub/" : "", d), "P01",
			     id, "2024-01-15", th_path("Compte rendu %d\nconclusion %d\n", d, d));
	}
}

static uint64_t documents(void)
{
	carnet_index *idx;
	carnet_error e;
	cr_assert_eq(carnet_index_open(&idx, home_, &e), CARNET_OK, "%s", e.message);
	uint64_t n;
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, &n, &e), CARNET_OK);
	carnet_index_close(idx);
	return n;
}

/* The path document id is served from to a general practitioner, or ""
 * if they do not get it. */
static const char *served_from(const char *id)
{
	static char path[4096];
	carnet_index *idx;
	carnet_error e;
	cr_assert_eq(carnet_index_open(&idx, home_, &e), CARNET_OK, "%s", e.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P01";
	req.profession = "10";
	req.limit = 1000;
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &e), CARNET_OK, "%s", e.message);
	path[0] = '\0';
	for (size_t i = 0; i < carnet_results_count(res); i++)
		if (strcmp(carnet_results_field(res, i, CARNET_FIELD_ID), id) == 0)
			snprintf(path, sizeof path, "%s",
				 carnet_results_field(res, i, CARNET_FIELD_SOURCE));
	carnet_results_free(res);
	carnet_index_close(idx);
	return path;
}

static int sync_src(const char *opt)
{
	const char *a[] = { "carnet-index", "--index", home_, "--jobs", "1", "sync", src,
			    opt, NULL };
	return ci(a);
}

Test(sync, fifos_devices_and_links_out_of_the_tree_are_skipped_and_nothing_hangs)
{
	write_docs(6, 3);
	cr_assert_eq(mkfifo(th_path("%s/waiting.txt", src), 0600), 0);
	cr_assert_eq(mkfifo(th_path("%s/sub/fifo.pdf", src), 0600), 0);
	th_write_str(th_path("%s/waiting.txt.meta.json", src),
		     "{\"patient_id\":\"P01\",\"id\":\"FIFO\"}");
	/* two links to "." (exponential), links to "..", to /etc, into the
	 * tree, to a file outside and to nothing */
	cr_assert_eq(symlink(".", th_path("%s/a", src)), 0);
	cr_assert_eq(symlink(".", th_path("%s/b", src)), 0);
	cr_assert_eq(symlink("..", th_path("%s/sub/up", src)), 0);
	cr_assert_eq(symlink("/etc", th_path("%s/etc", src)), 0);
	cr_assert_eq(symlink("/etc/passwd", th_path("%s/passwd.txt", src)), 0);
	cr_assert_eq(symlink("sub", th_path("%s/also-sub", src)), 0);
	cr_assert_eq(symlink("nowhere", th_path("%s/dangling.txt", src)), 0);
	/* skipped entries are said like rejects, but are not kept on record,
	 * so they never make a night "new rejects" (exit 1) */
	cr_assert_eq(sync_src(NULL), 0, "skipped entries are said: %s", err);
	cr_assert(strstr(err, "waiting.txt: not a regular file (FIFO)"), "%s", err);
	cr_assert(strstr(err, "sub/fifo.pdf: not a regular file (FIFO)"), "%s", err);
	cr_assert(strstr(err, "/etc: symbolic link leading outside"), "%s", err);
	cr_assert(strstr(err, "passwd.txt: symbolic link leading outside"), "%s", err);
	cr_assert(strstr(err, "dangling.txt: symbolic link to a missing target"), "%s", err);
	cr_assert(strstr(err, "6 files"), "each file once, whatever the links: %s", err);
	cr_assert_eq(documents(), 6);
	cr_assert_str_eq(served_from("P01-D004"), th_path("%s/sub/d004.txt", src));
	/* the same through add */
	const char *a[] = { "carnet-index", "--index", home_, "add", src, NULL };
	cr_assert_eq(ci(a), 0, "%s", err);
	cr_assert(strstr(err, "6 unchanged"), "%s", err);
}

/* The walk remembers only what links and hard links lead to (so that its
 * memory does not grow with the source), yet returns each file once. */
Test(sync, a_file_reached_by_several_paths_is_indexed_once)
{
	write_docs(6, 3);
	cr_assert_eq(mkdir(th_path("%s/.hidden", src), 0700), 0);
	th_write_doc(th_path("%s/.hidden/h.txt", src), "P01", "P01-D100", "2024-02-01",
		     "Compte rendu caché\n");
	/* two links to a file the plain walk does not list, one to its
	 * directory, a hard link to a listed file */
	cr_assert_eq(symlink(".hidden/h.txt", th_path("%s/h1.txt", src)), 0);
	cr_assert_eq(symlink("../.hidden/h.txt", th_path("%s/sub/h2.txt", src)), 0);
	cr_assert_eq(symlink(".hidden", th_path("%s/hd", src)), 0);
	cr_assert_eq(link(th_path("%s/d000.txt", src), th_path("%s/e-hard.txt", src)), 0);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "7 files"), "each file once: %s", err);
	cr_assert_eq(documents(), 7);
	cr_assert_str_eq(served_from("P01-D100"), th_path("%s/.hidden/h.txt", src),
			 "a file reached through links is named by its own path");
	cr_assert_str_eq(served_from("P01-D000"), th_path("%s/d000.txt", src));
	/* roots that overlap (an earlier one inside a later one, and the
	 * reverse), or name the same file twice */
	char sub[4200], d001[4200], h1[4200], d004[4200];
	snprintf(sub, sizeof sub, "%s/sub", src);
	snprintf(d001, sizeof d001, "%s/d001.txt", src);
	snprintf(h1, sizeof h1, "%s/h1.txt", src);
	snprintf(d004, sizeof d004, "%s/sub/d004.txt", src);
	const char *a[] = { "carnet-index", "--index", home_, "add", sub, src, d001, h1,
			    d004, sub, NULL };
	cr_assert_eq(ci(a), 0, "%s", err);
	cr_assert(strstr(err, "7 files"), "each file once: %s", err);
	cr_assert(strstr(err, "7 unchanged"), "%s", err);
	cr_assert_eq(documents(), 7);
}

Test(sync, an_empty_missing_or_unreadable_source_changes_nothing)
{
	write_docs(12, 6);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	/* the share did not mount: an empty directory */
	char empty[4096];
	snprintf(empty, sizeof empty, "%s/empty", base);
	mkdir(empty, 0700);
	const char *e1[] = { "carnet-index", "--index", home_, "sync", empty, NULL };
	cr_assert_eq(ci(e1), 3, "%s", err);
	cr_assert(strstr(err, "empty: the source is empty"), "names the source and why: %s", err);
	cr_assert(strstr(err, "--allow-empty"), "%s", err);
	cr_assert_eq(documents(), 12, "nothing removed");
	/* an empty source holding only what is not an input */
	cr_assert_eq(mkfifo(th_path("%s/fifo", empty), 0600), 0);
	cr_assert_eq(ci(e1), 3, "%s", err);
	cr_assert_eq(documents(), 12);
	/* gone */
	const char *m[] = { "carnet-index", "--index", home_, "sync",
			    th_path("%s/unmounted", base), NULL };
	cr_assert_eq(ci(m), 3, "%s", err);
	cr_assert(strstr(err, "unmounted: No such file or directory; nothing was indexed"), "%s", err);
	cr_assert_eq(documents(), 12);
	/* unreadable (not for root, whom permissions do not stop) */
	if (geteuid() != 0) {
		chmod(src, 0);
		cr_assert_eq(sync_src(NULL), 3, "%s", err);
		chmod(src, 0755);
		cr_assert(strstr(err, "the source cannot be read (Permission denied)"), "%s", err);
		cr_assert_eq(documents(), 12);
	}
	/* said to be intended */
	const char *e2[] = { "carnet-index", "--index", home_, "sync", "--allow-empty", empty, NULL };
	cr_assert_eq(ci(e2), 0, "the FIFO is said, not kept on record: %s", err);
	cr_assert(strstr(err, "fifo: not a regular file (FIFO)"), "%s", err);
	cr_assert_eq(documents(), 12, "a source elsewhere is not emptied");
	const char *e3[] = { "carnet-index", "--index", home_, "sync", "--allow-empty", src, NULL };
	for (int d = 0; d < 12; d++) {
		remove(th_path("%s/%sd%03d.txt", src, d >= 6 ? "sub/" : "", d));
		remove(th_path("%s/%sd%03d.txt.meta.json", src, d >= 6 ? "sub/" : "", d));
	}
	cr_assert_eq(ci(e3), 0, "%s", err);
	cr_assert(strstr(err, "12 removed"), "%s", err);
	cr_assert_eq(documents(), 0);
}

Test(sync, a_sync_that_would_remove_too_much_stops_before_removing)
{
	write_docs(20, 10);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	/* 2 of 20 may go (10%) */
	for (int d = 0; d < 2; d++)
		remove(th_path("%s/d%03d.txt", src, d));
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "2 removed"), "%s", err);
	cr_assert_eq(documents(), 18);
	/* 3 more of 18 may not (16.7%), and a new file is still added */
	for (int d = 2; d < 5; d++)
		remove(th_path("%s/d%03d.txt", src, d));
	th_write_doc(th_path("%s/new.txt", src), "P01", "P01-NEW", "2024-02-01", "nouveau\n");
	cr_assert_eq(sync_src(NULL), 3, "%s", err);
	cr_assert(strstr(err, "would remove 3 of the 19 documents"), "says how many: %s", err);
	cr_assert(strstr(err, "more than --max-remove allows (10% of the documents)"), "and why: %s", err);
	cr_assert(strstr(err, "before removing anything"), "%s", err);
	cr_assert_eq(documents(), 19, "the new one added, nothing removed");
	cr_assert_str_eq(served_from("P01-D003"), th_path("%s/d003.txt", src));
	cr_assert_eq(sync_src("--max-remove=2"), 3, "%s", err);
	cr_assert(strstr(err, "(2 documents)"), "%s", err);
	cr_assert_eq(documents(), 19);
	cr_assert_eq(sync_src("--max-remove=20%"), 0, "%s", err);
	cr_assert_eq(documents(), 16);
	cr_assert_str_eq(served_from("P01-D003"), "");
	const char *bad[] = { "carnet-index", "--index", home_, "--max-remove", "lots", "sync", src,
			      NULL };
	cr_assert_eq(ci(bad), 2, "%s", err);
	const char *pct[] = { "carnet-index", "--index", home_, "--max-remove", "101%", "sync", src,
			      NULL };
	cr_assert_eq(ci(pct), 2, "%s", err);
}

Test(sync, a_dry_run_says_what_it_would_do_and_changes_nothing)
{
	write_docs(10, 5);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	th_write_doc(th_path("%s/new.txt", src), "P01", "P01-NEW", "2024-02-01", "nouveau\n");
	th_write_str(th_path("%s/d001.txt", src), "Compte rendu corrigé\n");
	cr_assert_eq(rename(th_path("%s/d002.txt", src), th_path("%s/sub/moved.txt", src)), 0);
	cr_assert_eq(rename(th_path("%s/d002.txt.meta.json", src),
			    th_path("%s/sub/moved.txt.meta.json", src)), 0);
	remove(th_path("%s/d003.txt", src));
	const char *a[] = { "carnet-index", "--index", home_, "--dry-run", "sync", src, NULL };
	cr_assert_eq(ci(a), 0, "%s", err);
	cr_assert(strstr(out, th_path("add\t%s/new.txt\tP01-NEW\n", src)), "%s", out);
	cr_assert(strstr(out, th_path("replace\t%s/d001.txt\tP01-D001\n", src)), "%s", out);
	cr_assert(strstr(out, th_path("move\t%s/sub/moved.txt\tP01-D002\tfrom %s/d002.txt\n", src,
				      src)), "%s", out);
	cr_assert(strstr(out, th_path("remove\t%s/d003.txt\tP01-D003\n", src)), "%s", out);
	cr_assert(strstr(err, "dry run, nothing changed"), "%s", err);
	cr_assert_eq(documents(), 10);
	cr_assert_str_eq(served_from("P01-D003"), th_path("%s/d003.txt", src));
	cr_assert_str_eq(served_from("P01-D002"), th_path("%s/d002.txt", src));
	cr_assert_str_eq(served_from("P01-NEW"), "");
	/* and the sync itself does what it said */
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "1 added, 1 replaced, 1 moved, 1 removed"), "%s", err);
	cr_assert_str_eq(served_from("P01-D002"), th_path("%s/sub/moved.txt", src));
	cr_assert_str_eq(served_from("P01-NEW"), th_path("%s/new.txt", src));
}

/* a.pdf (read first: it sorts before d000.txt and sub/) and a hook: the
 * PDF extractor the library runs becomes a script that does `action`
 * once, then runs the real extractor. The mount, the disk or another
 * process failing in the middle of a sync, at a moment chosen. */
static void pdf_with_hook(const char *action_)
{
	char action[4096];
	snprintf(action, sizeof action, "%s", action_); /* th_path's buffers turn */
	size_t n;
	char *pdf = th_slurp(th_path("%s/tests/data/pdf/echo.pdf", th_root()), &n);
	th_write(th_path("%s/a.pdf", src), pdf, n);
	free(pdf);
	th_write_str(th_path("%s/a.pdf.meta.json", src),
		     "{\"patient_id\":\"P01\",\"id\":\"P01-PDF\",\"date\":\"2024-01-02\"}");
	char script[16384];
	snprintf(script, sizeof script,
		 "#!/bin/sh\nif [ ! -e %s/hook.done ]; then : > %s/hook.done; %s; fi\n"
		 "exec %s/carnet-pdftext \"$@\"\n", base, base, action, th_build());
	const char *hook = th_path("%s/hook.sh", base);
	th_write_str(hook, script);
	cr_assert_eq(chmod(hook, 0755), 0);
}

/* Sync with the hook: the PDF changed, so it is read again, and the
 * hook runs before the files that follow are read. */
static int sync_with_hook(const char *opt)
{
	th_write_str(th_path("%s/a.pdf.meta.json", src),
		     "{\"patient_id\":\"P01\",\"id\":\"P01-PDF\",\"date\":\"2024-01-03\"}");
	const char *saved = getenv("CARNET_PDFTEXT");
	char *keep = saved ? strdup(saved) : NULL;
	setenv("CARNET_PDFTEXT", th_path("%s/hook.sh", base), 1);
	int rc = sync_src(opt);
	if (keep)
		setenv("CARNET_PDFTEXT", keep, 1);
	else
		unsetenv("CARNET_PDFTEXT");
	free(keep);
	return rc;
}

Test(sync, a_subdirectory_that_vanishes_during_the_sync_keeps_its_documents)
{
	write_docs(12, 6);
	pdf_with_hook(th_path("mv %s/sub %s/away", src, base));
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert_eq(documents(), 13);
	cr_assert_eq(sync_with_hook(NULL), 1, "its files could not be read: %s", err);
	cr_assert(strstr(err, th_path("%s/sub/d006.txt: cannot read", src)), "%s", err);
	cr_assert(strstr(err, "0 removed"), "%s", err);
	cr_assert_eq(documents(), 13, "nothing under it removed");
	cr_assert_str_eq(served_from("P01-D008"), th_path("%s/sub/d008.txt", src));
	/* it comes back: the same documents, read again */
	cr_assert_eq(rename(th_path("%s/away", base), th_path("%s/sub", src)), 0);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert_eq(documents(), 13);
	cr_assert_str_eq(served_from("P01-D008"), th_path("%s/sub/d008.txt", src));
}

Test(sync, a_source_replaced_by_an_empty_one_during_the_sync_loses_nothing)
{
	write_docs(12, 6);
	pdf_with_hook(th_path("mv %s %s/old && mkdir %s", src, base, src));
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert_eq(sync_with_hook("--max-remove=100%"), 3, "%s", err);
	cr_assert(strstr(err, "was replaced while the sync ran: nothing removed"), "%s", err);
	cr_assert_eq(documents(), 13);
	/* the next night, the share still empty: refused before anything */
	cr_assert_eq(sync_src(NULL), 3, "%s", err);
	cr_assert(strstr(err, "the source is empty"), "%s", err);
	cr_assert_eq(documents(), 13);
}

Test(sync, a_directory_that_cannot_be_listed_keeps_its_documents)
{
	write_docs(12, 6);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	if (geteuid() != 0) {
		cr_assert_eq(chmod(th_path("%s/sub", src), 0), 0);
		int rc = sync_src(NULL);
		chmod(th_path("%s/sub", src), 0755);
		cr_assert_eq(rc, 1, "%s", err);
		cr_assert(strstr(err, "sub: cannot list directory: Permission denied"), "%s", err);
		cr_assert(strstr(err, "the documents of what could not be read are kept"), "%s", err);
		cr_assert_eq(documents(), 12);
		return;
	}
	/* root: a share mounted on sub/ that goes away during the sync,
	 * leaving its empty mount point */
	char data[4096];
	snprintf(data, sizeof data, "%s/share", base);
	cr_assert_eq(rename(th_path("%s/sub", src), data), 0);
	cr_assert_eq(mkdir(th_path("%s/sub", src), 0755), 0);
	if (system(th_path("mount --bind %s %s/sub 2>/dev/null", data, src)) != 0) {
		cr_log_warn("bind mounts are not permitted here: the mount variant is skipped");
		return;
	}
	pdf_with_hook(th_path("umount %s/sub", src));
	int rc0 = sync_src(NULL), rc1 = sync_with_hook(NULL);
	char *err1 = strdup(err);
	int mounted = system(th_path("umount %s/sub 2>/dev/null", src)) == 0;
	cr_assert_not(mounted, "the hook unmounted the share");
	cr_assert_eq(rc0, 0);
	cr_assert_eq(rc1, 1, "%s", err1);
	cr_assert(strstr(err1, th_path("%s/sub/d006.txt: cannot read", src)), "%s", err1);
	free(err1);
	cr_assert_eq(documents(), 13, "nothing under the mount point removed");
	/* the next night, still unmounted: too much would go */
	cr_assert_eq(sync_src(NULL), 3, "%s", err);
	cr_assert(strstr(err, "would remove 6 of the 13 documents"), "%s", err);
	cr_assert_eq(documents(), 13);
}

/* Hide or show document id to professionals. */
static void mask(const char *id, int hidden)
{
	const char *a[] = { "carnet-index", "--index", home_, hidden ? "mask" : "unmask", id,
			    "--from", "professionals", NULL };
	cr_assert_eq(ci(a), 0, "%s", err);
}

static void move(const char *from, const char *to)
{
	cr_assert_eq(rename(th_path("%s/%s", src, from), th_path("%s/%s", src, to)), 0);
	cr_assert_eq(rename(th_path("%s/%s.meta.json", src, from),
			    th_path("%s/%s.meta.json", src, to)), 0);
}

Test(sync, a_renamed_or_moved_file_keeps_its_document_and_its_masks)
{
	write_docs(10, 5);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	mask("P01-D001", 1);
	cr_assert_str_eq(served_from("P01-D001"), "", "masked from professionals");
	move("d001.txt", "sub/renamed.txt");   /* to another directory */
	move("d002.txt", "d002-renamed.txt");  /* in the same one */
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "0 added, 0 replaced, 2 moved, 0 removed"), "%s", err);
	cr_assert_eq(documents(), 10);
	cr_assert_str_eq(served_from("P01-D001"), "", "the mask survived the move");
	cr_assert_str_eq(served_from("P01-D002"), th_path("%s/d002-renamed.txt", src));
	mask("P01-D001", 0);
	cr_assert_str_eq(served_from("P01-D001"), th_path("%s/sub/renamed.txt", src),
			 "the same document, under its new path");
	/* nothing left behind: no reject, and the next sync changes nothing */
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "10 unchanged, 0 rejected"), "%s", err);
	const char *rj[] = { "carnet-index", "--index", home_, "rejects", NULL };
	cr_assert_eq(ci(rj), 0);
	cr_assert_str_eq(out, "", "no 'already indexed' reject: %s", out);
	/* renamed back, with a mask again */
	mask("P01-D002", 1);
	move("d002-renamed.txt", "d002.txt");
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "1 moved"), "%s", err);
	cr_assert_str_eq(served_from("P01-D002"), "");
	mask("P01-D002", 0);
	cr_assert_str_eq(served_from("P01-D002"), th_path("%s/d002.txt", src));
}

Test(sync, a_document_at_two_paths_is_a_reject_naming_both)
{
	write_docs(6, 3);
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	/* a copy: both files exist */
	size_t n;
	char *text = th_slurp(th_path("%s/d001.txt", src), &n);
	th_write(th_path("%s/sub/copy.txt", src), text, n);
	free(text);
	text = th_slurp(th_path("%s/d001.txt.meta.json", src), &n);
	th_write(th_path("%s/sub/copy.txt.meta.json", src), text, n);
	free(text);
	cr_assert_eq(sync_src(NULL), 1, "%s", err);
	cr_assert(strstr(err, th_path("%s/sub/copy.txt: document id P01-D001 is also in %s/d001.txt",
				      src, src)), "names both paths: %s", err);
	cr_assert_str_eq(served_from("P01-D001"), th_path("%s/d001.txt", src), "the first one kept");
	cr_assert_eq(documents(), 6);
	/* said again each night while both exist, but not new: exit 0 */
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "copy.txt: document id P01-D001 is also in"), "%s", err);
	/* the first goes: the copy takes the document over */
	remove(th_path("%s/d001.txt", src));
	remove(th_path("%s/d001.txt.meta.json", src));
	cr_assert_eq(sync_src(NULL), 0, "%s", err);
	cr_assert(strstr(err, "1 moved, 0 removed"), "%s", err);
	cr_assert_str_eq(served_from("P01-D001"), th_path("%s/sub/copy.txt", src));
	cr_assert_eq(documents(), 6);
}

/* ---- Batches on threads: a batch commits while the next is extracted ---- */

/* src/name, a text with its sidecar (meta NULL: none). */
static void put(const char *name, const char *text, const char *meta)
{
	th_write_str(th_path("%s/%s", src, name), text);
	if (meta)
		th_write_str(th_path("%s/%s.meta.json", src, name), meta);
}

/* A sidecar: patient, id, set and version. */
static const char *meta_of(const char *patient, const char *id, const char *set, int version)
{
	return th_path("{\"patient_id\":\"%s\",\"id\":\"%s\",\"set_id\":\"%s\",\"version\":%d,"
		       "\"date\":\"2024-03-0%d\"}", patient, id, set, version, version);
}

/* Run carnet-index on home with --batch 2 and jobs threads (argv: the
 * command and its argument); what it said, without the time it took:
 * exit status, the rejects it named in order, and its summary. */
static void run_batches(const char *home, const char *jobs, const char *cmd, const char *arg,
			char *said, size_t size)
{
	const char *a[] = { "testing/carnet-index", "--index", home, "--jobs", jobs, "--batch", "2",
			    cmd, arg, NULL };
	int n = snprintf(said, size, "exit %d\n", ci(a));
	for (const char *line = err; *line && (size_t)n < size;) {
		const char *end = strchr(line, '\n');
		int len = end ? (int)(end - line) : (int)strlen(line);
		const char *summary = strstr(line, " s: ");
		if (strncmp(line, "carnet-index: rejected", 22) == 0)
			n += snprintf(said + n, size - (size_t)n, "%.*s\n", len, line);
		else if (summary && summary < line + len)
			n += snprintf(said + n, size - (size_t)n, "%.*s\n",
				      (int)(line + len - summary), summary);
		line += len + (end != NULL);
	}
}

/* What a general practitioner finds of patients P01 to P04 in home, every
 * version with the file it is served from, then the latest ones; the
 * documents in the index and the registry, and the rejects. */
static void view_of(const char *home, char *view, size_t size)
{
	static char lines[64][600];
	size_t count = 0;
	carnet_index *idx;
	carnet_error e;
	cr_assert_eq(carnet_index_open(&idx, home, &e), CARNET_OK, "%s", e.message);
	for (int p = 1; p <= 4; p++)
		for (int all = 0; all < 2; all++) {
			carnet_request req = CARNET_REQUEST_INIT;
			req.patient_id = th_path("P%02d", p);
			req.profession = "10";
			req.flags = all ? CARNET_REQUEST_ALL_VERSIONS : 0;
			carnet_results *res;
			cr_assert_eq(carnet_index_search(&res, idx, &req, &e), CARNET_OK, "%s",
				     e.message);
			for (size_t i = 0; i < carnet_results_count(res) && count < 64; i++)
				snprintf(lines[count++], sizeof lines[0], "%s %s v%d %s",
					 all ? "version" : "latest",
					 carnet_results_field(res, i, CARNET_FIELD_ID),
					 carnet_results_version(res, i),
					 carnet_results_field(res, i, CARNET_FIELD_SOURCE));
			carnet_results_free(res);
		}
	qsort(lines, count, sizeof lines[0], cmp_lines);
	uint64_t docs, registered, rejects;
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, &docs, &e), CARNET_OK);
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_REGISTERED, &registered, &e), CARNET_OK);
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_REJECTS, &rejects, &e), CARNET_OK);
	carnet_index_close(idx);
	int n = snprintf(view, size, "%llu documents, %llu registered, %llu rejects\n",
			 (unsigned long long)docs, (unsigned long long)registered,
			 (unsigned long long)rejects);
	for (size_t i = 0; i < count && (size_t)n < size; i++)
		n += snprintf(view + n, size - (size_t)n, "%s\n", lines[i]);
}

/* The same run on one thread (each batch committed after it is added)
 * and on two (committed while the next is extracted) says the same and
 * leaves the same index. */
static void same_on_one_and_two(const char *one, const char *two, const char *cmd,
				const char *expect)
{
	static char said1[16384], said2[16384], view1[40000], view2[40000];
	run_batches(one, "1", cmd, src, said1, sizeof said1);
	run_batches(two, "2", cmd, src, said2, sizeof said2);
	cr_assert_str_eq(said1, said2);
	cr_assert(strstr(said1, expect), "%s", said1);
	view_of(one, view1, sizeof view1);
	view_of(two, view2, sizeof view2);
	cr_assert_str_eq(view1, view2);
}

Test(sync, batches_on_two_threads_end_as_on_one)
{
	char one[4200], two[4200];
	snprintf(one, sizeof one, "%s-1", home_);
	snprintf(two, sizeof two, "%s-2", home_);
	/* in name order, two a batch: a version right after the first, in
	 * the next batch; the same document at a second path (refused,
	 * naming the first); a reject then a good input; another patient's
	 * set (refused) */
	put("a1.txt", "Compte rendu A\nconclusion\n", meta_of("P01", "P01-A", "SA", 1));
	put("a2.txt", "Compte rendu B\n", meta_of("P01", "P01-B", "SB", 1));
	put("b1.txt", "Compte rendu B corrigé\n", meta_of("P01", "P01-B2", "SB", 2));
	put("b2.txt", "Compte rendu A\nconclusion\n", meta_of("P01", "P01-A", "SA", 1));
	put("c1.txt", "Compte rendu sans sidecar\n", NULL);
	put("c2.txt", "Compte rendu C\n", meta_of("P02", "P02-C", "SC", 1));
	put("d1.txt", "Compte rendu D\n", meta_of("P02", "P02-D", "SA", 1));
	put("d2.txt", "Compte rendu E\n", meta_of("P03", "P03-E", "SE", 1));
	same_on_one_and_two(one, two, "sync",
			    "s: 5 added, 0 replaced, 0 moved, 0 removed, 0 unchanged, 3 rejected");
	cr_assert(strstr(err, "b2.txt: document id P01-A is also in"), "%s", err);
	/* then: a mask, its file re-read; a file moved to a later batch, the
	 * copy gone; the reject fixed; a set of three versions over two
	 * batches */
	const char *m1[] = { "carnet-index", "--index", one, "mask", "P02-C", "--from",
			     "professionals", NULL };
	const char *m2[] = { "carnet-index", "--index", two, "mask", "P02-C", "--from",
			     "professionals", NULL };
	cr_assert_eq(ci(m1), 0, "%s", err);
	cr_assert_eq(ci(m2), 0, "%s", err);
	put("c2.txt", "Compte rendu C complété\n", meta_of("P02", "P02-C", "SC", 1));
	move("a1.txt", "e1.txt");
	remove(th_path("%s/b2.txt", src));
	remove(th_path("%s/b2.txt.meta.json", src));
	put("c1.txt", "Compte rendu sans sidecar\n", meta_of("P02", "P02-C1", "SC1", 1));
	put("a2.txt", "Compte rendu B revu\n", meta_of("P01", "P01-B", "SB", 1));
	put("f1.txt", "Bilan F\n", meta_of("P04", "P04-F1", "SF", 1));
	put("f2.txt", "Bilan F revu\n", meta_of("P04", "P04-F2", "SF", 2));
	put("g1.txt", "Bilan F final\n", meta_of("P04", "P04-F3", "SF", 3));
	same_on_one_and_two(one, two, "sync",
			    "s: 4 added, 2 replaced, 1 moved, 0 removed, 2 unchanged, 1 rejected");
	/* a rebuild keeps the mask */
	same_on_one_and_two(one, two, "rebuild", "s: 9 added, 0 replaced");
	static char view[40000];
	view_of(two, view, sizeof view);
	cr_assert_null(strstr(view, "P02-C "), "masked from professionals: %s", view);
	cr_assert(strstr(view, "latest P04-F3 v3"), "%s", view);
}

/* The documents in home's index and in its registry. */
static void counts(const char *home, uint64_t *in_index, uint64_t *in_registry)
{
	carnet_index *idx;
	carnet_error e;
	cr_assert_eq(carnet_index_open(&idx, home, &e), CARNET_OK, "%s", e.message);
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, in_index, &e), CARNET_OK);
	cr_assert_eq(carnet_index_stat(idx, CARNET_STAT_REGISTERED, in_registry, &e), CARNET_OK);
	carnet_index_close(idx);
}

/* Ten documents in src (five in sub/), synced cleanly into a home of
 * their own, whose view (view_of) goes to clean_view. */
static void clean_sync(char *clean_view, size_t size)
{
	static char said[16384];
	write_docs(10, 5);
	char clean_home[4200];
	snprintf(clean_home, sizeof clean_home, "%s-clean", home_);
	run_batches(clean_home, "1", "sync", src, said, sizeof said);
	cr_assert(strstr(said, "exit 0\n"), "%s", said);
	view_of(clean_home, clean_view, size);
}

Test(sync, a_failed_commit_stops_the_run_and_keeps_the_batches_before)
{
	static char said[16384], view[40000], clean_view[40000];
	clean_sync(clean_view, sizeof clean_view);
	const char *jobs[] = { "1", "2" };
	for (int j = 0; j < 2; j++) {
		char home[4200];
		snprintf(home, sizeof home, "%s-%s", home_, jobs[j]);
		/* the third commit: of the third batch, made after it on one
		 * thread, while the fourth is extracted on two */
		setenv("CARNET_CRASH_AT", "index-commit-3-fails", 1);
		run_batches(home, jobs[j], "sync", src, said, sizeof said);
		unsetenv("CARNET_CRASH_AT");
		cr_assert(strstr(said, "exit 3\n"), "--jobs %s: %s", jobs[j], said);
		cr_assert(strstr(err, "commit failed: index commit 3 made to fail"), "%s", err);
		cr_assert(strstr(err, "stopped on failure, last batch not committed"), "%s", err);
		uint64_t in_index, in_registry;
		counts(home, &in_index, &in_registry);
		cr_assert_eq(in_index, 4, "--jobs %s: the first two batches are kept", jobs[j]);
		cr_assert_eq(in_registry, 4);
		/* the next run finishes the job */
		run_batches(home, jobs[j], "sync", src, said, sizeof said);
		cr_assert(strstr(said, "exit 0\n"), "%s", said);
		cr_assert(strstr(said, "s: 6 added, 0 replaced, 0 moved, 0 removed, 4 unchanged"),
			  "%s", said);
		view_of(home, view, sizeof view);
		cr_assert_str_eq(view, clean_view);
	}
}

Test(sync, a_crash_in_a_commit_made_while_the_next_batch_is_extracted_is_repaired)
{
	static char said[16384], view[40000], clean_view[40000];
	clean_sync(clean_view, sizeof clean_view);
	/* the first commit, of the first batch, made while the threads
	 * extract the second: the index commits, the process dies */
	setenv("CARNET_CRASH_AT", "between-index-and-registry-commits", 1);
	run_batches(home_, "2", "sync", src, said, sizeof said);
	unsetenv("CARNET_CRASH_AT");
	cr_assert(strstr(said, "exit 99\n"), "%s", said);
	uint64_t in_index, in_registry;
	counts(home_, &in_index, &in_registry);
	cr_assert_eq(in_index, 2, "the first batch is in the index");
	cr_assert_eq(in_registry, 0, "and not in the registry");
	run_batches(home_, "2", "sync", src, said, sizeof said);
	cr_assert(strstr(said, "exit 0\n"), "%s", said);
	view_of(home_, view, sizeof view);
	cr_assert_str_eq(view, clean_view);
}

Test(sync, a_compaction_that_fails_loses_nothing_and_the_job_goes_on)
{
	static char said[16384], view[40000], clean_view[40000];
	/* the clean home's first sync is compacted */
	clean_sync(clean_view, sizeof clean_view);
	/* this one's cannot be (no room for the copy, as made to fail) */
	setenv("CARNET_CRASH_AT", "compact-fails", 1);
	run_batches(home_, "2", "sync", src, said, sizeof said);
	cr_assert(strstr(said, "exit 0\n"), "%s", said);
	cr_assert(strstr(err, "the index was not compacted (compaction made to fail"), "%s", err);
	view_of(home_, view, sizeof view);
	cr_assert_str_eq(view, clean_view, "compacted or not, the same answers");
	/* a rebuild that cannot be compacted is published as written */
	run_batches(home_, "2", "rebuild", src, said, sizeof said);
	cr_assert(strstr(said, "exit 0\n"), "%s", said);
	size_t n;
	char *current = th_slurp(th_path("%s/CURRENT", home_), &n);
	cr_assert(strncmp(current, "gen-2", 5) == 0, "%s", current);
	free(current);
	view_of(home_, view, sizeof view);
	cr_assert_str_eq(view, clean_view);
	/* and the next writer finds the database it left; an index that
	 * held documents is not compacted by a sync (the hook would say) */
	write_docs(12, 5);
	run_batches(home_, "2", "sync", src, said, sizeof said);
	unsetenv("CARNET_CRASH_AT");
	cr_assert(strstr(said, "s: 2 added, 0 replaced"), "%s", said);
	cr_assert_null(strstr(err, "compacted"), "a later sync was compacted: %s", err);
	uint64_t in_index, in_registry;
	counts(home_, &in_index, &in_registry);
	cr_assert_eq(in_index, 12);
	cr_assert_eq(in_registry, 12);
}
