/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index-record.c - the JSON record of add, sync and rebuild (one
 * line on stdout, whatever happened), and the rejects on record it
 * counts. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "carnet-index.h"
#include "util.h"

static int keep_reject(const char *path, const char *reason, const char *when,
		       void *payload)
{
	rejects *rj = payload;
	if (CARNET_GROW(rj->rows, rj->cap, rj->count + 1) != 0) {
		rj->nomem = 1;
		return 1;
	}
	reject_row *row = &rj->rows[rj->count];
	row->path = strdup(path);
	row->reason = strdup(reason);
	row->when = strdup(when);
	if (!row->path || !row->reason || !row->when) {
		free(row->path);
		free(row->reason);
		free(row->when);
		rj->nomem = 1;
		return 1;
	}
	rj->count++;
	return 0;
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const reject_row *)a)->path, ((const reject_row *)b)->path);
}

void rejects_free(rejects *rj)
{
	for (size_t i = 0; rj && i < rj->count; i++) {
		free(rj->rows[i].path);
		free(rj->rows[i].reason);
		free(rj->rows[i].when);
	}
	if (rj)
		free(rj->rows);
}

int rejects_read(const char *home, rejects *rj, long long *generation)
{
	memset(rj, 0, sizeof *rj);
	carnet_index *idx;
	carnet_error err;
	if (carnet_index_open(&idx, home, &err) != CARNET_OK)
		return -1;
	uint64_t gen = 0;
	int rc = carnet_index_rejects(idx, keep_reject, rj, &err);
	if (rc == CARNET_OK && generation &&
	    carnet_index_stat(idx, CARNET_STAT_GENERATION, &gen, &err) == CARNET_OK)
		*generation = (long long)gen;
	carnet_index_close(idx);
	if (rc != CARNET_OK || rj->nomem) {
		rejects_free(rj);
		memset(rj, 0, sizeof *rj);
		return -1;
	}
	if (rj->count)
		qsort(rj->rows, rj->count, sizeof *rj->rows, by_path);
	return 0;
}

void tally_rejects(run *r, int mode)
{
	rejects after;
	r->rejects_total = -1;
	r->new_rejects = (unsigned long long)r->list_errors; /* never on record */
	if (rejects_read(r->home, &after, &r->generation) != 0) {
		/* cannot tell: what this run refused counts as new */
		r->new_rejects += r->rejected;
		return;
	}
	r->rejects_total = (long long)after.count;
	for (size_t i = 0; i < after.count; i++) {
		const reject_row *now = &after.rows[i], *old = NULL;
		if (r->before && r->before->count)
			old = bsearch(now, r->before->rows, r->before->count,
				      sizeof *now, by_path);
		if (!old || strcmp(old->reason, now->reason) != 0 ||
		    (mode != MODE_REBUILD && strcmp(old->when, now->when) != 0))
			r->new_rejects++;
	}
	rejects_free(&after);
}

const char *cli_home(const char *home)
{
	if (home)
		return home;
	const char *env = getenv("CARNET_INDEX");
	return env && *env ? env : "carnet.idx";
}

/* home as an absolute path (resolved as the library does when NULL). */
static void absolute_home(const char *home, char *out, size_t size)
{
	home = cli_home(home);
	char *real = realpath(home, NULL);
	char cwd[PATH_MAX];
	if (real)
		snprintf(out, size, "%s", real);
	else if (home[0] != '/' && getcwd(cwd, sizeof cwd))
		snprintf(out, size, "%s/%s", cwd, home);
	else
		snprintf(out, size, "%s", home);
	free(real);
}

void record(const run *r, int exit_code)
{
	char started[32], home[PATH_MAX + 64], version[32];
	struct tm tm;
	gmtime_r(&started_at.tv_sec, &tm);
	strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &tm);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double secs = (double)(now.tv_sec - started_mono.tv_sec) +
		      (double)(now.tv_nsec - started_mono.tv_nsec) / 1e9;
	absolute_home(r->home, home, sizeof home);
	int major, minor, patch;
	carnet_version(&major, &minor, &patch);
	snprintf(version, sizeof version, "%d.%d.%d", major, minor, patch);
	const char *status = exit_code == EXIT_OK ? "ok"
			     : exit_code == EXIT_REJECTS ? "rejects" : "failed";
	json_t *o = json_object();
	if (!o)
		return;
	json_object_set_new(o, "status", json_string(status));
	if (exit_code != EXIT_OK && exit_code != EXIT_REJECTS)
		json_object_set_new(o, "error", json_string(first_error[0] ? first_error
									   : "failed"));
	json_object_set_new(o, "command", json_string(r->command));
	json_object_set_new(o, "started", json_string(started));
	json_object_set_new(o, "duration_s", json_real(secs));
	json_object_set_new(o, "index", json_string(home));
	json_object_set_new(o, "generation", r->generation >= 0 ? json_integer(r->generation)
								 : json_null());
	json_object_set_new(o, "version", json_string(version));
	json_object_set_new(o, "files", json_integer((json_int_t)r->seen));
	json_object_set_new(o, "added", json_integer((json_int_t)r->added));
	json_object_set_new(o, "replaced", json_integer((json_int_t)r->replaced));
	json_object_set_new(o, "moved", json_integer((json_int_t)r->moved));
	json_object_set_new(o, "other_shard", json_integer((json_int_t)r->other_shard));
	json_object_set_new(o, "left_shard", json_integer((json_int_t)r->left_shard));
	json_object_set_new(o, "removed", json_integer((json_int_t)r->removed));
	json_object_set_new(o, "unchanged", json_integer((json_int_t)r->unchanged));
	json_object_set_new(o, "rejected", json_integer((json_int_t)r->rejected));
	json_object_set_new(o, "new_rejects", json_integer((json_int_t)r->new_rejects));
	json_object_set_new(o, "rejects_total", r->rejects_total >= 0
							? json_integer(r->rejects_total)
							: json_null());
	json_object_set_new(o, "dry_run", json_boolean(cli.dry_run));
	json_object_set_new(o, "seconds", json_real(secs));
	json_object_set_new(o, "failed", json_boolean(exit_code == EXIT_FAILURE_ ||
						       exit_code == EXIT_USAGE));
	/* the JSON string escapes keep the record on one line whatever the
	 * paths and messages hold */
	if (json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER |
				  JSON_REAL_PRECISION(6)) == 0)
		putchar('\n');
	fflush(stdout);
	json_decref(o);
}

int stopped(run *r, int exit_code)
{
	if (r->json) {
		rejects on_record;
		if (rejects_read(r->home, &on_record, &r->generation) == 0) {
			r->rejects_total = (long long)on_record.count;
			rejects_free(&on_record);
		}
		record(r, exit_code);
	}
	return exit_code;
}
