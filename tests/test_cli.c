/* test_cli.c - end to end: both CLIs run as a user would, on a temporary
 * index built from the shipped corpora; exit codes, messages and output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "carnet.h"
#include "helpers.h"

static char home[4096];
static char *out, *err;

static void init(void)
{
	snprintf(home, sizeof home, "%s/idx", th_tmpdir());
}

static void fini(void)
{
	free(out);
	free(err);
	out = err = NULL;
	th_cleanup();
}

TestSuite(cli, .init = init, .fini = fini);

/* Run a CLI; out/err hold its output until the next run. */
static int run(const char *const argv[])
{
	free(out);
	free(err);
	return th_run(&out, &err, argv);
}

static void index_corpora(void)
{
	const char *argv[] = { "carnet-index", "--index", home, "--json", "add",
			       th_sample(), th_bad(), NULL };
	cr_assert_eq(run(argv), 1, "some inputs rejected -> exit 1; stderr: %s", err);
}

static const char *patient(void)
{
	static char ids[16][64];
	cr_assert_geq(th_sample_patients(ids, 16), 4);
	return ids[0];
}

Test(cli, add_indexes_the_sample_and_names_every_rejected_file)
{
	index_corpora();
	const char *names[] = { "no-sidecar.txt", "bad-json.txt", "no-patient.txt",
				"binary.txt", "bad-date.txt", "empty.txt" };
	for (size_t i = 0; i < 6; i++)
		cr_assert(strstr(err, names[i]) != NULL, "stderr names %s: %s", names[i], err);
	json_error_t je;
	json_t *o = json_loads(out, 0, &je);
	cr_assert_not_null(o, "summary is JSON: %s", out);
	cr_assert_geq(json_integer_value(json_object_get(o, "added")), 40);
	cr_assert_geq(json_integer_value(json_object_get(o, "rejected")), 6);
	json_decref(o);

	/* again: nothing new */
	const char *again[] = { "carnet-index", "--index", home, "--json", "add", th_sample(), NULL };
	cr_assert_eq(run(again), 0, "%s", err);
	o = json_loads(out, 0, &je);
	cr_assert_eq(json_integer_value(json_object_get(o, "added")), 0);
	cr_assert_geq(json_integer_value(json_object_get(o, "unchanged")), 40);
	json_decref(o);
}

Test(cli, stats_and_rejects_describe_the_index)
{
	index_corpora();
	const char *st[] = { "carnet-index", "--index", home, "stats", "--json", NULL };
	cr_assert_eq(run(st), 0, "%s", err);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "%s", out);
	cr_assert_geq(json_integer_value(json_object_get(o, "patients")), 4);
	cr_assert_geq(json_integer_value(json_object_get(o, "documents")), 40);
	cr_assert_gt(json_integer_value(json_object_get(o, "versions")),
		     json_integer_value(json_object_get(o, "documents")),
		     "the sample has versioned documents");
	cr_assert_geq(json_integer_value(json_object_get(o, "rejects")), 6);
	json_decref(o);

	const char *rj[] = { "carnet-index", "--index", home, "rejects", NULL };
	cr_assert_eq(run(rj), 0, "%s", err);
	cr_assert(strstr(out, "bad-json.txt") && strstr(out, "invalid JSON"), "%s", out);
	cr_assert(strstr(out, "binary.txt") && strstr(out, "not text"), "%s", out);
}

Test(cli, query_json_lines_follow_the_interface)
{
	index_corpora();
	const char *p = patient();
	const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10", "--json",
			    "--limit", "5", NULL };
	cr_assert_eq(run(q), 0, "%s", err);
	const char *keys[] = { "rank", "id", "set_id", "version", "patient", "type",
			       "type_label", "title", "date", "author_specialty", "score" };
	int lines = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "line is JSON: %s", line);
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
			cr_assert_not_null(json_object_get(o, keys[k]), "key %s in %s", keys[k], line);
		cr_assert_eq(json_integer_value(json_object_get(o, "rank")), lines + 1);
		cr_assert_str_eq(json_string_value(json_object_get(o, "patient")), p);
		cr_assert_eq(strlen(json_string_value(json_object_get(o, "date"))), 10);
		json_decref(o);
		lines++;
	}
	cr_assert_eq(lines, 5);
}

Test(cli, query_json_explains_snippets_and_facets_follow_the_interface)
{
	index_corpora();
	const char *p = patient();
	const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10",
			    "--specialty", "SM04", "--json", "--explain", "--facets", "--limit", "3",
			    "conclusion", NULL };
	cr_assert_eq(run(q), 0, "%s", err);
	int hits = 0, facets = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "line is JSON: %s", line);
		json_t *f = json_object_get(o, "facets");
		if (f) {
			/* the last line: counts over every hit, not just the 3 shown */
			cr_assert_eq(hits, 3);
			facets++;
			json_int_t sum = 0;
			const char *key;
			json_t *n;
			json_object_foreach(json_object_get(f, "type"), key, n)
				sum += json_integer_value(n);
			cr_assert_gt(sum, 3, "%s", line);
			cr_assert_not_null(json_object_get(f, "author_specialty"));
			cr_assert_not_null(json_object_get(f, "year"));
			json_decref(o);
			continue;
		}
		cr_assert_eq(facets, 0, "facets come last");
		json_t *e = json_object_get(o, "explain");
		cr_assert_not_null(e, "%s", line);
		double parts = json_real_value(json_object_get(e, "text")) +
			       json_real_value(json_object_get(e, "specialty")) +
			       json_real_value(json_object_get(e, "recency"));
		cr_assert_float_eq(parts, json_real_value(json_object_get(o, "score")), 2e-4, "%s", line);
		const char *snippet = json_string_value(json_object_get(o, "snippet"));
		cr_assert(snippet && strstr(snippet, "<b>"), "snippet marks the word: %s", line);
		json_decref(o);
		hits++;
	}
	cr_assert_eq(hits, 3);
	cr_assert_eq(facets, 1);

	/* a misspelling: a suggestion line */
	const char *m[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10",
			    "--json", "conclusoin", NULL };
	cr_assert_eq(run(m), 0, "%s", err);
	cr_assert(strstr(out, "{\"suggestion\":\"conclusion\"}"), "%s", out);
	const char *t[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10",
			    "conclusoin", NULL };
	cr_assert_eq(run(t), 0, "%s", err);
	cr_assert(strstr(out, "did you mean: conclusion"), "%s", out);
}

Test(cli, query_table_is_readable)
{
	index_corpora();
	const char *q[] = { "carnet-query", "--index", home, "--patient", patient(), "--profession", "10", "conclusion", NULL };
	cr_assert_eq(run(q), 0, "%s", err);
	cr_assert(strstr(out, "date") && strstr(out, "title"), "header: %s", out);
	cr_assert(strstr(out, "document(s) for patient"), "footer: %s", out);
}

Test(cli, missing_index_is_a_clear_failure)
{
	const char *q[] = { "carnet-query", "--index", home, "--patient", "P1", "--profession", "10", NULL };
	cr_assert_eq(run(q), 3);
	cr_assert(strstr(err, "no carnet index") && strstr(err, home), "%s", err);
	const char *s[] = { "carnet-index", "--index", home, "stats", NULL };
	cr_assert_eq(run(s), 3);
	cr_assert(strstr(err, "no carnet index"), "%s", err);
}

Test(cli, locked_index_is_refused_not_waited_for)
{
	carnet_writer *w;
	carnet_error e;
	cr_assert_eq(carnet_writer_open(&w, home, &e), CARNET_OK, "%s", e.message);
	const char *a[] = { "carnet-index", "--index", home, "add", th_sample(), NULL };
	cr_assert_eq(run(a), 3, "%s", err);
	cr_assert(strstr(err, "locked"), "%s", err);
	carnet_writer_close(w);
	cr_assert_eq(run(a), 0, "works once the other writer is gone: %s", err);
}

Test(cli, malformed_query_is_a_usage_error)
{
	index_corpora();
	const char *q[] = { "carnet-query", "--index", home, "--patient", patient(),
			    "--profession", "10", "h\xC3\x28moglobine", NULL };
	cr_assert_eq(run(q), 2);
	cr_assert(strstr(err, "UTF-8"), "%s", err);
	const char *np[] = { "carnet-query", "--index", home, "hemoglobine", NULL };
	cr_assert_eq(run(np), 2);
	cr_assert(strstr(err, "--patient"), "%s", err);
	const char *bp[] = { "carnet-query", "--index", home, "--patient", "a b",
			     "--profession", "10", NULL };
	cr_assert_eq(run(bp), 2);
	cr_assert(strstr(err, "patient id"), "%s", err);
	const char *bl[] = { "carnet-query", "--index", home, "--patient", "P", "--limit", "x", NULL };
	cr_assert_eq(run(bl), 2);
}

Test(cli, usage_errors_exit_2)
{
	const char *none[] = { "carnet-index", NULL };
	cr_assert_eq(run(none), 2);
	const char *unk[] = { "carnet-index", "frobnicate", NULL };
	cr_assert_eq(run(unk), 2);
	cr_assert(strstr(err, "frobnicate"), "%s", err);
	const char *nopath[] = { "carnet-index", "--index", home, "add", NULL };
	cr_assert_eq(run(nopath), 2);
	const char *badopt[] = { "carnet-query", "--nope", NULL };
	cr_assert_eq(run(badopt), 2);
	const char *help[] = { "carnet-query", "--help", NULL };
	cr_assert_eq(run(help), 0);
	cr_assert(strstr(out, "--patient"));
}

Test(cli, sync_twice_changes_nothing_the_second_time)
{
	const char *s1[] = { "carnet-index", "--index", home, "--json", "sync", th_sample(), NULL };
	cr_assert_eq(run(s1), 0, "%s", err);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_geq(json_integer_value(json_object_get(o, "added")), 40);
	json_decref(o);
	cr_assert_eq(run(s1), 0, "%s", err);
	o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "%s", out);
	cr_assert_eq(json_integer_value(json_object_get(o, "added")), 0);
	cr_assert_eq(json_integer_value(json_object_get(o, "replaced")), 0);
	cr_assert_eq(json_integer_value(json_object_get(o, "removed")), 0);
	json_decref(o);
	cr_assert(strstr(err, "did not change"), "says so: %s", err);
	const char *bad[] = { "carnet-index", "--index", home, "sync", th_path("%s/none", home), NULL };
	cr_assert_eq(run(bad), 2, "%s", err);
}

Test(cli, inputs_over_the_size_limit_are_rejected)
{
	const char *a[] = { "carnet-index", "--index", home, "--max-size", "1K", "add", th_sample(), NULL };
	cr_assert_eq(run(a), 1, "%s", err);
	cr_assert(strstr(err, "too large"), "%s", err);
	const char *b[] = { "carnet-index", "--index", home, "--max-size", "lots", "add", th_sample(), NULL };
	cr_assert_eq(run(b), 2);
}

Test(cli, mask_unmask_and_the_access_log_from_the_command_line)
{
	index_corpora();
	const char *p = patient();
	const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10",
			    "--viewer-id", "10009999999", "--json", NULL };
	cr_assert_eq(run(q), 0, "%s", err);
	json_t *first = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
	cr_assert_not_null(first, "%s", out);
	char id[128];
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(first, "id")));
	json_decref(first);

	const char *mask[] = { "carnet-index", "--index", home, "mask", id, "--from", "professionals", NULL };
	cr_assert_eq(run(mask), 0, "%s", err);
	cr_assert_eq(run(q), 0, "%s", err);
	cr_assert_null(strstr(out, id), "masked document %s still shown: %s", id, out);
	const char *unmask[] = { "carnet-index", "--index", home, "unmask", id, "--from", "professionals", NULL };
	cr_assert_eq(run(unmask), 0, "%s", err);
	cr_assert_eq(run(q), 0, "%s", err);
	cr_assert(strstr(out, id), "unmasked document %s shown again", id);
	const char *nope[] = { "carnet-index", "--index", home, "mask", "NO-SUCH-DOC", "--from", "patient", NULL };
	cr_assert_eq(run(nope), 2);
	cr_assert(strstr(err, "NO-SUCH-DOC"), "%s", err);
	const char *nofrom[] = { "carnet-index", "--index", home, "mask", id, NULL };
	cr_assert_eq(run(nofrom), 2);

	const char *log[] = { "carnet-query", "--index", home, "--access-log", "--patient", p, "--json", NULL };
	cr_assert_eq(run(log), 0, "%s", err);
	int lines = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		json_t *o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "%s", line);
		cr_assert_str_eq(json_string_value(json_object_get(o, "viewer_id")), "10009999999");
		cr_assert_str_eq(json_string_value(json_object_get(o, "profession")), "10");
		json_decref(o);
		lines++;
	}
	cr_assert_eq(lines, 3, "three searches logged");

	const char *unknown[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "99", NULL };
	cr_assert_eq(run(unknown), 3);
	cr_assert(strstr(err, "matrix"), "%s", err);
	const char *noprof[] = { "carnet-query", "--index", home, "--patient", p, NULL };
	cr_assert_eq(run(noprof), 2);
	cr_assert(strstr(err, "--profession"), "%s", err);
	const char *patient_role[] = { "carnet-query", "--index", home, "--patient", p, "--role", "patient", NULL };
	cr_assert_eq(run(patient_role), 0, "the patient needs no profession: %s", err);
}

Test(cli, rebuild_publishes_a_new_generation)
{
	index_corpora();
	const char *rb[] = { "carnet-index", "--index", home, "--json", "rebuild", th_sample(), NULL };
	cr_assert_eq(run(rb), 0, "%s", err);
	const char *st[] = { "carnet-index", "--index", home, "stats", "--json", NULL };
	cr_assert_eq(run(st), 0, "%s", err);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_eq(json_integer_value(json_object_get(o, "generation")), 2);
	cr_assert_eq(json_integer_value(json_object_get(o, "rejects")), 0,
		     "the rebuild read corpora/sample only");
	cr_assert_geq(json_integer_value(json_object_get(o, "documents")), 40);
	json_decref(o);
}

Test(cli, parallel_extraction_gives_the_same_index_as_one_thread)
{
	char one[4200], many[4200];
	snprintf(one, sizeof one, "%s-1", home);
	snprintf(many, sizeof many, "%s-4", home);
	const char *a[] = { "carnet-index", "--index", one, "--jobs", "1", "add", th_sample(), th_bad(), NULL };
	const char *b[] = { "carnet-index", "--index", many, "--jobs", "4", "--batch", "7", "add",
			    th_sample(), th_bad(), NULL };
	cr_assert_eq(run(a), 1, "%s", err);
	cr_assert_eq(run(b), 1, "%s", err);
	static char ids[16][64];
	size_t n = th_sample_patients(ids, 16);
	for (size_t i = 0; i < n; i++) {
		char *results[2];
		const char *homes[2] = { one, many };
		for (int h = 0; h < 2; h++) {
			const char *q[] = { "carnet-query", "--index", homes[h], "--patient", ids[i],
					    "--profession", "10", "--all-versions", "--json", NULL };
			cr_assert_eq(run(q), 0, "%s", err);
			results[h] = strdup(out);
		}
		cr_assert_str_eq(results[0], results[1], "patient %s", ids[i]);
		free(results[0]);
		free(results[1]);
	}
	const char *sa[] = { "carnet-index", "--index", one, "stats", "--json", NULL };
	cr_assert_eq(run(sa), 0);
	char *stats_one = strdup(out);
	const char *sb[] = { "carnet-index", "--index", many, "stats", "--json", NULL };
	cr_assert_eq(run(sb), 0);
	/* equal but for the size on disk */
	json_t *x = json_loads(stats_one, 0, NULL), *y = json_loads(out, 0, NULL);
	json_object_del(x, "size_bytes");
	json_object_del(y, "size_bytes");
	cr_assert(json_equal(x, y), "%s vs %s", stats_one, out);
	json_decref(x);
	json_decref(y);
	free(stats_one);
}

Test(cli, the_public_corpus_is_indexed_and_the_rest_rejected_with_reasons, .timeout = 120)
{
	const char *pub = th_path("%s/../shared/corpora-public", th_root());
	const char *a[] = { "carnet-index", "--index", home, "--quiet", "--json", "add", pub, NULL };
	cr_assert_eq(run(a), 1, "%s", err);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "%s", out);
	cr_assert_geq(json_integer_value(json_object_get(o, "added")), 90);
	json_decref(o);
	/* every reject says why */
	const char *rj[] = { "carnet-index", "--index", home, "rejects", NULL };
	cr_assert_eq(run(rj), 0);
	/* examples whose INS has a wrong check key, and the C-CDA examples
	 * that reuse one set id for several patients, are refused */
	cr_assert(strstr(out, "Bundle-example-td2-iti65-lot-soumission.json: INS check key 45 is "
			      "wrong (the number gives 11)"),
		  "%s", out);
	cr_assert(strstr(out, "Progress_Note.xml: document 2.16.840.1.113883.19^999022 of patient "
			      "2.16.840.1.113883.19^12345 has set id 2.16.840.1.113883.19^111199021, "
			      "which is the set of document"),
		  "%s", out);
	int rejects = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
		char *reason = strrchr(line, '\t');
		cr_assert_not_null(reason, "%s", line);
		cr_assert_gt(strlen(reason), 10, "%s", line);
		rejects++;
	}
	cr_assert_gt(rejects, 500, "value sets, code lists and others are refused");
	/* a French CDA: words of its narrative and of a coded entry; its
	 * patient has a test INS (1.2.250.1.213.1.4.10), never the production
	 * INS of the same number */
	const char *q1[] = { "carnet-query", "--index", home, "--patient", "279035121518989",
			     "--patient-system", "1.2.250.1.213.1.4.10", "--profession", "10",
			     "--json", "rétinographie", NULL };
	cr_assert_eq(run(q1), 0, "%s", err);
	cr_assert(strstr(out, "Ophtalmologie - Compte-rendu de rétinographie"), "%s", out);
	const char *q0[] = { "carnet-query", "--index", home, "--patient", "279035121518989",
			     "--profession", "10", "--json", "rétinographie", NULL };
	cr_assert_eq(run(q0), 0, "%s", err);
	cr_assert_null(strstr(out, "rétinographie"), "the production INS is another patient: %s",
		       out);
	const char *q2[] = { "carnet-query", "--index", home, "--patient",
			     "1.2.250.1.213.1.4.10^279035121518989", "--profession", "10",
			     "--json", "20035000", NULL };
	cr_assert_eq(run(q2), 0, "%s", err);
	cr_assert(strstr(out, "Historique de vaccinations"), "a SNOMED code of an entry: %s", out);
	/* a C-CDA with an embedded PDF: words only the PDF holds */
	const char *q3[] = { "carnet-query", "--index", home, "--patient",
			     "2.16.840.1.113883.4.823.1^20130607100800-McBeeID", "--profession", "10",
			     "--json", "directive", NULL };
	cr_assert_eq(run(q3), 0, "%s", err);
	cr_assert(strstr(out, "Personal Advance Care Document"), "%s", out);
	/* the French FHIR submission's INS is no INS: asking for it is a usage error */
	const char *q4[] = { "carnet-query", "--index", home, "--patient", "123456789012345",
			     "--profession", "10", "--json", NULL };
	cr_assert_eq(run(q4), 2, "%s", err);
	cr_assert(strstr(err, "INS check key 45 is wrong"), "%s", err);
}
