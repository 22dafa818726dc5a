/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-json.c - JSON written straight into one growing buffer,
 * for the answers built on every search (the searchset Bundle): no tree
 * of objects made, walked and freed per request. The text is what
 * jansson's json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) writes for the
 * same members in the same order: strings escaped the same way (every
 * code point above U+007F as a backslash, 'u' and four upper-case hex
 * digits, two such escapes (a surrogate pair) above U+FFFF),
 * reals as "%.17g" with ".0" added to a whole number and no '+' or
 * leading zero in an exponent. Bytes that are not UTF-8 are written as
 * U+FFFD (jansson refuses such a string). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"

static void grow(serve_json *j, size_t more)
{
	if (j->failed)
		return;
	size_t cap = j->cap ? j->cap : 4096;
	while (cap <= j->len + more)
		cap *= 2;
	char *b = realloc(j->b, cap);
	if (!b) {
		j->failed = 1;
		return;
	}
	j->b = b;
	j->cap = cap;
}

static inline void put(serve_json *j, const char *s, size_t n)
{
	if (j->len + n >= j->cap) {
		grow(j, n);
		if (j->failed)
			return;
	}
	memcpy(j->b + j->len, s, n);
	j->len += n;
	j->b[j->len] = '\0';
}

/* The bytes written as they are in a string: ASCII from 0x20, but the
 * quote and the backslash. */
static const unsigned char plain[256] = {
	[0x20] = 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

/* The comma before a member or an element that is not its container's
 * first. */
static void sep(serve_json *j)
{
	if (j->more)
		put(j, ",", 1);
}

static void escaped(serve_json *j, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	put(j, "\"", 1);
	while (*u && !j->failed) {
		const unsigned char *run = u;
		while (plain[*u])
			u++;
		if (u > run)
			put(j, (const char *)run, (size_t)(u - run));
		if (!*u)
			break;
		char e[13] = { '\\', 0 };
		size_t n = 2;
		unsigned long cp = *u;
		size_t len = serve_utf8_seq(u);
		if (len > 1) {
			cp &= len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07;
			for (size_t k = 1; k < len; k++)
				cp = cp << 6 | (u[k] & 0x3F);
		} else if (len == 0) {
			cp = 0xFFFD;
			len = 1;
		}
		u += len;
		switch (cp) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		default: {
			unsigned long units[2] = { cp, 0 };
			size_t nu = 1;
			if (cp >= 0x10000) {
				units[0] = 0xD800 | ((cp - 0x10000) >> 10);
				units[1] = 0xDC00 | ((cp - 0x10000) & 0x3FF);
				nu = 2;
			}
			n = 0;
			for (size_t k = 0; k < nu; k++) {
				e[n++] = '\\';
				e[n++] = 'u';
				for (int sh = 12; sh >= 0; sh -= 4)
					e[n++] = hex[(units[k] >> sh) & 15];
			}
		}
		}
		put(j, e, n);
	}
	put(j, "\"", 1);
}

void serve_json_open(serve_json *j, char c)
{
	sep(j);
	put(j, &c, 1);
	j->more = 0;
}

void serve_json_close(serve_json *j, char c)
{
	put(j, &c, 1);
	j->more = 1;
}

void serve_json_key(serve_json *j, const char *key)
{
	sep(j);
	escaped(j, key);
	put(j, ":", 1);
	j->more = 0;
}

void serve_json_str(serve_json *j, const char *v)
{
	sep(j);
	escaped(j, v);
	j->more = 1;
}

void serve_json_int(serve_json *j, long long v)
{
	char b[32];
	int n = snprintf(b, sizeof b, "%lld", v);
	sep(j);
	put(j, b, (size_t)n);
	j->more = 1;
}

/* As jansson: a real that is not finite makes the whole text fail. */
void serve_json_real(serve_json *j, double v)
{
	char b[48];
	if (!isfinite(v)) {
		j->failed = 1;
		return;
	}
	int n = snprintf(b, sizeof b - 3, "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof b - 3) {
		j->failed = 1;
		return;
	}
	size_t len = (size_t)n;
	if (!strchr(b, '.') && !strchr(b, 'e')) {
		memcpy(b + len, ".0", 3);
		len += 2;
	}
	char *e = strchr(b, 'e');
	if (e) {
		char *start = e + 1, *end = e + 2;
		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, len - (size_t)(end - b) + 1);
			len -= (size_t)(end - start);
		}
	}
	sep(j);
	put(j, b, len);
	j->more = 1;
}

void serve_json_kstr(serve_json *j, const char *key, const char *v)
{
	serve_json_key(j, key);
	serve_json_str(j, v);
}

void serve_json_answer(serve_answer *a, unsigned status, serve_json *j)
{
	free(a->body);
	a->body = NULL;
	a->len = 0;
	a->content_type = SERVE_FHIR_JSON;
	if (j->failed || !j->b) {
		free(j->b);
		a->status = 500;
	} else {
		a->body = j->b;
		a->len = j->len;
		a->status = status;
	}
	memset(j, 0, sizeof *j);
}
