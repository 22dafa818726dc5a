/* SPDX-License-Identifier: GPL-2.0-or-later */
/* installcheck.c - built against an installed carnet (pkg-config, shared
 * library): index a text document and a PDF, find them, and get LOCKED
 * from a second writer, which crosses the Xapian exception path inside the
 * shared library. Run with CARNET_PDFTEXT unset: the library finds the
 * installed PDF extractor by itself.
 * usage: installcheck BINDIR CORPUS_DIR WORK_DIR PDF */
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

/* Write text to the file path + suffix. 0 on success. */
static int write_file(const char *path, const char *suffix, const char *text)
{
	char name[4200];
	snprintf(name, sizeof name, "%s%s", path, suffix);
	FILE *f = fopen(name, "w");
	if (!f)
		return -1;
	int ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Search patient P1 as a médecin for words: 0 if the one hit is id. */
static int find_one(carnet_index *idx, const char *words, const char *id)
{
	carnet_request req = CARNET_REQUEST_INIT;
	req.profession = "10";
	req.patient_id = "P1";
	req.words = words;
	carnet_results *res;
	carnet_error err;
	if (carnet_index_search(&res, idx, &req, &err) != CARNET_OK)
		return fail("search", &err);
	int found = carnet_results_count(res) == 1 &&
		    strcmp(carnet_results_field(res, 0, CARNET_FIELD_ID), id) == 0;
	carnet_results_free(res);
	return found ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc != 5)
		return fail("usage: installcheck BINDIR CORPUS_DIR WORK_DIR PDF", NULL);
	char cmd[8192], home[4096], doc[4096], pdf[4096];
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", argv[3], argv[3]);
	if (system(cmd) != 0)
		return fail("cannot prepare the work directory", NULL);
	if (carnet_version(NULL, NULL, NULL) != CARNET_VERSION_NUMBER)
		return fail("header and library versions differ", NULL);

	snprintf(doc, sizeof doc, "%s/cr.txt", argv[3]);
	snprintf(pdf, sizeof pdf, "%s/echo.pdf", argv[3]);
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", argv[4], pdf);
	if (write_file(doc, "", "Bilan\nHémoglobine 13,2 g/dL\n") != 0 ||
	    write_file(doc, ".meta.json",
		       "{\"patient_id\": \"P1\", \"id\": \"CR-1\", \"date\": \"2025-01-01\"}") != 0 ||
	    system(cmd) != 0 ||
	    write_file(pdf, ".meta.json",
		       "{\"patient_id\": \"P1\", \"id\": \"ECHO-1\", \"date\": \"2025-02-01\"}") != 0)
		return fail("cannot write the documents", NULL);

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
	if (carnet_writer_add_file(w, pdf, &o, &err) != CARNET_OK || o != CARNET_OUTCOME_ADDED)
		return fail("the installed library did not index a PDF", &err);
	if (carnet_writer_commit(w, &err) != CARNET_OK)
		return fail("commit", &err);
	carnet_writer_close(w);

	carnet_index *idx;
	if (carnet_index_open(&idx, home, &err) != CARNET_OK)
		return fail("index_open", &err);
	if (find_one(idx, "hemoglobine", "CR-1") != 0)
		return fail("the indexed text document was not found", NULL);
	if (find_one(idx, "echocardiographie", "ECHO-1") != 0)
		return fail("the text of the PDF was not found", NULL);
	carnet_index_close(idx);

	/* the installed CLIs run and index the sample corpus */
	snprintf(cmd, sizeof cmd, "'%s/carnet-index' --quiet --index '%s/cli' add '%s'",
		 argv[1], argv[3], argv[2]);
	if (system(cmd) != 0)
		return fail("installed carnet-index failed on the sample corpus", NULL);
	snprintf(cmd, sizeof cmd, "'%s/carnet-query' --help >/dev/null", argv[1]);
	if (system(cmd) != 0)
		return fail("installed carnet-query does not run", NULL);
	printf("installcheck: installed library (PDF extractor included), header, pkg-config file and CLIs work\n");
	return 0;
}
