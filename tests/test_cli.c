/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_cli.c - end to end: both CLIs run as a user would, on a temporary
 * index built from the shipped corpora; exit codes, messages and output. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>
#include <sqlite3.h>

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
	/* a missing source is a failure (the mount is gone), not an empty one */
	const char *bad[] = { "carnet-index", "--index", home, "sync", th_path("%s/none", home), NULL };
	cr_assert_eq(run(bad), 3, "%s", err);
	cr_assert(strstr(err, th_path("%s/none", home)), "%s", err);
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

	/* 36 ambulancier: a TRE_G15 profession without a rule in the matrix */
	const char *unknown[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "36", NULL };
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

/* carnet-index add of these folders: some files refused (exit 1), at least
 * min_added documents added, every reject with its reason; returns how
 * many rejects. */
static int add_and_list_rejects(const char *const dirs[], long long min_added)
{
	const char *a[16] = { "carnet-index", "--index", home, "--quiet", "--json", "add" };
	size_t n = 6;
	for (size_t i = 0; dirs[i] && n < 15; i++)
		a[n++] = dirs[i];
	a[n] = NULL;
	cr_assert_eq(run(a), 1, "%s", err);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "%s", out);
	cr_assert_geq(json_integer_value(json_object_get(o, "added")), min_added, "%s", out);
	json_decref(o);
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
	return rejects;
}

/* A physician's query on one patient's documents finds `want` (words may
 * be NULL: browse). */
static void finds(const char *patient_id, const char *words, const char *want)
{
	const char *q[] = { "carnet-query", "--index", home, "--patient", patient_id,
			    "--profession", "10", "--json", words, NULL };
	cr_assert_eq(run(q), 0, "%s", err);
	cr_assert(strstr(out, want), "%s: %s", words ? words : "(browse)", out);
}

Test(cli, the_vendored_examples_and_our_cda_are_indexed_and_the_rest_rejected, .timeout = 120)
{
	const char *dirs[] = { th_corpus("hl7-C-CDA-Examples"), th_corpus("ihe-ITI.MHD"),
			       th_corpus("ans-IG-FHIR-PDSM4DMP-EEDS"),
			       th_path("%s/tests/data/cda", th_root()), NULL };
	cr_assert_gt(add_and_list_rejects(dirs, 15), 40,
		     "FHIR XML, fragments, bad XML and notes are refused");
	/* French CDA of ours: words of a narrative, of a coded entry, of an
	 * embedded PDF, and of a CDA wrapped in its XSL stylesheet */
	finds("1.2.250.1.213.1.4.10^257057512345637", "furosémide",
	      "Lettre de liaison à la sortie de l'établissement de santé");
	finds("1.2.250.1.213.1.4.10^257057512345637", "J07BB02", "Historique de vaccinations");
	finds("1.2.250.1.213.1.4.10^257057512345637", "nodule", "Compte rendu d'imagerie médicale");
	finds("1.2.250.1.213.1.4.10^257057512345637", "létrozole", "Programme personnalisé de soins");
	/* a C-CDA with an embedded PDF: words only the PDF holds */
	finds("2.16.840.1.113883.4.823.1^20130607100800-McBeeID", "directive",
	      "Personal Advance Care Document");
	/* the French FHIR submission's INS has a wrong check key: it is
	 * refused when indexed, and asking for it is a usage error */
	const char *q4[] = { "carnet-query", "--index", home, "--patient", "123456789012345",
			     "--profession", "10", "--json", NULL };
	cr_assert_eq(run(q4), 2, "%s", err);
	cr_assert(strstr(err, "INS check key 45 is wrong"), "%s", err);
}

Test(cli, the_public_corpus_is_indexed_and_the_rest_rejected_with_reasons, .timeout = 120)
{
	const char *dirs[] = { th_public(".", "ANS CI-SIS examples"), NULL };
	int rejects = add_and_list_rejects(dirs, 90);
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

Test(cli, the_access_log_shows_forged_lines_and_escapes_escaped)
{
	index_corpora();
	const char *p = patient();
	/* words that would forge a log line and colour the terminal */
	const char *forged = "conclusion\n2026-01-01T00:00:00.000Z  professional  FORGED\x1b[2J\xc2\x9b"
			     "\xe2\x80\xae";
	const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10",
			    forged, NULL };
	cr_assert_eq(run(q), 0, "%s", err);
	const char *refused[] = { "carnet-query", "--index", home, "--patient", p, "--profession",
				  "36", "x\ry", NULL };
	cr_assert_eq(run(refused), 3);

	const char *table[] = { "carnet-query", "--index", home, "--access-log", "--patient", p, NULL };
	cr_assert_eq(run(table), 0, "%s", err);
	int lines = 0;
	for (const char *c = out; *c; c++) {
		lines += *c == '\n';
		cr_assert(*c != '\x1b' && *c != '\r', "a control character reached the output: %s", out);
	}
	cr_assert_eq(lines, 2, "one line per request: %s", out);
	cr_assert(strstr(out, "conclusion\\n2026-01-01T"), "%s", out);
	cr_assert(strstr(out, "\\x1b[2J"), "%s", out);
	cr_assert(strstr(out, "\\u009b\\u202e"), "%s", out);
	cr_assert_null(strstr(out, "\xc2\x9b"), "no C1 control: %s", out);
	cr_assert(strstr(out, "REFUSED (access denied)"), "%s", out);

	const char *json[] = { "carnet-query", "--index", home, "--access-log", "--patient", p,
			       "--json", NULL };
	cr_assert_eq(run(json), 0, "%s", err);
	lines = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		cr_assert_null(strchr(line, '\x1b'), "%s", line);
		json_t *o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "valid JSON: %s", line);
		if (lines == 0) {
			cr_assert_eq(json_integer_value(json_object_get(o, "status")), -12);
			cr_assert_str_eq(json_string_value(json_object_get(o, "words")), "x\ry");
		} else {
			cr_assert_str_eq(json_string_value(json_object_get(o, "words")), forged,
					 "JSON keeps the words exactly");
		}
		json_decref(o);
	}
	cr_assert_eq(lines, 2);
}

Test(cli, access_log_verify_names_the_broken_row_and_archive_keeps_the_chain)
{
	index_corpora();
	const char *p = patient();
	const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10", NULL };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(run(q), 0, "%s", err);
	const char *verify[] = { "carnet-index", "--index", home, "access-log", "verify", NULL };
	cr_assert_eq(run(verify), 0, "%s", err);
	cr_assert(strstr(out, "3 rows (1 to 3), head "), "%s", out);

	const char *file = th_path("%s/2026.jsonl", th_tmpdir());
	const char *nodate[] = { "carnet-index", "--index", home, "access-log", "archive", file, NULL };
	cr_assert_eq(run(nodate), 2);
	const char *baddate[] = { "carnet-index", "--index", home, "access-log", "archive",
				  "--before", "2026-02-30x", file, NULL };
	cr_assert_eq(run(baddate), 2, "%s", err);
	const char *archive[] = { "carnet-index", "--index", home, "access-log", "archive",
				  "--before", "2999-12-31", file, NULL };
	cr_assert_eq(run(archive), 0, "%s", err);
	cr_assert(strstr(out, "archived 3 rows"), "%s", out);
	const char *check[] = { "carnet-index", "--index", home, "access-log", "verify",
				"--archive", file, NULL };
	cr_assert_eq(run(check), 0, "%s", err);
	cr_assert_eq(run(verify), 0, "%s", err);
	cr_assert(strstr(out, "1 rows (4 to 4)"), "the archive row: %s", out);
	cr_assert_eq(run(q), 0, "searches go on after an archive: %s", err);

	/* an edit of row 5, triggers dropped and put back */
	sqlite3 *db;
	cr_assert_eq(sqlite3_open(th_path("%s/access.sqlite", home), &db), SQLITE_OK);
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'access_log_no_update'",
					-1, &st, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	char *trigger = strdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	cr_assert_eq(sqlite3_exec(db, "DROP TRIGGER access_log_no_update;"
				  "UPDATE access_log SET doc_ids = '' WHERE seq = 5", NULL, NULL, NULL),
		     SQLITE_OK);
	cr_assert_eq(sqlite3_exec(db, trigger, NULL, NULL, NULL), SQLITE_OK);
	free(trigger);
	sqlite3_close(db);
	cr_assert_eq(run(verify), 3);
	cr_assert(strstr(err, "row 5"), "%s", err);
	cr_assert_eq(run(q), 3, "a search fails closed");
	cr_assert(strstr(err, "row 5"), "%s", err);
}

/* The JSON lines of an export: their count, and that each row chains to
 * the one before it (prev = the previous row's hash). */
static int chained_lines(const char *jsonl, const char *prev_hash, unsigned long long *first)
{
	int n = 0;
	char prev[80];
	snprintf(prev, sizeof prev, "%s", prev_hash);
	for (const char *line = jsonl; *line;) {
		const char *end = strchr(line, '\n');
		cr_assert(end, "a whole line");
		json_error_t je;
		json_t *o = json_loadb(line, (size_t)(end - line), 0, &je);
		cr_assert(o, "line %d: %s", n + 1, je.text);
		const char *p = json_string_value(json_object_get(o, "prev"));
		const char *h = json_string_value(json_object_get(o, "hash"));
		cr_assert(p && h);
		if (prev[0])
			cr_assert_str_eq(p, prev, "row %lld follows the one before",
					 (long long)json_integer_value(json_object_get(o, "seq")));
		if (n == 0 && first)
			*first = (unsigned long long)json_integer_value(json_object_get(o, "seq"));
		snprintf(prev, sizeof prev, "%s", h);
		json_decref(o);
		n++;
		line = end + 1;
	}
	return n;
}

Test(cli, access_log_export_copies_the_rows_after_a_row_and_keeps_them)
{
	index_corpora();
	const char *p = patient();
	const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "10", NULL };
	for (int i = 0; i < 3; i++)
		cr_assert_eq(run(q), 0, "%s", err);
	const char *all[] = { "carnet-index", "--index", home, "access-log", "export", NULL };
	cr_assert_eq(run(all), 0, "%s", err);
	unsigned long long first = 0;
	cr_assert_eq(chained_lines(out, "", &first), 3, "%s", out);
	cr_assert_eq(first, 1);
	cr_assert(strstr(err, "exported 3 rows (1 to 3)") && strstr(err, "next: --after 3"), "%s",
		  err);
	/* the next export takes what came since, and chains to the first */
	char *head = NULL;
	{
		const char *last = strrchr(out, '{');
		json_t *o = json_loads(last, 0, NULL);
		head = strdup(json_string_value(json_object_get(o, "hash")));
		json_decref(o);
	}
	for (int i = 0; i < 2; i++)
		cr_assert_eq(run(q), 0, "%s", err);
	const char *after[] = { "carnet-index", "--index", home, "access-log", "export",
				"--after", "3", NULL };
	cr_assert_eq(run(after), 0, "%s", err);
	cr_assert_eq(chained_lines(out, head, &first), 2, "%s", out);
	cr_assert_eq(first, 4);
	free(head);
	const char *verify[] = { "carnet-index", "--index", home, "access-log", "verify", NULL };
	cr_assert_eq(run(verify), 0, "%s", err);
	cr_assert(strstr(out, "5 rows (1 to 5)"), "nothing removed: %s", out);
	const char *bad[] = { "carnet-index", "--index", home, "access-log", "export", "--after",
			      "-2", NULL };
	cr_assert_eq(run(bad), 2, "%s", err);
	cr_assert(strstr(err, "--after needs"), "%s", err);
}

Test(cli, access_log_merges_the_replicas_of_a_shard_newest_first)
{
	index_corpora();
	char other[4200];
	snprintf(other, sizeof other, "%s2", home);
	const char *add[] = { "carnet-index", "--index", other, "add", th_sample(), th_bad(), NULL };
	cr_assert_eq(run(add), 1, "%s", err);
	const char *p = patient();
	/* searches answered by one replica, then the other, in turn */
	static const char *const words[] = { "alpha", "bravo", "charlie", "delta", "echo" };
	for (int i = 0; i < 5; i++) {
		const char *q[] = { "carnet-query", "--index", i % 2 ? other : home, "--patient", p,
				    "--profession", "10", words[i], NULL };
		cr_assert_eq(run(q), 0, "%s", err);
		struct timespec ts = { 0, 5000000 }; /* the log's times are in ms */
		nanosleep(&ts, NULL);
	}
	const char *merged[] = { "carnet-query", "--index", home, "--replica", other,
				 "--access-log", "--patient", p, "--json", NULL };
	cr_assert_eq(run(merged), 0, "%s", err);
	int n = 0;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), n++) {
		json_t *o = json_loads(line, 0, NULL);
		cr_assert_not_null(o, "%s", line);
		cr_assert_lt(n, 5, "%s", line);
		cr_assert_str_eq(json_string_value(json_object_get(o, "words")), words[4 - n],
				 "newest first: %s", line);
		cr_assert_str_eq(json_string_value(json_object_get(o, "replica")),
				 (4 - n) % 2 ? other : home, "%s", line);
		json_decref(o);
	}
	cr_assert_eq(n, 5, "every row of both replicas once");
	const char *table[] = { "carnet-query", "--index", home, "--replica", other,
				"--access-log", "--patient", p, NULL };
	cr_assert_eq(run(table), 0, "%s", err);
	const char *line2 = strchr(out, '\n') + 1;
	cr_assert(!strncmp(out, th_path("%s  ", home), strlen(home) + 2) &&
		  strstr(out, "echo") < line2 &&
		  !strncmp(line2, th_path("%s  ", other), strlen(other) + 2) &&
		  strstr(line2, "delta"),
		  "each line opens with its replica: %s", out);
	/* one home alone: its rows, no replica named */
	const char *one[] = { "carnet-query", "--index", other, "--access-log", "--patient", p,
			      "--json", NULL };
	cr_assert_eq(run(one), 0, "%s", err);
	cr_assert(strstr(out, "bravo") && strstr(out, "delta") && !strstr(out, "alpha") &&
		  !strstr(out, "\"replica\""), "%s", out);
	/* a replica that cannot be read: nothing printed, the replica named */
	const char *gone[] = { "carnet-query", "--index", home, "--replica", th_path("%s/none", other),
			       "--access-log", "--patient", p, NULL };
	cr_assert_eq(run(gone), 3, "%s", err);
	cr_assert(!*out && strstr(err, th_path("%s/none", other)), "%s / %s", out, err);
	const char *alone[] = { "carnet-query", "--index", home, "--replica", other, "--patient", p,
				"--profession", "10", NULL };
	cr_assert_eq(run(alone), 2, "%s", err);
	cr_assert(strstr(err, "--replica is for --access-log"), "%s", err);
}

Test(cli, sync_safety_options_are_described_checked_and_a_dry_run_changes_nothing)
{
	const char *help[] = { "carnet-index", "--help", NULL };
	cr_assert_eq(run(help), 0);
	cr_assert(strstr(out, "--max-remove") && strstr(out, "--allow-empty") &&
		  strstr(out, "--dry-run"), "%s", out);
	const char *rb[] = { "carnet-index", "--index", home, "--dry-run", "rebuild", th_sample(), NULL };
	cr_assert_eq(run(rb), 2, "%s", err);
	const char *bad[] = { "carnet-index", "--index", home, "--max-remove", "-1", "sync",
			      th_sample(), NULL };
	cr_assert_eq(run(bad), 2, "%s", err);
	const char *dry[] = { "carnet-index", "--index", home, "--json", "--dry-run", "sync",
			      th_sample(), NULL };
	cr_assert_eq(run(dry), 0, "%s", err);
	cr_assert(strstr(out, "add\t") && strstr(out, "\tDOC-P1-0001\n"), "%s", out);
	cr_assert(strstr(out, "\"dry_run\":true"), "%s", out);
	cr_assert(strstr(err, "dry run, nothing changed"), "%s", err);
	const char *st[] = { "carnet-index", "--index", home, "--json", "stats", NULL };
	cr_assert_eq(run(st), 0, "%s", err);
	json_t *o = json_loads(out, 0, NULL);
	cr_assert_not_null(o, "%s", out);
	cr_assert_eq(json_integer_value(json_object_get(o, "documents")), 0, "%s", out);
	json_decref(o);
}

/* ---- conventions: --version, --help, usage errors ---- */

Test(cli, version_prints_the_library_version)
{
	int major, minor, patch;
	carnet_version(&major, &minor, &patch);
	char want[2][64];
	snprintf(want[0], sizeof want[0], "carnet-index %d.%d.%d\n", major, minor, patch);
	snprintf(want[1], sizeof want[1], "carnet-query %d.%d.%d\n", major, minor, patch);
	const char *progs[] = { "carnet-index", "carnet-query" };
	const char *flags[] = { "--version", "-V" };
	for (int p = 0; p < 2; p++)
		for (int f = 0; f < 2; f++) {
			const char *a[] = { progs[p], flags[f], NULL };
			cr_assert_eq(run(a), 0, "%s %s: %s", progs[p], flags[f], err);
			cr_assert_str_eq(out, want[p]);
			cr_assert_str_eq(err, "");
		}
	cr_assert_str_eq(want[0], "carnet-index " CARNET_VERSION_STRING "\n");
}

Test(cli, help_lists_every_option_on_stdout)
{
	static const char *const index_opts[] = { "--index", "--jobs", "--batch", "--max-size",
						  "--pdf-timeout", "--from", "--json", "--quiet",
						  "--help", "--version", "add", "sync", "rebuild",
						  "mask", "unmask", "stats", "rejects", "help" };
	static const char *const query_opts[] = {
		"--index", "--patient", "--role", "--profession", "--specialty", "--viewer-id",
		"--emergency", "--type", "--since", "--until", "--all-versions", "--limit",
		"--offset", "--json", "--explain", "--facets", "--author-specialty", "--as-of",
		"--ranking", "--access-log", "--results", "--help", "--version"
	};
	const char *flags[] = { "--help", "-h" };
	for (int f = 0; f < 2; f++) {
		const char *a[] = { "carnet-index", flags[f], NULL };
		cr_assert_eq(run(a), 0, "%s", err);
		cr_assert_str_eq(err, "");
		for (size_t i = 0; i < sizeof index_opts / sizeof index_opts[0]; i++)
			cr_assert(strstr(out, index_opts[i]), "carnet-index %s lists %s", flags[f],
				  index_opts[i]);
		const char *q[] = { "carnet-query", flags[f], NULL };
		cr_assert_eq(run(q), 0, "%s", err);
		cr_assert_str_eq(err, "");
		for (size_t i = 0; i < sizeof query_opts / sizeof query_opts[0]; i++)
			cr_assert(strstr(out, query_opts[i]), "carnet-query %s lists %s", flags[f],
				  query_opts[i]);
	}
}

Test(cli, each_command_has_its_help)
{
	static const char *const cmds[][2] = {
		{ "add", "add PATH..." }, { "sync", "sync SOURCE_DIR" },
		{ "rebuild", "rebuild SOURCE_DIR" }, { "mask", "mask ID --from" },
		{ "unmask", "unmask ID --from" }, { "stats", "stats" }, { "rejects", "rejects" },
		{ "init", "init [--group NAME]" }, { "access-log", "access-log archive --before" },
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		const char *h[] = { "carnet-index", "help", cmds[i][0], NULL };
		cr_assert_eq(run(h), 0, "help %s: %s", cmds[i][0], err);
		cr_assert(strncmp(out, "usage: carnet-index", 19) == 0, "%s", out);
		cr_assert(strstr(out, cmds[i][1]), "help %s: %s", cmds[i][0], out);
		char *by_help = strdup(out);
		/* COMMAND --help says the same, and does nothing */
		const char *c[] = { "carnet-index", "--index", home, cmds[i][0], "--help", NULL };
		cr_assert_eq(run(c), 0, "%s --help: %s", cmds[i][0], err);
		cr_assert_str_eq(out, by_help);
		free(by_help);
	}
	/* the options of the indexing commands, --jobs among them */
	const char *h[] = { "carnet-index", "help", "sync", NULL };
	cr_assert_eq(run(h), 0);
	cr_assert(strstr(out, "--jobs") && strstr(out, "--json") && !strstr(out, "unmask"),
		  "%s", out);
	cr_assert(strstr(out, "--max-remove") && strstr(out, "--allow-empty") &&
		  strstr(out, "--dry-run") && strstr(out, "--doc-timeout"), "%s", out);
	struct stat st;
	cr_assert_neq(stat(home, &st), 0, "help created no index");
	const char *none[] = { "carnet-index", "help", "frobnicate", NULL };
	cr_assert_eq(run(none), 2);
	cr_assert(strstr(err, "frobnicate"), "%s", err);
}

Test(cli, a_usage_error_gives_its_reason_and_the_synopsis_on_stderr)
{
	static const struct { const char *argv[8]; const char *says; } cases[] = {
		{ { "carnet-index", "--bogus", "stats", NULL }, "unknown option --bogus" },
		{ { "carnet-index", "stats", "--jobs", "0", NULL }, "--jobs needs a number" },
		{ { "carnet-index", "--quiet=yes", "stats", NULL }, "option --quiet takes no value" },
		{ { "carnet-index", "stats", "--index", NULL }, "option --index needs a value" },
		{ { "carnet-index", NULL }, "no command given" },
		{ { "carnet-index", "stats", "extra", NULL }, "stats takes no arguments" },
		{ { "carnet-query", "--nope", NULL }, "unknown option --nope" },
		{ { "carnet-query", "--patient", "P", "--limit", "-1", NULL }, "--limit needs a number" },
		{ { "carnet-query", "--patient", "P", "--role", "doctor", NULL }, "unknown role 'doctor'" },
		{ { "carnet-query", "--patient", "P", "--specialty", "", NULL }, "--specialty needs" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cr_assert_eq(run(cases[i].argv), 2, "case %zu: %s", i, err);
		cr_assert_str_eq(out, "", "case %zu: nothing on stdout", i);
		const char *prog = cases[i].argv[0];
		char first[256];
		snprintf(first, sizeof first, "%s: %s", prog, cases[i].says);
		cr_assert(strncmp(err, first, strlen(first)) == 0, "case %zu: %s", i, err);
		/* the reason is one line, then the synopsis */
		const char *nl = strchr(err, '\n');
		cr_assert(nl && strncmp(nl + 1, "usage: ", 7) == 0, "case %zu: %s", i, err);
		cr_assert(strstr(err, "--help"), "case %zu points to the help: %s", i, err);
	}
}

/* ---- inputs checked ---- */

Test(cli, adding_a_path_that_does_not_exist_fails_and_creates_no_index)
{
	const char *missing = th_path("%s/does/not/exist", th_tmpdir());
	const char *a[] = { "carnet-index", "--index", home, "add", missing, NULL };
	cr_assert_eq(run(a), 3, "%s", err);
	cr_assert(strstr(err, missing) && strstr(err, "No such file"), "%s", err);
	struct stat st;
	cr_assert_neq(stat(home, &st), 0, "no index home was created");
	/* with a good path beside it: nothing is indexed either */
	const char *b[] = { "carnet-index", "--index", home, "add", th_sample(), missing, NULL };
	cr_assert_eq(run(b), 3, "%s", err);
	cr_assert_neq(stat(home, &st), 0, "no index home was created");
	/* on an existing index: nothing changes */
	const char *ok[] = { "carnet-index", "--index", home, "add", th_sample(), NULL };
	cr_assert_eq(run(ok), 0, "%s", err);
	const char *s1[] = { "carnet-index", "--index", home, "--json", "stats", NULL };
	cr_assert_eq(run(s1), 0);
	char *before = strdup(out);
	cr_assert_eq(run(b), 3, "%s", err);
	cr_assert_eq(run(s1), 0);
	cr_assert_str_eq(out, before);
	free(before);
	if (geteuid() != 0) {
		const char *locked = th_path("%s/unreadable.txt", th_tmpdir());
		th_write_str(locked, "secret");
		chmod(locked, 0);
		const char *c[] = { "carnet-index", "--index", home, "add", locked, NULL };
		cr_assert_eq(run(c), 3, "%s", err);
		cr_assert(strstr(err, locked) && strstr(err, "cannot be read"), "%s", err);
	} else {
		cr_log_info("running as root: the unreadable-path case cannot be made");
	}
}

Test(cli, a_malformed_or_unknown_specialty_or_profession_is_a_usage_error)
{
	index_corpora();
	const char *p = patient();
	static const struct { const char *prof, *spec, *says; } bad[] = {
		{ "10", "SM99", "specialty SM99 is not in the JDV_J01 list" },
		{ "10", "cardio", "specialty must be a JDV_J01 code" },
		{ "10", "SM04 SM05", "specialty must be a JDV_J01 code" },
		{ "99", NULL, "profession 99 is not a TRE_G15 profession" },
		{ "medecin", NULL, "profession must be a TRE_G15 code" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession",
				    bad[i].prof, bad[i].spec ? "--specialty" : NULL, bad[i].spec, NULL };
		cr_assert_eq(run(q), 2, "case %zu: %s", i, err);
		cr_assert_str_eq(out, "", "no \"0 of 0\" answer");
		cr_assert(strstr(err, bad[i].says), "case %zu: %s", i, err);
	}
	/* both spellings of a known specialty answer */
	const char *specs[] = { "SM04", "G15_10/SM04" };
	for (int i = 0; i < 2; i++) {
		const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession",
				    "10", "--specialty", specs[i], NULL };
		cr_assert_eq(run(q), 0, "%s: %s", specs[i], err);
		cr_assert(strstr(out, "document(s) for patient") && !strstr(out, "\n0 of 0"),
			  "%s", out);
	}
	/* a real profession with no rule is refused as before */
	const char *q[] = { "carnet-query", "--index", home, "--patient", p, "--profession", "36", NULL };
	cr_assert_eq(run(q), 3, "%s", err);
	cr_assert(strstr(err, "36") && strstr(err, "matrix"), "%s", err);
}

/* ---- the nightly record ---- */

/* stdout of an add/sync/rebuild --json: exactly one line, a JSON object. */
static json_t *the_record(void)
{
	size_t n = strlen(out);
	cr_assert(n > 0 && out[n - 1] == '\n' && strchr(out, '\n') == out + n - 1,
		  "exactly one line on stdout: \"%s\"", out);
	json_error_t je;
	json_t *o = json_loads(out, 0, &je);
	cr_assert(o && json_is_object(o), "a JSON object: %s (%s)", out, je.text);
	return o;
}

static json_int_t field_int(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_integer(v), "%s is an integer in %s", key, out);
	return json_integer_value(v);
}

static const char *field_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_string(v), "%s is a string in %s", key, out);
	return json_string_value(v);
}

/* What every record holds, whatever happened. */
static void check_common(json_t *o, const char *command, const char *status,
			 const char *t0, const char *t1)
{
	cr_assert_str_eq(field_str(o, "status"), status, "%s", out);
	cr_assert_str_eq(field_str(o, "command"), command);
	cr_assert_str_eq(field_str(o, "version"), CARNET_VERSION_STRING);
	const char *started = field_str(o, "started");
	cr_assert_eq(strlen(started), 20, "%s", started);
	cr_assert(started[4] == '-' && started[10] == 'T' && started[19] == 'Z', "%s", started);
	cr_assert(strcmp(t0, started) <= 0 && strcmp(started, t1) <= 0, "%s not in [%s, %s]",
		  started, t0, t1);
	json_t *d = json_object_get(o, "duration_s");
	cr_assert(json_is_number(d) && json_number_value(d) >= 0 && json_number_value(d) < 600,
		  "%s", out);
	char abs[PATH_MAX];
	const char *index = field_str(o, "index");
	cr_assert_eq(index[0], '/', "%s", index);
	if (realpath(home, abs))
		cr_assert_str_eq(index, abs);
	cr_assert_not_null(json_object_get(o, "generation"), "%s", out);
	cr_assert_not_null(json_object_get(o, "rejects_total"), "%s", out);
	if (strcmp(status, "failed") == 0)
		cr_assert_gt(strlen(field_str(o, "error")), 5, "%s", out);
	else
		cr_assert_null(json_object_get(o, "error"), "%s", out);
	static const char *const counts[] = { "added", "replaced", "removed", "unchanged",
					      "rejected", "new_rejects" };
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
		cr_assert_geq(field_int(o, counts[i]), 0);
}

static void utc_now(char out_[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out_, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A source directory: two documents and n_bad files without sidecar. */
static const char *make_source(int n_bad)
{
	const char *src = th_path("%s/src", th_tmpdir());
	static char path[4096];
	snprintf(path, sizeof path, "%s", src);
	th_write_doc(th_path("%s/a.txt", path), "158047511203495", "DOC-A", "2024-01-02",
		     "Compte rendu de consultation");
	th_write_doc(th_path("%s/b.txt", path), "158047511203495", "DOC-B", "2024-02-03",
		     "Ordonnance");
	for (int i = 0; i < n_bad; i++)
		th_write_str(th_path("%s/bad-%d.txt", path, i), "no sidecar here\n");
	return path;
}

Test(cli, sync_exits_1_for_new_rejects_only_and_its_record_tells_new_from_old)
{
	const char *src = make_source(2);
	const char *s[] = { "carnet-index", "--index", home, "--quiet", "--json", "sync", src, NULL };
	char t0[32], t1[32];
	utc_now(t0);
	cr_assert_eq(run(s), 1, "two new rejects: %s", err);
	utc_now(t1);
	json_t *o = the_record();
	check_common(o, "sync", "rejects", t0, t1);
	cr_assert_eq(field_int(o, "added"), 2);
	cr_assert_eq(field_int(o, "rejected"), 2);
	cr_assert_eq(field_int(o, "new_rejects"), 2);
	cr_assert_eq(field_int(o, "rejects_total"), 2);
	cr_assert_eq(field_int(o, "generation"), 1);
	json_decref(o);

	/* the same bad files the next night: on record already, exit 0 */
	utc_now(t0);
	cr_assert_eq(run(s), 0, "old rejects only: %s", err);
	utc_now(t1);
	o = the_record();
	check_common(o, "sync", "ok", t0, t1);
	cr_assert_eq(field_int(o, "unchanged"), 2);
	cr_assert_eq(field_int(o, "rejected"), 2);
	cr_assert_eq(field_int(o, "new_rejects"), 0);
	cr_assert_eq(field_int(o, "rejects_total"), 2);
	json_decref(o);

	/* a new bad file: exit 1 again, and only it is new */
	th_write_str(th_path("%s/bad-new.txt", src), "still no sidecar\n");
	cr_assert_eq(run(s), 1, "%s", err);
	o = the_record();
	check_common(o, "sync", "rejects", t0, "9999");
	cr_assert_eq(field_int(o, "rejected"), 3);
	cr_assert_eq(field_int(o, "new_rejects"), 1);
	cr_assert_eq(field_int(o, "rejects_total"), 3);
	json_decref(o);
	cr_assert_eq(run(s), 0, "%s", err);

	/* a bad file whose content changed, still bad: a new reject */
	th_write_str(th_path("%s/bad-0.txt", src), "other content, no sidecar either\n");
	cr_assert_eq(run(s), 1, "%s", err);
	o = the_record();
	cr_assert_eq(field_int(o, "new_rejects"), 1);
	json_decref(o);

	/* a bad file removed from the source: off the record, nothing new */
	remove(th_path("%s/bad-1.txt", src));
	cr_assert_eq(run(s), 0, "%s", err);
	o = the_record();
	cr_assert_eq(field_int(o, "new_rejects"), 0);
	cr_assert_eq(field_int(o, "rejects_total"), 2);
	json_decref(o);

	/* a rebuild reads the same bad files: they are not new either */
	const char *rb[] = { "carnet-index", "--index", home, "--quiet", "--json", "rebuild", src, NULL };
	cr_assert_eq(run(rb), 0, "%s", err);
	o = the_record();
	check_common(o, "rebuild", "ok", t0, "9999");
	cr_assert_eq(field_int(o, "generation"), 2);
	cr_assert_eq(field_int(o, "rejected"), 2);
	cr_assert_eq(field_int(o, "new_rejects"), 0);
	cr_assert_eq(field_int(o, "rejects_total"), 2);
	json_decref(o);

	/* add says the same */
	const char *a[] = { "carnet-index", "--index", home, "--quiet", "--json", "add", src, NULL };
	cr_assert_eq(run(a), 0, "%s", err);
	o = the_record();
	check_common(o, "add", "ok", t0, "9999");
	cr_assert_eq(field_int(o, "new_rejects"), 0);
	json_decref(o);
}

Test(cli, the_record_is_written_when_the_index_is_locked_by_another_writer)
{
	const char *src = make_source(1);
	const char *s[] = { "carnet-index", "--index", home, "--quiet", "--json", "sync", src, NULL };
	cr_assert_eq(run(s), 1, "%s", err);
	carnet_writer *w;
	carnet_error e;
	cr_assert_eq(carnet_writer_open(&w, home, &e), CARNET_OK, "%s", e.message);
	char t0[32], t1[32];
	utc_now(t0);
	cr_assert_eq(run(s), 3, "%s", err);
	utc_now(t1);
	carnet_writer_close(w);
	json_t *o = the_record();
	check_common(o, "sync", "failed", t0, t1);
	cr_assert(strstr(field_str(o, "error"), "locked"), "%s", out);
	cr_assert(strstr(err, "locked"), "and on stderr: %s", err);
	cr_assert_eq(field_int(o, "added"), 0);
	cr_assert_eq(field_int(o, "new_rejects"), 0);
	cr_assert_eq(field_int(o, "rejects_total"), 1, "what is on record: %s", out);
	cr_assert_eq(field_int(o, "generation"), 1);
	json_decref(o);
}

Test(cli, the_record_is_written_when_the_source_is_missing_or_an_option_is_bad)
{
	const char *missing = th_path("%s/mnt/gone", th_tmpdir());
	const char *s[] = { "carnet-index", "--index", home, "--quiet", "--json", "sync", missing, NULL };
	char t0[32];
	utc_now(t0);
	cr_assert_eq(run(s), 3, "%s", err);
	json_t *o = the_record();
	check_common(o, "sync", "failed", t0, "9999");
	cr_assert(strstr(field_str(o, "error"), missing), "names the source: %s", out);
	cr_assert(json_is_null(json_object_get(o, "generation")), "no index yet: %s", out);
	cr_assert(json_is_null(json_object_get(o, "rejects_total")), "%s", out);
	json_decref(o);
	struct stat st;
	cr_assert_neq(stat(home, &st), 0, "no index home was created");

	/* a bad option after the command, --json after it too */
	const char *src = make_source(0);
	const char *b[] = { "carnet-index", "--index", home, "sync", src, "--max-remove=lots",
			    "--json", NULL };
	cr_assert_eq(run(b), 2, "%s", err);
	o = the_record();
	check_common(o, "sync", "failed", t0, "9999");
	cr_assert(strstr(field_str(o, "error"), "--max-remove"), "%s", out);
	json_decref(o);
	const char *c[] = { "carnet-index", "--index", home, "--json", "rebuild", NULL };
	cr_assert_eq(run(c), 2, "%s", err);
	o = the_record();
	check_common(o, "rebuild", "failed", t0, "9999");
	json_decref(o);
	const char *d[] = { "carnet-index", "--index", home, "--json", "--jobs", "x", "add", src, NULL };
	cr_assert_eq(run(d), 2, "%s", err);
	o = the_record();
	check_common(o, "add", "failed", t0, "9999");
	cr_assert(strstr(field_str(o, "error"), "--jobs"), "%s", out);
	json_decref(o);
	cr_assert_neq(stat(home, &st), 0, "still no index home");
}

Test(cli, an_input_refused_before_it_is_read_is_not_new_the_next_night)
{
	/* a file over --max-size is refused unread (no content hash): it is
	 * recorded again each night, and still is the same reject */
	const char *src = make_source(0);
	char big[4096];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	th_write_str(th_path("%s/big.txt", src), big);
	const char *s[] = { "carnet-index", "--index", home, "--quiet", "--json", "--max-size", "2K",
			    "sync", src, NULL };
	cr_assert_eq(run(s), 1, "%s", err);
	json_t *o = the_record();
	cr_assert_eq(field_int(o, "new_rejects"), 1);
	json_decref(o);
	cr_assert_eq(run(s), 0, "%s", err);
	o = the_record();
	cr_assert_eq(field_int(o, "rejected"), 1);
	cr_assert_eq(field_int(o, "new_rejects"), 0);
	cr_assert_eq(field_int(o, "rejects_total"), 1);
	json_decref(o);
	/* refused for another reason now: new */
	const char *t[] = { "carnet-index", "--index", home, "--quiet", "--json", "--max-size", "3K",
			    "sync", src, NULL };
	cr_assert_eq(run(t), 1, "%s", err);
	o = the_record();
	cr_assert_eq(field_int(o, "new_rejects"), 1);
	json_decref(o);
}

/* The CDA and FHIR lab reports of tests/data: one patient's results. */
static void index_results(void)
{
	const char *argv[] = { "carnet-index", "--index", home, "add",
			       th_path("%s/tests/data/cda/results-cr-bio-v1.xml", th_root()),
			       th_path("%s/tests/data/cda/results-cr-bio-v2.xml", th_root()),
			       th_path("%s/tests/data/fhir/results-bundle.json", th_root()), NULL };
	cr_assert_eq(run(argv), 0, "%s", err);
}

Test(cli, results_show_each_analyte_its_latest_value_and_trend)
{
	index_results();
	const char *argv[] = { "carnet-query", "--index", home, "--patient", "257057512345637",
			       "--patient-system", "1.2.250.1.213.1.4.10", "--profession", "10",
			       "--specialty", "SM04", "--results", NULL };
	cr_assert_eq(run(argv), 0, "%s", err);
	/* the cardiologist's panel: potassium first, its latest value high,
	 * with its date, range, the previous value and a two-point trend */
	char *line = strstr(out, "Potassium");
	cr_assert_not_null(line, "%s", out);
	cr_assert_lt(line - out, strstr(out, "Glycémie") - out, "potassium before glucose:\n%s", out);
	char *end = strchr(line, '\n');
	*end = '\0';
	cr_assert(strstr(line, "5.6 mmol/L") && strstr(line, " H ") && strstr(line, "2026-03-01") &&
		  strstr(line, "[3.5-5.1]") && strstr(line, " 4.1 "), "%s", line);
	cr_assert(strstr(line, "▁█") || strstr(line, "_#"), "a rising trend: %s", line);
	*end = '\n';
	/* glucose in g/L is shown in mmol/L */
	cr_assert(strstr(out, "5.66 mmol/L"), "%s", out);

	const char *json[] = { "carnet-query", "--index", home, "--patient", "257057512345637",
			       "--patient-system", "1.2.250.1.213.1.4.10", "--profession", "10",
			       "--results", "--json", "glycémie", "2823-3", NULL };
	cr_assert_eq(run(json), 0, "%s", err);
	size_t lines = 0;
	for (char *l = strtok(out, "\n"); l; l = strtok(NULL, "\n"), lines++) {
		json_error_t je;
		json_t *o = json_loads(l, 0, &je);
		cr_assert_not_null(o, "a JSON line: %s", l);
		const char *key = json_string_value(json_object_get(o, "key"));
		cr_assert(strcmp(key, "potassium") == 0 || strcmp(key, "glucose") == 0, "%s", key);
		json_t *v0 = json_array_get(json_object_get(o, "values"), 0);
		cr_assert_not_null(json_object_get(v0, "doc_id"));
		if (strcmp(key, "glucose") == 0) {
			cr_assert_str_eq(json_string_value(json_object_get(v0, "original_unit")), "g/L");
			cr_assert_float_eq(json_real_value(json_object_get(v0, "number")), 5.662, 1e-3);
		}
		json_decref(o);
	}
	cr_assert_eq(lines, 2, "one line per analyte named");

	const char *bad[] = { "carnet-query", "--index", home, "--patient", "257057512345637",
			      "--patient-system", "1.2.250.1.213.1.4.10", "--profession", "10",
			      "--results", "fistule", NULL };
	cr_assert_eq(run(bad), 0, "a word that names no analyte is passed over: %s", err);
	cr_assert(strstr(out, "0 analytes"), "%s", out);
	cr_assert(strstr(err, "no value") && strstr(err, "analyte"), "a note says why: %s", err);
}
