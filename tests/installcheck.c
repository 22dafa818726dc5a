/* installcheck.c - built against an installed carnet (pkg-config, shared
 * library): index a document, find it, and get LOCKED from a second writer,
 * which crosses the Xapian exception path inside the shared library.
 * usage: installcheck BINDIR CORPUS_DIR WORK_DIR */
#define _XOPEN_SOURCE 700
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <carnet.h>

static int fail(const char *what, const carnet_error *err)
{
	fprintf(stderr, "installcheck: %s: %s\n", what, err ? err->message : "");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return fail("usage: installcheck BINDIR CORPUS_DIR WORK_DIR", NULL);
	char cmd[8192], home[4096], doc[4096];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", argv[3], argv[3]);
	if (system(cmd) != 0)
		return fail("cannot prepare the work directory", NULL);
	if (carnet_version(NULL, NULL, NULL) != CARNET_VERSION_NUMBER)
		return fail("header and library versions differ", NULL);

	snprintf(doc, sizeof doc, "%s/cr.txt", argv[3]);
	FILE *f = fopen(doc, "w");
	if (!f)
		return fail("cannot write a document", NULL);
	fputs("Bilan\nHémoglobine 13,2 g/dL\n", f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s.meta.json", doc);
	f = fopen(cmd, "w");
	if (!f)
		return fail("cannot write a sidecar", NULL);
	fputs("{\"patient_id\": \"P1\", \"id\": \"CR-1\", \"date\": \"2025-01-01\"}", f);
	fclose(f);

	snprintf(home, sizeof home, "%s/idx", argv[3]);
	carnet_error err;
	carnet_writer *w, *w2;
	carnet_outcome o;
	if (carnet_writer_open(&w, home, &err) != CARNET_OK)
		return fail("writer_open", &err);
	if (carnet_writer_open(&w2, home, &err) != CARNET_E_LOCKED || w2)
		return fail("a second writer was not refused with CARNET_E_LOCKED", &err);
	if (carnet_writer_add_file(w, doc, &o, &err) != CARNET_OK || o != CARNET_OUTCOME_ADDED)
		return fail("add_file", &err);
	if (carnet_writer_commit(w, &err) != CARNET_OK)
		return fail("commit", &err);
	carnet_writer_close(w);

	carnet_index *idx;
	if (carnet_index_open(&idx, home, &err) != CARNET_OK)
		return fail("index_open", &err);
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10"; /* médecin */
	req.patient_id = "P1";
	req.words = "hemoglobine";
	carnet_results *res;
	if (carnet_index_search(&res, idx, &req, &err) != CARNET_OK)
		return fail("search", &err);
	if (carnet_results_count(res) != 1 ||
	    strcmp(carnet_results_field(res, 0, CARNET_FIELD_ID), "CR-1") != 0)
		return fail("the indexed document was not found", NULL);
	carnet_results_free(res);
	carnet_index_close(idx);

	/* the installed CLIs run and index the sample corpus */
	snprintf(cmd, sizeof cmd, "'%s/carnet-index' --quiet --index '%s/cli' add '%s'",
		 argv[1], argv[3], argv[2]);
	if (system(cmd) != 0)
		return fail("installed carnet-index failed on the sample corpus", NULL);
	snprintf(cmd, sizeof cmd, "'%s/carnet-query' --help >/dev/null", argv[1]);
	if (system(cmd) != 0)
		return fail("installed carnet-query does not run", NULL);
	printf("installcheck: installed library, header, pkg-config file and CLIs work\n");
	return 0;
}
