/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_query.c - searching through the public API: French matching, patient
 * isolation, versions, visibility, filters, request validation. Each test
 * builds a real index in a fresh directory. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "doc.h"
#include "helpers.h"
#include "home.h"
#include "schema.h"
#include "textpack.h"
#include "xapian_shim.h"

static char home[4096];
static char docs[4096];
static carnet_index *idx;

static void open_idx(void)
{
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
}

static void sample_init(void)
{
	const char *tmp = th_tmpdir();
	snprintf(home, sizeof home, "%s/idx", tmp);
	cr_assert_gt(th_index_dir(home, th_sample()), 40);
	open_idx();
}

static void fini(void)
{
	carnet_index_close(idx);
	idx = NULL;
	th_cleanup();
}

/* Run a search that must succeed. */
static carnet_results *search(const char *patient, const char *words,
			      unsigned flags)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = patient;
	req.words = words;
	req.flags = flags;
	req.limit = 1000;
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK,
		     "search '%s': %s", words ? words : "", err.message);
	return res;
}

static size_t count(const char *patient, const char *words)
{
	carnet_results *res = search(patient, words, 0);
	size_t n = carnet_results_count(res);
	carnet_results_free(res);
	return n;
}

/* Does any hit's id equal id? */
static int has_id(const carnet_results *res, const char *id)
{
	for (size_t i = 0; i < carnet_results_count(res); i++)
		if (strcmp(carnet_results_field(res, i, CARNET_FIELD_ID), id) == 0)
			return 1;
	return 0;
}

static const char *patient1(void)
{
	static char ids[16][64];
	size_t n = th_sample_patients(ids, 16);
	cr_assert_geq(n, 4, "the sample corpus has at least 4 patients");
	/* the cardiology patient lives in p1-*: find it by a word of its record */
	for (size_t i = 0; i < n; i++)
		if (count(ids[i], "echocardiographie") > 0 && count(ids[i], "hemoglobine") > 0)
			return ids[i];
	cr_assert_fail("no sample patient with echocardiography and haemoglobin");
	return NULL;
}

TestSuite(sample, .init = sample_init, .fini = fini);

Test(sample, unaccented_word_finds_accented_text)
{
	const char *p = patient1();
	cr_assert_gt(count(p, "hemoglobine"), 0);
	cr_assert_eq(count(p, "hemoglobine"), count(p, "Hémoglobine"));
	cr_assert_eq(count(p, "echocardiographie"), count(p, "ÉCHOCARDIOGRAPHIE"));
}

Test(sample, elided_article_matches_the_bare_word)
{
	const char *p = patient1();
	size_t bare = count(p, "hémoglobine");
	cr_assert_gt(bare, 0);
	cr_assert_eq(count(p, "l'hémoglobine"), bare);
	cr_assert_eq(count(p, "l’hémoglobine"), bare);
}

Test(sample, ligature_and_plain_spelling_match_alike)
{
	static char ids[16][64];
	size_t n = th_sample_patients(ids, 16);
	size_t with_lig = 0, plain = 0;
	for (size_t i = 0; i < n; i++) {
		with_lig += count(ids[i], "œdème");
		plain += count(ids[i], "oedeme");
	}
	cr_assert_gt(with_lig, 0, "the sample mentions œdème");
	cr_assert_eq(with_lig, plain);
}

Test(sample, french_stemming_matches_other_word_forms)
{
	const char *p = patient1();
	/* "coronarienne" and "coronarien" share a stem; so do the plurals */
	size_t a = count(p, "coronarienne");
	cr_assert_gt(a, 0);
	cr_assert_eq(count(p, "coronariens"), a);
	cr_assert_eq(count(p, "coronariennes"), a);
	cr_assert_eq(count(p, "traitements"), count(p, "traitement"));
}

Test(sample, hits_are_ranked_and_scores_fall)
{
	const char *p = patient1();
	carnet_results *res = search(p, "hémoglobine glyquée", 0);
	size_t n = carnet_results_count(res);
	cr_assert_gt(n, 0);
	/* text relevance is normalised within the request: the best is 1 */
	double best = 0;
	for (size_t i = 0; i < n; i++)
		if (carnet_results_part(res, i, CARNET_PART_TEXT_RAW) > best)
			best = carnet_results_part(res, i, CARNET_PART_TEXT_RAW);
	cr_assert_float_eq(best, 1.0, 1e-9);
	for (size_t i = 0; i < n; i++) {
		cr_assert_gt(carnet_results_score(res, i), 0);
		cr_assert_leq(carnet_results_score(res, i), 1.0);
	}
	for (size_t i = 1; i < n; i++)
		cr_assert_leq(carnet_results_score(res, i), carnet_results_score(res, i - 1));
	carnet_results_free(res);
}

Test(sample, no_search_returns_another_patients_document)
{
	static char ids[16][64];
	size_t n = th_sample_patients(ids, 16);
	const char *words[] = {
		"", "conclusion", "compte rendu", "patient", "hta", "diabete", "asthme",
		"retinopathie", "grossesse", "oedeme", "XP:", "Q", "XL:1", "*", "\"",
		"-conclusion", "+conclusion", "NOT conclusion", "conclusion OR asthme",
		"patient_id:*", "XP:158047511203495", "( ) [ ] { } : ; ' ` ~",
	};
	for (size_t i = 0; i < n; i++) {
		for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
			carnet_results *res = search(ids[i], words[w], CARNET_REQUEST_ALL_VERSIONS);
			for (size_t h = 0; h < carnet_results_count(res); h++)
				cr_assert_str_eq(carnet_results_field(res, h, CARNET_FIELD_PATIENT),
						 ids[i], "'%s' for %s returned a document of %s",
						 words[w], ids[i],
						 carnet_results_field(res, h, CARNET_FIELD_PATIENT));
			carnet_results_free(res);
		}
		/* other patients' ids typed as words */
		for (size_t j = 0; j < n; j++) {
			carnet_results *res = search(ids[i], ids[j], 0);
			for (size_t h = 0; h < carnet_results_count(res); h++)
				cr_assert_str_eq(carnet_results_field(res, h, CARNET_FIELD_PATIENT), ids[i]);
			carnet_results_free(res);
		}
	}
}

Test(sample, unknown_patient_has_no_documents)
{
	cr_assert_eq(count("000000000000097", ""), 0);
	cr_assert_eq(count("000000000000097", "conclusion"), 0);
}

Test(sample, browse_ranks_the_whole_record_without_text_with_a_label)
{
	const char *p = patient1();
	carnet_results *res = search(p, NULL, 0);
	size_t n = carnet_results_count(res);
	cr_assert_geq(n, 8);
	cr_assert_eq(carnet_results_total(res), n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(carnet_results_part(res, i, CARNET_PART_TEXT), 0.0);
	for (size_t i = 1; i < n; i++)
		cr_assert_leq(carnet_results_score(res, i), carnet_results_score(res, i - 1),
			      "hit %zu scores above hit %zu", i, i - 1);
	for (size_t i = 0; i < n; i++) {
		cr_assert_neq(strlen(carnet_results_field(res, i, CARNET_FIELD_TITLE)), 0);
		cr_assert_neq(strlen(carnet_results_field(res, i, CARNET_FIELD_TYPE_LABEL)), 0,
			      "type %s has a label", carnet_results_field(res, i, CARNET_FIELD_TYPE));
	}
	cr_assert_null(carnet_results_field(res, n, CARNET_FIELD_ID));
	carnet_results_free(res);
}

Test(sample, same_request_gives_same_order)
{
	const char *p = patient1();
	carnet_results *a = search(p, "conclusion", 0), *b = search(p, "conclusion", 0);
	cr_assert_eq(carnet_results_count(a), carnet_results_count(b));
	for (size_t i = 0; i < carnet_results_count(a); i++)
		cr_assert_str_eq(carnet_results_field(a, i, CARNET_FIELD_ID),
				 carnet_results_field(b, i, CARNET_FIELD_ID));
	carnet_results_free(a);
	carnet_results_free(b);
}

Test(sample, limit_and_offset_page_through_the_record)
{
	const char *p = patient1();
	carnet_results *all = search(p, NULL, 0);
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = p;
	req.limit = 3;
	req.offset = 2;
	carnet_results *page;
	cr_assert_eq(carnet_index_search(&page, idx, &req, NULL), CARNET_OK);
	cr_assert_eq(carnet_results_count(page), 3);
	for (size_t i = 0; i < 3; i++)
		cr_assert_str_eq(carnet_results_field(page, i, CARNET_FIELD_ID),
				 carnet_results_field(all, i + 2, CARNET_FIELD_ID));
	carnet_results_free(page);
	carnet_results_free(all);
}

Test(sample, type_and_date_filters_narrow_the_record)
{
	const char *p = patient1();
	const char *types[] = { "11502-2" };
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = p;
	req.types = types;
	req.types_count = 1;
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	cr_assert_gt(carnet_results_count(res), 0);
	for (size_t i = 0; i < carnet_results_count(res); i++)
		cr_assert_str_eq(carnet_results_field(res, i, CARNET_FIELD_TYPE), "11502-2");
	carnet_results_free(res);

	req.types = NULL;
	req.types_count = 0;
	req.since = "2021-01-01";
	req.until = "2022-12-31";
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	cr_assert_gt(carnet_results_count(res), 0);
	for (size_t i = 0; i < carnet_results_count(res); i++) {
		const char *d = carnet_results_field(res, i, CARNET_FIELD_DATE);
		cr_assert(strcmp(d, "2021-01-01") >= 0 && strcmp(d, "2022-12-31") <= 0, "%s", d);
	}
	carnet_results_free(res);
}

/* --- requests that must be refused --- */

static int refused(const carnet_request *req, carnet_error *err)
{
	carnet_results *res = (carnet_results *)1;
	int rc = carnet_index_search(&res, idx, req, err);
	cr_assert_null(res, "no results on failure");
	return rc;
}

Test(sample, missing_or_malformed_patient_id_is_refused)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	carnet_error err;
	cr_assert_eq(refused(&req, &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "patient") != NULL, "%s", err.message);
	const char *bad[] = { "", "a b", "x\ny", "é", "\t" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		req.patient_id = bad[i];
		cr_assert_eq(refused(&req, &err), CARNET_E_INVALID, "'%s'", bad[i]);
	}
	char longid[200];
	memset(longid, '1', sizeof longid - 1);
	longid[sizeof longid - 1] = '\0';
	req.patient_id = longid;
	cr_assert_eq(refused(&req, &err), CARNET_E_INVALID);
}

Test(sample, malformed_words_are_a_query_error)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	carnet_error err;
	req.patient_id = patient1();
	req.words = "h\xC3\x28moglobine";
	cr_assert_eq(refused(&req, &err), CARNET_E_QUERY);
	cr_assert(strstr(err.message, "UTF-8") != NULL, "%s", err.message);
	char *huge = malloc(CARNET_WORDS_MAX + 2);
	memset(huge, 'a', CARNET_WORDS_MAX + 1);
	huge[CARNET_WORDS_MAX + 1] = '\0';
	req.words = huge;
	cr_assert_eq(refused(&req, &err), CARNET_E_QUERY);
	free(huge);
}

Test(sample, bad_limits_dates_and_versions_are_refused)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = patient1();
	req.limit = 0;
	cr_assert_eq(refused(&req, NULL), CARNET_E_INVALID);
	req.limit = 1001;
	cr_assert_eq(refused(&req, NULL), CARNET_E_INVALID);
	req.limit = 10;
	req.since = "2024-02-30";
	cr_assert_eq(refused(&req, NULL), CARNET_E_INVALID);
	req.since = NULL;
	req.version = 0;
	cr_assert_eq(refused(&req, NULL), CARNET_E_INVALID);
	cr_assert_eq(refused(NULL, NULL), CARNET_E_INVALID);
}

/* req is answered; the page it asks for holds count hits. */
static void answered(const carnet_request *req, size_t count)
{
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, req, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_results_count(res), count);
	carnet_results_free(res);
}

/* req is refused as invalid, and the reason says "at most bound" (or
 * "and bound"). */
static void refused_past(const carnet_request *req, const char *words, long bound)
{
	carnet_error err;
	char text[64];
	cr_assert_eq(refused(req, &err), CARNET_E_INVALID);
	snprintf(text, sizeof text, "%s %ld", words, bound);
	cr_assert(strstr(err.message, text), "'%s' in: %s", text, err.message);
}

/* The limits carnet.h publishes are the ones the library keeps: each
 * bound is accepted, one past it refused with the bound in the reason. */
Test(sample, the_published_request_limits_are_the_enforced_ones)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = patient1();
	size_t all = count(patient1(), NULL);
	cr_assert_lt(all, CARNET_HITS_MAX);

	req.limit = CARNET_HITS_MAX;
	answered(&req, all);
	req.limit = CARNET_HITS_MAX + 1;
	refused_past(&req, "between 1 and", CARNET_HITS_MAX);

	req.limit = 10;
	req.offset = CARNET_OFFSET_MAX;
	answered(&req, 0);
	req.offset = CARNET_OFFSET_MAX + 1;
	refused_past(&req, "at most", CARNET_OFFSET_MAX);

	req.offset = 0;
	const char *types[CARNET_CODES_MAX + 1];
	for (size_t i = 0; i <= CARNET_CODES_MAX; i++)
		types[i] = "NO-SUCH-TYPE";
	req.types = types;
	req.types_count = CARNET_CODES_MAX;
	answered(&req, 0);
	req.types_count = CARNET_CODES_MAX + 1;
	refused_past(&req, "at most", CARNET_CODES_MAX);
}

Test(sample, huge_hostile_query_is_answered_for_the_patient_only)
{
	const char *p = patient1();
	char q[CARNET_WORDS_MAX + 1];
	const char *bits[] = { "XP:1 ", "\"conclusion ", "-", "+", "Q ", "OR ", "NEAR ", "* " };
	size_t len = 0;
	for (size_t i = 0; len + 8 < sizeof q; i++) {
		const char *b = bits[i % 8];
		memcpy(q + len, b, strlen(b));
		len += strlen(b);
	}
	q[len] = '\0';
	carnet_results *res = search(p, q, 0);
	for (size_t h = 0; h < carnet_results_count(res); h++)
		cr_assert_str_eq(carnet_results_field(res, h, CARNET_FIELD_PATIENT), p);
	carnet_results_free(res);
}

/* --- small hand-made records: versions and visibility --- */

static void own_init(void)
{
	const char *tmp = th_tmpdir();
	snprintf(home, sizeof home, "%s/idx", tmp);
	snprintf(docs, sizeof docs, "%s/docs", tmp);
}

TestSuite(own, .init = own_init, .fini = fini);

static void write_meta(const char *path, const char *json)
{
	th_write_str(th_path("%s.meta.json", path), json);
}

Test(own, only_the_newest_version_shows_unless_asked)
{
	const char *v1 = th_path("%s/cr-v1.txt", docs), *v2 = th_path("%s/cr-v2.txt", docs);
	th_write_str(v1, "Compte rendu\nKaliémie 6,2 mmol/L\n");
	write_meta(v1, "{\"patient_id\":\"P1\",\"id\":\"CR-1\",\"set_id\":\"CR\",\"version\":1,"
		       "\"date\":\"2025-01-10\",\"type\":\"11502-2\"}");
	th_write_str(v2, "Compte rendu corrigé\nKaliémie 4,2 mmol/L\n");
	write_meta(v2, "{\"patient_id\":\"P1\",\"id\":\"CR-2\",\"set_id\":\"CR\",\"version\":2,"
		       "\"date\":\"2025-01-12\",\"type\":\"11502-2\"}");
	th_index_dir(home, docs);
	open_idx();
	carnet_results *res = search("P1", "kaliemie", 0);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "CR-2");
	cr_assert_eq(carnet_results_version(res, 0), 2);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_SET_ID), "CR");
	carnet_results_free(res);
	res = search("P1", "kaliemie", CARNET_REQUEST_ALL_VERSIONS);
	cr_assert_eq(carnet_results_count(res), 2);
	cr_assert(has_id(res, "CR-1") && has_id(res, "CR-2"));
	carnet_results_free(res);
}

Test(own, an_older_version_indexed_later_does_not_hide_the_newer)
{
	const char *v1 = th_path("%s/b.txt", docs), *v2 = th_path("%s/a.txt", docs);
	/* a.txt (version 2) is read before b.txt (version 1) */
	th_write_str(v2, "Scanner corrigé\n");
	write_meta(v2, "{\"patient_id\":\"P1\",\"id\":\"S-2\",\"set_id\":\"S\",\"version\":2,\"date\":\"2025-03-02\"}");
	th_write_str(v1, "Scanner\n");
	write_meta(v1, "{\"patient_id\":\"P1\",\"id\":\"S-1\",\"set_id\":\"S\",\"version\":1,\"date\":\"2025-03-01\"}");
	th_index_dir(home, docs);
	open_idx();
	carnet_results *res = search("P1", "scanner", 0);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "S-2");
	carnet_results_free(res);
}

/* A search of patient by a viewer (role, author id, flags); words may be NULL. */
static carnet_results *viewer_search(const char *patient, carnet_role role, const char *viewer,
				     unsigned flags, const char *words)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = patient;
	req.role = role;
	req.viewer_id = viewer;
	req.flags = flags;
	req.words = words;
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	return res;
}

static carnet_results *as_viewer(carnet_role role, const char *viewer, unsigned flags)
{
	return viewer_search("P9", role, viewer, flags, NULL);
}

Test(own, masked_and_invisible_documents_follow_the_viewer)
{
	const char *a = th_path("%s/psy.txt", docs), *b = th_path("%s/biopsie.txt", docs),
		   *c = th_path("%s/cs.txt", docs);
	th_write_str(a, "Courrier de psychiatrie\n");
	write_meta(a, "{\"patient_id\":\"P9\",\"id\":\"PSY\",\"date\":\"2025-01-01\","
		      "\"author_id\":\"10000000001\",\"confidentiality\":[\"N\",\"MASQUE_PS\"]}");
	th_write_str(b, "Résultat de biopsie\n");
	write_meta(b, "{\"patient_id\":\"P9\",\"id\":\"BIO\",\"date\":\"2025-01-02\","
		      "\"confidentiality\":[\"N\",\"INVISIBLE_PATIENT\"]}");
	th_write_str(c, "Consultation\n");
	write_meta(c, "{\"patient_id\":\"P9\",\"id\":\"CS\",\"date\":\"2025-01-03\"}");
	th_index_dir(home, docs);
	open_idx();

	carnet_results *res = as_viewer(CARNET_ROLE_PROFESSIONAL, "10000000002", 0);
	cr_assert(!has_id(res, "PSY") && has_id(res, "BIO") && has_id(res, "CS"));
	carnet_results_free(res);
	res = as_viewer(CARNET_ROLE_PROFESSIONAL, "10000000001", 0);
	cr_assert(has_id(res, "PSY"), "the author sees the document they masked");
	carnet_results_free(res);
	res = as_viewer(CARNET_ROLE_PROFESSIONAL, NULL, CARNET_REQUEST_EMERGENCY);
	cr_assert(has_id(res, "PSY"), "emergency access lifts the mask");
	carnet_results_free(res);
	res = as_viewer(CARNET_ROLE_PATIENT, NULL, 0);
	cr_assert(has_id(res, "PSY") && !has_id(res, "BIO") && has_id(res, "CS"));
	carnet_results_free(res);
}

Test(own, a_reader_sees_new_documents_after_refresh)
{
	const char *a = th_path("%s/a.txt", docs);
	th_write_doc(a, "P1", "A", "2025-01-01", "Première consultation\n");
	th_index_dir(home, docs);
	open_idx();
	cr_assert_eq(count("P1", ""), 1);
	th_write_doc(th_path("%s/b.txt", docs), "P1", "B", "2025-02-01", "Seconde consultation\n");
	th_index_dir(home, docs);
	carnet_error err;
	cr_assert_eq(carnet_index_refresh(idx, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(count("P1", ""), 2);
}

Test(own, each_search_sees_what_was_committed_before_it)
{
	th_write_doc(th_path("%s/a.txt", docs), "P1", "A", "2025-01-01", "Première consultation\n");
	th_index_dir(home, docs);
	open_idx();
	cr_assert_eq(count("P1", ""), 1);
	cr_assert_eq(count("P1", ""), 1, "nothing committed: the same answer");
	for (int i = 0; i < 3; i++) {
		/* a commit in the same generation, without carnet_index_refresh */
		th_write_doc(th_path("%s/n%d.txt", docs, i), "P1", th_path("N%d", i), "2025-02-01",
			     "Consultation de suivi\n");
		th_index_dir(home, docs);
		cr_assert_eq(count("P1", ""), 2 + i, "the search after commit %d sees it", i);
	}
}

Test(own, opening_a_missing_index_says_not_found)
{
	carnet_index *none = (carnet_index *)1;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&none, th_path("%s/nothing", docs), &err),
		     CARNET_E_NOTFOUND);
	cr_assert_null(none);
	cr_assert(strstr(err.message, "nothing") != NULL, "%s", err.message);
}

Test(sample, cda_and_fhir_documents_of_the_sample_are_searchable)
{
	static char ids[16][64];
	cr_assert_geq(th_sample_patients(ids, 16), 5);
	/* p5: a word that only the PDF inside a CDA holds */
	cr_assert_eq(count("241115935002118", "scintigraphie"), 1);
	/* p1: a LOINC code of a coded entry; the corrected consultation only */
	cr_assert_eq(count("158047511203495", "4548-4"), 1);
	carnet_results *res = search("158047511203495", "bisoprolol ramipril atorvastatine", 0);
	int v1 = has_id(res, "1.2.250.1.999.2.1^CDA-P1-0002-V1");
	int v2 = has_id(res, "1.2.250.1.999.2.1^CDA-P1-0002-V2");
	carnet_results_free(res);
	cr_assert(!v1 && v2, "the newest CDA version only (v1 %d, v2 %d)", v1, v2);
	/* p3 and p4: FHIR text and an HTML Binary in a transaction bundle */
	cr_assert_eq(count("116063306311255", "4521"), 1); /* the lot number */
	cr_assert_eq(count("293021305507886", "\"involution normale\""), 1); /* a phrase */
	/* p4: a CDA masked from professionals by its sidecar */
	cr_assert_eq(count("293021305507886", "psychiatrie"), 0);
}

/* --- ranking statistics are the record's own --- */

/* Run carnet-index with these arguments on home (status 0 or 1 expected). */
static void carnet_index_cli(const char *cmd, const char *arg)
{
	/* the other record's removal is intended: past sync's 10% limit */
	const char *argv[] = { "carnet-index", "--index", home, "--quiet", "--max-remove=100%",
			       cmd, arg, NULL };
	char *out, *errout;
	int st = th_run(&out, &errout, argv);
	cr_assert(st == 0 || st == 1, "carnet-index %s %s: status %d: %s", cmd, arg, st, errout);
	free(out);
	free(errout);
}

/* A search of patient P1's record, written down exactly: each hit's id,
 * score and text relevance as hexadecimal floating point. */
static void ranking_of(const char *words, char *out, size_t size)
{
	carnet_error err;
	cr_assert_eq(carnet_index_refresh(idx, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10";
	req.specialty = "SM04";
	req.patient_id = "P1";
	req.words = words;
	req.as_of = "2026-01-01";
	req.limit = 1000;
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < carnet_results_count(res) && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s %a %a\n",
					carnet_results_field(res, i, CARNET_FIELD_ID),
					carnet_results_score(res, i),
					carnet_results_part(res, i, CARNET_PART_TEXT_RAW));
	cr_assert_lt(len, size);
	carnet_results_free(res);
}

/* Another patient's documents, sharing P1's words. */
static void write_other(int from, int to)
{
	for (int i = from; i < to; i++) {
		char id[32], text[512];
		snprintf(id, sizeof id, "Q-%d", i);
		snprintf(text, sizeof text, "Bilan %d\nHémoglobine hémoglobine hémoglobine "
			 "basse, hypertension artérielle%s.\n", i, i % 3 ? "" : ", créatinine normale");
		th_write_doc(th_path("%s/q/%s.txt", docs, id), "P2", id, "2025-05-01", text);
	}
}

Test(own, a_patients_scores_do_not_depend_on_another_record, .timeout = 120)
{
	static const char *texts[] = {
		"Bilan biologique\nHémoglobine 13 g/dL, créatinine 80 µmol/L.\n",
		"Consultation\nHypertension artérielle équilibrée. Hémoglobine normale.\n",
		"Compte rendu\nHTA ancienne, créatinine stable, créatinine à recontrôler, "
		"hémoglobine glyquée 7 %, suivi cardiologique, échographie.\n",
		"Courrier\nPatient vu pour une douleur thoracique, pas d'anomalie.\n",
		"Bilan rénal\nCréatinine 150 µmol/L, débit de filtration abaissé, créatinine "
		"en hausse depuis le dernier bilan, avis néphrologique demandé.\n",
		"Ordonnance\nAmlodipine 5 mg pour l'hypertension artérielle.\n",
	};
	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
		char id[16], date[16];
		snprintf(id, sizeof id, "A-%zu", i);
		snprintf(date, sizeof date, "2025-0%zu-10", i + 1);
		th_write_doc(th_path("%s/a/%s.txt", docs, id), "P1", id, date, texts[i]);
	}
	carnet_index_cli("sync", docs);
	open_idx();
	static const char *queries[] = { "hémoglobine créatinine HTA", "créatinine",
					 "\"hypertension artérielle\" hémoglobine",
					 "+créatinine hémoglobine -douleur" };
	enum { Q = sizeof queries / sizeof *queries, SIZE = 4096 };
	static char alone[Q][SIZE], now[SIZE];
	for (int q = 0; q < Q; q++)
		ranking_of(queries[q], alone[q], SIZE);
	/* the rankings are not trivial: several hits with different weights */
	cr_assert(strchr(strchr(strchr(alone[0], '\n') + 1, '\n') + 1, '\n') != NULL,
		  "three hits at least:\n%s", alone[0]);
	cr_assert_str_neq(alone[0], alone[1]);

	/* another patient's record is added, grown, then removed */
	const char *steps[] = { "added", "grown", "removed" };
	for (int step = 0; step < 3; step++) {
		if (step == 0)
			write_other(0, 5);
		else if (step == 1)
			write_other(5, 40);
		else
			cr_assert_eq(system(th_path("rm -rf '%s/q'", docs)), 0);
		carnet_index_cli("sync", docs);
		carnet_results *res = search("P2", "hémoglobine", 0);
		cr_assert_eq(carnet_results_count(res), step == 0 ? 5 : step == 1 ? 40 : 0);
		carnet_results_free(res);
		for (int q = 0; q < Q; q++) {
			ranking_of(queries[q], now, SIZE);
			cr_assert_str_eq(now, alone[q], "'%s' once P2's record is %s:\n%s\nwas:\n%s",
					 queries[q], steps[step], now, alone[q]);
		}
	}
}

/* --- versions: a set is seen whole or not at all --- */

static carnet_results *p5(carnet_role role, const char *viewer, unsigned flags, const char *words)
{
	return viewer_search("P5", role, viewer, flags, words);
}

/* Is code among the values of facet which? */
static int in_facet(const carnet_results *res, carnet_facet which, const char *code)
{
	for (size_t j = 0; j < carnet_results_facet_count(res, which); j++)
		if (strcmp(carnet_results_facet(res, which, j, NULL), code) == 0)
			return 1;
	return 0;
}

static void version(const char *name, const char *id, const char *set, int v,
		    const char *type, const char *conf, const char *text)
{
	const char *path = th_path("%s/%s.txt", docs, name);
	th_write_str(path, text);
	char meta[512];
	snprintf(meta, sizeof meta,
		 "{\"patient_id\":\"P5\",\"id\":\"%s\",\"set_id\":\"%s\",\"version\":%d,"
		 "\"date\":\"2025-02-%02d\",\"type\":\"%s\",\"author_id\":\"10000000007\","
		 "\"confidentiality\":[\"N\"%s]}", id, set, v, 10 + v, type, conf);
	write_meta(path, meta);
}

Test(own, a_masked_newest_version_hides_its_whole_set, .timeout = 120)
{
	/* KAL: v2 masked from professionals in its sidecar; ECH: v2 masked
	 * later with carnet-index mask; OLD: v1 masked, v2 visible */
	version("kal1", "KAL-1", "KAL", 1, "11502-2", "", "Kaliémie 6,2 mmol/L\n");
	version("kal2", "KAL-2", "KAL", 2, "11502-2", ",\"MASQUE_PS\"", "Kaliémie 4,2 mmol/L\n");
	version("ech1", "ECH-1", "ECH", 1, "34794-8", "", "Échographie abdominale\n");
	version("ech2", "ECH-2", "ECH", 2, "34794-8", "", "Échographie abdominale corrigée\n");
	version("old1", "OLD-1", "OLD", 1, "11488-4", ",\"MASQUE_PS\"", "Consultation ancienne\n");
	version("old2", "OLD-2", "OLD", 2, "11488-4", "", "Consultation revue\n");
	carnet_index_cli("sync", docs);
	const char *argv[] = { "carnet-index", "--index", home, "mask", "ECH-2",
			       "--from", "professionals", NULL };
	char *out, *errout;
	cr_assert_eq(th_run(&out, &errout, argv), 0, "%s", errout);
	free(out);
	free(errout);
	open_idx();

	for (unsigned flags = 0; flags <= CARNET_REQUEST_ALL_VERSIONS;
	     flags += CARNET_REQUEST_ALL_VERSIONS) {
		carnet_results *res = p5(CARNET_ROLE_PROFESSIONAL, "10000000002", flags, NULL);
		cr_assert_eq(carnet_results_count(res), 1, "flags %u", flags);
		cr_assert(has_id(res, "OLD-2"));
		cr_assert_eq(carnet_results_total(res), 1);
		cr_assert(!in_facet(res, CARNET_FACET_TYPE, "11502-2") &&
			  !in_facet(res, CARNET_FACET_TYPE, "34794-8"),
			  "no facet counts a hidden set");
		carnet_results_free(res);
		/* the words of a hidden set find nothing and suggest nothing */
		res = p5(CARNET_ROLE_PROFESSIONAL, "10000000002", flags, "kaliemie echographie");
		cr_assert_eq(carnet_results_count(res), 0);
		cr_assert_eq(carnet_results_total(res), 0);
		carnet_results_free(res);
		res = p5(CARNET_ROLE_PROFESSIONAL, "10000000002", flags, "kaliemi");
		cr_assert_str_eq(carnet_results_suggestion(res), "", "flags %u", flags);
		carnet_results_free(res);
	}
	/* those who may see the newest version see the whole set */
	carnet_results *res = p5(CARNET_ROLE_PATIENT, NULL, CARNET_REQUEST_ALL_VERSIONS, NULL);
	cr_assert_eq(carnet_results_count(res), 6);
	carnet_results_free(res);
	res = p5(CARNET_ROLE_PROFESSIONAL, "10000000007", CARNET_REQUEST_ALL_VERSIONS, "kaliemie");
	cr_assert(has_id(res, "KAL-1") && has_id(res, "KAL-2"), "the author of the masked version");
	cr_assert(carnet_results_snippet(res, 0)[0] != '\0');
	carnet_results_free(res);
	res = p5(CARNET_ROLE_PROFESSIONAL, NULL, CARNET_REQUEST_ALL_VERSIONS |
		 CARNET_REQUEST_EMERGENCY, NULL);
	cr_assert_eq(carnet_results_count(res), 6);
	carnet_results_free(res);
	res = p5(CARNET_ROLE_PROFESSIONAL, NULL, 0, "kaliemi");
	cr_assert_str_eq(carnet_results_suggestion(res), "", "newest version hidden, default mode");
	carnet_results_free(res);

	/* unmasked, the set comes back whole */
	const char *unmask[] = { "carnet-index", "--index", home, "unmask", "ECH-2",
				 "--from", "professionals", NULL };
	cr_assert_eq(th_run(&out, &errout, unmask), 0, "%s", errout);
	free(out);
	free(errout);
	carnet_error err;
	cr_assert_eq(carnet_index_refresh(idx, &err), CARNET_OK, "%s", err.message);
	res = p5(CARNET_ROLE_PROFESSIONAL, "10000000002", CARNET_REQUEST_ALL_VERSIONS, "echographie");
	cr_assert_eq(carnet_results_count(res), 2);
	cr_assert(has_id(res, "ECH-1") && has_id(res, "ECH-2"));
	carnet_results_free(res);
}

/* --- patient identity on the query side, and damaged indexes --- */

Test(own, a_request_names_its_patient_by_system_and_id)
{
	const char *a = th_path("%s/a.txt", docs), *b = th_path("%s/b.txt", docs);
	th_write_str(a, "Hôpital A\n");
	write_meta(a, "{\"patient_id\":\"IPP7\",\"patient_id_system\":\"1.2.250.1.999.1\",\"id\":\"A\"}");
	th_write_str(b, "Sans système\n");
	write_meta(b, "{\"patient_id\":\"IPP7\",\"id\":\"B\"}");
	cr_assert_eq(th_index_dir(home, docs), 2);
	open_idx();
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10";
	req.patient_id = "IPP7";
	req.patient_system = "1.2.250.1.999.1";
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "A");
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_PATIENT), "1.2.250.1.999.1^IPP7");
	carnet_results_free(res);
	/* a caller built with request version 2 knows no patient_system: it
	 * is not read, and the id alone names the local patient */
	req.version = 2;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "B");
	carnet_results_free(res);
	/* ids or systems that could make two pairs one key are refused */
	req.version = CARNET_REQUEST_VERSION;
	const char *bad[][2] = { { "1.2^3", "IPP7" }, { "1.2.250.1.999.1", "a^b" },
				 { NULL, "^IPP7" }, { "1.2.250.1.213.1.4.8", "158047511203494" },
				 { "1.2.250.1.213.1.4.11", "IPP7" } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		req.patient_system = bad[i][0];
		req.patient_id = bad[i][1];
		cr_assert_eq(refused(&req, &err), CARNET_E_INVALID, "%s %s", bad[i][0], bad[i][1]);
	}
	req.patient_system = NULL;
	req.patient_id = "158047511203494";
	cr_assert_eq(refused(&req, &err), CARNET_E_INVALID);
	cr_assert_str_eq(err.message,
			 "invalid request: INS check key 94 is wrong (the number gives 95)");
}

/* Put into the live index, through the shim, a document that the patient
 * filter gives to `term_patient` but whose stored record is `record` and
 * whose stored text value, when `packed` is not NULL, is `packed`. */
static void forge_text(const char *term_patient, const char *id, const char *record,
		       size_t len, const char *packed, size_t plen)
{
	char gen[4096], xdir[4200];
	carnet_error err;
	cr_assert_eq(carnet_home__current(gen, sizeof gen, home, &err), CARNET_OK, "%s", err.message);
	snprintf(xdir, sizeof xdir, "%s/xapian", gen);
	carnet_xwriter *w;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, xdir, 1, &err), CARNET_OK, "%s", err.message);
	char idt[64], pt[64], lt[64], rank[128];
	snprintf(idt, sizeof idt, CARNET_PREFIX_ID "%s", id);
	snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", term_patient);
	snprintf(lt, sizeof lt, CARNET_PREFIX_LATEST "%s", term_patient);
	/* date, type, specialty, id, result codes, content vector */
	int rn = snprintf(rank, sizeof rank, "20250601%c%c%c%s%c%c", CARNET_RANK_SEP,
			  CARNET_RANK_SEP, CARNET_RANK_SEP, id, CARNET_RANK_SEP, CARNET_RANK_SEP);
	const char *terms[] = { pt, lt };
	carnet_xvalue values[] = { { CARNET_SLOT_DATE, "20250601", 8 },
				   { CARNET_SLOT_SET, id, strlen(id) },
				   { CARNET_SLOT_RANK, rank, (size_t)rn },
				   { CARNET_SLOT_RECORD, record, len },
				   { CARNET_SLOT_TEXT, packed, plen } };
	const char *text = "compte rendu falsifie";
	carnet_xtext texts[] = { { text, strlen(text), 1, "" } };
	carnet_xdoc d = { idt, terms, 2, values, packed ? 5 : 4, texts, 1, "", 0, "french" };
	carnet_xprepared *p;
	cr_assert_eq(carnet_xap_prepare_until(&p, &d, NULL, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_put_prepared(w, idt, pt, 1, p, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);
}

static void forge(const char *term_patient, const char *id, const char *record, size_t len)
{
	forge_text(term_patient, id, record, len, NULL, 0);
}

/* The stored record a document (id, set, patient) would have. */
static size_t record_of(carnet_buf *out, const char *id, const char *patient)
{
	carnet_doc d;
	carnet_doc__init(&d);
	carnet_doc__sets(&d.id, id);
	carnet_doc__sets(&d.set_id, id);
	carnet_doc__sets(&d.patient_id, patient);
	carnet_doc__sets(&d.date, "2025-06-01");
	carnet_doc__sets(&d.title, "Compte rendu");
	carnet_doc__sets(&d.source, "/srv/dmp/secret/path.txt");
	cr_assert_eq(carnet_doc__encode_record(out, &d), 0);
	carnet_doc__clear(&d);
	return out->len;
}

/* One genuine document of patient P1 in the index, beside which forged
 * ones are put. */
static void index_one_document_of_p1(void)
{
	const char *a = th_path("%s/a.txt", docs);
	th_write_str(a, "Compte rendu\n");
	write_meta(a, "{\"patient_id\":\"P1\",\"id\":\"A\",\"date\":\"2025-01-01\"}");
	cr_assert_eq(th_index_dir(home, docs), 1);
}

static void damaged_search(const char *patient, const char *why)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10";
	req.patient_id = patient;
	carnet_error err;
	cr_assert_eq(refused(&req, &err), CARNET_E_CORRUPT, "%s", err.message);
	cr_assert(strstr(err.message, why), "%s", err.message);
	/* the command line: exit 3, nothing of the record on stdout */
	char *out, *errout;
	const char *argv[] = { "carnet-query", "--index", home, "--patient", patient,
			       "--profession", "10", "--json", NULL };
	cr_assert_eq(th_run(&out, &errout, argv), 3, "%s%s", out, errout);
	cr_assert_null(strstr(out, "secret"), "%s", out);
	cr_assert_null(strstr(out, "P2"), "%s", out);
	free(out);
	free(errout);
}

Test(own, a_stored_record_of_another_patient_is_corrupt_never_an_answer)
{
	index_one_document_of_p1();
	/* a hit of P1 whose record (with a right check) says P2 */
	carnet_buf rec = CARNET_BUF_INIT;
	size_t n = record_of(&rec, "FORGED", "P2");
	forge("P1", "FORGED", rec.data, n);
	open_idx();
	damaged_search("P1", "its patient is not the request's");
	carnet_buf__free(&rec);
	/* P2 sees nothing of it: its filter never matches */
	cr_assert_eq(count("P2", NULL), 0);
}

Test(own, a_record_with_shifted_or_flipped_bytes_is_corrupt_never_an_answer)
{
	index_one_document_of_p1();
	carnet_buf rec = CARNET_BUF_INIT;
	size_t n = record_of(&rec, "FORGED", "P1");
	/* one byte of the patient flipped: "P1" becomes "P0" */
	char *p = strstr(rec.data, "\x1fP1\x1f");
	cr_assert_not_null(p);
	p[2] = '0';
	forge("P1", "FORGED", rec.data, n);
	open_idx();
	damaged_search("P1", "fails its check");
	carnet_index_close(idx);
	idx = NULL;
	/* fields shifted by one: an empty field put in front */
	carnet_buf shifted = CARNET_BUF_INIT;
	carnet_buf__putc(&shifted, '\x1f');
	record_of(&shifted, "FORGED", "P1");
	forge("P1", "FORGED", shifted.data, shifted.len);
	open_idx();
	damaged_search("P1", "fails its check");
	carnet_buf__free(&rec);
	carnet_buf__free(&shifted);
}

Test(own, a_stored_text_that_does_not_decode_is_corrupt_never_a_snippet)
{
	index_one_document_of_p1();
	carnet_buf rec = CARNET_BUF_INIT;
	size_t n = record_of(&rec, "FORGED", "P1");
	/* a text value that is not what carnet packs: Zstandard's magic
	 * number and then garbage; then a real frame of a text longer than
	 * any stored text */
	static const char junk[] = "\x28\xb5\x2f\xfd garbage after the magic";
	size_t big = CARNET_STORED_TEXT_MAX + 1;
	char *long_text = malloc(big);
	cr_assert_not_null(long_text);
	memset(long_text, 'a', big);
	size_t cap = ZSTD_compressBound(big);
	char *frame = malloc(cap);
	cr_assert_not_null(frame);
	size_t fl = ZSTD_compress(frame, cap, long_text, big, 1);
	cr_assert(!ZSTD_isError(fl));
	const struct {
		const char *v;
		size_t n;
	} bad[] = { { junk, sizeof junk - 1 }, { frame, fl } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		forge_text("P1", "FORGED", rec.data, n, bad[i].v, bad[i].n);
		open_idx();
		carnet_request req = CARNET_REQUEST_INIT;
		req.profession = "10";
		req.patient_id = "P1";
		req.words = "falsifie";
		carnet_error err;
		cr_assert_eq(refused(&req, &err), CARNET_E_CORRUPT, "%zu: %s", i, err.message);
		cr_assert(strstr(err.message, "stored text"), "%s", err.message);
		/* without snippets the text is not read: the hit is shown */
		req.flags = CARNET_REQUEST_NO_SNIPPETS;
		carnet_results *res;
		cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
		cr_assert_eq(carnet_results_count(res), 1);
		carnet_results_free(res);
		carnet_index_close(idx);
		idx = NULL;
	}
	free(frame);
	free(long_text);
	carnet_buf__free(&rec);
}

/* The snippet of hit `id` among res's hits, or NULL. */
static const char *snippet_of(const carnet_results *res, const char *id)
{
	for (size_t i = 0; i < carnet_results_count(res); i++)
		if (strcmp(carnet_results_field(res, i, CARNET_FIELD_ID), id) == 0)
			return carnet_results_snippet(res, i);
	return NULL;
}

Test(own, a_text_packed_in_pieces_gives_the_snippet_of_the_text_packed_whole)
{
	index_one_document_of_p1();
	/* a 40 KB text whose searched word is at the start, across the end
	 * of the first, second or third piece, after the second, far on, or
	 * nowhere (a snippet of the start) */
	static const size_t at[] = { 0, CARNET_TEXT_PIECE - 5, CARNET_TEXT_PIECE - 1,
				     3 * CARNET_TEXT_PIECE - 4, 3 * CARNET_TEXT_PIECE + 7,
				     7 * CARNET_TEXT_PIECE - 3, 38000, (size_t)-1 };
	const size_t len = 40000;
	char *text = malloc(len + 1);
	size_t cap = ZSTD_compressBound(len);
	char *whole = malloc(cap);
	cr_assert(text && whole);
	for (size_t c = 0; c < sizeof at / sizeof at[0]; c++) {
		size_t n = 0;
		for (unsigned k = 1; n < len; k++)
			n += (size_t)snprintf(text + n, len + 1 - n, "mot%u%s", (k * 2654435761u) >> 22,
					      k % 13 ? " " : ".\n");
		if (at[c] != (size_t)-1)
			memcpy(text + at[c], " falsifie ", 10);
		carnet_buf pieces = CARNET_BUF_INIT, rec = CARNET_BUF_INIT;
		cr_assert_eq(carnet_textpack__pack(&pieces, text, len), 0);
		size_t wl = ZSTD_compress(whole, cap, text, len, 1);
		cr_assert(!ZSTD_isError(wl));
		/* pieces or not, any Zstandard reader gets the text back */
		char *back = malloc(len);
		cr_assert_eq(ZSTD_decompress(back, len, pieces.data, pieces.len), len);
		cr_assert_eq(memcmp(back, text, len), 0);
		free(back);
		char pid[32], wid[32];
		snprintf(pid, sizeof pid, "PIECES%zu", c);
		snprintf(wid, sizeof wid, "WHOLE%zu", c);
		size_t rn = record_of(&rec, pid, "P1");
		forge_text("P1", pid, rec.data, rn, pieces.data, pieces.len);
		carnet_buf__reset(&rec);
		rn = record_of(&rec, wid, "P1");
		forge_text("P1", wid, rec.data, rn, whole, wl);
		open_idx();
		carnet_request req = CARNET_REQUEST_INIT;
		req.profession = "10";
		req.patient_id = "P1";
		req.words = "falsifie";
		carnet_results *res;
		carnet_error err;
		cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
		const char *sp = snippet_of(res, pid), *sw = snippet_of(res, wid);
		cr_assert(sp && sw, "%zu", c);
		cr_assert_str_eq(sp, sw, "%zu", c);
		cr_assert_eq(strstr(sp, "<b>falsifie</b>") != NULL, at[c] != (size_t)-1, "%zu: %s", c, sp);
		carnet_results_free(res);
		carnet_index_close(idx);
		idx = NULL;
		carnet_buf__free(&pieces);
		carnet_buf__free(&rec);
	}
	free(text);
	free(whole);
}

/* Copy file from to to. */
static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = th_slurp(from, &len);
	cr_assert_not_null(data, "%s", from);
	th_write(to, data, len);
	free(data);
}

Test(own, flipped_bytes_in_a_shard_give_the_right_answer_or_an_error, .timeout = 300)
{
	/* two patients whose documents are known */
	static const char *pid[2] = { "158047511203495", "271056912304521" };
	for (int p = 0; p < 2; p++)
		for (int d = 0; d < 6; d++) {
			const char *f = th_path("%s/%d/%d.txt", docs, p, d);
			th_write_str(f, d % 2 ? "Compte rendu de cardiologie, souffle discret\n"
					      : "Bilan biologique, hémoglobine normale\n");
			char meta[256];
			snprintf(meta, sizeof meta,
				 "{\"patient_id\":\"%s\",\"id\":\"P%d-D%d\",\"date\":\"2025-01-%02d\","
				 "\"title\":\"Document %d du patient %d\"}", pid[p], p, d, d + 1, d, p);
			write_meta(f, meta);
		}
	cr_assert_eq(th_index_dir(home, docs), 12);
	char gen[4096];
	carnet_error err;
	cr_assert_eq(carnet_home__current(gen, sizeof gen, home, &err), CARNET_OK);
	/* the shard files: every *.glass of the generation's Xapian databases */
	char list[8192] = "";
	DIR *g = opendir(gen);
	cr_assert_not_null(g);
	for (struct dirent *e; (e = readdir(g));) {
		if (strncmp(e->d_name, "xapian", 6) != 0)
			continue;
		DIR *x = opendir(th_path("%s/%s", gen, e->d_name));
		cr_assert_not_null(x);
		for (struct dirent *f; (f = readdir(x));) {
			size_t n = strlen(f->d_name);
			if (n > 6 && strcmp(f->d_name + n - 6, ".glass") == 0)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s/%s\n",
					 e->d_name, f->d_name);
		}
		closedir(x);
	}
	closedir(g);
	cr_assert_neq(list[0], '\0', "shard files found");
	unsigned answers = 0, errors = 0;
	for (char *name = strtok(list, "\n"); name; name = strtok(NULL, "\n")) {
		char path[8400], keep[8500];
		snprintf(path, sizeof path, "%s/%s", gen, name);
		snprintf(keep, sizeof keep, "%s.orig", path);
		copy_file(path, keep);
		size_t len;
		char *orig = th_slurp(keep, &len);
		/* where the records are: the bytes of their titles */
		size_t targets[16], nt = 0;
		for (size_t i = 0; i + 10 < len && nt < 16; i++)
			if (memcmp(orig + i, "du patient", 10) == 0)
				targets[nt] = i + 3 + nt % 8, nt++;
		for (size_t k = 0; k < 24 + nt && len; k++) {
			/* a byte of a record, or of the file, spread over it, flipped */
			size_t at = k < nt ? targets[k] : ((k - nt) * 7919 + len / 3) % len;
			orig[at] ^= (char)(0x5a ^ k);
			th_write(path, orig, len);
			orig[at] ^= (char)(0x5a ^ k);
			carnet_index *x;
			if (carnet_index_open(&x, home, &err) != CARNET_OK) {
				errors++;
				continue;
			}
			for (int p = 0; p < 2; p++) {
				carnet_request req = CARNET_REQUEST_INIT;
				req.profession = "10";
				req.patient_id = pid[p];
				req.words = k % 2 ? "souffle" : NULL;
				carnet_results *res;
				if (carnet_index_search(&res, x, &req, &err) != CARNET_OK) {
					cr_assert_null(res);
					errors++;
					continue;
				}
				answers++;
				for (size_t i = 0; i < carnet_results_count(res); i++) {
					char want_title[64], want_id[16];
					const char *id = carnet_results_field(res, i, CARNET_FIELD_ID);
					int d = -1;
					cr_assert(sscanf(id, "P%*d-D%d", &d) == 1 && d >= 0 && d < 6,
						  "%s: %s", name, id);
					snprintf(want_id, sizeof want_id, "P%d-D%d", p, d);
					snprintf(want_title, sizeof want_title, "Document %d du patient %d", d, p);
					cr_assert_str_eq(id, want_id, "%s byte %zu", name, at);
					cr_assert_str_eq(carnet_results_field(res, i, CARNET_FIELD_PATIENT),
							 pid[p], "%s byte %zu", name, at);
					cr_assert_str_eq(carnet_results_field(res, i, CARNET_FIELD_TITLE),
							 want_title, "%s byte %zu", name, at);
					cr_assert_str_eq(carnet_results_field(res, i, CARNET_FIELD_SOURCE),
							 th_path("%s/%d/%d.txt", docs, p, d), "%s byte %zu",
							 name, at);
				}
				carnet_results_free(res);
			}
			carnet_index_close(x);
		}
		th_write(path, orig, len); /* the shard as it was */
		free(orig);
	}
	cr_log_info("flipped bytes: %u right answers, %u errors", answers, errors);
	cr_assert_gt(errors, 0, "flips in records were caught");
	cr_assert_gt(answers + errors, 0);
}
