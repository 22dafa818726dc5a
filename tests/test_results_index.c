/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_results_index.c - the coded results of documents (lab results) as
 * the CDA and FHIR readers find them (fixtures written for the tests in
 * tests/data, and the ANS CI-SIS CR-BIO examples when present), as the
 * document model keeps them, as stored in the index (terms and the
 * results value, through the real writer and the shim's reader), and
 * the encoding of that value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"
#include "home.h"
#include "patient.h"
#include "reader.h"
#include "results_codec.h"
#include "schema.h"
#include "xapian_shim.h"

static carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, 30, CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };

#define LOINC "2.16.840.1.113883.6.1"

/* The documents a reader emitted for one input. */
typedef struct got {
	int rc;
	size_t count;
	carnet_doc docs[4];
	carnet_error err;
} got;

static int keep(carnet_doc *doc, void *payload)
{
	got *g = payload;
	cr_assert_lt(g->count, 4);
	g->docs[g->count++] = *doc;
	carnet_doc__init(doc);
	return 0;
}

/* Read data as the file path through the reader that claims it. */
static void read_mem(got *g, const char *path, const char *data, size_t len)
{
	memset(g, 0, sizeof *g);
	carnet_input in = { path, data, len, &limits };
	const carnet_reader *r = carnet_reader__find(&in);
	cr_assert_not_null(r, "%s", path);
	g->rc = r->read(&in, keep, g, &g->err);
}

static void read_path(got *g, const char *path_arg)
{
	char path[4096];
	snprintf(path, sizeof path, "%s", path_arg);
	size_t len;
	char *data = th_slurp(path, &len);
	cr_assert_not_null(data, "%s", path);
	read_mem(g, path, data, len);
	free(data);
	cr_assert_eq(g->rc, CARNET_OK, "%s: %s", path, g->err.message);
	cr_assert_eq(g->count, 1, "%s", path);
}

static void release(got *g)
{
	for (size_t i = 0; i < g->count; i++)
		carnet_doc__clear(&g->docs[i]);
}

static const char *own(const char *rel)
{
	return th_path("%s/tests/data/%s", th_root(), rel);
}

/* A result as expected: NULL for a field that must be absent. */
typedef struct want {
	char kind;
	const char *system, *code, *display, *value, *unit, *low, *high, *interp, *date,
		*specimen;
} want;

static void expect_field(const char *got_v, const char *want_v, const char *what, const char *code)
{
	if (!want_v)
		cr_expect_null(got_v, "%s of %s: %s", what, code, got_v);
	else
		cr_expect(got_v && strcmp(got_v, want_v) == 0, "%s of %s: got %s, want %s", what,
			  code, got_v ? got_v : "(none)", want_v);
}

static void expect_result(const carnet_result *r, const want *w)
{
	cr_expect_eq(r->kind, w->kind, "kind of %s: %c", w->code, r->kind);
	expect_field(r->system, w->system, "system", w->code);
	expect_field(r->code, w->code, "code", w->code);
	expect_field(r->display, w->display, "display", w->code);
	expect_field(r->value, w->value, "value", w->code);
	expect_field(r->unit, w->unit, "unit", w->code);
	expect_field(r->low, w->low, "low", w->code);
	expect_field(r->high, w->high, "high", w->code);
	expect_field(r->interpretation, w->interp, "interpretation", w->code);
	expect_field(r->date, w->date, "date", w->code);
	expect_field(r->specimen, w->specimen, "specimen", w->code);
}

static void expect_results(const carnet_doc *d, const want *w, size_t n)
{
	cr_assert_eq(d->results_count, n, "%s: %zu results, want %zu", d->source ? d->source : d->id,
		     d->results_count, n);
	for (size_t i = 0; i < n; i++)
		expect_result(&d->results[i], &w[i]);
}

/* ---- the readers ---- */

#define BIO_DATE "2026-02-11T07:45"
static const want cr_bio_v1[] = {
	{ 'N', LOINC, "14749-6", "Glucose [Moles/Volume] Sérum/Plasma ; Numérique", "5.21",
	  "mmol/L", "3.89", "6.05", "N", BIO_DATE, NULL },
	{ 'N', LOINC, "2345-7", "Glucose [Masse/Volume] Sérum/Plasma ; Numérique", "0.94", "g/L",
	  "0.70", "1.09", NULL, BIO_DATE, NULL },
	/* no effectiveTime of its own: its organizer's */
	{ 'N', LOINC, "14682-9", "Créatinine [Moles/Volume] Sérum/Plasma ; Numérique", "88",
	  "µmol/L", "45", "90", NULL, "2026-02-11T08:00", NULL },
	{ 'N', LOINC, "2823-3", "Potassium [Moles/Volume] Sérum/Plasma ; Numérique", "5.8",
	  "mmol/L", "3.5", "5.1", "H", BIO_DATE, NULL },
	/* a local code as a translation of a code with a nullFlavor; an upper
	 * bound alone */
	{ 'T', "1.2.250.1.999.8.1", "CRP_non_LOINC", "Protéine C réactive (code local)", "<3",
	  "mg/L", NULL, NULL, "N", BIO_DATE, NULL },
	/* (a nullFlavor code without translation, a negated observation and a
	 * request are not results) */
	{ 'C', LOINC, "882-1", "Groupe sanguin ABO et Rhésus", "Groupe A Rhésus positif", NULL,
	  NULL, NULL, NULL, BIO_DATE, NULL },
	{ 'T', LOINC, "8251-1", "Commentaire [Texte libre] Sérum/Plasma",
	  "Sérum légèrement hémolysé", NULL, NULL, NULL, NULL, BIO_DATE, NULL },
	/* a PQ whose value is no number is text */
	{ 'T', LOINC, "2951-2", "Sodium [Moles/Volume] Sérum/Plasma ; Numérique", "abc", "mmol/L",
	  NULL, NULL, NULL, BIO_DATE, NULL },
	/* the microbiology organizer: its date and specimen */
	{ 'C', LOINC, "630-4", "Bactérie identifiée [Identification] Urine ; Résultat nominal ; Culture",
	  "Escherichia coli", NULL, NULL, NULL, NULL, "2026-02-12", "Urine" },
	{ 'N', LOINC, "18862-3", "Amoxicilline [Sensibilité] Isolat ; Résultat nominal ; CMI", "8",
	  "mg/L", NULL, NULL, "R", "2026-02-12", "Urine" },
	/* a coded value given by its originalText's reference to the narrative */
	{ 'C', LOINC, "20629-2", "Lévofloxacine [Sensibilité] Isolat ; Résultat nominal", "Sensible",
	  NULL, NULL, NULL, "S", "2026-02-12", "Urine" },
	/* (the type of the attached PDF, 69764-9, is not a result) */
};

Test(results, cda_lab_report_results_with_every_field)
{
	got g;
	read_path(&g, own("cda/results-cr-bio-v1.xml"));
	expect_results(&g.docs[0], cr_bio_v1, sizeof cr_bio_v1 / sizeof cr_bio_v1[0]);
	/* the rest of the document is read as before */
	cr_expect_str_eq(g.docs[0].id, "1.2.250.1.999.7.31.1");
	cr_expect_str_eq(g.docs[0].type, "11502-2");
	release(&g);
}

Test(results, cda_second_version_has_its_own_values)
{
	got g;
	read_path(&g, own("cda/results-cr-bio-v2.xml"));
	const carnet_doc *d = &g.docs[0];
	cr_assert_eq(d->results_count, 11);
	expect_result(&d->results[0], &(want){ 'N', LOINC, "14749-6", cr_bio_v1[0].display, "6.02",
					       "mmol/L", "3.89", "6.05", "N", BIO_DATE, NULL });
	expect_result(&d->results[3], &(want){ 'N', LOINC, "2823-3", cr_bio_v1[3].display, "4.1",
					       "mmol/L", "3.5", "5.1", "N", BIO_DATE, NULL });
	cr_expect_str_eq(d->replaces, "1.2.250.1.999.7.31.1");
	release(&g);
}

/* An observation written in the tests: a CDA around entry (an XML string). */
static void read_cda_entry(got *g, const char *entry)
{
	static char xml[16384];
	cr_assert_lt((size_t)snprintf(xml, sizeof xml,
			      "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
			      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
			      "<id root=\"1.2.3.4\"/><effectiveTime value=\"20250101\"/>"
			      "<recordTarget><patientRole><id root=\"1.2.250.1.999.3.1\" "
			      "extension=\"P-1\"/></patientRole></recordTarget>"
			      "<component><structuredBody><component><section><title>R</title>"
			      "<text>r</text><entry>%s</entry></section></component>"
			      "</structuredBody></component></ClinicalDocument>",
			      entry), sizeof xml);
	read_mem(g, "mem.xml", xml, strlen(xml));
	cr_assert_eq(g->rc, CARNET_OK, "%s", g->err.message);
	cr_assert_eq(g->count, 1);
}

Test(results, cda_observation_shapes)
{
	got g;
	/* no date anywhere: the document's; INT; a second, non-REFV range
	 * after the REFV one is not taken */
	read_cda_entry(&g, "<observation classCode=\"OBS\" moodCode=\"EVN\">"
			   "<code code=\"X-1\" codeSystem=\"1.2.3\"/>"
			   "<value xsi:type=\"INT\" value=\"42\"/>"
			   "<referenceRange><observationRange><value xsi:type=\"IVL_PQ\">"
			   "<low value=\"10\"/><high value=\"50\"/></value></observationRange>"
			   "</referenceRange><referenceRange typeCode=\"OTH\"><observationRange>"
			   "<value xsi:type=\"IVL_PQ\"><low value=\"0\"/></value></observationRange>"
			   "</referenceRange></observation>");
	expect_results(&g.docs[0], &(want){ 'N', "1.2.3", "X-1", NULL, "42", NULL, "10", "50",
					    NULL, "2025-01-01", NULL }, 1);
	release(&g);
	/* a namespace prefix on the xsi:type; an interval with both bounds,
	 * a value of another type (BL) and a value-less PQ are no results */
	read_cda_entry(&g, "<organizer classCode=\"BATTERY\" moodCode=\"EVN\">"
			   "<component><observation classCode=\"OBS\" moodCode=\"EVN\">"
			   "<code code=\"X-2\" codeSystem=\"1.2.3\"/>"
			   "<effectiveTime><low value=\"202502031015\"/></effectiveTime>"
			   "<value xsi:type=\"hl7:REAL\" xmlns:hl7=\"urn:hl7-org:v3\" value=\"1e3\"/>"
			   "</observation></component>"
			   "<component><observation classCode=\"OBS\" moodCode=\"EVN\">"
			   "<code code=\"X-3\" codeSystem=\"1.2.3\"/><value xsi:type=\"IVL_PQ\">"
			   "<low value=\"1\"/><high value=\"2\"/></value></observation></component>"
			   "<component><observation classCode=\"OBS\" moodCode=\"EVN\">"
			   "<code code=\"X-4\" codeSystem=\"1.2.3\"/><value xsi:type=\"BL\" "
			   "value=\"true\"/></observation></component>"
			   "<component><observation classCode=\"OBS\" moodCode=\"EVN\">"
			   "<code code=\"X-5\" codeSystem=\"1.2.3\"/><value xsi:type=\"PQ\" "
			   "nullFlavor=\"NI\"/></observation></component></organizer>");
	expect_results(&g.docs[0], &(want){ 'N', "1.2.3", "X-2", NULL, "1e3", NULL, NULL, NULL,
					    NULL, "2025-02-03T10:15", NULL }, 1);
	release(&g);
}

Test(results, cda_hostile_values_are_bounded)
{
	got g;
	char big[3000], entry[4000];
	memset(big, 'A', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* a code with a blank, and a code longer than 64 bytes, are no codes */
	snprintf(entry, sizeof entry,
		 "<observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"A B\"/>"
		 "<value xsi:type=\"ST\">x</value></observation>"
		 "<observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"%.65s\"/>"
		 "<value xsi:type=\"ST\">x</value></observation>"
		 "<observation classCode=\"OBS\" moodCode=\"EVN\"><code code=\"Z\" "
		 "displayName=\"%.300s\" codeSystem=\"%.100s\"/>"
		 "<value xsi:type=\"ST\">ligne&#9;1&#10;%.300s</value></observation>",
		 big, big, big, big);
	read_cda_entry(&g, entry);
	const carnet_doc *d = &g.docs[0];
	cr_assert_eq(d->results_count, 1);
	const carnet_result *r = &d->results[0];
	cr_expect_str_eq(r->code, "Z");
	cr_expect_eq(strlen(r->display), CARNET_RESULT_TEXT_MAX);
	cr_expect_eq(strlen(r->system), CARNET_RESULT_CODE_MAX);
	cr_expect_eq(strlen(r->value), CARNET_RESULT_TEXT_MAX);
	cr_expect_eq(strncmp(r->value, "ligne 1 AAA", 11), 0, "%s", r->value);
	release(&g);
}

static const want fhir_bundle[] = {
	/* LOINC preferred to the first (local) coding; the UCUM code */
	{ 'N', LOINC, "2345-7", "Glucose [Masse/Volume] Sérum/Plasma ; Numérique", "1.02", "g/L",
	  "0.7", "1.1", "N", "2026-03-01T07:30", "Sérum" },
	{ 'N', LOINC, "2823-3", "Potassium [Moles/Volume] Sérum/Plasma ; Numérique", "5.6",
	  "mmol/L", "3.5", "5.1", "H", "2026-03-01T07:30", NULL },
	{ 'C', LOINC, "882-1", "Groupe sanguin ABO et Rhésus", "Groupe A Rhésus positif", NULL,
	  NULL, NULL, NULL, "2026-03-01T10:12", NULL },
	{ 'T', "1.2.250.1.999.8.1", "COMM", NULL, "Prélèvement hémolysé", NULL, NULL, NULL, NULL,
	  "2026-03-02", NULL },
	/* (entered in error, without value, another patient's: none) */
	{ 'N', LOINC, "14682-9", NULL, "71", "µmol/L", NULL, NULL, NULL, "2026-03-02", NULL },
	/* a bound is text */
	{ 'T', LOINC, "1988-5", NULL, "<0.5", "mg/L", NULL, NULL, NULL, "2026-03-02", NULL },
};

Test(results, fhir_document_bundle_observations)
{
	got g;
	read_path(&g, own("fhir/results-bundle.json"));
	expect_results(&g.docs[0], fhir_bundle, sizeof fhir_bundle / sizeof fhir_bundle[0]);
	cr_expect_str_eq(g.docs[0].id, "1.2.250.1.999.7.41.1");
	release(&g);
}

/* A transaction Bundle of n DocumentReferences and one Observation. */
static void read_docref_bundle(got *g, int n)
{
	char docrefs[2000] = "";
	for (int i = 0; i < n; i++)
		snprintf(docrefs + strlen(docrefs), sizeof docrefs - strlen(docrefs),
			 "{\"resource\":{\"resourceType\":\"DocumentReference\",\"id\":\"d%d\","
			 "\"subject\":{\"identifier\":{\"system\":\"urn:oid:1.2.250.1.999.3.1\","
			 "\"value\":\"P-1\"}},\"date\":\"2025-05-06\",\"content\":[{\"attachment\":"
			 "{\"contentType\":\"text/plain\",\"data\":\"Ym9uam91cg==\"}}]}},", i);
	static char json[4096];
	cr_assert_lt((size_t)snprintf(json, sizeof json,
			      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[%s"
			      "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\","
			      "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"718-7\","
			      "\"display\":\"Hémoglobine\"}]},\"valueQuantity\":{\"value\":13,"
			      "\"unit\":\"g/dL\"}}}]}", docrefs), sizeof json);
	read_mem(g, "mem.json", json, strlen(json));
	cr_assert_eq(g->rc, CARNET_OK, "%s", g->err.message);
	cr_assert_eq(g->count, (size_t)n);
}

Test(results, fhir_observations_beside_one_document_reference_only)
{
	got g;
	read_docref_bundle(&g, 1);
	expect_results(&g.docs[0], &(want){ 'N', LOINC, "718-7", "Hémoglobine", "13", "g/dL", NULL,
					    NULL, NULL, "2025-05-06", NULL }, 1);
	release(&g);
	/* beside two, they are neither's */
	read_docref_bundle(&g, 2);
	cr_expect_eq(g.docs[0].results_count, 0);
	cr_expect_eq(g.docs[1].results_count, 0);
	release(&g);
}

/* ---- the document model ---- */

/* A result of literals (the encoder only reads them). */
static carnet_result lit(char kind, const char *system, const char *code, const char *display,
			 const char *value, const char *unit, const char *date)
{
	carnet_result r = { 0 };
	r.kind = kind;
	r.system = (char *)system;
	r.code = (char *)code;
	r.display = (char *)display;
	r.value = (char *)value;
	r.unit = (char *)unit;
	r.date = (char *)date;
	return r;
}

Test(results, add_result_makes_values_safe)
{
	carnet_doc d;
	carnet_doc__init(&d);
	carnet_result r = lit('N', NULL, "C\x01", NULL, NULL, NULL, NULL);
	cr_assert_eq(carnet_doc__add_result(&d, &r), 0);
	cr_expect_eq(d.results_count, 0, "a control character in a code");
	r.code = (char *)"";
	cr_assert_eq(carnet_doc__add_result(&d, &r), 0);
	r.code = (char *)"C1";
	r.kind = 'Q';
	cr_assert_eq(carnet_doc__add_result(&d, &r), 0);
	cr_expect_eq(d.results_count, 0, "an empty code, an unknown kind");
	struct { const char *in, *out; char kind; } nums[] = {
		{ " 5,21 ", "5.21", 'N' }, { "-0.5", "-0.5", 'N' }, { "+12", "+12", 'N' },
		{ "1.5E-3", "1.5E-3", 'N' }, { ".5", ".5", 'N' }, { "1,234.5", "1,234.5", 'T' },
		{ "1e", "1e", 'T' }, { ".", ".", 'T' }, { "12 mg", "12 mg", 'T' },
		{ "a\x1e" "b\x1f" "c\n", "a b c", 'T' },
	};
	r.kind = 'N';
	for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
		r.value = (char *)nums[i].in;
		cr_assert_eq(carnet_doc__add_result(&d, &r), 0);
		cr_assert_eq(d.results_count, i + 1);
		cr_expect_str_eq(d.results[i].value, nums[i].out);
		cr_expect_eq(d.results[i].kind, nums[i].kind, "%s", nums[i].in);
	}
	r.value = NULL;
	cr_assert_eq(carnet_doc__add_result(&d, &r), 0);
	cr_expect_eq(d.results[d.results_count - 1].kind, 'T', "a number without a value");
	/* at most CARNET_RESULTS_MAX per document */
	r.value = (char *)"1";
	while (d.results_count < CARNET_RESULTS_MAX)
		cr_assert_eq(carnet_doc__add_result(&d, &r), 0);
	cr_assert_eq(carnet_doc__add_result(&d, &r), 0);
	cr_expect_eq(d.results_count, CARNET_RESULTS_MAX);
	carnet_doc__clear(&d);
	cr_expect_eq(d.results_count, 0);
}

/* ---- the encoding of the results value ---- */


typedef struct decoded {
	size_t count;
	carnet_buf text; /* each result's fields joined by '|', one a line */
	size_t stop_at;  /* stop (returning 7) at this result, 0: never */
} decoded;

static int on_result(const carnet_result *r, void *payload)
{
	decoded *d = payload;
	const char *f[] = { r->system, r->code, r->display, r->value, r->unit, r->low, r->high,
			    r->interpretation, r->date, r->specimen };
	carnet_buf__putc(&d->text, r->kind);
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		carnet_buf__printf(&d->text, "|%s", f[i] ? f[i] : "-");
	carnet_buf__putc(&d->text, '\n');
	return ++d->count == d->stop_at ? 7 : 0;
}

Test(results, codec_round_trip)
{
	carnet_result r[3] = {
		lit('N', LOINC, "2823-3", "Potassium", "5.8", "mmol/L", "2026-02-11T07:45"),
		lit('T', NULL, "X", "a\x1e" "b", "c\x1f" "d", NULL, NULL),
		lit('C', "1.2", "Y", NULL, "oui", NULL, "2026-01-01"),
	};
	r[0].low = (char *)"3.5";
	r[0].high = (char *)"5.1";
	r[0].interpretation = (char *)"H";
	r[0].specimen = (char *)"Sérum";
	carnet_buf b = CARNET_BUF_INIT;
	cr_assert_eq(carnet_results__encode(&b, r, 3), 0);
	size_t rs = 0, us = 0;
	for (size_t i = 0; i < b.len; i++)
		rs += b.data[i] == CARNET_RESULTS_RS, us += b.data[i] == CARNET_RESULTS_US;
	cr_expect_eq(rs, 2);
	cr_expect_eq(us, 3 * (CARNET_RESULTS_FIELDS - 1));
	decoded d = { 0, CARNET_BUF_INIT, 0 };
	cr_assert_eq(carnet_results__decode(b.data, b.len, on_result, &d), 0);
	cr_expect_str_eq(d.text.data,
			 "N|" LOINC "|2823-3|Potassium|5.8|mmol/L|3.5|5.1|H|2026-02-11T07:45|Sérum\n"
			 "T|-|X|a b|c d|-|-|-|-|-|-\n"
			 "C|1.2|Y|-|oui|-|-|-|-|2026-01-01|-\n");
	/* a non-zero return stops and is returned */
	decoded s = { 0, CARNET_BUF_INIT, 2 };
	cr_expect_eq(carnet_results__decode(b.data, b.len, on_result, &s), 7);
	cr_expect_eq(s.count, 2);
	carnet_buf__free(&s.text);
	carnet_buf__free(&d.text);
	carnet_buf__free(&b);
}

Test(results, codec_survives_damage)
{
	carnet_result r[2] = {
		lit('N', LOINC, "2823-3", "Potassium", "5.8", "mmol/L", "2026-02-11"),
		lit('N', LOINC, "718-7", NULL, "13", "g/dL", "2026-02-11"),
	};
	carnet_buf b = CARNET_BUF_INIT;
	cr_assert_eq(carnet_results__encode(&b, r, 2), 0);
	/* every truncation: a cut record is dropped (a cut inside its last
	 * field keeps it, shorter), the one before it stays */
	for (size_t len = 0; len <= b.len; len++) {
		char *copy = malloc(len ? len : 1); /* exactly len bytes: ASan sees overreads */
		memcpy(copy, b.data, len);
		decoded d = { 0, CARNET_BUF_INIT, 0 };
		cr_assert_eq(carnet_results__decode(copy, len, on_result, &d), 0);
		cr_assert_leq(d.count, 2);
		free(copy);
		carnet_buf__free(&d.text);
	}
	/* records with too few or too many fields, an empty code, a kind that
	 * is not one letter, NULs and bare separators are skipped */
	static const char bad[] = "N\x1f" "1\x1f" "2\x1e"
				  "N\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1e"
				  "N\x1f" "s\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1e"
				  "NN\x1f" "s\x1f" "c\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1e"
				  "N\x1f" "s\x1f" "c\0\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1f\x1e"
				  "\x1e\x1f\x1e"
				  "C\x1f" "s\x1f" "ok\x1f\x1f" "v\x1f\x1f\x1f\x1f\x1f\x1f";
	decoded d = { 0, CARNET_BUF_INIT, 0 };
	cr_assert_eq(carnet_results__decode(bad, sizeof bad - 1, on_result, &d), 0);
	cr_expect_eq(d.count, 1);
	cr_expect_str_eq(d.text.data, "C|s|ok|-|v|-|-|-|-|-|-\n");
	carnet_buf__free(&d.text);
	/* random bytes */
	srand(15);
	for (int round = 0; round < 200; round++) {
		size_t len = (size_t)(rand() % 300);
		char *junk = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			junk[i] = "N\x1f\x1e" "a\0"[rand() % 5];
		decoded j = { 0, CARNET_BUF_INIT, 0 };
		cr_assert_eq(carnet_results__decode(junk, len, on_result, &j), 0);
		free(junk);
		carnet_buf__free(&j.text);
	}
	cr_expect_eq(carnet_results__decode(NULL, 0, on_result, &d), 0);
	carnet_buf__free(&b);
}

/* ---- in the index ---- */

/* What a search of the index found: each document's id and its results
 * value as decoded, in docid order. */
typedef struct found {
	carnet_xreader *r;
	size_t count;
	char ids[8][CARNET_ID_MAX + 1];
	decoded results[8];
} found;

static int on_doc(unsigned docid, double text, uint64_t alts, const char *rank, size_t len,
		  void *payload)
{
	(void)alts;
	(void)text;
	(void)rank;
	(void)len;
	found *f = payload;
	cr_assert_lt(f->count, 8);
	char *rec, *res;
	size_t rl, vl;
	carnet_error err;
	cr_assert_eq(carnet_xap_reader_data(f->r, docid, CARNET_SLOT_RECORD, &rec, &rl, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_xap_reader_data(f->r, docid, CARNET_SLOT_RESULTS, &res, &vl, &err),
		     CARNET_OK, "%s", err.message);
	char *fields[CARNET_REC_COUNT];
	carnet_doc__decode_record(rec, fields);
	snprintf(f->ids[f->count], sizeof f->ids[0], "%s", fields[CARNET_REC_ID]);
	decoded *d = &f->results[f->count++];
	memset(d, 0, sizeof *d);
	cr_assert_eq(carnet_results__decode(res, vl, on_result, d), 0);
	free(rec);
	free(res);
	return 0;
}

/* The documents of index home `home` having every term of must. */
static void search(found *f, const char *home, const char *const *must, size_t n)
{
	char gen[4096], xdir[4200];
	carnet_error err;
	cr_assert_eq(carnet_home__current(gen, sizeof gen, home, &err), CARNET_OK, "%s",
		     err.message);
	snprintf(xdir, sizeof xdir, "%s/" CARNET_XAPIAN_DIR, gen);
	memset(f, 0, sizeof *f);
	cr_assert_eq(carnet_xap_reader_open(&f->r, xdir, &err), CARNET_OK, "%s", err.message);
	carnet_xsearch q;
	memset(&q, 0, sizeof q);
	q.must = must;
	q.must_count = n;
	carnet_xrank rk = { NULL, 0, 0.9, 0.4, 0 };
	cr_assert_eq(carnet_xap_reader_candidates(f->r, &q, &rk, on_doc, f, &err), CARNET_OK,
		     "%s", err.message);
	carnet_xap_reader_free(f->r);
}

static void found_free(found *f)
{
	for (size_t i = 0; i < f->count; i++)
		carnet_buf__free(&f->results[i].text);
}

/* The ids found for must, as "id id ...". */
static const char *ids_of(const char *home, const char *const *must, size_t n)
{
	static char out[1024];
	found f;
	search(&f, home, must, n);
	out[0] = '\0';
	for (size_t i = 0; i < f.count; i++)
		snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? " " : "", f.ids[i]);
	found_free(&f);
	return out;
}

static void copy_file(const char *from_arg, const char *to)
{
	char from[4096];
	snprintf(from, sizeof from, "%s", from_arg);
	size_t len;
	char *data = th_slurp(from, &len);
	cr_assert_not_null(data, "%s", from);
	th_write(to, data, len);
	free(data);
}

static void add_commit(carnet_writer *w, const char *const *paths, size_t n)
{
	carnet_error err;
	for (size_t i = 0; i < n; i++) {
		carnet_outcome o;
		cr_assert_eq(carnet_writer_add_file(w, paths[i], &o, &err), CARNET_OK, "%s: %s",
			     paths[i], err.message);
	}
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
}

/* The results value of the one document found for must, as decoded. */
static char *results_of(const char *home, const char *must0, const char *must1)
{
	const char *must[] = { must0, must1 };
	found f;
	search(&f, home, must, must1 ? 2 : 1);
	cr_assert_eq(f.count, 1, "%s %s: %zu documents", must0, must1 ? must1 : "", f.count);
	char *text = carnet_buf__detach(&f.results[0].text);
	found_free(&f);
	return text;
}

#define V1 "1.2.250.1.999.7.31.1"
#define V2 "1.2.250.1.999.7.31.2"
#define FHIR_DOC "1.2.250.1.999.7.41.1"
#define XR_K CARNET_PREFIX_RESULT LOINC "|2823-3"

Test(results, stored_with_each_document_version)
{
	const char *tmp = th_tmpdir();
	char home[4096], docs[4096];
	snprintf(home, sizeof home, "%s/idx", tmp);
	snprintf(docs, sizeof docs, "%s/docs", tmp);
	const char *v1 = strdup(th_path("%s/a/cr-v1.xml", docs));
	const char *v2 = strdup(th_path("%s/b/cr-v2.xml", docs));
	const char *fh = strdup(th_path("%s/c/bundle.json", docs));
	copy_file(own("cda/results-cr-bio-v1.xml"), v1);
	copy_file(own("cda/results-cr-bio-v2.xml"), v2);
	copy_file(own("fhir/results-bundle.json"), fh);
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	const char *all[] = { v1, v2, fh };
	add_commit(w, all, 3);

	const char *has[] = { CARNET_TERM_HAS_RESULTS };
	cr_expect_str_eq(ids_of(home, has, 1), V1 " " V2 " " FHIR_DOC);
	/* a term per code, its system first: the local code and its system */
	const char *crp[] = { CARNET_PREFIX_RESULT "1.2.250.1.999.8.1|CRP_non_LOINC" };
	cr_expect_str_eq(ids_of(home, crp, 1), V1 " " V2);
	const char *k[] = { XR_K };
	cr_expect_str_eq(ids_of(home, k, 1), V1 " " V2 " " FHIR_DOC);
	const char *skipped[] = { CARNET_PREFIX_RESULT LOINC "|69764-9" };
	cr_expect_str_eq(ids_of(home, skipped, 1), "");
	/* the newest version of the set carries the patient's latest term:
	 * searching with it, the replaced version's results are gone */
	char key[CARNET_ID_MAX + 1], why[160], latest[CARNET_ID_MAX + 8];
	cr_assert_eq(carnet_patient__key(key, "1.2.250.1.213.1.4.10", "257057512345637", why,
					 sizeof why), 0, "%s", why);
	snprintf(latest, sizeof latest, CARNET_PREFIX_LATEST "%s", key);
	const char *k_latest[] = { XR_K, latest };
	cr_expect_str_eq(ids_of(home, k_latest, 2), V2 " " FHIR_DOC);

	/* the value holds what the reader found, field by field */
	got g;
	read_path(&g, own("cda/results-cr-bio-v2.xml"));
	decoded want_v2 = { 0, CARNET_BUF_INIT, 0 };
	for (size_t i = 0; i < g.docs[0].results_count; i++)
		on_result(&g.docs[0].results[i], &want_v2);
	release(&g);
	char *v2_results = results_of(home, CARNET_PREFIX_ID V2, NULL);
	cr_expect_str_eq(v2_results, want_v2.text.data);
	cr_expect_not_null(strstr(v2_results, "N|" LOINC "|2823-3|Potassium [Moles/Volume] "
					      "Sérum/Plasma ; Numérique|4.1|mmol/L|3.5|5.1|N|"));
	free(v2_results);
	carnet_buf__free(&want_v2.text);
	/* a FHIR result without a date of its own has the document's */
	char *fr = results_of(home, CARNET_PREFIX_ID FHIR_DOC, NULL);
	cr_expect_not_null(strstr(fr, "T|1.2.250.1.999.8.1|COMM|-|Prélèvement hémolysé|-|-|-|-|"
				      "2026-03-02|-\n"), "%s", fr);
	free(fr);

	/* the file of the first version now holds the second (a later run):
	 * the first version and its results leave the index */
	carnet_writer_close(w);
	copy_file(own("cda/results-cr-bio-v2.xml"), v1);
	unlink(v2);
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	const char *again[] = { v1, fh };
	add_commit(w, again, 2);
	cr_assert_eq(carnet_writer_remove_unseen(w, docs, NULL, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
	cr_expect_str_eq(ids_of(home, has, 1), V2 " " FHIR_DOC);
	const char *v1_term[] = { CARNET_PREFIX_ID V1 };
	cr_expect_str_eq(ids_of(home, v1_term, 1), "");

	/* a removed document takes its results with it (a later run) */
	unlink(fh);
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	add_commit(w, again, 1);
	cr_assert_eq(carnet_writer_remove_unseen(w, docs, NULL, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	cr_expect_str_eq(ids_of(home, has, 1), V2);
	const char *comm[] = { CARNET_PREFIX_RESULT "1.2.250.1.999.8.1|COMM" };
	cr_expect_str_eq(ids_of(home, comm, 1), "");
	cr_expect_str_eq(ids_of(home, k, 1), V2);
	carnet_writer_close(w);
	free((char *)v1);
	free((char *)v2);
	free((char *)fh);
	th_cleanup();
}

Test(results, a_document_without_results_has_neither_term_nor_value)
{
	const char *tmp = th_tmpdir();
	char home[4096];
	snprintf(home, sizeof home, "%s/idx", tmp);
	th_write_doc(th_path("%s/docs/note.txt", tmp), "158047511203495", "NOTE-1", "2025-01-02",
		     "Glycémie 5.2 mmol/L, potassium 4.0");
	cr_assert_eq(th_index_dir(home, th_path("%s/docs", tmp)), 1);
	const char *id[] = { CARNET_PREFIX_ID "NOTE-1" };
	found f;
	search(&f, home, id, 1);
	cr_assert_eq(f.count, 1);
	cr_expect_eq(f.results[0].count, 0, "no results value");
	found_free(&f);
	const char *has[] = { CARNET_TERM_HAS_RESULTS };
	cr_expect_str_eq(ids_of(home, has, 1), "");
	th_cleanup();
}

Test(results, a_long_system_and_code_make_a_term_cut_to_the_id_limit)
{
	const char *tmp = th_tmpdir();
	char home[4096], sys[65], code[65], xml[4096];
	snprintf(home, sizeof home, "%s/idx", tmp);
	memset(sys, '1', 64);
	sys[64] = '\0';
	memset(code, 'C', 64);
	code[64] = '\0';
	snprintf(xml, sizeof xml,
		 "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
		 "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
		 "<id root=\"1.2.3.4.5\"/><effectiveTime value=\"20250101\"/>"
		 "<recordTarget><patientRole><id root=\"1.2.250.1.999.3.1\" extension=\"P-1\"/>"
		 "</patientRole></recordTarget><component><structuredBody><component><section>"
		 "<text>r</text><entry><observation classCode=\"OBS\" moodCode=\"EVN\">"
		 "<code code=\"%s\" codeSystem=\"%s\"/><value xsi:type=\"PQ\" value=\"1\"/>"
		 "</observation></entry></section></component></structuredBody></component>"
		 "</ClinicalDocument>", code, sys);
	th_write_str(th_path("%s/docs/long.xml", tmp), xml);
	cr_assert_eq(th_index_dir(home, th_path("%s/docs", tmp)), 1);
	char term[CARNET_ID_MAX + 16];
	snprintf(term, sizeof term, CARNET_PREFIX_RESULT "%s|%s", sys, code);
	term[CARNET_ID_MAX] = '\0';
	const char *must[] = { term };
	cr_expect_str_eq(ids_of(home, must, 1), "1.2.3.4.5");
	th_cleanup();
}

/* ---- the ANS CI-SIS CR-BIO examples (not in the repository) ---- */

static const char *ans(const char *name)
{
	return th_public(th_path("ans-TestContenuCDA-3-0/ExemplesCDA/%s", name),
			 "ANS CI-SIS examples");
}

/* Code, value and unit of the results of a file, in document order. */
typedef struct cvu {
	const char *code, *value, *unit;
} cvu;

static void expect_cvu(const carnet_doc *d, const cvu *w, size_t n)
{
	cr_assert_eq(d->results_count, n, "%s: %zu results, want %zu", d->source, d->results_count, n);
	for (size_t i = 0; i < n; i++) {
		expect_field(d->results[i].code, w[i].code, "code", w[i].code);
		expect_field(d->results[i].value, w[i].value, "value", w[i].code);
		expect_field(d->results[i].unit, w[i].unit, "unit", w[i].code);
	}
}

/* How many results each BIO-CR-BIO_* example holds, counted by hand:
 * its observations, `grep -c '<\([a-z]*:\)\?observation '` (the
 * autoprésentable one writes them c:observation), less those typing the
 * attached PDF, `grep -c 'code="69764-9"'`; `grep negationInd` and
 * `grep -o 'moodCode="[^"]*"'` on the observations show none negated and
 * all events, and `grep -o '<value xsi:type="[A-Z_]*"'` only the types
 * read (PQ, IVL_PQ, REAL, CD). Two have no structured body. */
static const struct { const char *file; size_t count; } bio_counts[] = {
	{ "BIO-CR-BIO_2021.01_Auto-Presentable.xml", 11 },
	{ "BIO-CR-BIO_2021.01_CDA-R2-Niveau-1.xml", 0 },
	{ "BIO-CR-BIO_2021.01_CR-2nde-intention.xml", 2 - 1 },
	{ "BIO-CR-BIO_2021.01_Electrophorese.xml", 64 },
	{ "BIO-CR-BIO_2021.01_Microbiologie_V1.xml", 14 },
	{ "BIO-CR-BIO_2021.01_Microbiologie_V2.xml", 14 },
	{ "BIO-CR-BIO_2023.01_Electrophorese.xml", 65 - 1 },
	{ "BIO-CR-BIO_2024.01_CR-2nde-intention-PDF.xml", 3 - 2 },
	{ "BIO-CR-BIO_2024.01_CRP_non_LOINC.xml", 2 - 1 },
	{ "BIO-CR-BIO_2024.01_DEP-CCU-HPV-structuré-CYTO-pdf.xml.xml", 6 - 2 },
	{ "BIO-CR-BIO_2024.01_DEP-CCU-tout-structuré.xml", 7 - 1 },
	{ "BIO-CR-BIO_2024.01_Electrophorese.xml", 65 - 1 },
	{ "BIO-CR-BIO_2024.01_Glycémie deux unités principales_mole_masse.xml", 3 - 1 },
	{ "BIO-CR-BIO_2024.01_Glycémie mole.xml", 2 - 1 },
	{ "BIO-CR-BIO_2024.01_Microbiologie_V1.xml", 15 - 1 },
	{ "BIO-CR-BIO_2024.01_Microbiologie_V2.xml", 15 - 1 },
	{ "BIO-CR-BIO_2024.01_TSH_1.xml", 3 - 1 },
	{ "BIO-CR-BIO_2024.01_TSH_2.xml", 3 - 1 },
};

Test(results, ans_cr_bio_counts)
{
	for (size_t i = 0; i < sizeof bio_counts / sizeof bio_counts[0]; i++) {
		got g;
		const char *path = ans(bio_counts[i].file);
		char p[4096];
		snprintf(p, sizeof p, "%s", path);
		size_t len;
		char *data = th_slurp(p, &len);
		cr_assert_not_null(data, "%s", p);
		read_mem(&g, p, data, len);
		free(data);
		cr_assert_eq(g.rc, CARNET_OK, "%s: %s", p, g.err.message);
		cr_assert_eq(g.count, 1, "%s", p);
		cr_expect_eq(g.docs[0].results_count, bio_counts[i].count, "%s: %zu results, want %zu",
			     bio_counts[i].file, g.docs[0].results_count, bio_counts[i].count);
		for (size_t k = 0; k < g.docs[0].results_count; k++) {
			const carnet_result *r = &g.docs[0].results[k];
			cr_expect(r->code && r->value && r->date, "%s: result %zu", bio_counts[i].file, k);
			cr_expect_neq(strcmp(r->code, "69764-9"), 0);
		}
		release(&g);
	}
}

Test(results, ans_glucose_in_two_units)
{
	got g;
	read_path(&g, ans("BIO-CR-BIO_2024.01_Glycémie deux unités principales_mole_masse.xml"));
	/* (the file gives 3.89 as both bounds of the first range) */
	const want w[] = {
		{ 'N', LOINC, "40193-5", "Glucose à jeun [Moles/Volume] Sérum/Plasma ; Numérique",
		  "4.89", "mmol/L", "3.89", "3.89", "N", "2014-04-02T14:55", NULL },
		{ 'N', LOINC, "53049-3", "Glucose à jeun [Masse/Volume] Sérum/Plasma ; Numérique",
		  "0.88", "g/L", "0.70", "1.08", "N", "2014-04-02T14:55", NULL },
	};
	expect_results(&g.docs[0], w, 2);
	release(&g);
}

Test(results, ans_crp_local_code)
{
	got g;
	read_path(&g, ans("BIO-CR-BIO_2024.01_CRP_non_LOINC.xml"));
	/* <code> without a code: its translation, a local code of the
	 * laboratory's system; the value an inclusive upper bound */
	const want w = { 'T', "1.2.250.1.2.3.4", "1234",
			 "C Réactive protéine [Masse/Volume] Sérum/Plasma ; Numérique", "<=1.0",
			 "mg/L", NULL, "5.0", "N", "2014-04-02T14:55", NULL };
	expect_results(&g.docs[0], &w, 1);
	release(&g);
}

/* The 2024 ECBU, V1 and V2 differ in the count of the first isolate. */
static void ecbu(const char *file, const char *first_count)
{
	got g;
	read_path(&g, ans(file));
	const cvu w[] = {
		{ "5778-6", "paille", NULL }, { "5767-9", "clair", NULL },
		{ "30405-5", "500", "/mL" }, { "30391-7", "200", "/mL" },
		{ "30383-4", "absence", NULL }, { "653-6", "nombreux Gram - ; quelques Gram +", NULL },
		{ "51480-2", first_count, "/mL" }, { "20-8", "0.512", "ug/mL" },
		{ "28-1", "<0.128", "ug/mL" }, { "18928-2", "<0.032", "ug/mL" },
		{ "51480-2", "200000", "/mL" }, { "20-8", "<0.012", "ug/mL" },
		{ "28-1", "<0.013", "ug/mL" }, { "18928-2", "<0.014", "ug/mL" },
	};
	expect_cvu(&g.docs[0], w, sizeof w / sizeof w[0]);
	const carnet_result *r = g.docs[0].results;
	/* the culture's results: the isolate's organizer gives the specimen */
	cr_expect_null(r[2].specimen);
	cr_expect_str_eq(r[6].specimen, "Escherichia coli (organism)");
	cr_expect_str_eq(r[10].specimen, "Genus Streptococcus (organism)");
	cr_expect_str_eq(r[7].interpretation, "R");
	cr_expect_str_eq(r[8].interpretation, "I");
	cr_expect_eq(r[0].kind, 'C');
	cr_expect_eq(r[6].kind, 'N');
	cr_expect_eq(r[8].kind, 'T');
	cr_expect_str_eq(r[0].date, "2024-01-04T13:19");
	cr_expect_str_eq(r[13].date, "2024-01-04T15:50");
	release(&g);
}

Test(results, ans_microbiology_v1_and_v2)
{
	ecbu("BIO-CR-BIO_2024.01_Microbiologie_V1.xml", "100000");
	ecbu("BIO-CR-BIO_2024.01_Microbiologie_V2.xml", "120000");
}

Test(results, ans_tsh)
{
	got g;
	read_path(&g, ans("BIO-CR-BIO_2024.01_TSH_1.xml"));
	const want w[] = {
		{ 'N', LOINC, "3016-3", "Thyréostimuline [Arbitraire/Volume] Sérum/Plasma ; Numérique",
		  "1.950", "m[IU]/L", "0.270", "4.200", "N", "2014-04-02T14:55", NULL },
		{ 'N', LOINC, "3024-7", "Thyroxine libre [Masse/Volume] Sérum/Plasma ; Numérique",
		  "7.67", "pg/mL", "9.30", "17.00", "L", "2014-04-02T14:55", NULL },
	};
	expect_results(&g.docs[0], w, 2);
	release(&g);
}
