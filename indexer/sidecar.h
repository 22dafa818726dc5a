/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sidecar.h - FILE.meta.json: metadata beside an input that the input cannot
 * carry, and that wins over what the input says (INTERFACE.md). */
#ifndef CARNET_INDEXER_SIDECAR_H
#define CARNET_INDEXER_SIDECAR_H

#include <stddef.h>

#include "doc.h"

/* Parse a sidecar's JSON into meta (initialised by the caller; fields the
 * sidecar lacks stay NULL, version stays 0). A bad sidecar returns
 * CARNET_E_INVALID naming path, line and column (origin INPUT). */
int carnet_sidecar__parse(carnet_doc *meta, const char *path,
			  const char *json, size_t len, carnet_error *err);

/* Copy every field set in meta onto doc. Returns 0 or -1 on no memory. */
int carnet_sidecar__apply(carnet_doc *doc, const carnet_doc *meta);

#endif
