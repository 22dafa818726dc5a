/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_tables.c - libFuzzer harness for the analytes and panels tables
 * (core/analytes.c) and the UCUM units (core/units.c): the input read as
 * an analytes.tsv, as a panels.tsv over a small analytes table, and each
 * of its lines as a unit and as a result's value (read and written
 * as strtod and printf would); a parse must succeed or fail with
 * CARNET_E_INVALID naming the table, and what it loads must hold. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analytes.h"
#include "carnet.h"
#include "units.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char analytes[] =
	"potassium\t2823-3,6298-4\tPotassium\tmmol/L\t39.10\tkaliémie,K+,ionogramme\n"
	"glucose\t2345-7\tGlycémie\tmmol/L\t180.16\tglycémie\n";

/* A loaded table holds: every panel names analytes it has, every code
 * finds its analyte. */
static void check(const carnet_analytes *a, int rc, const carnet_error *err, const char *name)
{
	if (rc != CARNET_OK) {
		if (rc != CARNET_E_INVALID && rc != CARNET_E_NOMEM)
			abort();
		if (rc == CARNET_E_INVALID && !strstr(err->message, name))
			abort();
		return;
	}
	const size_t *list;
	size_t n = carnet_analytes__panel(a, "cardiologie", &list);
	for (size_t i = 0; i < n; i++)
		if (list[i] >= carnet_analytes__count(a))
			abort();
	for (size_t i = 0; i < carnet_analytes__count(a); i++) {
		const carnet_analyte *an = carnet_analytes__at(a, i);
		for (size_t j = 0; j < an->codes_count; j++)
			if (carnet_analytes__by_code(a, an->codes[j]) != (long)i)
				abort();
	}
}

/* The line s (n bytes) as a result's value: read as strtod reads it
 * (a number of the characters a decimal is written with, the same
 * double), written back as printf writes it. */
static void numbers(const char *s, size_t n)
{
	double x, want;
	char *end;
	int ok = carnet_unit__number(s, &x);
	want = strtod(s, &end);
	int plain = n && s[strspn(s, "0123456789+-.eE")] == '\0';
	if (ok != (plain && *end == '\0' && isfinite(want)))
		abort();
	if (ok && memcmp(&x, &want, sizeof x) != 0)
		abort();
	char got[40], printed[40];
	double v = ok ? x : (double)n / 7.0;
	carnet_unit__format(got, v, (int)(n % 10));
	snprintf(printed, sizeof printed, "%.*f", (int)(n % 10), v);
	if (fabs(v) < 1e30 && strcmp(got, printed) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	carnet_error err;
	carnet_analytes *a = NULL;
	int rc = carnet_analytes__parse(&a, "fuzz-analytes", text, size, "p", "", 0, &err);
	check(a, rc, &err, "fuzz-analytes");
	carnet_analytes__free(a);
	rc = carnet_analytes__parse(&a, "a", analytes, strlen(analytes), "fuzz-panels", text,
				    size, &err);
	check(a, rc, &err, "fuzz-panels");
	carnet_analytes__free(a);
	/* each line a unit, converted to mmol/L of glucose */
	char unit[80];
	for (size_t i = 0; i < size;) {
		size_t n = 0;
		while (i + n < size && data[i + n] != '\n')
			n++;
		if (n < sizeof unit && !memchr(text + i, '\0', n)) {
			memcpy(unit, text + i, n);
			unit[n] = '\0';
			carnet_unit u;
			double out;
			if (carnet_unit__parse(&u, unit) == 0 && !(u.factor > 0))
				abort();
			if (carnet_unit__convert(&out, 1, unit, "mmol/L", 180.16) == 0 && !(out == out))
				abort();
			numbers(unit, n);
		}
		i += n + 1;
	}
	return 0;
}
