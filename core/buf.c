/* SPDX-License-Identifier: GPL-2.0-or-later */
/* buf.c - growable byte buffer. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int carnet_buf__grow(carnet_buf *b, size_t extra)
{
	if (extra > (size_t)-1 / 2 - b->len)
		return -1;
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return -1;
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int carnet_buf__put(carnet_buf *b, const void *data, size_t len)
{
	if (carnet_buf__grow(b, len) != 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int carnet_buf__puts(carnet_buf *b, const char *s)
{
	return carnet_buf__put(b, s, strlen(s));
}

int carnet_buf__putc_grow(carnet_buf *b, char c)
{
	return carnet_buf__put(b, &c, 1);
}

int carnet_buf__printf(carnet_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || carnet_buf__grow(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void carnet_buf__reset(carnet_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *carnet_buf__detach(carnet_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void carnet_buf__free(carnet_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
