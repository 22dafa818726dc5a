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
	const char *argv[] = { "carnet-index", "--index", crashed, "--quiet", "sync", src, NULL };
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
