/* SPDX-License-Identifier: GPL-2.0-or-later */
/* request.h - what each version of a carnet_request holds. */
#ifndef CARNET_QUERY_REQUEST_H
#define CARNET_QUERY_REQUEST_H

#include <stddef.h>

#include "carnet.h"
#include "index.h"
#include "schema.h"
#include "xapian_shim.h"

/* The bytes a request of this version has (a caller built against an
 * older header passes a shorter struct): version 1 ends before
 * author_specialties, 2 before patient_system, 3 before classes, 4 and
 * later are whole.
 * 0 for version 0. */
size_t carnet_request__size(unsigned version);

/* Check everything in req before anything is read: its version, patient,
 * limits, role, viewer, profession and specialty (known codes, or a
 * specialty the index's own tables profile), dates, codes, words (UTF-8,
 * at most CARNET_WORDS_MAX). CARNET_E_INVALID or CARNET_E_QUERY naming
 * what is wrong. */
int carnet_request__check(const carnet_index *idx, const carnet_request *req,
			  carnet_error *err);

/* A copy of req (of whatever request version the caller was built
 * with) naming its patient by key: patient_system (version 3) and
 * patient_id, or "system^id", through carnet_patient__request_key.
 * key holds the key, out points to it. CARNET_E_INVALID. */
int carnet_request__key(carnet_request *out, char key[CARNET_ID_MAX + 1],
			const carnet_request *req, carnet_error *err);

/* The date range of a checked request (since, until: YYYY-MM-DD) into
 * the search s, as the date slot holds dates (YYYYMMDD, in from and to,
 * which must live as long as s). */
void carnet_request__dates(const carnet_request *req, carnet_xsearch *s, char from[9],
			   char to[9]);

#endif
