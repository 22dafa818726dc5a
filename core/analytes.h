/* SPDX-License-Identifier: GPL-2.0-or-later */
/* analytes.h - the analytes table (analytes.tsv: LOINC codes, label,
 * canonical unit, molar mass, the words that name each) and the panels
 * table (panels.tsv: each profile's analytes, in order), the defaults
 * compiled in and an index home's own read after them. */
#ifndef CARNET_CORE_ANALYTES_H
#define CARNET_CORE_ANALYTES_H

#include <stddef.h>

#include "buf.h"
#include "carnet.h"

#define CARNET_ANALYTES_FILE "analytes.tsv"
#define CARNET_PANELS_FILE "panels.tsv"

typedef struct carnet_analyte {
	char *key, *label, *unit;
	double molar_mass;      /* g/mol, 0: none */
	char **codes;           /* LOINC codes */
	size_t codes_count;
	char *where;            /* "file:line" of its definition */
} carnet_analyte;

typedef struct carnet_analytes carnet_analytes;

/* Load the tables: the defaults, then the files of the index home @p home
 * (NULL: none) of the same names. A home's analyte with a known key
 * replaces it; a home's panel replaces the profile's. CARNET_E_INVALID
 * naming file:line for a bad line, a LOINC code of two analytes, or a
 * panel naming an unknown analyte; CARNET_E_IO, CARNET_E_NOMEM. */
int carnet_analytes__load(carnet_analytes **out, const char *home, carnet_error *err);

/* The same from text: analytes then panels, each named for messages
 * (used by the loader and by the fuzz harness). */
int carnet_analytes__parse(carnet_analytes **out, const char *analytes_name,
			   const char *analytes, size_t analytes_len,
			   const char *panels_name, const char *panels,
			   size_t panels_len, carnet_error *err);

void carnet_analytes__free(carnet_analytes *a);

size_t carnet_analytes__count(const carnet_analytes *a);
const carnet_analyte *carnet_analytes__at(const carnet_analytes *a, size_t i);

/* Is s a LOINC code: digits, '-' and its check digit? 1 or 0. */
int carnet_analytes__is_loinc(const char *s);

/* The analyte of LOINC code @p code: its index, or -1. */
long carnet_analytes__by_code(const carnet_analytes *a, const char *code);

/* For the folded words w[0..n): the longest entry of the words column
 * starting at w[0]; returns its length in words (0: none) and adds the
 * index of every analyte it names to sel (a flag per analyte). */
size_t carnet_analytes__words_at(const carnet_analytes *a, const char *const *w,
				 size_t n, unsigned char *sel);

/* The words of s[0..len) folded and split as the indexer does, appended
 * to out, each followed by a NUL; their number in *count (out may hold
 * words already). CARNET_E_NOMEM, CARNET_E_INTERNAL. */
int carnet_analytes__fold(carnet_buf *out, size_t *count, const char *s, size_t len,
			  carnet_error *err);

/* The panel of profile @p profile ("patient", a profile name, or NULL):
 * its analytes' indexes, in order, in *out (borrowed from a); the "*"
 * panel when the profile has none. Returns their number. */
size_t carnet_analytes__panel(const carnet_analytes *a, const char *profile,
			      const size_t **out);

#endif
