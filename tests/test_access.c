/* test_access.c - who may see what: the authorisation matrix, visibility
 * by role, masks set after upload, the access log, and patient isolation
 * under thousands of hostile requests. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
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
	viewer unknown = { "?", CARNET_ROLE_PROFESSIONAL, "99", NULL, 0 };
	cr_assert_eq(search_ids(&unknown, "P", ids, &n, &err), CARNET_E_DENIED);
	cr_assert(strstr(err.message, "99") && strstr(err.message, "matrix"), "%s", err.message);
	viewer none = { "?", CARNET_ROLE_PROFESSIONAL, NULL, NULL, 0 };
	cr_assert_eq(search_ids(&none, "P", ids, &n, &err), CARNET_E_DENIED);
	cr_assert(strstr(err.message, "profession"), "%s", err.message);
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
