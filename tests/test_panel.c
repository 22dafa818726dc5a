/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_panel.c - the key results panel: units converted only when exact,
 * the analytes and panels tables (defaults, a home's own, bad lines), and
 * carnet_index_results over real indexes of FHIR and CDA documents with
 * results: patients apart, masks, versions, panels per specialty, words,
 * conversions in a series, the access log. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "analytes.h"
#include "carnet.h"
#include "helpers.h"
#include "units.h"

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

TestSuite(panel, .init = init, .fini = fini);

/* ---- units ---- */

static double conv(double v, const char *from, const char *to, double mm)
{
	double out = NAN;
	cr_assert_eq(carnet_unit__convert(&out, v, from, to, mm), 0, "%g %s -> %s", v, from, to);
	return out;
}

static void refused(double v, const char *from, const char *to, double mm)
{
	double out = 12345;
	cr_assert_eq(carnet_unit__convert(&out, v, from, to, mm), -1, "%s -> %s is refused",
		     from, to);
	cr_assert_eq(out, 12345, "a refused conversion leaves the output alone");
}

Test(panel, units_convert_exactly_or_not_at_all)
{
	/* known values: 0.88 g/L of glucose (180.16 g/mol) is 4.88 mmol/L;
	 * 10 mg/L of creatinine (113.12 g/mol) 88.4 µmol/L */
	cr_assert_float_eq(conv(0.88, "g/L", "mmol/L", 180.16), 4.8846, 1e-4);
	cr_assert_float_eq(conv(4.88, "mmol/L", "g/L", 180.16), 0.8792, 1e-4);
	cr_assert_float_eq(conv(10, "mg/L", "µmol/L", 113.12), 88.40, 1e-2);
	cr_assert_float_eq(conv(10, "mg/L", "umol/L", 113.12), 88.40, 1e-2);
	cr_assert_float_eq(conv(1, "mg/dL", "µmol/L", 113.12), 88.40, 1e-2);
	cr_assert_float_eq(conv(1, "mg/dL", "mg/L", 0), 10, 1e-12);
	cr_assert_float_eq(conv(0.5, "g/dL", "g/L", 0), 5, 1e-12);
	cr_assert_float_eq(conv(120, "µmol/L", "mmol/L", 0), 0.12, 1e-12);
	cr_assert_float_eq(conv(300, "pg/mL", "ng/L", 0), 300, 1e-9);
	cr_assert_float_eq(conv(4.5, "G/L", "10*9/L", 0), 4.5, 1e-12);
	cr_assert_float_eq(conv(4500, "/mm3", "10*9/L", 0), 4.5, 1e-9);
	cr_assert_float_eq(conv(2.1, "mUI/L", "m[IU]/L", 0), 2.1, 1e-12);
	cr_assert_float_eq(conv(60, "mL/min/{1.73_m2}", "mL/min/{1.73_m2}", 0), 60, 1e-12);
	/* U (µmol/min) and katal (mol/s) are exact: 60 U/L = 1 µkat/L */
	cr_assert_float_eq(conv(60, "U/L", "ukat/L", 0), 1, 1e-12);
	cr_assert_float_eq(conv(40, "mm[Hg]", "kPa", 0), 5.3329, 1e-4);
	/* refusals: mass <-> moles without a molar mass, another dimension,
	 * HbA1c % and mmol/mol (not one quantity), a ratio and a percentage,
	 * international units and mass, units that are not UCUM */
	refused(0.88, "g/L", "mmol/L", 0);
	refused(1, "mmol/L", "mmol", 180.16);
	refused(6.5, "%", "mmol/mol", 0);
	refused(0.42, "1", "%", 0);
	refused(1, "[IU]/L", "g/L", 0);
	refused(1, "mEq/L", "mmol/L", 22.99);
	refused(1, "mg/mmol", "mg/g", 0);
	refused(1, "furlong/L", "g/L", 0);
	refused(1, "", "g/L", 0);
	refused(1, "mg/{x", "g/L", 0);
	refused(1, "%2", "%", 0);
}

/* ---- the tables ---- */

/* xorshift64: the same numbers on every run */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* carnet_unit__number reads what strtod reads, to the bit, and refuses
 * what a result's value is not: over written decimals of every length
 * (its own path below 16 digits, strtod's beyond) and odd strings. */
Test(panel, numbers_are_read_as_strtod_reads_them)
{
	static const char *odd[] = { "", "-", "+", ".", "-.", "1.2.3", "1,5", " 1", "1 ",
				     "0x10", "inf", "nan", "1e400", "<5", "1e", "--1" };
	double x;
	for (size_t i = 0; i < sizeof odd / sizeof *odd; i++)
		cr_expect_eq(carnet_unit__number(odd[i], &x), 0, "'%s' is not a number", odd[i]);
	cr_expect_eq(carnet_unit__number(NULL, &x), 0);
	uint64_t r = 42;
	char s[40];
	for (int i = 0; i < 200000; i++) {
		size_t n = 0;
		int ndig = 1 + (int)(next_rand(&r) % 18), point = (int)(next_rand(&r) % (ndig + 2));
		if (next_rand(&r) % 4 == 0)
			s[n++] = next_rand(&r) % 2 ? '-' : '+';
		for (int d = 0; d < ndig; d++) {
			if (d == point)
				s[n++] = '.';
			s[n++] = (char)('0' + next_rand(&r) % 10);
		}
		if (point == ndig && next_rand(&r) % 2)
			s[n++] = '.';
		if (next_rand(&r) % 16 == 0)
			n += (size_t)snprintf(s + n, sizeof s - n, "e%d", (int)(next_rand(&r) % 40) - 20);
		s[n] = '\0';
		double want = strtod(s, NULL);
		cr_assert_eq(carnet_unit__number(s, &x), 1, "'%s' is a number", s);
		cr_assert(memcmp(&x, &want, sizeof x) == 0, "'%s': %.17g, strtod %.17g", s, x, want);
	}
}

/* carnet_unit__format writes what printf's %.*f writes, byte for byte:
 * random values of every size, halves exactly between two outputs (which
 * printf rounds to even), values a hair either side of a half, negative
 * values that round to zero, and what no fast path takes. */
Test(panel, numbers_are_written_as_printf_writes_them)
{
	uint64_t r = 7;
	char got[40], want[40];
	double special[] = { 0.0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, -0.0001, 1e-12,
			     2147483647.4, 2147483648.6, 1e15, -1e300, 0.045, 1.005, 2.675 };
	for (int d = 0; d <= 9; d++)
		for (size_t i = 0; i < sizeof special / sizeof *special; i++) {
			carnet_unit__format(got, special[i], d);
			snprintf(want, sizeof want, "%.*f", d, special[i]);
			cr_assert_str_eq(got, want, "%.17g with %d decimals", special[i], d);
		}
	for (int i = 0; i < 400000; i++) {
		int d = (int)(next_rand(&r) % 10);
		double v;
		switch (i % 4) {
		case 0: /* any size */
			v = (double)(next_rand(&r) >> 11) / 9007199254740992.0 *
			    pow(10, (double)(next_rand(&r) % 16) - 6);
			break;
		case 1: /* a half at the last decimal: exact in binary or not */
			v = ((double)(next_rand(&r) % 100000) + 0.5) / pow(10, d);
			break;
		case 2: /* a hair from that half */
			v = nextafter(((double)(next_rand(&r) % 100000) + 0.5) / pow(10, d),
				      next_rand(&r) % 2 ? INFINITY : 0);
			break;
		default: /* what conversions give */
			v = (double)(next_rand(&r) % 100000) / 100.0 * 88.4;
			break;
		}
		if (next_rand(&r) % 3 == 0)
			v = -v;
		carnet_unit__format(got, v, d);
		snprintf(want, sizeof want, "%.*f", d, v);
		cr_assert_str_eq(got, want, "%.17g with %d decimals", v, d);
	}
}

Test(panel, the_default_tables_load_and_name_analytes)
{
	carnet_error err;
	carnet_analytes *a;
	cr_assert_eq(carnet_analytes__load(&a, NULL, &err), CARNET_OK, "%s", err.message);
	cr_assert_geq(carnet_analytes__count(a), 40, "at least 40 analytes");
	long k = carnet_analytes__by_code(a, "2823-3");
	cr_assert_geq(k, 0);
	cr_assert_str_eq(carnet_analytes__at(a, (size_t)k)->key, "potassium");
	cr_assert_str_eq(carnet_analytes__at(a, (size_t)carnet_analytes__by_code(a, "38483-4"))->key,
			 "creatinine");
	cr_assert_eq(carnet_analytes__by_code(a, "0000-0"), -1);
	/* a word names an analyte, folded; a group names several */
	unsigned char *sel = calloc(carnet_analytes__count(a), 1);
	const char *w[] = { "kaliemie" };
	cr_assert_eq(carnet_analytes__words_at(a, w, 1, sel), 1);
	cr_assert(sel[k]);
	memset(sel, 0, carnet_analytes__count(a));
	const char *nfs[] = { "nfs" };
	cr_assert_eq(carnet_analytes__words_at(a, nfs, 1, sel), 1);
	size_t n = 0;
	for (size_t i = 0; i < carnet_analytes__count(a); i++)
		n += sel[i];
	cr_assert_geq(n, 5, "NFS names the blood count: %zu", n);
	free(sel);
	/* every profile's panel is there, "*" for the others */
	const size_t *cardio, *diabeto, *other;
	size_t nc = carnet_analytes__panel(a, "cardiologie", &cardio);
	size_t nd = carnet_analytes__panel(a, "endocrinologie-diabetologie", &diabeto);
	size_t no = carnet_analytes__panel(a, "no-such-profile", &other);
	cr_assert(nc && nd && no);
	cr_assert_str_eq(carnet_analytes__at(a, cardio[0])->key, "nt-probnp");
	cr_assert_str_eq(carnet_analytes__at(a, diabeto[0])->key, "hba1c");
	cr_assert_str_eq(carnet_analytes__at(a, other[0])->key, "creatinine");
	carnet_analytes__free(a);
}

Test(panel, a_home_table_replaces_an_analyte_and_a_panel)
{
	th_write_str(th_path("%s/analytes.tsv", home),
		     "# a deployer's own\n"
		     "potassium\t2823-3\tK+ sérique\tmmol/L\t39.10\tpotassium\n"
		     "osmolalite\t2692-2\tOsmolalité\tmosm/kg\t-\tosmolalité\n");
	th_write_str(th_path("%s/panels.tsv", home), "cardiologie\tosmolalite,potassium\n");
	carnet_error err;
	carnet_analytes *a;
	int rc = carnet_analytes__load(&a, home, &err);
	cr_assert_eq(rc, CARNET_E_INVALID, "mosm is no unit carnet reads");
	cr_assert(strstr(err.message, "analytes.tsv:3"), "%s", err.message);
	th_write_str(th_path("%s/analytes.tsv", home),
		     "potassium\t2823-3\tK+ sérique\tmmol/L\t39.10\tpotassium\n"
		     "osmolalite\t2692-2\tOsmolalité\tmmol/kg\t-\tosmolalité\n");
	cr_assert_eq(carnet_analytes__load(&a, home, &err), CARNET_OK, "%s", err.message);
	long k = carnet_analytes__by_code(a, "2823-3");
	cr_assert_str_eq(carnet_analytes__at(a, (size_t)k)->label, "K+ sérique");
	const size_t *cardio;
	cr_assert_eq(carnet_analytes__panel(a, "cardiologie", &cardio), 2, "replaced, not added to");
	cr_assert_str_eq(carnet_analytes__at(a, cardio[0])->key, "osmolalite");
	carnet_analytes__free(a);
}

Test(panel, bad_lines_name_their_file_and_line)
{
	static const struct { const char *analytes, *panels, *why; } cases[] = {
		{ "x\t2823-4\tX\tmmol/L\t-\tx\n", "", "LOINC" },          /* check digit */
		{ "x\t2823-3\tX\tmmol/L\t-1\tx\n", "", "molar" },
		{ "X\t2823-3\tX\tmmol/L\t-\tx\n", "", "KEY" },
		{ "x\t2823-3\tX\tmmol/L\t-\n", "", "KEY" },
		{ "x\t2823-3\tX\tmmol/L\t-\tx\ny\t2823-3\tY\tmmol/L\t-\ty\n", "", "already" },
		{ "x\t2823-3\tX\tmmol/L\t-\tx\n", "cardiologie\tx,nope\n", "nope" },
		{ "x\t2823-3\tX\tmmol/L\t-\tx\n", "Bad Profile\tx\n", "PROFILE" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		carnet_error err;
		carnet_analytes *a;
		int rc = carnet_analytes__parse(&a, "a.tsv", cases[i].analytes,
						strlen(cases[i].analytes), "p.tsv",
						cases[i].panels, strlen(cases[i].panels), &err);
		cr_assert_eq(rc, CARNET_E_INVALID, "case %zu", i);
		cr_assert_null(a);
		cr_assert(strstr(err.message, cases[i].why), "case %zu: %s", i, err.message);
		cr_assert(strstr(err.message, "a.tsv:") || strstr(err.message, "p.tsv:1"),
			  "case %zu names file:line: %s", i, err.message);
	}
}

/* ---- an index of documents with results ---- */

typedef struct obs {
	const char *code, *value, *unit, *date, *low, *high;
} obs;

#define LOCAL "1.2.250.1.999.3.1"

/* A FHIR document Bundle of patient (local id), with its results; it
 * replaces document `replaces` when not NULL. */
static void bundle(const char *patient, const char *id, const char *date,
		   const char *author, const char *replaces, const obs *o, size_t n)
{
	char *j = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&j, &len);
	fprintf(f, "{\"resourceType\":\"Bundle\",\"type\":\"document\","
		   "\"identifier\":{\"system\":\"urn:oid:1.2.250.1.999.9\",\"value\":\"%s\"},"
		   "\"entry\":[{\"fullUrl\":\"urn:uuid:c\",\"resource\":{"
		   "\"resourceType\":\"Composition\",\"status\":\"final\","
		   "\"identifier\":{\"system\":\"urn:oid:1.2.250.1.999.9\",\"value\":\"%s\"},"
		   "\"type\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"11502-2\"}]},"
		   "\"subject\":{\"reference\":\"urn:uuid:p\"},\"date\":\"%s\","
		   "\"author\":[{\"reference\":\"urn:uuid:a\"}],\"title\":\"Biologie\",",
		id, id, date);
	if (replaces)
		fprintf(f, "\"relatesTo\":[{\"code\":\"replaces\",\"targetIdentifier\":"
			   "{\"value\":\"%s\"}}],", replaces);
	fprintf(f, "\"section\":[{\"title\":\"Résultats\",\"text\":{\"status\":\"generated\","
		   "\"div\":\"<div xmlns=\\\"http://www.w3.org/1999/xhtml\\\">Résultats</div>\"},"
		   "\"entry\":[");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s{\"reference\":\"urn:uuid:o%zu\"}", i ? "," : "", i);
	fprintf(f, "]}]}},{\"fullUrl\":\"urn:uuid:p\",\"resource\":{\"resourceType\":\"Patient\","
		   "\"identifier\":[{\"system\":\"urn:oid:" LOCAL "\",\"value\":\"%s\"}]}},"
		   "{\"fullUrl\":\"urn:uuid:a\",\"resource\":{\"resourceType\":\"Practitioner\","
		   "\"identifier\":[{\"system\":\"urn:oid:1.2.250.1.71.4.2.1\",\"value\":\"%s\"}]}}",
		patient, author);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, ",{\"fullUrl\":\"urn:uuid:o%zu\",\"resource\":{\"resourceType\":"
			   "\"Observation\",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":"
			   "\"http://loinc.org\",\"code\":\"%s\"}]},\"subject\":{\"reference\":"
			   "\"urn:uuid:p\"},\"effectiveDateTime\":\"%s\",\"valueQuantity\":{"
			   "\"value\":%s,\"unit\":\"%s\",\"system\":\"http://unitsofmeasure.org\","
			   "\"code\":\"%s\"}",
			i, o[i].code, o[i].date ? o[i].date : date, o[i].value, o[i].unit, o[i].unit);
		if (o[i].low)
			fprintf(f, ",\"referenceRange\":[{\"low\":{\"value\":%s},\"high\":{\"value\":%s}}]",
				o[i].low, o[i].high);
		fputs("}}", f);
	}
	fputs("]}\n", f);
	fclose(f);
	th_write(th_path("%s/%s/%s.json", docs, patient, id), j, len);
	free(j);
}

#define AUTHOR "10000000001"
#define OTHER "10000000002"

/* Two patients: A with a series over four dates (one document masked
 * from professionals, one replaced by a new version), B with one; C with
 * a text document and no result. */
static void make_index(void)
{
	const obs a1[] = {
		{ "2345-7", "0.88", "g/L", NULL, "0.70", "1.10" },   /* glucose */
		{ "2823-3", "4.2", "mmol/L", NULL, "3.5", "5.1" },   /* potassium */
		{ "2160-0", "10", "mg/L", NULL, NULL, NULL },         /* creatinine */
	};
	const obs a2[] = {
		{ "14749-6", "5.2", "mmol/L", NULL, NULL, NULL },     /* glucose, in moles */
		{ "2823-3", "5.4", "mmol/L", NULL, "3.5", "5.1" },
		{ "4548-4", "6.8", "%", NULL, NULL, NULL },           /* HbA1c */
		{ "33762-6", "900", "ng/L", NULL, NULL, NULL },       /* NT-proBNP */
	};
	const obs a3[] = {
		{ "59261-8", "52", "mmol/mol", NULL, NULL, NULL },    /* HbA1c IFCC */
		{ "2345-7", "1.10", "g/L", NULL, NULL, NULL },
		{ "2823-3", "4.8", "mmol/L", NULL, NULL, NULL },
		{ "33762-6", "1500", "pg/mL", NULL, NULL, NULL },
		{ "2160-0", "1", "mg/{x}", NULL, NULL, NULL },        /* no unit carnet reads */
	};
	const obs masked[] = { { "2823-3", "6.1", "mmol/L", NULL, NULL, NULL } };
	const obs old[] = { { "2823-3", "7.7", "mmol/L", NULL, NULL, NULL } };
	const obs fixed[] = { { "2823-3", "3.9", "mmol/L", NULL, NULL, NULL } };
	const obs b1[] = {
		{ "2823-3", "3.1", "mmol/L", NULL, NULL, NULL },
		{ "2345-7", "0.70", "g/L", NULL, NULL, NULL },
	};
	bundle("PA", "A-1", "2025-01-10", OTHER, NULL, a1, 3);
	bundle("PA", "A-2", "2025-03-10", OTHER, NULL, a2, 4);
	bundle("PA", "A-3", "2025-05-10", OTHER, NULL, a3, 5);
	bundle("PA", "A-M", "2025-06-01", AUTHOR, NULL, masked, 1);
	bundle("PA", "A-OLD", "2024-12-01", OTHER, NULL, old, 1);
	bundle("PA", "A-NEW", "2024-12-02", OTHER, "A-OLD", fixed, 1);
	bundle("PB", "B-1", "2025-02-01", OTHER, NULL, b1, 2);
	th_write_str(th_path("%s/PC/c1.txt", docs), "Consultation\nConclusion : rien à signaler.\n");
	th_write_str(th_path("%s/PC/c1.txt.meta.json", docs),
		     "{\"patient_id\":\"PC\",\"patient_id_system\":\"" LOCAL "\",\"id\":\"C-1\","
		     "\"date\":\"2025-01-01\",\"type\":\"11488-4\"}");
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	const char *files[] = { "PA/A-OLD.json", "PA/A-1.json", "PA/A-2.json", "PA/A-3.json",
				"PA/A-M.json", "PA/A-NEW.json", "PB/B-1.json", "PC/c1.txt" };
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		carnet_outcome oc;
		cr_assert_eq(carnet_writer_add_file(w, th_path("%s/%s", docs, files[i]), &oc, &err),
			     CARNET_OK, "%s", err.message);
		cr_assert_neq(oc, CARNET_OUTCOME_REJECTED, "%s: %s", files[i], err.message);
		cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	}
	cr_assert_eq(carnet_writer_set_visibility(w, "A-M", CARNET_AUDIENCE_PROFESSIONALS, 1, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
}

static carnet_request professional(const char *patient, const char *specialty)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = patient;
	req.patient_system = LOCAL;
	req.profession = "10";
	req.specialty = specialty;
	return req;
}

static carnet_panel *results(const carnet_request *req)
{
	carnet_panel *p;
	carnet_error err;
	cr_assert_eq(carnet_index_results(&p, idx, req, &err), CARNET_OK, "%s", err.message);
	cr_assert_not_null(p);
	return p;
}

/* The index of analyte key in p, or -1. */
static long analyte(const carnet_panel *p, const char *key)
{
	for (size_t i = 0; i < carnet_panel_count(p); i++)
		if (strcmp(carnet_panel_analyte(p, i, CARNET_ANALYTE_KEY), key) == 0)
			return (long)i;
	return -1;
}

/* Does any value of p come from document id, or hold value v? */
static int shows(const carnet_panel *p, const char *id, const char *v)
{
	for (size_t i = 0; i < carnet_panel_count(p); i++)
		for (size_t j = 0; j < carnet_panel_values(p, i); j++)
			if ((id && strcmp(carnet_panel_value(p, i, j, CARNET_VALUE_DOC_ID), id) == 0) ||
			    (v && strcmp(carnet_panel_value(p, i, j, CARNET_VALUE_ORIGINAL), v) == 0))
				return 1;
	return 0;
}

Test(panel, results_never_cross_patients)
{
	make_index();
	carnet_request req = professional("PA", NULL);
	carnet_panel *a = results(&req);
	req.patient_id = "PB";
	carnet_panel *b = results(&req);
	cr_assert(shows(a, "A-1", NULL) && shows(a, "A-3", NULL));
	cr_assert(!shows(a, "B-1", NULL) && !shows(a, NULL, "3.1"), "none of B's in A's panel");
	cr_assert_eq(carnet_panel_count(b), 2, "B: potassium and glucose");
	for (size_t i = 0; i < carnet_panel_count(b); i++) {
		cr_assert_eq(carnet_panel_values(b, i), 1);
		cr_assert_str_eq(carnet_panel_value(b, i, 0, CARNET_VALUE_DOC_ID), "B-1");
	}
	carnet_panel_free(a);
	carnet_panel_free(b);
}

Test(panel, a_masked_document_follows_the_policy)
{
	make_index();
	carnet_request req = professional("PA", "SM04");
	carnet_panel *p = results(&req);
	cr_assert(!shows(p, "A-M", NULL) && !shows(p, NULL, "6.1"),
		  "a professional does not see a masked document's results");
	long k = analyte(p, "potassium");
	cr_assert_str_eq(carnet_panel_value(p, (size_t)k, 0, CARNET_VALUE_DOC_ID), "A-3",
			 "the newest potassium is the newest visible one");
	carnet_panel_free(p);

	req.flags = CARNET_REQUEST_EMERGENCY;
	p = results(&req);
	k = analyte(p, "potassium");
	cr_assert_str_eq(carnet_panel_value(p, (size_t)k, 0, CARNET_VALUE_ORIGINAL), "6.1",
			 "emergency access shows it");
	carnet_panel_free(p);

	req.flags = 0;
	req.viewer_id = AUTHOR;
	p = results(&req);
	cr_assert(shows(p, "A-M", NULL), "its author sees it");
	carnet_panel_free(p);
	req.viewer_id = OTHER;
	p = results(&req);
	cr_assert(!shows(p, "A-M", NULL), "another professional does not");
	carnet_panel_free(p);

	carnet_request pat = CARNET_REQUEST_INIT;
	pat.patient_id = "PA";
	pat.patient_system = LOCAL;
	pat.role = CARNET_ROLE_PATIENT;
	p = results(&pat);
	cr_assert(shows(p, "A-M", NULL), "MASQUE_PS hides from professionals, not the patient");
	carnet_panel_free(p);
}

Test(panel, a_replaced_version_shows_nothing)
{
	make_index();
	carnet_request req = professional("PA", NULL);
	req.flags = CARNET_REQUEST_ALL_VERSIONS; /* newest versions whatever the flags */
	carnet_panel *p = results(&req);
	cr_assert(!shows(p, "A-OLD", NULL) && !shows(p, NULL, "7.7"));
	cr_assert(shows(p, "A-NEW", NULL) && shows(p, NULL, "3.9"));
	long k = analyte(p, "potassium");
	for (size_t j = 0; j < carnet_panel_values(p, (size_t)k); j++)
		if (strcmp(carnet_panel_value(p, (size_t)k, j, CARNET_VALUE_DOC_ID), "A-NEW") == 0)
			cr_assert_eq(carnet_panel_version(p, (size_t)k, j), 2);
	carnet_panel_free(p);
}

/* The place of analyte key in p (fails when absent). */
static size_t place(const carnet_panel *p, const char *key)
{
	long k = analyte(p, key);
	cr_assert_geq(k, 0, "%s is in the panel", key);
	return (size_t)k;
}

Test(panel, a_cardiologist_and_a_diabetologist_get_their_own_order)
{
	make_index();
	carnet_request req = professional("PA", "SM04");
	carnet_panel *c = results(&req);
	req.specialty = "SM16";
	carnet_panel *d = results(&req);
	cr_assert_eq(carnet_panel_count(c), carnet_panel_count(d), "the same analytes");
	/* cardiology: NT-proBNP, then potassium and creatinine, before glucose control */
	cr_assert_eq(place(c, "nt-probnp"), 0);
	cr_assert_lt(place(c, "potassium"), place(c, "creatinine"));
	cr_assert_lt(place(c, "creatinine"), place(c, "hba1c"));
	cr_assert_lt(place(c, "hba1c"), place(c, "glucose"));
	/* diabetology: HbA1c, glucose, then renal function, NT-proBNP last */
	cr_assert_eq(place(d, "hba1c"), 0);
	cr_assert_eq(place(d, "glucose"), 1);
	cr_assert_lt(place(d, "creatinine"), place(d, "potassium"));
	cr_assert_lt(place(d, "potassium"), place(d, "nt-probnp"));
	cr_assert(carnet_panel_wanted(c, 0) && carnet_panel_wanted(d, 0));
	cr_assert(!carnet_panel_wanted(d, place(d, "nt-probnp")),
		  "NT-proBNP is not on the diabetology panel, but is shown after it");
	carnet_panel_free(c);
	carnet_panel_free(d);
}

/* The results part of hit id in res (-1 when id is not a hit). */
static double results_part(const carnet_results *res, const char *id)
{
	for (size_t i = 0; i < carnet_results_count(res); i++)
		if (strcmp(carnet_results_field(res, i, CARNET_FIELD_ID), id) == 0)
			return carnet_results_part(res, i, CARNET_PART_RESULTS);
	return -1;
}

Test(panel, a_browse_lifts_the_latest_report_of_the_viewers_first_analytes)
{
	make_index();
	carnet_request req = professional("PA", "SM04");
	req.as_of = "2025-07-01";
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	/* A-3 is the newest report of NT-proBNP, potassium and creatinine,
	 * the cardiology panel's first: it alone gets the key-results part,
	 * which the explanation shows and the score adds */
	double lift = results_part(res, "A-3");
	cr_assert_gt(lift, 0, "the latest NT-proBNP report is lifted");
	cr_assert_eq(results_part(res, "A-2"), 0, "an older NT-proBNP report is not");
	cr_assert_eq(results_part(res, "A-1"), 0);
	for (size_t i = 0; i < carnet_results_count(res); i++) {
		double sum = carnet_results_part(res, i, CARNET_PART_TEXT) +
			     carnet_results_part(res, i, CARNET_PART_SPECIALTY) +
			     carnet_results_part(res, i, CARNET_PART_RECENCY) +
			     carnet_results_part(res, i, CARNET_PART_RESULTS);
		cr_assert_float_eq(carnet_results_score(res, i), sum, 1e-9, "the parts add up");
	}
	carnet_results_free(res);
	/* with words, the words choose: no lift */
	req.words = "biologie";
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(results_part(res, "A-3"), 0);
	carnet_results_free(res);
	/* a weight of 0 turns it off */
	cr_assert_eq(carnet_index_set_ranking(idx, "weight.results = 0", &err), CARNET_OK, "%s",
		     err.message);
	req.words = NULL;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(results_part(res, "A-3"), 0);
	carnet_results_free(res);
}

Test(panel, words_naming_an_analyte_put_its_series_in_date_order)
{
	make_index();
	carnet_request req = professional("PA", "SM04");
	req.as_of = "2025-07-01";
	req.words = "biologie kaliémie"; /* the reports' text says Biologie */
	carnet_results *res;
	carnet_error err;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	/* the potassium reports the viewer may see, newest first; the masked
	 * one (A-M) is not among them */
	static const char *const order[] = { "A-3", "A-2", "A-1", "A-NEW" };
	cr_assert_eq(carnet_results_count(res), 4);
	double before = 2;
	for (size_t i = 0; i < 4; i++) {
		cr_assert_str_eq(carnet_results_field(res, i, CARNET_FIELD_ID), order[i]);
		/* its place in the series: the newest weight.results (0.05), the
		 * older ones 2^(-days before the newest / 730) of it */
		double part = carnet_results_part(res, i, CARNET_PART_RESULTS);
		cr_assert_lt(part, before);
		before = part;
		/* the date weighs recency.series (1.5) times weight.recency (0.22) */
		cr_assert_float_eq(carnet_results_part(res, i, CARNET_PART_RECENCY),
				   0.22 * 1.5 * carnet_results_part(res, i, CARNET_PART_RECENCY_RAW),
				   1e-9);
		double sum = carnet_results_part(res, i, CARNET_PART_TEXT) +
			     carnet_results_part(res, i, CARNET_PART_SPECIALTY) +
			     carnet_results_part(res, i, CARNET_PART_RECENCY) + part;
		cr_assert_float_eq(carnet_results_score(res, i), sum, 1e-9, "the parts add up");
	}
	cr_assert_float_eq(results_part(res, "A-3"), 0.05, 1e-12);
	cr_assert_float_eq(results_part(res, "A-2"), 0.05 * exp2(-61.0 / 730), 1e-9);
	carnet_results_free(res);
	/* words that name no analyte: no series, recency at its own weight */
	req.words = "biologie";
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	for (size_t i = 0; i < carnet_results_count(res); i++)
		cr_assert_float_eq(carnet_results_part(res, i, CARNET_PART_RECENCY),
				   0.22 * carnet_results_part(res, i, CARNET_PART_RECENCY_RAW), 1e-9);
	carnet_results_free(res);
	/* a series half-life of 0: the newest report alone */
	cr_assert_eq(carnet_index_set_ranking(idx, "results.series_half_life = 0", &err),
		     CARNET_OK, "%s", err.message);
	req.words = "biologie 33762-6";
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	cr_assert_float_eq(results_part(res, "A-3"), 0.05, 1e-12);
	cr_assert_eq(results_part(res, "A-2"), 0);
	carnet_results_free(res);
}

Test(panel, words_and_codes_select_analytes)
{
	make_index();
	static const struct { const char *words, *keys[3]; } cases[] = {
		{ "HbA1c", { "hba1c" } },
		{ "kaliémie", { "potassium" } },
		{ "KALIEMIE", { "potassium" } },
		{ "2160-0", { "creatinine" } },
		{ "hémoglobine glyquée, créatininémie", { "creatinine", "hba1c" } },
		{ "33762-6 glycémie", { "nt-probnp", "glucose" } },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		carnet_request req = professional("PA", "SM04");
		req.words = cases[i].words;
		carnet_panel *p = results(&req);
		size_t n = 0;
		while (n < 3 && cases[i].keys[n])
			n++;
		cr_assert_eq(carnet_panel_count(p), n, "%s", cases[i].words);
		for (size_t k = 0; k < n; k++)
			cr_assert_str_eq(carnet_panel_analyte(p, k, CARNET_ANALYTE_KEY),
					 cases[i].keys[k], "%s: in the cardiologist's order",
					 cases[i].words);
		carnet_panel_free(p);
	}
	/* words about something else are passed over */
	carnet_request req = professional("PA", "SM04");
	req.words = "kaliémie douleur thoracique";
	carnet_panel *p = results(&req);
	cr_assert_eq(carnet_panel_count(p), 1);
	cr_assert_str_eq(carnet_panel_analyte(p, 0, CARNET_ANALYTE_KEY), "potassium");
	carnet_panel_free(p);
	req.words = "douleur thoracique";
	p = results(&req);
	cr_assert_eq(carnet_panel_count(p), 0, "no analyte named: nothing, not everything");
	carnet_panel_free(p);
	req.words = "\xff";
	carnet_error err;
	cr_assert_eq(carnet_index_results(&p, idx, &req, &err), CARNET_E_QUERY);
	cr_assert_null(p);
}

Test(panel, a_series_converts_what_it_can_and_keeps_the_rest_apart)
{
	make_index();
	carnet_request req = professional("PA", "SM16");
	carnet_panel *p = results(&req);
	size_t g = place(p, "glucose");
	cr_assert_str_eq(carnet_panel_analyte(p, g, CARNET_ANALYTE_UNIT), "mmol/L");
	cr_assert_eq(carnet_panel_values(p, g), 3);
	/* newest first: 1.10 g/L, 5.2 mmol/L, 0.88 g/L */
	static const double want[] = { 6.106, 5.2, 4.885 };
	for (size_t j = 0; j < 3; j++) {
		double x;
		cr_assert(carnet_panel_number(p, g, j, &x), "value %zu is in the trend", j);
		cr_assert_float_eq(x, want[j], 2e-3, "value %zu: %g", j, x);
		cr_assert_str_eq(carnet_panel_value(p, g, j, CARNET_VALUE_UNIT), "mmol/L");
	}
	cr_assert_str_eq(carnet_panel_value(p, g, 2, CARNET_VALUE_VALUE), "4.88");
	cr_assert_str_eq(carnet_panel_value(p, g, 2, CARNET_VALUE_ORIGINAL), "0.88");
	cr_assert_str_eq(carnet_panel_value(p, g, 2, CARNET_VALUE_ORIGINAL_UNIT), "g/L");
	cr_assert_str_eq(carnet_panel_value(p, g, 2, CARNET_VALUE_LOW), "3.89", "the range too");
	cr_assert_str_eq(carnet_panel_value(p, g, 2, CARNET_VALUE_DATE), "2025-01-10");
	/* HbA1c: the IFCC value is shown as written, out of the % trend */
	size_t h = place(p, "hba1c");
	double x;
	cr_assert_str_eq(carnet_panel_value(p, h, 0, CARNET_VALUE_UNIT), "mmol/mol");
	cr_assert_not(carnet_panel_number(p, h, 0, &x));
	cr_assert(carnet_panel_number(p, h, 1, &x) && x == 6.8);
	/* creatinine 10 mg/L is 88.4 µmol/L; "mg/{x}" is not converted */
	size_t c = place(p, "creatinine");
	cr_assert_str_eq(carnet_panel_value(p, c, 1, CARNET_VALUE_VALUE), "88.4");
	cr_assert_str_eq(carnet_panel_value(p, c, 0, CARNET_VALUE_UNIT), "mg/{x}");
	cr_assert_not(carnet_panel_number(p, c, 0, &x));
	/* NT-proBNP in pg/mL is ng/L; the flag comes from the range */
	size_t b = place(p, "nt-probnp");
	cr_assert(carnet_panel_number(p, b, 0, &x) && fabs(x - 1500) < 1e-9);
	size_t k = place(p, "potassium");
	cr_assert_str_eq(carnet_panel_value(p, k, 1, CARNET_VALUE_ORIGINAL), "5.4");
	cr_assert_str_eq(carnet_panel_value(p, k, 1, CARNET_VALUE_FLAG), "H");
	carnet_panel_free(p);
}

typedef struct log_row {
	char ids[512], words[64], reason[256];
	int status;
	size_t n;
} log_row;

static int newest_row(const carnet_access_entry *e, void *payload)
{
	log_row *r = payload;
	if (r->n++ == 0) {
		snprintf(r->ids, sizeof r->ids, "%s", e->doc_ids);
		snprintf(r->words, sizeof r->words, "%s", e->words);
		snprintf(r->reason, sizeof r->reason, "%s", e->reason);
		r->status = e->status;
	}
	return 0;
}

Test(panel, the_access_log_has_the_request_and_its_sources)
{
	make_index();
	carnet_request req = professional("PA", "SM04");
	req.words = "kaliémie";
	carnet_panel *p = results(&req);
	carnet_panel_free(p);
	carnet_error err;
	log_row r;
	memset(&r, 0, sizeof r);
	cr_assert_eq(carnet_index_access_log_entries(idx, LOCAL "^PA", newest_row, &r, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(r.status, CARNET_OK);
	cr_assert_str_eq(r.words, "kaliémie");
	/* the documents whose potassium is shown, not the masked one */
	for (const char *id = "A-1"; id; id = strcmp(id, "A-1") == 0 ? "A-2" : strcmp(id, "A-2") == 0 ? "A-3" : NULL)
		cr_assert(strstr(r.ids, id), "%s in '%s'", id, r.ids);
	cr_assert_null(strstr(r.ids, "A-M"), "%s", r.ids);
	cr_assert_null(strstr(r.ids, "B-1"), "%s", r.ids);

	/* a refused request is logged with its reason */
	req.since = "2025-13-01";
	cr_assert_eq(carnet_index_results(&p, idx, &req, &err), CARNET_E_INVALID);
	req.since = NULL;
	req.words = NULL;
	req.profession = "99";
	cr_assert_eq(carnet_index_results(&p, idx, &req, &err), CARNET_E_INVALID);
	memset(&r, 0, sizeof r);
	cr_assert_eq(carnet_index_access_log_entries(idx, LOCAL "^PA", newest_row, &r, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(r.n, 3);
	cr_assert_eq(r.status, CARNET_E_INVALID);
	cr_assert(strstr(r.reason, "profession"), "%s", r.reason);
}

Test(panel, a_patient_without_results_gets_an_empty_panel)
{
	make_index();
	carnet_request req = professional("PC", "SM04");
	carnet_panel *p = results(&req);
	cr_assert_eq(carnet_panel_count(p), 0);
	cr_assert_null(carnet_panel_analyte(p, 0, CARNET_ANALYTE_KEY));
	cr_assert_eq(carnet_panel_values(p, 0), 0);
	cr_assert_null(carnet_panel_value(p, 0, 0, CARNET_VALUE_DATE));
	carnet_panel_free(p);
	req.patient_id = "NOBODY";
	p = results(&req);
	cr_assert_eq(carnet_panel_count(p), 0, "nor a patient the index does not know");
	carnet_panel_free(p);
}

Test(panel, the_cda_fixtures_give_their_versions_results)
{
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	const char *files[] = { "results-cr-bio-v1.xml", "results-cr-bio-v2.xml" };
	for (size_t i = 0; i < 2; i++)
		cr_assert_eq(carnet_writer_add_file(
				     w, th_path("%s/tests/data/cda/%s", th_root(), files[i]), NULL, &err),
			     CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "257057512345637";
	req.patient_system = "1.2.250.1.213.1.4.10";
	req.profession = "10";
	req.words = "créatinine";
	carnet_panel *p = results(&req);
	cr_assert_eq(carnet_panel_count(p), 1);
	cr_assert_gt(carnet_panel_values(p, 0), 0);
	for (size_t j = 0; j < carnet_panel_values(p, 0); j++)
		cr_assert_eq(carnet_panel_version(p, 0, j), 2, "only the newest version's values");
	carnet_panel_free(p);
}

/* The newest CARNET_SERIES_MAX of 450 potassium values, one a day, in
 * one document of patient `patient`, written oldest first (order 0),
 * newest first (1) or shuffled (2): the same series whatever the order
 * the values come in (a full series passes over older values early). */
static void newest_values_kept(const char *patient, int order)
{
	enum { N = 450 };
	obs *o = calloc(N, sizeof *o);
	char (*dates)[24] = calloc(N, sizeof *dates);
	for (int i = 0; i < N; i++)
		/* from 2020-01-01, the first 28 days of each month */
		snprintf(dates[i], sizeof dates[i], "%04d-%02d-%02d", 2020 + i / 28 / 12,
			 i / 28 % 12 + 1, i % 28 + 1);
	for (int i = 0; i < N; i++) {
		int d = order == 0 ? i : order == 1 ? N - 1 - i : i * 7 % N;
		o[i] = (obs){ "2823-3", d % 2 ? "4.1" : "4.3", "mmol/L", dates[d], NULL, NULL };
	}
	char id[32];
	snprintf(id, sizeof id, "S-%s", patient); /* a document id is one patient's */
	bundle(patient, id, "2021-06-01", OTHER, NULL, o, N);
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_add_file(w, th_path("%s/%s/%s.json", docs, patient, id), NULL,
					    &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
	carnet_index_close(idx);
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = professional(patient, NULL);
	carnet_panel *p = results(&req);
	cr_assert_eq(carnet_panel_count(p), 1);
	cr_assert_eq(carnet_panel_values(p, 0), CARNET_SERIES_MAX);
	for (size_t j = 0; j < CARNET_SERIES_MAX; j++)
		cr_assert_str_eq(carnet_panel_value(p, 0, j, CARNET_VALUE_DATE), dates[N - 1 - j],
				 "order %d: value %zu is the %zu-th newest: %s", order, j, j,
				 carnet_panel_value(p, 0, j, CARNET_VALUE_DATE));
	carnet_panel_free(p);
	free(o);
	free(dates);
}

Test(panel, a_series_keeps_its_newest_values_in_any_order)
{
	newest_values_kept("PS", 0);
	newest_values_kept("PT", 1);
	newest_values_kept("PU", 2);
}

Test(panel, a_shard_refuses_the_results_of_another_shards_patient)
{
	/* two patients of different shards of 2 */
	const char *ids[] = { "PA", "PB", "PC", "PD", "PE", "PF", "PG", "PH" };
	const char *mine = ids[0], *other = NULL;
	unsigned s0, s;
	cr_assert_eq(carnet_shard_of(LOCAL, mine, 2, &s0, NULL), CARNET_OK);
	for (size_t i = 1; i < 8 && !other; i++) {
		cr_assert_eq(carnet_shard_of(LOCAL, ids[i], 2, &s, NULL), CARNET_OK);
		if (s != s0)
			other = ids[i];
	}
	cr_assert_not_null(other);
	const obs k[] = { { "2823-3", "4.4", "mmol/L", NULL, NULL, NULL } };
	bundle(mine, "M-1", "2025-01-01", OTHER, NULL, k, 1);
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_set_shard(w, s0, 2, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_add_file(w, th_path("%s/%s/M-1.json", docs, mine), NULL, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = professional(mine, NULL);
	carnet_panel *p = results(&req);
	cr_assert_eq(carnet_panel_count(p), 1);
	carnet_panel_free(p);
	req.patient_id = other;
	cr_assert_eq(carnet_index_results(&p, idx, &req, &err), CARNET_E_INVALID,
		     "another shard's patient is refused, not an empty record");
	cr_assert(strstr(err.message, "shard"), "%s", err.message);
}
