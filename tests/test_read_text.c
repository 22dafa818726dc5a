/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_read_text.c - the plain text reader (indexer/read_text.c), reached as
 * the writer reaches it: carnet_reader__find picks it by extension, then its
 * read callback turns the bytes into one document for a sink. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "reader.h"

static const carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES,
				      CARNET_DEFAULT_PDF_SECONDS,
				      CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };

static carnet_input input(const char *path, const char *data, size_t len)
{
	carnet_input in = { path, data, len, &limits };
	return in;
}

static const carnet_reader *find(const char *path, const char *data)
{
	carnet_input in = input(path, data, strlen(data));
	return carnet_reader__find(&in);
}

/* What the sink saw: copies, since the reader clears its document after
 * the call. */
struct got {
	int calls;
	int ret; /* what the sink returns */
	char *title;
	char *format;
	char *text;
	size_t text_len;
	size_t sections;
	carnet_section_kind kind;
	int version;
	int has_patient;
	int has_id;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int sink(carnet_doc *doc, void *payload)
{
	struct got *g = payload;
	g->calls++;
	if (g->calls == 1) {
		g->title = dup_or_null(doc->title);
		g->format = dup_or_null(doc->format);
		g->sections = doc->sections_count;
		if (doc->sections_count) {
			g->text_len = doc->sections[0].len;
			g->text = malloc(g->text_len + 1);
			cr_assert_not_null(g->text);
			memcpy(g->text, doc->sections[0].text, g->text_len);
			g->text[g->text_len] = '\0';
			g->kind = doc->sections[0].kind;
		}
		g->version = doc->version;
		g->has_patient = doc->patient_id != NULL;
		g->has_id = doc->id != NULL;
	}
	return g->ret;
}

static void got_free(struct got *g)
{
	free(g->title);
	free(g->format);
	free(g->text);
}

/* Read data (len bytes) from path with the text reader, found as the
 * writer finds it. */
static int read_as(const char *path, const char *data, size_t len, struct got *g,
		   carnet_error *err)
{
	carnet_input in = input(path, data, len);
	const carnet_reader *r = carnet_reader__find(&in);
	cr_assert_not_null(r, "no reader for %s", path);
	cr_assert_str_eq(r->name, "text");
	memset(err, 0, sizeof *err);
	return r->read(&in, sink, g, err);
}

static int read_str(const char *data, struct got *g, carnet_error *err)
{
	return read_as("patients/dupont/cr.txt", data, strlen(data), g, err);
}

/* ---- which inputs the text reader claims ---- */

Test(read_text, txt_input_is_claimed_by_text_reader)
{
	const carnet_reader *r = find("patients/dupont/cr.txt", "Compte rendu\n");
	cr_assert_not_null(r);
	cr_assert_str_eq(r->name, "text");
	cr_assert_eq(r, &carnet_reader_text);
	cr_assert(r->flags & CARNET_READER_NEEDS_SIDECAR);
	/* even when the text looks like markup */
	r = find("note.txt", "<html> n'est pas du HTML ici");
	cr_assert_not_null(r);
	cr_assert_str_eq(r->name, "text");
}

Test(read_text, other_text_extensions_are_claimed)
{
	cr_assert_eq(find("a/cr.text", "x"), &carnet_reader_text);
	cr_assert_eq(find("a/cr.asc", "x"), &carnet_reader_text);
}

Test(read_text, extension_matching_is_case_insensitive)
{
	const carnet_reader *r = find("SCAN/CR.TXT", "Compte rendu\n");
	cr_assert_not_null(r);
	cr_assert_str_eq(r->name, "text");
	cr_assert_eq(find("cr.Txt", "x"), &carnet_reader_text);
}

Test(read_text, docx_is_not_claimed_by_any_reader)
{
	cr_assert_null(find("lettre.docx", "PK\x03\x04 word/document.xml"));
	cr_assert_null(find("lettre.DOCX", "Compte rendu"));
}

Test(read_text, files_without_txt_extension_are_not_claimed)
{
	cr_assert_null(find("notes", "Compte rendu"));
	cr_assert_null(find("cr.txt.bak", "Compte rendu"));
	cr_assert_null(find("archive.txt/notes", "Compte rendu"));
	cr_assert_null(find("dossier/.txt", "Compte rendu")); /* a hidden file, no extension */
}

Test(read_text, pdf_is_not_claimed_by_text_reader)
{
	const carnet_reader *r = find("cr.pdf", "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n");
	cr_assert_not_null(r);
	cr_assert_neq(r, &carnet_reader_text);
	cr_assert_str_eq(r->name, "pdf");
	r = find("cr.pdf", "plain words in a misnamed file");
	cr_assert(r == NULL || r != &carnet_reader_text);
}

/* ---- what the reader makes of the text ---- */

Test(read_text, sink_receives_exactly_one_document_of_format_text)
{
	struct got g = { 0 };
	carnet_error err;
	const char *text = "Compte rendu\nTension 12/8.\n";
	cr_assert_eq(read_str(text, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(g.calls, 1);
	cr_assert_str_eq(g.format, "text");
	cr_assert_eq(g.sections, 1);
	cr_assert_eq(g.kind, CARNET_SECTION_BODY);
	cr_assert_str_eq(g.text, text);
	cr_assert_eq(g.text_len, strlen(text));
	cr_assert_eq(g.version, 1);
	/* everything else comes from the sidecar */
	cr_assert_eq(g.has_patient, 0);
	cr_assert_eq(g.has_id, 0);
	got_free(&g);
}

Test(read_text, title_is_first_non_blank_line_trimmed)
{
	struct got g = { 0 };
	carnet_error err;
	const char *text = "\n   \t\n\r\n  \tCompte rendu opératoire \t\r\nCorps du texte\n";
	cr_assert_eq(read_str(text, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.title, "Compte rendu opératoire");
	/* the body keeps the whole text, blank lines included */
	cr_assert_str_eq(g.text, text);
	got_free(&g);
}

Test(read_text, title_of_single_line_without_newline)
{
	struct got g = { 0 };
	carnet_error err;
	cr_assert_eq(read_str("Ordonnance", &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.title, "Ordonnance");
	got_free(&g);
}

Test(read_text, long_title_is_cut_on_a_utf8_boundary)
{
	/* "a" then 150 "é": byte 200 falls inside an "é" */
	char line[1 + 150 * 2 + 32];
	size_t n = 0;
	line[n++] = 'a';
	for (int i = 0; i < 150; i++) {
		line[n++] = '\xC3';
		line[n++] = '\xA9';
	}
	memcpy(line + n, "\nsuite\n", 8);
	struct got g = { 0 };
	carnet_error err;
	cr_assert_eq(read_str(line, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(strlen(g.title), 199, "title of %zu bytes", strlen(g.title));
	cr_assert_eq(strncmp(g.title, line, 199), 0);
	got_free(&g);
}

Test(read_text, utf8_bom_is_skipped)
{
	struct got g = { 0 };
	carnet_error err;
	cr_assert_eq(read_str("\xEF\xBB\xBF" "Bilan sanguin\nGlycémie à jeun 0,95 g/L\n", &g, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.title, "Bilan sanguin");
	cr_assert_str_eq(g.text, "Bilan sanguin\nGlycémie à jeun 0,95 g/L\n");
	got_free(&g);
}

Test(read_text, windows_1252_text_becomes_utf8)
{
	struct got g = { 0 };
	carnet_error err;
	cr_assert_eq(read_str("R\xE9sultat\nH\xE9moglobine 13 g/dL, \x9C" "d\xE8me, 30 \x80\n", &g,
			      &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.title, "Résultat");
	cr_assert_str_eq(g.text, "Résultat\nHémoglobine 13 g/dL, œdème, 30 €\n");
	cr_assert_eq(g.text_len, strlen("Résultat\nHémoglobine 13 g/dL, œdème, 30 €\n"));
	got_free(&g);
}

Test(read_text, valid_utf8_is_kept_as_is)
{
	struct got g = { 0 };
	carnet_error err;
	/* UTF-8 that would be mojibake if read as Windows-1252 */
	cr_assert_eq(read_str("Résultat\n", &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_str_eq(g.title, "Résultat");
	cr_assert_str_eq(g.text, "Résultat\n");
	got_free(&g);
}

/* ---- bad inputs ---- */

Test(read_text, empty_file_is_invalid)
{
	struct got g = { 0 };
	carnet_error err;
	cr_assert_eq(read_as("patients/dupont/vide.txt", "", 0, &g, &err), CARNET_E_INVALID);
	cr_assert_eq(err.code, CARNET_E_INVALID);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT);
	cr_assert(strstr(err.message, "patients/dupont/vide.txt"), "%s", err.message);
	cr_assert_eq(g.calls, 0);
}

Test(read_text, binary_with_nul_is_unsupported_naming_path_and_offset)
{
	struct got g = { 0 };
	carnet_error err;
	const char data[] = "Compte\0rendu";
	cr_assert_eq(read_as("patients/dupont/scan.txt", data, sizeof data - 1, &g, &err),
		     CARNET_E_UNSUPPORTED_FORMAT, "%s", err.message);
	cr_assert_eq(err.code, CARNET_E_UNSUPPORTED_FORMAT);
	cr_assert_eq(err.origin, CARNET_ORIGIN_INPUT);
	cr_assert(strstr(err.message, "patients/dupont/scan.txt"), "%s", err.message);
	cr_assert(strstr(err.message, "offset 6"), "%s", err.message);
	/* never the document's text */
	cr_assert_null(strstr(err.message, "Compte"), "%s", err.message);
	cr_assert_eq(g.calls, 0);
}

Test(read_text, other_control_bytes_are_unsupported)
{
	struct got g = { 0 };
	carnet_error err;
	const char data[] = "GIF89a\x01\x02\x03";
	cr_assert_eq(read_as("image.txt", data, sizeof data - 1, &g, &err),
		     CARNET_E_UNSUPPORTED_FORMAT);
	cr_assert(strstr(err.message, "offset 6"), "%s", err.message);
	cr_assert_eq(g.calls, 0);
}

/* The offset of a binary byte counts from the start of the file, BOM
 * included. */
Test(read_text, binary_offset_counts_the_bom_bytes)
{
	struct got g = { 0 };
	carnet_error err;
	const char data[] = "\xEF\xBB\xBF" "ab\0cd";
	cr_assert_eq(read_as("bom.txt", data, sizeof data - 1, &g, &err),
		     CARNET_E_UNSUPPORTED_FORMAT);
	cr_assert(strstr(err.message, "offset 5"), "%s", err.message);
}

/* The empty-file check comes before the BOM is stripped: a 3-byte file
 * (what an editor saves for an empty "UTF-8 with BOM" file) becomes a
 * document with no text and an empty title: it is rejected as empty. */
Test(read_text, bom_only_file_is_empty)
{
	struct got g = { 0 };
	carnet_error err;
	cr_assert_eq(read_as("vide.txt", "\xEF\xBB\xBF", 3, &g, &err), CARNET_E_INVALID,
		     "%s", err.message);
	cr_assert_eq(g.calls, 0);
	got_free(&g);
}

/* ---- the sink ---- */

Test(read_text, sink_non_zero_return_stops_the_read_and_is_returned)
{
	struct got g = { .ret = 17 };
	carnet_error err;
	cr_assert_eq(read_str("Compte rendu\n", &g, &err), 17);
	cr_assert_eq(g.calls, 1);
	got_free(&g);
	struct got h = { .ret = CARNET_E_NOMEM };
	cr_assert_eq(read_str("Compte rendu\n", &h, &err), CARNET_E_NOMEM);
	cr_assert_eq(h.calls, 1);
	got_free(&h);
}

/* ---- the time budget ---- */

Test(read_text, a_text_over_its_time_budget_is_refused)
{
	alarm(120); /* a hang fails the test (SIGALRM) */
	/* 48 MB of Windows-1252, converted byte by byte: far longer than 1 ms */
	size_t len = 48u * 1024 * 1024;
	char *data = malloc(len);
	cr_assert_not_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = i % 64 == 63 ? '\n' : (i % 7 ? 'e' : '\xE9');
	carnet_limits quick = limits;
	quick.doc_ms = 1;
	struct got g = { .ret = 0 };
	carnet_error err;
	carnet_budget__start(&quick);
	int rc = read_as("long.txt", data, len, &g, &err);
	carnet_budget__stop();
	cr_assert_eq(rc, CARNET_E_INVALID, "%s", err.message);
	cr_assert_str_eq(err.message, "long.txt: took more than 1 ms to read (the time limit of "
				      "one document)");
	cr_assert_eq(g.calls, 0);
	/* without a budget the same text is read */
	cr_assert_eq(read_as("long.txt", data, len, &g, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(g.calls, 1);
	got_free(&g);
	free(data);
}
