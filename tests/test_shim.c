/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_shim.c - the Xapian shim seen from C: documents in and out, filters
 * that always hold, and Xapian's failures turned into carnet codes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "schema.h"
#include "xapian_shim.h"

static char dbpath[4096];

static void init(void)
{
	snprintf(dbpath, sizeof dbpath, "%s/db", th_tmpdir());
}

TestSuite(shim, .init = init, .fini = th_cleanup);

static void put(carnet_xwriter *w, const char *id, const char *patient,
		const char *date, const char *text)
{
	char idt[64], pt[64];
	snprintf(idt, sizeof idt, "Q%s", id);
	snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", patient);
	const char *terms[] = { pt, CARNET_PREFIX_LATEST "P1" };
	carnet_xvalue values[] = { { CARNET_SLOT_DATE, date, 8 },
				   { CARNET_SLOT_ID, id, strlen(id) } };
	carnet_xtext texts[] = { { text, strlen(text), 1, "" } };
	carnet_xdoc d = { idt, terms, 2, values, 2, texts, 1, id, strlen(id), "french" };
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_put(w, &d, &err), CARNET_OK, "%s", err.message);
}

static carnet_xhits *find(carnet_xreader *r, const char *patient, const char *words)
{
	char pt[64];
	snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", patient);
	const char *must[] = { pt, CARNET_PREFIX_LATEST "P1" };
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.words = words;
	s.stem_language = "french";
	s.must = must;
	s.must_count = 2;
	s.limit = 100;
	carnet_xhits *h;
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_search(r, &s, &h, &err), CARNET_OK, "%s", err.message);
	return h;
}

Test(shim, documents_written_and_committed_are_found_for_their_patient_only)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK, "%s", err.message);
	put(w, "a", "P1", "20250101", "insuffisance cardiaque");
	put(w, "b", "P2", "20250102", "insuffisance renale");
	put(w, "c", "P1", "20250103", "bilan renal");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_OK, "%s", err.message);
	carnet_xhits *h = find(r, "P1", "insuffisance");
	cr_assert_eq(carnet_xap_hits_count(h), 1);
	cr_assert_str_eq(carnet_xap_hits_data(h, 0, NULL), "a");
	carnet_xap_hits_free(h);
	h = find(r, "P1", NULL); /* browse: newest first */
	cr_assert_eq(carnet_xap_hits_count(h), 2);
	cr_assert_str_eq(carnet_xap_hits_data(h, 0, NULL), "c");
	cr_assert_str_eq(carnet_xap_hits_data(h, 1, NULL), "a");
	cr_assert_null(carnet_xap_hits_data(h, 2, NULL));
	carnet_xap_hits_free(h);
	carnet_xap_reader_free(r);
	carnet_xap_writer_free(w);
}

Test(shim, uncommitted_changes_are_discarded_on_close)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK);
	put(w, "a", "P1", "20250101", "one");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	put(w, "b", "P1", "20250102", "two");
	carnet_xap_writer_free(w);
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_OK);
	unsigned long n;
	cr_assert_eq(carnet_xap_reader_doccount(r, &n, &err), CARNET_OK);
	cr_assert_eq(n, 1);
	carnet_xap_reader_free(r);
}

Test(shim, second_writer_is_refused_with_locked)
{
	carnet_xwriter *w, *w2 = (carnet_xwriter *)1;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_open(&w2, dbpath, &err), CARNET_E_LOCKED);
	cr_assert_null(w2);
	cr_assert_eq(err.origin, CARNET_ORIGIN_XAPIAN);
	cr_assert(strlen(err.message) > 0);
	carnet_xap_writer_free(w);
}

Test(shim, missing_database_is_not_found)
{
	carnet_xreader *r = (carnet_xreader *)1;
	carnet_error err;
	int rc = carnet_xap_reader_open(&r, dbpath, &err);
	cr_assert(rc == CARNET_E_NOTFOUND || rc == CARNET_E_IO, "rc %d: %s", rc, err.message);
	cr_assert_null(r);
}

Test(shim, garbage_database_is_corrupt_or_unreadable)
{
	th_write_str(th_path("%s/iamglass", dbpath), "x");
	th_write_str(th_path("%s/postlist.glass", dbpath), "garbage garbage garbage");
	carnet_xreader *r;
	carnet_error err;
	int rc = carnet_xap_reader_open(&r, dbpath, &err);
	cr_assert(rc == CARNET_E_CORRUPT || rc == CARNET_E_VERSION || rc == CARNET_E_IO,
		  "rc %d: %s", rc, err.message);
}

Test(shim, database_of_another_format_is_refused_with_version)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_set_metadata(w, "carnet.format", "99", &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	carnet_xap_writer_free(w);
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_E_VERSION);
	cr_assert(strstr(err.message, "99") != NULL, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_E_VERSION);
}

Test(shim, set_term_on_a_missing_document_is_not_found)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_set_term(w, "Qnope", CARNET_PREFIX_LATEST "P1", 1, &err),
		     CARNET_E_NOTFOUND);
	carnet_xap_writer_free(w);
}

Test(shim, latest_term_can_be_moved_between_versions)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK);
	put(w, "v1", "P1", "20250101", "scanner");
	put(w, "v2", "P1", "20250102", "scanner");
	cr_assert_eq(carnet_xap_writer_set_term(w, "Qv1", CARNET_PREFIX_LATEST "P1", 0, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_OK);
	carnet_xhits *h = find(r, "P1", "scanner");
	cr_assert_eq(carnet_xap_hits_count(h), 1);
	cr_assert_str_eq(carnet_xap_hits_data(h, 0, NULL), "v2");
	carnet_xap_hits_free(h);
	carnet_xap_reader_free(r);
	carnet_xap_writer_free(w);
}

Test(shim, a_search_without_filter_terms_is_refused)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK);
	carnet_xap_writer_free(w);
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_OK);
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.limit = 10;
	carnet_xhits *h;
	cr_assert_eq(carnet_xap_reader_search(r, &s, &h, &err), CARNET_E_INVALID);
	cr_assert_null(h);
	carnet_xap_reader_free(r);
}

static int count_term(const char *term, size_t len, void *payload)
{
	(void)term;
	(void)len;
	(*(int *)payload)++;
	return 0;
}

Test(shim, a_sharded_writer_spreads_documents_that_readers_see_as_one)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 3, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_threads(w, 1, &err), CARNET_OK, "%s", err.message);
	for (int i = 0; i < 30; i++) {
		char id[16];
		snprintf(id, sizeof id, "d%02d", i);
		put(w, id, i % 2 ? "P1" : "P2", "20250101", "insuffisance cardiaque");
	}
	put(w, "d05", "P1", "20250101", "bilan renal"); /* replaced, not added */
	cr_assert_eq(carnet_xap_writer_delete(w, "Qd07", &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_set_term(w, "Qd09", "XCtest", 1, &err), CARNET_OK, "%s",
		     err.message);
	unsigned long n;
	cr_assert_eq(carnet_xap_writer_doccount(w, &n, &err), CARNET_OK);
	cr_assert_eq(n, 29);
	int ids = 0;
	cr_assert_eq(carnet_xap_writer_each_term(w, "Q", count_term, &ids, &err), CARNET_OK);
	cr_assert_eq(ids, 29);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);

	char shard[4200];
	snprintf(shard, sizeof shard, "%s.2", dbpath);
	cr_assert_eq(access(shard, F_OK), 0, "no third shard");
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_reader_doccount(r, &n, &err), CARNET_OK);
	cr_assert_eq(n, 29);
	carnet_xhits *h = find(r, "P1", "insuffisance");
	cr_assert_eq(carnet_xap_hits_count(h), 13); /* 15 odd ids, d05 replaced, d07 gone */
	carnet_xap_hits_free(h);
	carnet_xap_reader_free(r);

	/* reopened, it keeps its shards whatever is asked */
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_doccount(w, &n, &err), CARNET_OK);
	cr_assert_eq(n, 29);
	carnet_xap_writer_free(w);
}

/* --- BM25 within the record --- */

typedef struct got {
	carnet_xreader *r;
	char ids[16][16];
	double text[16];
	size_t n;
} got;

static int on_cand(unsigned docid, double text, const char *rank, size_t len, void *payload)
{
	(void)rank;
	(void)len;
	got *g = payload;
	char *data;
	size_t dl;
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_data(g->r, docid, -1, &data, &dl, &err), CARNET_OK);
	cr_assert_lt(g->n, 16);
	snprintf(g->ids[g->n], sizeof g->ids[g->n], "%s", data);
	g->text[g->n++] = text;
	free(data);
	return 0;
}

/* The candidates of patient's record for these clauses, as "id id ...",
 * in the order of the index (docid), their weights in g. */
static const char *cands(got *g, const char *patient, const carnet_xclause *cl, size_t n)
{
	char pt[64];
	snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", patient);
	const char *must[] = { pt };
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.must = must;
	s.must_count = 1;
	carnet_xrank rk = { cl, n, 0.9, 0.4, 0 };
	g->n = 0;
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_candidates(g->r, &s, &rk, on_cand, g, &err), CARNET_OK,
		     "%s", err.message);
	static char out[256];
	out[0] = '\0';
	for (size_t i = 0; i < g->n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", g->ids[i]);
	return out;
}

static carnet_xwriter *writer(void)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open(&w, dbpath, &err), CARNET_OK, "%s", err.message);
	return w;
}

Test(shim, bm25_counts_the_record_only_and_phrases_and_synonyms_as_one_term)
{
	carnet_xwriter *w = writer();
	carnet_error err;
	/* P1: three documents of the same length */
	put(w, "A", "P1", "20250101", "alpha alpha beta gamma");
	put(w, "B", "P1", "20250102", "alpha beta gamma delta");
	put(w, "C", "P1", "20250103", "beta gamma delta epsilon");
	/* another record, full of the same word */
	for (int i = 0; i < 10; i++)
		put(w, th_path("X%d", i), "P2", "20250104", "alpha alpha alpha zeta");
	/* P3: phrases and synonyms */
	put(w, "D", "P3", "20250105", "anevrisme de l aorte abdominale");
	put(w, "E", "P3", "20250106", "anevrisme sans lien avec l aorte");
	put(w, "F", "P3", "20250107", "aorte puis anevrisme");
	put(w, "G", "P3", "20250108", "anevrisme aorte");
	put(w, "H", "P3", "20250109", "hta connue");
	put(w, "I", "P3", "20250110", "hypertension arterielle connue");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	got g;
	cr_assert_eq(carnet_xap_reader_open(&g.r, dbpath, &err), CARNET_OK, "%s", err.message);

	const char *alpha[] = { "alpha" }, *delta[] = { "delta" };
	carnet_xalt a_alpha = { alpha, 1 }, a_delta = { delta, 1 };
	carnet_xclause one[] = { { CARNET_XSHOULD, 0, &a_alpha, 1 } };
	cr_assert_str_eq(cands(&g, "P1", one, 1), "A B");
	/* N = 3, df = 2 within P1 (Xapian's idf floor: log(1.5 / 2.5 x 0.5 + 1)),
	 * same lengths: K = k1 = 0.9; P2's ten documents count for nothing */
	double idf = log(1.3);
	cr_assert_float_eq(g.text[1], idf * 1.9 * 1 / (0.9 + 1), 1e-12, "%.17g", g.text[1]);
	cr_assert_float_eq(g.text[0], idf * 1.9 * 2 / (0.9 + 2), 1e-12, "%.17g", g.text[0]);
	carnet_xclause not_delta[] = { { CARNET_XSHOULD, 0, &a_alpha, 1 },
				       { CARNET_XMUST_NOT, 0, &a_delta, 1 } };
	cr_assert_str_eq(cands(&g, "P1", not_delta, 2), "A");
	carnet_xclause must_delta[] = { { CARNET_XSHOULD, 0, &a_alpha, 1 },
					{ CARNET_XMUST, 0, &a_delta, 1 } };
	cr_assert_str_eq(cands(&g, "P1", must_delta, 2), "B C");

	/* a phrase: in order, two small words between at most; exact: adjacent */
	const char *phrase[] = { "anevrisme", "aorte" };
	carnet_xalt a_phrase = { phrase, 2 };
	carnet_xclause near[] = { { CARNET_XSHOULD, 0, &a_phrase, 1 } };
	cr_assert_str_eq(cands(&g, "P3", near, 1), "D G");
	carnet_xclause exact[] = { { CARNET_XSHOULD, 1, &a_phrase, 1 } };
	cr_assert_str_eq(cands(&g, "P3", exact, 1), "G");
	/* a word and its synonym phrase are one term: df 2 of N 6 */
	const char *hta[] = { "hta" }, *hyper[] = { "hypertension", "arterielle" };
	carnet_xalt syn[] = { { hta, 1 }, { hyper, 2 } };
	carnet_xclause group[] = { { CARNET_XSHOULD, 0, syn, 2 } };
	cr_assert_str_eq(cands(&g, "P3", group, 1), "H I");
	/* lengths: each word counts twice (as written and as its stem), so
	 * P3's average is (10 + 12 + 6 + 4 + 4 + 6) / 6 = 7; idf log(1.8 x 0.5 + 1) */
	idf = log(1.9);
	cr_assert_float_eq(g.text[0], idf * 1.9 / (0.9 * (0.6 + 0.4 * 4 / 7.0) + 1), 1e-12,
			   "%.17g", g.text[0]);
	cr_assert_float_eq(g.text[1], idf * 1.9 / (0.9 * (0.6 + 0.4 * 6 / 7.0) + 1), 1e-12,
			   "%.17g", g.text[1]);
	carnet_xap_reader_free(g.r);
	carnet_xap_writer_free(w);
}
