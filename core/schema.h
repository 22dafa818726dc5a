/* SPDX-License-Identifier: GPL-2.0-or-later */
/* schema.h - how a document is laid out in the Xapian index: term prefixes,
 * value slots and the stored record. Shared by indexer and query, defined once. */
#ifndef CARNET_CORE_SCHEMA_H
#define CARNET_CORE_SCHEMA_H

/* Boolean term prefixes. Each is followed by the raw code or id. */
#define CARNET_PREFIX_ID "Q"            /* unique: the document (version) id */
#define CARNET_PREFIX_PATIENT "XP:"     /* patient id */
#define CARNET_PREFIX_SET "XG:"         /* set id shared by versions */
#define CARNET_PREFIX_TYPE "XT:"        /* document type (LOINC / DMP) */
#define CARNET_PREFIX_SPECIALTY "XS:"   /* author specialty */
#define CARNET_PREFIX_AUTHOR "XA:"      /* author id (RPPS) */
#define CARNET_PREFIX_CONF "XC:"        /* confidentiality / visibility code */
#define CARNET_PREFIX_YEAR "XY:"        /* year of the document date */
#define CARNET_PREFIX_CLASS "XK:"       /* DMP document class */
#define CARNET_PREFIX_SETTING "XPS:"    /* practice setting */
#define CARNET_PREFIX_LATEST "XL:"      /* + patient key: on the newest version of
					   each of that patient's sets */
#define CARNET_PREFIX_RESULT "XR:"      /* + system "|" code of a coded result
					   (cut to CARNET_ID_MAX bytes) */
#define CARNET_TERM_HAS_RESULTS "XR"    /* on every document with a result */

/* Text prefix for the title (also indexed without prefix, weighted). */
#define CARNET_PREFIX_TITLE "S"

/* Value slots. Slots 2, 3 and 4 (type, specialty, document id) were
 * written up to index format 3 and never read: they are free. */
enum carnet_slot {
	CARNET_SLOT_DATE = 0,     /* "YYYYMMDD", sorts as a string: the date range */
	CARNET_SLOT_SET = 1,      /* set id: the whole-sets rule, the hit check */
	CARNET_SLOT_RANK = 5,     /* what ranking reads of every candidate, in one
				     value: date, type, specialty, id, the LOINC
				     codes of its results (space-separated) and
				     content vector, separated by CARNET_RANK_SEP */
	CARNET_SLOT_RECORD = 7,   /* the stored record (what a hit shows) */
	CARNET_SLOT_RESULTS = 8,  /* the coded results (core/results_codec.h);
				     absent when the document has none */
	CARNET_SLOT_TEXT = 9      /* the raw text (at most CARNET_STORED_TEXT_MAX
				     bytes) for snippets, packed by
				     core/textpack.c; the document data is
				     empty (up to format 5 it held the text) */
};

#define CARNET_RANK_SEP '\x1f'

/* The OID of LOINC, the code system of the results the ranking reads. */
#define CARNET_LOINC_OID "2.16.840.1.113883.6.1"

/* Within-document weights (wdf increments) of text fields. */
#define CARNET_WEIGHT_TITLE 3
#define CARNET_WEIGHT_CONCLUSION 2
#define CARNET_WEIGHT_BODY 1

/* Raw text kept with each document version (its document data) for
 * snippets; longer text is cut. */
#define CARNET_STORED_TEXT_MAX (64 * 1024)

/* Longest id or code accepted in a term (Xapian's term limit is 245 bytes). */
#define CARNET_ID_MAX 128

/* Most shards a Xapian database of an index is split into (a new one gets
 * one per core, up to this). */
#define CARNET_SHARDS_MAX 8

/* Name of the file in an index home that names the live generation. */
#define CARNET_CURRENT_FILE "CURRENT"
#define CARNET_REGISTRY_FILE "registry.sqlite"
#define CARNET_XAPIAN_DIR "xapian"

#endif
