/* SPDX-License-Identifier: GPL-2.0-or-later */
/* named.c - the analytes the words of a request name (named.h): for the
 * results panel (panel.c) and for the ranking of a lab series
 * (candidates.c). */
#include "named.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "util.h"

static int add_code(carnet_named *n, const carnet_analytes *t, const char *code,
		    carnet_error *err)
{
	long a = carnet_analytes__by_code(t, code);
	if (a >= 0) {
		n->sel[a] = 1;
		return CARNET_OK;
	}
	if (CARNET_GROW(n->codes, n->codes_cap, n->ncodes + 1) ||
	    !(n->codes[n->ncodes] = strdup(code)))
		return carnet_error__nomem(err, NULL);
	n->ncodes++;
	return CARNET_OK;
}

/* The words of text[0..len) (no LOINC code among them): each run of them
 * that is an entry of the table's words flags its analytes. */
static int name_analytes(carnet_named *nm, const carnet_analytes *t, const char *text,
			 size_t len, carnet_error *err)
{
	carnet_buf b = CARNET_BUF_INIT;
	size_t n = 0;
	const char **w = NULL;
	int rc = carnet_analytes__fold(&b, &n, text, len, err);
	if (rc == CARNET_OK && n && !(w = malloc(n * sizeof *w)))
		rc = carnet_error__nomem(err, NULL);
	for (size_t i = 0, off = 0; rc == CARNET_OK && i < n; i++) {
		w[i] = b.data + off;
		off += strlen(w[i]) + 1;
	}
	for (size_t k = 0; rc == CARNET_OK && k < n;) {
		size_t m = carnet_analytes__words_at(t, w + k, n - k, nm->sel);
		k += m ? m : 1;
	}
	free(w);
	carnet_buf__free(&b);
	return rc;
}

int carnet_named__parse(carnet_named *n, const carnet_analytes *t, const char *words,
			carnet_error *err)
{
	if (!words || !*words)
		return CARNET_OK;
	if (!(n->sel = calloc(carnet_analytes__count(t) + 1, 1)))
		return carnet_error__nomem(err, NULL);
	static const char seps[] = " \t\r\n,;";
	carnet_buf pending = CARNET_BUF_INIT;
	int rc = CARNET_OK;
	for (const char *c = words + strspn(words, seps); *c && rc == CARNET_OK;
	     c += strspn(c, seps)) {
		size_t len = strcspn(c, seps);
		char code[16];
		snprintf(code, sizeof code, "%.*s", (int)(len < 15 ? len : 15), c);
		if (len < 15 && carnet_analytes__is_loinc(code)) {
			if ((rc = name_analytes(n, t, pending.data ? pending.data : "",
						pending.len, err)) == CARNET_OK)
				rc = add_code(n, t, code, err);
			carnet_buf__reset(&pending);
		} else if (carnet_buf__put(&pending, c, len) || carnet_buf__putc(&pending, ' '))
			rc = carnet_error__nomem(err, NULL);
		c += len;
	}
	if (rc == CARNET_OK)
		rc = name_analytes(n, t, pending.data ? pending.data : "", pending.len, err);
	carnet_buf__free(&pending);
	for (size_t a = 0; a < carnet_analytes__count(t); a++)
		n->count += n->sel[a] != 0;
	return rc;
}

int carnet_named__in(const carnet_named *n, const carnet_analytes *t, const char *s,
		     size_t len)
{
	if (!n->sel || (!n->count && !n->ncodes))
		return 0;
	for (size_t i = 0; i < len;) {
		size_t l = 0;
		while (i + l < len && s[i + l] != ' ')
			l++;
		/* every candidate's codes come through here: no snprintf */
		char code[16];
		size_t cl = l < 15 ? l : 15;
		memcpy(code, s + i, cl);
		code[cl] = '\0';
		long a = l < 15 ? carnet_analytes__by_code(t, code) : -1;
		if (a >= 0 && n->sel[a])
			return 1;
		for (size_t j = 0; a < 0 && l < 15 && j < n->ncodes; j++)
			if (strcmp(code, n->codes[j]) == 0)
				return 1;
		i += l + 1;
	}
	return 0;
}

void carnet_named__free(carnet_named *n)
{
	for (size_t i = 0; i < n->ncodes; i++)
		free(n->codes[i]);
	free(n->codes);
	free(n->sel);
	memset(n, 0, sizeof *n);
}
