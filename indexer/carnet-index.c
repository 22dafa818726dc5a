/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index.c - the indexing CLI: add files and directories to an index
 * home, show its figures and its rejected inputs. Uses the public API, and
 * the library's directory walk (walk.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "carnet.h"
#include "walk.h"

enum { EXIT_OK = 0, EXIT_REJECTS = 1, EXIT_USAGE = 2, EXIT_FAILURE_ = 3 };

/* Files per commit: bounds memory and the work a crash can lose. */
static unsigned long batch = 1000;
static unsigned jobs;     /* extraction threads; 0 until set: all cores */

typedef struct run {
	carnet_writer *w;
	carnet_walk *inputs;
	int json, quiet, progress, sync;
	unsigned long seen, added, replaced, unchanged, rejected, in_batch, moved;
	uint64_t removed;
	int failed;
	int list_errors; /* a directory could not be listed: do not remove */
	struct timespec start;
	/* the JSON record of the run (see record()) */
	const char *command, *home;
	struct rejects *before; /* the rejects on record before the run, or NULL */
	unsigned long long new_rejects;
	long long rejects_total, generation; /* -1: unknown */
} run;

/* When the process started, for the JSON record. */
static struct timespec started_at, started_mono;
/* The first error reported, for the JSON record. */
static char first_error[512];

/* Report an error on stderr; the first one is also the record's. */
__attribute__((format(printf, 1, 2)))
static void complain(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[sizeof first_error];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "carnet-index: %s\n", msg);
	if (!first_error[0])
		snprintf(first_error, sizeof first_error, "%s", msg);
}

/* The synopsis, after a usage error. */
static void short_usage(FILE *f)
{
	fputs("usage: carnet-index [OPTIONS] add PATH...\n"
	      "       carnet-index [OPTIONS] sync|rebuild SOURCE_DIR\n"
	      "       carnet-index [OPTIONS] mask|unmask ID --from AUDIENCE\n"
	      "       carnet-index [OPTIONS] stats|rejects\n"
	      "       carnet-index [OPTIONS] init [--group NAME]\n"
	      "       carnet-index [OPTIONS] access-log verify|archive ...\n"
	      "       carnet-index help [COMMAND] | --help | --version\n"
	      "Try 'carnet-index --help' for every option.\n",
	      f);
}

static void usage(FILE *f)
{
	fputs("usage: carnet-index [--index DIR] [OPTIONS] add PATH...\n"
	      "       carnet-index [--index DIR] [OPTIONS] sync|rebuild SOURCE_DIR\n"
	      "       carnet-index [--index DIR] mask|unmask ID --from AUDIENCE\n"
	      "       carnet-index [--index DIR] [--json] stats\n"
	      "       carnet-index [--index DIR] [--json] rejects\n"
	      "       carnet-index [--index DIR] init [--group NAME]\n"
	      "       carnet-index [--index DIR] [--json] access-log verify [--archive FILE]\n"
	      "       carnet-index [--index DIR] [--json] access-log archive --before DATE FILE\n"
	      "       carnet-index help [COMMAND]   (or COMMAND --help)\n"
	      "       carnet-index -h|--help | -V|--version\n"
	      "\n"
	      "  add PATH...    index files, or directories recursively; each input\n"
	      "                 may have its metadata in a sidecar FILE.meta.json\n"
	      "  sync DIR       make the index match DIR: add new files, replace changed\n"
	      "                 ones, remove the documents of files that are gone, skip\n"
	      "                 the rest\n"
	      "  rebuild DIR    build a new generation from DIR beside the live one, then\n"
	      "                 switch readers to it atomically\n"
	      "  mask ID --from professionals|patient|legal-representatives\n"
	      "  unmask ID --from ...   hide a document from an audience, or show it\n"
	      "                 again, without reading it again\n"
	      "  stats          documents, versions, patients, rejects, size, generation\n"
	      "  rejects        every rejected input: path, when first rejected, reason\n"
	      "  init [--group NAME]  create the index home and its access log; with\n"
	      "                 a group, shared: viewers in it read the index and\n"
	      "                 append to the access log, nobody else reads anything\n"
	      "  access-log verify   walk the access log's chain of hashes: the row count\n"
	      "                 and the head hash (keep it elsewhere as an anchor), or\n"
	      "                 the first broken row (exit 3); with --archive FILE,\n"
	      "                 check an archive file against its record in the log\n"
	      "  access-log archive --before DATE FILE   move the rows older than DATE\n"
	      "                 (YYYY-MM-DD) to FILE as JSON lines, then record the\n"
	      "                 archive in the log\n"
	      "\n"
	      "  --index DIR    index home (default $CARNET_INDEX, else ./carnet.idx)\n"
	      "  --jobs N       extraction threads (default: all cores)\n"
	      "  --batch N      files per commit (default 1000): what a crash can cost\n"
	      "  --max-size N   reject inputs larger than N bytes (suffix K, M, G;\n"
	      "                 default 64M)\n"
	      "  --pdf-timeout S  seconds one PDF may take to extract (default 30)\n"
	      "  --doc-timeout S  seconds one other input may take to read (default 30)\n"
	      "  --max-remove N|N%  sync: stop before removing anything if more than N\n"
	      "                 documents (or N% of them; default 10%) would be removed\n"
	      "  --allow-empty  sync, rebuild: an empty source is intended (else it is\n"
	      "                 a failure and nothing changes)\n"
	      "  --dry-run      add, sync: print what would be added, replaced, moved,\n"
	      "                 removed (path and id) and change nothing\n"
	      "  --from AUDIENCE  for mask and unmask\n"
	      "  --json         add, sync, rebuild: one JSON record on stdout, always\n"
	      "                 (also when the run fails); stats, rejects: JSON\n"
	      "  --quiet        no summary or progress on stderr\n"
	      "  -h, --help     this help;  -V, --version  the version\n"
	      "\n"
	      "exit status: 0 success, 1 this run rejected inputs that were not\n"
	      "rejected before (old rejects on record do not count), 2 usage error,\n"
	      "3 failure (input path missing or unreadable, index locked, unreadable,\n"
	      "disk full, ...)\n",
	      f);
}

/* The help of one command; 0 if there is no such command. */
static int command_help(const char *cmd, FILE *f)
{
	static const char *const helps[][2] = {
		{ "add",
		  "usage: carnet-index [--index DIR] [OPTIONS] add PATH...\n"
		  "Index files, or directories recursively (hidden entries skipped); a\n"
		  "file F may have its metadata in F.meta.json. Every PATH must exist\n"
		  "and be readable, or nothing is done (exit 3). Inputs already indexed\n"
		  "with the same content and sidecar are skipped.\n" },
		{ "sync",
		  "usage: carnet-index [--index DIR] [OPTIONS] sync SOURCE_DIR\n"
		  "Make the index match SOURCE_DIR: add new files, replace changed ones,\n"
		  "remove the documents of files that are gone, skip the rest. The\n"
		  "nightly job: idempotent, and can be killed at any moment.\n" },
		{ "rebuild",
		  "usage: carnet-index [--index DIR] [OPTIONS] rebuild SOURCE_DIR\n"
		  "Build a new generation of the index from SOURCE_DIR beside the live\n"
		  "one, then switch readers to it atomically; an unfinished rebuild\n"
		  "leaves the live index untouched.\n" },
		{ "mask",
		  "usage: carnet-index [--index DIR] mask ID --from AUDIENCE\n"
		  "Hide document ID from an audience (professionals, patient or\n"
		  "legal-representatives), kept across re-reads of its file.\n" },
		{ "unmask",
		  "usage: carnet-index [--index DIR] unmask ID --from AUDIENCE\n"
		  "Show document ID again to an audience it was masked from.\n" },
		{ "stats",
		  "usage: carnet-index [--index DIR] [--json] stats\n"
		  "Documents, versions, patients, rejects, size and generation.\n" },
		{ "rejects",
		  "usage: carnet-index [--index DIR] [--json] rejects\n"
		  "Every rejected input on record: path, when it was first rejected\n"
		  "(for this content and reason), and why.\n" },
		{ "init",
		  "usage: carnet-index [--index DIR] init [--group NAME]\n"
		  "Create the index home and its access log. With a group, the home is\n"
		  "shared: viewers in the group read the index and append to the access\n"
		  "log; nobody else reads anything.\n" },
		{ "access-log",
		  "usage: carnet-index [--index DIR] [--json] access-log verify [--archive FILE]\n"
		  "       carnet-index [--index DIR] [--json] access-log archive --before DATE FILE\n"
		  "verify: walk the access log's chain of hashes; print the row count and\n"
		  "the head hash (keep it elsewhere as an anchor), or name the first broken\n"
		  "row (exit 3); with --archive FILE, check an archive file against its\n"
		  "record in the log. archive: write the rows older than DATE (YYYY-MM-DD)\n"
		  "to FILE as JSON lines (never overwritten, synced), then remove them and\n"
		  "record the archive in the log, so the chain stays verifiable.\n" },
		{ "help",
		  "usage: carnet-index help [COMMAND]\n"
		  "The help of carnet-index, or of one command.\n" },
	};
	static const char options[] =
		"\n"
		"  --index DIR    index home (default $CARNET_INDEX, else ./carnet.idx)\n"
		"  --jobs N       extraction threads (default: all cores)\n"
		"  --batch N      files per commit (default 1000)\n"
		"  --max-size N   reject inputs larger than N bytes (K, M, G; default 64M)\n"
		"  --pdf-timeout S  seconds one PDF may take to extract (default 30)\n"
		"  --doc-timeout S  seconds one other input may take to read (default 30)\n"
		"  --max-remove N|N%  sync: stop before removing anything if more than N\n"
		"                 documents (or N% of them; default 10%) would be removed\n"
		"  --allow-empty  sync, rebuild: an empty source is intended\n"
		"  --dry-run      add, sync: print what would change, change nothing\n"
		"  --json         one JSON record on stdout, always: status (ok, rejects,\n"
		"                 failed), error, started, duration_s, index, generation,\n"
		"                 version, command, the counts, new_rejects, rejects_total\n"
		"  --quiet        no summary or progress on stderr\n"
		"exit status: 0 done, 1 new rejects in this run, 2 usage error, 3 failure\n";
	for (size_t i = 0; i < sizeof helps / sizeof helps[0]; i++) {
		if (strcmp(cmd, helps[i][0]) != 0)
			continue;
		fputs(helps[i][1], f);
		if (i < 3)
			fputs(options, f);
		return 1;
	}
	return 0;
}

/* A usage error: the reason on one line, then the synopsis. */
__attribute__((format(printf, 1, 2)))
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char msg[sizeof first_error];
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	complain("%s", msg);
	short_usage(stderr);
	return EXIT_USAGE;
}

static double elapsed(const run *r)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - r->start.tv_sec) +
	       (double)(now.tv_nsec - r->start.tv_nsec) / 1e9;
}

static int commit(run *r)
{
	carnet_error err;
	if (carnet_writer_commit(r->w, &err) != CARNET_OK) {
		complain("commit failed: %s", err.message);
		r->failed = 1;
		return -1;
	}
	r->in_batch = 0;
	return 0;
}

static void on_outcome(const char *path, carnet_outcome outcome,
		       const carnet_error *reason, void *payload)
{
	run *r = payload;
	(void)path;
	r->seen++;
	switch (outcome) {
	case CARNET_OUTCOME_ADDED: r->added++; break;
	case CARNET_OUTCOME_REPLACED: r->replaced++; break;
	case CARNET_OUTCOME_UNCHANGED: r->unchanged++; break;
	case CARNET_OUTCOME_MOVED: r->moved++; break;
	case CARNET_OUTCOME_REJECTED:
		r->rejected++;
		if (!r->quiet)
			fprintf(stderr, "%scarnet-index: rejected %s\n",
				r->progress ? "\r\033[K" : "", reason ? reason->message : path);
		break;
	}
	if (r->progress && r->seen % 50 == 0) {
		double s = elapsed(r);
		double rate = s > 0 ? (double)r->seen / s : 0.0;
		unsigned long left = r->inputs->count - r->seen;
		fprintf(stderr, "\r\033[K%lu/%zu files, %.0f files/s, %.0f s left", r->seen,
			r->inputs->count, rate, rate > 0 ? (double)left / rate : 0.0);
	}
}

/* Index the collected inputs, a batch per commit. */
static void index_inputs(run *r)
{
	for (size_t start = 0; start < r->inputs->count && !r->failed; start += batch) {
		size_t n = r->inputs->count - start < batch ? r->inputs->count - start : batch;
		carnet_error err;
		if (carnet_writer_add_files(r->w, (const char *const *)r->inputs->paths + start, n,
					    jobs, on_outcome, r, &err) != CARNET_OK) {
			complain("%s", err.message);
			r->failed = 1;
			return;
		}
		commit(r);
	}
}

/* An entry the walk did not return: reported as rejects are; a part of
 * the source that could not be read keeps its documents. */
static void on_skip(const char *path, carnet_walk_skip what, const char *reason,
		    void *payload)
{
	run *r = payload;
	(void)path;
	r->rejected++;
	if (what == CARNET_WALK_UNREADABLE)
		r->list_errors++;
	if (!r->quiet)
		fprintf(stderr, "carnet-index: rejected %s%s\n", reason,
			what == CARNET_WALK_UNREADABLE && r->sync
				? " (what it held stays indexed)" : "");
}

/* What a dry run would do, on stdout: add, replace, move, reject. */
static void on_preview(const char *path, carnet_outcome outcome, const char *id,
		       const char *detail, void *payload)
{
	run *r = payload;
	switch (outcome) {
	case CARNET_OUTCOME_ADDED:
		r->added++;
		printf("add\t%s\t%s\n", path, id);
		break;
	case CARNET_OUTCOME_REPLACED:
		r->replaced++;
		printf("replace\t%s\t%s\n", path, id);
		break;
	case CARNET_OUTCOME_MOVED:
		r->moved++;
		printf("move\t%s\t%s\tfrom %s\n", path, id, detail);
		break;
	case CARNET_OUTCOME_UNCHANGED:
		r->unchanged++;
		break;
	case CARNET_OUTCOME_REJECTED:
		r->rejected++;
		printf("reject\t%s\t%s\n", path, detail ? detail : "");
		break;
	}
}

static int on_unseen(const char *path, const char *id, void *payload)
{
	(void)payload;
	if (id)
		printf("remove\t%s\t%s\n", path, id);
	return 0;
}

/* Is dir a directory that can be listed? 0, or an errno. Files it holds
 * are counted by the walk. */
static int source_state(const char *dir, struct stat *st)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno;
	int e = 0;
	DIR *d = fstat(fd, st) == 0 ? fdopendir(fd) : NULL;
	if (!d) {
		e = errno;
		close(fd);
		return e;
	}
	errno = 0;
	while (readdir(d))
		errno = 0;
	e = errno;
	closedir(d);
	return e;
}

/* Parse "64M"-style sizes; 0 on error. */
static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 10);
	if (end == s || n == 0)
		return 0;
	uint64_t mult = 1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mult = 1024; end++; break;
	case 'm': case 'M': mult = 1024 * 1024; end++; break;
	case 'g': case 'G': mult = 1024 * 1024 * 1024; end++; break;
	default: return 0;
	}
	if (*end || n > UINT64_MAX / mult)
		return 0;
	return n * mult;
}

/* sync: what it may do. A sync that would remove more than max_remove
 * documents (or max_remove_pct percent of them) stops before removing. */
static int allow_empty, dry_run, max_remove_is_pct = 1;
static uint64_t max_remove = 10;
static uint64_t max_size, pdf_timeout, doc_timeout;

enum { MODE_ADD, MODE_SYNC, MODE_REBUILD };

/* Before any change: the source must be a directory that can be listed
 * and holds files (unless --allow-empty). 0 if it can be synced. */
static int check_source(const run *r, const char *dir, const struct stat *st, int e)
{
	if (e == 0 && !S_ISDIR(st->st_mode))
		e = ENOTDIR;
	if (e) {
		complain("%s: the source %s (%s): nothing changed",
			dir, e == ENOENT ? "is missing" : "cannot be read", strerror(e));
		return -1;
	}
	if (r->inputs->count == 0 && !allow_empty) {
		complain("%s: the source is empty (no file to index%s): "
			"nothing changed; if an empty source is intended, use --allow-empty\n",
			dir, r->list_errors ? ", and parts of it cannot be read" : "");
		return -1;
	}
	return 0;
}

/* After indexing, before removing: the source is still the directory
 * walked (not gone, unmounted or replaced), and removing what is gone
 * stays within --max-remove. 0 if the removal may go on. */
static int check_removal(run *r, const char *dir, const struct stat *walked)
{
	struct stat now;
	int e = source_state(dir, &now);
	if (e || now.st_dev != walked->st_dev || now.st_ino != walked->st_ino) {
		complain("%s: the source %s while the sync ran%s%s: "
			"nothing removed", dir, e ? "became unreadable" : "was replaced",
			e ? ": " : "", e ? strerror(e) : "");
		return -1;
	}
	uint64_t removable, total;
	carnet_error err;
	if (carnet_writer_unseen(r->w, dir, dry_run ? on_unseen : NULL, r, &removable,
				 &total, &err) != CARNET_OK) {
		complain("%s", err.message);
		return -1;
	}
	if (allow_empty && r->inputs->count == 0)
		return 0; /* an empty source, said to be intended */
	int over = max_remove_is_pct ? removable * 100 > max_remove * total
				     : removable > max_remove;
	if (over) {
		char limit[64];
		if (max_remove_is_pct)
			snprintf(limit, sizeof limit, "%llu%% of the documents",
				 (unsigned long long)max_remove);
		else
			snprintf(limit, sizeof limit, "%llu documents",
				 (unsigned long long)max_remove);
		complain("%s: the sync would remove %llu of the %llu "
			"documents (%.1f%%), more than --max-remove allows (%s): stopped "
			"before removing anything; check that the source is complete, or "
			"allow it with --max-remove", dir, (unsigned long long)removable,
			(unsigned long long)total,
			total ? 100.0 * (double)removable / (double)total : 0.0, limit);
		return -1;
	}
	if (dry_run)
		r->removed = removable;
	return 0;
}

/* ---- the JSON record of add, sync and rebuild ---- */

/* The rejects on record in an index, by path. */
typedef struct reject_row {
	char *path, *reason, *when;
} reject_row;

typedef struct rejects {
	reject_row *rows;
	size_t count, cap;
	int nomem;
} rejects;

static int keep_reject(const char *path, const char *reason, const char *when,
		       void *payload)
{
	rejects *rj = payload;
	if (rj->count == rj->cap) {
		size_t cap = rj->cap ? rj->cap * 2 : 64;
		reject_row *rows = realloc(rj->rows, cap * sizeof *rows);
		if (!rows) {
			rj->nomem = 1;
			return 1;
		}
		rj->rows = rows;
		rj->cap = cap;
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

static void rejects_free(rejects *rj)
{
	for (size_t i = 0; rj && i < rj->count; i++) {
		free(rj->rows[i].path);
		free(rj->rows[i].reason);
		free(rj->rows[i].when);
	}
	if (rj)
		free(rj->rows);
}

/* Read the rejects on record in the live generation of home, sorted by
 * path, and its generation number. -1 when there is no readable index. */
static int rejects_read(const char *home, rejects *rj, long long *generation)
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

/* After a run: the rejects on record now, and how many of them this run
 * made: rows that were not on record before, or with another reason, or
 * (but for a rebuild, whose registry is new) recorded again since. */
static void tally_rejects(run *r, int mode)
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

/* home as an absolute path (resolved as the library does when NULL). */
static void absolute_home(const char *home, char *out, size_t size)
{
	if (!home) {
		const char *env = getenv("CARNET_INDEX");
		home = env && *env ? env : "carnet.idx";
	}
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

/* Print the run's JSON record: one line on stdout, whatever happened. */
static void record(const run *r, int exit_code)
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
	json_object_set_new(o, "removed", json_integer((json_int_t)r->removed));
	json_object_set_new(o, "unchanged", json_integer((json_int_t)r->unchanged));
	json_object_set_new(o, "rejected", json_integer((json_int_t)r->rejected));
	json_object_set_new(o, "new_rejects", json_integer((json_int_t)r->new_rejects));
	json_object_set_new(o, "rejects_total", r->rejects_total >= 0
							? json_integer(r->rejects_total)
							: json_null());
	json_object_set_new(o, "dry_run", json_boolean(dry_run));
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

/* The end of an add, sync or rebuild that stopped before indexing (usage
 * error, missing input, index locked...): the record still says so. */
static int stopped(run *r, int exit_code)
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

/* Every path named must exist and be readable before the index home is
 * touched (a missing input is not an empty one). */
static int check_inputs(int argc, char **argv, int sync)
{
	for (int i = 0; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			complain("%s: %s; nothing was indexed", argv[i], strerror(errno));
			return EXIT_FAILURE_;
		}
		if (sync && !S_ISDIR(st.st_mode))
			return usage_error("%s: not a directory (sync and rebuild read a "
					   "SOURCE_DIR)", argv[i]);
		if (access(argv[i], S_ISDIR(st.st_mode) ? R_OK | X_OK : R_OK) != 0) {
			complain("%s: cannot be read: %s; nothing was indexed", argv[i],
				 strerror(errno));
			return EXIT_FAILURE_;
		}
	}
	return EXIT_OK;
}

static const char *const mode_names[] = { "add", "sync", "rebuild" };

static int cmd_add(const char *home, int json, int quiet, int argc, char **argv,
		   int mode)
{
	int sync = mode != MODE_ADD;
	run r;
	memset(&r, 0, sizeof r);
	r.json = json;
	r.quiet = quiet;
	r.command = mode_names[mode];
	r.home = home;
	r.rejects_total = r.generation = -1;
	r.sync = mode == MODE_SYNC;
	if (argc < 1 || (sync && argc != 1))
		return stopped(&r, usage_error(sync ? "sync and rebuild need one SOURCE_DIR"
						    : "add needs at least one PATH"));
	if (dry_run && mode == MODE_REBUILD)
		return stopped(&r, usage_error("--dry-run is for add and sync"));
	int rc = check_inputs(argc, argv, sync);
	if (rc)
		return stopped(&r, rc);
	r.progress = !quiet && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	carnet_walk in = CARNET_WALK_INIT;
	r.inputs = &in;
	/* what is on record now, to tell this run's new rejects from old ones */
	rejects before;
	if (rejects_read(home, &before, NULL) == 0)
		r.before = &before;
	carnet_error err;
	struct stat walked;
	int src_err = sync ? source_state(argv[0], &walked) : 0;
	for (int i = 0; i < argc && !r.failed && !src_err; i++) {
		if (carnet_walk__run(&in, argv[i], on_skip, &r, &err) != CARNET_OK) {
			complain("%s", err.message);
			r.failed = 1;
		}
	}
	if (r.failed || (sync && check_source(&r, argv[0], &walked, src_err) != 0)) {
		carnet_walk__free(&in);
		rejects_free(r.before);
		r.before = NULL;
		return stopped(&r, EXIT_FAILURE_);
	}
	if ((mode == MODE_REBUILD ? carnet_writer_open_rebuild(&r.w, home, &err)
				  : carnet_writer_open(&r.w, home, &err)) != CARNET_OK) {
		complain("%s", err.message);
		carnet_walk__free(&in);
		rejects_free(r.before);
		r.before = NULL;
		return stopped(&r, EXIT_FAILURE_);
	}
	if ((max_size && carnet_writer_set_limit(r.w, CARNET_LIMIT_INPUT_BYTES, max_size, &err)) ||
	    (pdf_timeout && carnet_writer_set_limit(r.w, CARNET_LIMIT_PDF_SECONDS, pdf_timeout, &err)) ||
	    (doc_timeout && carnet_writer_set_limit(r.w, CARNET_LIMIT_DOC_MILLISECONDS,
						    doc_timeout * 1000, &err))) {
		carnet_writer_close(r.w);
		carnet_walk__free(&in);
		rejects_free(r.before);
		r.before = NULL;
		return stopped(&r, usage_error("%s", err.message));
	}
	/* what could not be read keeps its documents */
	for (size_t i = 0; i < in.nunreadable && !r.failed; i++)
		if (carnet_writer_keep(r.w, in.unreadable[i], &err) != CARNET_OK) {
			fprintf(stderr, "carnet-index: %s\n", err.message);
			r.failed = 1;
		}
	if (dry_run) {
		for (size_t i = 0; i < in.count && !r.failed; i++) {
			r.seen++;
			if (carnet_writer_preview_file(r.w, in.paths[i], on_preview, &r,
						       &err) != CARNET_OK) {
				fprintf(stderr, "carnet-index: %s\n", err.message);
				r.failed = 1;
			}
		}
	} else {
		index_inputs(&r);
	}
	if (mode == MODE_REBUILD) {
		/* nothing to remove: the new generation holds only what was read */
		if (!r.failed && r.list_errors) {
			complain("%s could not be listed entirely: the rebuild is not published",
				 argv[0]);
			r.failed = 1;
		}
		if (!r.failed && carnet_writer_publish(r.w, &err) != CARNET_OK) {
			complain("%s", err.message);
			r.failed = 1;
		}
	} else if (sync && !r.failed && check_removal(&r, argv[0], &walked) != 0) {
		r.failed = 1;
	} else if (sync && !r.failed && !dry_run &&
		   carnet_writer_remove_unseen(r.w, argv[0], &r.removed, &err) != CARNET_OK) {
		complain("%s", err.message);
		r.failed = 1;
	}
	if (sync && r.list_errors && !quiet)
		fprintf(stderr, "carnet-index: %s could not be read entirely: the documents "
			"of what could not be read are kept\n", argv[0]);
	if (!r.failed && mode != MODE_REBUILD && !dry_run)
		commit(&r); /* what remove_unseen changed */
	carnet_writer_close(r.w);
	carnet_walk__free(&in);
	tally_rejects(&r, mode);
	rejects_free(r.before);
	r.before = NULL;
	double secs = elapsed(&r);
	if (r.progress)
		fputs("\r\033[K", stderr);
	int nothing = !r.added && !r.replaced && !r.removed && !r.moved;
	char new_note[96] = "";
	if ((r.rejected || r.new_rejects) && !dry_run)
		snprintf(new_note, sizeof new_note, " (%llu new; see: carnet-index rejects)",
			 r.new_rejects);
	if (!quiet)
		fprintf(stderr,
			"carnet-index: %s%lu files in %.2f s: %lu added, %lu replaced, "
			"%lu moved, %llu removed, %lu unchanged, %lu rejected%s%s%s\n",
			dry_run ? "dry run, nothing changed: " : "",
			r.seen, secs, r.added, r.replaced, r.moved, (unsigned long long)r.removed,
			r.unchanged, r.rejected, new_note,
			r.failed ? "; stopped on failure, last batch not committed" : "",
			nothing && !r.failed ? "; the index did not change" : "");
	rc = r.failed ? EXIT_FAILURE_ : r.new_rejects ? EXIT_REJECTS : EXIT_OK;
	if (json)
		record(&r, rc);
	return rc;
}

static int open_index(carnet_index **idx, const char *home)
{
	carnet_error err;
	if (carnet_index_open(idx, home, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	return EXIT_OK;
}

static int cmd_stats(const char *home, int json)
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

static int cmd_rejects(const char *home, int json)
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

static const char *from_audience;
static const char *log_before, *log_archive;

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
static int cmd_access_log(const char *home, int json, int argc, char **argv)
{
	carnet_access_log_report rep;
	carnet_error err;
	int rc;
	if (argc == 1 && strcmp(argv[0], "verify") == 0 && !log_before) {
		rc = carnet_access_log_verify(home, log_archive, &rep, &err);
		if (rc == CARNET_OK) {
			print_report(log_archive ? log_archive : "access log", &rep, json);
			return EXIT_OK;
		}
	} else if (argc == 2 && strcmp(argv[0], "archive") == 0 && log_before && !log_archive) {
		rc = carnet_access_log_archive(home, log_before, argv[1], &rep, &err);
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
	} else {
		fputs("carnet-index: access-log verify [--archive FILE] | "
		      "access-log archive --before YYYY-MM-DD FILE\n", stderr);
		return EXIT_USAGE;
	}
	fprintf(stderr, "carnet-index: %s\n", err.message);
	return rc == CARNET_E_INVALID ? EXIT_USAGE : EXIT_FAILURE_;
}

static const char *init_group; /* init --group NAME */

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
static int cmd_init(const char *home, const char *group)
{
	if (!home) {
		const char *env = getenv("CARNET_INDEX");
		home = env && *env ? env : "carnet.idx";
	}
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

static int cmd_mask(const char *home, const char *id, int hidden)
{
	carnet_audience audience;
	if (!from_audience)
		return usage_error("mask and unmask need --from professionals|patient|legal-representatives");
	if (strcmp(from_audience, "professionals") == 0)
		audience = CARNET_AUDIENCE_PROFESSIONALS;
	else if (strcmp(from_audience, "patient") == 0)
		audience = CARNET_AUDIENCE_PATIENT;
	else if (strcmp(from_audience, "legal-representatives") == 0)
		audience = CARNET_AUDIENCE_LEGAL_REPRESENTATIVES;
	else
		return usage_error("unknown audience '%.100s' (professionals, patient or "
				   "legal-representatives)", from_audience);
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

/* Parse a whole number from lo to hi; -1 if s is not one. */
static long parse_number(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long n = strtol(s, &end, 10);
	return !*s || *end || errno || n < lo || n > hi ? -1 : n;
}

int main(int argc, char **argv)
{
	clock_gettime(CLOCK_REALTIME, &started_at);
	clock_gettime(CLOCK_MONOTONIC, &started_mono);
	static const struct option opts[] = {
		{ "index", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "from", required_argument, NULL, 'F' },
		{ "group", required_argument, NULL, 'G' },
		{ "before", required_argument, NULL, 'b' },
		{ "archive", required_argument, NULL, 'a' },
		{ "batch", required_argument, NULL, 'B' },
		{ "pdf-timeout", required_argument, NULL, 'T' },
		{ "allow-empty", no_argument, NULL, 'E' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "max-remove", required_argument, NULL, 'R' },
		{ "doc-timeout", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *home = NULL;
	int json = 0, quiet = 0, help = 0, version = 0, c;
	char bad[256] = ""; /* the first usage error: reported once the command is known */
	long n;
	opterr = 0;
	/* getopt moves every option before the command and its arguments, so
	 * that options may follow the command */
	while ((c = getopt_long(argc, argv, ":hV", opts, NULL)) != -1) {
		const char *why = NULL;
		switch (c) {
		case 'i': home = optarg; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'J':
			if ((n = parse_number(optarg, 1, 1024)) < 0)
				why = "--jobs needs a number from 1 to 1024";
			else
				jobs = (unsigned)n;
			break;
		case 'M':
			if (!(max_size = parse_size(optarg)))
				why = "--max-size needs a size such as 1048576, 512K or 64M";
			break;
		case 'T':
			if ((n = parse_number(optarg, 1, 86400)) < 0)
				why = "--pdf-timeout needs seconds from 1 to 86400";
			else
				pdf_timeout = (uint64_t)n;
			break;
		case 'D':
			if ((n = parse_number(optarg, 1, 86400)) < 0)
				why = "--doc-timeout needs seconds from 1 to 86400";
			else
				doc_timeout = (uint64_t)n;
			break;
		case 'G': init_group = optarg; break;
		case 'b': log_before = optarg; break;
		case 'a': log_archive = optarg; break;
		case 'E': allow_empty = 1; break;
		case 'n': dry_run = 1; break;
		case 'R': {
			char *end;
			errno = 0;
			unsigned long long m = strtoull(optarg, &end, 10);
			int pct = *end == '%';
			if (end == optarg || optarg[0] == '-' || errno ||
			    (pct ? end[1] != '\0' || m > 100 : *end != '\0')) {
				why = "--max-remove needs a number of documents or a percentage such as 10%";
			} else {
				max_remove = m;
				max_remove_is_pct = pct;
			}
			break;
		}
		case 'F': from_audience = optarg; break;
		case 'B':
			if ((n = parse_number(optarg, 1, 1000000)) < 0)
				why = "--batch needs a number of files from 1 to 1000000";
			else
				batch = (unsigned long)n;
			break;
		case 'h': help = 1; break;
		case 'V': version = 1; break;
		case ':':
			if (!bad[0])
				snprintf(bad, sizeof bad, "option %.200s needs a value", argv[optind - 1]);
			break;
		default:
			if (bad[0])
				break;
			if (optopt && strncmp(argv[optind - 1], "--", 2) == 0)
				snprintf(bad, sizeof bad, "option %.*s takes no value",
					 (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			else if (optopt)
				snprintf(bad, sizeof bad, "unknown option -%c", optopt);
			else
				snprintf(bad, sizeof bad, "unknown option %.200s", argv[optind - 1]);
			break;
		}
		if (why && !bad[0])
			snprintf(bad, sizeof bad, "%s", why);
	}
	if (version) {
		int major, minor, patch;
		carnet_version(&major, &minor, &patch);
		printf("carnet-index %d.%d.%d\n", major, minor, patch);
		return EXIT_OK;
	}
	const char *cmd = optind < argc ? argv[optind++] : NULL;
	int nargs = argc - optind;
	char **args = argv + optind;
	if (cmd && strcmp(cmd, "help") == 0) {
		if (nargs == 0) {
			usage(stdout);
			return EXIT_OK;
		}
		if (nargs == 1 && command_help(args[0], stdout))
			return EXIT_OK;
		return usage_error("help: no command '%.100s' (add, sync, rebuild, mask, "
				   "unmask, stats, rejects, init, access-log)", args[0]);
	}
	if (help && !cmd) {
		usage(stdout);
		return EXIT_OK;
	}
	if (help && command_help(cmd, stdout))
		return EXIT_OK;
	if (!cmd)
		return usage_error("%s", bad[0] ? bad : "no command given");
	int mode = strcmp(cmd, "add") == 0 ? MODE_ADD
		   : strcmp(cmd, "sync") == 0 ? MODE_SYNC
		   : strcmp(cmd, "rebuild") == 0 ? MODE_REBUILD : -1;
	if (bad[0]) {
		if (mode < 0)
			return usage_error("%s", bad);
		/* the nightly record is written even for a bad option */
		run r;
		memset(&r, 0, sizeof r);
		r.json = json;
		r.command = mode_names[mode];
		r.home = home;
		r.rejects_total = r.generation = -1;
		return stopped(&r, usage_error("%s", bad));
	}
	if (jobs == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = cores > 0 ? (unsigned)cores : 1;
	}
	if (mode >= 0)
		return cmd_add(home, json, quiet, nargs, args, mode);
	if (strcmp(cmd, "mask") == 0 || strcmp(cmd, "unmask") == 0) {
		if (nargs != 1)
			return usage_error("%s needs one document ID", cmd);
		return cmd_mask(home, args[0], cmd[0] == 'm');
	}
	if (strcmp(cmd, "access-log") == 0)
		return cmd_access_log(home, json, nargs, args);
	if (strcmp(cmd, "init") != 0 && strcmp(cmd, "stats") != 0 && strcmp(cmd, "rejects") != 0)
		return usage_error("unknown command '%.100s'", cmd);
	if (nargs > 0)
		return usage_error("%s takes no arguments", cmd);
	if (strcmp(cmd, "init") == 0)
		return cmd_init(home, init_group);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(home, json);
	return cmd_rejects(home, json);
}
