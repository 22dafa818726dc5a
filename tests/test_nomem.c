/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_nomem.c - running out of memory, SQLite's test_malloc.c way: the
 * Nth allocation carnet's own code makes fails, for N from 1 to the number
 * of allocations that opening, adding and searching make. Each run
 * must end in CARNET_E_NOMEM (or success, where carnet can do without the
 * memory), leak nothing, and leave the index whole: what was committed is
 * still found by a new handle, and a new writer can add the documents.
 *
 * Linked with -Wl,--wrap=malloc,... (see the Makefile): the references
 * that libcarnet.a's objects and this test make go through the __wrap_
 * functions below, while Xapian, SQLite, ICU, libxml2 and jansson keep
 * their own allocator (how they fail is theirs). The shim's operator new
 * is wrapped the same way, in nomem_new.cc.
 *
 * Which N: see nm_plan (the first two and the last allocation made from
 * each calling context; CARNET_NOMEM_EVERY=1: every N).
 * CARNET_NOMEM_PERSIST=1 makes every allocation after the failed one fail
 * too (SQLite's persistent mode), for the paths that clean up or report. */
#include <errno.h>
#include <execinfo.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"

#if defined(__SANITIZE_ADDRESS__)
#define NM_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NM_LSAN 1
#endif
#endif
#ifdef NM_LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* ---- The allocator: count, fail the Nth, remember what is live ---------- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int carnet_nomem__fail_now(void);
void carnet_nomem__track(void *p);
void carnet_nomem__untrack(void *p);

static pthread_mutex_t nm_lock = PTHREAD_MUTEX_INITIALIZER;
static int nm_counting;        /* allocations are counted (and tracked) */
static unsigned long nm_count; /* allocations seen since counting began */
static unsigned long nm_fail_at; /* the one to fail (1-based), 0: none */
static int nm_fired;           /* it was reached, and failed */
static int nm_persist;         /* every allocation after it fails too */

/* The blocks allocated while counting and not yet freed: an open-addressed
 * set of pointers (NM_GONE marks a removed entry). */
#define NM_SLOTS (1u << 18)
#define NM_GONE ((void *)1)
static void *nm_live[NM_SLOTS];
static unsigned long nm_live_count;

static size_t nm_slot(const void *p)
{
	uintptr_t h = (uintptr_t)p;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15u;
	return (size_t)(h >> 7) & (NM_SLOTS - 1);
}

/* Caller holds nm_lock. */
static void **nm_find(const void *p)
{
	for (size_t i = nm_slot(p), n = 0; n < NM_SLOTS; i = (i + 1) & (NM_SLOTS - 1), n++) {
		if (nm_live[i] == p)
			return &nm_live[i];
		if (!nm_live[i])
			return NULL;
	}
	return NULL;
}

void carnet_nomem__track(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&nm_lock);
	if (nm_counting) {
		size_t i = nm_slot(p);
		while (nm_live[i] && nm_live[i] != NM_GONE)
			i = (i + 1) & (NM_SLOTS - 1);
		nm_live[i] = p;
		nm_live_count++;
	}
	pthread_mutex_unlock(&nm_lock);
}

void carnet_nomem__untrack(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&nm_lock);
	void **slot = nm_find(p);
	if (slot) {
		*slot = NM_GONE;
		nm_live_count--;
	}
	pthread_mutex_unlock(&nm_lock);
}

/* While profiling, the calling context of each allocation counted: a hash
 * of the return addresses on its stack, NM_DEPTH frames deep. */
#define NM_DEPTH 12
#define NM_MAX_ALLOCS (1u << 16)
static int nm_profiling;
static int nm_profile_next; /* the next nm_arm profiles */
static uint64_t nm_context[NM_MAX_ALLOCS];

static uint64_t nm_stack_hash(void)
{
	void *frames[NM_DEPTH + 2];
	int n = backtrace(frames, NM_DEPTH + 2);
	uint64_t h = 14695981039346656037u;
	/* frames[0..1] are this function and carnet_nomem__fail_now */
	for (int i = 2; i < n; i++) {
		h ^= (uint64_t)(uintptr_t)frames[i];
		h *= 1099511628211u;
	}
	return h;
}

/* Where the allocation that failed was made, printed when a check fails
 * (build/tests/test_nomem(+0x...) addresses: addr2line -f -e FILE ADDR). */
static void *nm_where_frames[32];
static int nm_where_depth;

static void nm_where(void)
{
	fprintf(stderr, "allocation %lu, which failed, was made at:\n", nm_fail_at);
	backtrace_symbols_fd(nm_where_frames, nm_where_depth, 2);
}

/* Count one allocation; 1 when it is the one to fail. */
int carnet_nomem__fail_now(void)
{
	uint64_t context = nm_profiling ? nm_stack_hash() : 0;
	pthread_mutex_lock(&nm_lock);
	int fail = 0;
	if (nm_counting) {
		if (nm_profiling && nm_count < NM_MAX_ALLOCS)
			nm_context[nm_count] = context;
		nm_count++;
		if (nm_count == nm_fail_at) {
			nm_fired = 1;
			fail = 1;
			nm_where_depth = backtrace(nm_where_frames, 32);
		} else if (nm_fired && nm_persist) {
			fail = 1;
		}
	}
	pthread_mutex_unlock(&nm_lock);
	return fail;
}

void *__wrap_malloc(size_t size)
{
	if (carnet_nomem__fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __real_malloc(size);
	carnet_nomem__track(p);
	return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
	if (carnet_nomem__fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = __real_calloc(n, size);
	carnet_nomem__track(p);
	return p;
}

void *__wrap_realloc(void *p, size_t size)
{
	if (carnet_nomem__fail_now()) {
		errno = ENOMEM;
		return NULL;
	}
	/* a block from before counting began stays untracked when it moves */
	pthread_mutex_lock(&nm_lock);
	int tracked = !p || nm_find(p);
	pthread_mutex_unlock(&nm_lock);
	void *q = __real_realloc(p, size);
	if (q || size == 0) {
		carnet_nomem__untrack(p);
		if (tracked)
			carnet_nomem__track(q);
	}
	return q;
}

void __wrap_free(void *p)
{
	carnet_nomem__untrack(p);
	__real_free(p);
}

/* glibc's strdup does not call the malloc that --wrap redirects. */
char *__wrap_strdup(const char *s)
{
	size_t len = strlen(s);
	char *p = __wrap_malloc(len + 1);
	if (p)
		memcpy(p, s, len + 1);
	return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = __wrap_malloc(len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Count (and fail the Nth of) the allocations from now on. */
static void nm_arm(unsigned long fail_at)
{
	const char *persist = getenv("CARNET_NOMEM_PERSIST");
	nm_persist = persist && strcmp(persist, "1") == 0;
	nm_profiling = nm_profile_next;
	nm_profile_next = 0;
	pthread_mutex_lock(&nm_lock);
	for (size_t i = 0; i < NM_SLOTS; i++)
		nm_live[i] = NULL;
	nm_live_count = 0;
	nm_count = 0;
	nm_fail_at = fail_at;
	nm_fired = 0;
	nm_counting = 1;
	pthread_mutex_unlock(&nm_lock);
}

/* Stop counting; returns how many allocations were made. */
static unsigned long nm_disarm(void)
{
	pthread_mutex_lock(&nm_lock);
	nm_counting = 0;
	unsigned long n = nm_count;
	pthread_mutex_unlock(&nm_lock);
	return n;
}

static int nm_by_context(const void *a, const void *b)
{
	unsigned long i = *(const unsigned long *)a, j = *(const unsigned long *)b;
	if (nm_context[i] != nm_context[j])
		return nm_context[i] < nm_context[j] ? -1 : 1;
	return i < j ? -1 : i > j;
}

/* Which allocations the runs fail, given a profile of total allocations
 * (nm_context): with CARNET_NOMEM_EVERY=1 in the environment, every one;
 * else, for each calling context, the first two allocations made there and
 * the last. (Loading the default ranking tables makes thousands of
 * allocations from the same few contexts, one per line.) Fills plan with
 * allocation numbers (from 1, ascending) and returns how many. */
static unsigned long nm_plan(unsigned long total, unsigned long *plan)
{
	cr_assert_leq(total, NM_MAX_ALLOCS, "%lu allocations: raise NM_MAX_ALLOCS", total);
	const char *every = getenv("CARNET_NOMEM_EVERY");
	static unsigned char chosen[NM_MAX_ALLOCS];
	static unsigned long order[NM_MAX_ALLOCS];
	for (unsigned long i = 0; i < total; i++) {
		chosen[i] = every && strcmp(every, "1") == 0;
		order[i] = i;
	}
	qsort(order, total, sizeof *order, nm_by_context);
	for (unsigned long k = 0, first = 0; k < total; k++) {
		if (k > 0 && nm_context[order[k]] != nm_context[order[k - 1]])
			first = k;
		int last = k + 1 == total || nm_context[order[k + 1]] != nm_context[order[k]];
		if (k - first < 2 || last)
			chosen[order[k]] = 1;
	}
	unsigned long n = 0;
	for (unsigned long i = 0; i < total; i++)
		if (chosen[i])
			plan[n++] = i + 1;
	return n;
}

/* The end of a run: stop counting; no block allocated while counting is
 * still live, and (under ASan) no block anywhere is unreachable. */
static void nm_finish(const char *what, unsigned long n)
{
	nm_disarm();
	pthread_mutex_lock(&nm_lock);
	unsigned long live = nm_live_count;
	pthread_mutex_unlock(&nm_lock);
	if (live)
		nm_where();
	cr_assert_eq(live, 0, "%s, allocation %lu failing: %lu block(s) never freed",
		     what, n, live);
#ifdef NM_LSAN
	int leaked = __lsan_do_recoverable_leak_check();
	if (leaked)
		nm_where();
	cr_assert_eq(leaked, 0,
		     "%s, allocation %lu failing: LeakSanitizer found a leak (above)",
		     what, n);
#endif
}

/* ---- The index: a template copied before each run ----------------------- */

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_tree(const char *dir)
{
	if (access(dir, F_OK) == 0)
		cr_assert_eq(nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0,
			     "removing %s: %s", dir, strerror(errno));
}

/* The runs copy an index home thousands of times: in memory (/dev/shm)
 * when there is one, the file system's create and unlink dominating
 * otherwise; else under th_tmpdir(). */
static char nm_dir[4096];

static const char *nm_tmpdir(void)
{
	struct stat st;
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) {
		snprintf(nm_dir, sizeof nm_dir, "/dev/shm/carnet-nomem-XXXXXX");
		cr_assert_not_null(mkdtemp(nm_dir), "mkdtemp: %s", strerror(errno));
	} else {
		snprintf(nm_dir, sizeof nm_dir, "%s", th_tmpdir());
	}
	return nm_dir;
}

/* (the tests' .fini: a failed assertion leaves the test at once) */
static void nm_cleanup(void)
{
	if (nm_dir[0])
		nftw(nm_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	nm_dir[0] = '\0';
}

static const char *copy_to;
static size_t copy_from_len;

static int copy_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	const char *dst = th_path("%s%s", copy_to, p + copy_from_len);
	if (flag == FTW_D)
		return mkdir(dst, st->st_mode & 07777);
	if (flag != FTW_F)
		return -1; /* a home holds directories and files only */
	size_t len;
	char *data = th_slurp(p, &len);
	th_write(dst, data, len);
	free(data);
	return chmod(dst, st->st_mode & 07777);
}

static void copy_tree(const char *from, const char *to)
{
	rm_tree(to);
	copy_to = to;
	copy_from_len = strlen(from);
	cr_assert_eq(nftw(from, copy_entry, 16, FTW_PHYS), 0, "copying %s to %s", from, to);
}

/* The patient of the sample's first folder, and the documents: one is in
 * the index before each run, three are added by it (a text with its
 * sidecar, a CDA, a FHIR bundle), and a bad input is rejected. */
#define NM_PATIENT "158047511203495"
#define NM_DIR "p1-dupont-jean/"
static const char *const nm_base = NM_DIR "2022-03-22_echocardiographie.txt";
static const char *const nm_added[] = {
	NM_DIR "2023-01-10_ordonnance.txt",
	NM_DIR "2026-11-03_bilan-biologique-cda.xml",
	NM_DIR "2026-11-17_consultation-mg-fhir-v1.json",
};
#define NM_ADDED (sizeof nm_added / sizeof nm_added[0])
#define NM_REJECTED "bad-date.txt" /* in corpora/bad: its sidecar's date */

static const char *sample(const char *rel)
{
	return th_path("%s/%s", th_sample(), rel);
}

/* Index files (unarmed: every call must succeed). */
static void index_files(const char *home, const char *const *rel, size_t n)
{
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	for (size_t i = 0; i < n; i++) {
		carnet_outcome o;
		cr_assert_eq(carnet_writer_add_file(w, sample(rel[i]), &o, &err), CARNET_OK,
			     "%s: %s", rel[i], err.message);
		if (o == CARNET_OUTCOME_REJECTED)
			nm_where();
		cr_assert_neq(o, CARNET_OUTCOME_REJECTED, "%s: %s", rel[i], err.message);
	}
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
}

static int reject_found(const char *path, const char *reason, const char *when_utc,
			void *payload)
{
	(void)when_utc;
	char **out = payload; /* the buffer, and its end */
	size_t len = strlen(out[0]);
	snprintf(out[0] + len, (size_t)(out[1] - out[0]) - len, " | rejected %s: %s", path,
		 reason);
	return 0;
}

/* What a new handle finds of the patient's record, into out:
 * the ids in rank order with their scores, browsing, then searching words
 * (a run that went on after its allocation failed must have indexed the
 * same), then the inputs rejected. */
static void ids_found(const char *home, char *out, size_t size)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK,
		     "a new handle cannot open the index: %s", err.message);
	out[0] = '\0';
	static const char *const words[] = { NULL, "conclusion résultat cardiologie" };
	for (size_t w = 0; w < 2; w++) {
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = NM_PATIENT;
		req.profession = "10";
		req.specialty = "SM04";
		req.as_of = "2026-12-01";
		req.words = words[w];
		req.limit = 1000;
		carnet_results *res;
		cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK,
			     "a new handle cannot search: %s", err.message);
		for (size_t i = 0; i < carnet_results_count(res); i++)
			snprintf(out + strlen(out), size - strlen(out), "%s%s=%.6f",
				 i ? " " : w ? " | " : "",
				 carnet_results_field(res, i, CARNET_FIELD_ID),
				 carnet_results_score(res, i));
		carnet_results_free(res);
	}
	char *buf[2] = { out, out + size };
	cr_assert_eq(carnet_index_rejects(idx, reject_found, buf, &err), CARNET_OK, "%s",
		     err.message);
	carnet_index_close(idx);
	cr_assert_lt(strlen(out), size - 1);
}

/* A call under injection: it succeeds, or says memory ran out. */
static int nm_check(int rc, const carnet_error *err, const char *call, unsigned long n)
{
	if (rc != CARNET_OK) {
		if (rc != CARNET_E_NOMEM || !err->message[0])
			nm_where();
		cr_assert_eq(rc, CARNET_E_NOMEM,
			     "%s, allocation %lu failing: %s instead of out of memory: %s",
			     call, n, carnet_strerror(rc), err->message);
		cr_assert_neq(err->message[0], '\0', "%s, allocation %lu failing: no message",
			      call, n);
	}
	return rc;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- Adding ------------------------------------------------------------- */

/* Open a writer, add the three documents and the bad input (its reject is
 * recorded, and never for lack of memory), commit, close, with allocation
 * n failing (0: none). Returns 1 when the commit succeeded. */
static int add_run(const char *home, unsigned long n)
{
	carnet_writer *w = NULL;
	carnet_error err;
	int committed = 0;
	nm_arm(n);
	if (nm_check(carnet_writer_open(&w, home, &err), &err, "carnet_writer_open", n))
		goto done;
	cr_assert_not_null(w);
	for (size_t i = 0; i < NM_ADDED; i++) {
		carnet_outcome o;
		if (nm_check(carnet_writer_add_file(w, sample(nm_added[i]), &o, &err), &err,
			     "carnet_writer_add_file", n))
			goto done;
		if (o == CARNET_OUTCOME_REJECTED)
			nm_where();
		cr_assert_neq(o, CARNET_OUTCOME_REJECTED,
			      "%s, allocation %lu failing: rejected: %s (%s)", nm_added[i], n,
			      err.message, carnet_strerror(err.code));
	}
	carnet_outcome o;
	if (nm_check(carnet_writer_add_file(w, th_path("%s/" NM_REJECTED, th_bad()), &o, &err),
		     &err, "carnet_writer_add_file", n))
		goto done;
	if (o != CARNET_OUTCOME_REJECTED || err.code == CARNET_E_NOMEM)
		nm_where();
	cr_assert_eq(o, CARNET_OUTCOME_REJECTED, "allocation %lu failing: " NM_REJECTED
		     " not rejected", n);
	cr_assert_neq(err.code, CARNET_E_NOMEM, "allocation %lu failing: " NM_REJECTED
		      " rejected for lack of memory: %s", n, err.message);
	if (nm_check(carnet_writer_commit(w, &err), &err, "carnet_writer_commit", n))
		goto done;
	committed = 1;
done:
	carnet_writer_close(w);
	nm_finish("adding", n);
	return committed;
}

/* The allocations of a run made once without failing, profiled: their
 * number and the plan of those to fail (see nm_plan). */
static unsigned long nm_plan_runs(unsigned long *total, int (*run)(const char *, unsigned long),
				  const char *home, unsigned long *plan)
{
	nm_profile_next = 1;
	cr_assert(run(home, 0));
	*total = nm_count;
	return nm_plan(*total, plan);
}

static unsigned long nm_plan_buf[NM_MAX_ALLOCS];

/* Outcomes of carnet_writer_add_files: the documents are read, the bad
 * input rejected for its own reason. */
static void outcome_seen(const char *path, carnet_outcome outcome, const carnet_error *reason,
			 void *payload)
{
	unsigned long n = *(const unsigned long *)payload;
	int bad = strstr(path, NM_REJECTED) != NULL;
	if ((outcome == CARNET_OUTCOME_REJECTED) != bad ||
	    (reason && reason->code == CARNET_E_NOMEM))
		nm_where();
	cr_assert_eq(outcome == CARNET_OUTCOME_REJECTED, bad,
		     "%s, allocation %lu failing: outcome %d (%s)", path, n, (int)outcome,
		     reason ? reason->message : "");
	cr_assert(!reason || reason->code != CARNET_E_NOMEM,
		  "%s, allocation %lu failing: rejected for lack of memory: %s", path, n,
		  reason->message);
}

/* As add_run, with carnet_writer_add_files on two threads. */
static int add_files_run(const char *home, unsigned long n)
{
	carnet_writer *w = NULL;
	carnet_error err;
	const char *paths[NM_ADDED + 1];
	char buf[NM_ADDED + 1][4200];
	for (size_t i = 0; i < NM_ADDED; i++)
		snprintf(buf[i], sizeof buf[i], "%s", sample(nm_added[i]));
	snprintf(buf[NM_ADDED], sizeof buf[NM_ADDED], "%s/" NM_REJECTED, th_bad());
	for (size_t i = 0; i <= NM_ADDED; i++)
		paths[i] = buf[i];
	nm_arm(n);
	int committed =
		!nm_check(carnet_writer_open(&w, home, &err), &err, "carnet_writer_open", n) &&
		!nm_check(carnet_writer_add_files(w, paths, NM_ADDED + 1, 2, outcome_seen, &n,
						  &err), &err, "carnet_writer_add_files", n) &&
		!nm_check(carnet_writer_commit(w, &err), &err, "carnet_writer_commit", n);
	carnet_writer_close(w);
	nm_finish("adding on threads", n);
	return committed;
}

/* Fail the allocations of run (add_run or add_files_run) one at a time, from
 * an index holding one document; each leaves the index as it was or, when
 * it committed, as the run without failure left it, and a writer can then
 * add the documents. With threads, the order of the allocations may differ
 * from the profiled run's, and an allocation may not be reached. */
static void add_test(int (*run)(const char *, unsigned long), int threads)
{
	const char *tmp = nm_tmpdir();
	char tmpl[4200], home[4200];
	snprintf(tmpl, sizeof tmpl, "%s/template", tmp);
	snprintf(home, sizeof home, "%s/idx", tmp);
	/* the template is built where the runs use it, then moved aside */
	index_files(home, &nm_base, 1);
	char before[2048], after[2048];
	ids_found(home, before, sizeof before);
	cr_assert_neq(before[0], '\0');
	cr_assert_eq(rename(home, tmpl), 0);

	/* a first run warms what the library sets up once per process */
	copy_tree(tmpl, home);
	cr_assert(run(home, 0));
	copy_tree(tmpl, home);
	unsigned long total, count = nm_plan_runs(&total, run, home, nm_plan_buf);
	ids_found(home, after, sizeof after);
	cr_assert_neq(strcmp(before, after), 0);

	double t0 = now();
	unsigned long recovered = 0, missed = 0;
	for (unsigned long k = 0; k < count; k++) {
		unsigned long n = nm_plan_buf[k];
		copy_tree(tmpl, home);
		int committed = run(home, n);
		cr_assert(nm_fired || threads, "allocation %lu of %lu was not made: the runs "
			  "differ", n, total);
		missed += !nm_fired;
		recovered += committed && nm_fired;
		if (committed && nm_fired) /* where carnet does without the memory */
			nm_where();
		/* what was committed is found by a new handle: the old state,
		 * or with the commit, the new one */
		char found[2048];
		ids_found(home, found, sizeof found);
		cr_assert_str_eq(found, committed ? after : before,
				 "allocation %lu failing: the index holds [%s]", n, found);
		/* and a new writer can add the documents */
		if (!committed) {
			cr_assert(run(home, 0), "allocation %lu failing: no writer after", n);
			ids_found(home, found, sizeof found);
			cr_assert_str_eq(found, after, "allocation %lu failing: [%s] after", n,
					 found);
		}
	}
	fprintf(stderr, "nomem: writer open, %zu adds and a reject%s, commit: %lu allocations, "
		"%lu failed (%lu runs recovered and committed, %lu not reached) in %.1f s\n",
		NM_ADDED, threads ? " on two threads" : "", total, count, recovered, missed,
		now() - t0);
}

Test(nomem, writer_open_add_commit_fail_cleanly, .fini = nm_cleanup, .timeout = 1200)
{
	add_test(add_run, 0);
}

Test(nomem, writer_add_files_on_threads_fails_cleanly, .fini = nm_cleanup, .timeout = 1200)
{
	add_test(add_files_run, 1);
}

/* ---- Opening and searching ---------------------------------------------- */

/* A digest of everything a caller reads from the results of a run (a run
 * that went on after its allocation failed must answer the same). */
static uint64_t nm_digest;

static void digest(const char *s)
{
	cr_assert_not_null(s);
	for (; *s; s++) {
		nm_digest ^= (unsigned char)*s;
		nm_digest *= 1099511628211u;
	}
	nm_digest ^= 0xff;
	nm_digest *= 1099511628211u;
}

static void read_results(const carnet_results *res)
{
	char num[64];
	for (size_t i = 0; i < carnet_results_count(res); i++) {
		for (int f = CARNET_FIELD_ID; f <= CARNET_FIELD_AUTHOR_SPECIALTY_LABEL; f++)
			digest(carnet_results_field(res, i, (carnet_field)f));
		digest(carnet_results_snippet(res, i));
		snprintf(num, sizeof num, "%.9f", carnet_results_score(res, i));
		digest(num);
	}
	for (int f = CARNET_FACET_TYPE; f <= CARNET_FACET_YEAR; f++)
		for (size_t j = 0; j < carnet_results_facet_count(res, (carnet_facet)f); j++) {
			uint64_t count;
			digest(carnet_results_facet(res, (carnet_facet)f, j, &count));
			snprintf(num, sizeof num, "%llu", (unsigned long long)count);
			digest(num);
		}
	digest(carnet_results_suggestion(res));
}

static void read_panel(const carnet_panel *p)
{
	for (size_t i = 0; i < carnet_panel_count(p); i++) {
		digest(carnet_panel_analyte(p, i, CARNET_ANALYTE_KEY));
		for (size_t j = 0; j < carnet_panel_values(p, i); j++)
			for (int f = CARNET_VALUE_DATE; f <= CARNET_VALUE_SPECIMEN; f++)
				digest(carnet_panel_value(p, i, j, (carnet_value_field)f));
	}
}

/* Open a handle, search with words, without (browse), with a misspelt word
 * (a suggestion), ask for the key results, read the figures, close, with
 * allocation n failing. */
static int search_run(const char *home, unsigned long n)
{
	static const char *const words[] = { "échocardiographie ventricule", NULL,
					     "cardiolgie" };
	carnet_index *idx = NULL;
	carnet_error err;
	int ok = 0;
	nm_digest = 14695981039346656037u;
	nm_arm(n);
	if (nm_check(carnet_index_open(&idx, home, &err), &err, "carnet_index_open", n))
		goto done;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = NM_PATIENT;
		req.profession = "10";
		req.specialty = "SM04";
		req.words = words[i];
		carnet_results *res = NULL;
		if (nm_check(carnet_index_search(&res, idx, &req, &err), &err,
			     "carnet_index_search", n))
			goto done;
		cr_assert_gt(carnet_results_count(res) + (i == 2), 0,
			     "allocation %lu failing: search '%s' found nothing", n,
			     words[i] ? words[i] : "");
		read_results(res);
		carnet_results_free(res);
	}
	/* the key results, which load the analytes tables */
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = NM_PATIENT;
	req.profession = "10";
	req.specialty = "SM04";
	carnet_panel *panel = NULL;
	if (nm_check(carnet_index_results(&panel, idx, &req, &err), &err,
		     "carnet_index_results", n))
		goto done;
	cr_assert_gt(carnet_panel_count(panel), 0, "allocation %lu failing: no results", n);
	read_panel(panel);
	carnet_panel_free(panel);
	uint64_t docs;
	if (nm_check(carnet_index_stat(idx, CARNET_STAT_DOCUMENTS, &docs, &err), &err,
		     "carnet_index_stat", n))
		goto done;
	ok = 1;
done:
	carnet_index_close(idx);
	nm_finish("searching", n);
	return ok;
}

Test(nomem, index_open_and_search_fail_cleanly, .fini = nm_cleanup, .timeout = 1200)
{
	const char *tmp = nm_tmpdir();
	char tmpl[4200], home[4200];
	snprintf(tmpl, sizeof tmpl, "%s/template", tmp);
	snprintf(home, sizeof home, "%s/idx", tmp);
	const char *all[NM_ADDED + 1] = { nm_base };
	for (size_t i = 0; i < NM_ADDED; i++)
		all[i + 1] = nm_added[i];
	index_files(home, all, NM_ADDED + 1);
	char before[2048];
	ids_found(home, before, sizeof before);
	/* each run starts from this copy (the access log grows with every
	 * search, and its write-ahead file with it) */
	cr_assert_eq(rename(home, tmpl), 0);

	copy_tree(tmpl, home);
	cr_assert(search_run(home, 0));
	copy_tree(tmpl, home);
	unsigned long total, count = nm_plan_runs(&total, search_run, home, nm_plan_buf);
	uint64_t answer = nm_digest;

	double t0 = now();
	unsigned long recovered = 0;
	for (unsigned long k = 0; k < count; k++) {
		unsigned long n = nm_plan_buf[k];
		copy_tree(tmpl, home);
		if (search_run(home, n)) { /* where carnet does without the memory */
			recovered++;
			nm_where();
			cr_assert_eq(nm_digest, answer, "allocation %lu failing: the search "
				     "went on, with other results", n);
		}
		cr_assert(nm_fired, "allocation %lu of %lu was not made: the runs differ", n,
			  total);
		/* the index is as it was for a new handle */
		char found[2048];
		ids_found(home, found, sizeof found);
		cr_assert_str_eq(found, before, "allocation %lu failing: the index holds [%s]",
				 n, found);
		/* every request was logged, or refused whole: the log's chain holds */
		carnet_access_log_report rep;
		carnet_error err;
		cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK,
			     "allocation %lu failing: %s", n, err.message);
	}
	fprintf(stderr, "nomem: index open, 3 searches, results, stat: %lu allocations, %lu failed "
		"(%lu runs went on) in %.1f s\n", total, count, recovered,
		now() - t0);
}
