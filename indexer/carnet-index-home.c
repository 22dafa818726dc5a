/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index-home.c - the commands on an index home besides indexing:
 * init (create it, shared with a group or not), stats, rejects, and
 * mask/unmask (a document hidden from an audience). */
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "carnet-index.h"

static int open_index(carnet_index **idx, const char *home)
{
	carnet_error err;
	if (carnet_index_open(idx, home, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

int cmd_stats(const char *home, int json)
{
	carnet_index *idx;
	int rc = open_index(&idx, home);
	if (rc)
		return rc;
	static const struct { carnet_stat which; const char *name; } rows[] = {
		{ CARNET_STAT_SETS, "documents" },
		{ CARNET_STAT_DOCUMENTS, "versions" },
		{ CARNET_STAT_PATIENTS, "patients" },
		{ CARNET_STAT_REJECTS, "rejects" },
		{ CARNET_STAT_SIZE_BYTES, "size_bytes" },
		{ CARNET_STAT_GENERATION, "generation" },
	};
	uint64_t v[sizeof rows / sizeof rows[0]];
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		carnet_error err;
		if (carnet_index_stat(idx, rows[i].which, &v[i], &err) != CARNET_OK) {
			fprintf(stderr, "carnet-index: %s\n", err.message);
			carnet_index_close(idx);
			return EXIT_FAILURE_;
		}
	}
	carnet_index_close(idx);
	if (json) {
		json_t *o = json_object();
		for (size_t i = 0; o && i < sizeof rows / sizeof rows[0]; i++)
			json_object_set_new(o, rows[i].name, json_integer((json_int_t)v[i]));
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		if (rows[i].which == CARNET_STAT_SIZE_BYTES)
			printf("%-11s %.1f MiB (%llu bytes)\n", "size",
			       (double)v[i] / (1024.0 * 1024.0),
			       (unsigned long long)v[i]);
		else
			printf("%-11s %llu\n", rows[i].name, (unsigned long long)v[i]);
	}
	return EXIT_OK;
}

static int print_reject(const char *path, const char *reason, const char *when,
			void *payload)
{
	if (*(int *)payload) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "path", path, "when", when,
				      "reason", reason);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
	} else {
		printf("%s\t%s\t%s\n", path, when, reason);
	}
	return 0;
}

int cmd_rejects(const char *home, int json)
{
	carnet_index *idx;
	int rc = open_index(&idx, home);
	if (rc)
		return rc;
	carnet_error err;
	rc = carnet_index_rejects(idx, print_reject, &json, &err);
	carnet_index_close(idx);
	if (rc) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

static int no_entry(const char *at, const char *viewer, const char *role,
		    const char *profession, const char *specialty, int emergency,
		    const char *words, const char *ids, void *payload)
{
	(void)at, (void)viewer, (void)role, (void)profession, (void)specialty;
	(void)emergency, (void)words, (void)ids, (void)payload;
	return 0;
}

/* init [--group NAME]: create the index home and its access log. With a
 * group, the home is shared (README, "Who may read the index"): setgid to
 * the group, 2750, files 0640, the access log 0660, nothing for others.
 * Run again on an existing home, it gives everything in it these modes. */
int cmd_init(const char *home, const char *group)
{
	home = cli_home(home);
	gid_t gid = 0;
	if (group) {
		struct group *g = getgrnam(group);
		if (!g) {
			fprintf(stderr, "carnet-index: init: no group named '%s'\n", group);
			return EXIT_USAGE;
		}
		gid = g->gr_gid;
	}
	if (mkdir(home, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "carnet-index: cannot create index home %s: %s\n", home, strerror(errno));
		return EXIT_FAILURE_;
	}
	if (group && (chown(home, (uid_t)-1, gid) != 0 || chmod(home, 02750) != 0)) {
		fprintf(stderr, "carnet-index: cannot give index home %s to group %s: %s\n",
			home, group, strerror(errno));
		return EXIT_FAILURE_;
	}
	/* the writer makes the first generation, with the home's modes */
	carnet_error err;
	carnet_writer *w;
	if (carnet_writer_open(&w, home, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	int rc = carnet_writer_commit(w, &err);
	carnet_writer_close(w);
	/* the access log is made when an index handle first opens it; viewers
	 * cannot create files in a shared home, so the owner makes it here */
	carnet_index *idx = NULL;
	if (rc != CARNET_OK || carnet_index_open(&idx, home, &err) != CARNET_OK ||
	    carnet_index_access_log(idx, "-", no_entry, NULL, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		carnet_index_close(idx);
		return EXIT_FAILURE_;
	}
	carnet_index_close(idx);
	return EXIT_OK;
}

int cmd_mask(const char *home, const char *id, int hidden)
{
	carnet_audience audience;
	if (!cli.from_audience)
		return usage_error("mask and unmask need --from professionals|patient|legal-representatives");
	if (strcmp(cli.from_audience, "professionals") == 0)
		audience = CARNET_AUDIENCE_PROFESSIONALS;
	else if (strcmp(cli.from_audience, "patient") == 0)
		audience = CARNET_AUDIENCE_PATIENT;
	else if (strcmp(cli.from_audience, "legal-representatives") == 0)
		audience = CARNET_AUDIENCE_LEGAL_REPRESENTATIVES;
	else
		return usage_error("unknown audience '%.100s' (professionals, patient or "
				   "legal-representatives)", cli.from_audience);
	carnet_writer *w;
	carnet_error err;
	if (carnet_writer_open(&w, home, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	int rc = carnet_writer_set_visibility(w, id, audience, hidden, &err);
	if (rc == CARNET_OK)
		rc = carnet_writer_commit(w, &err);
	carnet_writer_close(w);
	if (rc != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		return rc == CARNET_E_NOTFOUND || rc == CARNET_E_INVALID ? EXIT_USAGE
									 : EXIT_FAILURE_;
	}
	return EXIT_OK;
}

