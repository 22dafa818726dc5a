/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snippet.h - the best passage of a document for the words of a request,
 * with the matched words marked. */
#ifndef CARNET_QUERY_SNIPPET_H
#define CARNET_QUERY_SNIPPET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "textpack.h"

/* The most distinct words a snippet waits for before it stops reading. */
#define CARNET_MARKS_NEED 16

/* The words to mark: folded words and their French and English stems. */
typedef struct carnet_marks {
	const char *const *words;
	size_t count;
	char (*stems)[2][64];  /* stems[i][0] French, [1] English */
	unsigned char pairs[128][16]; /* bit [a][b>>3]&(1<<(b&7)): a word or stem
				       starts with the ASCII letters or digits
				       a, b (b = 0: it is that one letter) */
	unsigned char first[128]; /* some word or stem starts with the ASCII
				     letter or digit a: a bit of pairs[a] */
	int any_start;         /* a word or stem starts outside ASCII: every
				  token is looked at */
	unsigned char firsts[8]; /* the letters and digits of first, when
				    they are at most 8 (firsts_count; else 0):
				    tokens are sifted by them 16 bytes at once */
	size_t firsts_count;
	size_t need[CARNET_MARKS_NEED]; /* marks (index + 1) of the distinct typed words */
	size_t need_count;
	struct carnet_mark_seen *seen; /* tokens already looked at, and their mark */
	size_t seen_cap, seen_count;
} carnet_marks;

/* Stem every word of m (m->stems is allocated; free with
 * carnet_snippet__marks_free); the first typed of the words are the ones
 * typed (the others, their synonyms'): a text is read no further than a
 * passage that holds all of them. Returns CARNET_OK or an error. */
int carnet_snippet__marks(carnet_marks *m, const char *const *words, size_t count,
			  size_t typed, carnet_error *err);
void carnet_snippet__marks_free(carnet_marks *m);

/* Append to out the passage of about words_max words of the text r was
 * opened on (carnet_textpack__open; UTF-8) that holds the most distinct
 * marked words, each matched token between <b> and </b>, HTML-escaped,
 * "…" where text is left out; the beginning of the text when nothing
 * matches. The text is decoded no further than the passage needs read:
 * up to a passage that holds every marked word the document holds (held:
 * bit i for m's i-th word, as the index found them; when it holds none of
 * the first 64, up to a passage with every typed word).
 * Returns CARNET_OK, CARNET_E_NOMEM, an error from folding, or the
 * damaged text's CARNET_E_CORRUPT. */
int carnet_snippet__make(carnet_buf *out, carnet_textpack_reader *r, carnet_marks *m,
			 uint64_t held, size_t words_max, carnet_error *err);

#endif
