/* SPDX-License-Identifier: GPL-2.0-or-later */
/* candidates.h - ranking a request and filling its page of results. */
#ifndef CARNET_QUERY_CANDIDATES_H
#define CARNET_QUERY_CANDIDATES_H

#include "index.h"
#include "results.h"
#include "words.h"

/* Rank every document passing s for viewer v (by the words w, or by date
 * when w is NULL), and fill res (empty) with the total, the facets, the
 * page req->offset, req->limit of hits (each checked against req, whose
 * patient is its key) and, when words found nothing, a suggestion. */
int carnet_candidates__rank(carnet_results *res, carnet_index *idx,
			    const carnet_request *req, const carnet_xsearch *s,
			    const carnet_words *w, const carnet_viewer *v,
			    carnet_error *err);

#endif
