/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util.c - array growth, hashing, table lines (see util.h). */
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int carnet__grow(void *arrayp, size_t *cap, size_t need, size_t elem_size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 8;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return -1;
		n *= 2;
	}
	if (elem_size && n > SIZE_MAX / elem_size)
		return -1;
	/* the pointer is read and written as bytes: arrayp holds a T *, not
	 * a void * */
	void *old;
	memcpy(&old, arrayp, sizeof old);
	void *grown = realloc(old, n * elem_size);
	if (!grown)
		return -1;
	memcpy(arrayp, &grown, sizeof grown);
	*cap = n;
	return 0;
}

uint64_t carnet__hash_add(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

uint64_t carnet__hash(const void *data, size_t len)
{
	return carnet__hash_add(CARNET_HASH_START, data, len);
}

uint64_t carnet__hash_str(const char *s)
{
	return carnet__hash(s, strlen(s));
}

void carnet_lines__start(carnet_lines *it, const char *name, const char *text,
			 size_t len)
{
	memset(it, 0, sizeof *it);
	it->name = name;
	it->text = text;
	it->len = text ? len : 0;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int carnet_lines__next(carnet_lines *it, carnet_error *err)
{
	while (it->at < it->len) {
		const char *s = it->text + it->at;
		const char *nl = memchr(s, '\n', it->len - it->at);
		size_t n = nl ? (size_t)(nl - s) : it->len - it->at;
		it->at += n + (nl != NULL);
		it->number++;
		if (memchr(s, '\0', n))
			return carnet_lines__bad(it, err, "a NUL byte");
		const char *hash = memchr(s, '#', n);
		if (hash)
			n = (size_t)(hash - s);
		while (n && blank(s[n - 1]))
			n--;
		while (n && blank(*s)) {
			s++;
			n--;
		}
		if (!n)
			continue;
		if (n > CARNET_LINE_MAX)
			return carnet_lines__bad(it, err, "line longer than %d bytes",
						 CARNET_LINE_MAX);
		memcpy(it->line, s, n);
		it->line[n] = '\0';
		return 1;
	}
	return 0;
}

int carnet_lines__bad(const carnet_lines *it, carnet_error *err, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "%s:%u: %s", it->name ? it->name : "table", it->number, why);
}

size_t carnet__split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	for (char *p = line; n < max;) {
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n;
}
