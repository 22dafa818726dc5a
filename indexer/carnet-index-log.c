/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index-log.c - access-log verify and archive: the access log's
 * chain of hashes checked, its old rows moved to an archive file. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "carnet-index.h"

static void print_report(const char *what, const carnet_access_log_report *r, int json)
{
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:s, s:I}", "checked", what,
				      (json_int_t)r->rows, (json_int_t)r->first_seq,
				      (json_int_t)r->last_seq, "head", r->head,
				      "archived", (json_int_t)r->archived);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			putchar('\n');
			json_decref(o);
		}
		return;
	}
	printf("%s: %llu rows (%llu to %llu), head %s\n", what, (unsigned long long)r->rows,
	       (unsigned long long)r->first_seq, (unsigned long long)r->last_seq, r->head);
}

/* access-log verify [--archive FILE] | access-log archive --before DATE FILE */
int cmd_access_log(const char *home, int json, int argc, char **argv)
{
	carnet_access_log_report rep;
	carnet_error err;
	int rc;
	if (argc == 1 && strcmp(argv[0], "verify") == 0 && !cli.log_before) {
		rc = carnet_access_log_verify(home, cli.log_archive, &rep, &err);
		if (rc == CARNET_OK) {
			print_report(cli.log_archive ? cli.log_archive : "access log", &rep, json);
			return EXIT_OK;
		}
	} else if (argc == 2 && strcmp(argv[0], "archive") == 0 && cli.log_before && !cli.log_archive) {
		rc = carnet_access_log_archive(home, cli.log_before, argv[1], &rep, &err);
		if (rc == CARNET_OK) {
			printf("archived %llu rows (%llu to %llu) to %s, last hash %s\n",
			       (unsigned long long)rep.archived, (unsigned long long)rep.first_seq,
			       (unsigned long long)rep.last_seq, argv[1], rep.head);
			return EXIT_OK;
		}
		if (rc == CARNET_E_NOTFOUND) {
			/* nothing that old: not a failure for a periodic job */
			fprintf(stderr, "carnet-index: %s\n", err.message);
			return EXIT_OK;
		}
	} else if (argc == 1 && strcmp(argv[0], "export") == 0 && !cli.log_before &&
		   !cli.log_archive) {
		/* JSON lines on stdout, the report on stderr */
		rc = carnet_access_log_export(home, cli.log_after, 1, &rep, &err);
		if (rc == CARNET_OK) {
			fflush(stdout);
			fprintf(stderr, "carnet-index: exported %llu rows (%llu to %llu), last hash "
				"%s; next: --after %llu\n", (unsigned long long)rep.rows,
				(unsigned long long)rep.first_seq, (unsigned long long)rep.last_seq,
				rep.head[0] ? rep.head : "-",
				(unsigned long long)(rep.rows ? rep.last_seq : cli.log_after));
			return EXIT_OK;
		}
	} else {
		fputs("carnet-index: access-log verify [--archive FILE] | "
		      "access-log archive --before YYYY-MM-DD FILE | "
		      "access-log export [--after SEQ]\n", stderr);
		return EXIT_USAGE;
	}
	fprintf(stderr, "carnet-index: %s\n", err.message);
	return rc == CARNET_E_INVALID ? EXIT_USAGE : EXIT_FAILURE_;
}

