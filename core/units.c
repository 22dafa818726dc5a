/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units.c - the UCUM units of lab results parsed (a factor and a
 * dimension), and values converted between them only when exact. */
#include "units.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The atoms, with their factor of the base units (UCUM, "The Unified
 * Code for Units of Measure", unitsofmeasure.org: U = umol/min, kat =
 * mol/s, L = dm3, m[Hg] = 133.3220 kPa exactly, % = 10^-2). UI is how French
 * reports write [IU]. */
typedef struct atom {
	const char *name;
	double factor;
	signed char dim[CARNET_DIMS];
} atom;

static const atom atoms[] = {
	/*               factor           g mol  s  m Pa IU AR EQ PH */
	{ "g",           1,             {  1,  0,  0,  0,  0,  0,  0,  0,  0 } },
	{ "mol",         1,             {  0,  1,  0,  0,  0,  0,  0,  0,  0 } },
	{ "L",           1e-3,          {  0,  0,  0,  3,  0,  0,  0,  0,  0 } },
	{ "l",           1e-3,          {  0,  0,  0,  3,  0,  0,  0,  0,  0 } },
	{ "s",           1,             {  0,  0,  1,  0,  0,  0,  0,  0,  0 } },
	{ "min",         60,            {  0,  0,  1,  0,  0,  0,  0,  0,  0 } },
	{ "h",           3600,          {  0,  0,  1,  0,  0,  0,  0,  0,  0 } },
	{ "d",           86400,         {  0,  0,  1,  0,  0,  0,  0,  0,  0 } },
	{ "m",           1,             {  0,  0,  0,  1,  0,  0,  0,  0,  0 } },
	{ "Pa",          1,             {  0,  0,  0,  0,  1,  0,  0,  0,  0 } },
	{ "m[Hg]",       133322.0,      {  0,  0,  0,  0,  1,  0,  0,  0,  0 } },
	{ "U",           1e-6 / 60,     {  0,  1, -1,  0,  0,  0,  0,  0,  0 } },
	{ "kat",         1,             {  0,  1, -1,  0,  0,  0,  0,  0,  0 } },
	{ "[IU]",        1,             {  0,  0,  0,  0,  0,  1,  0,  0,  0 } },
	{ "[iU]",        1,             {  0,  0,  0,  0,  0,  1,  0,  0,  0 } },
	{ "UI",          1,             {  0,  0,  0,  0,  0,  1,  0,  0,  0 } },
	{ "[arb'U]",     1,             {  0,  0,  0,  0,  0,  0,  1,  0,  0 } },
	{ "eq",          1,             {  0,  0,  0,  0,  0,  0,  0,  1,  0 } },
	{ "Eq",          1,             {  0,  0,  0,  0,  0,  0,  0,  1,  0 } },
	{ "[pH]",        1,             {  0,  0,  0,  0,  0,  0,  0,  0,  1 } },
	{ "%",           1e-2,          {  0,  0,  0,  0,  0,  0,  0,  0,  0 } },
};

/* The prefixes (UCUM), the two spellings of micro among them. */
static const struct { const char *name; double factor; } prefixes[] = {
	{ "f", 1e-15 }, { "p", 1e-12 }, { "n", 1e-9 }, { "u", 1e-6 },
	{ "\xc2\xb5", 1e-6 }, { "\xce\xbc", 1e-6 }, { "m", 1e-3 }, { "c", 1e-2 },
	{ "d", 1e-1 }, { "k", 1e3 },
};

static const atom *find_atom(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof atoms / sizeof *atoms; i++)
		if (strlen(atoms[i].name) == n && memcmp(atoms[i].name, s, n) == 0)
			return &atoms[i];
	return NULL;
}

/* An integer [-+]digits of s[0..n), at most 3 digits; -1 if none. */
static int small_int(const char *s, size_t n, int *out)
{
	size_t i = (n && (*s == '-' || *s == '+')) ? 1 : 0;
	if (n == i || n - i > 3 || strspn(s + i, "0123456789") < n - i)
		return -1;
	*out = 0;
	for (size_t j = i; j < n; j++)
		*out = *out * 10 + (s[j] - '0');
	if (*s == '-')
		*out = -*out;
	return 0;
}

/* One term s[0..n) (no '.' or '/') into t. */
static int term(carnet_unit *t, const char *s, size_t n)
{
	memset(t, 0, sizeof *t);
	t->factor = 1;
	/* an annotation, alone or after the term, is worth 1 */
	const char *brace = memchr(s, '{', n);
	if (brace) {
		if (s[n - 1] != '}' || memchr(brace + 1, '{', (size_t)(s + n - brace - 1)))
			return -1;
		n = (size_t)(brace - s);
		if (n == 0)
			return 0;
	}
	int e;
	if (n > 3 && (memcmp(s, "10*", 3) == 0 || memcmp(s, "10^", 3) == 0)) {
		if (small_int(s + 3, n - 3, &e))
			return -1;
		t->factor = pow(10, e);
		return 0;
	}
	if (strspn(s, "0123456789") >= n) {
		if (n > 9)
			return -1;
		t->factor = strtod(s, NULL);
		return 0;
	}
	/* the exponent: trailing digits, with a sign */
	size_t k = n;
	while (k > 0 && s[k - 1] >= '0' && s[k - 1] <= '9')
		k--;
	if (k > 0 && k < n && (s[k - 1] == '-' || s[k - 1] == '+'))
		k--;
	e = 1;
	if (k < n && (k == 0 || small_int(s + k, n - k, &e) || e == 0))
		return -1;
	const atom *a = find_atom(s, k);
	double prefix = 1;
	for (size_t i = 0; !a && i < sizeof prefixes / sizeof *prefixes; i++) {
		size_t pl = strlen(prefixes[i].name);
		if (pl < k && memcmp(s, prefixes[i].name, pl) == 0 &&
		    (a = find_atom(s + pl, k - pl)) != NULL)
			prefix = prefixes[i].factor;
	}
	if (!a || (a->name[0] == '%' && prefix != 1))
		return -1;
	t->factor = pow(prefix * a->factor, e);
	for (int d = 0; d < CARNET_DIMS; d++)
		t->dim[d] = (signed char)(a->dim[d] * e);
	return 0;
}

int carnet_unit__parse(carnet_unit *u, const char *s)
{
	memset(u, 0, sizeof *u);
	u->factor = 1;
	if (!s || !*s || strlen(s) > 64)
		return -1;
	/* French reports' blood counts */
	if (strcmp(s, "G/L") == 0 || strcmp(s, "G/l") == 0)
		s = "10*9/L";
	else if (strcmp(s, "T/L") == 0 || strcmp(s, "T/l") == 0)
		s = "10*12/L";
	int sign = 1;
	if (*s == '/') {
		sign = -1;
		s++;
	}
	for (;;) {
		/* the term runs to the next '.' or '/' outside an annotation */
		size_t n = 0;
		for (int in = 0; s[n] && (in || (s[n] != '.' && s[n] != '/')); n++)
			in = s[n] == '{' ? 1 : s[n] == '}' ? 0 : in;
		carnet_unit t;
		if (n == 0 || term(&t, s, n))
			return -1;
		u->factor = sign > 0 ? u->factor * t.factor : u->factor / t.factor;
		for (int d = 0; d < CARNET_DIMS; d++)
			u->dim[d] = (signed char)(u->dim[d] + sign * t.dim[d]);
		if (!s[n])
			break;
		sign = s[n] == '/' ? -1 : 1;
		s += n + 1;
	}
	return u->factor > 0 && isfinite(u->factor) ? 0 : -1;
}

/* Read mass as amount of substance: g^k becomes mol^k, 1 g being
 * 1/molar_mass mol. */
static void as_moles(carnet_unit *u, double molar_mass)
{
	int k = u->dim[CARNET_DIM_G];
	u->factor *= pow(molar_mass, -k);
	u->dim[CARNET_DIM_MOL] = (signed char)(u->dim[CARNET_DIM_MOL] + k);
	u->dim[CARNET_DIM_G] = 0;
}

static int same_dim(const carnet_unit *a, const carnet_unit *b)
{
	return memcmp(a->dim, b->dim, sizeof a->dim) == 0;
}

int carnet_unit__factors(double *from_factor, double *to_factor, const char *from,
			 const char *to, double molar_mass)
{
	carnet_unit a, b;
	if (carnet_unit__parse(&a, from) || carnet_unit__parse(&b, to))
		return -1;
	if (!same_dim(&a, &b)) {
		if (!(molar_mass > 0))
			return -1;
		as_moles(&a, molar_mass);
		as_moles(&b, molar_mass);
		if (!same_dim(&a, &b))
			return -1;
	}
	static const signed char none[CARNET_DIMS];
	if (memcmp(a.dim, none, sizeof none) == 0 && fabs(a.factor / b.factor - 1) > 1e-12)
		return -1;
	*from_factor = a.factor;
	*to_factor = b.factor;
	return 0;
}

int carnet_unit__scale(double *out, double value, double from_factor, double to_factor)
{
	double v = value * from_factor / to_factor;
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}

int carnet_unit__convert(double *out, double value, const char *from, const char *to,
			 double molar_mass)
{
	double fa, fb;
	if (carnet_unit__factors(&fa, &fb, from, to, molar_mass))
		return -1;
	return carnet_unit__scale(out, value, fa, fb);
}

/* Powers of ten a double holds exactly. */
static const double tens[16] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
				 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };

/* A plain decimal ([+-]digits[.digits], at most 15 digits), without
 * strtod: the digits as a whole number (below 2^53, exact) divided by an
 * exact power of ten is one correctly rounded division, strtod's answer.
 * 0 when s is not one. */
static int plain_decimal(const char *s, double *out)
{
	const char *c = s + (*s == '-' || *s == '+');
	uint64_t m = 0;
	int digits = 0, decimals = -1;
	for (; *c; c++) {
		if (*c == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*c < '0' || *c > '9' || ++digits > 15)
			return 0;
		m = m * 10 + (uint64_t)(*c - '0');
		decimals += decimals >= 0;
	}
	if (!digits)
		return 0;
	double x = (double)m / tens[decimals > 0 ? decimals : 0];
	*out = *s == '-' ? -x : x;
	return 1;
}

int carnet_unit__number(const char *s, double *out)
{
	char *end;
	if (!s || !*s)
		return 0;
	if (plain_decimal(s, out))
		return 1;
	if (s[strspn(s, "0123456789+-.eE")] != '\0')
		return 0; /* no spaces, hexadecimal, inf or nan */
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out);
}

void carnet_unit__format(char out[40], double v, int decimals)
{
	/* |v| 10^decimals rounded to a whole number: the product is within
	 * half an ulp (2^-22 below 2^31) of the exact one, so away from a
	 * half it rounds the same way; near one, or out of range, printf */
	double a = decimals >= 0 && decimals <= 9 && isfinite(v) ? fabs(v) * tens[decimals] : -1;
	double whole = floor(a), frac = a - whole;
	if (!(a >= 0 && a < 2147483648.0) || fabs(frac - 0.5) < 1e-6) {
		snprintf(out, 40, "%.*f", decimals, v);
		return;
	}
	uint64_t r = (uint64_t)whole + (frac > 0.5);
	char d[24];
	int n = 0;
	do {
		d[n++] = (char)('0' + r % 10);
		r /= 10;
	} while (r);
	while (n <= decimals)
		d[n++] = '0';
	char *o = out;
	if (signbit(v))
		*o++ = '-';
	while (n--) {
		*o++ = d[n];
		if (n == decimals && n)
			*o++ = '.';
	}
	*o = '\0';
}
