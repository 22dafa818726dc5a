/* SPDX-License-Identifier: GPL-2.0-or-later */
/* units.h - the UCUM units lab reports use, parsed into a factor and a
 * dimension, and a value converted from one to another only when the
 * conversion is exact (same dimension, or mass <-> amount of substance
 * through a molar mass). */
#ifndef CARNET_CORE_UNITS_H
#define CARNET_CORE_UNITS_H

/* The base dimensions a unit is made of: mass, amount of substance,
 * time, length (a volume is length cubed: L = 10^-3 m3, mm3 = µL),
 * pressure, and the arbitrary units that convert to nothing else
 * (international units, arbitrary units, equivalents, pH). */
enum carnet_dim {
	CARNET_DIM_G, CARNET_DIM_MOL, CARNET_DIM_S, CARNET_DIM_M,
	CARNET_DIM_PA, CARNET_DIM_IU, CARNET_DIM_ARB, CARNET_DIM_EQ, CARNET_DIM_PH,
	CARNET_DIMS
};

typedef struct carnet_unit {
	double factor;                 /* of the base units */
	signed char dim[CARNET_DIMS];  /* exponent of each base dimension */
} carnet_unit;

/* Parse the unit s: UCUM terms joined by '.' and '/' (a leading '/'
 * allowed), each an annotation {..} (worth 1), a number, 10*N (or 10^N),
 * or an atom with an optional prefix (f p n u/µ m c d k) and exponent:
 * g, mol, L (l), s, min, h, d, m, Pa, U (µmol/min), kat, [IU] (also the
 * French UI), [arb'U], eq, m[Hg], %, [pH]; and the French counts G/L
 * (10*9/L) and T/L (10*12/L). Returns 0, or -1 for anything else. */
int carnet_unit__parse(carnet_unit *u, const char *s);

/* value in unit from, converted to unit to, into *out: when both parse
 * and have the same dimension, or, with molar_mass (g/mol) above 0,
 * the same once mass is read as amount of substance. A dimensionless
 * unit (%, mmol/mol, 1) converts only to one of the same factor: % and
 * mmol/mol of HbA1c are not one quantity in two units. Returns 0, or -1
 * when the conversion is not exact (then *out is unchanged). */
int carnet_unit__convert(double *out, double value, const char *from, const char *to,
			 double molar_mass);

/* What carnet_unit__convert does in two steps, for many values in the
 * same two units: the factors of from and to (0, or -1 when the
 * conversion is not exact), then each value scaled (0, or -1 when it
 * overflows; *out unchanged). */
int carnet_unit__factors(double *from_factor, double *to_factor, const char *from,
			 const char *to, double molar_mass);
int carnet_unit__scale(double *out, double value, double from_factor, double to_factor);

/* The number s is, as a result writes it ('.' decimal, optional
 * exponent, nothing else), into *out: 1, or 0 when s is not a finite
 * number. The same double as strtod gives. */
int carnet_unit__number(const char *s, double *out);

/* v with `decimals` digits after the point (0 to 9), as snprintf's
 * "%.*f" writes it, byte for byte. */
void carnet_unit__format(char out[40], double v, int decimals);

#endif
