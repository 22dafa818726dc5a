/* test_read_pdf.c - PDF text through poppler in a child process: real PDFs,
 * bad ones, and the isolation (a crashing or hanging parser costs only its
 * input). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "reader.h"

static carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, 10, CARNET_DEFAULT_PDF_MEMORY_BYTES };

static const char *shared_pdf(void)
{
	return th_path("%s/../shared/corpora-public/hl7-C-CDA-Examples/Unstructured/"
		       "CDA reference PDF/UD_sample.pdf", th_root());
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
	carnet_limits quick = { CARNET_DEFAULT_INPUT_BYTES, 1, CARNET_DEFAULT_PDF_MEMORY_BYTES };
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
