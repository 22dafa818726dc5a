/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_read_html.c - HTML and XHTML text: entities, encodings, what is left
 * out (scripts, styles), tables, broken markup, bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "reader.h"

static int extract(const char *html, carnet_buf *text, carnet_buf *title, carnet_error *err)
{
	return carnet_html__extract(text, title, "lettre.html", html, strlen(html), err);
}

Test(html, visible_text_with_entities_and_without_scripts)
{
	const char *html =
		"<!DOCTYPE html><html><head><title>Lettre de liaison</title>"
		"<style>p { color: red }</style><script>var secret = 'nepasindexer';</script></head>"
		"<body><h1>Synth&egrave;se</h1><p>L&#39;&eacute;chographie montre un &#339;d&egrave;me.</p>"
		"<table><tr><td>Créatinine</td><td>1,35 mg/dL</td></tr></table></body></html>";
	carnet_buf text = CARNET_BUF_INIT, title = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(extract(html, &text, &title, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(title.data, "Lettre de liaison");
	cr_assert(strstr(text.data, "Synthèse\n"), "%s", text.data);
	cr_assert(strstr(text.data, "L'échographie montre un œdème."), "%s", text.data);
	cr_assert(strstr(text.data, "Créatinine\t1,35 mg/dL"), "%s", text.data);
	cr_assert_null(strstr(text.data, "nepasindexer"));
	cr_assert_null(strstr(text.data, "color"));
	carnet_buf__free(&text);
	carnet_buf__free(&title);
}

Test(html, windows_1252_and_declared_charsets_come_out_as_utf8)
{
	carnet_buf text = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(extract("<html><body><p>R\xE9sultat normal</p></body></html>", &text, NULL, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert(strstr(text.data, "Résultat normal"), "%s", text.data);
	carnet_buf__reset(&text);
	cr_assert_eq(extract("<html><head><meta charset=\"iso-8859-1\"></head><body>Fi\xE8vre</body></html>",
			     &text, NULL, &err), CARNET_OK);
	cr_assert(strstr(text.data, "Fièvre"), "%s", text.data);
	carnet_buf__free(&text);
}

Test(html, xhtml_and_broken_markup_still_give_text)
{
	carnet_buf text = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(extract("<?xml version=\"1.0\"?><html xmlns=\"http://www.w3.org/1999/xhtml\">"
			     "<body><div>Asthme <b>allergique</b></div></body></html>", &text, NULL, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert(strstr(text.data, "Asthme allergique"), "%s", text.data);
	carnet_buf__reset(&text);
	cr_assert_eq(extract("<p>Fond d'oeil <i>normal<p>Conclusion", &text, NULL, &err), CARNET_OK);
	cr_assert(strstr(text.data, "Fond d'oeil normal") && strstr(text.data, "Conclusion"), "%s",
		  text.data);
	carnet_buf__free(&text);
}

Test(html, empty_binary_and_textless_inputs_are_rejected)
{
	carnet_buf text = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_html__extract(&text, NULL, "vide.html", "", 0, &err), CARNET_E_INVALID);
	cr_assert(strstr(err.message, "vide.html") && strstr(err.message, "empty"), "%s", err.message);
	cr_assert_eq(carnet_html__extract(&text, NULL, "bin.html", "<html>\x01\x02", 8, &err),
		     CARNET_E_UNSUPPORTED_FORMAT);
	cr_assert_eq(extract("<html><script>x()</script></html>", &text, NULL, &err), CARNET_E_INVALID);
	carnet_buf__free(&text);
}

static int count(carnet_doc *doc, void *payload)
{
	cr_assert_str_eq(doc->format, "html");
	cr_assert_str_eq(doc->title, "CR");
	(*(int *)payload)++;
	return 0;
}

Test(html, the_reader_claims_html_files_and_needs_a_sidecar)
{
	const char *html = "<html><head><title>CR</title></head><body>Texte</body></html>";
	carnet_input in = { "cr.HTM", html, strlen(html), NULL };
	cr_assert_eq(carnet_reader__find(&in), &carnet_reader_html);
	cr_assert(carnet_reader_html.flags & CARNET_READER_NEEDS_SIDECAR);
	int n = 0;
	cr_assert_eq(carnet_reader_html.read(&in, count, &n, NULL), CARNET_OK);
	cr_assert_eq(n, 1);
}

/* --- the fixtures of tests/data/html, read through the reader --- */

typedef struct page {
	int docs;
	char *title;
	char *text;
} page;

static int keep(carnet_doc *doc, void *payload)
{
	page *pg = payload;
	pg->docs++;
	cr_assert_str_eq(doc->format, "html");
	cr_assert_eq(doc->sections_count, 1);
	pg->title = strdup(doc->title ? doc->title : "");
	pg->text = strdup(doc->sections[0].text);
	return 0;
}

/* Read tests/data/html/name with the HTML reader; returns its status. */
static int read_fixture(const char *name, page *pg, carnet_error *err)
{
	size_t len;
	char *data = th_slurp(th_path("%s/tests/data/html/%s", th_root(), name), &len);
	carnet_input in = { name, data, len, NULL };
	cr_assert_eq(carnet_reader__find(&in), &carnet_reader_html, "%s", name);
	memset(pg, 0, sizeof *pg);
	int rc = carnet_reader_html.read(&in, keep, pg, err);
	free(data);
	return rc;
}

static void page_free(page *pg)
{
	free(pg->title);
	free(pg->text);
}

Test(html, a_french_letter_gives_its_visible_text_only)
{
	page pg;
	carnet_error err;
	cr_assert_eq(read_fixture("lettre.html", &pg, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(pg.docs, 1);
	cr_assert_str_eq(pg.title, "Lettre de liaison – cardiologie");
	const char *t = pg.text;
	cr_assert(strstr(t, "Cher confrère,\n"), "%s", t);
	/* &#233;, literal UTF-8 and &#x27; decoded; blank runs collapsed */
	cr_assert(strstr(t, "un bilan détaillé de son insuffisance cardiaque. L'échocardiographie "
			    "montre une fraction d'éjection à 45\xC2\xA0%."), "%s", t);
	cr_assert(strstr(t, "Examen\tRésultat\t"), "%s", t);
	cr_assert(strstr(t, "Créatinine\t1,35 mg/dL"), "%s", t);
	cr_assert(strstr(t, "Bisoprolol 2,5 mg\nRamipril 5 mg\n"), "%s", t);
	cr_assert(strstr(t, "Bien confraternellement,\nDr Dupont"), "%s", t);
	/* what is not shown is not indexed */
	cr_assert_null(strstr(t, "nepasindexer"), "%s", t);
	cr_assert_null(strstr(t, "injecté"), "%s", t);
	cr_assert_null(strstr(t, "font-family"), "%s", t);
	cr_assert_null(strstr(t, "JavaScript"), "%s", t);
	cr_assert_null(strstr(t, "modèle caché"), "%s", t);
	cr_assert_null(strstr(t, "  "), "no run of blanks: %s", t);
	page_free(&pg);
}

Test(html, xhtml_with_a_namespace_and_a_doctype_reads_without_network)
{
	page pg;
	carnet_error err;
	cr_assert_eq(read_fixture("note.xhtml", &pg, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(pg.title, "Compte rendu de spirométrie");
	cr_assert(strstr(pg.text, "Asthme allergique bien contrôlé.\n"), "%s", pg.text);
	cr_assert(strstr(pg.text, "VEMS\xC2\xA0: 92\xC2\xA0% de la théorique."), "%s", pg.text);
	page_free(&pg);
}

Test(html, a_windows_1252_page_comes_out_as_utf8)
{
	page pg;
	carnet_error err;
	cr_assert_eq(read_fixture("cp1252.html", &pg, &err), CARNET_OK, "%s", err.message);
	/* 0x92, 0x96 and 0x9C are Windows-1252, not ISO-8859-1 */
	cr_assert_str_eq(pg.title, "Résultats d’analyses");
	cr_assert(strstr(pg.text, "Hémoglobine : 13,2 g/dL – normale."), "%s", pg.text);
	cr_assert(strstr(pg.text, "œdème des membres inférieurs."), "%s", pg.text);
	page_free(&pg);
	cr_assert_eq(read_fixture("undeclared-1252.html", &pg, &err), CARNET_OK, "%s", err.message);
	cr_assert(strstr(pg.text, "Antécédents : diabète de type 2."), "%s", pg.text);
	page_free(&pg);
}

Test(html, unclosed_tags_still_give_all_the_text)
{
	page pg;
	carnet_error err;
	cr_assert_eq(read_fixture("malformed.html", &pg, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(pg.title, "Ordonnance");
	cr_assert(strstr(pg.text, "Paracétamol 1 g trois fois par jour"), "%s", pg.text);
	cr_assert(strstr(pg.text, "Fond d'oeil normal"), "%s", pg.text);
	cr_assert(strstr(pg.text, "TA\t135/85"), "%s", pg.text);
	cr_assert(strstr(pg.text, "Conclusion : pas de rétinopathie"), "%s", pg.text);
	page_free(&pg);
}

Test(html, without_title_or_h1_the_first_line_is_the_title)
{
	page pg;
	carnet_error err;
	cr_assert_eq(read_fixture("no-title.html", &pg, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(pg.title, "Consultation de suivi du 12 mars");
	page_free(&pg);
	/* an h1 stands in for a missing <title> */
	const char *html = "<body><h1>Synthèse  médicale</h1><p>Texte</p></body>";
	carnet_buf text = CARNET_BUF_INIT, title = CARNET_BUF_INIT;
	cr_assert_eq(extract(html, &text, &title, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(title.data, "Synthèse médicale");
	carnet_buf__free(&text);
	carnet_buf__free(&title);
}

Test(html, empty_and_garbage_files_are_rejected_naming_the_file)
{
	page pg;
	carnet_error err;
	cr_assert_eq(read_fixture("empty.html", &pg, &err), CARNET_E_INVALID);
	cr_assert_eq(pg.docs, 0);
	cr_assert(strstr(err.message, "empty.html: empty file"), "%s", err.message);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT);
	int rc = read_fixture("garbage.html", &pg, &err);
	cr_assert(rc == CARNET_E_UNSUPPORTED_FORMAT || rc == CARNET_E_INVALID, "%d", rc);
	cr_assert_eq(pg.docs, 0);
	cr_assert(strstr(err.message, "garbage.html: not HTML"), "%s", err.message);
}

Test(html, sniffing_looks_at_the_extension_then_the_first_bytes)
{
	const char *doc = "<!DOCTYPE HTML>\n<p>Texte</p>";
	carnet_input by_doctype = { "page", doc, strlen(doc), NULL };
	cr_assert_eq(carnet_reader_html.sniff(&by_doctype), 30);
	const char *tag = "  <HTML><body>x</body></HTML>";
	carnet_input by_tag = { "page", tag, strlen(tag), NULL };
	cr_assert_eq(carnet_reader_html.sniff(&by_tag), 30);
	carnet_input by_ext = { "a/b/c.xhtml", "x", 1, NULL };
	cr_assert_eq(carnet_reader_html.sniff(&by_ext), 50);
	carnet_input other = { "notes.txt", "Pas de balise", 13, NULL };
	cr_assert_eq(carnet_reader_html.sniff(&other), 0);
}

Test(html, libxml2_prints_nothing_on_broken_input)
{
	/* the parse errors of a broken page stay inside the parser context:
	 * run with stderr redirected to a file and check it stayed empty */
	const char *errfile = th_path("%s/stderr", th_tmpdir());
	fflush(stderr);
	FILE *saved = freopen(errfile, "w", stderr);
	cr_assert_not_null(saved);
	carnet_buf text = CARNET_BUF_INIT;
	carnet_error err;
	const char *bad = "<html><body><p>a</b></i><foo:bar x=>&bogus;<![CDATA[ y ]]><table><td>z";
	int rc = extract(bad, &text, NULL, &err);
	fflush(stderr);
	size_t len;
	char *printed = th_slurp(errfile, &len);
	cr_assert_eq(rc, CARNET_OK, "%s", err.message);
	cr_assert_eq(len, 0, "printed: %s", printed);
	free(printed);
	carnet_buf__free(&text);
	th_cleanup();
}

/* ---- limits: what a hostile page may cost ---- */

static int extract_buf(const carnet_buf *b, carnet_buf *text, carnet_error *err)
{
	memset(err, 0, sizeof *err);
	return carnet_html__extract(text, NULL, "page.html", b->data, b->len, err);
}

Test(html, an_element_with_200000_attributes_is_refused_before_libxml2_reads_it)
{
	alarm(60); /* a hang fails the test (SIGALRM) */
	/* words without values are attributes to libxml2's HTML parser,
	 * which compares each with all the others */
	carnet_buf b = CARNET_BUF_INIT, text = CARNET_BUF_INIT;
	carnet_error err;
	carnet_buf__puts(&b, "<html><body><p");
	for (int i = 0; i < 200000; i++)
		carnet_buf__printf(&b, " a%d", i);
	carnet_buf__puts(&b, ">Texte</p></body></html>");
	cr_assert_eq(extract_buf(&b, &text, &err), CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "page.html: element <p> has more than 256 attributes");
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT);
	/* inside a comment libxml2 2.9.14 may still read them (it ends a
	 * comment at "--!>" too): refused as well */
	carnet_buf__reset(&b);
	carnet_buf__puts(&b, "<html><body><!-- x --!><p");
	for (int i = 0; i < 200000; i++)
		carnet_buf__printf(&b, " a%d=\"%d\"", i, i);
	carnet_buf__puts(&b, ">Texte</p> --></body></html>");
	cr_assert_eq(extract_buf(&b, &text, &err), CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "page.html: element <p> has more than 256 attributes");
	/* "a < b" in text is not a tag */
	carnet_buf__reset(&b);
	carnet_buf__puts(&b, "<html><body><p>PSA < 4 ng/mL");
	for (int i = 0; i < 1000; i++)
		carnet_buf__puts(&b, " suivi");
	carnet_buf__puts(&b, "</p></body></html>");
	cr_assert_eq(extract_buf(&b, &text, &err), CARNET_OK, "%s", err.message);
	cr_assert(strstr(text.data, "PSA < 4 ng/mL suivi"), "%s", text.data);
	carnet_buf__free(&text);
	carnet_buf__free(&b);
}

Test(html, elements_nested_100000_deep_are_refused)
{
	alarm(60); /* a hang fails the test (SIGALRM) */
	carnet_buf b = CARNET_BUF_INIT, text = CARNET_BUF_INIT;
	carnet_error err;
	carnet_buf__puts(&b, "<html><body>");
	for (int i = 0; i < 100000; i++)
		carnet_buf__puts(&b, "<div>");
	carnet_buf__puts(&b, "profond");
	for (int i = 0; i < 100000; i++)
		carnet_buf__puts(&b, "</div>");
	carnet_buf__puts(&b, "</body></html>");
	cr_assert_eq(extract_buf(&b, &text, &err), CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "page.html: elements nested more than 256 deep");
	carnet_buf__free(&text);
	carnet_buf__free(&b);
}

Test(html, a_declared_charset_cannot_change_how_the_markup_is_read)
{
	/* in UTF-7, "+ADw-" would be a '<' the limits never saw: a charset
	 * whose markup is not ASCII is not used */
	carnet_buf text = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(extract("<html><head><meta charset=\"utf-7\"></head><body>"
			     "<p>a+ADw-b+AD4-c</p></body></html>", &text, NULL, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert(strstr(text.data, "a+ADw-b+AD4-c"), "%s", text.data);
	carnet_buf__free(&text);
}

Test(html, a_page_over_its_time_budget_is_refused)
{
	alarm(120); /* a hang fails the test (SIGALRM) */
	carnet_buf b = CARNET_BUF_INIT, text = CARNET_BUF_INIT;
	carnet_error err;
	carnet_buf__puts(&b, "<html><body>");
	for (int i = 0; i < 300000; i++)
		carnet_buf__printf(&b, "<p>Tension artérielle normale, ligne %d</p>", i);
	carnet_buf__puts(&b, "</body></html>");
	carnet_limits quick = { CARNET_DEFAULT_INPUT_BYTES, CARNET_DEFAULT_PDF_SECONDS,
				CARNET_DEFAULT_PDF_MEMORY_BYTES, 20 };
	carnet_budget__start(&quick);
	int rc = extract_buf(&b, &text, &err);
	carnet_budget__stop();
	cr_assert_eq(rc, CARNET_E_INVALID);
	cr_assert_str_eq(err.message, "page.html: took more than 20 ms to read (the time limit "
				      "of one document)");
	/* without a budget it is read whole */
	carnet_buf__reset(&text);
	cr_assert_eq(extract_buf(&b, &text, &err), CARNET_OK, "%s", err.message);
	cr_assert(strstr(text.data, "ligne 299999"));
	carnet_buf__free(&text);
	carnet_buf__free(&b);
}
