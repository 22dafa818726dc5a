/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_api.c - the public header's promises: versions, status strings,
 * NULL-safe releases, and the request initialiser. */
#include <stddef.h>
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

/* What a binding does: the function form gives the macro's defaults. */
Test(api, request_init_function_gives_the_macro_defaults)
{
	carnet_request want = CARNET_REQUEST_INIT, got;
	memset(&got, 0xA5, sizeof got);
	cr_assert_eq(carnet_request_init(&got, sizeof got), CARNET_OK);
	cr_assert_eq(got.version, CARNET_REQUEST_VERSION);
	cr_assert_eq(got.limit, want.limit);
	cr_assert_eq(got.role, want.role);
	cr_assert_null(got.patient_id);
	cr_assert_null(got.patient_system);
	cr_assert_null(got.as_of);
	cr_assert_eq(memcmp(&got, &want, sizeof got), 0);
}

/* A caller built against an older header passes its smaller size: only
 * those bytes are written, and the version says which fields exist. */
Test(api, request_init_respects_an_older_callers_size)
{
	unsigned char bytes[sizeof(carnet_request) + 16];
	memset(bytes, 0x5A, sizeof bytes);
	size_t v2 = offsetof(carnet_request, patient_system);
	cr_assert_eq(carnet_request_init((carnet_request *)(void *)bytes, v2), CARNET_OK);
	carnet_request r;
	memcpy(&r, bytes, v2);
	cr_assert_eq(r.version, 2);
	cr_assert_eq(r.limit, 20);
	for (size_t i = v2; i < sizeof bytes; i++)
		cr_assert_eq(bytes[i], 0x5A, "byte %zu past the caller's size was written", i);

	size_t v1 = offsetof(carnet_request, author_specialties);
	cr_assert_eq(carnet_request_init((carnet_request *)(void *)bytes, v1), CARNET_OK);
	memcpy(&r, bytes, v1);
	cr_assert_eq(r.version, 1);
	cr_assert_eq(carnet_request_init((carnet_request *)(void *)bytes, v1 - 1),
		     CARNET_E_INVALID);
	cr_assert_eq(carnet_request_init(NULL, sizeof r), CARNET_E_INVALID);
}
