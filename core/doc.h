/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doc.h - a document in memory, as readers produce it and the writer indexes
 * it: metadata plus text sections of a kind; and its stored record, the
 * metadata kept in the index for displaying a hit. */
#ifndef CARNET_CORE_DOC_H
#define CARNET_CORE_DOC_H

#include <stddef.h>

#include "buf.h"

/* What a section is to its document, as readers tell them apart (the
 * document's title is its own field). Readers say what a section is; the
 * index alone decides what each kind weighs (indexer/prepare.c). */
typedef enum carnet_section_kind {
	CARNET_SECTION_BODY = 0,   /* the rest: history, examination, findings,
				      results, treatment, coded entries, the
				      text of attachments and plain files */
	CARNET_SECTION_CONCLUSION  /* what the document concludes or is about:
				      conclusion, synthesis, diagnosis,
				      impression, assessment, reason (motif) */
} carnet_section_kind;

typedef struct carnet_section {
	carnet_section_kind kind;
	char *text;      /* UTF-8, raw (not folded) */
	size_t len;
} carnet_section;

/* A coded result of a document (a lab result, an observation with a
 * value), as readers find them; stored with the document (results_codec.h).
 * Every field but code may be NULL. */
typedef struct carnet_result {
	char *system;         /* code system: OID as in CDA ("2.16.840.1.113883.6.1" is LOINC),
				 or a FHIR system URI ("http://loinc.org" becomes that OID) */
	char *code;           /* the code; required */
	char *display;        /* displayName / display / code.text */
	char *value;          /* numeric: as written with a '.' decimal ("4.89"); coded: the
				 code's displayName or code; text: the text (cut) */
	char *unit;           /* unit as written (UCUM) */
	char *low, *high;     /* reference range bounds, as written */
	char *interpretation; /* interpretation code (H, L, N, HH, LL, A, ...) */
	char *date;           /* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM": the observation's, else
				 its organizer's, else the document's */
	char *specimen;       /* specimen type display or code */
	char kind;            /* CARNET_RESULT_NUMERIC, _CODED or _TEXT */
} carnet_result;

#define CARNET_RESULT_NUMERIC 'N' /* PQ, INT, REAL, valueQuantity */
#define CARNET_RESULT_CODED 'C'   /* CD, CE, CV, valueCodeableConcept */
#define CARNET_RESULT_TEXT 'T'    /* ST, ED, valueString; a numeric value that is no number */

/* Bounds on what a result keeps (bytes): a longer code is no code (the
 * result is skipped); longer other fields are cut at a character. */
#define CARNET_RESULT_CODE_MAX 64  /* code, system, unit, low, high, interpretation */
#define CARNET_RESULT_TEXT_MAX 200 /* display, value, specimen */
#define CARNET_RESULTS_MAX 2000    /* per document; the rest are dropped */

typedef struct carnet_doc {
	char *id;               /* document (version) id */
	char *set_id;           /* shared by the versions of one document */
	int version;            /* 1, 2, ... */
	char *patient_id;
	char *patient_system;   /* OID of the patient id's system */
	char *type;             /* LOINC / DMP type code */
	char *title;
	char *date;             /* YYYY-MM-DD */
	char *author_id;
	char *author_specialty;
	char *confidentiality;  /* codes separated by single spaces */
	char *language;         /* "fr", "en", ... */
	char *format;           /* reader name: "text", ... */
	char *source;           /* path it was read from */
	char *class_code;       /* DMP class (TRE_A03); derived from type if NULL */
	char *practice_setting; /* practice setting code (XDS J04) */
	char *facility;         /* health care facility: code or name */
	char *author_name;      /* "Prénom NOM" of the author */
	char *custodian;        /* organisation keeping the document */
	char *service_start;    /* YYYY-MM-DD: the act documented began */
	char *service_end;      /* YYYY-MM-DD: and ended */
	char *replaces;         /* id of the document this one replaces (RPLC) */
	char *other_ids;        /* the patient's other ids, "system^id" separated by spaces */
	int patient_correction; /* sidecar: its patient replaces the document's own */
	carnet_section *sections;
	size_t sections_count;
	size_t sections_cap;
	carnet_result *results; /* coded results, in document order */
	size_t results_count, results_cap;
} carnet_doc;

/* The text fields of a document, named for code that copies several. */
typedef enum carnet_doc_field {
	CARNET_DOC_ID, CARNET_DOC_SET_ID, CARNET_DOC_PATIENT_ID, CARNET_DOC_PATIENT_SYSTEM,
	CARNET_DOC_TYPE, CARNET_DOC_TITLE, CARNET_DOC_DATE, CARNET_DOC_AUTHOR_ID,
	CARNET_DOC_AUTHOR_SPECIALTY, CARNET_DOC_CONFIDENTIALITY, CARNET_DOC_LANGUAGE,
	CARNET_DOC_FORMAT, CARNET_DOC_SOURCE, CARNET_DOC_CLASS_CODE, CARNET_DOC_PRACTICE_SETTING,
	CARNET_DOC_FACILITY, CARNET_DOC_AUTHOR_NAME, CARNET_DOC_CUSTODIAN,
	CARNET_DOC_SERVICE_START, CARNET_DOC_SERVICE_END, CARNET_DOC_REPLACES,
	CARNET_DOC_OTHER_IDS,
	CARNET_DOC_FIELDS
} carnet_doc_field;

void carnet_doc__init(carnet_doc *d);
void carnet_doc__clear(carnet_doc *d);

/* Replace *field by a copy of value[0..len) (value may be NULL: field
 * becomes NULL). Returns 0 or -1 on no memory. */
int carnet_doc__set(char **field, const char *value, size_t len);
int carnet_doc__sets(char **field, const char *value);

/* The address of field f of d. */
char **carnet_doc__field(carnet_doc *d, carnet_doc_field f);

/* Copy the fields of from listed in fields[0..n) into to: with replace,
 * each that from has (not NULL) replaces to's; without, each that from has
 * (not empty) fills to's where to has none. Returns 0 or -1 on no memory
 * (the fields before the failing one are copied). */
int carnet_doc__copy(carnet_doc *to, const carnet_doc *from, const carnet_doc_field *fields,
		     size_t n, int replace);

/* Append a text section of the given kind (copied). Returns 0 or -1 on no
 * memory. */
int carnet_doc__add_section(carnet_doc *d, carnet_section_kind kind, const char *text,
			    size_t len);

/* Append a copy of r to d's results, made safe: control characters
 * become spaces, fields are cut to their bounds (above), a numeric value
 * is checked ([-+]digits[.digits][e[-+]digits], a ',' decimal made '.')
 * and becomes text when it is no number. A result without a usable code
 * (empty, longer than CARNET_RESULT_CODE_MAX, or holding a blank) or of an
 * unknown kind is skipped, as is any past CARNET_RESULTS_MAX. Returns 0
 * (kept or skipped) or -1 on no memory. */
int carnet_doc__add_result(carnet_doc *d, const carnet_result *r);

/* Free the fields of r and empty it. */
void carnet_result__clear(carnet_result *r);

/* The kind of a section from what a reader knows of it: its code (LOINC,
 * or NULL) and its title (or NULL). The one rule every reader uses: a
 * conclusion by its code (conclusions, diagnoses, reason for visit or
 * referral, assessment), or by a title word (conclusion, synthèse, motif,
 * diagnostic, impression, assessment; in any case, accented or not).
 * Results (résultats) are findings, not a conclusion: a report that
 * concludes says so in a section of its own. */
carnet_section_kind carnet_doc__section_kind(const char *code, const char *title);

/* The fields of a stored record, in order. */
enum carnet_rec_field {
	CARNET_REC_ID, CARNET_REC_SET_ID, CARNET_REC_VERSION,
	CARNET_REC_PATIENT, CARNET_REC_TYPE, CARNET_REC_TITLE,
	CARNET_REC_DATE, CARNET_REC_AUTHOR_ID, CARNET_REC_AUTHOR_SPECIALTY,
	CARNET_REC_SOURCE, CARNET_REC_CONFIDENTIALITY, CARNET_REC_LANGUAGE,
	CARNET_REC_CHECK, /* 16 hex digits: XXH64 of the record before it */
	CARNET_REC_COUNT
};

/* Append the stored record of d to out, its check last. Returns 0 or -1
 * on no memory. */
int carnet_doc__encode_record(carnet_buf *out, const carnet_doc *d);

/* Is rec[0..len) a whole stored record whose check matches its bytes?
 * (A damaged index must not show a garbled record as a hit.) */
int carnet_doc__record_intact(const char *rec, size_t len);

/* Split a stored record in place: rec (NUL-terminated, modified) is cut
 * into CARNET_REC_COUNT fields; missing trailing fields become "". */
void carnet_doc__decode_record(char *rec, char *fields[CARNET_REC_COUNT]);

/* Is oid one of the INS systems (NIR, NIA, and their test ranges)? An INS
 * names a patient nationally; other ids only within their system. */
int carnet_doc__is_ins_system(const char *oid);

/* Upper-case, in place, the visibility codes (MASQUE_PS,
 * INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX) among the
 * space-separated codes of confidentiality (NULL is fine), however they
 * were written: the query side matches them exactly. */
void carnet_doc__normalise_visibility(char *confidentiality);

/* Is code[0..len) one of the visibility codes, in any case? */
int carnet_doc__is_visibility(const char *code, size_t len);

/* Is s a valid calendar date "YYYY-MM-DD" (years 1900..2999)? */
int carnet_doc__valid_date(const char *s);

/* Is s a usable id or code: 1..CARNET_ID_MAX bytes of printable ASCII
 * without spaces? (These go into index terms and file names.) */
int carnet_doc__valid_id(const char *s);

#endif
