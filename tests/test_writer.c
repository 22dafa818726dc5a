/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_writer.c - the writer through the public API: what happens to each
 * input, rejects with reasons, batches that go on, commits, locking. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"

static char home[4096], docs[4096];
static carnet_writer *w;

static void init(void)
{
	const char *tmp = th_tmpdir();
	snprintf(home, sizeof home, "%s/idx", tmp);
	snprintf(docs, sizeof docs, "%s/docs", tmp);
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
}

static void fini(void)
{
	carnet_writer_close(w);
	w = NULL;
	th_cleanup();
}

TestSuite(writer, .init = init, .fini = fini);

static carnet_outcome add(const char *path, carnet_error *err)
{
	carnet_outcome o;
	carnet_error e;
	if (!err)
		err = &e;
	cr_assert_eq(carnet_writer_add_file(w, path, &o, err), CARNET_OK, "%s", err->message);
	return o;
}

static void commit(void)
{
	carnet_error err;
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
}

/* Documents of patient visible to a fresh reader for these words. */
static size_t visible(const char *patient, const char *words)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = patient;
	req.words = words;
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	size_t n = carnet_results_count(res);
	carnet_results_free(res);
	carnet_index_close(idx);
	return n;
}

static uint64_t stat_of(carnet_stat which)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	uint64_t v;
	cr_assert_eq(carnet_index_stat(idx, which, &v, &err), CARNET_OK, "%s", err.message);
	carnet_index_close(idx);
	return v;
}

Test(writer, a_file_is_added_then_unchanged_then_replaced)
{
	const char *p = th_path("%s/cs.txt", docs);
	th_write_doc(p, "P1", "CS-1", "2025-04-01", "Consultation\nTension artérielle 150/90\n");
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_ADDED);
	commit();
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_UNCHANGED);
	th_write_doc(p, "P1", "CS-1", "2025-04-01", "Consultation\nTension artérielle 130/80, dyspnée\n");
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_REPLACED);
	commit();
	cr_assert_eq(visible("P1", "dyspnee"), 1);
	cr_assert_eq(stat_of(CARNET_STAT_DOCUMENTS), 1, "replaced, not duplicated");
}

Test(writer, a_changed_sidecar_is_a_change)
{
	const char *p = th_path("%s/cs.txt", docs);
	th_write_doc(p, "P1", "CS-1", "2025-04-01", "Consultation\n");
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_ADDED);
	th_write_doc(p, "P1", "CS-1", "2025-04-02", "Consultation\n");
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_REPLACED);
}

Test(writer, a_source_whose_id_changes_leaves_no_stale_document)
{
	const char *p = th_path("%s/cs.txt", docs);
	th_write_doc(p, "P1", "OLD", "2025-04-01", "Consultation ancienne\n");
	add(p, NULL);
	commit();
	th_write_doc(p, "P1", "NEW", "2025-04-01", "Consultation nouvelle\n");
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_REPLACED);
	commit();
	cr_assert_eq(visible("P1", "ancienne"), 0);
	cr_assert_eq(visible("P1", "nouvelle"), 1);
	cr_assert_eq(stat_of(CARNET_STAT_DOCUMENTS), 1);
}

/* Each bad input: rejected (not a failure of the call), message naming
 * the file and saying why. */
static void expect_reject(const char *path, const char *why)
{
	carnet_error err;
	memset(&err, 0, sizeof err);
	cr_assert_eq(add(path, &err), CARNET_OUTCOME_REJECTED, "%s was accepted", path);
	cr_assert_lt(err.code, 0, "%s: a reason code", path);
	cr_assert(strstr(err.message, path) != NULL, "message names the file: %s", err.message);
	cr_assert(strstr(err.message, why) != NULL, "message says '%s': %s", why, err.message);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT);
}

Test(writer, bad_inputs_are_rejected_with_a_reason)
{
	const char *b = th_bad();
	expect_reject(th_path("%s/no-sidecar.txt", b), "sidecar");
	expect_reject(th_path("%s/bad-json.txt", b), "invalid JSON");
	expect_reject(th_path("%s/no-patient.txt", b), "patient");
	expect_reject(th_path("%s/binary.txt", b), "not text");
	expect_reject(th_path("%s/bad-date.txt", b), "date");
	expect_reject(th_path("%s/empty.txt", b), "empty");
	expect_reject(th_path("%s/missing.txt", docs), "No such file");
	const char *docx = th_path("%s/lettre.docx", docs);
	th_write_doc(docx, "P1", "X", "2025-01-01", "PK\x03\x04");
	expect_reject(docx, "no reader");
	commit();
	cr_assert_eq(stat_of(CARNET_STAT_REJECTS), 8);
}

static int count_reject(const char *path, const char *reason, const char *when, void *payload)
{
	cr_assert_neq(strlen(path), 0);
	cr_assert_neq(strlen(reason), 0);
	cr_assert_eq(strlen(when), 24, "ISO 8601 UTC to the millisecond: %s", when);
	(*(int *)payload)++;
	return 0;
}

Test(writer, rejects_are_listed_and_the_batch_goes_on)
{
	th_write_doc(th_path("%s/a.txt", docs), "P1", "A", "2025-01-01", "Alpha\n");
	th_write_str(th_path("%s/b.txt", docs), "Bravo sans sidecar\n");
	th_write_doc(th_path("%s/c.txt", docs), "P1", "C", "2025-01-03", "Charlie\n");
	add(th_path("%s/a.txt", docs), NULL);
	add(th_path("%s/b.txt", docs), NULL);
	add(th_path("%s/c.txt", docs), NULL);
	commit();
	cr_assert_eq(visible("P1", NULL), 2);
	carnet_index *idx;
	cr_assert_eq(carnet_index_open(&idx, home, NULL), CARNET_OK);
	int n = 0;
	cr_assert_eq(carnet_index_rejects(idx, count_reject, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 1);
	carnet_index_close(idx);
}

Test(writer, a_file_that_turns_bad_does_not_lose_what_was_indexed)
{
	const char *p = th_path("%s/cs.txt", docs);
	th_write_doc(p, "P1", "CS-1", "2025-04-01", "Consultation de cardiologie\n");
	add(p, NULL);
	commit();
	th_write_str(th_path("%s.meta.json", p), "{\"patient_id\": ");
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_REJECTED);
	commit();
	cr_assert_eq(visible("P1", "cardiologie"), 1);
}

Test(writer, nothing_is_visible_before_commit_and_close_discards)
{
	th_write_doc(th_path("%s/a.txt", docs), "P1", "A", "2025-01-01", "Alpha\n");
	add(th_path("%s/a.txt", docs), NULL);
	cr_assert_eq(visible("P1", NULL), 0);
	carnet_writer_close(w);
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(visible("P1", NULL), 0);
	/* and the registry agrees: the file is new again */
	cr_assert_eq(add(th_path("%s/a.txt", docs), NULL), CARNET_OUTCOME_ADDED);
}

Test(writer, a_second_writer_is_refused_at_once)
{
	carnet_writer *w2 = (carnet_writer *)1;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w2, home, &err), CARNET_E_LOCKED);
	cr_assert_null(w2);
	cr_assert(strstr(err.message, "locked") != NULL, "%s", err.message);
}

Test(writer, documents_without_id_or_date_get_stable_defaults)
{
	const char *p = th_path("%s/note.txt", docs);
	th_write_str(p, "Note\n");
	th_write_str(th_path("%s.meta.json", p), "{\"patient_id\":\"P1\"}");
	cr_assert_eq(add(p, NULL), CARNET_OUTCOME_ADDED);
	commit();
	carnet_index *idx;
	cr_assert_eq(carnet_index_open(&idx, home, NULL), CARNET_OK);
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = "P1";
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	cr_assert_eq(carnet_results_count(res), 1);
	const char *id = carnet_results_field(res, 0, CARNET_FIELD_ID);
	cr_assert_eq(strlen(id), 17, "F + 16 hex digits: %s", id);
	cr_assert_eq(strlen(carnet_results_field(res, 0, CARNET_FIELD_DATE)), 10);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_TITLE), "Note");
	carnet_results_free(res);
	carnet_index_close(idx);
}

Test(writer, opening_an_index_of_another_format_is_refused)
{
	carnet_writer_close(w);
	w = NULL;
	/* an index home whose CURRENT names an unsafe path */
	th_write_str(th_path("%s/CURRENT", home), "../../etc\n");
	carnet_writer *w2;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w2, home, &err), CARNET_E_CORRUPT);
	cr_assert(strstr(err.message, "CURRENT") != NULL, "%s", err.message);
}

/* Index text documents of patient P1, one a file: paths[i] holds the
 * word words[i] (and is document id words[i][0], dated January i + 1);
 * then a new writer that is given paths[0] again, and nothing else. */
static void index_then_give_first(const char *const *paths, const char *const *words,
				  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char id[2] = { words[i][0], '\0' }, date[32], text[64];
		snprintf(date, sizeof date, "2025-01-%02zu", i + 1);
		snprintf(text, sizeof text, "%s\n", words[i]);
		th_write_doc(paths[i], "P1", id, date, text);
		add(paths[i], NULL);
	}
	commit();
	carnet_writer_close(w);
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(add(paths[0], NULL), CARNET_OUTCOME_UNCHANGED);
}

Test(writer, remove_unseen_removes_only_gone_files_under_the_directory)
{
	const char *a = th_path("%s/src/a.txt", docs), *b = th_path("%s/src/sub/b.txt", docs),
		   *c = th_path("%s/other/c.txt", docs), *d = th_path("%s/src-two/d.txt", docs);
	/* a new writer sees only a.txt of src/ (b.txt is "gone") */
	index_then_give_first((const char *[]){ a, b, c, d },
			      (const char *[]){ "Alpha", "Bravo", "Charlie", "Delta" }, 4);
	carnet_error err;
	uint64_t removed = 99;
	cr_assert_eq(carnet_writer_remove_unseen(w, th_path("%s/src", docs), &removed, &err),
		     CARNET_OK, "%s", err.message);
	commit();
	cr_assert_eq(removed, 1);
	cr_assert_eq(visible("P1", "bravo"), 0);
	cr_assert_eq(visible("P1", "alpha"), 1);
	cr_assert_eq(visible("P1", "charlie"), 1, "other directories are untouched");
	cr_assert_eq(visible("P1", "delta"), 1, "src-two is not under src");
	cr_assert_eq(carnet_writer_remove_unseen(w, th_path("%s/nowhere", docs), NULL, &err),
		     CARNET_E_NOTFOUND);
}

Test(writer, a_kept_path_keeps_what_is_under_it_and_nothing_beside_it)
{
	const char *a = th_path("%s/src/a.txt", docs), *b = th_path("%s/src/sub/b.txt", docs),
		   *c = th_path("%s/src/subway/c.txt", docs), *k = th_path("%s/src/k.txt", docs);
	/* a new writer is given a.txt only; sub/ and k.txt are kept (they
	 * could not be read, say), subway/ is not */
	index_then_give_first((const char *[]){ a, b, c, k },
			      (const char *[]){ "Alpha", "Bravo", "Charlie", "Kilo" }, 4);
	carnet_error err;
	cr_assert_eq(carnet_writer_keep(w, th_path("%s/src/sub", docs), &err), CARNET_OK);
	cr_assert_eq(carnet_writer_keep(w, k, &err), CARNET_OK);
	uint64_t removed = 99;
	cr_assert_eq(carnet_writer_remove_unseen(w, th_path("%s/src", docs), &removed, &err),
		     CARNET_OK, "%s", err.message);
	commit();
	cr_assert_eq(removed, 1);
	cr_assert_eq(visible("P1", "bravo"), 1, "under a kept directory");
	cr_assert_eq(visible("P1", "kilo"), 1, "a kept file");
	cr_assert_eq(visible("P1", "charlie"), 0, "subway is not under sub");
	cr_assert_eq(visible("P1", "alpha"), 1);
}

Test(writer, removing_the_newest_version_brings_back_the_previous_one)
{
	const char *v1 = th_path("%s/src/v1.txt", docs), *v2 = th_path("%s/src/v2.txt", docs);
	th_write_str(v1, "Compte rendu initial\n");
	th_write_str(th_path("%s.meta.json", v1),
		     "{\"patient_id\":\"P1\",\"id\":\"R-1\",\"set_id\":\"R\",\"version\":1,\"date\":\"2025-01-01\"}");
	th_write_str(v2, "Compte rendu corrigé\n");
	th_write_str(th_path("%s.meta.json", v2),
		     "{\"patient_id\":\"P1\",\"id\":\"R-2\",\"set_id\":\"R\",\"version\":2,\"date\":\"2025-01-02\"}");
	add(v1, NULL);
	add(v2, NULL);
	commit();
	cr_assert_eq(visible("P1", "initial"), 0);
	carnet_writer_close(w);
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	add(v1, NULL);
	cr_assert_eq(carnet_writer_remove_unseen(w, th_path("%s/src", docs), NULL, &err), CARNET_OK);
	commit();
	cr_assert_eq(visible("P1", "initial"), 1);
	cr_assert_eq(visible("P1", "corrige"), 0);
}

Test(writer, a_rebuild_switches_readers_to_a_new_generation)
{
	th_write_doc(th_path("%s/src/a.txt", docs), "P1", "A", "2025-01-01", "Alpha\n");
	th_write_doc(th_path("%s/src/b.txt", docs), "P1", "B", "2025-01-02", "Bravo\n");
	add(th_path("%s/src/a.txt", docs), NULL);
	add(th_path("%s/src/b.txt", docs), NULL);
	commit();
	carnet_error err;
	cr_assert_eq(carnet_writer_set_visibility(w, "B", CARNET_AUDIENCE_PROFESSIONALS, 1, &err),
		     CARNET_OK);
	commit();
	carnet_writer_close(w);
	w = NULL;

	/* a viewer has the index open during the rebuild */
	carnet_index *viewer;
	cr_assert_eq(carnet_index_open(&viewer, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "P1";
	req.profession = "10";
	carnet_results *res;

	/* the source changed: a.txt is gone, c.txt is new */
	remove(th_path("%s/src/a.txt", docs));
	remove(th_path("%s/src/a.txt.meta.json", docs));
	th_write_doc(th_path("%s/src/c.txt", docs), "P1", "C", "2025-01-03", "Charlie\n");
	carnet_writer *rb;
	cr_assert_eq(carnet_writer_open_rebuild(&rb, home, &err), CARNET_OK, "%s", err.message);
	carnet_writer *other = (carnet_writer *)1;
	cr_assert_eq(carnet_writer_open(&other, home, &err), CARNET_E_LOCKED,
		     "no sync while a rebuild runs");
	carnet_outcome o;
	cr_assert_eq(carnet_writer_add_file(rb, th_path("%s/src/b.txt", docs), &o, &err), CARNET_OK);
	cr_assert_eq(carnet_writer_add_file(rb, th_path("%s/src/c.txt", docs), &o, &err), CARNET_OK);
	cr_assert_eq(carnet_writer_commit(rb, &err), CARNET_OK);
	/* committed but not published: the viewer still sees the live index */
	cr_assert_eq(carnet_index_search(&res, viewer, &req, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "A");
	carnet_results_free(res);

	cr_assert_eq(carnet_writer_publish(rb, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(rb);
	/* the same handle, without refresh, answers from the new generation */
	cr_assert_eq(carnet_index_search(&res, viewer, &req, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_results_count(res), 1, "B stays masked after the rebuild");
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "C");
	carnet_results_free(res);
	uint64_t gen;
	cr_assert_eq(carnet_index_stat(viewer, CARNET_STAT_GENERATION, &gen, &err), CARNET_OK);
	cr_assert_eq(gen, 2);
	carnet_index_close(viewer);
}

Test(writer, a_rebuild_that_is_not_published_leaves_the_live_index_alone)
{
	th_write_doc(th_path("%s/src/a.txt", docs), "P1", "A", "2025-01-01", "Alpha\n");
	add(th_path("%s/src/a.txt", docs), NULL);
	commit();
	carnet_writer_close(w);
	w = NULL;
	carnet_writer *rb;
	carnet_error err;
	cr_assert_eq(carnet_writer_open_rebuild(&rb, home, &err), CARNET_OK, "%s", err.message);
	th_write_doc(th_path("%s/src/z.txt", docs), "P1", "Z", "2025-01-09", "Zoulou\n");
	carnet_outcome o;
	cr_assert_eq(carnet_writer_add_file(rb, th_path("%s/src/z.txt", docs), &o, &err), CARNET_OK);
	cr_assert_eq(carnet_writer_commit(rb, &err), CARNET_OK);
	carnet_writer_close(rb); /* as if the job died here */
	cr_assert_eq(visible("P1", NULL), 1);
	cr_assert_eq(visible("P1", "alpha"), 1);
	struct stat st;
	cr_assert_eq(stat(th_path("%s/gen-2", home), &st), 0, "the unfinished generation is there");
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_neq(stat(th_path("%s/gen-2", home), &st), 0, "and the next writer removes it");
	cr_assert_eq(stat(th_path("%s/gen-1", home), &st), 0);
}

Test(writer, a_fifo_given_to_the_writer_is_rejected_without_blocking)
{
	const char *fifo = th_path("%s/in.txt", docs);
	th_write_str(th_path("%s.meta.json", fifo), "{\"patient_id\":\"P01\",\"id\":\"F\"}");
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	carnet_error e;
	alarm(30); /* a blocking open ends the test with SIGALRM */
	carnet_outcome o;
	cr_assert_eq(carnet_writer_add_file(w, fifo, &o, &e), CARNET_OK, "%s", e.message);
	alarm(0);
	cr_assert_eq(o, CARNET_OUTCOME_REJECTED);
	cr_assert(strstr(e.message, "in.txt: not a regular file (FIFO)"), "%s", e.message);
}

/* ---- what one input may cost ---- */

typedef struct outcomes {
	char paths[8][4096];
	carnet_outcome outcome[8];
	char reason[8][CARNET_ERROR_MESSAGE_SIZE];
	size_t n;
} outcomes;

static void record(const char *path, carnet_outcome outcome, const carnet_error *reason,
		   void *payload)
{
	outcomes *o = payload;
	cr_assert_lt(o->n, 8);
	snprintf(o->paths[o->n], sizeof o->paths[0], "%s", path);
	o->outcome[o->n] = outcome;
	snprintf(o->reason[o->n], sizeof o->reason[0], "%s", reason ? reason->message : "");
	o->n++;
}

/* A CDA of patient P1 whose one element carries n attributes. */
static void write_attributes_cda(const char *path, int n)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<ClinicalDocument xmlns=\"urn:hl7-org:v3\"><id root=\"1.2.3\" extension=\"HOSTILE\"/>"
	      "<recordTarget><patientRole><id root=\"1.2.250.1.213.1.4.8\" extension=\"P1\"/>"
	      "</patientRole></recordTarget><component><structuredBody><component><section>"
	      "<entry><observation", f);
	for (int i = 0; i < n; i++)
		fprintf(f, " a%d=\"1\"", i);
	fputs("/></entry></section></component></structuredBody></component></ClinicalDocument>", f);
	cr_assert_eq(fclose(f), 0);
}

Test(writer, a_stuck_input_is_rejected_and_the_batch_goes_on)
{
	alarm(180); /* a hang fails the test (SIGALRM) */
	carnet_error err;
	cr_assert_eq(carnet_writer_set_limit(w, CARNET_LIMIT_DOC_MILLISECONDS, 0, &err),
		     CARNET_E_INVALID);
	/* generous for the small files on a busy machine */
	cr_assert_eq(carnet_writer_set_limit(w, CARNET_LIMIT_DOC_MILLISECONDS, 500, &err),
		     CARNET_OK, "%s", err.message);
	/* a text of about 30 MB: folding it and generating its terms takes
	 * seconds, far over 500 ms */
	size_t len = 30u * 1024 * 1024;
	char *big = malloc(len + 1);
	cr_assert_not_null(big);
	static const char words[] = "glycemie normale controle tension arterielle suivi ";
	for (size_t i = 0; i < len; i++)
		big[i] = words[i % (sizeof words - 1)];
	big[len] = '\0';
	th_write_doc(th_path("%s/a.txt", docs), "P1", "A", "2025-01-01", "Alpha\n");
	th_write_doc(th_path("%s/big.txt", docs), "P1", "BIG", "2025-01-02", big);
	free(big);
	write_attributes_cda(th_path("%s/hostile.xml", docs), 200000);
	th_write_doc(th_path("%s/c.txt", docs), "P1", "C", "2025-01-03", "Charlie\n");
	char paths[4][4200];
	snprintf(paths[0], sizeof paths[0], "%s/a.txt", docs);
	snprintf(paths[1], sizeof paths[1], "%s/big.txt", docs);
	snprintf(paths[2], sizeof paths[2], "%s/hostile.xml", docs);
	snprintf(paths[3], sizeof paths[3], "%s/c.txt", docs);
	const char *const list[] = { paths[0], paths[1], paths[2], paths[3] };
	outcomes o;
	memset(&o, 0, sizeof o);
	/* on two extraction threads: each has its own budget */
	cr_assert_eq(carnet_writer_add_files(w, list, 4, 2, record, &o, &err), CARNET_OK, "%s",
		     err.message);
	commit();
	cr_assert_eq(o.n, 4);
	cr_assert_eq(o.outcome[0], CARNET_OUTCOME_ADDED);
	cr_assert_eq(o.outcome[1], CARNET_OUTCOME_REJECTED);
	cr_assert(strstr(o.reason[1], "big.txt: took more than 500 ms to read"), "%s", o.reason[1]);
	cr_assert_eq(o.outcome[2], CARNET_OUTCOME_REJECTED);
	cr_assert(strstr(o.reason[2], "hostile.xml: element <observation> has more than 256 "
				      "attributes"), "%s", o.reason[2]);
	cr_assert_eq(o.outcome[3], CARNET_OUTCOME_ADDED, "%s", o.reason[3]);
	cr_assert_eq(visible("P1", NULL), 2);
	cr_assert_eq(stat_of(CARNET_STAT_REJECTS), 2);
}

/* ---- patient identity: every document in the right record ---- */

/* Ids of the documents of patient (given as --patient would be, with an
 * optional system) that a médecin sees; returns the search status. */
static int ids_at(const char *at, const char *system, const char *patient, char ids[][64],
		  size_t max, size_t *n, unsigned flags)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, at, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10";
	req.patient_system = system;
	req.patient_id = patient;
	req.flags = flags;
	carnet_results *res;
	int rc = carnet_index_search(&res, idx, &req, &err);
	*n = 0;
	if (rc == CARNET_OK) {
		for (size_t i = 0; i < carnet_results_count(res) && i < max; i++)
			snprintf(ids[(*n)++], 64, "%s", carnet_results_field(res, i, CARNET_FIELD_ID));
		carnet_results_free(res);
	}
	carnet_index_close(idx);
	return rc;
}

static int ids_of(const char *system, const char *patient, char ids[][64], size_t max,
		  size_t *n, unsigned flags)
{
	return ids_at(home, system, patient, ids, max, n, flags);
}

/* How many of patient's documents a professional finds. */
static size_t found(const char *patient)
{
	static char ids[8][64];
	size_t n;
	cr_assert_eq(ids_of(NULL, patient, ids, 8, &n, 0), CARNET_OK);
	return n;
}

static void write_text(const char *path, const char *text, const char *meta)
{
	th_write_str(path, text);
	th_write_str(th_path("%s.meta.json", path), meta);
}

/* A CDA of one document, for each (root, extension) pair of targets a
 * recordTarget; set id and version given. */
static void write_cda(const char *path, const char *id, const char *set, int version,
		      const char *targets[][2], size_t ntargets, const char *extra)
{
	char buf[8192];
	int n = snprintf(buf, sizeof buf,
			 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			 "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n"
			 "<id root=\"1.2.3\" extension=\"%s\"/>\n"
			 "<code code=\"11488-4\" codeSystem=\"2.16.840.1.113883.6.1\"/>\n"
			 "<title>Compte rendu de consultation</title>\n"
			 "<effectiveTime value=\"20250310093000+0100\"/>\n"
			 "<confidentialityCode code=\"N\">%s</confidentialityCode>\n"
			 "<setId root=\"1.2.3\" extension=\"%s\"/><versionNumber value=\"%d\"/>\n",
			 id, extra ? extra : "", set, version);
	for (size_t i = 0; i < ntargets; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n,
			      "<recordTarget><patientRole><id root=\"%s\" extension=\"%s\"/>"
			      "</patientRole></recordTarget>\n",
			      targets[i][0], targets[i][1]);
	snprintf(buf + n, sizeof buf - (size_t)n,
		 "<component><structuredBody><component><section><title>Conclusion</title>"
		 "<text>Souffle systolique aortique discret.</text></section></component>"
		 "</structuredBody></component>\n</ClinicalDocument>\n");
	th_write_str(path, buf);
}

#define NIR "1.2.250.1.213.1.4.8"
#define NIR_TEST "1.2.250.1.213.1.4.10"

Test(writer, another_patients_set_id_is_a_clash_and_changes_nothing_of_theirs)
{
	const char *a = th_path("%s/a.txt", docs), *b = th_path("%s/b.txt", docs);
	write_text(a, "Compte rendu de Alice\n",
		   "{\"patient_id\":\"158047511203495\",\"patient_id_system\":\"" NIR "\","
		   "\"id\":\"A-1\",\"set_id\":\"CR\",\"version\":1,\"date\":\"2025-01-01\"}");
	write_text(b, "Compte rendu de Bob\n",
		   "{\"patient_id\":\"271056912304521\",\"patient_id_system\":\"" NIR "\","
		   "\"id\":\"B-9\",\"set_id\":\"CR\",\"version\":9,\"date\":\"2025-02-01\"}");
	cr_assert_eq(add(a, NULL), CARNET_OUTCOME_ADDED);
	expect_reject(b, "document B-9 of patient 271056912304521 has set id CR, which is the set "
			 "of document A-1 of another patient (158047511203495)");
	commit();
	static char ids[8][64];
	size_t n;
	cr_assert_eq(ids_of(NULL, "158047511203495", ids, 8, &n, 0), CARNET_OK);
	cr_assert_eq(n, 1, "Alice's document is still her latest version");
	cr_assert_str_eq(ids[0], "A-1");
	cr_assert_eq(ids_of(NULL, "271056912304521", ids, 8, &n, CARNET_REQUEST_ALL_VERSIONS),
		     CARNET_OK);
	cr_assert_eq(n, 0, "nothing was filed in Bob's record");
}

Test(writer, replacing_another_patients_document_is_a_clash)
{
	const char *a = th_path("%s/a.xml", docs), *b = th_path("%s/b.xml", docs);
	const char *alice[][2] = { { NIR, "158047511203495" } };
	const char *bob[][2] = { { NIR, "271056912304521" } };
	write_cda(a, "DOC-A", "SET-A", 1, alice, 1, NULL);
	write_cda(b, "DOC-B", "SET-B", 2, bob, 1, NULL);
	/* Bob's document says it replaces Alice's */
	size_t len;
	char *xml = th_slurp(b, &len);
	const char *rel = "<relatedDocument typeCode=\"RPLC\"><parentDocument>"
			  "<id root=\"1.2.3\" extension=\"DOC-A\"/></parentDocument></relatedDocument>\n"
			  "<component>";
	char *at = strstr(xml, "<component>");
	cr_assert_not_null(at);
	char out[8192];
	snprintf(out, sizeof out, "%.*s%s%s", (int)(at - xml), xml, rel, at + strlen("<component>"));
	free(xml);
	th_write_str(b, out);
	cr_assert_eq(add(a, NULL), CARNET_OUTCOME_ADDED);
	expect_reject(b, "document 1.2.3^DOC-B of patient 271056912304521 replaces document "
			 "1.2.3^DOC-A, which belongs to another patient (158047511203495)");
	commit();
	cr_assert_eq(found("158047511203495"), 1);
}

Test(writer, one_file_whose_documents_share_a_set_across_patients_is_refused)
{
	/* a FHIR batch of two DocumentReferences of two patients, one set */
	const char *f = th_path("%s/batch.json", docs);
	th_write_str(f,
		     "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
		     "{\"resource\":{\"resourceType\":\"DocumentReference\",\"id\":\"d1\","
		     "\"masterIdentifier\":{\"value\":\"D-1\"},\"date\":\"2025-01-01\","
		     "\"subject\":{\"identifier\":{\"system\":\"urn:oid:" NIR "\",\"value\":\"158047511203495\"}},"
		     "\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"QWxwaGE=\"}}]}},"
		     "{\"resource\":{\"resourceType\":\"DocumentReference\",\"id\":\"d2\","
		     "\"masterIdentifier\":{\"value\":\"D-2\"},\"date\":\"2025-01-02\","
		     "\"relatesTo\":[{\"code\":\"replaces\",\"target\":{\"identifier\":{\"value\":\"D-1\"}}}],"
		     "\"subject\":{\"identifier\":{\"system\":\"urn:oid:" NIR "\",\"value\":\"271056912304521\"}},"
		     "\"content\":[{\"attachment\":{\"contentType\":\"text/plain\",\"data\":\"QnJhdm8=\"}}]}}]}");
	expect_reject(f, "documents D-1 (patient 158047511203495) and D-2 (patient 271056912304521) "
			 "share set id D-1");
}

Test(writer, a_reread_file_that_changes_patient_gives_the_old_set_back_its_latest)
{
	const char *v1 = th_path("%s/v1.txt", docs), *v2 = th_path("%s/v2.txt", docs);
	write_text(v1, "Premier compte rendu\n",
		   "{\"patient_id\":\"P1\",\"id\":\"R-1\",\"set_id\":\"R\",\"version\":1,\"date\":\"2025-01-01\"}");
	write_text(v2, "Second compte rendu\n",
		   "{\"patient_id\":\"P1\",\"id\":\"R-2\",\"set_id\":\"R\",\"version\":2,\"date\":\"2025-01-02\"}");
	add(v1, NULL);
	add(v2, NULL);
	commit();
	cr_assert_eq(visible("P1", "premier"), 0, "v1 is superseded");
	/* v2 was filed in the wrong record: its sidecar now names P2, with
	 * its own set */
	write_text(v2, "Second compte rendu\n",
		   "{\"patient_id\":\"P2\",\"id\":\"R-2\",\"set_id\":\"R2\",\"version\":2,\"date\":\"2025-01-02\"}");
	cr_assert_eq(add(v2, NULL), CARNET_OUTCOME_REPLACED);
	commit();
	cr_assert_eq(visible("P1", "premier"), 1, "P1's v1 is the latest of P1's set again");
	cr_assert_eq(visible("P1", "second"), 0);
	cr_assert_eq(visible("P2", "second"), 1);
}

Test(writer, a_sidecar_naming_another_patient_than_the_document_is_refused_unless_a_correction)
{
	const char *f = th_path("%s/cr.xml", docs);
	const char *alice[][2] = { { NIR, "158047511203495" } };
	write_cda(f, "DOC-1", "SET-1", 1, alice, 1, NULL);
	th_write_str(th_path("%s.meta.json", f),
		     "{\"patient_id\":\"271056912304521\",\"patient_id_system\":\"" NIR "\"}");
	expect_reject(f, "the document names patient 158047511203495 but");
	char err_path[4200];
	snprintf(err_path, sizeof err_path, "%s.meta.json names patient 271056912304521", f);
	expect_reject(f, err_path);
	/* a system alone would requalify the document's id: another patient */
	th_write_str(th_path("%s.meta.json", f), "{\"patient_id_system\":\"1.2.250.1.999.1\"}");
	expect_reject(f, "names patient 1.2.250.1.999.1^158047511203495 (set \"patient_correction\"");
	/* the same patient, its system left out: agreed */
	th_write_str(th_path("%s.meta.json", f), "{\"patient_id\":\"158047511203495\"}");
	cr_assert_eq(add(f, NULL), CARNET_OUTCOME_ADDED);
	/* a correction says so */
	th_write_str(th_path("%s.meta.json", f),
		     "{\"patient_id\":\"271056912304521\",\"patient_id_system\":\"" NIR "\","
		     "\"patient_correction\":true}");
	cr_assert_eq(add(f, NULL), CARNET_OUTCOME_REPLACED);
	commit();
	cr_assert_eq(visible("271056912304521", "souffle"), 1);
	cr_assert_eq(visible("158047511203495", "souffle"), 0);
}

Test(writer, patient_ids_that_would_share_a_key_are_refused)
{
	const char *cases[][2] = {
		/* sidecar, reason */
		{ "{\"patient_id\":\"1.2.3.4.5^X\",\"patient_id_system\":\"1.2.9.9\"}",
		  "patient id holds '^'" },
		{ "{\"patient_id\":\"1.2.3.4.5^X\"}", "patient id holds '^'" },
		{ "{\"patient_id\":\"X\",\"patient_id_system\":\"1.2^3\"}",
		  "patient id system holds '^'" },
		{ "{\"patient_id\":\"158047511203494\",\"patient_id_system\":\"" NIR "\"}",
		  "INS check key 94 is wrong (the number gives 95)" },
		{ "{\"patient_id\":\"158047511203494\"}",
		  "INS check key 94 is wrong (the number gives 95)" },
		{ "{\"patient_id\":\"158047511203495\",\"patient_id_system\":\"" NIR_TEST "\","
		  "\"id\":\"T\"}", NULL },
		{ "{\"patient_id\":\"12345\",\"patient_id_system\":\"" NIR "\"}",
		  "patient id is not an INS" },
		{ "{\"patient_id\":\"2A04751120345\",\"patient_id_system\":\"1.2.250.1.213.1.4.9\"}",
		  "patient id is not an INS" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *p = th_path("%s/c%zu.txt", docs, i);
		write_text(p, "Texte\n", cases[i][0]);
		if (cases[i][1])
			expect_reject(p, cases[i][1]);
		else
			cr_assert_eq(add(p, NULL), CARNET_OUTCOME_ADDED);
	}
	commit();
	static char ids[8][64];
	size_t n;
	/* the test INS is not the production INS of the same number */
	cr_assert_eq(ids_of(NULL, "158047511203495", ids, 8, &n, 0), CARNET_OK);
	cr_assert_eq(n, 0);
	cr_assert_eq(ids_of(NIR_TEST, "158047511203495", ids, 8, &n, 0), CARNET_OK);
	cr_assert(n == 1 && strcmp(ids[0], "T") == 0);
	cr_assert_eq(ids_of(NULL, NIR_TEST "^158047511203495", ids, 8, &n, 0), CARNET_OK);
	cr_assert_eq(n, 1);
}

Test(writer, nir_nia_and_corsica_are_keyed_by_the_number)
{
	/* 2A and 2B count as 19 and 18 in the check key */
	const char *cases[][2] = {
		{ "N", "{\"patient_id\":\"158047511203495\",\"patient_id_system\":\"urn:oid:" NIR "\","
		       "\"id\":\"N\",\"date\":\"2025-01-01\"}" },
		{ "C", "{\"patient_id\":\"180052A01201473\",\"patient_id_system\":\"1.2.250.1.213.1.4.9\","
		       "\"id\":\"C\",\"date\":\"2025-01-02\"}" },
		{ "D", "{\"patient_id\":\"180052b01201403\",\"id\":\"D\",\"date\":\"2025-01-03\"}" },
	};
	for (size_t i = 0; i < 3; i++) {
		const char *p = th_path("%s/%s.txt", docs, cases[i][0]);
		write_text(p, "Texte\n", cases[i][1]);
		cr_assert_eq(add(p, NULL), CARNET_OUTCOME_ADDED, "%s", cases[i][1]);
	}
	commit();
	static char ids[8][64];
	size_t n;
	cr_assert_eq(ids_of(NULL, "158047511203495", ids, 8, &n, 0), CARNET_OK);
	cr_assert(n == 1 && strcmp(ids[0], "N") == 0);
	cr_assert_eq(ids_of(NIR, "180052A01201473", ids, 8, &n, 0), CARNET_OK);
	cr_assert(n == 1 && strcmp(ids[0], "C") == 0, "NIR and NIA share the number's key");
	cr_assert_eq(ids_of(NULL, "180052B01201403", ids, 8, &n, 0), CARNET_OK);
	cr_assert(n == 1 && strcmp(ids[0], "D") == 0, "2b is 2B");
	/* a request whose INS key is wrong is invalid, never "0 of 0" */
	cr_assert_eq(ids_of(NULL, "158047511203494", ids, 8, &n, 0), CARNET_E_INVALID);
	cr_assert_eq(ids_of(NIR, "180052A01201474", ids, 8, &n, 0), CARNET_E_INVALID);
}

Test(writer, a_cda_with_several_record_targets_is_refused_naming_both)
{
	const char *f = th_path("%s/two.xml", docs);
	const char *two[][2] = { { NIR, "158047511203495" }, { NIR, "271056912304521" } };
	write_cda(f, "DOC-2", "SET-2", 1, two, 2, NULL);
	expect_reject(f, "CDA has several recordTargets (patients 158047511203495 and "
			 "271056912304521): a document belongs to one patient");
	commit();
	cr_assert_eq(found("158047511203495"), 0);
}

Test(writer, visibility_codes_in_any_case_hide_the_document)
{
	const char *t = th_path("%s/t.txt", docs), *c = th_path("%s/c.xml", docs);
	write_text(t, "Compte rendu masqué\n",
		   "{\"patient_id\":\"158047511203495\",\"id\":\"T\",\"confidentiality\":[\"N\",\"masque_ps\"]}");
	const char *alice[][2] = { { NIR, "158047511203495" } };
	write_cda(c, "DOC-C", "SET-C", 1, alice, 1,
		  "<translation code=\"Masque_PS\" codeSystem=\"1.2.250.1.213.1.1.4.13\"/>");
	cr_assert_eq(add(t, NULL), CARNET_OUTCOME_ADDED);
	cr_assert_eq(add(c, NULL), CARNET_OUTCOME_ADDED);
	commit();
	static char ids[8][64];
	size_t n;
	cr_assert_eq(ids_of(NULL, "158047511203495", ids, 8, &n, 0), CARNET_OK);
	cr_assert_eq(n, 0, "masked from professionals");
	cr_assert_eq(ids_of(NULL, "158047511203495", ids, 8, &n, CARNET_REQUEST_EMERGENCY),
		     CARNET_OK);
	cr_assert_eq(n, 2, "emergency access sees both");
}

/* ---- add_files on threads, batch after batch: as one by one ---- */

/* What add_files said of each input, in order: name, outcome, reason. */
typedef struct said {
	char lines[16][700];
	size_t count;
} said;

static void note(const char *path, carnet_outcome o, const carnet_error *reason, void *payload)
{
	said *s = payload;
	cr_assert_lt(s->count, 16);
	snprintf(s->lines[s->count++], sizeof s->lines[0], "%s %d %s", strrchr(path, '/') + 1,
		 (int)o, reason ? reason->message : "");
}

/* Add paths[0..n) to both writers: one by one and committed after, as
 * carnet-index --jobs 1 does; on two threads and left for the next call
 * to commit while its threads extract, as --jobs 2 does. Both must say
 * the same of each input. */
static void add_both(carnet_writer *one, carnet_writer *two, const char *const *paths, size_t n,
		     said *s)
{
	carnet_error err;
	said t;
	s->count = t.count = 0;
	cr_assert_eq(carnet_writer_add_files(one, paths, n, 1, note, s, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(carnet_writer_commit(one, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_add_files(two, paths, n, 2, note, &t, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(s->count, t.count);
	for (size_t i = 0; i < s->count; i++)
		cr_assert_str_eq(s->lines[i], t.lines[i], "input %zu", i);
}

static int by_text(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The ids a general practitioner finds for patient in home at, sorted. */
static void ids_in(const char *at, const char *patient, unsigned flags, char *out, size_t size)
{
	static char ids[16][64];
	size_t n;
	cr_assert_eq(ids_at(at, NULL, patient, ids, 16, &n, flags), CARNET_OK);
	qsort(ids, n, sizeof ids[0], by_text);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "%s ", ids[i]);
}

Test(writer, batches_on_threads_left_uncommitted_end_as_one_by_one)
{
	static char x[4200], y[4200], bad[4200], z1[4200], z2[4200];
	snprintf(x, sizeof x, "%s/x.txt", docs);
	snprintf(y, sizeof y, "%s/y.txt", docs);
	snprintf(bad, sizeof bad, "%s/bad.txt", docs);
	snprintf(z1, sizeof z1, "%s/z1.txt", docs);
	snprintf(z2, sizeof z2, "%s/z2.txt", docs);
	th_write_doc(x, "P1", "X", "2025-01-01", "Consultation de cardiologie\n");
	th_write_doc(y, "P1", "Y", "2025-01-02", "Échographie cardiaque\n");
	th_write_str(bad, "Compte rendu sans sidecar\n");
	write_text(z1, "Compte rendu opératoire\n",
		   "{\"patient_id\":\"P1\",\"id\":\"Z-1\",\"set_id\":\"Z\",\"version\":1,"
		   "\"date\":\"2025-02-01\"}");
	write_text(z2, "Compte rendu opératoire corrigé\n",
		   "{\"patient_id\":\"P1\",\"id\":\"Z-2\",\"set_id\":\"Z\",\"version\":2,"
		   "\"date\":\"2025-02-02\"}");
	char home2[4200];
	snprintf(home2, sizeof home2, "%s-threads", home);
	carnet_writer *two;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&two, home2, &err), CARNET_OK, "%s", err.message);
	static said s;
	/* the same file twice in a batch: the second time unchanged, though
	 * the threads read the registry before the first was applied */
	const char *b1[] = { x, y, x, bad };
	add_both(w, two, b1, 4, &s);
	cr_assert(strstr(s.lines[2], "x.txt 2 "), "%s", s.lines[2]); /* UNCHANGED */
	cr_assert(strstr(s.lines[3], "bad.txt 3 "), "%s", s.lines[3]); /* REJECTED */
	/* the files of the batch before, which the threads may read before
	 * that batch is committed; a fixed reject; a new set */
	th_write_doc(bad, "P1", "BAD", "2025-01-03", "Compte rendu avec sidecar\n");
	const char *b2[] = { x, bad, z1, y };
	add_both(w, two, b2, 4, &s);
	cr_assert(strstr(s.lines[0], "x.txt 2 "), "%s", s.lines[0]);
	cr_assert(strstr(s.lines[1], "bad.txt 0 "), "%s", s.lines[1]); /* ADDED */
	/* between two batches, a mask: committed before the threads read
	 * the masks (unlike the batch before, committed while they start) */
	cr_assert_eq(carnet_writer_set_visibility(w, "Y", CARNET_AUDIENCE_PROFESSIONALS, 1, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_set_visibility(two, "Y", CARNET_AUDIENCE_PROFESSIONALS, 1, &err),
		     CARNET_OK, "%s", err.message);
	th_write_doc(y, "P1", "Y", "2025-01-02", "Échographie cardiaque de contrôle\n");
	/* the next version right after the first */
	const char *b3[] = { y, z2, bad, x };
	add_both(w, two, b3, 4, &s);
	cr_assert(strstr(s.lines[0], "y.txt 1 "), "%s", s.lines[0]); /* REPLACED */
	cr_assert(strstr(s.lines[1], "z2.txt 0 "), "%s", s.lines[1]);
	cr_assert(strstr(s.lines[2], "bad.txt 2 "), "%s", s.lines[2]);
	cr_assert_eq(carnet_writer_commit(two, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(two);
	char a[256], b[256];
	ids_in(home, "P1", 0, a, sizeof a);
	ids_in(home2, "P1", 0, b, sizeof b);
	cr_assert_str_eq(a, "BAD X Z-2 ", "Y masked, Z-2 the latest: %s", a);
	cr_assert_str_eq(a, b);
	ids_in(home, "P1", CARNET_REQUEST_ALL_VERSIONS, a, sizeof a);
	ids_in(home2, "P1", CARNET_REQUEST_ALL_VERSIONS, b, sizeof b);
	cr_assert_str_eq(a, b);
}
