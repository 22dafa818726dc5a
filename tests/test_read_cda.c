/* test_read_cda.c - the CDA R2 reader on the real ANS CI-SIS and HL7 C-CDA
 * examples (../shared/corpora-public) and on bad XML written for the tests. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "reader.h"
#include "schema.h"

static carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, 10, CARNET_DEFAULT_PDF_MEMORY_BYTES };

static const char *ans(const char *name)
{
	return th_path("%s/../shared/corpora-public/ans-TestContenuCDA-3-0/ExemplesCDA/%s",
		       th_root(), name);
}

/* What the reader emitted for one file. */
typedef struct got {
	int docs;
	carnet_doc doc;   /* a copy of the metadata (sections joined in text) */
	carnet_buf text;
	unsigned max_weight;
} got;

static int keep(carnet_doc *doc, void *payload)
{
	got *g = payload;
	g->docs++;
	g->doc = *doc;           /* take it over */
	for (size_t i = 0; i < doc->sections_count; i++) {
		carnet_buf__put(&g->text, doc->sections[i].text, doc->sections[i].len);
		carnet_buf__putc(&g->text, '\n');
		if (doc->sections[i].weight > g->max_weight)
			g->max_weight = doc->sections[i].weight;
	}
	carnet_doc__init(doc);
	return 0;
}

static int read_file(const char *path, got *g, carnet_error *err)
{
	size_t len;
	char *data = th_slurp(path, &len);
	memset(g, 0, sizeof *g);
	carnet_doc__init(&g->doc);
	carnet_input in = { path, data, len, &limits };
	cr_assert_eq(carnet_reader__find(&in), &carnet_reader_cda, "%s", path);
	int rc = carnet_reader_cda.read(&in, keep, g, err);
	free(data);
	return rc;
}

static void release(got *g)
{
	carnet_doc__clear(&g->doc);
	carnet_buf__free(&g->text);
}

typedef struct expect {
	const char *file, *type, *patient, *system, *date, *specialty, *set_id;
	int version;
	const char *title;
} expect;

/* Values read from the files by hand. */
static const expect cases[] = {
	{ "ANEST-CR-CPA_2022.01.xml", "34749-2", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2020-03-17", "SM02", "1.2.250.1.213.1.1.1.41.2022.1", 1,
	  "CR de consultation pré-anesthésique" },
	{ "AVC-AUNV_2022.01.xml", "34133-9", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2018-09-23", "SM32", "1.2.250.1.213.1.1.1.15.2022.1", 1,
	  "Fiche d'admission en unité neuro-vasculaire" },
	{ "BIO-CR-BIO_2021.01_Microbiologie_V1.xml", "11502-2", "279035121518989",
	  "1.2.250.1.213.1.4.10", "2021-01-04", "SM03", "1.2.250.1.213.1.1.1.55.2021.6", 1,
	  "Compte rendu d'examens biologiques" },
	{ "BIO-CR-BIO_2021.01_Microbiologie_V2.xml", "11502-2", "279035121518989",
	  "1.2.250.1.213.1.4.10", "2021-01-04", "SM03", "1.2.250.1.213.1.1.1.55.2021.6", 2,
	  "Compte rendu d'examens biologiques" },
	{ "BIO-TROD_2024.01_Angine.xml", "96173-0", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2024-01-06", "G15_21/A", "1.2.250.1.213.1.1.1.59.2024.1", 1,
	  "Test rapide d'orientation diagnostique : TROD Angine" },
	{ "CANCER-CR-GM_2022.01_AnalyseRealisee.xml", "51969-4", "279035121518989",
	  "1.2.250.1.213.1.4.10", "2018-01-23", "SM01", "1.2.250.1.213.1.1.1.32.2022.2", 1,
	  "Compte-rendu de génétique moléculaire (CR-GM)" },
	{ "CANCER-PPS_2022.01_Autopresentable.xml", "18776-5", "279035121518989",
	  "1.2.250.1.213.1.4.10", "2021-01-13", "SM36", "1.2.250.1.213.1.1.1.26.2022.1", 1,
	  "PROGRAMME PERSONNALISÉ DE SOINS EN CANCEROLOGIE" },
	{ "LDL-SES_2022.01.xml", "11490-0", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2019-12-03", "SM27", "1.2.250.1.213.1.1.1.29.2022.1", 1,
	  "Lettre de liaison à la sortie de l'établissement de santé" },
	{ "OPH-BRE_2022.02.xml", "78513-9", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2021-08-27", "G15_28", "1.2.250.1.213.1.1.1.42.2022.1", 3,
	  "Ophtalmologie - Bilan de réfraction" },
	{ "SDM-MR_2024.01_nouveau-ne.xml", "34133-9", "224027511583555", "1.2.250.1.213.1.4.10",
	  "2024-02-28", "G15_10", "1.2.250.1.213.1.1.1.30.2024.1", 2,
	  "Set de données minimum maladies rares (SDM-MR)" },
	{ "TLM-CR_2022.01.xml", "85208-7", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2020-03-27", "SM26", "1.3.6.1.4.1.19376.1.2.20.2022.1", 1,
	  "Compte-rendu de téléconsultation" },
	{ "VAC_2023.01.xml", "11369-6", "279035121518989", "1.2.250.1.213.1.4.10", "2021-04-09",
	  "SM26", "1.2.250.1.213.1.1.1.37.2023.1", 1, "Historique de vaccinations" },
	{ "VSM_1.4_2022.01.xml", "SYNTH", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2020-03-12", "SM26", "1.2.250.1.213.1.1.1.13.2022.1", 1, "Synthèse Médicale" },
	{ "eP-MED-DM_2024.01_PosoStruct.xml", "57833-6", "279035121518989",
	  "1.2.250.1.213.1.4.10", "2023-12-01", "SM26", "1.2.250.1.213.1.1.1.39.2024.2", 1,
	  "Prescription de médicaments et/ou de dispositifs médicaux" },
};

Test(cda, header_metadata_of_the_ans_examples)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const expect *e = &cases[i];
		got g;
		carnet_error err;
		cr_assert_eq(read_file(ans(e->file), &g, &err), CARNET_OK, "%s: %s", e->file,
			     err.message);
		cr_assert_eq(g.docs, 1, "%s", e->file);
		cr_assert_str_eq(g.doc.type, e->type, "%s", e->file);
		cr_assert_str_eq(g.doc.patient_id, e->patient, "%s", e->file);
		cr_assert_str_eq(g.doc.patient_system, e->system, "%s", e->file);
		cr_assert_str_eq(g.doc.date, e->date, "%s", e->file);
		cr_assert_str_eq(g.doc.author_specialty, e->specialty, "%s", e->file);
		cr_assert_str_eq(g.doc.set_id, e->set_id, "%s", e->file);
		cr_assert_eq(g.doc.version, e->version, "%s", e->file);
		cr_assert_str_eq(g.doc.title, e->title, "%s", e->file);
		cr_assert_str_eq(g.doc.format, "cda");
		cr_assert_gt(g.text.len, 0, "%s has text", e->file);
		release(&g);
	}
}

Test(cda, a_second_version_names_the_document_it_replaces)
{
	got v1, v2;
	cr_assert_eq(read_file(ans("BIO-CR-BIO_2024.01_Microbiologie_V1.xml"), &v1, NULL), CARNET_OK);
	cr_assert_eq(read_file(ans("BIO-CR-BIO_2024.01_Microbiologie_V2.xml"), &v2, NULL), CARNET_OK);
	cr_assert_str_eq(v1.doc.set_id, v2.doc.set_id);
	cr_assert_str_neq(v1.doc.id, v2.doc.id);
	cr_assert_eq(v1.doc.version, 1);
	cr_assert_eq(v2.doc.version, 2);
	cr_assert_null(v1.doc.replaces);
	cr_assert_not_null(v2.doc.replaces);
	release(&v1);
	release(&v2);
}

Test(cda, local_patient_ids_are_kept_apart_from_the_ins)
{
	got g;
	cr_assert_eq(read_file(ans("LDL-SES_2022.01.xml"), &g, NULL), CARNET_OK);
	cr_assert_str_eq(g.doc.patient_id, "279035121518989");
	cr_assert_not_null(g.doc.other_ids);
	cr_assert_str_eq(g.doc.other_ids, "1.2.3.4.567.8.9.10^1234567890121");
	cr_assert_not_null(g.doc.author_name);
	cr_assert_not_null(g.doc.custodian);
	release(&g);
}

Test(cda, section_text_coded_entries_and_conclusions_are_searchable)
{
	got g;
	cr_assert_eq(read_file(ans("LDL-SES_2022.01.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "Motif de l'hospitalisation"), "section titles");
	cr_assert_eq(g.max_weight, CARNET_WEIGHT_CONCLUSION, "the synthèse weighs more");
	release(&g);
	cr_assert_eq(read_file(ans("VAC_2023.01.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "voie intramusculaire 20035000"), "coded entry: %.300s",
		  g.text.data);
	cr_assert(strstr(g.text.data, "deltoïde gauche"));
	release(&g);
}

Test(cda, nonxmlbody_text_and_pdf_are_extracted)
{
	got g;
	carnet_error err;
	const char *txt = th_path("%s/../shared/corpora-public/hl7-C-CDA-Examples/Unstructured/"
				  "CDA with Embedded Text plain/CDA_Embedded_Text_Plain_Surgical_Consult.xml",
				  th_root());
	cr_assert_eq(read_file(txt, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_gt(g.text.len, 100, "base64 text/plain body decoded");
	release(&g);
	const char *pdf = th_path("%s/../shared/corpora-public/hl7-C-CDA-Examples/Unstructured/"
				  "CDA with Embedded PDF 2/CDA_with_Embedded_PDF.xml", th_root());
	cr_assert_eq(read_file(pdf, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert(strstr(g.text.data, "Advance"), "words of the embedded PDF: %.200s", g.text.data);
	release(&g);
}

static void expect_reject(const char *name, const char *why)
{
	got g;
	carnet_error err;
	const char *p = th_path("%s/tests/data/cda/%s", th_root(), name);
	cr_assert_lt(read_file(p, &g, &err), 0, "%s was read", name);
	cr_assert_eq(g.docs, 0);
	cr_assert(strstr(err.message, name), "names the file: %s", err.message);
	cr_assert(strstr(err.message, why), "%s: says '%s': %s", name, why, err.message);
	cr_assert_null(strstr(err.message, "root:x:0"), "no file content leaks");
	release(&g);
}

Test(cda, bad_xml_is_rejected_with_a_reason_and_no_network)
{
	expect_reject("xxe.xml", "entities");
	expect_reject("bomb.xml", "entities");
	expect_reject("truncated.xml", "malformed XML at line");
	expect_reject("no-patient.xml", "no patient id");
	expect_reject("bad-base64.xml", "not valid base64");
	expect_reject("external.xml", "external file");
	expect_reject("valueset.xml", "not an HL7 CDA ClinicalDocument");
	expect_reject("latin1-declared-utf8.xml", "malformed XML");
	expect_reject("xxe-utf16.xml", "entities");
	expect_reject("xxe-parameter.xml", "entities");
	expect_reject("compressed.xml", "compressed");
	expect_reject("fhir.xml", "FHIR XML");
	expect_reject("no-namespace.xml", "not an HL7 CDA ClinicalDocument");
	expect_reject("not-well-formed.xml", "malformed XML");
}

static int count_dir(const char *dir_arg, int *read, int *rejected)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", dir_arg); /* th_path buffers rotate */
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 4, ".xml") != 0)
			continue;
		got g;
		carnet_error err;
		int rc = read_file(th_path("%s/%s", dir, e->d_name), &g, &err);
		if (rc == CARNET_OK) {
			cr_assert_eq(g.docs, 1, "%s", e->d_name);
			cr_assert_not_null(g.doc.patient_id, "%s", e->d_name);
			(*read)++;
		} else {
			cr_assert_neq(strlen(err.message), 0);
			cr_log_info("%s: %s", e->d_name, err.message);
			(*rejected)++;
		}
		release(&g);
	}
	closedir(d);
	return 0;
}

Test(cda, every_french_example_is_read_or_rejected_with_a_reason)
{
	int read = 0, rejected = 0;
	count_dir(th_path("%s/../shared/corpora-public/ans-TestContenuCDA-3-0/ExemplesCDA", th_root()),
		  &read, &rejected);
	count_dir(th_path("%s/../shared/corpora-public/ans-TestContenuCDA-2-41/ExemplesCDA", th_root()),
		  &read, &rejected);
	cr_log_info("%d read, %d rejected", read, rejected);
	cr_assert_eq(read + rejected, 97);
	cr_assert_eq(read, 97, "every ANS example carries a patient");
}
