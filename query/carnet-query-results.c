/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-query-results.c - carnet-query --results: a patient's key
 * results at a glance, one line per analyte (latest value, flag, date,
 * range, the previous values and a sparkline of the trend), or JSON
 * lines. Uses the public API only. */
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "carnet-query.h"

#define PREVIOUS_SHOWN 4  /* previous values on a line */
#define SPARK_MAX 24      /* points of a sparkline: the newest */

/* The trend of analyte i, oldest to newest, as one character per value
 * (eight levels between its lowest and highest value). */
static void put_sparkline(const carnet_panel *p, size_t i, int utf8)
{
	static const char *const blocks[8] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char ascii[] = "_.-~=+*#";
	double v[SPARK_MAX], lo = 0, hi = 0, x;
	size_t n = 0;
	for (size_t j = 0; j < carnet_panel_values(p, i) && n < SPARK_MAX; j++)
		if (carnet_panel_number(p, i, j, &x)) {
			v[n] = x;
			lo = n == 0 || x < lo ? x : lo;
			hi = n == 0 || x > hi ? x : hi;
			n++;
		}
	if (n < 2)
		return;
	fputs("  ", stdout);
	for (size_t k = n; k-- > 0;) {
		int level = hi > lo ? (int)((v[k] - lo) / (hi - lo) * 7 + 0.5) : 3;
		if (utf8)
			fputs(blocks[level], stdout);
		else
			putchar(ascii[level]);
	}
}

static int utf8_locale(void)
{
	setlocale(LC_CTYPE, "");
	const char *cs = nl_langinfo(CODESET);
	return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

/* value and unit of value j of analyte i, into out. */
static void value_text(char *out, size_t size, const carnet_panel *p, size_t i, size_t j)
{
	const char *u = carnet_panel_value(p, i, j, CARNET_VALUE_UNIT);
	snprintf(out, size, "%s%s%s", carnet_panel_value(p, i, j, CARNET_VALUE_VALUE),
		 *u ? " " : "", u);
}

static void print_line(const carnet_panel *p, size_t i, int utf8)
{
	char cell[160];
	put_cell(carnet_panel_analyte(p, i, CARNET_ANALYTE_LABEL), 24);
	putchar(' ');
	value_text(cell, sizeof cell, p, i, 0);
	put_cell(cell, 18);
	putchar(' ');
	put_cell(carnet_panel_value(p, i, 0, CARNET_VALUE_FLAG), 3);
	snprintf(cell, sizeof cell, "%.10s", carnet_panel_value(p, i, 0, CARNET_VALUE_DATE));
	put_cell(cell, 11);
	const char *lo = carnet_panel_value(p, i, 0, CARNET_VALUE_LOW);
	const char *hi = carnet_panel_value(p, i, 0, CARNET_VALUE_HIGH);
	if (*lo || *hi)
		snprintf(cell, sizeof cell, "[%s-%s]", lo, hi);
	else
		cell[0] = '\0';
	put_cell(cell, 14);
	/* the previous values, newest first: the number alone when in the
	 * latest value's unit */
	const char *unit = carnet_panel_value(p, i, 0, CARNET_VALUE_UNIT);
	for (size_t j = 1; j < carnet_panel_values(p, i) && j <= PREVIOUS_SHOWN; j++) {
		if (strcmp(carnet_panel_value(p, i, j, CARNET_VALUE_UNIT), unit) == 0)
			snprintf(cell, sizeof cell, "%s", carnet_panel_value(p, i, j, CARNET_VALUE_VALUE));
		else
			value_text(cell, sizeof cell, p, i, j);
		printf(" %s", cell);
	}
	if (carnet_panel_values(p, i) > PREVIOUS_SHOWN + 1)
		printf(" (+%zu)", carnet_panel_values(p, i) - PREVIOUS_SHOWN - 1);
	put_sparkline(p, i, utf8);
	putchar('\n');
}

static void print_json_line(const carnet_panel *p, size_t i)
{
	static const char *const names[] = {
		"date", "value", "unit", "original", "original_unit", "low", "high", "flag",
		"doc_id", "code", "system", "display", "specimen",
	};
	json_t *values = json_array();
	for (size_t j = 0; values && j < carnet_panel_values(p, i); j++) {
		json_t *v = json_object();
		double x;
		for (size_t f = 0; v && f < sizeof names / sizeof *names; f++) {
			const char *s = carnet_panel_value(p, i, j, (carnet_value_field)f);
			if (*s)
				json_object_set_new(v, names[f], json_string(s));
		}
		if (v && carnet_panel_number(p, i, j, &x))
			json_object_set_new(v, "number", json_real(x));
		if (v)
			json_object_set_new(v, "version",
					    json_integer(carnet_panel_version(p, i, j)));
		json_array_append_new(values, v);
	}
	json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:o}",
			      "key", carnet_panel_analyte(p, i, CARNET_ANALYTE_KEY),
			      "label", carnet_panel_analyte(p, i, CARNET_ANALYTE_LABEL),
			      "unit", carnet_panel_analyte(p, i, CARNET_ANALYTE_UNIT),
			      "wanted", carnet_panel_wanted(p, i), "values", values);
	if (o) {
		json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(o);
	}
}

int show_results(carnet_index *idx, const carnet_request *req, int json, carnet_error *err)
{
	carnet_panel *p;
	int rc = carnet_index_results(&p, idx, req, err);
	if (rc != CARNET_OK)
		return rc;
	int utf8 = !json && utf8_locale();
	if (!json)
		printf("%zu analyte%s in the record of %s\n", carnet_panel_count(p),
		       carnet_panel_count(p) == 1 ? "" : "s", req->patient_id);
	if (!carnet_panel_count(p) && req->words && *req->words)
		fputs("carnet-query: no value in this record of an analyte these words name "
		      "(words of analytes.tsv, or LOINC codes)\n", stderr);
	for (size_t i = 0; i < carnet_panel_count(p); i++) {
		if (json)
			print_json_line(p, i);
		else
			print_line(p, i, utf8);
	}
	carnet_panel_free(p);
	return CARNET_OK;
}
