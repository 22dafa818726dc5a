/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_read_pdf.c - PDF text through poppler in a child process: real PDFs,
 * bad ones, and the isolation (a crashing or hanging parser costs only its
 * input). */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base64.h"
#include "helpers.h"
#include "reader.h"

/* The library sets no RLIMIT_AS under AddressSanitizer (see read_pdf.c). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, 10, CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };

/* The extractor of the build under test, when make did not say
 * (running the suite by hand: CARNET_ROOT=... CARNET_BUILD=... ). */
static void use_built_extractor(void)
{
	if (!getenv("CARNET_PDFTEXT"))
		setenv("CARNET_PDFTEXT", th_path("%s/carnet-pdftext", th_build()), 1);
}

TestSuite(pdf, .init = use_built_extractor);

/* The testing copy of the extractor (make testing), the only one with the
 * CARNET_PDF_TEST hooks; the suite's processes are each one test. */
static void use_testing_extractor(void)
{
	setenv("CARNET_PDFTEXT", th_path("%s/testing/carnet-pdftext", th_build()), 1);
}

/* An HL7 example PDF, vendored in corpora/ (CC0). */
static const char *shared_pdf(void)
{
	return th_corpus("hl7-C-CDA-Examples/Unstructured/CDA reference PDF/UD_sample.pdf");
}

typedef struct got {
	int docs;
	char title[256];
	char *text;
} got;

static int sink(carnet_doc *doc, void *payload)
{
	got *g = payload;
	g->docs++;
	snprintf(g->title, sizeof g->title, "%s", doc->title ? doc->title : "");
	cr_assert_str_eq(doc->format, "pdf");
	cr_assert_leq(doc->sections_count, 1);
	g->text = strdup(doc->sections_count ? doc->sections[0].text : "");
	return 0;
}

Test(pdf, a_real_pdf_yields_its_text_and_a_title)
{
	size_t len;
	char *data = th_slurp(shared_pdf(), &len);
	carnet_input in = { "UD_sample.pdf", data, len, &limits };
	cr_assert_eq(carnet_reader__find(&in), &carnet_reader_pdf);
	got g = { 0, "", NULL };
	carnet_error err;
	cr_assert_eq(carnet_reader_pdf.read(&in, sink, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_str_eq(g.title, "Community Health Hospital");
	cr_assert_not_null(strstr(g.text, "Community Health Hospital"));
	free(g.text);
	free(data);
}

static int reject(const char *data, size_t len, const char *name, carnet_error *err)
{
	carnet_input in = { name, data, len, &limits };
	got g = { 0, "", NULL };
	int rc = carnet_reader_pdf.read(&in, sink, &g, err);
	cr_assert_eq(g.docs, 0, "nothing emitted for %s", name);
	cr_assert(strstr(err->message, name), "message names the file: %s", err->message);
	return rc;
}

Test(pdf, truncated_empty_and_garbage_pdfs_are_rejected_with_a_reason)
{
	size_t len;
	char *data = th_slurp(shared_pdf(), &len);
	carnet_error err;
	cr_assert_eq(reject(data, 300, "truncated.pdf", &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "not a valid PDF"), "%s", err.message);
	cr_assert_eq(reject("", 0, "empty.pdf", &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "empty"), "%s", err.message);
	cr_assert_eq(reject("%PDF-1.4\nnot really\n", 20, "garbage.pdf", &err), CARNET_E_INVALID);
	free(data);
}

Test(pdf, a_crashing_parser_costs_only_its_input)
{
	size_t len;
	char *data = th_slurp(shared_pdf(), &len);
	use_testing_extractor();
	setenv("CARNET_PDF_TEST", "crash", 1);
	carnet_error err;
	cr_assert_eq(reject(data, len, "crash.pdf", &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "crashed (signal 6)"), "%s", err.message);
	unsetenv("CARNET_PDF_TEST");
	/* and the next PDF reads fine in the same process */
	carnet_input in = { "after.pdf", data, len, &limits };
	got g = { 0, "", NULL };
	cr_assert_eq(carnet_reader_pdf.read(&in, sink, &g, &err), CARNET_OK, "%s", err.message);
	free(g.text);
	free(data);
}

Test(pdf, a_hanging_parser_is_stopped_at_the_time_limit, .timeout = 30)
{
	size_t len;
	char *data = th_slurp(shared_pdf(), &len);
	carnet_limits quick = { CARNET_DEFAULT_INPUT_BYTES, 1, CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };
	use_testing_extractor();
	setenv("CARNET_PDF_TEST", "hang", 1);
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_pdf__extract(&out, "hang.pdf", data, len, &quick, &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "longer than 1 s"), "%s", err.message);
	cr_assert_eq(out.len, 0);
	unsetenv("CARNET_PDF_TEST");
	carnet_buf__free(&out);
	free(data);
}

Test(pdf, a_missing_extractor_is_unusable_not_a_bad_file)
{
	size_t len;
	char *data = th_slurp(shared_pdf(), &len);
	char *saved = getenv("CARNET_PDFTEXT") ? strdup(getenv("CARNET_PDFTEXT")) : NULL;
	setenv("CARNET_PDFTEXT", "/nonexistent/carnet-pdftext", 1);
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_pdf__extract(&out, "a.pdf", data, len, &limits, &err), CARNET_E_INTERNAL);
	cr_assert(strstr(err.message, "unusable"), "%s", err.message);
	if (saved)
		setenv("CARNET_PDFTEXT", saved, 1);
	free(saved);
	carnet_buf__free(&out);
	free(data);
}

/* --- hand-made fixtures (tests/data/pdf/make_fixtures.py) and the other
 * public PDFs (vendored in corpora/) --- */

/* Read tests/data/pdf/name (or an absolute path) with the PDF reader. */
static int read_file(const char *file, const char *name, got *g, carnet_error *err)
{
	size_t len;
	char *data = th_slurp(file[0] == '/' ? file
					    : th_path("%s/tests/data/pdf/%s", th_root(), file),
			      &len);
	carnet_input in = { name, data, len, &limits };
	g->docs = 0;
	g->title[0] = '\0';
	g->text = NULL;
	int rc = carnet_reader_pdf.read(&in, sink, g, err);
	free(data);
	return rc;
}

/* Pages in extracted text: poppler ends each page with a form feed. */
static int pages(const char *text)
{
	int n = 0;
	for (; *text; text++)
		n += *text == '\f';
	return n;
}

Test(pdf, a_hand_written_pdf_gives_its_exact_words)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_file("echo.pdf", "echo.pdf", &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(g.docs, 1);
	/* WinAnsiEncoding 0xE9 comes out as UTF-8 é */
	cr_assert_str_eq(g.title, "Compte rendu d'échocardiographie");
	cr_assert(strstr(g.text, "Compte rendu d'échocardiographie\n"
				 "Fraction d'éjection ventriculaire gauche : 60 %"), "%s", g.text);
	cr_assert_eq(pages(g.text), 1);
	free(g.text);
}

Test(pdf, pages_are_separated_by_a_form_feed)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_file("two-pages.pdf", "two-pages.pdf", &g, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(pages(g.text), 2);
	const char *first = strstr(g.text, "Première page"), *second = strstr(g.text, "Seconde page");
	cr_assert(first && second && first < strchr(g.text, '\f') && strchr(g.text, '\f') < second,
		  "%s", g.text);
	cr_assert_str_eq(g.title, "Première page");
	free(g.text);
}

Test(pdf, the_public_hl7_pdfs_are_read_page_by_page)
{
	static const struct {
		const char *path, *title, *words;
		int pages;
	} cases[] = {
		{ "CDA reference PDF/UD_sample.pdf", "Community Health Hospital",
		  "Discharge Summary", 3 },
		{ "CDA with Embedded PDF 1/C-CDA_R2_UD_sample.pdf", "Community Health Hospital",
		  "Acute cerebrovascular accident", 3 },
		{ "CDA with Embedded PDF 2/McBee_L1_20151116_Embedded.pdf",
		  "Universal Advance Digital Directive (uADD)™", "Roger Rienman McBee", 7 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *file = th_corpus(th_path("hl7-C-CDA-Examples/Unstructured/%s",
						     cases[i].path));
		got g;
		carnet_error err;
		cr_assert_eq(read_file(file, cases[i].path, &g, &err), CARNET_OK, "%s",
			     err.message);
		cr_assert_str_eq(g.title, cases[i].title);
		cr_assert(strstr(g.text, cases[i].words), "%s: %.200s", cases[i].path, g.text);
		cr_assert_eq(pages(g.text), cases[i].pages, "%s", cases[i].path);
		free(g.text);
	}
}

/* The PDF of an unstructured CDA (nonXMLBody, base64): extracted, it
 * gives no text at all. */
static void scanned_pdf_in_cda(const char *path)
{
	size_t len;
	char *xml = th_slurp(path, &len);
	const char *b64 = strstr(xml, "representation=\"B64\">");
	cr_assert_not_null(b64);
	b64 = strchr(b64, '>') + 1;
	carnet_buf pdf = CARNET_BUF_INIT, out = CARNET_BUF_INIT;
	size_t bad;
	cr_assert_eq(carnet_base64__decode(&pdf, b64, (size_t)(strchr(b64, '<') - b64), &bad),
		     CARNET_OK);
	cr_assert_eq(memcmp(pdf.data, "%PDF-", 5), 0);
	carnet_error err;
	cr_assert_eq(carnet_pdf__extract(&out, "scan.pdf", pdf.data, pdf.len, &limits, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(out.len, 0);
	carnet_buf__free(&out);
	carnet_buf__free(&pdf);
	free(xml);
}

Test(pdf, a_scanned_pdf_is_a_document_without_text_not_an_error)
{
	/* our unstructured CDA carries a PDF made of an image only (a scan);
	 * reader.h: no text is not an error (the metadata of the sidecar or
	 * the CDA header still index the document) */
	scanned_pdf_in_cda(th_path("%s/tests/data/cda/cisis-doc-scan.xml", th_root()));
	got g;
	carnet_error err;
	cr_assert_eq(read_file("no-text.pdf", "no-text.pdf", &g, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(g.docs, 1);
	cr_assert_str_eq(g.title, "");
	cr_assert_str_eq(g.text, "");
	free(g.text);
}

Test(pdf, the_ans_scanned_pdf_is_a_document_without_text)
{
	/* the same with the ANS example of an unstructured CDA (images only) */
	scanned_pdf_in_cda(th_public("ans-TestContenuCDA-3-0/ExemplesCDA/"
				     "DOC_NON_STRUCTURE_CDA-R2-N1.xml", "ANS CI-SIS examples"));
}

/* Reject fixture `file`; assert the message names it and gives why. */
static void rejected(const char *file, int code, const char *why)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_file(file, file, &g, &err), code, "%s: %s", file, err.message);
	cr_assert_eq(g.docs, 0);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT, "%s", file);
	char want[256];
	snprintf(want, sizeof want, "%s: %s", file, why);
	cr_assert(strstr(err.message, want), "%s: %s", file, err.message);
}

Test(pdf, each_kind_of_bad_pdf_has_its_reason)
{
	rejected("encrypted.pdf", CARNET_E_INVALID, "PDF is encrypted");
	rejected("no-pages.pdf", CARNET_E_INVALID, "PDF has no pages");
	rejected("truncated.pdf", CARNET_E_INVALID, "not a valid PDF (damaged or truncated)");
	rejected("random.pdf", CARNET_E_INVALID, "not a valid PDF (damaged or truncated)");
	rejected("empty.pdf", CARNET_E_INVALID, "empty file");
}

Test(pdf, an_encrypted_pdf_with_an_empty_user_password_reads)
{
	got g;
	carnet_error err;
	cr_assert_eq(read_file("encrypted-open.pdf", "encrypted-open.pdf", &g, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_str_eq(g.title, "Compte rendu d'échocardiographie");
	free(g.text);
}

Test(pdf, sniffing_wants_the_magic_or_the_extension)
{
	carnet_input magic = { "scan", "%PDF-1.7\n", 9, &limits };
	cr_assert_eq(carnet_reader_pdf.sniff(&magic), 80);
	char late[1100];
	memset(late, ' ', sizeof late);
	memcpy(late + 1000, "%PDF-1.4", 8);
	carnet_input within = { "scan", late, 1010, &limits };
	cr_assert_eq(carnet_reader_pdf.sniff(&within), 80);
	carnet_input beyond = { "scan", late, sizeof late, &limits };
	memmove(late + 1030, late + 1000, 8);
	memset(late + 1000, ' ', 8);
	cr_assert_eq(carnet_reader_pdf.sniff(&beyond), 0);
	carnet_input ext = { "CR.PDF", "garbage", 7, &limits };
	cr_assert_eq(carnet_reader_pdf.sniff(&ext), 30);
	cr_assert(carnet_reader_pdf.flags & CARNET_READER_NEEDS_SIDECAR);
}

Test(pdf, without_limits_the_defaults_apply)
{
	size_t len;
	char *data = th_slurp(th_path("%s/tests/data/pdf/echo.pdf", th_root()), &len);
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_pdf__extract(&out, "echo.pdf", data, len, NULL, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert(strstr(out.data, "échocardiographie"), "%s", out.data);
	carnet_buf__free(&out);
	free(data);
}

typedef struct worker {
	const char *data;
	size_t len;
	int ok;
} worker;

static void *extract_many(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < 8; i++) {
		carnet_buf out = CARNET_BUF_INIT;
		carnet_error err;
		if (carnet_pdf__extract(&out, "echo.pdf", w->data, w->len, &limits, &err) ==
			    CARNET_OK &&
		    strstr(out.data, "Compte rendu d'échocardiographie"))
			w->ok++;
		carnet_buf__free(&out);
	}
	return NULL;
}

Test(pdf, extraction_threads_can_run_extractors_side_by_side, .timeout = 60)
{
	size_t len;
	char *data = th_slurp(th_path("%s/tests/data/pdf/echo.pdf", th_root()), &len);
	pthread_t t[4];
	worker w[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (worker){ data, len, 0 };
		cr_assert_eq(pthread_create(&t[i], NULL, extract_many, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].ok, 8, "thread %d: %d of 8", i, w[i].ok);
	}
	free(data);
}

Test(pdf, a_memory_limit_too_small_to_load_the_extractor_makes_it_unusable)
{
#ifdef UNDER_ASAN
	cr_skip_test("no RLIMIT_AS under AddressSanitizer");
#else
	size_t len;
	char *data = th_slurp(th_path("%s/tests/data/pdf/echo.pdf", th_root()), &len);
	carnet_limits tiny = { CARNET_DEFAULT_INPUT_BYTES, 10, 1024 * 1024, 0 };
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	/* the dynamic loader of the child says why on stderr: keep the
	 * test's output clean */
	int saved = dup(2), devnull = open("/dev/null", O_WRONLY);
	cr_assert(saved >= 0 && devnull >= 0);
	dup2(devnull, 2);
	int rc = carnet_pdf__extract(&out, "echo.pdf", data, len, &tiny, &err);
	dup2(saved, 2);
	close(saved);
	close(devnull);
	/* not the file's fault: every PDF would fail, so the job must stop */
	cr_assert_eq(rc, CARNET_E_INTERNAL, "%s", err.message);
	cr_assert(strstr(err.message, "unusable") && strstr(err.message, "memory limit"), "%s",
		  err.message);
	cr_assert_eq(out.len, 0);
	carnet_buf__free(&out);
	free(data);
#endif
}
