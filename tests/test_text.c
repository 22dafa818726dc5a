/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_text.c - text normalisation (core/text.h): folding of case, accents,
 * ligatures and French elision; UTF-8 checks; binary detection; the
 * Windows-1252 conversion. Documents and queries go through the same fold,
 * so what it gives is what a search can match. */
#include <string.h>

#include <criterion/criterion.h>

#include "text.h"

/* Fold s (NUL-terminated) into a fresh buffer; the caller frees it. */
static carnet_buf fold(const char *s)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_text__fold(&out, s, strlen(s), &err), CARNET_OK, "%s",
		     err.message);
	return out;
}

/* Assert that folding `in` gives exactly `want`. */
static void assert_folds_to(const char *in, const char *want)
{
	carnet_buf out = fold(in);
	cr_assert_not_null(out.data, "fold(\"%s\") left the buffer unset", in);
	cr_assert_str_eq(out.data, want, "fold(\"%s\") = \"%s\", want \"%s\"", in,
			 out.data, want);
	cr_assert_eq(out.len, strlen(want), "fold(\"%s\"): len %zu, want %zu", in,
		     out.len, strlen(want));
	carnet_buf__free(&out);
}

/* ---- carnet_text__fold ---- */

Test(text, fold_removes_french_accents_and_lowercases)
{
	assert_folds_to("Hémoglobine", "hemoglobine");
	assert_folds_to("ÉLÉVATION à l’effort, très légère",
			"elevation a effort, tres legere");
	assert_folds_to("Crâne, maïs, Noël, çà", "crane, mais, noel, ca");
}

Test(text, fold_expands_oe_ligature_in_both_cases)
{
	assert_folds_to("ŒDÈME du cœur", "oedeme du coeur");
}

Test(text, fold_expands_ae_ligature_and_sharp_s)
{
	assert_folds_to("Æ", "ae");
	assert_folds_to("æ", "ae");
	assert_folds_to("Straße", "strasse");
}

Test(text, fold_expands_fi_compatibility_ligature)
{
	assert_folds_to("\xEF\xAC\x81" "brose", "fibrose"); /* U+FB01 */
}

Test(text, fold_removes_elided_article_with_ascii_apostrophe)
{
	assert_folds_to("l'hémoglobine", "hemoglobine");
	assert_folds_to("d'insuffisance", "insuffisance");
	assert_folds_to("L'Hémoglobine", "hemoglobine");
}

Test(text, fold_removes_elided_article_with_typographic_apostrophe)
{
	assert_folds_to("l\xE2\x80\x99" "artère", "artere"); /* U+2019 */
	assert_folds_to("l\xE2\x80\x98" "artère", "artere"); /* U+2018 */
}

Test(text, fold_treats_modifier_and_fullwidth_apostrophes_as_apostrophes)
{
	assert_folds_to("l\xCA\xBC" "artère", "artere"); /* U+02BC */
	assert_folds_to("l\xEF\xBC\x87" "artère", "artere"); /* U+FF07 */
}

/* Apostrophe look-alikes typed in queries: the acute accent (U+00B4, which
 * NFKD would split into a space and a combining mark) and the backtick. */
Test(text, fold_treats_acute_accent_as_apostrophe)
{
	assert_folds_to("l\xC2\xB4" "artère", "artere"); /* U+00B4 */
}

Test(text, fold_treats_backtick_as_apostrophe)
{
	assert_folds_to("l`artère", "artere");
}

Test(text, fold_removes_longer_elided_forms)
{
	assert_folds_to("qu'il", "il");
	assert_folds_to("jusqu'au", "au");
	assert_folds_to("lorsqu'elle", "elle");
	assert_folds_to("puisqu'on", "on");
}

Test(text, fold_removes_elisions_inside_a_sentence)
{
	assert_folds_to("Bilan de l'hémoglobine et d'une anémie",
			"bilan de hemoglobine et une anemie");
}

Test(text, fold_keeps_aujourdhui_whole)
{
	assert_folds_to("aujourd'hui", "aujourd'hui");
	assert_folds_to("Aujourd’hui", "aujourd'hui");
}

Test(text, fold_keeps_lone_elision_at_end_of_text)
{
	assert_folds_to("l'", "l'");
	assert_folds_to("vu l'", "vu l'");
}

Test(text, fold_keeps_lone_elision_before_space)
{
	assert_folds_to("l' artère", "l' artere");
	assert_folds_to("d' ", "d' ");
}

/* An elision is removed only before a word: "l'2" is not an article. */
Test(text, fold_keeps_lone_elision_before_digit)
{
	assert_folds_to("l'2", "l'2");
	assert_folds_to("d'1 mg", "d'1 mg");
}

Test(text, fold_keeps_apostrophe_in_words_that_are_not_elisions)
{
	assert_folds_to("prud'homme", "prud'homme");
	assert_folds_to("o'brien", "o'brien");
}

Test(text, fold_turns_nbsp_into_plain_space)
{
	assert_folds_to("7,2\xC2\xA0%", "7,2 %");
	assert_folds_to("\xC2\xA0", " ");
}

Test(text, fold_keeps_digits_and_punctuation)
{
	assert_folds_to("7,2 % HbA1c", "7,2 % hba1c");
	assert_folds_to("TA 12/8 (J+3) ; -0.5", "ta 12/8 (j+3) ; -0.5");
}

Test(text, fold_turns_each_invalid_utf8_sequence_into_a_space)
{
	/* a lone continuation byte, a truncated sequence, 0xFF */
	const char in[] = "ab\x80" "cd\xC3" "ef\xFF";
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_text__fold(&out, in, sizeof in - 1, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_str_eq(out.data, "ab cd ef ");
	cr_assert_eq(out.len, 9);
	carnet_buf__free(&out);
}

Test(text, fold_survives_truncated_multibyte_at_end)
{
	const char in[] = "h\xC3"; /* é cut after its first byte */
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_text__fold(&out, in, sizeof in - 1, &err), CARNET_OK);
	cr_assert_str_eq(out.data, "h ");
	carnet_buf__reset(&out);
	/* a 4-byte sequence cut after 3 bytes */
	cr_assert_eq(carnet_text__fold(&out, "x\xF0\x9F\x98", 4, &err), CARNET_OK);
	cr_assert_eq(out.len, 2, "\"%s\"", out.data);
	cr_assert_eq(out.data[0], 'x');
	cr_assert_eq(out.data[1], ' ');
	carnet_buf__free(&out);
}

Test(text, fold_reads_only_len_bytes)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_text__fold(&out, "ABCDEF", 3, &err), CARNET_OK);
	cr_assert_str_eq(out.data, "abc");
	carnet_buf__free(&out);
}

Test(text, fold_appends_to_a_non_empty_buffer)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_buf__puts(&out, "Déjà L'"), 0);
	const char *in = "l'Œdème";
	cr_assert_eq(carnet_text__fold(&out, in, strlen(in), &err), CARNET_OK);
	/* the previous content, even an apostrophe at its end, is untouched */
	cr_assert_str_eq(out.data, "Déjà L'oedeme");
	cr_assert_eq(out.len, strlen("Déjà L'oedeme"));
	carnet_buf__free(&out);
}

Test(text, fold_of_empty_input_gives_empty_output)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_text__fold(&out, "", 0, &err), CARNET_OK);
	cr_assert_eq(out.len, 0);
	cr_assert(out.data == NULL || out.data[0] == '\0');
	/* and appends nothing to a used buffer */
	cr_assert_eq(carnet_buf__puts(&out, "abc"), 0);
	cr_assert_eq(carnet_text__fold(&out, "", 0, &err), CARNET_OK);
	cr_assert_str_eq(out.data, "abc");
	cr_assert_eq(out.len, 3);
	carnet_buf__free(&out);
}

Test(text, fold_is_idempotent)
{
	const char *in = "L’ŒDÈME de l'artère, ﬁbrose : 7,2\xC2\xA0% HbA1c, Straße";
	carnet_buf once = fold(in);
	carnet_buf twice = fold(once.data);
	cr_assert_str_eq(twice.data, once.data);
	cr_assert_str_eq(once.data, "oedeme de artere, fibrose : 7,2 % hba1c, strasse");
	carnet_buf__free(&once);
	carnet_buf__free(&twice);
}

/* ---- carnet_text__utf8_valid ---- */

Test(text, utf8_valid_accepts_french_text)
{
	const char *s = "Œdème pulmonaire, fièvre à 39 °C — « évolution favorable » €";
	size_t off = 12345;
	cr_assert_eq(carnet_text__utf8_valid(s, strlen(s), &off), 1);
	cr_assert_eq(off, 12345, "bad_offset must be left alone on success");
	cr_assert_eq(carnet_text__utf8_valid("", 0, NULL), 1);
	/* 4-byte sequence (U+1F600) */
	cr_assert_eq(carnet_text__utf8_valid("\xF0\x9F\x98\x80", 4, NULL), 1);
}

Test(text, utf8_valid_rejects_bad_continuation_at_offset_0)
{
	size_t off = 99;
	cr_assert_eq(carnet_text__utf8_valid("\xC3\x28", 2, &off), 0);
	cr_assert_eq(off, 0);
}

Test(text, utf8_valid_reports_offset_of_first_bad_byte)
{
	size_t off = 99;
	/* "abcé" is 5 bytes, then a lone continuation byte */
	const char s[] = "abc\xC3\xA9\x80xyz";
	cr_assert_eq(carnet_text__utf8_valid(s, sizeof s - 1, &off), 0);
	cr_assert_eq(off, 5);
	/* a bad byte far into the text (past any internal window) */
	char big[100];
	memset(big, 'a', sizeof big);
	big[70] = '\xFF';
	cr_assert_eq(carnet_text__utf8_valid(big, sizeof big, &off), 0);
	cr_assert_eq(off, 70);
	/* NULL bad_offset is allowed */
	cr_assert_eq(carnet_text__utf8_valid(s, sizeof s - 1, NULL), 0);
}

Test(text, utf8_valid_rejects_truncated_multibyte_at_end)
{
	size_t off = 99;
	cr_assert_eq(carnet_text__utf8_valid("caf\xC3", 4, &off), 0);
	cr_assert_eq(off, 3);
	cr_assert_eq(carnet_text__utf8_valid("ab\xE2\x82", 4, &off), 0); /* € cut */
	cr_assert_eq(off, 2);
	/* a valid sequence cut by len, not by the data */
	cr_assert_eq(carnet_text__utf8_valid("\xC3\xA9", 1, &off), 0);
	cr_assert_eq(off, 0);
}

Test(text, utf8_valid_rejects_overlong_encoding)
{
	size_t off = 99;
	cr_assert_eq(carnet_text__utf8_valid("\xC0\xAF", 2, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(carnet_text__utf8_valid("a\xE0\x80\xAF", 4, &off), 0);
	cr_assert_eq(off, 1);
}

Test(text, utf8_valid_rejects_surrogates_and_beyond_u10ffff)
{
	size_t off = 99;
	cr_assert_eq(carnet_text__utf8_valid("\xED\xA0\x80", 3, &off), 0);
	cr_assert_eq(off, 0);
	cr_assert_eq(carnet_text__utf8_valid("ok\xF4\x90\x80\x80", 6, &off), 0);
	cr_assert_eq(off, 2);
}

/* ---- carnet_text__looks_binary ---- */

Test(text, looks_binary_accepts_text_with_tab_newline_cr)
{
	const char *s = "Titre\r\n\tligne 1\nligne 2\f\x1b[0m fin";
	size_t off = 777;
	cr_assert_eq(carnet_text__looks_binary(s, strlen(s), &off), 0);
	cr_assert_eq(carnet_text__looks_binary("", 0, &off), 0);
}

Test(text, looks_binary_reports_nul_and_its_offset)
{
	size_t off = 777;
	cr_assert_eq(carnet_text__looks_binary("abc\0def", 7, &off), 1);
	cr_assert_eq(off, 3);
}

Test(text, looks_binary_reports_first_control_byte)
{
	size_t off = 777;
	cr_assert_eq(carnet_text__looks_binary("ab\ncd\x01\x02", 7, &off), 1);
	cr_assert_eq(off, 5);
	/* DEL and bytes >= 0x80 are not control bytes for this check */
	cr_assert_eq(carnet_text__looks_binary("\x7f\xE9\xC3\xA9", 4, NULL), 0);
}

/* ---- carnet_text__from_cp1252 ---- */

Test(text, from_cp1252_converts_latin1_and_cp1252_specials)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	const char in[] = "caf\xE9 \x9C";
	cr_assert_eq(carnet_text__from_cp1252(&out, in, sizeof in - 1, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_str_eq(out.data, "café œ");
	cr_assert_eq(out.len, strlen("café œ"));
	carnet_buf__free(&out);
}

Test(text, from_cp1252_converts_euro_sign)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_text__from_cp1252(&out, "\x80", 1, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_str_eq(out.data, "€");
	cr_assert_eq(out.len, 3);
	carnet_buf__free(&out);
}

Test(text, from_cp1252_appends_to_a_non_empty_buffer)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_buf__puts(&out, "Déjà: "), 0);
	const char in[] = "\x92\x85 fi\xE8vre \xAB\xA0" "39\xB0" "C\xA0\xBB";
	cr_assert_eq(carnet_text__from_cp1252(&out, in, sizeof in - 1, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_str_eq(out.data, "Déjà: ’… fièvre «\xC2\xA0" "39°C\xC2\xA0»");
	carnet_buf__free(&out);
}

Test(text, from_cp1252_of_empty_input_appends_nothing)
{
	carnet_buf out = CARNET_BUF_INIT;
	carnet_error err;
	cr_assert_eq(carnet_buf__puts(&out, "x"), 0);
	cr_assert_eq(carnet_text__from_cp1252(&out, "", 0, &err), CARNET_OK);
	cr_assert_str_eq(out.data, "x");
	cr_assert_eq(out.len, 1);
	carnet_buf__free(&out);
}
