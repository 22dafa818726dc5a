/* SPDX-License-Identifier: GPL-2.0-or-later */
/* request.c - a carnet_request's defaults, for callers that cannot use
 * CARNET_REQUEST_INIT (bindings). */
#include <stddef.h>
#include <string.h>

#include "carnet.h"
#include "request.h"

/* where each version's fields end */
static const size_t ends[] = {
	offsetof(carnet_request, author_specialties),
	offsetof(carnet_request, patient_system),
	offsetof(carnet_request, classes),
	sizeof(carnet_request),
};
_Static_assert(sizeof ends / sizeof *ends == CARNET_REQUEST_VERSION,
	       "a request version was added: say where its fields end");

size_t carnet_request__size(unsigned version)
{
	if (version == 0)
		return 0;
	return ends[version <= CARNET_REQUEST_VERSION ? version - 1 : CARNET_REQUEST_VERSION - 1];
}

int carnet_request_init(carnet_request *req, size_t size)
{
	if (!req || size < ends[0])
		return CARNET_E_INVALID;
	const carnet_request defaults = CARNET_REQUEST_INIT;
	if (size > sizeof defaults)
		size = sizeof defaults;
	unsigned version = 1;
	while (version < sizeof ends / sizeof *ends && size >= ends[version])
		version++;
	memcpy(req, &defaults, size);
	req->version = version;
	return CARNET_OK;
}
