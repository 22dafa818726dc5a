/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_shim.c - the Xapian shim seen from C: documents in and out, filters
 * that always hold, and Xapian's failures turned into carnet codes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "home.h"
#include "schema.h"
#include "util.h"
#include "xapian_shim.h"

static char dbpath[4096];

static void init(void)
{
	snprintf(dbpath, sizeof dbpath, "%s/db", th_tmpdir());
}

TestSuite(shim, .init = init, .fini = th_cleanup);

/* The key documents are placed by (the patient's when NULL): a test sets
 * another to put a record where an index made before placement by
 * patient may hold it. */
static const char *place_by;

/* Put a document of patient in set, with the newest-version term. */
static void put_set(carnet_xwriter *w, const char *id, const char *set, const char *patient,
		    const char *date, const char *text, const char *extra_term)
{
	char idt[64], pt[64], lt[64], st[64];
	snprintf(idt, sizeof idt, "Q%s", id);
	snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", patient);
	snprintf(lt, sizeof lt, CARNET_PREFIX_LATEST "%s", patient);
	snprintf(st, sizeof st, CARNET_PREFIX_SET "%s", set);
	const char *terms[] = { pt, lt, st, extra_term };
	carnet_xvalue values[] = { { CARNET_SLOT_DATE, date, 8 },
				   { CARNET_SLOT_SET, set, strlen(set) } };
	carnet_xtext texts[] = { { text, strlen(text), 1, "" } };
	carnet_xdoc d = { idt, terms, extra_term ? 4 : 3, values, 2, texts, 1, id, strlen(id),
			  "french" };
	carnet_xprepared *p;
	carnet_error err;
	cr_assert_eq(carnet_xap_prepare_until(&p, &d, NULL, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_put_prepared(w, idt, place_by ? place_by : patient, 1, p,
						    &err), CARNET_OK, "%s", err.message);
}

static void put(carnet_xwriter *w, const char *id, const char *patient,
		const char *date, const char *text)
{
	put_set(w, id, id, patient, date, text, NULL);
}

static carnet_xwriter *writer(void)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK, "%s",
		     err.message);
	return w;
}

static carnet_xreader *reader(void)
{
	carnet_xreader *r;
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_OK, "%s", err.message);
	return r;
}

typedef struct got {
	carnet_xreader *r;
	char ids[16][16];
	double text[16];
	size_t n;
	uint64_t found[16];
} got;

static int on_cand(unsigned docid, double text, uint64_t found, const char *rank, size_t len,
		   void *payload)
{
	(void)rank;
	(void)len;
	got *g = payload;
	char *data;
	size_t dl;
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_data(g->r, docid, -1, &data, &dl, &err), CARNET_OK);
	cr_assert_lt(g->n, 16);
	g->found[g->n] = found;
	snprintf(g->ids[g->n], sizeof g->ids[g->n], "%s", data);
	g->text[g->n++] = text;
	free(data);
	return 0;
}

/* The candidates of the search s for these clauses, as "id id ...", in
 * the order of the index (docid), their weights in g. */
static const char *run(got *g, const carnet_xsearch *s, const carnet_xclause *cl, size_t n)
{
	carnet_xrank rk = { cl, n, 0.9, 0.4, 0 };
	g->n = 0;
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_candidates(g->r, s, &rk, on_cand, g, &err), CARNET_OK,
		     "%s", err.message);
	static char out[256];
	out[0] = '\0';
	for (size_t i = 0; i < g->n; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", g->ids[i]);
	return out;
}

/* The candidates of patient's record (every version) for these clauses. */
static const char *cands(got *g, const char *patient, const carnet_xclause *cl, size_t n)
{
	char pt[64];
	snprintf(pt, sizeof pt, CARNET_PREFIX_PATIENT "%s", patient);
	const char *must[] = { pt };
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.must = must;
	s.must_count = 1;
	s.shard_key = patient;
	return run(g, &s, cl, n);
}

/* The same for one word (NULL: browse, no clause). */
static const char *word(got *g, const char *patient, const char *w)
{
	const char *words[] = { w };
	carnet_xalt alt = { words, 1 };
	carnet_xclause one[] = { { CARNET_XSHOULD, 0, &alt, 1 } };
	return cands(g, patient, one, w ? 1 : 0);
}

Test(shim, documents_written_and_committed_are_found_for_their_patient_only)
{
	carnet_xwriter *w = writer();
	carnet_error err;
	put(w, "a", "P1", "20250101", "insuffisance cardiaque");
	put(w, "b", "P2", "20250102", "insuffisance renale");
	put(w, "c", "P1", "20250103", "bilan renal");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	cr_assert_str_eq(word(&g, "P1", "insuffisance"), "a");
	cr_assert_gt(g.text[0], 0);
	cr_assert_str_eq(word(&g, "P2", "insuffisance"), "b");
	cr_assert_str_eq(word(&g, "P1", NULL), "a c"); /* browse: every one, weight 0 */
	cr_assert_eq(g.text[0], 0);
	cr_assert_eq(g.text[1], 0);
	cr_assert_str_eq(word(&g, "P3", NULL), "");
	carnet_xap_reader_free(g.r);
	carnet_xap_writer_free(w);
}

Test(shim, each_candidate_says_which_ways_of_saying_a_clause_it_holds)
{
	carnet_xwriter *w = writer();
	carnet_error err;
	put(w, "a", "P1", "20250101", "insuffisance cardiaque aigue");
	put(w, "b", "P1", "20250102", "douleur thoracique");
	put(w, "c", "P1", "20250103", "insuffisances renales et douleurs");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	/* clause 0: insuffisance | "cardiaque aigue"; clause 1: douleur
	 * | "thoracique" (bits 0, 1, 2, 3 in that order) */
	const char *w0[] = { "insuffisance" }, *w1[] = { "cardiaque", "aigue" };
	const char *w2[] = { "douleur" }, *w3[] = { "thoracique" };
	carnet_xalt a0[] = { { w0, 1 }, { w1, 2 } }, a1[] = { { w2, 1 }, { w3, 1 } };
	carnet_xclause two[] = { { CARNET_XSHOULD, 0, a0, 2 }, { CARNET_XSHOULD, 0, a1, 2 } };
	cr_assert_str_eq(cands(&g, "P1", two, 2), "a b c");
	cr_assert_eq(g.found[0], 0x3, "%llx", (unsigned long long)g.found[0]);
	cr_assert_eq(g.found[1], 0xc, "%llx", (unsigned long long)g.found[1]);
	/* by their stems: insuffisances, douleurs */
	cr_assert_eq(g.found[2], 0x5, "%llx", (unsigned long long)g.found[2]);
	/* browse: nothing found, nothing asked */
	cr_assert_str_eq(cands(&g, "P1", two, 0), "a b c");
	cr_assert_eq(g.found[0] | g.found[1] | g.found[2], 0);
	carnet_xap_reader_free(g.r);
	carnet_xap_writer_free(w);
}

Test(shim, a_page_of_values_reads_each_document_s_own)
{
	carnet_xwriter *w = writer();
	carnet_error err;
	put(w, "a", "P1", "20250101", "un");
	put(w, "b", "P1", "20250102", "deux");
	put(w, "c", "P2", "20250103", "trois");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	cr_assert_str_eq(word(&g, "P1", NULL), "a b");
	/* the docids in an order of their own, a slot and the data each */
	unsigned ids[3] = { 3, 1, 2 };
	const int slots[2] = { CARNET_SLOT_DATE, -1 };
	char *v[6];
	size_t len[6];
	cr_assert_eq(carnet_xap_reader_page(g.r, ids, 3, slots, 2, v, len, &err), CARNET_OK,
		     "%s", err.message);
	const char *want[6] = { "20250103", "c", "20250101", "a", "20250102", "b" };
	for (int i = 0; i < 6; i++) {
		cr_assert_str_eq(v[i], want[i], "%d", i);
		cr_assert_eq(len[i], strlen(want[i]));
		free(v[i]);
	}
	/* a document that is not there: an error, nothing left to free */
	ids[1] = 99;
	v[0] = (char *)1;
	cr_assert_eq(carnet_xap_reader_page(g.r, ids, 3, slots, 2, v, len, &err), CARNET_E_NOTFOUND,
		     "%s", err.message);
	for (int i = 0; i < 6; i++)
		cr_assert_null(v[i]);
	carnet_xap_reader_free(g.r);
	carnet_xap_writer_free(w);
}

Test(shim, uncommitted_changes_are_discarded_on_close)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK);
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
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_open_shards(&w2, dbpath, 1, &err), CARNET_E_LOCKED);
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
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_set_metadata(w, "carnet.format", "99", &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	carnet_xap_writer_free(w);
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_E_VERSION);
	char want[128];
	snprintf(want, sizeof want, "index format 99, this library reads format %d",
		 CARNET_INDEX_FORMAT);
	cr_assert(strstr(err.message, want) != NULL, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_E_VERSION);
	cr_assert(strstr(err.message, want) != NULL, "%s", err.message);
}

Test(shim, set_term_on_a_missing_document_is_not_found)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_set_term(w, "Qnope", CARNET_PREFIX_LATEST "P1", 1, &err),
		     CARNET_E_NOTFOUND);
	carnet_xap_writer_free(w);
}

Test(shim, latest_term_can_be_moved_between_versions)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK);
	put(w, "v1", "P1", "20250101", "scanner");
	put(w, "v2", "P1", "20250102", "scanner");
	cr_assert_eq(carnet_xap_writer_set_term(w, "Qv1", CARNET_PREFIX_LATEST "P1", 0, &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	const char *must[] = { CARNET_PREFIX_PATIENT "P1", CARNET_PREFIX_LATEST "P1" };
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.must = must;
	s.must_count = 2;
	cr_assert_str_eq(run(&g, &s, NULL, 0), "v2");
	cr_assert_str_eq(word(&g, "P1", "scanner"), "v1 v2"); /* every version */
	carnet_xap_reader_free(g.r);
	carnet_xap_writer_free(w);
}

Test(shim, whole_sets_hide_the_older_versions_of_a_set_whose_newest_is_hidden)
{
	carnet_xwriter *w = writer();
	carnet_error err;
	/* set S: v1 then v2 (newest, confidential); set T: t1 alone */
	put_set(w, "v1", "S", "P1", "20250101", "scanner", NULL);
	put_set(w, "v2", "S", "P1", "20250102", "scanner", CARNET_PREFIX_CONF "secret");
	put_set(w, "t1", "T", "P1", "20250103", "scanner", NULL);
	cr_assert_eq(carnet_xap_writer_set_term(w, "Qv1", CARNET_PREFIX_LATEST "P1", 0, &err),
		     CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	const char *must[] = { CARNET_PREFIX_PATIENT "P1" };
	const char *hide[] = { CARNET_PREFIX_CONF "secret" };
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.must = must;
	s.must_count = 1;
	s.whole_sets = 1;
	s.latest = CARNET_PREFIX_LATEST "P1";
	cr_assert_str_eq(run(&g, &s, NULL, 0), "v1 v2 t1");
	/* v2 hidden: v1, of the same set (its set value), goes with it */
	s.hide = hide;
	s.hide_count = 1;
	cr_assert_str_eq(run(&g, &s, NULL, 0), "t1");
	/* without the whole-sets rule, only v2 itself is hidden */
	s.whole_sets = 0;
	cr_assert_str_eq(run(&g, &s, NULL, 0), "v1 t1");
	carnet_xap_reader_free(g.r);
	carnet_xap_writer_free(w);
}

Test(shim, a_search_without_filter_terms_is_refused)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK);
	carnet_xap_writer_free(w);
	carnet_xreader *r;
	cr_assert_eq(carnet_xap_reader_open(&r, dbpath, &err), CARNET_OK);
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	carnet_xrank rk = { NULL, 0, 0.9, 0.4, 0 };
	got g = { r, { { 0 } }, { 0 }, 0, { 0 } };
	cr_assert_eq(carnet_xap_reader_candidates(r, &s, &rk, on_cand, &g, &err), CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "a search needs at least one filter term");
	cr_assert_eq(g.n, 0);
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
	int ids = 0;
	cr_assert_eq(carnet_xap_writer_each_term(w, "Q", count_term, &ids, &err), CARNET_OK);
	cr_assert_eq(ids, 29);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);

	char shard[4200];
	snprintf(shard, sizeof shard, "%s.2", dbpath);
	cr_assert_eq(access(shard, F_OK), 0, "no third shard");
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	cr_assert_eq(carnet_xap_reader_doccount(g.r, &n, &err), CARNET_OK);
	cr_assert_eq(n, 29);
	/* 15 odd ids, d05 replaced, d07 gone (in docid order, shards
	 * interleaved) */
	word(&g, "P1", "insuffisance");
	cr_assert_eq(g.n, 13);
	for (size_t i = 0; i < g.n; i++)
		cr_assert(strcmp(g.ids[i], "d05") != 0 && strcmp(g.ids[i], "d07") != 0, "%s",
			  g.ids[i]);
	cr_assert_str_eq(word(&g, "P1", "renal"), "d05");
	carnet_xap_reader_free(g.r);

	/* reopened, it keeps its shards whatever is asked */
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK, "%s", err.message);
	ids = 0;
	cr_assert_eq(carnet_xap_writer_each_term(w, "Q", count_term, &ids, &err), CARNET_OK);
	cr_assert_eq(ids, 29);
	carnet_xap_writer_free(w);
}

/* How many documents of patient the database at path holds. */
static size_t in_shard(const char *path, const char *patient)
{
	got g = { NULL, { { 0 } }, { 0 }, 0, { 0 } };
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_open(&g.r, path, &err), CARNET_OK, "%s", err.message);
	word(&g, patient, NULL);
	carnet_xap_reader_free(g.r);
	return g.n;
}

Test(shim, a_record_is_written_in_one_shard_and_follows_its_patient)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 3, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_writer_threads(w, 1, &err), CARNET_OK, "%s", err.message);
	const char *patients[] = { "P1", "P2", "P3", "P4", "P5", "P6" };
	for (int i = 0; i < 30; i++) {
		char id[16];
		snprintf(id, sizeof id, "d%02d", i);
		put(w, id, patients[i % 6], "20250101", "insuffisance cardiaque");
	}
	/* d00 is filed again under P2 (an identity fixed): it leaves P1 */
	put(w, "d00", "P2", "20250102", "insuffisance cardiaque");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);
	const char *shard[3] = { dbpath, th_path("%s.1", dbpath), th_path("%s.2", dbpath) };
	int used[3] = { 0, 0, 0 };
	for (int p = 0; p < 6; p++) {
		/* PATH opens its shards too: shard 0 is what .1 and .2 lack */
		size_t where = 3, total = in_shard(shard[0], patients[p]);
		size_t counts[3] = { total, in_shard(shard[1], patients[p]),
				     in_shard(shard[2], patients[p]) };
		counts[0] -= counts[1] + counts[2];
		for (size_t k = 0; k < 3; k++) {
			size_t n = counts[k];
			if (n) {
				cr_assert_eq(where, 3, "%s is in two shards", patients[p]);
				where = k;
				used[k] = 1;
			}
		}
		cr_assert_eq(total, p == 0 ? 4 : p == 1 ? 6 : 5, "%s: %zu", patients[p], total);
	}
	cr_assert(used[0] + used[1] + used[2] >= 2, "six records all in one shard");
	/* searched as one, each record whole, each hit its own document */
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	unsigned long n;
	cr_assert_eq(carnet_xap_reader_doccount(g.r, &n, &err), CARNET_OK);
	cr_assert_eq(n, 30);
	cr_assert_str_eq(word(&g, "P2", NULL), "d01 d07 d13 d19 d25 d00");
	cr_assert_str_eq(word(&g, "P1", "cardiaque"), "d06 d12 d18 d24");
	carnet_xap_reader_free(g.r);
}

/* An index made before records were placed by patient has no placement
 * stamp: its records may be anywhere, and the reader looks for them in
 * every shard; a stamped index is searched in the patient's shard alone. */
Test(shim, an_index_without_the_placement_stamp_is_searched_where_its_records_are)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 2, &err), CARNET_OK, "%s", err.message);
	char *stamp;
	cr_assert_eq(carnet_xap_writer_get_metadata(w, "carnet.placement", &stamp, &err), CARNET_OK);
	cr_assert_str_eq(stamp, "patient", "a new index is stamped");
	free(stamp);
	/* P1's record where P1 does not hash to, as placement by id could */
	const char *keys[] = { "K0", "K1", "K2", "K3" }, *elsewhere = NULL;
	for (size_t k = 0; k < 4 && !elsewhere; k++)
		if (carnet__hash_str(keys[k]) % 2 != carnet__hash_str("P1") % 2)
			elsewhere = keys[k];
	cr_assert_not_null(elsewhere);
	place_by = elsewhere;
	put(w, "a", "P1", "20250101", "insuffisance cardiaque");
	put(w, "b", "P1", "20250102", "bilan cardiaque");
	place_by = NULL;
	put(w, "c", "P2", "20250103", "insuffisance cardiaque");
	cr_assert_eq(carnet_xap_writer_set_metadata(w, "carnet.placement", "", &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	cr_assert_str_eq(word(&g, "P1", "cardiaque"), "a b", "an unstamped index: every shard");
	cr_assert_str_eq(word(&g, "P2", NULL), "c");
	carnet_xap_reader_free(g.r);
	/* stamped, the reader trusts the stamp (which no writer breaks) */
	cr_assert_eq(carnet_xap_writer_set_metadata(w, "carnet.placement", "patient", &err),
		     CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);
	g.r = reader();
	cr_assert_str_eq(word(&g, "P1", "cardiaque"), "", "the stamp was not used");
	cr_assert_str_eq(word(&g, "P2", NULL), "c");
	carnet_xap_reader_free(g.r);
}

Test(shim, compaction_keeps_every_document_and_an_open_reader_follows_it)
{
	carnet_xwriter *w;
	carnet_error err;
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 2, &err), CARNET_OK, "%s", err.message);
	for (int i = 0; i < 20; i++) {
		char id[16];
		snprintf(id, sizeof id, "d%02d", i);
		put(w, id, i % 4 ? "P1" : "P2", "20250101", i % 3 ? "insuffisance cardiaque" : "bilan renal");
	}
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	char before[2][256];
	snprintf(before[0], sizeof before[0], "%s", word(&g, "P1", "cardiaque"));
	snprintf(before[1], sizeof before[1], "%s", word(&g, "P2", "renal"));
	struct stat st[2];
	cr_assert_eq(stat(dbpath, &st[0]), 0);
	/* a leftover of a compaction that crashed is no obstacle */
	cr_assert_eq(mkdir(th_path("%s.compact", dbpath), 0700), 0);

	cr_assert_eq(carnet_xap_compact(dbpath, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(stat(dbpath, &st[1]), 0);
	cr_assert_neq(st[0].st_ino, st[1].st_ino, "the shard was not replaced");
	cr_assert_neq(access(th_path("%s.compact", dbpath), F_OK), 0, "a copy was left");
	cr_assert_neq(access(th_path("%s.1.compact", dbpath), F_OK), 0, "a copy was left");
	/* the reader opened before knows what it read since is to be read
	 * again, and then sees the same documents */
	cr_assert_eq(carnet_xap_reader_replaced(g.r), 1);
	cr_assert_eq(carnet_xap_reader_reopen(g.r, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_reader_replaced(g.r), 0);
	cr_assert_str_eq(word(&g, "P1", "cardiaque"), before[0]);
	cr_assert_str_eq(word(&g, "P2", "renal"), before[1]);
	unsigned long n;
	cr_assert_eq(carnet_xap_reader_doccount(g.r, &n, &err), CARNET_OK);
	cr_assert_eq(n, 20);
	carnet_xap_reader_free(g.r);
	/* and the next writer goes on with its two shards */
	cr_assert_eq(carnet_xap_writer_open_shards(&w, dbpath, 1, &err), CARNET_OK, "%s", err.message);
	put(w, "d20", "P2", "20250101", "bilan renal");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);
	g.r = reader();
	cr_assert_eq(carnet_xap_reader_doccount(g.r, &n, &err), CARNET_OK);
	cr_assert_eq(n, 21);
	carnet_xap_reader_free(g.r);
	cr_assert_eq(access(th_path("%s.1", dbpath), F_OK), 0);
}

/* The date range keeps the documents dated within it, both ends
 * included, and those only. */
Test(shim, the_date_range_includes_both_ends)
{
	carnet_xwriter *w = writer();
	carnet_error err;
	put(w, "a", "P1", "20250101", "bilan");
	put(w, "b", "P1", "20250102", "bilan");
	put(w, "c", "P1", "20250103", "bilan");
	put(w, "d", "P1", "20250104", "bilan");
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xap_writer_free(w);
	got g = { reader(), { { 0 } }, { 0 }, 0, { 0 } };
	const char *must[] = { CARNET_PREFIX_PATIENT "P1" };
	carnet_xsearch s;
	memset(&s, 0, sizeof s);
	s.must = must;
	s.must_count = 1;
	s.shard_key = "P1";
	s.date_from = "20250102";
	s.date_to = "20250103";
	cr_assert_str_eq(run(&g, &s, NULL, 0), "b c");
	s.date_to = NULL;
	cr_assert_str_eq(run(&g, &s, NULL, 0), "b c d");
	s.date_from = NULL;
	s.date_to = "20250102";
	cr_assert_str_eq(run(&g, &s, NULL, 0), "a b");
	carnet_xap_reader_free(g.r);
}

/* What a caller keeps of a reader's metadata (carnet-query keeps the
 * profile codes) stays true while carnet_xap_reader_opened gives the same
 * number, and no other reader ever gives it. */
Test(shim, opened_changes_when_the_reader_sees_a_new_revision)
{
	carnet_xwriter *w = writer();
	carnet_error err;
	put(w, "A", "P1", "20250101", "alpha");
	cr_assert_eq(carnet_xap_writer_set_metadata(w, "k", "one", &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_xreader *r = reader();
	unsigned long first = carnet_xap_reader_opened(r);
	cr_assert_eq(carnet_xap_reader_reopen(r, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_reader_opened(r), first, "nothing was committed");

	cr_assert_eq(carnet_xap_writer_set_metadata(w, "k", "two", &err), CARNET_OK);
	cr_assert_eq(carnet_xap_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_reader_opened(r), first, "not reopened yet");
	cr_assert_eq(carnet_xap_reader_reopen(r, &err), CARNET_OK, "%s", err.message);
	unsigned long second = carnet_xap_reader_opened(r);
	cr_assert_neq(second, first, "a new revision, the same number");
	char *v;
	cr_assert_eq(carnet_xap_reader_get_metadata(r, "k", &v, &err), CARNET_OK);
	cr_assert_str_eq(v, "two");
	free(v);
	carnet_xreader *other = reader();
	cr_assert(carnet_xap_reader_opened(other) != first &&
		  carnet_xap_reader_opened(other) != second, "two readers, one number");
	carnet_xap_reader_free(other);
	carnet_xap_reader_free(r);
	carnet_xap_writer_free(w);
}

/* --- BM25 within the record --- */

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

/* --- what the indexer writes --- */

typedef struct slots {
	carnet_xreader *r;
	size_t docs, filled[8];
} slots;

static int count_slots(unsigned docid, double text, uint64_t found, const char *rank, size_t len,
		       void *payload)
{
	(void)found;
	(void)text;
	(void)rank;
	(void)len;
	slots *s = payload;
	s->docs++;
	for (int slot = 0; slot < 8; slot++) {
		char *v;
		size_t vl;
		carnet_error err;
		cr_assert_eq(carnet_xap_reader_data(s->r, docid, slot, &v, &vl, &err), CARNET_OK,
			     "%s", err.message);
		s->filled[slot] += vl > 0;
		free(v);
	}
	return 0;
}

Test(shim, the_indexer_writes_only_the_value_slots_that_are_read)
{
	char home[4096], gen[4096], xdir[4200];
	snprintf(home, sizeof home, "%s/home", th_tmpdir());
	cr_assert_gt(th_index_dir(home, th_sample()), 10);
	carnet_error err;
	cr_assert_eq(carnet_home__current(gen, sizeof gen, home, &err), CARNET_OK, "%s", err.message);
	snprintf(xdir, sizeof xdir, "%s/" CARNET_XAPIAN_DIR, gen);
	slots s = { NULL, 0, { 0 } };
	cr_assert_eq(carnet_xap_reader_open(&s.r, xdir, &err), CARNET_OK, "%s", err.message);
	/* every document of the sample, whatever its patient */
	const char *must[] = { "" };
	carnet_xsearch q;
	memset(&q, 0, sizeof q);
	q.must = must;
	q.must_count = 1;
	carnet_xrank rk = { NULL, 0, 0.9, 0.4, 0 };
	cr_assert_eq(carnet_xap_reader_candidates(s.r, &q, &rk, count_slots, &s, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_gt(s.docs, 10);
	cr_assert_eq(s.filled[CARNET_SLOT_DATE], s.docs);
	cr_assert_eq(s.filled[CARNET_SLOT_SET], s.docs);
	cr_assert_eq(s.filled[CARNET_SLOT_RANK], s.docs);
	cr_assert_eq(s.filled[CARNET_SLOT_RECORD], s.docs);
	/* type, specialty and id (format 3 and older) are no longer written */
	for (int slot = 2; slot <= 4; slot++)
		cr_assert_eq(s.filled[slot], 0, "slot %d written", slot);
	carnet_xap_reader_free(s.r);
}
