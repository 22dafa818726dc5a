/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.h - who may see what: the one module that holds the rule.
 *
 * A security reviewer reads core/policy.c and nothing else:
 * - the authorisation matrix: which professions may read which document
 *   types and classes (core/data/authorisations.tsv compiled in, or the
 *   index home's authorisations.tsv);
 * - the audiences a document can be hidden from and the confidentiality
 *   code that hides it from each (MASQUE_PS, INVISIBLE_PATIENT,
 *   INVISIBLE_REPRESENTANTS_LEGAUX), used by the writer (mask, unmask),
 *   by the readers (codes read in any case) and by the filter;
 * - the filter of a request: what its viewer may read, by role,
 *   emergency access and the author exception.
 * Where the rule is applied, nothing is decided: the query side turns the
 * filter into its Xapian search (query/access.c), the writer stores the
 * code the table names. Storage: core/registry.c keeps, per document, the
 * confidentiality codes and the mask/unmask changes made after upload
 * (code and hidden or not) so that they outlive a re-read; it stores
 * whatever code it is given and decides nothing. */
#ifndef CARNET_CORE_POLICY_H
#define CARNET_CORE_POLICY_H

#include <stddef.h>

#include "carnet.h"

/* The name of a deployer's matrix in an index home. */
#define CARNET_AUTHZ_FILE "authorisations.tsv"

typedef struct carnet_policy carnet_policy;

/* Parse a matrix from text (name is used in messages). CARNET_E_INVALID
 * names the line of a malformed rule. */
int carnet_policy__parse(carnet_policy **out, const char *name,
			 const char *text, size_t len, carnet_error *err);

/* The matrix of an index home: its authorisations.tsv if there is one,
 * else the default shipped in the library. */
int carnet_policy__load(carnet_policy **out, const char *home,
			carnet_error *err);

void carnet_policy__free(carnet_policy *p);

/* ---- audiences and their codes ---- */

/* The confidentiality code that hides a document from audience
 * ("MASQUE_PS" for professionals, ...), or NULL for an unknown audience. */
const char *carnet_policy__audience_code(carnet_audience audience);

/* Is code[0..len) one of the audiences' codes, in any case? */
int carnet_policy__is_audience_code(const char *code, size_t len);

/* ---- the filter of a request ---- */

/* What a request's viewer may see, as index terms (core/schema.h
 * prefixes). A document is shown when
 *   - everything is set, or it has one of grants[] (its type or class:
 *     with no grant and everything unset, nothing is shown);
 *   - and it has none of hide[], unless it has unhide (when not NULL).
 * The strings belong to the filter: carnet_policy__filter_clear. */
typedef struct carnet_policy_filter {
	int everything;       /* no matrix term to have (all types and classes) */
	const char **grants;  /* else one of these: CARNET_PREFIX_TYPE or _CLASS */
	size_t grants_count;
	const char *hide[1];  /* the viewer's role's code (CARNET_PREFIX_CONF) */
	size_t hide_count;    /* 0 in emergency access */
	const char *unhide;   /* the viewer's own documents (CARNET_PREFIX_AUTHOR
				 + viewer id): a professional sees what they
				 wrote though it is masked; or NULL */
	char *storage;        /* the bytes of grants and unhide */
} carnet_policy_filter;

/* Fill out (which need not be initialised) with the filter of req:
 * - a professional: the matrix's grants for req->profession and
 *   req->specialty; MASQUE_PS hidden but to its author (req->viewer_id),
 *   unless req->flags has CARNET_REQUEST_EMERGENCY;
 * - the patient: INVISIBLE_PATIENT hidden;
 * - a legal representative: INVISIBLE_REPRESENTANTS_LEGAUX hidden.
 * CARNET_E_DENIED for a professional without a profession or whose
 * profession has no rule in the matrix; CARNET_E_INVALID for an unknown
 * role; out is then empty (clearing it is harmless). */
int carnet_policy__request(const carnet_policy *p, const carnet_request *req,
			   carnet_policy_filter *out, carnet_error *err);

/* Free what the filter holds and empty it. */
void carnet_policy__filter_clear(carnet_policy_filter *f);

#endif
