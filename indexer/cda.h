/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cda.h - what the files of the CDA reader share (read_cda.c and cda_*.c):
 * reading the XML tree and its narrative, and the header. Internal to the
 * reader. */
#ifndef CARNET_INDEXER_CDA_H
#define CARNET_INDEXER_CDA_H

#include <libxml/tree.h>

#include "reader.h"

#define CARNET_CDA_NS "urn:hl7-org:v3"
#define CARNET_CDA_MAX_DEPTH 200 /* recursion bound; libxml2 itself stops at 256 */

/* ---- the tree and its narrative (cda_tree.c) ---- */

/* Is n in the namespace ns? */
int carnet_cda__has_ns(const xmlNode *n, const char *ns);

/* Is n an element of the HL7 v3 namespace named name? */
int carnet_cda__is(const xmlNode *n, const char *name);

/* The first child element of n named name, or NULL. */
const xmlNode *carnet_cda__child(const xmlNode *n, const char *name);

/* Follow a path of child names ("a/b/c"), or NULL. */
const xmlNode *carnet_cda__path(const xmlNode *n, const char *p);

/* Attribute name of n (no namespace), or NULL when absent or empty; the
 * caller frees it with xmlFree. */
char *carnet_cda__attr(const xmlNode *n, const char *name);

/* Copy attribute name of n into *field (absent: unchanged). 0 or -1 (memory). */
int carnet_cda__take_attr(char **field, const xmlNode *n, const char *name);

/* "root^extension" (or root alone) of an II element into *field. */
int carnet_cda__take_id(char **field, const xmlNode *id);

/* A TS value "YYYYMMDD..." as "YYYY-MM-DD" into *field when it is a date. */
int carnet_cda__take_date(char **field, const xmlNode *ts);

/* Remove the blanks (space, tab) at the end of out. */
void carnet_cda__trim_end(carnet_buf *out);

/* End the current line of out (nothing at the start of a line). */
int carnet_cda__newline(carnet_buf *out);

/* Append the text of the nodes from n on (and their subtrees) to out:
 * blanks collapsed, a newline after each block element, a tab after each
 * table cell. 0 or -1 (memory). */
int carnet_cda__narrative(const xmlNode *n, carnet_buf *out, int depth);

/* The narrative of n's children, trimmed, into *field (nothing when
 * empty). 0 or -1 (memory). */
int carnet_cda__take_text(char **field, const xmlNode *n);

/* ---- the header (cda_header.c) ---- */

/* Fill d from the header of cda. 0 or -1 (memory). */
int carnet_cda__header(carnet_doc *d, const xmlNode *cda);

/* A document belongs to one patient: a CDA with several recordTargets is
 * refused, naming the first two. */
int carnet_cda__one_patient(const xmlNode *cda, const carnet_input *in, carnet_error *err);

/* Visibility codes (MASQUE_PS, ...) carried as translations of the
 * confidentialityCode join the confidentiality codes. 0 or -1 (memory). */
int carnet_cda__visibility(carnet_doc *d, const xmlNode *cda);

/* ---- the coded results (cda_results.c) ---- */

/* Add to d's results every observation of structuredBody body that holds
 * a result: under the entries of its sections, at any depth (organizers,
 * entryRelationships, components); an event (moodCode EVN), not negated,
 * with a code (or a translation's when the code has a nullFlavor or none)
 * other than 69764-9 (the type of an attached document), and a value of
 * type PQ, INT, REAL, IVL_PQ (its low alone; its high alone as "<high"),
 * CD, CE, CV (displayName, code, or the narrative its originalText
 * references), ST or ED. Its date: its effectiveTime, else the nearest
 * enclosing organizer's, else d's date. 0, or -1 when memory or the
 * time budget ran out. */
int carnet_cda__results(carnet_doc *d, const xmlNode *body);

#endif
