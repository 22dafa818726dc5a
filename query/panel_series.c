/* SPDX-License-Identifier: GPL-2.0-or-later */
/* panel_series.c - the series of a key results panel: each result found
 * put in its analyte's series (converted to the analyte's unit when the
 * conversion is exact, else kept as written), the panel put in order,
 * and the public accessors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "panel.h"
#include "units.h"
#include "util.h"

#define LOINC_OID "2.16.840.1.113883.6.1"

static const char *keep(carnet_panel *p, const char *s)
{
	if (!s)
		return "";
	size_t n = strlen(s);
	char *c = carnet_arena__alloc(&p->mem, n + 1);
	if (c)
		memcpy(c, s, n + 1);
	return c;
}

/* A result's value, low and high bounds as numbers, each read once and
 * only when asked (the flag and the conversion both ask). */
enum { NUM_VALUE, NUM_LOW, NUM_HIGH };
typedef struct nums {
	const carnet_result *r;
	signed char read[3]; /* 0: not yet, 1: a number, -1: not one */
	double n[3];
} nums;

static int num(nums *ns, int which, double *out)
{
	if (!ns->read[which]) {
		const char *s = which == NUM_VALUE ? ns->r->value
				: which == NUM_LOW ? ns->r->low : ns->r->high;
		ns->read[which] = carnet_unit__number(s, &ns->n[which]) ? 1 : -1;
	}
	*out = ns->n[which];
	return ns->read[which] > 0;
}

/* v written with as many significant digits as the value it was
 * converted from had (at least 3, at most 6), without an exponent. */
static void format_number(char out[40], double v, const char *from)
{
	int sig = 0, lead = 1;
	for (const char *c = from; *c && *c != 'e' && *c != 'E'; c++)
		if (*c >= '0' && *c <= '9') {
			if (*c != '0')
				lead = 0;
			sig += !lead;
		}
	sig = sig < 3 ? 3 : sig > 6 ? 6 : sig;
	int mag = v != 0 ? (int)floor(log10(fabs(v))) : 0;
	int decimals = sig - 1 - mag;
	carnet_unit__format(out, v, decimals < 0 ? 0 : decimals > 9 ? 9 : decimals);
}

/* The analyte series r goes to, added if new; NULL on no memory, and
 * *full when the panel has PANEL_ANALYTES_MAX already. */
static panalyte *series_of(carnet_panel *p, const carnet_analytes *t, long ti,
			   const carnet_result *r, int *full)
{
	char key[2 * CARNET_RESULT_CODE_MAX + 8] = "";
	carnet_strmap_slot *s = NULL;
	if (ti >= 0) {
		/* an analyte of the table (most results): by its index */
		if (!p->of_table && !(p->of_table = calloc(carnet_analytes__count(t),
							   sizeof *p->of_table)))
			return NULL;
		if (p->of_table[ti])
			return &p->a[p->of_table[ti] - 1];
	} else {
		snprintf(key, sizeof key, "c:%.*s|%.*s", CARNET_RESULT_CODE_MAX,
			 r->system ? r->system : "", CARNET_RESULT_CODE_MAX, r->code);
		if ((s = carnet_strmap__find(&p->index, key)))
			return &p->a[s->idx];
	}
	if (p->count == PANEL_ANALYTES_MAX) {
		*full = 1;
		return NULL;
	}
	if (CARNET_GROW(p->a, p->cap, p->count + 1) ||
	    (ti < 0 && !(s = carnet_strmap__put(&p->index, key))))
		return NULL;
	if (ti >= 0)
		p->of_table[ti] = p->count + 1;
	else
		s->idx = p->count;
	panalyte *a = &p->a[p->count];
	memset(a, 0, sizeof *a);
	a->table = ti;
	if (ti >= 0) {
		const carnet_analyte *an = carnet_analytes__at(t, (size_t)ti);
		a->key = an->key;
		a->label = an->label;
		a->unit = an->unit;
	} else {
		a->key = keep(p, key + 2);
		a->label = keep(p, r->display && *r->display ? r->display : r->code);
		a->unit = "";
	}
	if (!a->key || !a->label)
		return NULL;
	p->count++;
	return a;
}

/* Is a value with no unit in unit u (a plain number, as INR or pH)? */
static int unitless(const char *u)
{
	carnet_unit cu;
	if (carnet_unit__parse(&cu, u) || cu.factor != 1)
		return 0;
	for (int d = 0; d < CARNET_DIMS; d++)
		if (cu.dim[d] && d != CARNET_DIM_PH)
			return 0;
	return 1;
}

/* The factors of unit (not empty) and a's unit (an's) into *fa, *fb,
 * remembered in a for the next value in the same unit (a unit too long
 * to remember is looked up each time); 0, or -1 when the conversion is
 * not exact. */
static int factors(panalyte *a, const carnet_analyte *an, const char *unit, double *fa,
		   double *fb)
{
	if (strcmp(a->conv_unit, unit) != 0) {
		a->conv_rc = carnet_unit__factors(&a->conv_from, &a->conv_to, unit, an->unit,
						  an->molar_mass);
		snprintf(a->conv_unit, sizeof a->conv_unit, "%s",
			 strlen(unit) < sizeof a->conv_unit ? unit : "");
	}
	*fa = a->conv_from;
	*fb = a->conv_to;
	return a->conv_rc;
}

/* The value, unit and range of v as shown: converted when exact. */
static int convert(carnet_panel *p, panalyte *a, pvalue *v, const carnet_analyte *an,
		   nums *ns)
{
	const carnet_result *r = ns->r;
	double fa = 1, fb = 1;
	double x, y, lo, hi;
	const char *unit = r->unit && *r->unit ? r->unit : NULL;
	if (r->kind != CARNET_RESULT_NUMERIC || !num(ns, NUM_VALUE, &x))
		return 0;
	if (!unit || strcmp(unit, an->unit) == 0) {
		if (!unit && !unitless(an->unit))
			return 0;
		y = x;
	} else if (factors(a, an, unit, &fa, &fb) || carnet_unit__scale(&y, x, fa, fb))
		return 0;
	v->numeric = 1;
	v->num = y;
	if (unit && strcmp(unit, an->unit) == 0)
		return 0; /* as written: nothing to convert */
	char text[40];
	format_number(text, y, r->value);
	v->f[CARNET_VALUE_VALUE] = keep(p, text);
	v->f[CARNET_VALUE_UNIT] = an->unit;
	if (unit && num(ns, NUM_LOW, &lo) && !carnet_unit__scale(&lo, lo, fa, fb)) {
		format_number(text, lo, r->low);
		v->f[CARNET_VALUE_LOW] = keep(p, text);
	}
	if (unit && num(ns, NUM_HIGH, &hi) && !carnet_unit__scale(&hi, hi, fa, fb)) {
		format_number(text, hi, r->high);
		v->f[CARNET_VALUE_HIGH] = keep(p, text);
	}
	return 0;
}

/* H or L from the range, when the document gives no interpretation. */
static const char *flag_of(nums *ns)
{
	const carnet_result *r = ns->r;
	double x, lo, hi;
	if (r->interpretation && *r->interpretation)
		return r->interpretation;
	if (r->kind != CARNET_RESULT_NUMERIC || !num(ns, NUM_VALUE, &x))
		return "";
	if (num(ns, NUM_HIGH, &hi) && x > hi)
		return "H";
	if (num(ns, NUM_LOW, &lo) && x < lo)
		return "L";
	return "";
}

static int value_cmp(const void *pa, const void *pb)
{
	const pvalue *a = pa, *b = pb;
	int c = strcmp(b->f[CARNET_VALUE_DATE], a->f[CARNET_VALUE_DATE]);
	if (c)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* Series a newest first, cut to its newest n values. */
static void cut(panalyte *a, size_t n)
{
	/* most often in order already: documents are read newest first */
	size_t i = 1;
	while (i < a->count && value_cmp(&a->v[i - 1], &a->v[i]) < 0)
		i++;
	if (i < a->count)
		qsort(a->v, a->count, sizeof *a->v, value_cmp);
	if (a->count > n)
		a->count = n;
	if (a->count == CARNET_SERIES_MAX)
		a->floor = a->v[a->count - 1].f[CARNET_VALUE_DATE];
}

/* A full series' floor, the first time it holds CARNET_SERIES_MAX
 * values: the oldest date among them. */
static void set_floor(panalyte *a)
{
	a->floor = a->v[0].f[CARNET_VALUE_DATE];
	for (size_t i = 1; i < a->count; i++)
		if (strcmp(a->v[i].f[CARNET_VALUE_DATE], a->floor) < 0)
			a->floor = a->v[i].f[CARNET_VALUE_DATE];
}

/* What makes two values of a series the same: date, value and unit. */
static uint64_t same_key(const char *date, const char *value, const char *unit)
{
	uint64_t h = CARNET_HASH_START;
	const char *s[3] = { date, value, unit };
	for (int i = 0; i < 3; i++)
		h = carnet__hash_add(h, s[i], strlen(s[i]) + 1);
	return h;
}

int carnet_panel__room(carnet_panel *p, size_t n)
{
	return CARNET_GROW(p->held, p->held_cap, p->nheld + n);
}

void carnet_panel__hold(carnet_panel *p, char *buf)
{
	p->held[p->nheld++] = buf;
}

int carnet_panel__add(carnet_panel *p, const carnet_analytes *t, const unsigned char *sel,
		      const char *const *codes, size_t ncodes, const pdoc *d,
		      const carnet_result *r)
{
	int loinc = r->system && strcmp(r->system, LOINC_OID) == 0;
	long ti = loinc ? carnet_analytes__by_code(t, r->code) : -1;
	if (sel && (ti < 0 || !sel[ti])) {
		size_t i = 0;
		while (ti < 0 && loinc && i < ncodes && strcmp(codes[i], r->code) != 0)
			i++;
		if (ti >= 0 || !loinc || i == ncodes)
			return 0;
	}
	int full = 0;
	panalyte *a = series_of(p, t, ti, r, &full);
	if (!a)
		return full ? 0 : -1;
	const char *date = r->date && *r->date ? r->date : d->date;
	if (a->floor && strcmp(date, a->floor) <= 0)
		return 0; /* behind the CARNET_SERIES_MAX values held */
	const char *value = r->value ? r->value : "", *unit = r->unit ? r->unit : "";
	uint64_t same = same_key(date, value, unit);
	for (size_t i = 0; i < a->count; i++)
		if (a->v[i].same == same &&
		    strcmp(a->v[i].f[CARNET_VALUE_DATE], date) == 0 &&
		    strcmp(a->v[i].f[CARNET_VALUE_ORIGINAL], value) == 0 &&
		    strcmp(a->v[i].f[CARNET_VALUE_ORIGINAL_UNIT], unit) == 0)
			return 0; /* the same value, from a newer document */
	if (a->count == PANEL_SERIES_KEPT)
		cut(a, CARNET_SERIES_MAX);
	if (CARNET_GROW(a->v, a->cap, a->count + 1))
		return -1;
	pvalue *v = &a->v[a->count];
	memset(v, 0, sizeof *v);
	nums ns = { r, { 0, 0, 0 }, { 0, 0, 0 } };
	const char *f[PANEL_FIELDS] = {
		[CARNET_VALUE_DATE] = date, [CARNET_VALUE_VALUE] = value,
		[CARNET_VALUE_UNIT] = unit, [CARNET_VALUE_ORIGINAL] = value,
		[CARNET_VALUE_ORIGINAL_UNIT] = unit, [CARNET_VALUE_LOW] = r->low,
		[CARNET_VALUE_HIGH] = r->high, [CARNET_VALUE_FLAG] = flag_of(&ns),
		[CARNET_VALUE_DOC_ID] = d->id, [CARNET_VALUE_CODE] = r->code,
		[CARNET_VALUE_SYSTEM] = r->system, [CARNET_VALUE_DISPLAY] = r->display,
		[CARNET_VALUE_SPECIMEN] = r->specimen,
	};
	for (int i = 0; i < PANEL_FIELDS; i++)
		v->f[i] = f[i] ? f[i] : "";
	v->version = d->version;
	v->order = p->values++;
	v->same = same;
	v->doc = d->n;
	if (d->n >= p->docs)
		p->docs = d->n + 1;
	if (ti >= 0 && convert(p, a, v, carnet_analytes__at(t, (size_t)ti), &ns))
		return -1;
	for (int i = 0; i < PANEL_FIELDS; i++)
		if (!v->f[i])
			return -1;
	if (++a->count == CARNET_SERIES_MAX && !a->floor)
		set_floor(a);
	return 0;
}

/* ---- order ---- */

static int analyte_cmp(const void *pa, const void *pb)
{
	const panalyte *a = pa, *b = pb;
	if (a->rank != b->rank)
		return a->rank < b->rank ? -1 : 1;
	int c = strcmp(a->label, b->label);
	return c ? c : strcmp(a->key, b->key);
}

void carnet_panel__finish(carnet_panel *p, const size_t *wanted, size_t n)
{
	for (size_t i = 0; i < p->count; i++) {
		panalyte *a = &p->a[i];
		size_t w = 0;
		while (a->table >= 0 && w < n && wanted[w] != (size_t)a->table)
			w++;
		a->wanted = a->table >= 0 && w < n;
		a->rank = a->wanted ? w : a->table >= 0 ? n + (size_t)a->table : (size_t)-1;
		cut(a, CARNET_SERIES_MAX);
	}
	if (p->count)
		qsort(p->a, p->count, sizeof *p->a, analyte_cmp);
}

/* ---- accessors ---- */

size_t carnet_panel_count(const carnet_panel *p)
{
	return p ? p->count : 0;
}

const char *carnet_panel_analyte(const carnet_panel *p, size_t i, carnet_analyte_field field)
{
	if (!p || i >= p->count)
		return NULL;
	switch (field) {
	case CARNET_ANALYTE_KEY: return p->a[i].key;
	case CARNET_ANALYTE_LABEL: return p->a[i].label;
	case CARNET_ANALYTE_UNIT: return p->a[i].unit;
	}
	return NULL;
}

int carnet_panel_wanted(const carnet_panel *p, size_t i)
{
	return p && i < p->count ? p->a[i].wanted : 0;
}

size_t carnet_panel_values(const carnet_panel *p, size_t i)
{
	return p && i < p->count ? p->a[i].count : 0;
}

static const pvalue *value_at(const carnet_panel *p, size_t i, size_t j)
{
	return p && i < p->count && j < p->a[i].count ? &p->a[i].v[j] : NULL;
}

const char *carnet_panel_value(const carnet_panel *p, size_t i, size_t j,
			       carnet_value_field field)
{
	const pvalue *v = value_at(p, i, j);
	if (!v || (unsigned)field >= PANEL_FIELDS)
		return NULL;
	return v->f[field];
}

int carnet_panel_number(const carnet_panel *p, size_t i, size_t j, double *out)
{
	const pvalue *v = value_at(p, i, j);
	if (!v || !v->numeric)
		return 0;
	*out = v->num;
	return 1;
}

int carnet_panel_version(const carnet_panel *p, size_t i, size_t j)
{
	const pvalue *v = value_at(p, i, j);
	return v ? v->version : 0;
}

void carnet_panel_free(carnet_panel *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++)
		free(p->a[i].v);
	free(p->a);
	free(p->of_table);
	for (size_t i = 0; i < p->nheld; i++)
		free(p->held[i]);
	free(p->held);
	carnet_strmap__free(&p->index);
	carnet_arena__free(&p->mem);
	free(p);
}
