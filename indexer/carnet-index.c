/* carnet-index.c - the indexing CLI: add files and directories to an index
 * home, show its figures and its rejected inputs. Uses the public API only. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
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

enum { EXIT_OK = 0, EXIT_REJECTS = 1, EXIT_USAGE = 2, EXIT_FAILURE_ = 3 };

/* Files per commit: bounds memory and the work a crash can lose. */
static unsigned long batch = 1000;
static unsigned jobs;     /* extraction threads; 0 until set: all cores */

typedef struct inputs inputs;

typedef struct run {
	carnet_writer *w;
	inputs *inputs;
	int json, quiet, progress;
	unsigned long seen, added, replaced, unchanged, rejected, in_batch;
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
	      "\n"
	      "  --index DIR    index home (default $CARNET_INDEX, else ./carnet.idx)\n"
	      "  --jobs N       extraction threads (default: all cores)\n"
	      "  --batch N      files per commit (default 1000): what a crash can cost\n"
	      "  --max-size N   reject inputs larger than N bytes (suffix K, M, G;\n"
	      "                 default 64M)\n"
	      "  --pdf-timeout S  seconds one PDF may take to extract (default 30)\n"
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

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The inputs found by walking the paths given. */
typedef struct inputs {
	char **paths;
	size_t count, cap;
} inputs;

static void add_file(run *r, const char *path)
{
	inputs *in = r->inputs;
	if (in->count == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 1024;
		char **p = realloc(in->paths, cap * sizeof *p);
		if (!p) {
			r->failed = 1;
			return;
		}
		in->paths = p;
		in->cap = cap;
	}
	if (!(in->paths[in->count] = strdup(path))) {
		r->failed = 1;
		return;
	}
	in->count++;
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

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Add a file, or a directory's files recursively in name order, skipping
 * hidden entries and sidecars (read with the file they describe). */
static void add_path(run *r, const char *path, int depth)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		if (!ends_with(path, ".meta.json"))
			add_file(r, path);
		return;
	}
	if (depth > 64) {
		fprintf(stderr, "carnet-index: %s: directories nested too deep, skipped\n", path);
		return;
	}
	struct dirent **names;
	int n = scandir(path, &names, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "carnet-index: %s: cannot list directory: %s\n",
			path, strerror(errno));
		r->rejected++;
		r->list_errors++;
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		if (name[0] != '.' && !ends_with(name, ".meta.json") && !r->failed) {
			size_t len = strlen(path) + strlen(name) + 2;
			char *child = malloc(len);
			if (child) {
				snprintf(child, len, "%s%s%s", path,
					 ends_with(path, "/") ? "" : "/", name);
				add_path(r, child, depth + 1);
				free(child);
			} else {
				r->failed = 1;
			}
		}
		free(names[i]);
	}
	free(names);
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

static uint64_t max_size, pdf_timeout;

enum { MODE_ADD, MODE_SYNC, MODE_REBUILD };

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
	json_object_set_new(o, "removed", json_integer((json_int_t)r->removed));
	json_object_set_new(o, "unchanged", json_integer((json_int_t)r->unchanged));
	json_object_set_new(o, "rejected", json_integer((json_int_t)r->rejected));
	json_object_set_new(o, "new_rejects", json_integer((json_int_t)r->new_rejects));
	json_object_set_new(o, "rejects_total", r->rejects_total >= 0
							? json_integer(r->rejects_total)
							: json_null());
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
	if (argc < 1 || (sync && argc != 1))
		return stopped(&r, usage_error(sync ? "sync and rebuild need one SOURCE_DIR"
						    : "add needs at least one PATH"));
	int rc = check_inputs(argc, argv, sync);
	if (rc)
		return stopped(&r, rc);
	r.progress = !quiet && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	/* what is on record now, to tell this run's new rejects from old ones */
	rejects before;
	if (rejects_read(home, &before, NULL) == 0)
		r.before = &before;
	carnet_error err;
	if ((mode == MODE_REBUILD ? carnet_writer_open_rebuild(&r.w, home, &err)
				  : carnet_writer_open(&r.w, home, &err)) != CARNET_OK) {
		complain("%s", err.message);
		rejects_free(r.before);
		r.before = NULL;
		return stopped(&r, EXIT_FAILURE_);
	}
	if ((max_size && carnet_writer_set_limit(r.w, CARNET_LIMIT_INPUT_BYTES, max_size, &err)) ||
	    (pdf_timeout && carnet_writer_set_limit(r.w, CARNET_LIMIT_PDF_SECONDS, pdf_timeout, &err))) {
		carnet_writer_close(r.w);
		rejects_free(r.before);
		r.before = NULL;
		return stopped(&r, usage_error("%s", err.message));
	}
	inputs in = { NULL, 0, 0 };
	r.inputs = &in;
	for (int i = 0; i < argc && !r.failed; i++)
		add_path(&r, argv[i], 0);
	index_inputs(&r);
	for (size_t i = 0; i < in.count; i++)
		free(in.paths[i]);
	free(in.paths);
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
	} else if (sync && !r.failed && r.list_errors) {
		fprintf(stderr, "carnet-index: %s could not be listed entirely: "
			"nothing removed this time\n", argv[0]);
	} else if (sync && !r.failed &&
		   carnet_writer_remove_unseen(r.w, argv[0], &r.removed, &err) != CARNET_OK) {
		complain("%s", err.message);
		r.failed = 1;
	}
	if (!r.failed && mode != MODE_REBUILD)
		commit(&r); /* what remove_unseen changed */
	carnet_writer_close(r.w);
	tally_rejects(&r, mode);
	rejects_free(r.before);
	r.before = NULL;
	double secs = elapsed(&r);
	if (r.progress)
		fputs("\r\033[K", stderr);
	int nothing = !r.added && !r.replaced && !r.removed;
	char new_note[96] = "";
	if (r.rejected || r.new_rejects)
		snprintf(new_note, sizeof new_note, " (%llu new; see: carnet-index rejects)",
			 r.new_rejects);
	if (!quiet)
		fprintf(stderr,
			"carnet-index: %lu files in %.2f s: %lu added, %lu replaced, "
			"%llu removed, %lu unchanged, %lu rejected%s%s%s\n",
			r.seen, secs, r.added, r.replaced, (unsigned long long)r.removed,
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
		{ "batch", required_argument, NULL, 'B' },
		{ "pdf-timeout", required_argument, NULL, 'T' },
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
				   "unmask, stats, rejects)", args[0]);
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
	if (strcmp(cmd, "stats") != 0 && strcmp(cmd, "rejects") != 0)
		return usage_error("unknown command '%.100s'", cmd);
	if (nargs > 0)
		return usage_error("%s takes no arguments", cmd);
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(home, json);
	return cmd_rejects(home, json);
}
