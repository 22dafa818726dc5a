/* SPDX-License-Identifier: GPL-2.0-or-later */
/* request.h - what each version of a carnet_request holds. */
#ifndef CARNET_QUERY_REQUEST_H
#define CARNET_QUERY_REQUEST_H

#include <stddef.h>

/* The bytes a request of this version has (a caller built against an
 * older header passes a shorter struct): version 1 ends before
 * author_specialties, 2 before patient_system, 3 before classes, 4 and
 * later are whole.
 * 0 for version 0. */
size_t carnet_request__size(unsigned version);

#endif
