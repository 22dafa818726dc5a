/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_api.c - the public header's promises: versions, status strings,
 * NULL-safe releases, the request initialiser and its flags. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "carnet.h"
#include "helpers.h"

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

Test(api, version_string_is_made_of_the_three_numbers)
{
	char want[32];
	snprintf(want, sizeof want, "%d.%d.%d", CARNET_VERSION_MAJOR, CARNET_VERSION_MINOR,
		 CARNET_VERSION_PATCH);
	cr_assert_str_eq(CARNET_VERSION_STRING, want);
}

/* The ids and scores of a search of the sample, as one string. */
static void search_sample(const char *home, unsigned flags, char *out, size_t size)
{
	carnet_index *idx;
	carnet_error err;
	cr_assert_eq(carnet_index_open(&idx, home, &err), CARNET_OK, "%s", err.message);
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = "158047511203495";
	req.profession = "10";
	req.specialty = "SM04";
	req.words = "hemoglobine";
	req.flags = flags;
	carnet_results *res;
	cr_assert_eq(carnet_index_search(&res, idx, &req, &err), CARNET_OK, "%s", err.message);
	size_t n = carnet_results_count(res), at = 0;
	cr_assert_gt(n, 0);
	for (size_t i = 0; i < n && at < size; i++)
		at += (size_t)snprintf(out + at, size - at, "%s=%.6f ",
				       carnet_results_field(res, i, CARNET_FIELD_ID),
				       carnet_results_score(res, i));
	carnet_results_free(res);
	carnet_index_close(idx);
}

Test(api, the_reserved_flag_bit_of_the_old_explain_flag_changes_nothing, .fini = th_cleanup)
{
	const char *home = th_path("%s/idx", th_tmpdir());
	cr_assert_gt(th_index_dir(home, th_sample()), 10);
	char plain[4096], old[4096];
	search_sample(home, 0, plain, sizeof plain);
	search_sample(home, 1u << 2, old, sizeof old);
	cr_assert_str_eq(old, plain);
}
