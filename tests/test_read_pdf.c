/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_read_pdf.c - PDF text through poppler in a child process: real PDFs,
 * bad ones, and the isolation (a crashing or hanging parser costs only its
 * input). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base64.h"
#include "helpers.h"
#include "pdf_extractor.h"
#include "reader.h"

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

/* --- the extractor kept from one PDF to the next (pdf_extractor.h) --- */

/* echo.pdf, with the testing extractor's hook comment (crash, hang,
 * garbage) appended when hook is not NULL; malloc'd. */
static char *echo_pdf(const char *hook, size_t *len)
{
	size_t n;
	char *data = th_slurp(th_path("%s/tests/data/pdf/echo.pdf", th_root()), &n);
	if (hook) {
		char tail[64];
		size_t t = (size_t)snprintf(tail, sizeof tail, "%%CARNET_PDF_TEST=%s\n", hook);
		data = realloc(data, n + t + 1);
		cr_assert_not_null(data);
		memcpy(data + n, tail, t + 1);
		n += t;
	}
	*len = n;
	return data;
}

/* Extract echo.pdf (named after its hook, if any) under lim; its text
 * checked when it reads. */
static int extract_echo(const char *hook, const carnet_limits *lim, carnet_error *err)
{
	size_t len;
	char *data = echo_pdf(hook, &len);
	carnet_buf out = CARNET_BUF_INIT;
	int rc = carnet_pdf__extract(&out, hook ? hook : "echo.pdf", data, len, lim, err);
	if (rc == CARNET_OK)
		cr_assert(out.data && strstr(out.data, "Compte rendu d'échocardiographie"), "%s",
			  out.data ? out.data : "(none)");
	else
		cr_assert_eq(out.len, 0);
	carnet_buf__free(&out);
	free(data);
	return rc;
}

/* pid is gone: reaped, not even a zombie. */
static int reaped(pid_t pid)
{
	return kill(pid, 0) != 0 && errno == ESRCH;
}

Test(pdf, one_extractor_serves_the_next_pdfs_of_its_thread_until_stopped)
{
	carnet_error err;
	cr_assert_eq(carnet_pdf__extractor_pid(), 0);
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	pid_t first = carnet_pdf__extractor_pid();
	cr_assert_gt(first, 0);
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_pdf__extractor_pid(), first, "the same extractor read both");
	/* other limits (its memory limit is set as it starts): another one */
	carnet_limits other = limits;
	other.pdf_memory_bytes *= 2;
	cr_assert_eq(extract_echo(NULL, &other, &err), CARNET_OK, "%s", err.message);
	pid_t second = carnet_pdf__extractor_pid();
	cr_assert(second > 0 && second != first);
	cr_assert(reaped(first));
	carnet_pdf__stop_extractor();
	cr_assert_eq(carnet_pdf__extractor_pid(), 0);
	cr_assert(reaped(second));
}

Test(pdf, an_extractor_serves_a_bounded_number_of_pdfs)
{
	carnet_error err;
	pid_t first = 0;
	for (int i = 0; i < CARNET_PDF_SERVE_MAX; i++) {
		cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%d: %s", i, err.message);
		if (i == 0)
			first = carnet_pdf__extractor_pid();
		else if (i < CARNET_PDF_SERVE_MAX - 1)
			cr_assert_eq(carnet_pdf__extractor_pid(), first, "%d", i);
	}
	cr_assert_eq(carnet_pdf__extractor_pid(), 0, "stopped after %d PDFs", CARNET_PDF_SERVE_MAX);
	cr_assert(reaped(first));
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	cr_assert(carnet_pdf__extractor_pid() > 0 && carnet_pdf__extractor_pid() != first);
}

/* The testing extractor's hook on one PDF: that PDF is rejected for why,
 * its extractor reaped, and the next PDF is read by a fresh one. */
static void costs_only_its_pdf(const char *hook, const carnet_limits *lim, const char *why)
{
	use_testing_extractor();
	carnet_error err;
	cr_assert_eq(extract_echo(NULL, lim, &err), CARNET_OK, "%s", err.message);
	pid_t before = carnet_pdf__extractor_pid();
	cr_assert_eq(extract_echo(hook, lim, &err), CARNET_E_INVALID, "%s", err.message);
	char want[128];
	snprintf(want, sizeof want, "%s: %s", hook, why);
	cr_assert(strstr(err.message, want), "%s", err.message);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT);
	cr_assert_eq(carnet_pdf__extractor_pid(), 0);
	cr_assert(reaped(before));
	cr_assert_eq(extract_echo(NULL, lim, &err), CARNET_OK, "%s", err.message);
	cr_assert(carnet_pdf__extractor_pid() > 0 && carnet_pdf__extractor_pid() != before);
}

Test(pdf, a_pdf_that_crashes_its_extractor_costs_only_itself)
{
	costs_only_its_pdf("crash", &limits, "PDF extractor crashed (signal 6)");
}

Test(pdf, a_pdf_that_hangs_its_extractor_costs_only_itself)
{
	carnet_limits quick = { CARNET_DEFAULT_INPUT_BYTES, 1, CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };
	costs_only_its_pdf("hang", &quick, "PDF extraction took longer than 1 s");
}

Test(pdf, an_answer_out_of_the_protocol_costs_only_its_pdf)
{
	costs_only_its_pdf("garbage", &limits, "PDF extractor failed");
}

Test(pdf, an_extractor_grown_past_half_its_memory_limit_is_replaced)
{
#ifdef UNDER_ASAN
	cr_skip_test("no RLIMIT_AS under AddressSanitizer");
#else
	/* the PDF that grows it is read; the next one gets a fresh
	 * extractor, with all its memory */
	use_testing_extractor();
	carnet_error err;
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	pid_t before = carnet_pdf__extractor_pid();
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_pdf__extractor_pid(), before, "not grown: kept");
	cr_assert_eq(extract_echo("grow", &limits, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_pdf__extractor_pid(), 0);
	cr_assert(reaped(before));
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	cr_assert(carnet_pdf__extractor_pid() > 0 && carnet_pdf__extractor_pid() != before);
#endif
}

/* The state of process pid in /proc (R, S, Z...), 0 if it is gone. */
static char proc_state(pid_t pid)
{
	char line[512] = "";
	FILE *f = fopen(th_path("/proc/%d/stat", (int)pid), "r");
	if (!f)
		return 0;
	char *read = fgets(line, sizeof line, f);
	fclose(f);
	const char *end = read ? strrchr(line, ')') : NULL;
	return end && end[1] == ' ' ? end[2] : 0;
}

Test(pdf, an_extractor_killed_between_two_pdfs_is_replaced_not_blamed_on_the_next)
{
	carnet_error err;
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	pid_t pid = carnet_pdf__extractor_pid();
	cr_assert_eq(kill(pid, SIGKILL), 0);
	for (int i = 0; i < 500 && proc_state(pid) != 'Z'; i++)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	cr_assert_eq(proc_state(pid), 'Z');
	cr_assert_eq(extract_echo(NULL, &limits, &err), CARNET_OK, "%s", err.message);
	cr_assert(carnet_pdf__extractor_pid() > 0 && carnet_pdf__extractor_pid() != pid);
	cr_assert(reaped(pid));
}

Test(pdf, an_extractor_that_ends_before_reading_its_pdf_costs_the_pdf_not_the_indexer)
{
	/* the PDF is larger than the socket holds: writing it meets EPIPE,
	 * which must not be a SIGPIPE that kills the process */
	const char *script = th_path("%s/ends.sh", th_tmpdir());
	th_write_str(script, "#!/bin/sh\nexit 0\n");
	cr_assert_eq(chmod(script, 0755), 0);
	setenv("CARNET_PDFTEXT", script, 1);
	size_t len = 16 * 1024 * 1024;
	char *data = malloc(len);
	cr_assert_not_null(data);
	memset(data, ' ', len);
	memcpy(data, "%PDF-1.4\n", 9);
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_pdf__extract(&out, "big.pdf", data, len, &limits, &err),
		     CARNET_E_INVALID);
	cr_assert(strstr(err.message, "big.pdf: PDF extractor failed"), "%s", err.message);
	cr_assert_eq(carnet_pdf__extractor_pid(), 0);
	carnet_buf__free(&out);
	free(data);
	th_cleanup();
}

typedef struct one_pdf {
	pid_t pid; /* the thread's extractor after its PDF */
	int rc;
} one_pdf;

static void *extract_one(void *arg)
{
	one_pdf *o = arg;
	size_t len;
	char *data = echo_pdf(NULL, &len);
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	o->rc = carnet_pdf__extract(&out, "echo.pdf", data, len, &limits, &err);
	o->pid = carnet_pdf__extractor_pid();
	carnet_buf__free(&out);
	free(data);
	return NULL;
}

Test(pdf, the_extractor_of_a_thread_is_reaped_when_the_thread_ends)
{
	pthread_t t;
	one_pdf o = { 0, -1 };
	cr_assert_eq(pthread_create(&t, NULL, extract_one, &o), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(o.rc, CARNET_OK);
	cr_assert_gt(o.pid, 0);
	cr_assert(reaped(o.pid));
	cr_assert_eq(carnet_pdf__extractor_pid(), 0, "this thread has none");
}

/* A PDF and its sidecar in dir. */
static void write_pdf(const char *dir, const char *name, const char *hook, const char *id)
{
	size_t len;
	char *data = echo_pdf(hook, &len);
	th_write(th_path("%s/%s", dir, name), data, len);
	free(data);
	char meta[256];
	snprintf(meta, sizeof meta, "{\"patient_id\":\"P01\",\"id\":\"%s\",\"date\":\"2024-01-02\"}",
		 id);
	th_write_str(th_path("%s/%s.meta.json", dir, name), meta);
}

Test(pdf, carnet_index_reads_the_pdf_after_one_that_crashed_and_leaves_no_child)
{
	/* extractors the program left behind would become ours */
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/in", th_tmpdir()); /* th_path's buffers turn */
	write_pdf(dir, "a-crash.pdf", "crash", "P01-CRASH");
	write_pdf(dir, "b-good.pdf", NULL, "P01-GOOD");
	use_testing_extractor();
	static const char *const jobs[] = { "1", "2" };
	for (size_t j = 0; j < 2; j++) {
		const char *home = th_path("%s/idx-%s", th_tmpdir(), jobs[j]);
		const char *argv[] = { "testing/carnet-index", "--index", home, "--jobs", jobs[j],
				       "add", dir, NULL };
		char *out, *err;
		int rc = th_run(&out, &err, argv);
		cr_assert_eq(rc, 1, "a file rejected: exit 1 (%s)", err);
		cr_assert(strstr(err, "a-crash.pdf: PDF extractor crashed (signal 6)"), "%s", err);
		cr_assert(strstr(err, "1 added") && strstr(err, "1 rejected"), "%s", err);
		int status;
		cr_assert_eq(waitpid(-1, &status, WNOHANG), -1, "--jobs %s left a child", jobs[j]);
		cr_assert_eq(errno, ECHILD);
		free(out);
		free(err);
	}
	th_cleanup();
}

/* The live children of this process (extractors), into pids; how many. */
static size_t children(pid_t *pids, size_t max)
{
	size_t n = 0;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)getpid());
	char cmd[128];
	/* every thread's children: an extractor is the child of the thread that started it */
	snprintf(cmd, sizeof cmd, "cat %s/*/children 2>/dev/null", path);
	FILE *f = popen(cmd, "r");
	cr_assert(f);
	int pid;
	while (n < max && fscanf(f, "%d", &pid) == 1) {
		char comm[64] = "";
		FILE *c = fopen(th_path("/proc/%d/comm", pid), "r");
		if (c) {
			if (!fgets(comm, sizeof comm, c))
				comm[0] = '\0';
			fclose(c);
		}
		if (strncmp(comm, "carnet-pdftext", 14) == 0)
			pids[n++] = pid;
	}
	pclose(f);
	return n;
}

static int has_pid(const pid_t *pids, size_t n, pid_t pid)
{
	for (size_t i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

Test(pdf, a_writer_keeps_its_extraction_threads_and_extractors_from_batch_to_batch,
     .timeout = 60)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/in", th_tmpdir());
	const char *paths[8];
	char names[8][4200];
	for (int i = 0; i < 8; i++) {
		char name[32], id[32];
		snprintf(name, sizeof name, "echo-%d.pdf", i);
		snprintf(id, sizeof id, "P01-E%d", i);
		write_pdf(dir, name, NULL, id);
		snprintf(names[i], sizeof names[i], "%s/%s", dir, name);
		paths[i] = names[i];
	}
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, th_path("%s/idx", th_tmpdir()), &err), CARNET_OK,
		     "%s", err.message);
	pid_t first[8], again[8];
	cr_assert_eq(carnet_writer_add_files(w, paths, 4, 2, NULL, NULL, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	size_t n = children(first, 8);
	cr_assert(n >= 1 && n <= 2, "%zu extractors after the first batch", n);
	cr_assert_eq(carnet_writer_add_files(w, paths + 4, 4, 2, NULL, NULL, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	size_t m = children(again, 8);
	cr_assert(m >= 1 && m <= 2, "%zu extractors after the second batch", m);
	for (size_t i = 0; i < n; i++)
		cr_assert(has_pid(again, m, first[i]),
			  "extractor %d of the first batch still serves the second", (int)first[i]);
	carnet_writer_close(w);
	for (size_t i = 0; i < m; i++)
		cr_assert(reaped(again[i]), "extractor %d reaped when the writer closed",
			  (int)again[i]);
	cr_assert_eq(children(again, 8), 0);
	th_cleanup();
}
