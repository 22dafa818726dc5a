/* SPDX-License-Identifier: GPL-2.0-or-later */
/* viewer.c - what viewer software does with libcarnet: open an index
 * home, search one patient's record as a professional, print the ranked
 * hits. Built by make check against the installed library:
 *   cc -std=c11 viewer.c $(pkg-config --cflags --libs carnet) -o viewer
 *   ./viewer INDEX_HOME PATIENT_ID PROFESSION SPECIALTY [WORDS]
 * e.g. ./viewer /var/lib/carnet/idx 158047511203495 10 SM04 "hémoglobine"
 * Exit status: 0 success, 1 failure (the message says why), 2 usage. */
#include <stdio.h>

#include <carnet.h>

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 6) {
		fputs("usage: viewer INDEX_HOME PATIENT_ID PROFESSION SPECIALTY [WORDS]\n", stderr);
		return 2;
	}
	const char *home = argv[1], *patient = argv[2], *profession = argv[3],
		   *specialty = argv[4], *words = argc > 5 ? argv[5] : NULL;
	/* README: begin */
	carnet_index *idx;
	carnet_error err;
	if (carnet_index_open(&idx, home, &err) != CARNET_OK) {
		fprintf(stderr, "viewer: %s\n", err.message);
		return 1;
	}
	carnet_request req = CARNET_REQUEST_INIT;
	req.patient_id = patient;       /* whose record: nothing else is returned */
	req.role = CARNET_ROLE_PROFESSIONAL;
	req.profession = profession;    /* TRE_G15 code: "10" médecin, "21" pharmacien... */
	req.specialty = specialty;      /* e.g. "SM04" cardiologie; ranks by affinity */
	req.words = words;              /* NULL or "": browse the record */
	req.limit = 10;
	carnet_results *res;
	if (carnet_index_search(&res, idx, &req, &err) != CARNET_OK) {
		/* e.g. CARNET_E_DENIED: a profession the matrix does not know */
		fprintf(stderr, "viewer: %s: %s\n", carnet_strerror(err.code), err.message);
		carnet_index_close(idx);
		return 1;
	}
	for (size_t i = 0; i < carnet_results_count(res); i++) {
		printf("%2zu. %s  %s  %s  (%.2f) [%s]\n", i + 1,
		       carnet_results_field(res, i, CARNET_FIELD_DATE),
		       carnet_results_field(res, i, CARNET_FIELD_TYPE_LABEL),
		       carnet_results_field(res, i, CARNET_FIELD_TITLE),
		       carnet_results_score(res, i),
		       carnet_results_field(res, i, CARNET_FIELD_ID));
		const char *snippet = carnet_results_snippet(res, i); /* HTML, words in <b> */
		if (*snippet)
			printf("    %s\n", snippet);
	}
	printf("%zu of %llu document(s)\n", carnet_results_count(res),
	       (unsigned long long)carnet_results_total(res));
	carnet_results_free(res);
	carnet_index_close(idx);
	/* README: end */
	return 0;
}
