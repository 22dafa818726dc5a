/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access.h - who may see what, on the query side: the access filter of a
 * request, and the request's record in the access log. */
#ifndef CARNET_QUERY_ACCESS_H
#define CARNET_QUERY_ACCESS_H

#include <stddef.h>

#include "buf.h"
#include "carnet.h"
#include "index.h"
#include "xapian_shim.h"

/* What the access filter of one request holds (core/policy.c decides
 * it), for as long as the search that uses it runs. */
typedef struct carnet_access_filter {
	carnet_policy_filter policy;
} carnet_access_filter;

/* Add to s the access rules of req (a checked request, its patient
 * named by key), as core/policy.c gives them (carnet_policy__request):
 * the group of what the viewer's profession may read by the
 * authorisation matrix (appended to groups, the array s->any points to,
 * which has room for one more; s->access_from is where the viewer's
 * groups start), the confidentiality terms the viewer's role may not see
 * (s->hide), and the author exception (s->unhide); in an emergency a
 * professional sees masked documents. f holds what s points to until
 * carnet_access__filter_free(f), which must be called whatever this
 * returns. CARNET_E_DENIED when the matrix has no rule for the viewer's
 * profession. */
int carnet_access__filter(carnet_access_filter *f, carnet_index *idx,
			  const carnet_request *req, carnet_xsearch *s,
			  carnet_xgroup *groups, carnet_error *err);
void carnet_access__filter_free(carnet_access_filter *f);

/* Write a request to the access log: what it returned (res), or why it
 * was refused (status, reason). req may be NULL. */
int carnet_access__log_request(carnet_index *idx, const carnet_request *req,
			       const carnet_results *res, int status,
			       const char *reason, carnet_error *err);

/* The same for a request whose answer is not a page of hits (the key
 * results panel): ids, the documents it returned, separated by spaces,
 * count of them. */
int carnet_access__log_ids(carnet_index *idx, const carnet_request *req, const char *ids,
			   size_t count, int status, const char *reason, carnet_error *err);

#endif
