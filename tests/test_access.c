/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_access.c - who may see what: the authorisation matrix, visibility
 * by role, masks set after upload, the access log, and patient isolation
 * under thousands of hostile requests. */
#include <dirent.h>
#include <pthread.h>
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
#include <jansson.h>
#include <sqlite3.h>

#include "carnet.h"
#include "helpers.h"

static char home[4096], docs[4096];
static carnet_index *idx;

static void init(void)
{
	const char *tmp = th_tmpdir();
	snprintf(home, sizeof home, "%s/idx", tmp);
	snprintf(docs, sizeof docs, "%s/docs", tmp);
}

static void fini(void)
{
	carnet_index_close(idx);
	idx = NULL;
	th_cleanup();
}

TestSuite(access, .init = init, .fini = fini);

/* A document of patient P with a type and visibility codes (may be ""). */
static void doc(const char *patient, const char *id, const char *type,
		const char *conf, const char *author)
{
	const char *p = th_path("%s/%s/%s.txt", docs, patient, id);
	th_write_str(p, "Compte rendu\nConclusion : examen normal.\n");
	char meta[1024];
	snprintf(meta, sizeof meta,
		 "{\"patient_id\":\"%s\",\"id\":\"%s\",\"type\":\"%s\",\"date\":\"2025-05-01\","
		 "\"author_id\":\"%s\",\"confidentiality\":[\"N\"%s%s%s]}",
		 patient, id, type, author, *conf ? ",\"" : "", conf, *conf ? "\"" : "");
	th_write_str(th_path("%s.meta.json", p), meta);
}

static void open_idx(void)
{
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
}

typedef struct viewer {
	const char *name;
	carnet_role role;
	const char *profession;
	const char *viewer_id;
	unsigned flags;
} viewer;

static int search_ids(const viewer *v, const char *patient, char ids[][32], size_t *n,
		      carnet_error *err)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = patient;
	req.role = v->role;
	req.profession = v->profession;
	req.viewer_id = v->viewer_id;
	req.flags = v->flags;
	req.limit = 1000;
	carnet_results *res;
	int rc = carnet_index_search(&res, idx, &req, err);
	*n = 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < carnet_results_count(res); i++)
		snprintf(ids[(*n)++], 32, "%s", carnet_results_field(res, i, CARNET_FIELD_ID));
	carnet_results_free(res);
	return CARNET_OK;
}

static int contains(char ids[][32], size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return 1;
	return 0;
}

/* The rules, written out independently of the library. */
static int expected(const viewer *v, const char *type, const char *conf)
{
	int masked = strcmp(conf, "MASQUE_PS") == 0;
	if (v->role == CARNET_ROLE_PATIENT)
		return strcmp(conf, "INVISIBLE_PATIENT") != 0;
	if (v->role == CARNET_ROLE_LEGAL_REPRESENTATIVE)
		return strcmp(conf, "INVISIBLE_REPRESENTANTS_LEGAUX") != 0;
	int emergency = (v->flags & CARNET_REQUEST_EMERGENCY) != 0;
	int author = v->viewer_id && strcmp(v->viewer_id, "10000000001") == 0;
	if (masked && !emergency && !author)
		return 0;
	const char *p = v->profession;
	int lab = strcmp(type, "11502-2") == 0, presc = strcmp(type, "57833-6") == 0,
	    synth = strcmp(type, "60591-5") == 0, img = strcmp(type, "18748-4") == 0;
	if (strcmp(p, "10") == 0)
		return 1;
	if (strcmp(p, "21") == 0 || strcmp(p, "60") == 0)
		return lab || presc || synth;
	if (strcmp(p, "70") == 0)
		return presc || synth || img;
	return 0;
}

Test(access, role_visibility_profession_and_type_decide_together)
{
	const char *types[] = { "11502-2", "57833-6", "60591-5", "18748-4", "11488-4" };
	const char *confs[] = { "", "MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX" };
	for (size_t t = 0; t < 5; t++)
		for (size_t c = 0; c < 4; c++)
			doc("P", th_path("D%zu%zu", t, c), types[t], confs[c], "10000000001");
	th_index_dir(home, docs);
	open_idx();
	const viewer viewers[] = {
		{ "médecin", CARNET_ROLE_PROFESSIONAL, "10", "10000000009", 0 },
		{ "médecin auteur", CARNET_ROLE_PROFESSIONAL, "10", "10000000001", 0 },
		{ "médecin urgence", CARNET_ROLE_PROFESSIONAL, "10", NULL, CARNET_REQUEST_EMERGENCY },
		{ "pharmacien", CARNET_ROLE_PROFESSIONAL, "21", "20000000001", 0 },
		{ "infirmier", CARNET_ROLE_PROFESSIONAL, "60", NULL, 0 },
		{ "kinésithérapeute", CARNET_ROLE_PROFESSIONAL, "70", NULL, 0 },
		{ "patient", CARNET_ROLE_PATIENT, NULL, NULL, 0 },
		{ "représentant légal", CARNET_ROLE_LEGAL_REPRESENTATIVE, NULL, NULL, 0 },
	};
	static char ids[64][32];
	size_t checked = 0;
	for (size_t v = 0; v < sizeof viewers / sizeof viewers[0]; v++) {
		size_t n;
		carnet_error err;
		cr_assert_eq(search_ids(&viewers[v], "P", ids, &n, &err), CARNET_OK,
			     "%s: %s", viewers[v].name, err.message);
		for (size_t t = 0; t < 5; t++)
			for (size_t c = 0; c < 4; c++) {
				const char *id = th_path("D%zu%zu", t, c);
				cr_assert_eq(contains(ids, n, id), expected(&viewers[v], types[t], confs[c]),
					     "%s, type %s, %s", viewers[v].name, types[t],
					     *confs[c] ? confs[c] : "visible");
				checked++;
			}
	}
	cr_assert_eq(checked, 8 * 20);
}

Test(access, unknown_or_missing_profession_sees_nothing_with_a_reason)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	static char ids[8][32];
	size_t n;
	carnet_error err;
	/* 36 ambulancier: a TRE_G15 profession the default matrix has no rule for */
	viewer unknown = { "?", CARNET_ROLE_PROFESSIONAL, "36", NULL, 0 };
	cr_assert_eq(search_ids(&unknown, "P", ids, &n, &err), CARNET_E_DENIED);
	cr_assert(strstr(err.message, "36") && strstr(err.message, "matrix"), "%s", err.message);
	viewer none = { "?", CARNET_ROLE_PROFESSIONAL, NULL, NULL, 0 };
	cr_assert_eq(search_ids(&none, "P", ids, &n, &err), CARNET_E_DENIED);
	cr_assert(strstr(err.message, "profession"), "%s", err.message);
}

Test(access, a_malformed_or_unknown_profession_or_specialty_is_an_invalid_request)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	static const struct { const char *profession, *specialty, *says; } bad[] = {
		{ "99", NULL, "profession 99 is not a TRE_G15" },
		{ "1", NULL, "two digits" },
		{ "10 ", NULL, "two digits" },
		{ "G15_10", NULL, "two digits" },
		{ "10", "SM99", "specialty SM99 is not in the JDV_J01" },
		{ "10", "sm04", "capital letters" },
		{ "10", "SM04;DROP", "capital letters" },
		{ "10", "G15_10/SM9999999999999999999999999999", "capital letters" },
		{ "21", "G15_21/Z", "specialty G15_21/Z is not in the JDV_J01" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = "P";
		req.profession = bad[i].profession;
		req.specialty = bad[i].specialty;
		carnet_results *res;
		carnet_error err;
		cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_E_INVALID,
			     "%s / %s", bad[i].profession, bad[i].specialty ? bad[i].specialty : "-");
		cr_assert_null(res);
		cr_assert(strstr(err.message, bad[i].says), "%s", err.message);
	}
	/* the known codes, both spellings of a physician's specialty */
	static const struct { const char *profession, *specialty; } good[] = {
		{ "10", "SM04" }, { "10", "G15_10/SM04" }, { "21", "G15_21/A" },
		{ "21", "G15_21" }, { "60", NULL }, { "50", "" },
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = "P";
		req.profession = good[i].profession;
		req.specialty = good[i].specialty;
		carnet_results *res;
		carnet_error err;
		cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s: %s",
			     good[i].profession, err.message);
		carnet_results_free(res);
	}
}

Test(access, a_deployer_matrix_replaces_the_default)
{
	doc("P", "LAB", "11502-2", "", "1");
	doc("P", "CS", "11488-4", "", "1");
	th_index_dir(home, docs);
	th_write_str(th_path("%s/authorisations.tsv", home),
		     "# local rules\n21\t*\ttype:11488-4\n10\tSM04\t*\n");
	open_idx();
	static char ids[8][32];
	size_t n;
	viewer pharma = { "pharmacien", CARNET_ROLE_PROFESSIONAL, "21", NULL, 0 };
	cr_assert_eq(search_ids(&pharma, "P", ids, &n, NULL), CARNET_OK);
	cr_assert(n == 1 && contains(ids, n, "CS"));
	/* 10 only with specialty SM04 here: a GP (no rule for SM54) sees nothing */
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.profession = "10";
	req.specialty = "SM54";
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	cr_assert_eq(carnet_results_count(res), 0);
	carnet_results_free(res);
	req.specialty = "SM04";
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	cr_assert_eq(carnet_results_count(res), 2);
	carnet_results_free(res);
}

Test(access, a_malformed_matrix_stops_the_index_from_opening)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	th_write_str(th_path("%s/authorisations.tsv", home), "10\t*\t*\n21 * everything\n");
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "line 2"), "%s", err.message);
}

static int entries;
static char last_ids[256], first_words[256], first_role[32];
static int first_emergency;

static int count_entry(const char *at, const char *viewer_id, const char *role,
		       const char *profession, const char *specialty, int emergency,
		       const char *words, const char *doc_ids, void *payload)
{
	(void)viewer_id;
	(void)profession;
	(void)specialty;
	(void)payload;
	cr_assert_eq(strlen(at), 24, "UTC with milliseconds: %s", at);
	if (entries == 0) {
		snprintf(first_words, sizeof first_words, "%s", words);
		snprintf(first_role, sizeof first_role, "%s", role);
		first_emergency = emergency;
	}
	snprintf(last_ids, sizeof last_ids, "%s", doc_ids);
	entries++;
	return 0;
}

Test(access, every_search_is_logged_with_who_what_and_which_documents)
{
	doc("P", "A", "11502-2", "", "1");
	doc("P", "B", "11488-4", "", "1");
	doc("Q", "C", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.profession = "10";
	req.specialty = "SM04";
	req.viewer_id = "10003";
	req.words = "conclusion";
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	carnet_results_free(res);
	req.flags = CARNET_REQUEST_EMERGENCY;
	req.words = "examen normal";
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	carnet_results_free(res);

	entries = 0;
	carnet_error err;
	cr_assert_eq(carnet_index_access_log(idx, "P", count_entry, NULL, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_eq(entries, 2);
	cr_assert_str_eq(first_words, "examen normal", "newest first");
	cr_assert_str_eq(first_role, "professional");
	cr_assert_eq(first_emergency, 1, "emergency access is logged as such");
	cr_assert(strstr(last_ids, "A") && strstr(last_ids, "B"), "%s", last_ids);
	entries = 0;
	cr_assert_eq(carnet_index_access_log(idx, "Q", count_entry, NULL, &err), CARNET_OK);
	cr_assert_eq(entries, 0, "another patient's log is separate");

	/* a second handle (another viewer process) sees the same log */
	carnet_index *other;
	cr_assert_eq(carnet_index_open(&other, home, NULL), CARNET_OK);
	entries = 0;
	cr_assert_eq(carnet_index_access_log(other, "P", count_entry, NULL, NULL), CARNET_OK);
	cr_assert_eq(entries, 2);
	carnet_index_close(other);
}

/* The rows of patient P's log, as the entries reader gives them. */
static carnet_access_entry rows_seen[8];
static char rows_text[8][4][128];
static size_t nrows;

static int keep_row(const carnet_access_entry *e, void *p)
{
	(void)p;
	if (nrows < 8) {
		rows_seen[nrows] = *e;
		snprintf(rows_text[nrows][0], 128, "%s", e->role);
		snprintf(rows_text[nrows][1], 128, "%s", e->viewer_id);
		snprintf(rows_text[nrows][2], 128, "%s", e->reason);
		snprintf(rows_text[nrows][3], 128, "%s", e->profession);
	}
	nrows++;
	return 0;
}

Test(access, a_refusal_made_before_the_library_is_logged_with_what_is_known)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	carnet_error err;
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	/* an unverified caller: no viewer written, whatever req holds */
	req.viewer_id = "forged";
	req.profession = "10";
	cr_assert_eq(carnet_index_access_log_refusal(idx, &req, 0, CARNET_E_DENIED,
						     "bad token", &err), CARNET_OK, "%s", err.message);
	/* a verified one */
	cr_assert_eq(carnet_index_access_log_refusal(idx, &req, 1, CARNET_E_INVALID,
						     "bad parameter", &err), CARNET_OK, "%s", err.message);
	/* no patient: in the chain, under no patient */
	carnet_request none = CARNET_REQUEST_INIT;
	cr_assert_eq(carnet_index_access_log_refusal(idx, &none, 0, CARNET_E_DENIED, "no patient",
						     &err), CARNET_OK, "%s", err.message);
	/* a status that is not an error writes nothing */
	cr_assert_eq(carnet_index_access_log_refusal(idx, &req, 1, CARNET_OK, "x", &err),
		     CARNET_E_INVALID);
	nrows = 0;
	cr_assert_eq(carnet_index_access_log_entries(idx, "P", keep_row, NULL, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_eq(nrows, 2);
	/* newest first */
	cr_assert_eq(rows_seen[0].status, CARNET_E_INVALID);
	cr_assert_str_eq(rows_text[0][0], "professional");
	cr_assert_str_eq(rows_text[0][1], "forged");
	cr_assert_str_eq(rows_text[0][2], "bad parameter");
	cr_assert_eq(rows_seen[1].status, CARNET_E_DENIED);
	cr_assert_str_eq(rows_text[1][0], "", "an unverified caller has no role");
	cr_assert_str_eq(rows_text[1][1], "");
	cr_assert_str_eq(rows_text[1][3], "");
	cr_assert_eq(rows_seen[1].count, 0);
	carnet_access_log_report rep;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, 3, "every row in the chain");
}

/* Patient P's record searched for "conclusion" by a doctor through v. */
static void search_conclusion(carnet_index *v)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.profession = "10";
	req.words = "conclusion";
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, v, &req, &err), CARNET_OK, "%s", err.message);
	carnet_results_free(res);
}

/* Each viewer process is the first to open the log and rebuilds its WAL
 * index by reading the whole WAL: the WAL must stay short however many
 * viewers come (here 300 handles, one after the other, as many processes
 * would). sqlite's own checkpoint, at 1000 pages, let it reach 4 MB, which
 * every process then read. */
Test(access, the_wal_a_viewer_reads_stays_short, .timeout = 120)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	const char *wal = th_path("%s/access.sqlite-wal", home);
	off_t largest = 0;
	for (int i = 0; i < 300; i++) {
		carnet_index *v;
		carnet_error err;
		cr_assert_eq(carnet_index_open(&v, home, &err), CARNET_OK, "%s", err.message);
		search_conclusion(v);
		carnet_index_close(v);
		struct stat st;
		if (stat(wal, &st) == 0 && st.st_size > largest)
			largest = st.st_size;
	}
	/* 64 frames of 4 KB pages, and the commit that passed them */
	cr_assert_lt(largest, 512 * 1024, "the WAL reached %lld bytes", (long long)largest);
	open_idx();
	entries = 0;
	cr_assert_eq(carnet_index_access_log(idx, "P", count_entry, NULL, NULL), CARNET_OK);
	cr_assert_eq(entries, 300, "every search logged");
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(rep.rows, 300);
}

/* A long-lived viewer (a service) pays no checkpoint in its searches
 * until the WAL is large; closing it leaves the WAL short for the next
 * process. */
/* Is a thread of this process named name (as ps shows it)? */
static int has_thread(const char *name)
{
	DIR *d = opendir("/proc/self/task");
	cr_assert_not_null(d);
	struct dirent *e;
	int found = 0;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		FILE *f = fopen(th_path("/proc/self/task/%s/comm", e->d_name), "r");
		char comm[64] = "";
		if (f) {
			if (!fgets(comm, sizeof comm, f))
				comm[0] = '\0';
			fclose(f);
		}
		found = strncmp(comm, name, strlen(name)) == 0;
	}
	closedir(d);
	return found;
}

Test(access, a_viewer_checkpoints_when_it_closes_not_in_its_searches, .timeout = 120)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	const char *wal = th_path("%s/access.sqlite-wal", home);
	open_idx();
	for (int i = 0; i < 100; i++)
		search_conclusion(idx);
	struct stat st;
	cr_assert_eq(stat(wal, &st), 0);
	cr_assert_gt(st.st_size, 64 * 4096, "100 searches wrote %lld bytes of WAL, kept until close",
		     (long long)st.st_size);
	carnet_index_close(idx);
	idx = NULL;
	cr_assert(stat(wal, &st) != 0 || st.st_size == 0, "closing truncated the WAL (%lld bytes)",
		  (long long)st.st_size);
	cr_assert_not(has_thread("carnet-ckpt"), "a viewer's few searches start no thread");
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(rep.rows, 100);
}

/* A long-lived handle copies the WAL past 8,000 pages (WAL_FRAMES_LIVE in
 * core/access_log.c); a row takes about 3 pages. */
#define LIVE_SEARCHES 3600
#define LIVE_WAL_BOUND 12000

/* LIVE_SEARCHES searches through idx: the largest the WAL file wal
 * reached meanwhile, in bytes. */
static long long searches_watching(const char *wal)
{
	long long largest = 0;
	for (int i = 0; i < LIVE_SEARCHES; i++) {
		search_conclusion(idx);
		struct stat st;
		if (stat(wal, &st) == 0 && st.st_size > largest)
			largest = (long long)st.st_size;
	}
	return largest;
}

/* A long-lived handle (a service's) has the WAL copied into the log by a
 * thread of its own, not by the search that passed the threshold: that
 * search waited for two fsyncs (15 ms, one search in 300). The WAL stays
 * bounded all the same. */
Test(access, a_long_lived_handle_checkpoints_on_a_thread_of_its_own, .timeout = 120)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	const char *wal = th_path("%s/access.sqlite-wal", home);
	open_idx();
	long long largest = searches_watching(wal);
	cr_assert(has_thread("carnet-ckpt"), "the checkpointer thread runs");
	cr_log_info("largest WAL %lld bytes", largest);
	/* 3,600 rows take about 10,800 pages: the WAL was written again from
	 * its start, after the thread's copy and the tail's */
	cr_assert_lt(largest, LIVE_WAL_BOUND * 4096, "the WAL reached %lld bytes", largest);
	carnet_index_close(idx);
	idx = NULL;
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(rep.rows, LIVE_SEARCHES);
}

/* The WAL index (access.sqlite-shm, sqlite's documented format, in the
 * machine's byte order): the last frame of the WAL and the frames
 * already copied into the log; 0 if it cannot be read. */
static int wal_frames(const char *shm, uint32_t *last, uint32_t *copied)
{
	unsigned char h[100];
	FILE *f = fopen(shm, "rb");
	size_t n = f ? fread(h, 1, sizeof h, f) : 0;
	if (f)
		fclose(f);
	if (n != sizeof h)
		return 0;
	memcpy(last, h + 16, 4);   /* mxFrame, in the header */
	memcpy(copied, h + 96, 4); /* nBackfill, in the checkpoint info */
	return 1;
}

/* The thread copies the bulk itself: with no search after the one that
 * woke it, the log takes in the WAL's pages. Its connection, which had
 * read nothing, once did not know the log was in WAL mode and copied
 * nothing: the next search copied all 8,000 pages in its turn (50 ms). */
Test(access, the_checkpointer_thread_copies_the_wal_without_another_search, .timeout = 120)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	char shm[4200];
	snprintf(shm, sizeof shm, "%s/access.sqlite-shm", home);
	open_idx();
	int n = 0;
	while (!has_thread("carnet-ckpt") && n++ < LIVE_SEARCHES)
		search_conclusion(idx);
	cr_assert(has_thread("carnet-ckpt"), "%d searches started the thread", n);
	uint32_t last = 0, copied = 0;
	for (int i = 0; i < 6000; i++) { /* 60 s at most */
		cr_assert(wal_frames(shm, &last, &copied), "cannot read %s", shm);
		if (copied >= 8000)
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	cr_log_info("WAL: %u frames, %u copied", last, copied);
	cr_assert_geq(copied, 8000, "the thread copied %u of the WAL's %u frames", copied, last);
}

/* Two index homes in one process (the checkpointer thread is the
 * process's): the first closes while the tail of its checkpoint is still
 * due, and the second's WAL is still checkpointed. */
Test(access, a_closed_log_s_checkpoint_does_not_hold_another_log_s, .timeout = 120)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	char second[4200];
	snprintf(second, sizeof second, "%s2", home);
	th_index_dir(second, docs);
	open_idx();
	int n = 0;
	while (!has_thread("carnet-ckpt") && n++ < LIVE_SEARCHES)
		search_conclusion(idx);
	cr_assert(has_thread("carnet-ckpt"), "the first log's searches started the thread");
	carnet_index_close(idx); /* its last search asked for a copy: its tail is left due */
	idx = NULL;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, second, &err), CARNET_OK, "%s", err.message);
	const char *wal = th_path("%s/access.sqlite-wal", second);
	long long largest = searches_watching(wal);
	/* 3,600 rows take about 10,800 pages when never copied */
	cr_log_info("largest WAL %lld bytes", largest);
	cr_assert_lt(largest, LIVE_WAL_BOUND * 4096, "the second log's WAL reached %lld bytes", largest);
}

Test(access, the_log_cannot_be_rewritten)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.profession = "10";
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	carnet_results_free(res);
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(th_path("%s/access.sqlite", home), &db), SQLITE_OK);
	cr_assert_neq(sqlite3_exec(db, "DELETE FROM access_log", NULL, NULL, NULL), SQLITE_OK);
	cr_assert_neq(sqlite3_exec(db, "UPDATE access_log SET viewer_id = 'x'", NULL, NULL, NULL),
		      SQLITE_OK);
	sqlite3_close(db);
}

Test(access, a_search_that_cannot_be_logged_fails)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	/* the log's place is taken by a directory: it cannot be written */
	cr_assert_eq(unlink(th_path("%s/access.sqlite", home)), 0);
	cr_assert_eq(mkdir(th_path("%s/access.sqlite", home), 0700), 0);
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.profession = "10";
	carnet_results *res = (carnet_results *)1;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_E_IO);
	cr_assert_null(res, "no answer without a log entry");
	cr_assert(strstr(err.message, "access"), "%s", err.message);
}

Test(access, mask_and_unmask_change_visibility_and_outlive_a_reread)
{
	doc("P", "A", "11502-2", "", "10000000001");
	th_index_dir(home, docs);
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_set_visibility(w, "A", CARNET_AUDIENCE_PROFESSIONALS, 1, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_set_visibility(w, "NOPE", CARNET_AUDIENCE_PATIENT, 1, &err),
		     CARNET_E_NOTFOUND);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK);
	carnet_writer_close(w);
	open_idx();
	static char ids[8][32];
	size_t n;
	viewer md = { "médecin", CARNET_ROLE_PROFESSIONAL, "10", NULL, 0 };
	viewer urg = { "urgence", CARNET_ROLE_PROFESSIONAL, "10", NULL, CARNET_REQUEST_EMERGENCY };
	viewer pat = { "patient", CARNET_ROLE_PATIENT, NULL, NULL, 0 };
	cr_assert_eq(search_ids(&md, "P", ids, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 0, "masked from professionals");
	cr_assert_eq(search_ids(&urg, "P", ids, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(search_ids(&pat, "P", ids, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 1);

	/* the file changes and is read again: the mask stays */
	th_write_str(th_path("%s/P/A.txt", docs), "Compte rendu modifié\n");
	th_index_dir(home, docs);
	cr_assert_eq(carnet_index_refresh(idx, NULL), CARNET_OK);
	cr_assert_eq(search_ids(&md, "P", ids, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 0, "still masked after the re-read");

	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_set_visibility(w, "A", CARNET_AUDIENCE_PROFESSIONALS, 0, &err),
		     CARNET_OK);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK);
	carnet_writer_close(w);
	cr_assert_eq(carnet_index_refresh(idx, NULL), CARNET_OK);
	cr_assert_eq(search_ids(&md, "P", ids, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 1, "unmasked");
}

/* --- thousands of hostile requests --- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint64_t next(void)
{
	/* xorshift64*: deterministic, so a failure can be replayed */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

#define PATIENTS 12


Test(access, thousands_of_hostile_requests_never_cross_patients, .timeout = 120)
{
	const char *words[] = { "hémoglobine", "œdème", "conclusion", "asthme", "HTA",
				"rétinopathie", "Dupont", "Martin", "insuffisance", "normal" };
	char pid[PATIENTS][16];
	for (int p = 0; p < PATIENTS; p++) {
		/* INS-shaped, with their right check key */
		unsigned long long num = 1000000000000ull + (unsigned long long)p * 7919;
		snprintf(pid[p], sizeof pid[p], "%013llu%02llu", num, 97 - num % 97);
	}
	for (int p = 0; p < PATIENTS; p++) {
		for (int d = 0; d < 6; d++) {
			const char *path = th_path("%s/%d/%d.txt", docs, p, d);
			char text[512];
			/* each patient's documents name other patients' ids too */
			snprintf(text, sizeof text, "Document %d de %s\n%s %s %s XP:%s Q%s\n", d, pid[p],
				 words[(p + d) % 10], words[(p * 3 + d) % 10],
				 pid[(p + 1) % PATIENTS], pid[(p + 2) % PATIENTS], pid[p]);
			th_write_str(path, text);
			char meta[256];
			snprintf(meta, sizeof meta,
				 "{\"patient_id\":\"%s\",\"id\":\"%d-%d\",\"date\":\"2024-01-%02d\","
				 "\"type\":\"11502-2\",\"author_id\":\"A%d\",\"confidentiality\":%s}",
				 pid[p], p, d, d + 1, p,
				 d == 5 ? "[\"N\",\"MASQUE_PS\"]" : "[\"N\"]");
			th_write_str(th_path("%s.meta.json", path), meta);
		}
	}
	cr_assert_eq(th_index_dir(home, docs), PATIENTS * 6, "every document indexed");
	open_idx();
	const char *pieces[] = { "XP:", "Q", "XL:1", "XC:MASQUE_PS", "XT:", "XA:", "XG:",
				 "\"", "-", "+", "*", "(", ")", "OR", "AND", "NOT", "NEAR",
				 ":", "'", "l'", " ", "\xe2\x80\x99", "%s", "\\", "é", "Œ" };
	char q[1200];
	unsigned long requests = 0, hits = 0, refused = 0;
	for (int i = 0; i < 3000; i++) {
		int me = (int)(next() % PATIENTS);
		size_t len = 0;
		int parts = 1 + (int)(next() % 12);
		for (int k = 0; k < parts && len < sizeof q - 64; k++) {
			const char *piece;
			char tmp[64];
			switch (next() % 5) {
			case 0: piece = pid[next() % PATIENTS]; break;
			case 1: piece = words[next() % 10]; break;
			case 2: piece = pieces[next() % (sizeof pieces / sizeof pieces[0])]; break;
			case 3:
				snprintf(tmp, sizeof tmp, "%s%s", pieces[next() % 7], pid[next() % PATIENTS]);
				piece = tmp;
				break;
			default: {
				/* random bytes (NUL excluded): mostly printable, now
				 * and then anything, which is usually not UTF-8 */
				size_t n = 1 + next() % 16;
				int any = next() % 10 == 0;
				for (size_t b = 0; b < n; b++)
					tmp[b] = (char)(any ? 1 + next() % 255 : 0x21 + next() % 94);
				tmp[n] = '\0';
				piece = tmp;
			}
			}
			size_t pl = strlen(piece);
			memcpy(q + len, piece, pl);
			len += pl;
			if (next() % 2)
				q[len++] = ' ';
		}
		q[len] = '\0';
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = pid[me];
		req.profession = "10";
		req.words = q;
		req.flags = next() % 4 == 0 ? CARNET_REQUEST_ALL_VERSIONS : 0;
		carnet_results *res;
		carnet_error err;
		int rc = carnet_index_search(&res, idx, &req, &err);
		requests++;
		if (rc == CARNET_E_QUERY) {
			refused++;
			continue;
		}
		cr_assert_eq(rc, CARNET_OK, "request %d: %s", i, err.message);
		for (size_t h = 0; h < carnet_results_count(res); h++) {
			cr_assert_str_eq(carnet_results_field(res, h, CARNET_FIELD_PATIENT), pid[me],
					 "request %d returned another patient's document", i);
			const char *id = carnet_results_field(res, h, CARNET_FIELD_ID);
			cr_assert_neq(id[strlen(id) - 1], '5', "request %d returned a masked document", i);
			hits++;
		}
		carnet_results_free(res);
	}
	cr_log_info("%lu hostile requests, %lu hits checked, %lu refused as malformed",
		    requests, hits, refused);
	cr_assert_gt(hits, 2000, "the requests did find documents");
}

Test(access, local_ids_of_different_systems_are_different_patients)
{
	const char *a = th_path("%s/a.txt", docs), *b = th_path("%s/b.txt", docs),
		   *c = th_path("%s/c.txt", docs);
	th_write_str(a, "Hôpital A\n");
	th_write_str(th_path("%s.meta.json", a),
		     "{\"patient_id\":\"12345\",\"patient_id_system\":\"1.2.250.1.999.1\",\"id\":\"A\"}");
	th_write_str(b, "Hôpital B\n");
	th_write_str(th_path("%s.meta.json", b),
		     "{\"patient_id\":\"12345\",\"patient_id_system\":\"1.2.250.1.999.2\",\"id\":\"B\"}");
	th_write_str(c, "INS\n");
	th_write_str(th_path("%s.meta.json", c),
		     "{\"patient_id\":\"158047511203495\",\"patient_id_system\":\"1.2.250.1.213.1.4.8\",\"id\":\"C\"}");
	th_index_dir(home, docs);
	open_idx();
	static char ids[8][32];
	size_t n;
	viewer md = { "médecin", CARNET_ROLE_PROFESSIONAL, "10", NULL, 0 };
	cr_assert_eq(search_ids(&md, "1.2.250.1.999.1^12345", ids, &n, NULL), CARNET_OK);
	cr_assert(n == 1 && contains(ids, n, "A"));
	cr_assert_eq(search_ids(&md, "1.2.250.1.999.2^12345", ids, &n, NULL), CARNET_OK);
	cr_assert(n == 1 && contains(ids, n, "B"));
	cr_assert_eq(search_ids(&md, "158047511203495", ids, &n, NULL), CARNET_OK);
	cr_assert(n == 1 && contains(ids, n, "C"), "an INS is the bare number");
	cr_assert_eq(search_ids(&md, "12345", ids, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 0, "a local id without system is neither system's patient");
}

/* A version of set S of patient P5: its type decides who may read it. */
static void set_version(int v, const char *type)
{
	const char *p = th_path("%s/P5/S-%d.txt", docs, v);
	th_write_str(p, "Compte rendu\nConclusion : kaliémie normale.\n");
	char meta[512];
	snprintf(meta, sizeof meta,
		 "{\"patient_id\":\"P5\",\"id\":\"S-%d\",\"set_id\":\"S\",\"version\":%d,"
		 "\"type\":\"%s\",\"date\":\"2025-05-0%d\"}", v, v, type, v);
	th_write_str(th_path("%s.meta.json", p), meta);
}

Test(access, an_older_version_shows_only_if_the_viewer_may_read_the_newest)
{
	/* a lab report (a pharmacist may read it) replaced by a consultation
	 * note (a pharmacist may not) */
	set_version(1, "11502-2");
	set_version(2, "11488-4");
	th_index_dir(home, docs);
	open_idx();
	viewer pharmacist = { "pharmacien", CARNET_ROLE_PROFESSIONAL, "21", NULL, 0 };
	viewer doctor = { "médecin", CARNET_ROLE_PROFESSIONAL, "10", NULL, 0 };
	char ids[8][32];
	size_t n;
	carnet_error err;
	for (int all = 0; all < 2; all++) {
		pharmacist.flags = doctor.flags = all ? CARNET_REQUEST_ALL_VERSIONS : 0;
		cr_assert_eq(search_ids(&pharmacist, "P5", ids, &n, &err), CARNET_OK, "%s", err.message);
		cr_assert_eq(n, 0, "the pharmacist sees nothing of the set (all versions: %d)", all);
		cr_assert_eq(search_ids(&doctor, "P5", ids, &n, &err), CARNET_OK, "%s", err.message);
		cr_assert_eq(n, all ? 2u : 1u);
		cr_assert(contains(ids, n, "S-2"));
	}
}

/* The ids of the newest row of the log, if it is an emergency access. */
static int newest_emergency(const carnet_access_entry *e, void *payload)
{
	if (e->emergency)
		snprintf(payload, 64, "%s", e->doc_ids);
	return 1;
}

/* One search of a request version 4: a document id, classes. */
static size_t search_v4(const viewer *v, const char *patient, const char *doc_id,
			const char *cls, char ids[][32], carnet_results **keep)
{
	carnet_request req = CARNET_REQUEST_INIT;
	const char *classes[] = { cls };
	req.patient_id = patient;
	req.role = v->role;
	req.profession = v->profession;
	req.flags = v->flags;
	req.document_id = doc_id;
	req.classes = cls ? classes : NULL;
	req.classes_count = cls ? 1 : 0;
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	size_t n = carnet_results_count(res);
	for (size_t i = 0; i < n && i < 8; i++)
		snprintf(ids[i], 32, "%s", carnet_results_field(res, i, CARNET_FIELD_ID));
	if (keep)
		*keep = res;
	else
		carnet_results_free(res);
	return n;
}

Test(access, one_document_by_id_and_classes_follow_the_same_rules)
{
	set_version(1, "11502-2");
	set_version(2, "11488-4");
	doc("P6", "M1", "11488-4", "MASQUE_PS", "x");
	doc("P6", "D1", "18748-4", "", "x");
	th_index_dir(home, docs);
	open_idx();
	viewer doctor = { "médecin", CARNET_ROLE_PROFESSIONAL, "10", NULL, 0 };
	viewer pharmacist = { "pharmacien", CARNET_ROLE_PROFESSIONAL, "21", NULL, 0 };
	char ids[8][32];
	/* an older version: only among all versions, only if the newest is readable */
	cr_assert_eq(search_v4(&doctor, "P5", "S-1", NULL, ids, NULL), 0);
	doctor.flags = pharmacist.flags = CARNET_REQUEST_ALL_VERSIONS;
	cr_assert_eq(search_v4(&doctor, "P5", "S-1", NULL, ids, NULL), 1);
	cr_assert_str_eq(ids[0], "S-1");
	cr_assert_eq(search_v4(&pharmacist, "P5", "S-1", NULL, ids, NULL), 0);
	/* another patient's document is never found under this patient */
	cr_assert_eq(search_v4(&doctor, "P5", "D1", NULL, ids, NULL), 0);
	/* masked: only in emergency access, which the log records */
	cr_assert_eq(search_v4(&doctor, "P6", "M1", NULL, ids, NULL), 0);
	doctor.flags |= CARNET_REQUEST_EMERGENCY;
	carnet_results *res;
	cr_assert_eq(search_v4(&doctor, "P6", "M1", NULL, ids, &res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_CONFIDENTIALITY), "N MASQUE_PS");
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_CLASS), "10");
	carnet_results_free(res);
	carnet_error err;
	char newest[64] = "";
	cr_assert_eq(carnet_index_access_log_entries(idx, "P6", newest_emergency, newest, &err),
		     1, "the callback stops at the newest row");
	cr_assert_str_eq(newest, "M1", "the newest row is the emergency opening of M1");
	/* the class filter: imaging (31) */
	cr_assert_eq(search_v4(&doctor, "P6", NULL, "31", ids, NULL), 1);
	cr_assert_str_eq(ids[0], "D1");
	cr_assert_eq(search_v4(&doctor, "P6", NULL, "10", ids, NULL), 1);
	cr_assert_str_eq(ids[0], "M1");
	/* a malformed id is an invalid request */
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P6";
	req.profession = "10";
	req.document_id = "a b";
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_E_INVALID);
}

/* ---- the access log as evidence: refusals, the chain, fail closed ---- */

static const char *log_path(void)
{
	return th_path("%s/access.sqlite", home);
}

/* A search of patient P by a médecin, with these words. */
static int search_words(const char *words, carnet_error *err)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P";
	req.profession = "10";
	req.words = words;
	carnet_results *res = NULL;
	int rc = carnet_index_search(&res, idx, &req, err);
	cr_assert(rc == CARNET_OK || res == NULL, "no results with a failure");
	carnet_results_free(res);
	return rc;
}

/* An index of patient P whose log holds rows 1 to n. */
static void logged(int n)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	carnet_error err;
	for (int i = 0; i < n; i++)
		cr_assert_eq(search_words(i % 2 ? "examen" : "conclusion", &err), CARNET_OK,
			     "%s", err.message);
}

/* Run SQL on access.sqlite as someone with the file would. */
static int sql(const char *stmt)
{
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(log_path(), &db), SQLITE_OK);
	int rc = sqlite3_exec(db, stmt, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc;
}

static char *sql_text(const char *query)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(log_path(), &db), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(db, query, -1, &st, NULL), SQLITE_OK, "%s", query);
	char *out = NULL;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		out = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return out;
}

/* Verify fails, naming row seq; a new viewer's search fails closed. */
static void broken_at(uint64_t seq, const char *what)
{
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_E_CORRUPT,
		     "%s: verify passed", what);
	char row[32];
	snprintf(row, sizeof row, "row %llu", (unsigned long long)seq);
	cr_assert(strstr(err.message, row), "%s: %s", what, err.message);
	cr_assert_eq(rep.bad_seq, seq, "%s: %s", what, err.message);
	carnet_index_close(idx);
	open_idx();
	cr_assert_eq(search_words("conclusion", &err), CARNET_E_CORRUPT, "%s: search answered", what);
	cr_assert(strstr(err.message, "access log"), "%s", err.message);
}

static int coll_n;
static int coll_status[8];
static char coll_reason[8][160];
static int collect(const carnet_access_entry *e, void *payload)
{
	(void)payload;
	if (coll_n < 8) {
		coll_status[coll_n] = e->status;
		snprintf(coll_reason[coll_n], sizeof coll_reason[0], "%s", e->reason);
	}
	coll_n++;
	return 0;
}

Test(access, refused_requests_are_logged_with_their_status_and_reason)
{
	logged(1);
	carnet_request req = CARNET_REQUEST_INIT;
	carnet_results *res;
	carnet_error err;
	req.patient_id = "P";
	req.profession = "36";                        /* valid, but no rule in the matrix */
	req.words = "conclusion";
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_E_DENIED);
	req.profession = NULL;                        /* no profession */
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_E_DENIED);
	req.profession = "10";
	req.since = "2025-13-45";                     /* request check */
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_E_INVALID);
	req.since = NULL;
	req.patient_id = "P\nforged";                 /* bad patient id */
	req.words = "\xff\xfe bad UTF-8";
	cr_assert_neq(carnet_index_search(&res, idx, &req, &err), CARNET_OK);
	cr_assert_null(res);

	/* P's entries, newest first: the refusals, then the answered search */
	coll_n = 0;
	cr_assert_eq(carnet_index_access_log_entries(idx, "P", collect, NULL, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_eq(coll_n, 4, "three refusals of P and one answer: %d", coll_n);
	cr_assert_eq(coll_status[0], CARNET_E_INVALID);
	cr_assert(strstr(coll_reason[0], "since"), "%s", coll_reason[0]);
	cr_assert_eq(coll_status[1], CARNET_E_DENIED);
	cr_assert(strstr(coll_reason[1], "profession"), "%s", coll_reason[1]);
	cr_assert_eq(coll_status[2], CARNET_E_DENIED);
	cr_assert(strstr(coll_reason[2], "36"), "%s", coll_reason[2]);
	cr_assert_eq(coll_status[3], CARNET_OK);
	cr_assert_str_eq(coll_reason[3], "");

	/* the request with a bad patient id is there too, its words kept as
	 * valid UTF-8, and the whole log still verifies */
	char *words = sql_text("SELECT words FROM access_log WHERE patient_id = 'P\nforged'");
	cr_assert_not_null(words, "the bad patient id's request is logged");
	cr_assert_str_eq(words, "\xef\xbf\xbd\xef\xbf\xbd bad UTF-8");
	free(words);
	carnet_access_log_report rep;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, 5);
	cr_assert_eq(rep.last_seq, 5);
}


Test(access, insert_or_replace_cannot_overwrite_a_row)
{
	logged(3);
	char *before = sql_text("SELECT hash FROM access_log WHERE seq = 2");
	/* the same row again, then a changed one, under an existing rowid */
	cr_assert_neq(sql("INSERT OR REPLACE INTO access_log SELECT * FROM access_log WHERE seq = 2"),
		      SQLITE_OK);
	cr_assert_neq(sql("INSERT OR REPLACE INTO access_log(seq, at, kind, patient_id, role,"
			  " emergency, doc_ids, count, status, reason, prev, hash)"
			  " SELECT seq, at, kind, patient_id, role, emergency, '', 0, status,"
			  " reason, prev, hash FROM access_log WHERE seq = 2"), SQLITE_OK);
	cr_assert_neq(sql("REPLACE INTO access_log_head VALUES(1, 1, 'x', 1)"), SQLITE_OK);
	cr_assert_neq(sql("DELETE FROM access_log WHERE seq = 2"), SQLITE_OK,
		      "no archive row covers it");
	char *after = sql_text("SELECT hash FROM access_log WHERE seq = 2");
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, 3);
	cr_assert_eq(search_words("conclusion", &err), CARNET_OK, "%s", err.message);
}

/* Run edit with the triggers dropped, then put them back exactly. */
static void behind_the_triggers(const char *edit)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open(log_path(), &db), SQLITE_OK);
	char *saved[16];
	size_t n = 0;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'",
					-1, &st, NULL), SQLITE_OK);
	char drops[2048] = "";
	while (sqlite3_step(st) == SQLITE_ROW && n < 16) {
		saved[n++] = strdup((const char *)sqlite3_column_text(st, 1));
		snprintf(drops + strlen(drops), sizeof drops - strlen(drops), "DROP TRIGGER %s;",
			 (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	cr_assert_geq(n, 5);
	cr_assert_eq(sqlite3_exec(db, drops, NULL, NULL, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, edit, NULL, NULL, NULL), SQLITE_OK, "%s: %s", edit,
		     sqlite3_errmsg(db));
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(sqlite3_exec(db, saved[i], NULL, NULL, NULL), SQLITE_OK);
		free(saved[i]);
	}
	sqlite3_close(db);
}

Test(access, an_edit_behind_the_triggers_is_found)
{
	logged(3);
	behind_the_triggers("UPDATE access_log SET viewer_id = 'someone-else' WHERE seq = 2");
	broken_at(2, "edit");
}

Test(access, a_deleted_row_is_found)
{
	logged(3);
	behind_the_triggers("DELETE FROM access_log WHERE seq = 2");
	broken_at(2, "deletion");
}

Test(access, a_row_inserted_in_the_middle_is_found)
{
	logged(3);
	behind_the_triggers("UPDATE access_log SET seq = 4 WHERE seq = 3;"
			    "UPDATE access_log SET seq = 3 WHERE seq = 2;"
			    "INSERT INTO access_log SELECT 2, at, kind, patient_id, viewer_id, role,"
			    " profession, specialty, emergency, 'forged', doc_ids, count, status,"
			    " reason, archive_upto, archive_rows, archive_last, archive_file, prev,"
			    " hash FROM access_log WHERE seq = 1");
	broken_at(2, "insertion");
}

Test(access, reordered_rows_are_found)
{
	logged(3);
	behind_the_triggers("UPDATE access_log SET seq = 10 WHERE seq = 1;"
			    "UPDATE access_log SET seq = 1 WHERE seq = 2;"
			    "UPDATE access_log SET seq = 2 WHERE seq = 10");
	broken_at(1, "reorder");
}

Test(access, a_truncated_tail_is_found)
{
	logged(3);
	behind_the_triggers("DELETE FROM access_log WHERE seq = 3");
	broken_at(3, "tail removed");
}

Test(access, a_log_truncated_to_zero_bytes_stops_searches)
{
	logged(2);
	carnet_index_close(idx);
	idx = NULL;
	cr_assert_eq(truncate(log_path(), 0), 0);
	open_idx();
	carnet_error err;
	cr_assert_eq(search_words("conclusion", &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "empty"), "%s", err.message);
	struct stat st;
	cr_assert_eq(stat(log_path(), &st), 0);
	cr_assert_eq(st.st_size, 0, "no new log started in its place");
	carnet_access_log_report rep;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "empty"), "%s", err.message);
}

Test(access, a_removed_log_is_not_recreated_by_a_viewer)
{
	logged(2);
	carnet_index_close(idx);
	idx = NULL;
	cr_assert_eq(unlink(log_path()), 0);
	unlink(th_path("%s-wal", log_path()));
	unlink(th_path("%s-shm", log_path()));
	open_idx();
	carnet_error err;
	cr_assert_eq(search_words("conclusion", &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "missing"), "%s", err.message);
	cr_assert_neq(access(log_path(), F_OK), 0, "the viewer created no log");
	/* the writer's next run creates it, group-writable, from row 1 */
	th_index_dir(home, docs);
	struct stat st;
	cr_assert_eq(stat(log_path(), &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0660, "mode %o", (unsigned)(st.st_mode & 0777));
	cr_assert_eq(search_words("conclusion", &err), CARNET_OK, "%s", err.message);
	carnet_access_log_report rep;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.first_seq, 1);
	cr_assert_eq(rep.rows, 1);
}

Test(access, a_trigger_that_ignores_rows_stops_searches_even_on_an_open_handle)
{
	logged(2);
	cr_assert_eq(sql("CREATE TRIGGER quiet BEFORE INSERT ON access_log"
			 " BEGIN SELECT RAISE(IGNORE); END"), SQLITE_OK);
	carnet_error err;
	/* the handle opened before the trigger was added notices it */
	cr_assert_eq(search_words("conclusion", &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "quiet"), "%s", err.message);
	carnet_access_log_report rep;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "trigger 'quiet'"), "%s", err.message);
	/* a dropped trigger too */
	cr_assert_eq(sql("DROP TRIGGER quiet; DROP TRIGGER access_log_no_delete"), SQLITE_OK);
	carnet_index_close(idx);
	open_idx();
	cr_assert_eq(search_words("conclusion", &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "access_log_no_delete"), "%s", err.message);
	/* and a journal mode other than WAL, triggers restored */
	carnet_index_close(idx);
	idx = NULL;
	cr_assert_eq(sql("PRAGMA journal_mode=DELETE;"
			 "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log"
			 "  WHEN NOT EXISTS (SELECT 1 FROM access_log WHERE kind = 'archive'"
			 "                   AND archive_upto >= OLD.seq)"
			 "  BEGIN SELECT RAISE(ABORT, 'the access log is append-only: only archived rows are removed'); END"),
		     SQLITE_OK);
	open_idx();
	cr_assert_eq(search_words("conclusion", &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "journal mode is 'delete'"), "%s", err.message);
	cr_assert_eq(sql("PRAGMA journal_mode=WAL"), SQLITE_OK);
	carnet_index_close(idx);
	open_idx();
	cr_assert_eq(search_words("conclusion", &err), CARNET_OK, "%s", err.message);
}

Test(access, archive_moves_old_rows_and_the_chain_still_verifies)
{
	logged(3);
	const char *file = th_path("%s/archive-1.jsonl", th_tmpdir());
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_archive(home, "2001-01-01", file, &rep, &err),
		     CARNET_E_NOTFOUND, "nothing is that old");
	cr_assert_neq(access(file, F_OK), 0, "no file left behind");
	cr_assert_eq(carnet_access_log_archive(home, "2999-01-01", file, &rep, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_eq(rep.archived, 3);
	cr_assert_eq(rep.last_seq, 3);
	char *archived_head = sql_text("SELECT archive_last FROM access_log WHERE kind = 'archive'");
	cr_assert_str_eq(archived_head, rep.head);
	free(archived_head);

	/* three JSON lines with the rows' hashes; the log keeps the record */
	size_t len;
	char *text = th_slurp(file, &len);
	int lines = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		json_error_t je;
		json_t *o = json_loads(line, 0, &je);
		cr_assert_not_null(o, "%s", line);
		cr_assert_eq(json_integer_value(json_object_get(o, "seq")), lines + 1);
		cr_assert_eq(strlen(json_string_value(json_object_get(o, "hash"))), 64);
		json_decref(o);
	}
	free(text);
	cr_assert_eq(lines, 3);

	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.first_seq, 4, "the archive row starts the chain");
	cr_assert_eq(carnet_access_log_verify(home, file, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, 3);
	cr_assert_eq(search_words("conclusion", &err), CARNET_OK, "%s", err.message);
	carnet_index_close(idx);
	open_idx();
	cr_assert_eq(search_words("conclusion", &err), CARNET_OK, "%s", err.message);

	/* an existing archive is never replaced */
	cr_assert_eq(carnet_access_log_archive(home, "2999-01-01", file, &rep, &err),
		     CARNET_E_INVALID);
	/* an archive file edited afterwards no longer verifies */
	text = th_slurp(file, &len);
	char *at = strstr(text, "\"profession\":\"10\"");
	cr_assert_not_null(at);
	at[15] = '2';
	th_write(file, text, len);
	free(text);
	cr_assert_eq(carnet_access_log_verify(home, file, &rep, &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "line 1"), "%s", err.message);
	/* rows archived cannot be deleted behind a forged record: the rest
	 * of the log still refuses deletes */
	cr_assert_neq(sql("DELETE FROM access_log WHERE seq = 5"), SQLITE_OK);
}

Test(access, a_log_from_before_the_chain_is_migrated_by_the_writer)
{
	logged(0);
	carnet_index_close(idx);
	idx = NULL;
	cr_assert_eq(unlink(log_path()), 0);
	/* the log as carnet wrote it before its rows were chained */
	cr_assert_eq(sql("CREATE TABLE access_log(at TEXT NOT NULL, patient_id TEXT NOT NULL,"
			 " viewer_id TEXT, role TEXT NOT NULL, profession TEXT, specialty TEXT,"
			 " emergency INTEGER NOT NULL, words TEXT, doc_ids TEXT NOT NULL,"
			 " count INTEGER NOT NULL);"
			 "CREATE INDEX access_log_patient ON access_log(patient_id, at);"
			 "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log"
			 "  BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;"
			 "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log"
			 "  BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END;"
			 "INSERT INTO access_log VALUES('2024-01-02T10:00:00.000Z', 'P', '10003',"
			 " 'professional', '10', NULL, 0, 'old words', 'A', 1);"
			 "INSERT INTO access_log VALUES('2024-01-03T10:00:00.000Z', 'P', NULL,"
			 " 'patient', NULL, NULL, 0, NULL, 'A', 1);"
			 "PRAGMA journal_mode=WAL; PRAGMA user_version = 1;"), SQLITE_OK);
	open_idx();
	carnet_error err;
	cr_assert_eq(search_words("conclusion", &err), CARNET_E_VERSION, "a viewer does not migrate");
	th_index_dir(home, docs);
	carnet_index_close(idx);
	open_idx();
	cr_assert_eq(search_words("conclusion", &err), CARNET_OK, "%s", err.message);
	carnet_access_log_report rep;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, 3, "both old rows kept, then the new one");
	char *words = sql_text("SELECT words FROM access_log WHERE seq = 1");
	cr_assert_str_eq(words, "old words");
	free(words);
}

Test(access, viewers_in_parallel_processes_keep_one_chain, .timeout = 120)
{
	logged(0);
	carnet_index_close(idx);
	idx = NULL;
	enum { PROCS = 4, EACH = 25 };
	pid_t pids[PROCS];
	for (int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		cr_assert_geq(pids[p], 0);
		if (pids[p] == 0) {
			/* a viewer process of its own: its handle, its searches */
			carnet_index *mine;
			if (carnet_index_open(&mine, home, NULL) != CARNET_OK)
				_exit(1);
			idx = mine;
			int bad = 0;
			for (int i = 0; i < EACH; i++)
				bad |= search_words(i % 3 ? "examen" : "conclusion", NULL) != CARNET_OK;
			carnet_index_close(mine);
			_exit(bad);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;
		cr_assert_eq(waitpid(pids[p], &status, 0), pids[p]);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "viewer %d failed", p);
	}
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, PROCS * EACH, "every search has its row: %llu",
		     (unsigned long long)rep.rows);
}

/* Threads of one process (a service's workers), each with its own
 * handle: every search has its row in one chain, and the WAL of these
 * long-lived handles, checkpointed in their commits past 8,000 pages, is
 * written again from its start instead of growing. */
#define THREADS 4
#define EACH_THREAD 1200

static _Atomic long long wal_largest;

static void *thread_searches(void *arg)
{
	const char *wal = arg;
	carnet_index *mine;
	if (carnet_index_open(&mine, home, NULL) != CARNET_OK)
		return (void *)1;
	long bad = 0;
	for (int i = 0; i < EACH_THREAD; i++) {
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = "P";
		req.profession = "10";
		req.words = i % 2 ? "conclusion" : NULL;
		carnet_results *res;
		if (carnet_index_search(&res, mine, &req, NULL) != CARNET_OK)
			bad++;
		else
			carnet_results_free(res);
		struct stat st;
		long long seen = wal_largest;
		while (stat(wal, &st) == 0 && st.st_size > seen &&
		       !atomic_compare_exchange_weak(&wal_largest, &seen, (long long)st.st_size))
			;
	}
	carnet_index_close(mine);
	return (void *)bad;
}

Test(access, viewers_in_threads_of_one_process_keep_one_chain, .timeout = 120)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	char wal[4200];
	snprintf(wal, sizeof wal, "%s/access.sqlite-wal", home);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, thread_searches, wal), 0);
	for (int i = 0; i < THREADS; i++) {
		void *bad;
		cr_assert_eq(pthread_join(t[i], &bad), 0);
		cr_assert_null(bad, "thread %d: %ld searches failed", i, (long)bad);
	}
	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, THREADS * EACH_THREAD, "every search has its row: %llu",
		     (unsigned long long)rep.rows);
	/* the 4,800 rows took about 14,400 pages (4 KB; the WAL reached 60 MB
	 * when it was never written again from its start), but the WAL held
	 * at most the 8,000 pages of one round between checkpoints, what the
	 * other threads committed while it was copied out of their turn, and
	 * the tail */
	cr_log_info("largest WAL %lld bytes", (long long)wal_largest);
	cr_assert_lt(wal_largest, (LIVE_WAL_BOUND + 3000) * 4096, "the WAL reached %lld bytes",
		     (long long)wal_largest);
}

/* Handles opened at the same moment in threads each read the analytes
 * tables (for the key results, or words on coded results): with strtok's state shared between
 * threads, the service's first requests were refused ("Ca2+ is not a
 * LOINC code"). */
#define OPENERS 6
#define OPENS 30

static pthread_barrier_t opening;

static void *thread_opens(void *arg)
{
	(void)arg;
	long bad = 0;
	for (int i = 0; i < OPENS; i++) {
		pthread_barrier_wait(&opening);
		carnet_index *mine;
		carnet_error err;
		if (carnet_index_open(&mine, home, &err) != CARNET_OK) {
			fprintf(stderr, "open: %s\n", err.message);
			bad++;
			continue;
		}
		/* the key results read the analytes tables */
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = "P";
		req.profession = "10";
		carnet_panel *panel;
		if (carnet_index_results(&panel, mine, &req, &err) != CARNET_OK) {
			fprintf(stderr, "results: %s\n", err.message);
			bad++;
		} else {
			carnet_panel_free(panel);
		}
		carnet_index_close(mine);
	}
	return (void *)bad;
}

Test(access, handles_opened_at_once_in_threads_all_search, .timeout = 120)
{
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	cr_assert_eq(pthread_barrier_init(&opening, NULL, OPENERS), 0);
	pthread_t t[OPENERS];
	for (int i = 0; i < OPENERS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, thread_opens, NULL), 0);
	long failed = 0;
	for (int i = 0; i < OPENERS; i++) {
		void *bad;
		cr_assert_eq(pthread_join(t[i], &bad), 0);
		failed += (long)bad;
	}
	pthread_barrier_destroy(&opening);
	cr_assert_eq(failed, 0, "%ld of %d handles failed", failed, OPENERS * OPENS);
}

/* tests/data/access/chained-v2.sqlite and its archive file were written by
 * carnet 0.1.0 (the build before the access log's code was split into
 * files): three searches (one refused), archived, then the archive row and
 * two searches. The format on disk does not change: the log and the
 * archive still verify to the same heads, and new rows chain onto it. */
Test(access, a_log_written_by_an_earlier_build_verifies_and_takes_new_rows)
{
	size_t len;
	char *bytes = th_slurp(th_path("%s/tests/data/access/chained-v2.sqlite", th_root()), &len);
	cr_assert_eq(mkdir(home, 0700), 0);
	th_write(log_path(), bytes, len);
	free(bytes);
	char archive[4096];
	snprintf(archive, sizeof archive, "%s/tests/data/access/chained-v2-archive-1.jsonl",
		 th_root());

	carnet_access_log_report rep;
	carnet_error err;
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, 3);
	cr_assert_eq(rep.first_seq, 4, "the archive row starts the chain");
	cr_assert_eq(rep.last_seq, 6);
	cr_assert_str_eq(rep.head, "a1e7759b9066fee9bc821262b344eebccb7b6fbab35a7fc61d14bbb1c9f96fe9");
	cr_assert_eq(carnet_access_log_verify(home, archive, &rep, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(rep.rows, 3);
	cr_assert_eq(rep.first_seq, 1);
	cr_assert_eq(rep.last_seq, 3);
	cr_assert_str_eq(rep.head, "575c4571d33cbd3abcd09ee4f7fb313997d212d3686096f68b9cdfe9c9d45ef7");

	/* the writer keeps the log as it is; a viewer's search is row 7 */
	doc("P", "A", "11502-2", "", "1");
	th_index_dir(home, docs);
	open_idx();
	cr_assert_eq(search_words("conclusion", &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_access_log_verify(home, NULL, &rep, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(rep.rows, 4);
	cr_assert_eq(rep.first_seq, 4);
	cr_assert_eq(rep.last_seq, 7);
	char *prev = sql_text("SELECT prev FROM access_log WHERE seq = 7");
	cr_assert_str_eq(prev, "a1e7759b9066fee9bc821262b344eebccb7b6fbab35a7fc61d14bbb1c9f96fe9",
			 "row 7 names the earlier build's last row");
	free(prev);
	char *words = sql_text("SELECT words FROM access_log WHERE seq = 5");
	cr_assert_str_eq(words, "rein");
	free(words);
}
