/* SPDX-License-Identifier: GPL-2.0-or-later */
/* text.c - ICU-based normalisation: folding for search, encodings, UTF-8 checks. */
#include "text.h"

#include <string.h>

#include <unicode/uchar.h>
#include <unicode/ucnv.h>
#include <unicode/unorm2.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

int carnet_text__utf8_valid(const char *in, size_t len, size_t *bad_offset)
{
	const uint8_t *s = (const uint8_t *)in;
	size_t i = 0;
	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		/* U8_NEXT takes int32_t lengths: walk in bounded windows */
		size_t window = len - i > 16 ? 16 : len - i;
		int32_t j = 0;
		UChar32 c;
		U8_NEXT(s + i, j, (int32_t)window, c);
		if (c < 0) {
			if (bad_offset)
				*bad_offset = i;
			return 0;
		}
		i += (size_t)j;
	}
	return 1;
}

int carnet_text__looks_binary(const char *in, size_t len, size_t *offset)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' &&
		    c != '\f' && c != 0x1b) {
			if (offset)
				*offset = i;
			return 1;
		}
	}
	return 0;
}

int carnet_text__from_cp1252(carnet_buf *out, const char *in, size_t len,
			     carnet_error *err)
{
	if (len > (size_t)INT32_MAX / 3)
		return carnet_error__set(err, CARNET_E_INVALID,
					 CARNET_ORIGIN_CARNET, 0,
					 "text too large to convert (%zu bytes)",
					 len);
	size_t cap = len * 3 + 1;
	if (carnet_buf__grow(out, cap) != 0)
		return carnet_error__nomem(err, "converting text");
	UErrorCode st = U_ZERO_ERROR;
	int32_t n = ucnv_convert("UTF-8", "windows-1252", out->data + out->len,
				 (int32_t)cap, in, (int32_t)len, &st);
	if (U_FAILURE(st))
		return carnet_error__set(err, CARNET_E_INTERNAL,
					 CARNET_ORIGIN_ICU, (int)st,
					 "ICU conversion from windows-1252 failed: %s",
					 u_errorName(st));
	out->len += (size_t)n;
	out->data[out->len] = '\0';
	return CARNET_OK;
}

/* Append one code point, folded, to out. Returns 0 or -1 (no memory). */
static int put_folded(carnet_buf *out, UChar32 c)
{
	switch (c) {
	case 0x0152: case 0x0153: /* Œ œ */
		return carnet_buf__put(out, "oe", 2);
	case 0x00C6: case 0x00E6: /* Æ æ */
		return carnet_buf__put(out, "ae", 2);
	case 0x00DF: case 0x1E9E: /* ß ẞ */
		return carnet_buf__put(out, "ss", 2);
	case 0x00D8: case 0x00F8: /* Ø ø */
		return carnet_buf__putc(out, 'o');
	case 0x0141: case 0x0142: /* Ł ł */
		return carnet_buf__putc(out, 'l');
	case 0x0110: case 0x0111: /* Đ đ */
		return carnet_buf__putc(out, 'd');
	case 0x2018: case 0x2019: case 0x02BC: case 0xFF07: case 0x00B4:
	case 0x0060: /* quotes used as apostrophes */
		return carnet_buf__putc(out, '\'');
	default:
		break;
	}
	c = u_foldCase(c, U_FOLD_CASE_DEFAULT);
	if (c < 0x80)
		return carnet_buf__putc(out, (char)c);
	uint8_t enc[4];
	int32_t n = 0;
	U8_APPEND_UNSAFE(enc, n, c);
	return carnet_buf__put(out, enc, (size_t)n);
}

static int is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* A byte that can start a letter (ASCII letter or any UTF-8 lead byte):
 * an elision is only removed before a word, not before a number. */
static int is_letter_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || c >= 0x80;
}

/* French elided forms, folded, without their apostrophe. */
static int is_elision(const char *w, size_t n)
{
	static const char *const forms[] = {
		"l", "d", "j", "m", "n", "s", "t", "c", "qu",
		"jusqu", "lorsqu", "puisqu", "quoiqu", "presqu", NULL
	};
	for (size_t i = 0; forms[i]; i++)
		if (strlen(forms[i]) == n && memcmp(forms[i], w, n) == 0)
			return 1;
	return 0;
}

/* Remove elided prefixes ("l'", "qu'") from out->data[start..], in place. */
static void strip_elisions(carnet_buf *out, size_t start)
{
	if (out->len == start || !memchr(out->data + start, '\'', out->len - start))
		return; /* no apostrophe, no elision */
	char *s = out->data;
	size_t w = start;
	size_t word = start; /* where the current word starts, in output */
	for (size_t r = start; r < out->len; r++) {
		unsigned char c = (unsigned char)s[r];
		if (c == '\'' && w > word && r + 1 < out->len &&
		    is_letter_byte((unsigned char)s[r + 1]) &&
		    is_elision(s + word, w - word)) {
			w = word; /* drop the prefix and the apostrophe */
			continue;
		}
		s[w++] = (char)c;
		if (!is_word_byte(c))
			word = w;
	}
	out->len = w;
	s[w] = '\0';
}

int carnet_text__fold(carnet_buf *out, const char *in, size_t len,
		      carnet_error *err)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *nfkd = unorm2_getNFKDInstance(&st);
	if (U_FAILURE(st))
		return carnet_error__set(err, CARNET_E_INTERNAL,
					 CARNET_ORIGIN_ICU, (int)st,
					 "ICU NFKD normaliser unavailable: %s",
					 u_errorName(st));
	size_t start = out->len;
	if (carnet_buf__grow(out, len) != 0)
		goto nomem;

	const uint8_t *s = (const uint8_t *)in;
	size_t i = 0;
	while (i < len) {
		/* ASCII runs: lower-case and copy, one byte for one */
		if (s[i] < 0x80) {
			size_t run = 1;
			while (i + run < len && s[i + run] < 0x80)
				run++;
			if (carnet_buf__grow(out, run) != 0)
				goto nomem;
			char *o = out->data + out->len;
			for (size_t k = 0; k < run; k++) {
				char c = (char)s[i + k];
				if (c >= 'A' && c <= 'Z')
					c = (char)(c - 'A' + 'a');
				else if (c == '`')
					c = '\''; /* typed as an apostrophe */
				o[k] = c;
			}
			out->len += run;
			out->data[out->len] = '\0';
			i += run;
			continue;
		}
		size_t window = len - i > 16 ? 16 : len - i;
		int32_t j = 0;
		UChar32 c;
		U8_NEXT(s + i, j, (int32_t)window, c);
		i += (size_t)j;
		if (c < 0) {
			if (carnet_buf__putc(out, ' ') != 0)
				goto nomem;
			continue;
		}
		/* apostrophe look-alikes, before NFKD splits the acute accent
		 * into a space and a combining mark */
		if (c == 0x00B4) {
			if (carnet_buf__putc(out, '\'') != 0)
				goto nomem;
			continue;
		}
		UChar dec[32];
		st = U_ZERO_ERROR;
		int32_t n = unorm2_getDecomposition(nfkd, c, dec, 32, &st);
		if (U_FAILURE(st) || n < 0) {
			if (put_folded(out, c) != 0)
				goto nomem;
			continue;
		}
		for (int32_t k = 0; k < n;) {
			UChar32 d;
			U16_NEXT(dec, k, n, d);
			if (u_charType(d) == U_NON_SPACING_MARK)
				continue;
			if (put_folded(out, d) != 0)
				goto nomem;
		}
	}
	strip_elisions(out, start);
	return CARNET_OK;
nomem:
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	return carnet_error__nomem(err, "folding text");
}
