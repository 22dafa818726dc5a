/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_query.c - libFuzzer harness for the query side: the input is typed
 * as words into a search for one patient of a small index; any hit of
 * another patient, or any failure other than a refused query, aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carnet.h"
#include "rmtree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static carnet_index *idx;
static char dir[] = "/tmp/carnet-fuzz-XXXXXX";

static void teardown(void)
{
	carnet_index_close(idx);
	fuzz_rmtree(dir);
}

/* Build, once per process, an index of two patients in a temporary dir. */
static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	atexit(teardown);
	const char *patients[] = { "P1", "P2" };
	const char *texts[] = { "Hémoglobine glyquée 7,2 % conclusion l'œdème XP:P2 QDOC",
				"Asthme allergique conclusion rétinopathie XP:P1" };
	char path[256], home[256];
	snprintf(home, sizeof home, "%s/idx", dir);
	carnet_writer *w;
	if (carnet_writer_open(&w, home, NULL) != CARNET_OK)
		abort();
	for (int i = 0; i < 2; i++) {
		for (int j = 0; j < 3; j++) {
			snprintf(path, sizeof path, "%s/%s-%d.txt", dir, patients[i], j);
			FILE *f = fopen(path, "w");
			if (!f)
				abort();
			fputs(texts[i], f);
			fclose(f);
			char meta[300];
			snprintf(meta, sizeof meta, "%s.meta.json", path);
			f = fopen(meta, "w");
			if (!f)
				abort();
			fprintf(f, "{\"patient_id\":\"%s\",\"date\":\"2025-0%d-01\"}", patients[i], j + 1);
			fclose(f);
			carnet_outcome o;
			if (carnet_writer_add_file(w, path, &o, NULL) != CARNET_OK ||
			    o != CARNET_OUTCOME_ADDED)
				abort();
		}
	}
	if (carnet_writer_commit(w, NULL) != CARNET_OK)
		abort();
	carnet_writer_close(w);
	if (carnet_index_open(&idx, home, NULL) != CARNET_OK)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!idx)
		setup();
	char *words = malloc(size + 1);
	if (!words)
		return 0;
	memcpy(words, data, size);
	words[size] = '\0';
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = "P1";
	req.words = words;
	carnet_results *res;
	carnet_error err;
	int rc = carnet_index_search(&res, idx, &req, &err);
	if (rc == CARNET_OK) {
		for (size_t i = 0; i < carnet_results_count(res); i++)
			if (strcmp(carnet_results_field(res, i, CARNET_FIELD_PATIENT), "P1") != 0)
				abort();
		carnet_results_free(res);
	} else if (rc != CARNET_E_QUERY) {
		abort();
	}
	free(words);
	return 0;
}
