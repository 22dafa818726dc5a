/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_snippet.c - the passage shown with each hit, through the public API
 * on a real index: every word of the passage chosen is marked, a token
 * that runs across the text's 64-byte steps is read whole, and a page of
 * many hits gives each hit its own record and passage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"

static char home[4096];
static char docs[4096];
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

TestSuite(snippet, .init = init, .fini = fini);

/* A text document of patient P1 with this id and text. */
static void put_doc(const char *id, const char *text)
{
	const char *path = th_path("%s/%s.txt", docs, id);
	th_write_str(path, text);
	char meta[256];
	snprintf(meta, sizeof meta, "{\"patient_id\":\"P1\",\"id\":\"%s\",\"date\":\"2025-03-01\"}",
		 id);
	th_write_str(th_path("%s.meta.json", path), meta);
}

static carnet_results *search(const char *words)
{
	carnet_error err;
	if (!idx)
		cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10";
	req.patient_id = "P1";
	req.words = words;
	req.limit = 1000;
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	return res;
}

/* The passage of the one hit for words, text being the record's only
 * document (to free). */
static char *lone_passage(const char *id, const char *text, const char *words)
{
	put_doc(id, text);
	cr_assert_eq(th_index_dir(home, docs), 1);
	carnet_results *res = search(words);
	cr_assert_eq(carnet_results_count(res), 1);
	const char *s = carnet_results_snippet(res, 0);
	char *copy = malloc(strlen(s) + 1);
	cr_assert(copy);
	memcpy(copy, s, strlen(s) + 1);
	carnet_results_free(res);
	return copy;
}

/* How many times s occurs in text. */
static size_t occurs(const char *text, const char *s)
{
	size_t n = 0;
	for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
		n++;
	return n;
}

/* n filler words (never searched) appended to out. */
static void filler(char *out, size_t size, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), size - strlen(out), "remplissage%zu ", i % 7);
}

Test(snippet, the_passage_keeps_both_words_when_it_starts_earlier_for_context)
{
	/* the two words 24 tokens apart, far into the text: the passage
	 * starts a little before the first for context, never so far as to
	 * lose the second */
	static char text[8192];
	filler(text, sizeof text, 60);
	strcat(text, "tachycardie ");
	filler(text, sizeof text, 23);
	strcat(text, "palpitations ");
	filler(text, sizeof text, 60);
	char *s = lone_passage("D1", text, "tachycardie palpitations");
	cr_assert(strstr(s, "<b>tachycardie</b>") && strstr(s, "<b>palpitations</b>"), "%s", s);
	free(s);
}

Test(snippet, a_document_with_two_of_three_words_shows_the_passage_with_both)
{
	/* one word alone early, both together much later, the third typed
	 * word nowhere: the passage is the one with both (reading stops
	 * for the words the document holds, never before it holds them) */
	static char text[8192];
	filler(text, sizeof text, 10);
	strcat(text, "tachycardie ");
	filler(text, sizeof text, 80);
	strcat(text, "tachycardie et palpitations ");
	filler(text, sizeof text, 60);
	char *s = lone_passage("D2", text, "tachycardie palpitations syncope");
	cr_assert(strstr(s, "<b>tachycardie</b> et <b>palpitations</b>"), "%s", s);
	free(s);
}

Test(snippet, a_marked_word_inside_a_token_that_crosses_a_64_byte_step_is_marked)
{
	/* "supra-aortiques" 14 tokens after the first mark (the last token
	 * read before the passage is complete), its start moved one byte
	 * at a time so that its marked part falls on either side of the
	 * 64-byte steps the text is read in */
	for (int shift = 0; shift < 70; shift++) {
		char id[16], text[1024] = "";
		snprintf(id, sizeof id, "S%02d", shift);
		for (int i = 0; i < shift; i++)
			strcat(text, i % 9 == 8 ? " " : "x");
		strcat(text, " aortiques ");
		filler(text, sizeof text, 13);
		strcat(text, "supra-aortiques ");
		filler(text, sizeof text, 30);
		put_doc(id, text);
	}
	cr_assert_eq(th_index_dir(home, docs), 70);
	carnet_results *res = search("aortiques");
	cr_assert_eq(carnet_results_count(res), 70);
	for (size_t i = 0; i < 70; i++) {
		const char *s = carnet_results_snippet(res, i);
		cr_assert_eq(occurs(s, "<b>"), 2, "%s: %s",
			     carnet_results_field(res, i, CARNET_FIELD_ID), s);
		cr_assert(strstr(s, "<b>supra-aortiques</b>"), "%s", s);
	}
	carnet_results_free(res);
}

Test(snippet, a_word_after_an_apostrophe_or_an_accent_is_marked)
{
	char *s = lone_passage("A1", "Compte rendu. Constat de l\xe2\x80\x99" "arythmie ce jour, "
				     "puis \xc3\xa9pisode d'arythmie la nuit.", "arythmie");
	cr_assert_eq(occurs(s, "<b>"), 2, "%s", s);
	free(s);
}

Test(snippet, each_hit_of_a_long_page_has_its_own_record_and_passage)
{
	/* more hits than are read at once: each hit's record and passage
	 * are its own document's */
	for (int i = 0; i < 75; i++) {
		char id[16], text[512];
		snprintf(id, sizeof id, "H%02d", i);
		snprintf(text, sizeof text, "Compte rendu %s. Dyspn\xc3\xa9" "e d'effort, "
			 "marqueur%02d propre au document.", id, i);
		put_doc(id, text);
	}
	cr_assert_eq(th_index_dir(home, docs), 75);
	carnet_results *res = search("dyspnee");
	cr_assert_eq(carnet_results_count(res), 75);
	for (size_t i = 0; i < 75; i++) {
		const char *id = carnet_results_field(res, i, CARNET_FIELD_ID);
		char own[32];
		snprintf(own, sizeof own, "marqueur%s", id + 1);
		const char *s = carnet_results_snippet(res, i);
		cr_assert(strstr(s, own) && strstr(s, "<b>Dyspnée</b>"), "%s: %s", id, s);
	}
	carnet_results_free(res);
}
