/* test_read_html.c - HTML and XHTML text: entities, encodings, what is left
 * out (scripts, styles), tables, broken markup, bad input. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

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
