/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_rank.c - ranking for the professional: specialty affinity, recency,
 * explanations, facets, versions, snippets, synonyms and abbreviations,
 * spelling suggestions, query syntax and the deployer's own tables. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"
#include "rank.h"
#include "tables.h"

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

TestSuite(rank, .init = init, .fini = fini);

#define AS_OF "2026-12-01"

/* A text document of patient P: id, type, author specialty, date, text;
 * extra is more sidecar JSON (starting with a comma) or "". */
static void doc(const char *patient, const char *id, const char *type,
		const char *spec, const char *date, const char *title,
		const char *text, const char *extra)
{
	const char *p = th_path("%s/%s/%s.txt", docs, patient, id);
	th_write_str(p, text);
	char meta[2048];
	snprintf(meta, sizeof meta,
		 "{\"patient_id\":\"%s\",\"id\":\"%s\",\"type\":\"%s\",\"date\":\"%s\","
		 "\"title\":\"%s\",\"author_specialty\":\"%s\",\"confidentiality\":[\"N\"]%s}",
		 patient, id, type, date, title, spec, extra);
	th_write_str(th_path("%s.meta.json", p), meta);
}

static void open_idx(void)
{
	carnet_error err;
	th_index_dir(home, docs);
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
}

static carnet_results *ask(const char *patient, const char *specialty, const char *words,
			   unsigned flags, unsigned limit)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = patient;
	req.profession = "10";
	req.specialty = specialty;
	req.words = words;
	req.flags = flags;
	req.limit = limit;
	req.as_of = AS_OF;
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	return res;
}

static long rank_of(const carnet_results *res, const char *id)
{
	for (size_t i = 0; i < carnet_results_count(res); i++)
		if (strcmp(carnet_results_field(res, i, CARNET_FIELD_ID), id) == 0)
			return (long)i;
	return -1;
}

/* One record, seen by several specialties: cardiology, ophthalmology,
 * diabetes and general documents, all of the same day, so that only
 * affinity tells them apart. */
static void mixed_record(void)
{
	const char *d = "2026-06-01";
	doc("P", "ECHO", "70004-7", "SM04", d, "Échocardiographie transthoracique",
	    "Échocardiographie transthoracique.\nFraction d'éjection ventriculaire gauche "
	    "(FEVG) à 45 %, hypokinésie antérieure.\nConclusion : cardiopathie ischémique.\n", "");
	doc("P", "ECG", "70004-7", "SM04", d, "Électrocardiogramme",
	    "ECG de repos : rythme sinusal, fibrillation auriculaire paroxystique "
	    "non retrouvée, onde Q en antérieur.\n", "");
	doc("P", "CARDIO", "11488-4", "SM04", d, "Consultation de cardiologie",
	    "Suivi de l'insuffisance cardiaque. Angioplastie avec stent en 2021. "
	    "Troponine et NT-proBNP stables. Poursuite du bisoprolol.\n", "");
	doc("P", "OPH", "78513-9", "SM38", d, "Consultation d'ophtalmologie",
	    "Fond d'œil : rétinopathie diabétique non proliférante modérée. "
	    "Acuité visuelle 8/10 aux deux yeux. OCT maculaire sans œdème.\n", "");
	doc("P", "RETINO", "18748-4", "SM38", d, "Rétinographie",
	    "Rétinographie non mydriatique : microanévrismes, pas de néovaisseaux. "
	    "Dépistage de la rétinopathie diabétique.\n", "");
	doc("P", "DERM", "11488-4", "SM15", d, "Consultation de dermatologie",
	    "Naevus dorsal surveillé, dermatoscopie rassurante.\n", "");
}

Test(rank, a_cardiologist_and_an_ophthalmologist_see_different_first_pages)
{
	mixed_record();
	open_idx();
	carnet_results *cardio = ask("P", "SM04", NULL, 0, 3);
	carnet_results *oph = ask("P", "SM38", NULL, 0, 2);
	cr_assert_eq(carnet_results_count(cardio), 3);
	cr_assert_eq(carnet_results_count(oph), 2);
	/* the cardiologist's first page is the three cardiology documents */
	for (size_t i = 0; i < 3; i++) {
		const char *id = carnet_results_field(cardio, i, CARNET_FIELD_ID);
		cr_assert(strcmp(id, "ECHO") == 0 || strcmp(id, "ECG") == 0 ||
			  strcmp(id, "CARDIO") == 0, "cardiologist's hit %zu is %s", i, id);
	}
	/* the ophthalmologist's, the two ophthalmology ones */
	for (size_t i = 0; i < 2; i++) {
		const char *id = carnet_results_field(oph, i, CARNET_FIELD_ID);
		cr_assert(strcmp(id, "OPH") == 0 || strcmp(id, "RETINO") == 0,
			  "ophthalmologist's hit %zu is %s", i, id);
	}
	carnet_results_free(cardio);
	carnet_results_free(oph);

	/* and each ranks the other's documents below its own */
	cardio = ask("P", "SM04", NULL, 0, 20);
	oph = ask("P", "SM38", NULL, 0, 20);
	cr_assert_lt(rank_of(cardio, "ECHO"), rank_of(cardio, "OPH"));
	cr_assert_lt(rank_of(oph, "OPH"), rank_of(oph, "ECHO"));
	/* the dermatology note concerns neither: it comes after their own */
	cr_assert_gt(rank_of(cardio, "DERM"), 2);
	cr_assert_gt(rank_of(oph, "DERM"), 1);
	carnet_results_free(cardio);
	carnet_results_free(oph);
}

Test(rank, a_hit_says_why_it_is_there_and_the_parts_add_up)
{
	mixed_record();
	open_idx();
	const char *words[] = { NULL, "rétinopathie", "insuffisance cardiaque", "fevg" };
	const char *specs[] = { "SM04", "SM38", "SM54", NULL };
	size_t checked = 0;
	for (size_t w = 0; w < 4; w++)
		for (size_t s = 0; s < 4; s++) {
			carnet_results *res = ask("P", specs[s], words[w], 0, 20);
			for (size_t i = 0; i < carnet_results_count(res); i++) {
				double t = carnet_results_part(res, i, CARNET_PART_TEXT);
				double a = carnet_results_part(res, i, CARNET_PART_SPECIALTY);
				double r = carnet_results_part(res, i, CARNET_PART_RECENCY);
				cr_assert_float_eq(t + a + r, carnet_results_score(res, i), 1e-12);
				cr_assert(t >= 0 && a >= 0 && r >= 0);
				cr_assert_leq(carnet_results_score(res, i), 1.0 + 1e-12);
				double aff = carnet_results_part(res, i, CARNET_PART_AFFINITY);
				cr_assert(aff >= 0 && aff <= 1);
				if (!words[w])
					cr_assert_eq(t, 0.0, "no text part in browse mode");
				checked++;
			}
			carnet_results_free(res);
		}
	cr_assert_gt(checked, 30);
	/* the echocardiography is the cardiologist's for its type, author and words */
	carnet_results *res = ask("P", "SM04", NULL, 0, 20);
	long e = rank_of(res, "ECHO");
	cr_assert_eq(carnet_results_part(res, (size_t)e, CARNET_PART_AFFINITY_AUTHOR), 1.0);
	cr_assert_gt(carnet_results_part(res, (size_t)e, CARNET_PART_AFFINITY_CONTENT), 0.3);
	long d = rank_of(res, "DERM");
	cr_assert_eq(carnet_results_part(res, (size_t)d, CARNET_PART_AFFINITY_CONTENT), 0.0);
	carnet_results_free(res);
}

Test(rank, at_equal_text_relevance_the_newer_document_ranks_first)
{
	const char *text = "Bilan lipidique : LDL-cholestérol 1,30 g/L.\n";
	doc("P", "OLD", "11502-2", "SM03", "2021-03-01", "Bilan lipidique", text, "");
	doc("P", "NEW", "11502-2", "SM03", "2026-03-01", "Bilan lipidique", text, "");
	doc("P", "MID", "11502-2", "SM03", "2024-03-01", "Bilan lipidique", text, "");
	open_idx();
	carnet_results *res = ask("P", "SM04", "cholestérol", 0, 20);
	cr_assert_eq(carnet_results_count(res), 3);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "NEW");
	cr_assert_str_eq(carnet_results_field(res, 1, CARNET_FIELD_ID), "MID");
	cr_assert_str_eq(carnet_results_field(res, 2, CARNET_FIELD_ID), "OLD");
	cr_assert_float_eq(carnet_results_part(res, 0, CARNET_PART_TEXT),
			   carnet_results_part(res, 2, CARNET_PART_TEXT), 1e-12);
	/* a lab result fades in months, and what is left is the record's long
	 * memory (ranking.conf: 0.3 of it, three-year half-life): five years
	 * old, 0.7 x 2^(-age / 180) + 0.3 x 2^(-age / 1095), about 0.09 */
	double age = carnet_results_part(res, 2, CARNET_PART_AGE_DAYS);
	cr_assert_gt(age, 5 * 365);
	cr_assert_float_eq(carnet_results_part(res, 2, CARNET_PART_RECENCY_RAW),
			   0.7 * exp2(-age / 180) + 0.3 * exp2(-age / 1095), 1e-9);
	cr_assert_lt(carnet_results_part(res, 2, CARNET_PART_RECENCY_RAW), 0.1);
	cr_assert_eq(carnet_results_part(res, 0, CARNET_PART_HALF_LIFE_DAYS), 180.0);
	carnet_results_free(res);
}

Test(rank, the_medical_summary_never_fades_and_stays_near_the_top)
{
	doc("P", "VSM", "60591-5", "SM54", "2019-01-15", "Synthèse du dossier médical",
	    "Antécédents : HTA, diabète de type 2. Allergie : pénicilline.\n", "");
	for (int i = 0; i < 12; i++) {
		char id[16], date[16];
		snprintf(id, sizeof id, "LAB%02d", i);
		snprintf(date, sizeof date, "2026-%02d-10", 1 + i % 11);
		doc("P", id, "11502-2", "SM03", date, "Compte rendu d'examens biologiques",
		    "Glycémie à jeun 1,02 g/L.\n", "");
	}
	open_idx();
	carnet_results *res = ask("P", "SM54", NULL, 0, 20);
	long v = rank_of(res, "VSM");
	cr_assert_geq(v, 0);
	cr_assert_lt(v, 3, "a general practitioner finds the VSM in the first three, not at %ld", v);
	cr_assert_eq(carnet_results_part(res, (size_t)v, CARNET_PART_RECENCY_RAW), 1.0);
	cr_assert_eq(carnet_results_part(res, (size_t)v, CARNET_PART_HALF_LIFE_DAYS), 0.0);
	cr_assert_gt(carnet_results_part(res, (size_t)v, CARNET_PART_AGE_DAYS), 2800);
	carnet_results_free(res);
}

Test(rank, facets_count_every_hit_of_the_request_not_just_the_page)
{
	mixed_record();
	doc("P", "LAB1", "11502-2", "SM03", "2024-02-02", "Biologie", "Créatinine 9 mg/L.\n", "");
	doc("P", "LAB2", "11502-2", "SM03", "2025-02-02", "Biologie", "Créatinine 10 mg/L.\n", "");
	doc("Q", "OTHER", "11502-2", "SM03", "2025-02-02", "Biologie", "Créatinine 11 mg/L.\n", "");
	open_idx();
	carnet_results *page = ask("P", "SM04", NULL, 0, 2);
	carnet_results *all = ask("P", "SM04", NULL, 0, 1000);
	cr_assert_eq(carnet_results_count(page), 2);
	cr_assert_eq(carnet_results_total(page), 8);
	for (int f = 0; f < 3; f++) {
		carnet_facet which = (carnet_facet)f;
		cr_assert_eq(carnet_results_facet_count(page, which),
			     carnet_results_facet_count(all, which));
		uint64_t sum = 0, prev = UINT64_MAX;
		for (size_t j = 0; j < carnet_results_facet_count(page, which); j++) {
			uint64_t n;
			const char *value = carnet_results_facet(page, which, j, &n);
			cr_assert_leq(n, prev, "most frequent first");
			prev = n;
			sum += n;
			/* count it by hand over every hit */
			uint64_t by_hand = 0;
			for (size_t i = 0; i < carnet_results_count(all); i++) {
				const char *v = which == CARNET_FACET_TYPE
					? carnet_results_field(all, i, CARNET_FIELD_TYPE)
					: which == CARNET_FACET_AUTHOR_SPECIALTY
					? carnet_results_field(all, i, CARNET_FIELD_AUTHOR_SPECIALTY)
					: carnet_results_field(all, i, CARNET_FIELD_DATE);
				by_hand += which == CARNET_FACET_YEAR ? strncmp(v, value, 4) == 0
								      : strcmp(v, value) == 0;
			}
			cr_assert_eq(n, by_hand, "facet %d value %s", f, value);
		}
		cr_assert_eq(sum, 8, "facet %d covers every hit", f);
	}
	uint64_t n;
	/* three types with two documents each: ties by value */
	cr_assert_str_eq(carnet_results_facet(page, CARNET_FACET_TYPE, 0, &n), "11488-4");
	cr_assert_eq(n, 2);
	cr_assert_null(carnet_results_facet(page, CARNET_FACET_TYPE, 99, &n));
	cr_assert_eq(n, 0);
	carnet_results_free(page);
	carnet_results_free(all);

	/* with words, facets count the hits of the words */
	carnet_results *res = ask("P", "SM04", "créatinine", 0, 1);
	cr_assert_eq(carnet_results_total(res), 2);
	cr_assert_eq(carnet_results_facet_count(res, CARNET_FACET_TYPE), 1);
	cr_assert_eq(carnet_results_facet_count(res, CARNET_FACET_YEAR), 2);
	carnet_results_free(res);
}

Test(rank, only_the_newest_version_shows_unless_asked)
{
	doc("P", "R1", "11502-2", "SM03", "2025-01-10", "Biologie", "Kaliémie 5,9 mmol/L.\n",
	    ",\"set_id\":\"R\",\"version\":1");
	doc("P", "R2", "11502-2", "SM03", "2025-01-11", "Biologie (corrigé)",
	    "Kaliémie 4,1 mmol/L, prélèvement hémolysé refait.\n", ",\"set_id\":\"R\",\"version\":2");
	doc("P", "X", "11488-4", "SM54", "2025-02-01", "Consultation", "Kaliémie contrôlée.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", "kaliémie", 0, 20);
	cr_assert_eq(carnet_results_count(res), 2);
	cr_assert_eq(rank_of(res, "R1"), -1);
	cr_assert_geq(rank_of(res, "R2"), 0);
	cr_assert_eq(carnet_results_version(res, (size_t)rank_of(res, "R2")), 2);
	carnet_results_free(res);
	res = ask("P", "SM54", "kaliémie", CARNET_REQUEST_ALL_VERSIONS, 20);
	cr_assert_eq(carnet_results_count(res), 3);
	carnet_results_free(res);
	res = ask("P", "SM54", NULL, 0, 20);
	cr_assert_eq(carnet_results_total(res), 2);
	cr_assert_eq(carnet_results_facet_count(res, CARNET_FACET_TYPE), 2);
	carnet_results_free(res);
}

Test(rank, abbreviations_and_synonyms_expand_both_ways)
{
	doc("P", "LONG", "11488-4", "SM54", "2025-01-10", "Consultation",
	    "Hypertension artérielle bien contrôlée sous ramipril.\n", "");
	doc("P", "SHORT", "11488-4", "SM54", "2025-01-11", "Consultation",
	    "HTA équilibrée, pas de modification.\n", "");
	doc("P", "HBA1C", "11502-2", "SM03", "2025-01-12", "Biologie",
	    "HbA1c : 7,2 %.\n", "");
	doc("P", "GLYQ", "11502-2", "SM03", "2025-01-13", "Biologie",
	    "Hémoglobine glyquée à 6,9 %.\n", "");
	doc("P", "IDM", "11490-0", "SM04", "2025-01-14", "Lettre de sortie",
	    "Hospitalisation pour un infarctus du myocarde antérieur.\n", "");
	doc("P", "NONE", "11488-4", "SM54", "2025-01-15", "Consultation",
	    "Entorse de cheville.\n", "");
	open_idx();
	struct { const char *words; const char *a, *b; } cases[] = {
		{ "HTA", "LONG", "SHORT" },
		{ "hypertension artérielle", "LONG", "SHORT" },
		{ "hémoglobine glyquée", "HBA1C", "GLYQ" },
		{ "HbA1c", "HBA1C", "GLYQ" },
		{ "IDM", "IDM", NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		carnet_results *res = ask("P", "SM54", cases[i].words, 0, 20);
		cr_assert_geq(rank_of(res, cases[i].a), 0, "'%s' finds %s", cases[i].words, cases[i].a);
		if (cases[i].b)
			cr_assert_geq(rank_of(res, cases[i].b), 0, "'%s' finds %s",
				      cases[i].words, cases[i].b);
		cr_assert_eq(rank_of(res, "NONE"), -1);
		carnet_results_free(res);
	}
	/* in quotes, exactly these words: no synonyms */
	carnet_results *res = ask("P", "SM54", "\"HTA\"", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "SHORT");
	carnet_results_free(res);
}

Test(rank, a_deployer_adds_synonyms_in_the_index_home)
{
	doc("P", "A", "11488-4", "SM54", "2025-01-10", "Consultation",
	    "Syndrome de Zorglub confirmé.\n", "");
	th_write_str(th_path("%s/synonyms.tsv", home), "# local\nszg\tsyndrome de zorglub\n");
	open_idx();
	carnet_results *res = ask("P", "SM54", "SZG", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	carnet_results_free(res);
}

Test(rank, snippets_mark_the_matched_words_and_escape_the_rest)
{
	doc("P", "A", "11488-4", "SM54", "2025-01-10", "Consultation",
	    "Motif : contrôle.\nExamen : rien à signaler, TA 12/8 <normal> & stable.\n"
	    "Le patient décrit une douleur thoracique d'effort depuis trois semaines.\n"
	    "Conclusion : angor d'effort probable.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", "douleurs thoraciques", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	const char *s = carnet_results_snippet(res, 0);
	cr_assert(strstr(s, "<b>douleur</b>") && strstr(s, "<b>thoracique</b>"), "%s", s);
	cr_assert(strstr(s, "&lt;normal&gt; &amp;"), "%s", s);
	carnet_results_free(res);
	res = ask("P", "SM54", "douleur", CARNET_REQUEST_NO_SNIPPETS, 20);
	cr_assert_str_eq(carnet_results_snippet(res, 0), "");
	carnet_results_free(res);
	res = ask("P", "SM54", NULL, 0, 20);
	cr_assert_str_eq(carnet_results_snippet(res, 0), "");
	cr_assert_null(carnet_results_snippet(res, 5));
	carnet_results_free(res);
}

Test(rank, snippets_mark_a_word_inside_a_compound_or_after_an_article)
{
	doc("P", "A", "11488-4", "SM54", "2025-01-10", "Consultation",
	    "Bilan complémentaire par scanner thoraco-abdomino-pelvien demandé.\n"
	    "Dosage du NT-proBNP à 450 pg/mL. Arrêt de lévodopa/carbidopa.\n"
	    "Contrôle par l'Échographie cardiaque dans un mois.\n", "");
	open_idx();
	static const struct {
		const char *words, *marked;
	} cases[] = {
		{ "abdomino", "<b>thoraco-abdomino-pelvien</b>" },
		{ "probnp", "<b>NT-proBNP</b>" },
		{ "carbidopa", "<b>lévodopa/carbidopa</b>" },
		{ "echographie", "<b>l'Échographie</b>" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		carnet_results *res = ask("P", "SM54", cases[i].words, 0, 20);
		cr_assert_eq(carnet_results_count(res), 1, "%s", cases[i].words);
		const char *s = carnet_results_snippet(res, 0);
		cr_assert(strstr(s, cases[i].marked), "%s: %s", cases[i].words, s);
		carnet_results_free(res);
	}
}

Test(rank, a_misspelling_gets_a_suggestion_from_the_patients_own_record)
{
	doc("P", "A", "70004-7", "SM04", "2025-01-10", "Échographie",
	    "Échocardiographie transthoracique normale.\n", "");
	doc("Q", "B", "11488-4", "SM54", "2025-01-10", "Consultation",
	    "Traitement par bisoprolol.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM04", "echocardiografie", 0, 20);
	cr_assert_eq(carnet_results_count(res), 0);
	cr_assert_str_eq(carnet_results_suggestion(res), "echocardiographie");
	carnet_results_free(res);
	/* a word of another patient's record is never suggested */
	res = ask("P", "SM04", "bisoprolo", 0, 20);
	cr_assert_eq(carnet_results_count(res), 0);
	cr_assert_null(strstr(carnet_results_suggestion(res), "bisoprolol"));
	carnet_results_free(res);
	res = ask("Q", "SM04", "bisoprolo", 0, 20);
	cr_assert_str_eq(carnet_results_suggestion(res), "bisoprolol");
	carnet_results_free(res);
	/* no suggestion when something matched */
	res = ask("P", "SM04", "transthoracique", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_suggestion(res), "");
	carnet_results_free(res);
}

Test(rank, query_syntax_phrases_exclusion_and_required_words)
{
	doc("P", "A", "11488-4", "SM54", "2025-01-10", "Consultation",
	    "Insuffisance rénale chronique stade 3.\n", "");
	doc("P", "B", "11488-4", "SM54", "2025-01-11", "Consultation",
	    "Insuffisance cardiaque à fraction d'éjection préservée. Fonction rénale normale.\n", "");
	doc("P", "C", "11488-4", "SM54", "2025-01-12", "Consultation",
	    "Chronique d'une toux. Rhinite.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", "\"insuffisance rénale\"", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "A");
	carnet_results_free(res);
	res = ask("P", "SM54", "insuffisance -cardiaque", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "A");
	carnet_results_free(res);
	res = ask("P", "SM54", "chronique +toux", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "C");
	carnet_results_free(res);
	/* a lone exclusion browses the rest */
	res = ask("P", "SM54", "-rénale", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "C");
	carnet_results_free(res);
	/* words that hold nothing searchable find nothing */
	res = ask("P", "SM54", " \" - + ", 0, 20);
	cr_assert_eq(carnet_results_count(res), 0);
	carnet_results_free(res);
	/* a hyphen inside a word is not an exclusion */
	res = ask("P", "SM54", "stade-3", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	carnet_results_free(res);
}

Test(rank, english_documents_are_stemmed_in_english)
{
	doc("P", "EN", "11488-4", "SM54", "2025-01-10", "Consult note",
	    "Previous studies showed worsening kidney function.\n", ",\"language\":\"en-US\"");
	doc("P", "FR", "11488-4", "SM54", "2025-01-10", "Consultation",
	    "Les études précédentes montrent une aggravation.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", "study", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "EN");
	carnet_results_free(res);
	res = ask("P", "SM54", "worsened", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	carnet_results_free(res);
	res = ask("P", "SM54", "étude", 0, 20);
	cr_assert_eq(carnet_results_count(res), 1);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "FR");
	carnet_results_free(res);
}

Test(rank, filters_by_author_specialty_and_recency_counts_from_as_of)
{
	mixed_record();
	open_idx();
	carnet_request req = CARNET_REQUEST_INIT;
	const char *specs[] = { "SM38" };
	req.patient_id = "P";
	req.profession = "10";
	req.specialty = "SM04";
	req.author_specialties = specs;
	req.author_specialties_count = 1;
	req.as_of = "2026-06-01";
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_OK);
	cr_assert_eq(carnet_results_count(res), 2);
	for (size_t i = 0; i < 2; i++)
		cr_assert_str_eq(carnet_results_field(res, i, CARNET_FIELD_AUTHOR_SPECIALTY), "SM38");
	cr_assert_eq(carnet_results_part(res, 0, CARNET_PART_AGE_DAYS), 0.0);
	cr_assert_eq(carnet_results_part(res, 0, CARNET_PART_RECENCY_RAW), 1.0);
	carnet_results_free(res);
	req.as_of = "2026-13-01";
	cr_assert_eq(carnet_index_search(&res, idx, &req, NULL), CARNET_E_INVALID);
	cr_assert_null(res);
}

Test(rank, the_ranking_can_be_changed_by_file_and_by_call)
{
	const char *text = "Bilan lipidique : LDL-cholestérol 1,30 g/L, cholestérol total.\n";
	doc("P", "OLD", "11502-2", "SM03", "2021-03-01", "Bilan", text, "");
	doc("P", "NEW", "11502-2", "SM03", "2026-03-01", "Bilan", "Cholestérol.\n", "");
	th_write_str(th_path("%s/ranking.conf", home),
		     "# only the words count here\nweight.text = 1\nweight.specialty = 0\n"
		     "weight.recency = 0\n");
	open_idx();
	carnet_results *res = ask("P", "SM04", "cholestérol", 0, 20);
	cr_assert_eq(carnet_results_count(res), 2);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "OLD");
	cr_assert_eq(carnet_results_part(res, 0, CARNET_PART_RECENCY), 0.0);
	carnet_results_free(res);

	/* by call: recency alone */
	carnet_error err;
	cr_assert_eq(carnet_index_set_ranking(idx, "weight.text=0\nweight.recency = 1 # newest\n", &err),
		     CARNET_OK, "%s", err.message);
	res = ask("P", "SM04", "cholestérol", 0, 20);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "NEW");
	carnet_results_free(res);

	/* a bad line changes nothing and says which line */
	cr_assert_eq(carnet_index_set_ranking(idx, "weight.text = 1\nweight.colour = 2\n", &err),
		     CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "ranking configuration:2: unknown key weight.colour");
	cr_assert_eq(carnet_index_set_ranking(idx, "weight.text = 1.5\n", &err), CARNET_E_INVALID);
	cr_assert_eq(carnet_index_set_ranking(idx, "half_life.type.11502-2 = soon\n", &err),
		     CARNET_E_INVALID);
	res = ask("P", "SM04", "cholestérol", 0, 20);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "NEW");
	carnet_results_free(res);
}

Test(rank, a_bad_table_in_the_index_home_stops_it_from_opening_with_the_line)
{
	doc("P", "A", "11488-4", "SM54", "2025-01-10", "Consultation", "Rien.\n", "");
	th_index_dir(home, docs);
	th_write_str(th_path("%s/affinity.tsv", home),
		     "profile\tG15_10/SM04\tcardiologie\ntype\tcardiologie\t11502-2\tvery\n");
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_E_INVALID);
	char want[4200];
	snprintf(want, sizeof want, "%s/affinity.tsv:2: type<TAB>PROFILE or *<TAB>TYPE<TAB>"
		 "AFFINITY (0 to 1)", home);
	cr_assert_str_eq(err.message, want);
	th_write_str(th_path("%s/affinity.tsv", home), "type\tcardiologie\t11502-2\t0.9\n");
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
}

Test(rank, a_bad_line_in_any_table_of_the_home_is_named_by_path_and_line)
{
	/* comments and blank lines count in the numbering; '#' anywhere
	 * starts a comment */
	static const struct {
		const char *file, *text;
		size_t len; /* 0: strlen(text) */
		unsigned line;
		const char *why;
	} cases[] = {
		{ "ranking.conf", "# weights\nweight.text = 0.5 # half\n\nhalf_life.type.11502-2 = soon\n",
		  0, 4, "a half-life is a number of days (at least 1) or never" },
		{ "ranking.conf", "weight.text 0.5\n", 0, 1, "expected key = value" },
		{ "ranking.conf", "bm25.k1 = 1.2\nbm25.b = 2\n", 0, 2,
		  "value must be a number from 0 to 1" },
		{ "ranking.conf", "weight.text = 0.5\nhalf_life.colour.red = 10\n", 0, 2,
		  "half_life.default, half_life.class.CODE or half_life.type.CODE" },
		{ "affinity.tsv", "profile\tG15_10/SM04\tcardiologie\n"
		  "word\tcardiologie\t  -  \t0.5\n", 0, 2, "a keyword without a word" },
		{ "affinity.tsv", "# rules\ncolour\tred\n", 0, 2,
		  "a rule starts with profile, type, author or word" },
		{ "affinity.tsv", "profile\tG15_10/SM04\n", 0, 1, "profile<TAB>SPECIALTY<TAB>PROFILE" },
		{ "synonyms.tsv", "# local\nhta\thypertension\nszg # alone\tsyndrome\n", 0, 3,
		  "FORM<TAB>EQUIVALENT FORM[<TAB>SOURCE]" },
		{ "synonyms.tsv", "hta\thypertension\nszg\0\tzorglub\n", 30, 2, "a NUL byte" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char dir[4200], want[4400];
		snprintf(dir, sizeof dir, "%s/case%zu", home, i);
		const char *path = th_path("%s/%s", dir, cases[i].file);
		th_write(path, cases[i].text, cases[i].len ? cases[i].len : strlen(cases[i].text));
		carnet_ranking *rk = NULL;
		carnet_error err;
		cr_assert_eq(carnet_rank__load(&rk, dir, &err), CARNET_E_INVALID, "case %zu", i);
		cr_assert_null(rk);
		snprintf(want, sizeof want, "%s:%u: %s", path, cases[i].line, cases[i].why);
		cr_assert_str_eq(err.message, want, "case %zu", i);
	}
}

Test(rank, results_are_deterministic)
{
	mixed_record();
	open_idx();
	carnet_results *a = ask("P", "SM54", NULL, 0, 20), *b = ask("P", "SM54", NULL, 0, 20);
	cr_assert_eq(carnet_results_count(a), carnet_results_count(b));
	for (size_t i = 0; i < carnet_results_count(a); i++)
		cr_assert_str_eq(carnet_results_field(a, i, CARNET_FIELD_ID),
				 carnet_results_field(b, i, CARNET_FIELD_ID));
	/* equal scores break by date, then id */
	for (size_t i = 1; i < carnet_results_count(a); i++)
		if (carnet_results_score(a, i) == carnet_results_score(a, i - 1))
			cr_assert_lt(strcmp(carnet_results_field(a, i - 1, CARNET_FIELD_ID),
					    carnet_results_field(a, i, CARNET_FIELD_ID)), 0);
	carnet_results_free(a);
	carnet_results_free(b);
}

Test(rank, only_the_newest_of_a_never_fading_type_keeps_its_recency)
{
	doc("P", "VAC1", "11369-6", "SM54", "2016-05-01", "Historique des vaccinations",
	    "DTP 2016.\n", "");
	doc("P", "VAC2", "11369-6", "SM54", "2025-05-01", "Historique des vaccinations",
	    "DTP 2016, grippe 2024, covid 2025.\n", "");
	doc("P", "CS", "11488-4", "SM54", "2026-10-01", "Consultation", "Suivi.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", NULL, 0, 20);
	long new_ = rank_of(res, "VAC2"), old = rank_of(res, "VAC1");
	cr_assert_eq(carnet_results_part(res, (size_t)new_, CARNET_PART_RECENCY_RAW), 1.0);
	cr_assert_lt(carnet_results_part(res, (size_t)old, CARNET_PART_RECENCY_RAW), 0.2,
		     "the older history is superseded by the newer one");
	cr_assert_gt(carnet_results_part(res, (size_t)old, CARNET_PART_HALF_LIFE_DAYS), 0);
	cr_assert_lt(new_, old);
	carnet_results_free(res);
}

Test(rank, the_treatment_in_force_does_not_fade_until_replaced)
{
	doc("P", "RX1", "57833-6", "SM54", "2024-01-10", "Ordonnance", "Metformine 1000 mg.\n", "");
	doc("P", "RX2", "57833-6", "SM54", "2025-09-10", "Ordonnance",
	    "Metformine 1000 mg, ramipril 5 mg.\n", "");
	doc("P", "DISP", "60593-1", "G15_21", "2025-09-12", "Dispensation",
	    "Metformine 1000 mg : 3 boîtes.\n", "");
	doc("P", "CS", "11488-4", "SM54", "2026-10-01", "Consultation", "Suivi.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", NULL, 0, 20);
	long rx2 = rank_of(res, "RX2"), rx1 = rank_of(res, "RX1"), disp = rank_of(res, "DISP");
	cr_assert(rx1 >= 0 && rx2 >= 0 && disp >= 0);
	/* the newest prescription and dispensation, more than a year old, still
	 * count as new: they are what the patient takes */
	cr_assert_eq(carnet_results_part(res, (size_t)rx2, CARNET_PART_RECENCY_RAW), 1.0);
	cr_assert_eq(carnet_results_part(res, (size_t)rx2, CARNET_PART_HALF_LIFE_DAYS), 0.0);
	cr_assert_eq(carnet_results_part(res, (size_t)disp, CARNET_PART_RECENCY_RAW), 1.0);
	/* the one it replaced fades with the prescriptions' class (365 days) */
	cr_assert_eq(carnet_results_part(res, (size_t)rx1, CARNET_PART_HALF_LIFE_DAYS), 365.0);
	cr_assert_lt(carnet_results_part(res, (size_t)rx1, CARNET_PART_RECENCY_RAW), 0.3);
	cr_assert_lt(rx2, rx1);
	carnet_results_free(res);
	/* with words, the newest fades too: the words ask what was written
	 * about them, and when */
	res = ask("P", "SM54", "metformine", 0, 20);
	rx2 = rank_of(res, "RX2");
	cr_assert_eq(carnet_results_part(res, (size_t)rx2, CARNET_PART_HALF_LIFE_DAYS), 365.0);
	cr_assert_lt(carnet_results_part(res, (size_t)rx2, CARNET_PART_RECENCY_RAW), 0.6);
	carnet_results_free(res);
}

Test(rank, with_words_the_medical_summary_is_as_old_as_it_is)
{
	doc("P", "VSM", "60591-5", "SM54", "2023-01-15", "Synthèse du dossier médical",
	    "Antécédents : HTA, diabète de type 2.\n", "");
	doc("P", "CS", "11488-4", "SM54", "2026-10-01", "Consultation",
	    "HTA contrôlée sous ramipril.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", NULL, 0, 20);
	long v = rank_of(res, "VSM");
	cr_assert_eq(carnet_results_part(res, (size_t)v, CARNET_PART_RECENCY_RAW), 1.0);
	carnet_results_free(res);
	res = ask("P", "SM54", "HTA", 0, 20);
	v = rank_of(res, "VSM");
	cr_assert_geq(v, 0);
	/* the summaries' class half-life (1095 days), with the long memory */
	cr_assert_eq(carnet_results_part(res, (size_t)v, CARNET_PART_HALF_LIFE_DAYS), 1095.0);
	double age = carnet_results_part(res, (size_t)v, CARNET_PART_AGE_DAYS);
	cr_assert_float_eq(carnet_results_part(res, (size_t)v, CARNET_PART_RECENCY_RAW),
			   exp2(-age / 1095), 1e-9);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "CS",
			 "this year's letter about the words comes before a summary of four years");
	carnet_results_free(res);
}

/* A GP's record: the summary lists hypertension among every antecedent
 * and treatment (the keywords of every field, the GP's too); a letter of
 * the month before concludes about it. */
static void summary_and_letter(void)
{
	doc("P", "VSM", "60591-5", "SM54", "2026-11-02", "Synthèse médicale",
	    "Antécédents : hypertension artérielle, diabète de type 2, dyslipidémie, "
	    "obésité, insuffisance cardiaque, rétinopathie diabétique, insuffisance rénale.\n"
	    "Allergie : pénicilline. Traitement habituel : ramipril, metformine, "
	    "atorvastatine, bisoprolol. Vaccination antigrippale à jour. Médecin traitant.\n", "");
	doc("P", "CS", "11488-4", "SM54", "2026-10-05", "Consultation",
	    "Motif : suivi.\nExamen : TA 152/94 mmHg.\nConclusion : hypertension "
	    "artérielle non contrôlée, ajout d'amlodipine.\n", "");
	doc("P", "ECHO", "70004-7", "SM04", "2026-09-01", "Échocardiographie",
	    "FEVG 40 %, hypokinésie inférieure.\n", "");
}

Test(rank, a_summary_listing_the_words_comes_after_the_letter_about_them)
{
	summary_and_letter();
	open_idx();
	carnet_results *res = ask("P", "SM54", "HTA", 0, 20);
	cr_assert_eq(carnet_results_count(res), 2);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "CS",
			 "the letter that concludes about hypertension comes first");
	cr_assert_str_eq(carnet_results_field(res, 1, CARNET_FIELD_ID), "VSM");
	cr_assert_eq(carnet_results_part(res, 1, CARNET_PART_AFFINITY_CONTENT), 0.0,
		     "the summary's keywords do not make it about the GP's field");
	carnet_results_free(res);
	/* a deployer who counts a summary's keywords gets the old order back */
	carnet_error err;
	cr_assert_eq(carnet_index_set_ranking(idx, "affinity.content.type.60591-5 = 1\n", &err),
		     CARNET_OK, "%s", err.message);
	res = ask("P", "SM54", "HTA", 0, 20);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "VSM");
	cr_assert_gt(carnet_results_part(res, 0, CARNET_PART_AFFINITY_CONTENT), 0.9);
	carnet_results_free(res);
	cr_assert_eq(carnet_index_set_ranking(idx, "affinity.content.type.60591-5 = 2\n", &err),
		     CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "ranking configuration:1: value must be a number from 0 to 1");
}

Test(rank, browsing_a_gp_sees_the_newest_letter_before_the_summary)
{
	summary_and_letter();
	open_idx();
	carnet_results *res = ask("P", "SM54", NULL, 0, 20);
	cr_assert_eq(carnet_results_count(res), 3);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "CS");
	cr_assert_str_eq(carnet_results_field(res, 1, CARNET_FIELD_ID), "VSM");
	carnet_results_free(res);
}

Test(rank, the_long_memory_of_recency_is_set_in_ranking_conf)
{
	doc("P", "OLD", "11502-2", "SM03", "2018-03-01", "Bilan", "Cholestérol.\n", "");
	open_idx();
	carnet_error err;
	cr_assert_eq(carnet_index_set_ranking(idx, "recency.memory = 0\n", &err), CARNET_OK, "%s",
		     err.message);
	carnet_results *res = ask("P", "SM04", NULL, 0, 20);
	double age = carnet_results_part(res, 0, CARNET_PART_AGE_DAYS);
	cr_assert_float_eq(carnet_results_part(res, 0, CARNET_PART_RECENCY_RAW),
			   exp2(-age / 180), 1e-12, "without memory, the lab half-life alone");
	carnet_results_free(res);
	cr_assert_eq(carnet_index_set_ranking(idx, "recency.memory = 0.5\n"
					      "recency.memory_half_life = 3650\n", &err),
		     CARNET_OK, "%s", err.message);
	res = ask("P", "SM04", NULL, 0, 20);
	cr_assert_float_eq(carnet_results_part(res, 0, CARNET_PART_RECENCY_RAW),
			   0.5 * exp2(-age / 180) + 0.5 * exp2(-age / 3650), 1e-12);
	carnet_results_free(res);
	cr_assert_eq(carnet_index_set_ranking(idx, "recency.memory_half_life = 0\n", &err),
		     CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "ranking configuration:1: recency.memory_half_life must "
			 "be above 0");
	cr_assert_eq(carnet_index_set_ranking(idx, "recency.memory = 2\n", &err),
		     CARNET_E_INVALID);
}

Test(rank, words_about_another_field_bring_that_fields_documents_up)
{
	/* a general practitioner types "fond d'oeil": the ophthalmologist's
	 * fundus reports come before the GP's own letters that mention it */
	doc("P", "GP1", "11488-4", "SM54", "2026-06-01", "Consultation de médecine générale",
	    "Diabète de type 2 suivi. Fond d'œil à programmer. Tension correcte.\n", "");
	doc("P", "GP2", "11488-4", "SM54", "2026-03-01", "Consultation de médecine générale",
	    "Renouvellement. Fond d'œil fait l'an dernier.\n", "");
	doc("P", "OPH", "78513-9", "SM38", "2026-02-01", "Consultation d'ophtalmologie",
	    "Fond d'œil : rétinopathie diabétique non proliférante minime. OCT maculaire "
	    "normal. Acuité visuelle 10/10.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM54", "fond d'oeil", 0, 20);
	cr_assert_eq(carnet_results_count(res), 3);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "OPH");
	cr_assert_gt(carnet_results_part(res, 0, CARNET_PART_AFFINITY_TOPIC), 0.8);
	carnet_results_free(res);
	/* without words, the GP's own documents come first */
	res = ask("P", "SM54", NULL, 0, 20);
	cr_assert_str_eq(carnet_results_field(res, 0, CARNET_FIELD_ID), "GP1");
	cr_assert_eq(carnet_results_part(res, 0, CARNET_PART_AFFINITY_TOPIC), 0.0);
	carnet_results_free(res);
}

/* The first string of every "\t{ "CODE", ..." line of the table named
 * table in core/codes_data.h (the repository's copy of the ANS code lists,
 * made by tools/gen-codes.sh), passed to check; returns how many. */
static size_t each_code(const char *table, carnet_ranking *rk,
			void (*check)(carnet_ranking *, const char *))
{
	size_t len, n = 0;
	char *h = th_slurp(th_path("%s/core/codes_data.h", th_root()), &len);
	char *p = strstr(h, table);
	cr_assert_not_null(p, "core/codes_data.h has %s", table);
	char *end = strstr(p, "\n};");
	cr_assert_not_null(end);
	*end = '\0';
	for (p = strstr(p, "\n\t{ \""); p; p = strstr(p + 1, "\n\t{ \"")) {
		char *c = p + 5;
		char code[64];
		size_t k = strcspn(c, "\"");
		cr_assert_lt(k, sizeof code);
		memcpy(code, c, k);
		code[k] = '\0';
		check(rk, code);
		n++;
	}
	free(h);
	return n;
}

static void has_profile(carnet_ranking *rk, const char *code)
{
	carnet_viewer v;
	carnet_rank__viewer(rk, &v, code, NULL, NULL);
	cr_assert_geq(v.profile, 0, "specialty %s has a profile", code);
}

static void has_baseline(carnet_ranking *rk, const char *code)
{
	cr_assert(carnet_rank__type_covered(rk, code), "type %s has a baseline", code);
}

Test(rank, the_default_table_covers_every_specialty_and_every_dmp_type)
{
	carnet_ranking *rk;
	carnet_error err;
	cr_assert_eq(carnet_rank__load(&rk, NULL, &err), CARNET_OK, "%s", err.message);
	/* the specialties of JDV_J01 XdsAuthorSpecialty, the document types
	 * of JDV_J66 and of the type-to-class map ASS_X16 */
	cr_assert_eq(each_code("carnet_specialties[] = {", rk, has_profile), 297);
	cr_assert_gt(each_code("carnet_types[] = {", rk, has_baseline), 100);
	/* a viewer without a specialty is profiled by profession */
	carnet_viewer v;
	carnet_rank__viewer(rk, &v, NULL, "21", NULL);
	cr_assert_geq(v.profile, 0, "a pharmacist has a profile");
	carnet_rank__viewer(rk, &v, "SM04", "10", NULL);
	cr_assert_geq(v.profile, 0, "SM04 is looked up as G15_10/SM04");
	carnet_rank__free(rk);
}

Test(rank, content_affinity_keeps_its_meaning_when_a_deployer_adds_a_profile)
{
	doc("P", "A", "11488-4", "SM54", "2025-01-10", "Échocardiographie",
	    "Échocardiographie : fraction d'éjection conservée.\n", "");
	open_idx();
	carnet_results *res = ask("P", "SM04", NULL, 0, 20);
	double before = carnet_results_part(res, 0, CARNET_PART_AFFINITY_CONTENT);
	cr_assert_gt(before, 0);
	carnet_results_free(res);
	carnet_index_close(idx);
	idx = NULL;

	/* a new profile, with its own keyword; a document indexed after */
	th_write_str(th_path("%s/affinity.tsv", home),
		     "profile\tG15_10/SM99\tzorglubologie\n"
		     "word\tzorglubologie\tzorglub\t1\n"
		     "word\tcardiologie\tzorglub\t1\n");
	doc("P", "B", "11488-4", "SM54", "2025-01-11", "Consultation", "Syndrome de Zorglub.\n", "");
	open_idx();
	res = ask("P", "SM04", NULL, 0, 20);
	cr_assert_float_eq(carnet_results_part(res, (size_t)rank_of(res, "A"),
					       CARNET_PART_AFFINITY_CONTENT), before, 1e-9,
			   "an earlier document keeps its content affinity");
	cr_assert_gt(carnet_results_part(res, (size_t)rank_of(res, "B"),
					 CARNET_PART_AFFINITY_CONTENT), 0);
	carnet_results_free(res);
	res = ask("P", "SM99", NULL, 0, 20);
	cr_assert_gt(carnet_results_part(res, (size_t)rank_of(res, "B"),
					 CARNET_PART_AFFINITY_CONTENT), 0,
		     "the new profile finds its keyword in the new document");
	cr_assert_eq(carnet_results_part(res, (size_t)rank_of(res, "A"),
					 CARNET_PART_AFFINITY_CONTENT), 0.0);
	carnet_results_free(res);
}

/* Two maps hold the same keys with the same values. */
static void same_map(const carnet_strmap *a, const carnet_strmap *b, const char *what)
{
	cr_assert_eq(a->count, b->count, "%s: %zu keys, %zu", what, a->count, b->count);
	for (size_t i = 0; i < a->cap; i++) {
		if (!a->slots[i].key)
			continue;
		const char *key = carnet_strmap__key_of(a, &a->slots[i]);
		const carnet_strmap_slot *s = carnet_strmap__find(b, key);
		cr_assert(s, "%s: %s missing", what, key);
		cr_assert(s->num == a->slots[i].num && s->idx == a->slots[i].idx, "%s: %s", what, key);
	}
}

static void same_words(const char *const *a, size_t na, const char *const *b, size_t nb,
		       size_t which)
{
	cr_assert_eq(na, nb, "entry %zu", which);
	for (size_t j = 0; j < na; j++)
		cr_assert_str_eq(a[j], b[j], "entry %zu", which);
}

/* The defaults compiled in as loaded (tools/gen-tables.c) are what
 * parsing their text gives: the same parameters, maps, entries in the same
 * order with the same partners, profiles and numbered keywords. A home
 * with its own (empty) synonyms.tsv has the defaults parsed. */
Test(rank, the_compiled_in_defaults_are_the_parsed_tables)
{
	carnet_ranking *frozen, *parsed;
	carnet_error err;
	cr_assert_eq(carnet_rank__load(&frozen, NULL, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(mkdir(home, 0700), 0);
	th_write_str(th_path("%s/synonyms.tsv", home), "# none\n");
	cr_assert_eq(carnet_rank__load(&parsed, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_rank__synonyms(parsed, &err), CARNET_OK, "%s", err.message);
	cr_assert(frozen->frozen && !parsed->frozen);
	cr_assert_eq(memcmp(&frozen->p, &parsed->p, sizeof frozen->p), 0);
	same_map(&parsed->half_lives, &frozen->half_lives, "half-lives");
	same_map(&parsed->rules, &frozen->rules, "rules");
	same_map(&parsed->synonyms, &frozen->synonyms, "synonyms");
	cr_assert_eq(frozen->entries_count, parsed->entries_count);
	for (size_t i = 0; i < parsed->entries_count; i++) {
		const entry *a = parsed->entries[i], *b = frozen->entries[i];
		same_words(a->words, a->count, b->words, b->count, i);
		cr_assert_eq(a->partners_count, b->partners_count, "entry %zu", i);
		for (size_t j = 0; j < a->partners_count; j++)
			same_words(a->partners[j].words, a->partners[j].count,
				   b->partners[j].words, b->partners[j].count, i);
	}
	cr_assert_eq(frozen->profiles_count, parsed->profiles_count);
	for (size_t p = 0; p < parsed->profiles_count; p++) {
		const profile *a = &parsed->profiles[p], *b = &frozen->profiles[p];
		cr_assert_str_eq(a->name, b->name);
		cr_assert_eq(a->words_count, b->words_count, "%s", a->name);
		for (size_t j = 0; j < a->words_count; j++)
			cr_assert(a->words[j].entry == b->words[j].entry &&
				  a->words[j].weight == b->words[j].weight &&
				  a->words[j].key == b->words[j].key, "%s keyword %zu", a->name, j);
	}
	cr_assert_eq(frozen->distinct_keys, parsed->distinct_keys);
	cr_assert_eq(frozen->longest, parsed->longest);

	/* a home's ranking.conf over them changes that handle's half-lives,
	 * not the shared defaults */
	th_write_str(th_path("%s/ranking.conf", home), "half_life.type.11502-2 = 10\n");
	cr_assert_eq(unlink(th_path("%s/synonyms.tsv", home)), 0);
	carnet_ranking *own;
	cr_assert_eq(carnet_rank__load(&own, home, &err), CARNET_OK, "%s", err.message);
	cr_assert(own->frozen);
	cr_assert_float_eq(carnet_strmap__find(&own->half_lives, "t:11502-2")->num, 10, 1e-12);
	const carnet_strmap_slot *s = carnet_strmap__find(&frozen->half_lives, "t:11502-2");
	cr_assert(!s || s->num != 10, "the defaults are unchanged");
	carnet_rank__free(own);
	carnet_rank__free(frozen);
	carnet_rank__free(parsed);
}
