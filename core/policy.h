/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.h - the authorisation matrix: which professions may read which
 * document types and classes (query/authorisations.tsv, replaceable per
 * index home). Declared in core/ because the index handle (core/index.c)
 * loads the matrix when it opens; the parser is still query/policy.c
 * until the policy module moves to core/ (branch policy). */
#ifndef CARNET_CORE_POLICY_H
#define CARNET_CORE_POLICY_H

#include <stddef.h>

#include "buf.h"

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

/* What a professional may read. Sets *all_out when every document;
 * otherwise appends the index terms of the readable types and classes to
 * terms (NUL-separated) and their number to *count_out. CARNET_E_DENIED
 * when no rule covers the profession (or it is missing). */
int carnet_policy__filter(const carnet_policy *p, const char *profession,
			  const char *specialty, int *all_out, carnet_buf *terms,
			  size_t *count_out, carnet_error *err);

#endif
