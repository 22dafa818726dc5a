/* SPDX-License-Identifier: GPL-2.0-or-later */
/* results_codec.c - the coded results of a document in one value: encoded
 * by the indexer, decoded (whatever the bytes) by the query side. */
#include "results_codec.h"

#include <stdlib.h>
#include <string.h>

/* Append field v (NULL: empty), separators in it made spaces. */
static int put_field(carnet_buf *out, const char *v)
{
	size_t start = out->len;
	if (v && carnet_buf__puts(out, v) != 0)
		return -1;
	for (size_t i = start; i < out->len; i++)
		if (out->data[i] == CARNET_RESULTS_RS || out->data[i] == CARNET_RESULTS_US)
			out->data[i] = ' ';
	return 0;
}

int carnet_results__encode(carnet_buf *out, const carnet_result *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char kind[2] = { r[i].kind, '\0' };
		const char *f[CARNET_RESULTS_FIELDS] = {
			kind, r[i].system, r[i].code, r[i].display, r[i].value, r[i].unit,
			r[i].low, r[i].high, r[i].interpretation, r[i].date, r[i].specimen
		};
		if (i && carnet_buf__putc(out, CARNET_RESULTS_RS) != 0)
			return -1;
		for (size_t k = 0; k < CARNET_RESULTS_FIELDS; k++)
			if ((k && carnet_buf__putc(out, CARNET_RESULTS_US) != 0) ||
			    put_field(out, f[k]) != 0)
				return -1;
	}
	return 0;
}

/* One record rec[0..len) (writable, NUL after it) to cb. */
static int record(char *rec, size_t len, carnet_result_cb cb, void *payload)
{
	char *f[CARNET_RESULTS_FIELDS];
	char *end = rec + len, *c = rec;
	size_t k = 0;
	for (;;) {
		f[k++] = c;
		char *us = memchr(c, CARNET_RESULTS_US, (size_t)(end - c));
		if (!us)
			break;
		if (k == CARNET_RESULTS_FIELDS)
			return 0; /* too many fields */
		*us = '\0';
		c = us + 1;
	}
	if (k != CARNET_RESULTS_FIELDS || !f[0][0] || f[0][1] || !*f[2])
		return 0;
	for (k = 0; k < CARNET_RESULTS_FIELDS; k++)
		if (!*f[k])
			f[k] = NULL;
	carnet_result r = { f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[0][0] };
	return cb(&r, payload);
}

int carnet_results__decode_in_place(char *data, size_t len, carnet_result_cb cb, void *payload)
{
	if (!data || !len)
		return 0;
	int rc = 0;
	for (size_t start = 0; start <= len && !rc;) {
		char *rec = data + start;
		const char *end = memchr(rec, CARNET_RESULTS_RS, len - start);
		size_t n = end ? (size_t)(end - rec) : len - start;
		rec[n] = '\0';
		/* a NUL inside a record (damage) ends its last field early */
		if (memchr(rec, '\0', n) == NULL)
			rc = record(rec, n, cb, payload);
		start += n + 1;
	}
	return rc;
}

int carnet_results__decode(const char *data, size_t len, carnet_result_cb cb, void *payload)
{
	if (!data || !len)
		return 0;
	char *copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, data, len);
	copy[len] = '\0';
	int rc = carnet_results__decode_in_place(copy, len, cb, payload);
	free(copy);
	return rc;
}
