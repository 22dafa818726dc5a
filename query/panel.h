/* SPDX-License-Identifier: GPL-2.0-or-later */
/* panel.h - the key results panel (carnet_panel of the public API): the
 * values of a record's results gathered into one series per analyte,
 * converted to the analyte's unit when exact (panel_series.c), from the
 * documents a request may see (panel.c). */
#ifndef CARNET_QUERY_PANEL_H
#define CARNET_QUERY_PANEL_H

#include <stddef.h>
#include <stdint.h>

#include "analytes.h"
#include "carnet.h"
#include "doc.h"
#include "strmap.h"

#define PANEL_FIELDS 13  /* carnet_value_field */
/* Bounds on what a panel holds while documents are read: the analytes
 * (the codes the table does not know beyond them are passed over), and
 * the values of a series before it is cut to its newest
 * CARNET_SERIES_MAX. */
#define PANEL_ANALYTES_MAX 500
#define PANEL_SERIES_KEPT (4 * CARNET_SERIES_MAX)

typedef struct pvalue {
	const char *f[PANEL_FIELDS];  /* in the panel's arena; never NULL */
	double num;
	int numeric;                  /* num is in the analyte's unit */
	int version;
	size_t order;                 /* documents newest first, then document order */
	uint64_t same;                /* hash of date, value and unit: duplicates */
	size_t doc;                   /* its document's pdoc.n */
} pvalue;

typedef struct panalyte {
	const char *key, *label, *unit;
	long table;                   /* its index in the analytes table, or -1 */
	int wanted;                   /* on the viewer's panel */
	size_t rank;                  /* its place in the panel */
	pvalue *v;
	size_t count, cap;
	/* once the series holds CARNET_SERIES_MAX values, the date of its
	 * oldest kept one: a later value no newer can never be shown (values
	 * come in order, so each ties behind those held) */
	const char *floor;
	/* the last unit its values were converted from ("": none), its
	 * factors and carnet_unit__factors' answer: a series is most often
	 * in one or two units */
	char conv_unit[24];
	double conv_from, conv_to;
	int conv_rc;
} panalyte;

struct carnet_panel {
	panalyte *a;
	size_t count, cap;
	carnet_arena mem;
	carnet_strmap index;          /* "c:SYSTEM|CODE" -> its analyte */
	size_t *of_table;             /* table index -> its analyte + 1 (0: none yet),
					 for each analyte of the table */
	size_t values;                /* values added, for their order */
	size_t docs;                  /* 1 + the highest pdoc.n of a value */
	char **held;                  /* the documents' values its strings point into */
	size_t nheld, held_cap;
};

/* The document a value comes from: its id, version and date, and its
 * number among the documents read (0, 1, ...). */
typedef struct pdoc {
	const char *id, *date;
	int version;
	size_t n;
} pdoc;

/* Make room for n more buffers p holds; 0, or -1 on no memory. */
int carnet_panel__room(carnet_panel *p, size_t n);
/* p now holds buf (after carnet_panel__room), freed with p. */
void carnet_panel__hold(carnet_panel *p, char *buf);

/* Add result r of document d to p: to its analyte of table t (or, when
 * the table does not know its code, to the series of its code), skipped
 * unless sel (a flag per analyte; NULL: every analyte) selects it or,
 * for a code the table does not know, it is one of codes[0..ncodes).
 * The strings of r and d are not copied: they must live as long as p
 * (in buffers p holds). Returns 0, or -1 on no memory. */
int carnet_panel__add(carnet_panel *p, const carnet_analytes *t, const unsigned char *sel,
		      const char *const *codes, size_t ncodes, const pdoc *d,
		      const carnet_result *r);

/* Put p in order once every value is in: the analytes of the panel
 * wanted[0..n) (table indexes) first, in that order, then the table's
 * others in its order, then the codes it does not know by label; each
 * series newest first, cut to CARNET_SERIES_MAX values. */
void carnet_panel__finish(carnet_panel *p, const size_t *wanted, size_t n);

#endif
