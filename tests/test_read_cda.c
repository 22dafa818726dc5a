/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_read_cda.c - the CDA R2 reader on CI-SIS-shaped documents written
 * for the tests (tests/data/cda/cisis-*.xml, made by make_ci_sis.py), on
 * the HL7 C-CDA examples (vendored in corpora/), on bad XML written for
 * the tests (tests/data/cda), and on the real ANS CI-SIS examples when
 * they are present (they may not be redistributed: th_public skips those
 * tests without them). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "reader.h"

static carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, 30, CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };

#define ANS_ABSENT "ANS CI-SIS examples"

static const char *ans(const char *name)
{
	return th_public(th_path("ans-TestContenuCDA-3-0/ExemplesCDA/%s", name), ANS_ABSENT);
}

static const char *hl7(const char *name)
{
	return th_corpus(th_path("hl7-C-CDA-Examples/%s", name));
}

/* A CI-SIS-shaped fixture of ours, tests/data/cda/name. */
static const char *own(const char *name)
{
	return th_path("%s/tests/data/cda/%s", th_root(), name);
}

/* What the reader emitted for one input. */
typedef struct got {
	int docs;
	carnet_doc doc;  /* the document, taken over from the reader */
	carnet_buf text; /* its sections joined, one per line */
} got;

static int keep(carnet_doc *doc, void *payload)
{
	got *g = payload;
	g->docs++;
	carnet_doc__clear(&g->doc);
	g->doc = *doc; /* take it over; the reader clears the emptied one */
	for (size_t i = 0; i < doc->sections_count; i++) {
		carnet_buf__put(&g->text, doc->sections[i].text, doc->sections[i].len);
		carnet_buf__putc(&g->text, '\n');
	}
	carnet_doc__init(doc);
	return 0;
}

static int read_mem(const char *path, const char *data, size_t len, got *g, carnet_error *err)
{
	memset(g, 0, sizeof *g);
	carnet_doc__init(&g->doc);
	carnet_input in = { path, data, len, &limits };
	return carnet_reader_cda.read(&in, keep, g, err);
}

/* Read a file through the reader that claims it (which must be this one). */
static int read_file(const char *path_arg, got *g, carnet_error *err)
{
	char path[4096];
	snprintf(path, sizeof path, "%s", path_arg); /* th_path buffers rotate */
	size_t len;
	char *data = th_slurp(path, &len);
	cr_assert_not_null(data, "%s", path);
	carnet_input in = { path, data, len, &limits };
	cr_assert_eq(carnet_reader__find(&in), &carnet_reader_cda, "%s", path);
	int rc = read_mem(path, data, len, g, err);
	free(data);
	return rc;
}

static void release(got *g)
{
	carnet_doc__clear(&g->doc);
	carnet_buf__free(&g->text);
}

/* The kind of the first section whose text starts with prefix (-1: none). */
static int kind_of(const carnet_doc *d, const char *prefix)
{
	for (size_t i = 0; i < d->sections_count; i++)
		if (d->sections[i].len >= strlen(prefix) &&
		    memcmp(d->sections[i].text, prefix, strlen(prefix)) == 0)
			return (int)d->sections[i].kind;
	return -1;
}

static int sniff_of(const char *path, const char *data)
{
	carnet_input in = { path, data, strlen(data), &limits };
	return carnet_reader_cda.sniff(&in);
}

Test(cda, sniff_claims_cda_and_every_xml_file)
{
	const char *cda = "<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\">";
	cr_assert_eq(sniff_of("a/b.xml", cda), 40);
	cr_assert_eq(sniff_of("a/B.XML", cda), 40);
	cr_assert_eq(sniff_of("a.xml", "<ClinicalDocument>"), 10, "no HL7 namespace");
	cr_assert_eq(sniff_of("a.xml", "<RetrieveValueSetResponse/>"), 10);
	cr_assert_eq(sniff_of("a.txt", "bonjour"), 0);
	cr_assert_eq(sniff_of("a.json", "{\"resourceType\":\"Bundle\"}"), 0);
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
	{ "CNAM-HR_2021.01.xml", "REMB", "279035121518989", "1.2.250.1.213.1.4.10", "2019-07-01",
	  "ALIM_AM", "1.2.250.1.213.1.1.1.36.2021.1", 1, "Données de remboursement" },
	{ "CSE-CS8_2025.01.xml", "CERT_DECL", "221042545611404", "1.2.250.1.213.1.4.10",
	  "2021-05-03", "SM40", "1.2.250.1.213.1.1.1.5.1.2024.2", 1,
	  "Premier certificat de santé (à établir obligatoirement dans les 8 jours suivant la "
	  "naissance)" },
	{ "IMG-DA-IMG_2024.01_TEP_Thorax.xml", "55115-0", "279035121518989",
	  "1.2.250.1.213.1.4.10", "2021-01-12", "SM26", "1.2.250.1.213.1.1.1.47.2024.7", 1,
	  "Demande d'acte d'imagerie" },
	{ "LDL-SES_2022.01.xml", "11490-0", "279035121518989", "1.2.250.1.213.1.4.10",
	  "2019-12-03", "SM27", "1.2.250.1.213.1.1.1.29.2022.1", 1,
	  "Lettre de liaison à la sortie de l'établissement de santé" },
	{ "OBP-SNE_2024.01.xml", "57075-4", "223042545611404", "1.2.250.1.213.1.4.8",
	  "2023-04-25", "SM20", "1.2.250.1.213.1.1.1.12.3.2024.1", 1,
	  "Synthèse Salle de Naissance Enfant" },
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

/* Read path and check its header against e; returns its id (static). */
static const char *check_header(const expect *e, const char *path)
{
	static char id[256];
	got g;
	carnet_error err;
	cr_assert_eq(read_file(path, &g, &err), CARNET_OK, "%s: %s", e->file, err.message);
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
	cr_assert_str_eq(g.doc.confidentiality, "N", "%s", e->file);
	cr_assert_str_eq(g.doc.language, "fr-FR", "%s", e->file);
	cr_assert_null(g.doc.class_code, "derived by the writer");
	cr_assert_gt(g.text.len, 0, "%s has text", e->file);
	snprintf(id, sizeof id, "%s", g.doc.id ? g.doc.id : "");
	release(&g);
	return id;
}

Test(cda, header_metadata_of_the_ans_examples)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_header(&cases[i], ans(cases[i].file));
}

/* The same fields on our own fixtures (tests/data/cda/make_ci_sis.py). */
static const expect own_cases[] = {
	{ "cisis-ldl-ses.xml", "11490-0", "257057512345637", "1.2.250.1.213.1.4.10",
	  "2026-03-09", "SM27", "1.2.250.1.999.7.1", 1,
	  "Lettre de liaison à la sortie de l'établissement de santé" },
	{ "cisis-bio-creatinine.xml", "11502-2", "257057512345637", "1.2.250.1.213.1.4.10",
	  "2026-02-12", "SM03", "1.2.250.1.999.7.2", 1, "Compte rendu d'examens biologiques" },
	{ "cisis-bio-ecbu-v1.xml", "11502-2", "257057512345637", "1.2.250.1.213.1.4.10",
	  "2026-04-20", "SM03", "1.2.250.1.999.7.3", 1, "Compte rendu d'examens biologiques" },
	{ "cisis-bio-ecbu-v2.xml", "11502-2", "257057512345637", "1.2.250.1.213.1.4.10",
	  "2026-04-22", "SM03", "1.2.250.1.999.7.3", 2, "Compte rendu d'examens biologiques" },
	{ "cisis-obp-sne.xml", "57075-4", "226043306398763", "1.2.250.1.213.1.4.8",
	  "2026-04-11", "SM20", "1.2.250.1.999.7.4", 1, "Synthèse Salle de Naissance Enfant" },
	{ "cisis-cse-cs8.xml", "CERT_DECL", "126017512398741", "1.2.250.1.213.1.4.10",
	  "2026-01-12", "SM40", "1.2.250.1.999.7.5", 1, "Premier certificat de santé de l'enfant" },
	{ "cisis-vac.xml", "11369-6", "257057512345637", "1.2.250.1.213.1.4.10", "2026-03-05",
	  "SM26", "1.2.250.1.999.7.6", 1, "Historique de vaccinations" },
	{ "cisis-pps-autopresentable.xml", "18776-5", "257057512345637", "1.2.250.1.213.1.4.10",
	  "2026-01-15", "G15_21", "1.2.250.1.999.7.7", 1, "Programme personnalisé de soins" },
	{ "cisis-img-cr-n1.xml", "18748-4", "257057512345637", "1.2.250.1.213.1.4.10",
	  "2026-06-01", "SM44", "1.2.250.1.999.7.8", 1, "Compte rendu d'imagerie médicale" },
};

Test(cda, header_metadata_of_our_ci_sis_documents)
{
	for (size_t i = 0; i < sizeof own_cases / sizeof own_cases[0]; i++) {
		const expect *e = &own_cases[i];
		cr_assert_str_eq(check_header(e, own(e->file)),
				 th_path("%s.%d", e->set_id, e->version), "%s", e->file);
	}
}

Test(cda, the_whole_header_of_our_discharge_letter)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_file(own("cisis-ldl-ses.xml"), &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.doc.id, "1.2.250.1.999.7.1.1");
	cr_assert_str_eq(g.doc.author_id, "81000012345");
	cr_assert_str_eq(g.doc.author_name, "Paul VERDIER-TEST", "the first given name, no prefix");
	cr_assert_str_eq(g.doc.custodian, "Centre hospitalier de Valmont-TEST");
	cr_assert_str_eq(g.doc.service_start, "2026-03-02");
	cr_assert_str_eq(g.doc.service_end, "2026-03-09");
	cr_assert_str_eq(g.doc.practice_setting, "SA01");
	cr_assert_str_eq(g.doc.facility, "Etablissement public de santé", "the SA code's name");
	cr_assert_null(g.doc.replaces);
	release(&g);
	/* the facility by its organisation's name, before the code's name */
	cr_assert_eq(read_file(own("cisis-obp-sne.xml"), &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.doc.practice_setting, "SA01");
	cr_assert_str_eq(g.doc.facility, "Maternité des Pins-TEST");
	cr_assert_null(g.doc.service_start, "no serviceEvent");
	release(&g);
	/* a custodian known by its id only */
	cr_assert_eq(read_file(own("cisis-vac.xml"), &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.doc.custodian, "330000000123");
	cr_assert_null(g.doc.practice_setting, "no encounter");
	cr_assert_null(g.doc.facility);
	release(&g);
}

Test(cda, the_whole_header_of_a_discharge_letter)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_file(ans("LDL-SES_2022.01.xml"), &g, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_str_eq(g.doc.id, "1.2.250.1.213.1.1.1.29.2022.1.1");
	cr_assert_str_eq(g.doc.author_id, "801234567897");
	cr_assert_str_eq(g.doc.author_name, "Charles DAVID");
	cr_assert_str_eq(g.doc.custodian, "Hôpital Européen Georges Pompidou");
	cr_assert_str_eq(g.doc.service_start, "2019-10-29");
	cr_assert_str_eq(g.doc.service_end, "2019-12-03");
	cr_assert_str_eq(g.doc.practice_setting, "SA01");
	cr_assert_str_eq(g.doc.facility, "Etablissement public de santé");
	cr_assert_null(g.doc.replaces);
	release(&g);
}

/* Both Microbiologie pairs: one set, versions 1 and 2, V2 names (RPLC) the
 * document it replaces. In these examples the RPLC id is not V1's id (the
 * ANS files point at an id of their own), so the exact value is checked. */
static void version_pair(const char *year, const char *set_id, const char *replaced)
{
	got v1, v2;
	carnet_error err;
	char n1[128], n2[128];
	snprintf(n1, sizeof n1, "BIO-CR-BIO_%s_Microbiologie_V1.xml", year);
	snprintf(n2, sizeof n2, "BIO-CR-BIO_%s_Microbiologie_V2.xml", year);
	cr_assert_eq(read_file(ans(n1), &v1, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(read_file(ans(n2), &v2, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(v1.doc.set_id, set_id);
	cr_assert_str_eq(v2.doc.set_id, set_id);
	cr_assert_str_eq(v1.doc.id, th_path("%s.1", set_id));
	cr_assert_str_eq(v2.doc.id, th_path("%s.2", set_id));
	cr_assert_eq(v1.doc.version, 1);
	cr_assert_eq(v2.doc.version, 2);
	cr_assert_null(v1.doc.replaces);
	cr_assert_str_eq(v2.doc.replaces, replaced);
	release(&v1);
	release(&v2);
}

Test(cda, a_second_version_names_the_document_it_replaces)
{
	version_pair("2021.01", "1.2.250.1.213.1.1.1.55.2021.6", "1.2.250.1.213.1.1.1.55.12345.8");
	version_pair("2024.01", "1.2.250.1.213.1.1.1.55.2024.8", "1.2.250.1.213.1.1.1.55.12345.13");
}

Test(cda, our_second_version_names_the_first_as_replaced)
{
	got v1, v2;
	carnet_error err;
	cr_assert_eq(read_file(own("cisis-bio-ecbu-v1.xml"), &v1, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(read_file(own("cisis-bio-ecbu-v2.xml"), &v2, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_str_eq(v1.doc.set_id, "1.2.250.1.999.7.3");
	cr_assert_str_eq(v2.doc.set_id, "1.2.250.1.999.7.3");
	cr_assert_str_eq(v1.doc.id, "1.2.250.1.999.7.3.1");
	cr_assert_str_eq(v2.doc.id, "1.2.250.1.999.7.3.2");
	cr_assert_eq(v1.doc.version, 1);
	cr_assert_eq(v2.doc.version, 2);
	cr_assert_null(v1.doc.replaces);
	cr_assert_str_eq(v2.doc.replaces, v1.doc.id);
	cr_assert_str_eq(v1.doc.service_end, "2026-04-20");
	cr_assert_str_eq(v2.doc.service_end, "2026-04-22");
	/* each version's own words */
	cr_assert(strstr(v1.text.data, "Culture en cours"));
	cr_assert_null(strstr(v2.text.data, "Culture en cours"));
	cr_assert(strstr(v2.text.data, "Amoxicilline\tR\n"), "%s", v2.text.data);
	cr_assert_null(strstr(v1.text.data, "Amoxicilline"));
	release(&v1);
	release(&v2);
}

/* The patient of path: its id, system and other ids (NULL: none). */
static void check_ids(const char *path, const char *patient, const char *system,
		      const char *others)
{
	got g;
	cr_assert_eq(read_file(path, &g, NULL), CARNET_OK);
	cr_assert_str_eq(g.doc.patient_id, patient, "%s", path);
	cr_assert_str_eq(g.doc.patient_system, system, "%s", path);
	if (others)
		cr_assert_str_eq(g.doc.other_ids, others, "%s", path);
	else
		cr_assert_null(g.doc.other_ids, "%s", path);
	release(&g);
}

Test(cda, local_patient_ids_of_ours_are_kept_apart_from_the_ins)
{
	/* a test INS-NIR (1.2.250.1.213.1.4.10) and a hospital's IPP */
	check_ids(own("cisis-ldl-ses.xml"), "257057512345637", "1.2.250.1.213.1.4.10",
		  "1.2.250.1.999.3.1^IPP-0448120");
	/* an INS-NIR and a local id of another system */
	check_ids(own("cisis-obp-sne.xml"), "226043306398763", "1.2.250.1.213.1.4.8",
		  "1.2.250.1.999.3.7^NN-2026-0412");
	/* the INS only */
	check_ids(own("cisis-cse-cs8.xml"), "126017512398741", "1.2.250.1.213.1.4.10", NULL);
}

Test(cda, local_patient_ids_are_kept_apart_from_the_ins)
{
	check_ids(ans("LDL-SES_2022.01.xml"), "279035121518989", "1.2.250.1.213.1.4.10",
		  "1.2.3.4.567.8.9.10^1234567890121");
	/* an INS-NIR and a local id of another system */
	check_ids(ans("OBP-SNE_2024.01.xml"), "223042545611404", "1.2.250.1.213.1.4.8",
		  "1.2.3.4.5.6.7.8.9.10^594857603");
	/* the INS only */
	check_ids(ans("CSE-CS8_2025.01.xml"), "221042545611404", "1.2.250.1.213.1.4.10", NULL);
}

static const char *synthetic_head =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\n"
	"<id root=\"1.2.3\" extension=\"S1\"/><setId root=\"1.2.3.9\"/>\n"
	"<code code=\"11488-4\"/><title> Compte  rendu\n de consultation </title>\n"
	"<effectiveTime value=\"20250314101500+0100\"/>\n";

/* A small CDA built from synthetic_head, ids and the rest. */
static int read_synthetic(const char *ids, const char *rest, got *g, carnet_error *err)
{
	char data[4096];
	snprintf(data, sizeof data,
		 "%s<recordTarget><patientRole>%s</patientRole></recordTarget>\n%s"
		 "</ClinicalDocument>\n", synthetic_head, ids, rest);
	return read_mem("synthetic.xml", data, strlen(data), g, err);
}

Test(cda, without_an_ins_the_first_id_with_an_extension_is_the_patient)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_synthetic("<id root=\"1.2.9\"/><id root=\"1.2.3.4\" extension=\"IPP7\"/>"
				    "<id root=\"1.2.3.5\" extension=\"X9\"/>", "", &g, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.doc.patient_id, "IPP7");
	cr_assert_str_eq(g.doc.patient_system, "1.2.3.4");
	cr_assert_str_eq(g.doc.other_ids, "1.2.3.5^X9");
	cr_assert_str_eq(g.doc.id, "1.2.3^S1");
	cr_assert_str_eq(g.doc.set_id, "1.2.3.9");
	cr_assert_str_eq(g.doc.title, "Compte rendu de consultation");
	cr_assert_str_eq(g.doc.date, "2025-03-14");
	cr_assert_eq(g.doc.version, 1);
	release(&g);
	/* the INS wins wherever it stands */
	cr_assert_eq(read_synthetic("<id root=\"1.2.3.4\" extension=\"IPP7\"/>"
				    "<id root=\"1.2.250.1.213.1.4.9\" extension=\"1234\"/>", "", &g,
				    &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.doc.patient_id, "1234");
	cr_assert_str_eq(g.doc.patient_system, "1.2.250.1.213.1.4.9");
	cr_assert_str_eq(g.doc.other_ids, "1.2.3.4^IPP7");
	release(&g);
}

Test(cda, a_physician_specialty_is_kept_as_sm_and_other_codes_as_given)
{
	static const char *const codes[][2] = {
		{ "G15_10/SM04", "SM04" },     { "G15_10/C25", "G15_10/C25" },
		{ "G15_10/SM", "G15_10/SM" }, { "G15_21", "G15_21" },
		{ "G15_10", "G15_10" },
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char author[512];
		snprintf(author, sizeof author,
			 "<author><assignedAuthor><id root=\"1.2.250.1.71.4.2.1\" "
			 "extension=\"801\"/><code code=\"%s\"/><assignedPerson><name>"
			 "<given>Jeanne</given> <family> MARTIN </family></name></assignedPerson>"
			 "</assignedAuthor></author>", codes[i][0]);
		got g;
		carnet_error err;
		cr_assert_eq(read_synthetic("<id root=\"1.2.250.1.213.1.4.8\" extension=\"1\"/>",
					    author, &g, &err),
			     CARNET_OK, "%s", err.message);
		cr_assert_str_eq(g.doc.author_specialty, codes[i][1]);
		cr_assert_str_eq(g.doc.author_id, "801");
		cr_assert_str_eq(g.doc.author_name, "Jeanne MARTIN");
		release(&g);
	}
}

Test(cda, section_text_and_conclusions)
{
	got g;
	cr_assert_eq(read_file(own("cisis-ldl-ses.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "Motif de l'hospitalisation\nDécompensation cardiaque"),
		  "section titles");
	cr_assert(strstr(g.text.data, "Synthèse médicale du séjour\n"), "nested section");
	cr_assert_eq(kind_of(&g.doc, "Synthèse médicale du séjour"), CARNET_SECTION_CONCLUSION);
	cr_assert_eq(kind_of(&g.doc, "Motif de l'hospitalisation"), CARNET_SECTION_CONCLUSION);
	cr_assert_eq(kind_of(&g.doc, "Séjour\n"), CARNET_SECTION_BODY, "the parent section");
	cr_assert_eq(kind_of(&g.doc, "Traitements à la sortie"), CARNET_SECTION_BODY);
	/* table cells are separated by tabs, rows by newlines */
	cr_assert(strstr(g.text.data, "Furosémide 40 mg\t1 cp le matin\n"), "%s", g.text.data);
	release(&g);
	cr_assert_eq(read_file(own("cisis-bio-creatinine.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "Créatinine\t98 µmol/L\t(45 - 90)\n"), "%s", g.text.data);
	release(&g);
	/* a conclusion by its section code (55110-1), whatever its title */
	carnet_error err;
	cr_assert_eq(read_synthetic("<id root=\"1.2.250.1.213.1.4.8\" extension=\"1\"/>",
				    "<component><structuredBody><component><section>"
				    "<code code=\"55110-1\"/><title>Au total</title>"
				    "<text><paragraph>Examen normal.</paragraph></text></section>"
				    "</component><component><section><title>Examen</title><text>"
				    "<list><item>Poids</item><item>Taille</item></list></text>"
				    "</section></component></structuredBody></component>",
				    &g, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(g.doc.sections_count, 2);
	cr_assert_eq(kind_of(&g.doc, "Au total\nExamen normal."), CARNET_SECTION_CONCLUSION);
	cr_assert_eq(kind_of(&g.doc, "Examen\nPoids\nTaille"), CARNET_SECTION_BODY);
	release(&g);
}

/* One rule says which sections conclude, for every reader: by LOINC code
 * or title word, in any case, accented or not; results are findings. */
Test(cda, one_rule_says_which_sections_conclude)
{
	static const struct {
		const char *code, *title;
		carnet_section_kind kind;
	} rules[] = {
		{ NULL, "Conclusion", CARNET_SECTION_CONCLUSION },
		{ NULL, "CONCLUSION DE L'EXAMEN", CARNET_SECTION_CONCLUSION },
		{ NULL, "Synthèse médicale du séjour", CARNET_SECTION_CONCLUSION },
		{ NULL, "SYNTHÈSE", CARNET_SECTION_CONCLUSION },
		{ NULL, "Motif de consultation", CARNET_SECTION_CONCLUSION },
		{ NULL, "Diagnostic de sortie", CARNET_SECTION_CONCLUSION },
		{ NULL, "Discharge diagnosis", CARNET_SECTION_CONCLUSION },
		{ NULL, "Impression", CARNET_SECTION_CONCLUSION },
		{ NULL, "Assessment and plan", CARNET_SECTION_CONCLUSION },
		{ "55110-1", "Au total", CARNET_SECTION_CONCLUSION },
		{ "29548-5", NULL, CARNET_SECTION_CONCLUSION },
		{ "42349-1", "Adressé pour", CARNET_SECTION_CONCLUSION },
		{ NULL, "Résultats", CARNET_SECTION_BODY },
		{ NULL, "RÉSULTATS", CARNET_SECTION_BODY },
		{ "30954-2", "Résultats d'examens", CARNET_SECTION_BODY },
		{ NULL, "Examen clinique", CARNET_SECTION_BODY },
		{ NULL, "Traitement de sortie", CARNET_SECTION_BODY },
		{ "10160-0", NULL, CARNET_SECTION_BODY },
		{ NULL, NULL, CARNET_SECTION_BODY },
	};
	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		cr_expect_eq(carnet_doc__section_kind(rules[i].code, rules[i].title), rules[i].kind,
			     "%s / %s", rules[i].code ? rules[i].code : "(no code)",
			     rules[i].title ? rules[i].title : "(no title)");
}

Test(cda, a_results_section_is_body_and_its_conclusion_concludes)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_synthetic("<id root=\"1.2.250.1.213.1.4.8\" extension=\"1\"/>",
				    "<component><structuredBody><component><section>"
				    "<code code=\"30954-2\"/><title>Résultats</title>"
				    "<text><paragraph>Créatinine 98 µmol/L</paragraph></text></section>"
				    "</component><component><section><title>Conclusion</title><text>"
				    "<paragraph>Fonction rénale normale.</paragraph></text>"
				    "</section></component></structuredBody></component>",
				    &g, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(g.doc.sections_count, 2);
	cr_assert_eq(kind_of(&g.doc, "Résultats\nCréatinine"), CARNET_SECTION_BODY);
	cr_assert_eq(kind_of(&g.doc, "Conclusion\nFonction rénale normale."),
		     CARNET_SECTION_CONCLUSION);
	release(&g);
}

Test(cda, section_text_and_conclusions_of_the_ans_examples)
{
	got g;
	cr_assert_eq(read_file(ans("LDL-SES_2022.01.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "Motif de l'hospitalisation"), "section titles");
	cr_assert(strstr(g.text.data, "Synthèse médicale du séjour\n"), "nested section");
	cr_assert_eq(kind_of(&g.doc, "Synthèse médicale du séjour"), CARNET_SECTION_CONCLUSION);
	cr_assert_eq(kind_of(&g.doc, "Motif de l'hospitalisation"), CARNET_SECTION_CONCLUSION);
	cr_assert_eq(kind_of(&g.doc, "Traitements à la sortie"), CARNET_SECTION_BODY);
	release(&g);
	/* table cells are separated by tabs, rows by newlines */
	cr_assert_eq(read_file(ans("BIO-CR-BIO_2024.01_Glycémie mole.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "4.89 mmol/L\t(3.89 - 6.00)\n"), "%.600s", g.text.data);
	release(&g);
}

Test(cda, coded_entries_are_searchable_by_code_and_display_name)
{
	got g;
	cr_assert_eq(read_file(own("cisis-vac.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "voie intramusculaire 20035000\n"), "%s", g.text.data);
	cr_assert(strstr(g.text.data, "bras gauche LA\n"));
	cr_assert(strstr(g.text.data, "vaccin grippal, antigène de surface inactivé J07BB02\n"));
	release(&g);
	cr_assert_eq(read_file(own("cisis-bio-creatinine.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "Créatinine [Moles/Volume] Sérum/Plasma ; Numérique "
				      "14682-9\n"), "%s", g.text.data);
	cr_assert_null(strstr(g.text.data, "completed"), "a status code is not a word");
	release(&g);
}

Test(cda, coded_entries_of_the_ans_examples)
{
	got g;
	cr_assert_eq(read_file(ans("VAC_2023.01.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "voie intramusculaire 20035000"), "coded entry");
	cr_assert(strstr(g.text.data, "deltoïde gauche"));
	release(&g);
	cr_assert_eq(read_file(ans("BIO-CR-BIO_2024.01_Glycémie mole.xml"), &g, NULL), CARNET_OK);
	cr_assert(strstr(g.text.data, "Glucose à jeun [Moles/Volume] Sérum/Plasma ; Numérique "
				      "40193-5\n"));
	release(&g);
}

Test(cda, nonxmlbody_base64_text_is_read)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_file(hl7("Unstructured/CDA with Embedded Text plain/"
				   "CDA_Embedded_Text_Plain_Surgical_Consult.xml"), &g, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_eq(g.doc.sections_count, 1);
	cr_assert(strstr(g.text.data, "surgical") || strstr(g.text.data, "Surgical"), "%.300s",
		  g.text.data);
	release(&g);
	/* plain (TXT) content and base64 HTML, from strings */
	cr_assert_eq(read_synthetic("<id root=\"1.2.250.1.213.1.4.8\" extension=\"1\"/>",
				    "<component><nonXMLBody><text mediaType=\"text/plain\">"
				    "Hémoglobine normale</text></nonXMLBody></component>", &g, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert(strstr(g.text.data, "Hémoglobine normale"));
	release(&g);
}

Test(cda, nonxmlbody_pdf_words_are_extracted)
{
	got g;
	carnet_error err;
	int rc = read_file(hl7("Unstructured/CDA with Embedded PDF 2/CDA_with_Embedded_PDF.xml"),
			   &g, &err);
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	cr_assert(strstr(g.text.data ? g.text.data : "", "Advance"), "PDF words");
	release(&g);
	rc = read_file(own("cisis-img-cr-n1.xml"), &g, &err);
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	cr_assert_eq(g.doc.sections_count, 1);
	cr_assert(strstr(g.text.data ? g.text.data : "", "Scanner thoracique sans injection\n"
				 "Nodule pulmonaire de 6 mm du lobe moyen."), "PDF words: %s",
		  g.text.data);
	release(&g);
	/* a scanned page (an image only): read, with no text */
	rc = read_file(own("cisis-doc-scan.xml"), &g, &err);
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_str_eq(g.doc.patient_id, "257057512345637");
	cr_assert_str_eq(g.doc.type, "11488-4");
	cr_assert_str_eq(g.doc.title, "Courrier numérisé");
	cr_assert_eq(g.text.len, 0, "%s", g.text.data);
	release(&g);
}

Test(cda, nonxmlbody_pdf_words_of_the_ans_examples)
{
	got g;
	carnet_error err;
	int rc = read_file(ans("IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml"), &g, &err);
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	cr_assert(strstr(g.text.data ? g.text.data : "", "Scanner de la tête et du cou"),
		  "PDF words");
	release(&g);
	/* the DOC_NON_STRUCTURE PDFs are scanned pages: read, with no text */
	rc = read_file(ans("DOC_NON_STRUCTURE_CDA-R2-N1.xml"), &g, &err);
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_str_eq(g.doc.patient_id, "279035121518989");
	cr_assert_str_eq(g.doc.type, "11502-2");
	release(&g);
}

/* The expected rejection of tests/data/cda/name: code, origin, the path
 * and the reason in the message, nothing emitted. */
static void expect_reject(const char *name, int code, const char *why)
{
	got g;
	carnet_error err;
	memset(&err, 0, sizeof err);
	const char *p = th_path("%s/tests/data/cda/%s", th_root(), name);
	int rc = read_file(p, &g, &err);
	cr_assert_eq(rc, code, "%s: %d %s", name, rc, err.message);
	cr_assert_eq(err.code, code, "%s", name);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT, "%s", name);
	cr_assert_eq(g.docs, 0, "%s emitted a document", name);
	cr_assert(strstr(err.message, name), "names the file: %s", err.message);
	cr_assert(strstr(err.message, why), "%s: says '%s': %s", name, why, err.message);
	cr_assert_null(strstr(err.message, "root:"), "no file content leaks");
	release(&g);
}

Test(cda, bad_xml_is_rejected_with_a_reason_and_no_network)
{
	expect_reject("xxe.xml", CARNET_E_INVALID, "DOCTYPE declares entities");
	expect_reject("xxe-parameter.xml", CARNET_E_INVALID, "DOCTYPE declares entities");
	expect_reject("xxe-utf16.xml", CARNET_E_INVALID, "DOCTYPE declares entities");
	expect_reject("bomb.xml", CARNET_E_INVALID, "DOCTYPE declares entities");
	expect_reject("truncated.xml", CARNET_E_INVALID, "truncated: an element is left open) "
							 "at line 7");
	expect_reject("no-patient.xml", CARNET_E_INVALID, "no patient id in recordTarget");
	expect_reject("bad-base64.xml", CARNET_E_INVALID, "not valid base64 (at byte 16 ");
	expect_reject("external.xml", CARNET_E_INVALID,
		      "nonXMLBody references an external file, which is not fetched");
	expect_reject("compressed.xml", CARNET_E_UNSUPPORTED_FORMAT, "compressed");
	expect_reject("valueset.xml", CARNET_E_INVALID,
		      "XML root is RetrieveValueSetResponse, not an HL7 CDA ClinicalDocument");
	expect_reject("fhir.xml", CARNET_E_INVALID, "FHIR XML");
	expect_reject("no-namespace.xml", CARNET_E_INVALID, "not in the HL7 v3 namespace");
	expect_reject("latin1-declared-utf8.xml", CARNET_E_INVALID,
		      "bytes not in the declared encoding) at line 2");
	expect_reject("not-well-formed.xml", CARNET_E_INVALID, "NUL byte at byte 88");
}

Test(cda, an_external_dtd_is_never_loaded)
{
	/* its DOCTYPE names file:///etc/passwd: loading it would fail the parse */
	got g;
	carnet_error err;
	cr_assert_eq(read_file(th_path("%s/tests/data/cda/external-dtd.xml", th_root()), &g, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_null(strstr(g.text.data, "root:"));
	cr_assert_eq(kind_of(&g.doc, "Conclusion\nExamen normal."), CARNET_SECTION_CONCLUSION);
	release(&g);
}

Test(cda, a_large_embedded_text_is_read_whole)
{
	size_t groups = 11u * 1000 * 1000 / 4; /* 11 MB of base64, "AAA" each */
	const char *head = "<?xml version=\"1.0\"?><ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
			   "<recordTarget><patientRole><id root=\"1.2.250.1.213.1.4.8\" "
			   "extension=\"1\"/></patientRole></recordTarget><component><nonXMLBody>"
			   "<text mediaType=\"text/plain\" representation=\"B64\">";
	const char *tail = "</text></nonXMLBody></component></ClinicalDocument>";
	size_t len = strlen(head) + groups * 4 + strlen(tail);
	char *data = malloc(len + 1);
	cr_assert_not_null(data);
	memcpy(data, head, strlen(head));
	for (size_t i = 0; i < groups; i++)
		memcpy(data + strlen(head) + i * 4, "QUFB", 4);
	memcpy(data + strlen(head) + groups * 4, tail, strlen(tail) + 1);
	got g;
	carnet_error err;
	int rc = read_mem("big.xml", data, len, &g, &err);
	free(data);
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_eq(g.doc.sections_count, 1);
	cr_assert_eq(g.doc.sections[0].len, groups * 3, "not cut");
	release(&g);
}

static int stop(carnet_doc *doc, void *payload)
{
	(void)doc;
	(void)payload;
	return 42;
}

Test(cda, a_sink_that_stops_is_obeyed)
{
	size_t len;
	const char *p = own("cisis-vac.xml");
	char *data = th_slurp(p, &len);
	carnet_input in = { p, data, len, &limits };
	cr_assert_eq(carnet_reader_cda.read(&in, stop, NULL, NULL), 42);
	free(data);
	/* and an empty file */
	carnet_input empty = { "empty.xml", "", 0, &limits };
	carnet_error err;
	cr_assert_eq(carnet_reader_cda.read(&empty, stop, NULL, &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "empty.xml: empty file"));
}

/* Counts of rejections by reason (the message without the path and line). */
typedef struct tally {
	int read, rejected;
	char reasons[16][160];
	int counts[16];
	int kinds;
} tally;

static void count_reason(tally *t, const char *path, const char *message)
{
	char reason[160];
	const char *r = strncmp(message, path, strlen(path)) == 0 ? message + strlen(path) + 2
								   : message;
	size_t n = strlen(r) < sizeof reason - 1 ? strlen(r) : sizeof reason - 1;
	memcpy(reason, r, n);
	reason[n] = '\0';
	char *cut = strstr(reason, " at line");
	if (cut)
		*cut = '\0';
	t->rejected++;
	for (int i = 0; i < t->kinds; i++)
		if (strcmp(t->reasons[i], reason) == 0) {
			t->counts[i]++;
			return;
		}
	if (t->kinds < 16) {
		memcpy(t->reasons[t->kinds], reason, sizeof reason);
		t->counts[t->kinds++] = 1;
	}
}

/* Read every .xml file under dir (recursively): one document with a
 * patient id, or a rejection with a reason naming the file. */
static void count_dir(const char *dir_arg, tally *t)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", dir_arg); /* th_path buffers rotate */
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		char p[4096];
		if (e->d_name[0] == '.')
			continue;
		int w = snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		cr_assert(w > 0 && (size_t)w < sizeof p);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			count_dir(p, t);
			continue;
		}
		size_t n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 4, ".xml") != 0)
			continue;
		got g;
		carnet_error err;
		int rc = read_file(p, &g, &err);
		if (rc == CARNET_OK) {
			cr_assert_eq(g.docs, 1, "%s", e->d_name);
			cr_assert_not_null(g.doc.patient_id, "%s", e->d_name);
			t->read++;
		} else {
			cr_assert_eq(g.docs, 0, "%s", e->d_name);
			cr_assert(strstr(err.message, p), "%s", err.message);
			count_reason(t, p, err.message);
		}
		release(&g);
	}
	closedir(d);
}

static void log_tally(const char *what, const tally *t)
{
	cr_log_info("%s: %d read, %d rejected", what, t->read, t->rejected);
	for (int i = 0; i < t->kinds; i++)
		cr_log_info("  %d x %s", t->counts[i], t->reasons[i]);
}

Test(cda, every_french_example_is_read_or_rejected_with_a_reason)
{
	tally t;
	memset(&t, 0, sizeof t);
	count_dir(th_public("ans-TestContenuCDA-3-0/ExemplesCDA", ANS_ABSENT), &t);
	count_dir(th_public("ans-TestContenuCDA-2-41/ExemplesCDA", ANS_ABSENT), &t);
	log_tally("ANS CI-SIS examples", &t);
	cr_assert_eq(t.read + t.rejected, 97);
	cr_assert_eq(t.read, 97, "every ANS example carries a patient");
}

Test(cda, every_hl7_example_is_read_or_rejected_with_a_reason)
{
	tally t;
	memset(&t, 0, sizeof t);
	count_dir(th_corpus("hl7-C-CDA-Examples"), &t);
	log_tally("HL7 C-CDA examples", &t);
	/* 11 documents and 3 unstructured ones are read; 7 fragments (a
	 * section or a component) and the external reference are not */
	cr_assert_eq(t.read, 14);
	cr_assert_eq(t.rejected, 8);
}

Test(cda, every_file_of_ours_is_read_or_rejected_with_a_reason)
{
	tally t;
	memset(&t, 0, sizeof t);
	count_dir(th_path("%s/tests/data/cda", th_root()), &t);
	log_tally("tests/data/cda", &t);
	/* the 10 CI-SIS-shaped documents, the two versions of the lab report
	 * of test_results_index and external-dtd.xml are read; the 14 bad
	 * files of bad_xml_is_rejected_with_a_reason_and_no_network are not */
	cr_assert_eq(t.read, 13);
	cr_assert_eq(t.rejected, 14);
}

Test(cda, an_autopresentable_document_is_read_inside_its_stylesheet)
{
	got g;
	carnet_error err;
	const char *p = own("cisis-pps-autopresentable.xml");
	size_t len;
	char *data = th_slurp(p, &len);
	cr_assert(strstr(data, "<xsl:stylesheet"), "the root is the XSL stylesheet");
	free(data);
	cr_assert_eq(read_file(p, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_str_eq(g.doc.title, "Programme personnalisé de soins");
	cr_assert_str_eq(g.doc.author_name, "Anne JOLY-TEST");
	cr_assert_str_eq(g.doc.custodian, "Centre hospitalier de Valmont-TEST");
	cr_assert(strstr(g.text.data, "Traitements du cancer\nHormonothérapie adjuvante"), "%s",
		  g.text.data);
	cr_assert(strstr(g.text.data, "Soins de support\n"));
	cr_assert_null(strstr(g.text.data, "value-of"), "nothing of the stylesheet itself");
	release(&g);
}

/* ---- limits: what a hostile document may cost ---- */

#define PATIENT_HEADER                                                                    \
	"<recordTarget><patientRole><id root=\"1.2.250.1.213.1.4.8\" "                    \
	"extension=\"158047511203495\"/></patientRole></recordTarget>"

/* A CDA with a patient whose body is made by body(b, arg). */
static void build_cda(carnet_buf *b, const char *prolog,
		      void (*body)(carnet_buf *, int), int arg)
{
	carnet_buf__reset(b);
	carnet_buf__puts(b, prolog ? prolog : "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	carnet_buf__puts(b, "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">" PATIENT_HEADER);
	body(b, arg);
	carnet_buf__puts(b, "</ClinicalDocument>");
}

/* An entry whose observation has n attributes. */
static void many_attributes(carnet_buf *b, int n)
{
	carnet_buf__puts(b, "<component><structuredBody><component><section><entry><observation");
	for (int i = 0; i < n; i++)
		carnet_buf__printf(b, " a%d=\"1\"", i);
	carnet_buf__puts(b, "/></entry></section></component></structuredBody></component>");
}

/* n elements nested in a section's narrative. */
static void nested(carnet_buf *b, int n)
{
	carnet_buf__puts(b, "<component><structuredBody><component><section><text>");
	for (int i = 0; i < n; i++)
		carnet_buf__puts(b, "<content>");
	carnet_buf__puts(b, "profond");
	for (int i = 0; i < n; i++)
		carnet_buf__puts(b, "</content>");
	carnet_buf__puts(b, "</text></section></component></structuredBody></component>");
}

/* A narrative of n paragraphs, flat: no entity, only size. */
static void paragraphs(carnet_buf *b, int n)
{
	carnet_buf__puts(b, "<component><structuredBody><component><section><title>Suivi</title>"
			    "<text>");
	for (int i = 0; i < n; i++)
		carnet_buf__printf(b, "<paragraph>Glycémie à jeun normale, ligne %d</paragraph>", i);
	carnet_buf__puts(b, "</text></section></component></structuredBody></component>");
}

static void expect_refused(const carnet_buf *b, const char *message)
{
	got g;
	carnet_error err;
	memset(&err, 0, sizeof err);
	cr_assert_eq(read_mem("hostile.xml", b->data, b->len, &g, &err), CARNET_E_INVALID,
		     "%s", err.message);
	cr_assert_str_eq(err.message, message);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT);
	cr_assert_eq(g.docs, 0);
	release(&g);
}

Test(cda, an_element_with_200000_attributes_is_refused_before_libxml2_reads_it)
{
	alarm(60); /* a hang fails the test (SIGALRM) */
	/* libxml2 2.9 compares each attribute with all the others: 200,000
	 * of them took minutes before the limit */
	carnet_buf b = CARNET_BUF_INIT;
	build_cda(&b, NULL, many_attributes, 200000);
	expect_refused(&b, "hostile.xml: element <observation> has more than 256 attributes");
	/* the same in UTF-16, which the check reads by code units */
	carnet_buf wide = CARNET_BUF_INIT;
	build_cda(&b, "<?xml version=\"1.0\" encoding=\"UTF-16\"?>\n", many_attributes, 200000);
	carnet_buf__put(&wide, "\xFF\xFE", 2);
	for (size_t i = 0; i < b.len; i++)
		carnet_buf__put(&wide, (char[2]){ b.data[i], 0 }, 2);
	expect_refused(&wide, "hostile.xml: element <observation> has more than 256 attributes");
	/* 256 is allowed */
	build_cda(&b, NULL, many_attributes, 256);
	got g;
	carnet_error err;
	cr_assert_eq(read_mem("ok.xml", b.data, b.len, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	release(&g);
	carnet_buf__free(&wide);
	carnet_buf__free(&b);
}

Test(cda, attributes_declared_by_the_thousand_in_a_doctype_are_refused)
{
	alarm(60); /* a hang fails the test (SIGALRM) */
	/* each declared default is compared with the element's attributes */
	carnet_buf b = CARNET_BUF_INIT;
	carnet_buf__puts(&b, "<?xml version=\"1.0\"?>\n<!DOCTYPE ClinicalDocument [<!ATTLIST id");
	for (int i = 0; i < 200000; i++)
		carnet_buf__printf(&b, " d%d CDATA \"x\"", i);
	carnet_buf__puts(&b, ">]>\n");
	carnet_buf doc = CARNET_BUF_INIT;
	build_cda(&doc, b.data, many_attributes, 1);
	expect_refused(&doc, "hostile.xml: DOCTYPE declares more than 256 attributes");
	carnet_buf__free(&doc);
	carnet_buf__free(&b);
}

Test(cda, elements_nested_100000_deep_are_refused)
{
	alarm(60); /* a hang fails the test (SIGALRM) */
	carnet_buf b = CARNET_BUF_INIT;
	build_cda(&b, NULL, nested, 100000);
	expect_refused(&b, "hostile.xml: elements nested more than 256 deep");
	/* a deep but reasonable narrative is read */
	build_cda(&b, NULL, nested, 150);
	got g;
	carnet_error err;
	cr_assert_eq(read_mem("ok.xml", b.data, b.len, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert(g.text.data && strstr(g.text.data, "profond"), "the deepest text is read");
	release(&g);
	carnet_buf__free(&b);
}

Test(cda, a_huge_flat_document_is_read_or_refused_by_its_element_count)
{
	alarm(120); /* a hang fails the test (SIGALRM) */
	carnet_buf b = CARNET_BUF_INIT;
	build_cda(&b, NULL, paragraphs, 150000);
	got g;
	carnet_error err;
	cr_assert_eq(read_mem("flat.xml", b.data, b.len, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert(g.text.data && strstr(g.text.data, "ligne 149999\n"), "the whole narrative is read");
	release(&g);
	/* with inputs of at most 1 MiB, a parse holds at most 100,000 nodes */
	carnet_limits small = limits;
	small.input_bytes = 1024 * 1024;
	carnet_input in = { "flat.xml", b.data, b.len, &small };
	memset(&g, 0, sizeof g);
	carnet_doc__init(&g.doc);
	cr_assert_eq(carnet_reader_cda.read(&in, keep, &g, &err), CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "flat.xml: more than 100000 elements and attributes");
	release(&g);
	carnet_buf__free(&b);
}

Test(cda, an_encoding_whose_markup_is_not_ascii_is_refused)
{
	carnet_buf b = CARNET_BUF_INIT;
	build_cda(&b, "<?xml version=\"1.0\" encoding=\"IBM037\"?>", many_attributes, 1);
	expect_refused(&b, "hostile.xml: XML in the encoding \"ibm037\", which is not read "
			   "(UTF-8, UTF-16, ISO-8859 and Windows code pages are)");
	build_cda(&b, "<?xml version='1.0' encoding='UTF-7'?>", many_attributes, 1);
	expect_refused(&b, "hostile.xml: XML in the encoding \"utf-7\", which is not read "
			   "(UTF-8, UTF-16, ISO-8859 and Windows code pages are)");
	carnet_buf__reset(&b);
	carnet_buf__put(&b, "\x4C\x6F\xA7\x94\x93\x40", 6);
	expect_refused(&b, "hostile.xml: XML in EBCDIC, which is not read");
	build_cda(&b, "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", many_attributes, 1);
	got g;
	carnet_error err;
	cr_assert_eq(read_mem("latin1.xml", b.data, b.len, &g, &err), CARNET_OK, "%s", err.message);
	release(&g);
	carnet_buf__free(&b);
}

Test(cda, a_document_over_its_time_budget_is_refused)
{
	alarm(120); /* a hang fails the test (SIGALRM) */
	carnet_buf b = CARNET_BUF_INIT;
	build_cda(&b, NULL, paragraphs, 300000); /* about 20 MB */
	carnet_limits quick = limits;
	quick.doc_ms = 20;
	carnet_input in = { "long.xml", b.data, b.len, &quick };
	got g;
	memset(&g, 0, sizeof g);
	carnet_doc__init(&g.doc);
	carnet_error err;
	carnet_budget__start(&quick);
	cr_assert_eq(carnet_reader_cda.read(&in, keep, &g, &err), CARNET_E_INVALID);
	carnet_budget__stop();
	cr_assert_str_eq(err.message, "long.xml: took more than 20 ms to read (the time limit "
				      "of one document)");
	cr_assert_eq(g.docs, 0);
	release(&g);
	/* the next document has a budget of its own (generous: the machine
	 * running the tests may be busy) */
	build_cda(&b, NULL, paragraphs, 10);
	quick.doc_ms = 10000;
	carnet_budget__start(&quick);
	int rc = read_mem("next.xml", b.data, b.len, &g, &err);
	carnet_budget__stop();
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	release(&g);
	carnet_buf__free(&b);
}

Test(cda, a_comment_full_of_double_hyphens_is_refused_at_once)
{
	alarm(60); /* a hang fails the test (SIGALRM) */
	/* libxml2 2.9 copies the comment read so far into each "--" error
	 * it reports: 200,000 of them took minutes before the parse stopped
	 * at the first fatal error */
	carnet_buf b = CARNET_BUF_INIT;
	carnet_buf__puts(&b, "<?xml version=\"1.0\"?>\n<ClinicalDocument xmlns=\"urn:hl7-org:v3\">"
			     PATIENT_HEADER "<!-- ");
	for (int i = 0; i < 200000; i++)
		carnet_buf__puts(&b, "-- ");
	carnet_buf__puts(&b, "--></ClinicalDocument>");
	expect_refused(&b, "hostile.xml: malformed XML at line 2 (libxml2 error 80)");
	carnet_buf__free(&b);
}

/* ---- whose document it is ---- */

Test(cda, several_record_targets_are_refused_naming_both_patients)
{
	char data[4096];
	snprintf(data, sizeof data,
		 "%s<recordTarget><patientRole><id root=\"1.2.250.1.213.1.4.8\" "
		 "extension=\"158047511203495\"/></patientRole></recordTarget>\n"
		 "<recordTarget><patientRole><id root=\"1.2.3.4\" extension=\"IPP7\"/>"
		 "</patientRole></recordTarget>\n</ClinicalDocument>\n",
		 synthetic_head);
	got g;
	carnet_error err;
	cr_assert_eq(read_mem("two.xml", data, strlen(data), &g, &err), CARNET_E_INVALID);
	cr_assert_eq(g.docs, 0, "nothing emitted");
	cr_assert_str_eq(err.message, "two.xml: CDA has several recordTargets (patients "
				      "158047511203495 and IPP7): a document belongs to one patient");
	cr_assert_eq(err.sys_code, CARNET_READER_PATIENT_CONFLICT);
	release(&g);
	/* the same patient twice is still two recordTargets */
	snprintf(data, sizeof data,
		 "%s<recordTarget><patientRole><id root=\"1.2.3.4\" extension=\"IPP7\"/>"
		 "</patientRole></recordTarget>\n<recordTarget><patientRole>"
		 "<id root=\"1.2.3.4\" extension=\"IPP7\"/></patientRole></recordTarget>\n"
		 "</ClinicalDocument>\n",
		 synthetic_head);
	cr_assert_eq(read_mem("twice.xml", data, strlen(data), &g, &err), CARNET_E_INVALID);
	release(&g);
}

Test(cda, visibility_codes_come_from_confidentiality_translations)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_synthetic("<id root=\"1.2.3.4\" extension=\"IPP7\"/>",
				    "", &g, &err), CARNET_OK, "%s", err.message);
	release(&g);
	char data[4096];
	snprintf(data, sizeof data,
		 "%s<confidentialityCode code=\"N\"><translation code=\"invisible_patient\"/>"
		 "<translation code=\"R\"/></confidentialityCode>\n"
		 "<recordTarget><patientRole><id root=\"1.2.3.4\" extension=\"IPP7\"/>"
		 "</patientRole></recordTarget>\n</ClinicalDocument>\n",
		 synthetic_head);
	cr_assert_eq(read_mem("vis.xml", data, strlen(data), &g, &err), CARNET_OK, "%s",
		     err.message);
	/* as written: the indexer upper-cases visibility codes once */
	cr_assert_str_eq(g.doc.confidentiality, "N invisible_patient");
	release(&g);
}
