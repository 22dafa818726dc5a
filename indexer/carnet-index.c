/* carnet-index.c - the indexing CLI: add files and directories to an index
 * home, show its figures and its rejected inputs. Uses the public API only. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
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
} run;

static void usage(FILE *f)
{
	fputs("usage: carnet-index [--index DIR] [--json] [--quiet] add PATH...\n"
	      "       carnet-index [--index DIR] mask|unmask ID --from AUDIENCE\n"
	      "       carnet-index [--index DIR] [--json] [--quiet] sync|rebuild SOURCE_DIR\n"
	      "       carnet-index [--index DIR] [--json] stats\n"
	      "       carnet-index [--index DIR] [--json] rejects\n"
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
	      "  rejects        every rejected input: path, when, reason\n"
	      "\n"
	      "  --index DIR    index home (default $CARNET_INDEX, else ./carnet.idx)\n"
	      "  --max-size N   reject inputs larger than N bytes (suffix K, M, G;\n"
	      "                 default 64M)\n"
	      "  --pdf-timeout S  seconds one PDF may take to extract (default 30)\n"
	      "  --doc-timeout S  seconds one other input may take to read (default 30)\n"
	      "  --batch N      files per commit (default 1000): what a crash can cost\n"
	      "  --json         a JSON summary on stdout\n"
	      "  --quiet        no summary or progress on stderr\n"
	      "\n"
	      "exit status: 0 success, 1 some inputs rejected, 2 usage error,\n"
	      "3 failure (index locked, unreadable, disk full, ...)\n",
	      f);
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
		fprintf(stderr, "carnet-index: commit failed: %s\n", err.message);
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
			fprintf(stderr, "carnet-index: %s\n", err.message);
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

static uint64_t max_size, pdf_timeout, doc_timeout;

enum { MODE_ADD, MODE_SYNC, MODE_REBUILD };

static int cmd_add(const char *home, int json, int quiet, int argc, char **argv,
		   int mode)
{
	int sync = mode != MODE_ADD;
	if (argc < 1 || (sync && argc != 1)) {
		fputs(sync ? "carnet-index: sync and rebuild need one SOURCE_DIR\n"
			   : "carnet-index: add needs at least one PATH\n", stderr);
		usage(stderr);
		return EXIT_USAGE;
	}
	struct stat st;
	if (sync && (stat(argv[0], &st) != 0 || !S_ISDIR(st.st_mode))) {
		fprintf(stderr, "carnet-index: %s: not a directory\n", argv[0]);
		return EXIT_USAGE;
	}
	run r;
	memset(&r, 0, sizeof r);
	r.json = json;
	r.quiet = quiet;
	r.progress = !quiet && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &r.start);
	carnet_error err;
	if ((mode == MODE_REBUILD ? carnet_writer_open_rebuild(&r.w, home, &err)
				  : carnet_writer_open(&r.w, home, &err)) != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		return EXIT_FAILURE_;
	}
	if ((max_size && carnet_writer_set_limit(r.w, CARNET_LIMIT_INPUT_BYTES, max_size, &err)) ||
	    (pdf_timeout && carnet_writer_set_limit(r.w, CARNET_LIMIT_PDF_SECONDS, pdf_timeout, &err)) ||
	    (doc_timeout && carnet_writer_set_limit(r.w, CARNET_LIMIT_DOC_MILLISECONDS,
						    doc_timeout * 1000, &err))) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		carnet_writer_close(r.w);
		return EXIT_USAGE;
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
			fprintf(stderr, "carnet-index: %s could not be listed entirely: "
				"the rebuild is not published\n", argv[0]);
			r.failed = 1;
		}
		if (!r.failed && carnet_writer_publish(r.w, &err) != CARNET_OK) {
			fprintf(stderr, "carnet-index: %s\n", err.message);
			r.failed = 1;
		}
	} else if (sync && !r.failed && r.list_errors) {
		fprintf(stderr, "carnet-index: %s could not be listed entirely: "
			"nothing removed this time\n", argv[0]);
	} else if (sync && !r.failed &&
		   carnet_writer_remove_unseen(r.w, argv[0], &r.removed, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-index: %s\n", err.message);
		r.failed = 1;
	}
	if (!r.failed && mode != MODE_REBUILD)
		commit(&r); /* what remove_unseen changed */
	carnet_writer_close(r.w);
	double secs = elapsed(&r);
	if (r.progress)
		fputs("\r\033[K", stderr);
	int nothing = !r.added && !r.replaced && !r.removed;
	if (!quiet)
		fprintf(stderr,
			"carnet-index: %lu files in %.2f s: %lu added, %lu replaced, "
			"%llu removed, %lu unchanged, %lu rejected%s%s%s\n",
			r.seen, secs, r.added, r.replaced, (unsigned long long)r.removed,
			r.unchanged, r.rejected,
			r.rejected ? " (see: carnet-index rejects)" : "",
			r.failed ? "; stopped on failure, last batch not committed" : "",
			nothing && !r.failed ? "; the index did not change" : "");
	if (json) {
		json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:f, s:b}",
				      "files", (json_int_t)r.seen,
				      "added", (json_int_t)r.added,
				      "replaced", (json_int_t)r.replaced,
				      "removed", (json_int_t)r.removed,
				      "unchanged", (json_int_t)r.unchanged,
				      "rejected", (json_int_t)r.rejected,
				      "seconds", secs, "failed", r.failed);
		if (o) {
			json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(6));
			putchar('\n');
			json_decref(o);
		}
	}
	if (r.failed)
		return EXIT_FAILURE_;
	return r.rejected ? EXIT_REJECTS : EXIT_OK;
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
	if (!from_audience) {
		fputs("carnet-index: mask and unmask need --from professionals|patient|legal-representatives\n",
		      stderr);
		return EXIT_USAGE;
	}
	if (strcmp(from_audience, "professionals") == 0)
		audience = CARNET_AUDIENCE_PROFESSIONALS;
	else if (strcmp(from_audience, "patient") == 0)
		audience = CARNET_AUDIENCE_PATIENT;
	else if (strcmp(from_audience, "legal-representatives") == 0)
		audience = CARNET_AUDIENCE_LEGAL_REPRESENTATIVES;
	else {
		fprintf(stderr, "carnet-index: unknown audience '%s'\n", from_audience);
		return EXIT_USAGE;
	}
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

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "index", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "max-size", required_argument, NULL, 'M' },
		{ "from", required_argument, NULL, 'F' },
		{ "batch", required_argument, NULL, 'B' },
		{ "pdf-timeout", required_argument, NULL, 'T' },
		{ "doc-timeout", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *home = NULL;
	int json = 0, quiet = 0, c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': home = optarg; break;
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 'J': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1024) {
				fprintf(stderr, "carnet-index: --jobs needs a number from 1 to 1024\n");
				return EXIT_USAGE;
			}
			jobs = (unsigned)n;
			break;
		}
		case 'M':
			if (!(max_size = parse_size(optarg))) {
				fprintf(stderr, "carnet-index: --max-size needs a size such as 1048576, 512K or 64M\n");
				return EXIT_USAGE;
			}
			break;
		case 'T': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 86400) {
				fprintf(stderr, "carnet-index: --pdf-timeout needs seconds from 1 to 86400\n");
				return EXIT_USAGE;
			}
			pdf_timeout = (uint64_t)n;
			break;
		}
		case 'D': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 86400) {
				fprintf(stderr, "carnet-index: --doc-timeout needs seconds from 1 to 86400\n");
				return EXIT_USAGE;
			}
			doc_timeout = (uint64_t)n;
			break;
		}
		case 'F': from_audience = optarg; break;
		case 'B': {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000000) {
				fprintf(stderr, "carnet-index: --batch needs a number of files from 1 to 1000000\n");
				return EXIT_USAGE;
			}
			batch = (unsigned long)n;
			break;
		}
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (jobs == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		jobs = n > 0 ? (unsigned)n : 1;
	}
	const char *cmd = argv[optind++];
	/* getopt has moved every option before the command and its paths */
	int nargs = argc - optind;
	if (strcmp(cmd, "add") == 0)
		return cmd_add(home, json, quiet, nargs, argv + optind, MODE_ADD);
	if (strcmp(cmd, "sync") == 0)
		return cmd_add(home, json, quiet, nargs, argv + optind, MODE_SYNC);
	if (strcmp(cmd, "rebuild") == 0)
		return cmd_add(home, json, quiet, nargs, argv + optind, MODE_REBUILD);
	if (strcmp(cmd, "mask") == 0 || strcmp(cmd, "unmask") == 0) {
		if (nargs != 1) {
			fprintf(stderr, "carnet-index: %s needs one document ID\n", cmd);
			return EXIT_USAGE;
		}
		return cmd_mask(home, argv[optind], cmd[0] == 'm');
	}
	if (nargs > 0) {
		fprintf(stderr, "carnet-index: %s takes no arguments\n", cmd);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(home, json);
	if (strcmp(cmd, "rejects") == 0)
		return cmd_rejects(home, json);
	fprintf(stderr, "carnet-index: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
