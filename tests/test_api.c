/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_api.c - the public header's promises: versions, status strings,
 * NULL-safe releases, and the request initialiser. */
#include <string.h>

#include <criterion/criterion.h>

#include "carnet.h"

Test(api, run_time_version_matches_the_header)
{
	int major = -1, minor = -1, patch = -1;
	cr_assert_eq(carnet_version(&major, &minor, &patch), CARNET_VERSION_NUMBER);
	cr_assert_eq(major, CARNET_VERSION_MAJOR);
	cr_assert_eq(minor, CARNET_VERSION_MINOR);
	cr_assert_eq(patch, CARNET_VERSION_PATCH);
	cr_assert_eq(carnet_version(NULL, NULL, NULL), CARNET_VERSION_NUMBER);
}

Test(api, every_status_has_its_own_description)
{
	const int codes[] = { CARNET_OK, CARNET_E_NOTFOUND, CARNET_E_LOCKED,
			      CARNET_E_MODIFIED, CARNET_E_CORRUPT, CARNET_E_VERSION,
			      CARNET_E_QUERY, CARNET_E_UNSUPPORTED_FORMAT,
			      CARNET_E_NOMEM, CARNET_E_IO, CARNET_E_INVALID,
			      CARNET_E_INTERNAL };
	size_t n = sizeof codes / sizeof codes[0];
	for (size_t i = 0; i < n; i++) {
		cr_assert(codes[i] <= 0);
		for (size_t j = i + 1; j < n; j++)
			cr_assert_str_neq(carnet_strerror(codes[i]), carnet_strerror(codes[j]));
	}
	cr_assert_str_eq(carnet_strerror(12345), "unknown status code");
}

Test(api, releasing_null_is_harmless)
{
	carnet_index_close(NULL);
	carnet_writer_close(NULL);
	carnet_results_free(NULL);
	carnet_free(NULL);
	cr_assert_eq(carnet_results_count(NULL), 0);
	cr_assert_null(carnet_results_field(NULL, 0, CARNET_FIELD_ID));
}

Test(api, request_initialiser_sets_safe_defaults)
{
	carnet_request req = CARNET_REQUEST_INIT;
	cr_assert_eq(req.version, CARNET_REQUEST_VERSION);
	cr_assert_eq(req.limit, 20);
	cr_assert_eq(req.role, CARNET_ROLE_PROFESSIONAL);
	cr_assert_eq(req.flags, 0);
	cr_assert_null(req.patient_id);
}
