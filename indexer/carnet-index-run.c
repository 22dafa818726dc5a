/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-index-run.c - add, sync and rebuild: walk the inputs, check the
 * source, index in batches, remove what a sync no longer sees (within
 * --max-remove), and say what happened. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "carnet-index.h"

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
	r->uncommitted = 0;
	if (carnet_writer_commit(r->w, &err) != CARNET_OK) {
		complain("commit failed: %s", err.message);
		r->failed = 1;
		return -1;
	}
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
	case CARNET_OUTCOME_OTHER_SHARD: r->other_shard++; break;
	case CARNET_OUTCOME_LEFT_SHARD: r->other_shard++; r->left_shard++; break;
	case CARNET_OUTCOME_REJECTED:
		r->rejected++;
		if (!r->quiet)
			fprintf(stderr, "%scarnet-index: rejected %s\n",
				r->progress ? "\r\033[K" : "", reason ? reason->message : path);
		break;
	}
	if (r->progress && r->seen % 50 == 0) {
		double s = elapsed(r);
		fprintf(stderr, "\r\033[K%lu files of %zu found so far, %.0f files/s", r->seen,
			r->inputs->total, s > 0 ? (double)r->seen / s : 0.0);
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
	case CARNET_OUTCOME_OTHER_SHARD:
		r->other_shard++;
		break;
	case CARNET_OUTCOME_LEFT_SHARD:
		r->other_shard++;
		r->left_shard++;
		printf("leave\t%s\t(another shard's patient now)\n", path);
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
	if (r->inputs->total == 0 && !cli.allow_empty) {
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
	if (carnet_writer_unseen(r->w, dir, cli.dry_run ? on_unseen : NULL, r, &removable,
				 &total, &err) != CARNET_OK) {
		complain("%s", err.message);
		return -1;
	}
	if (cli.allow_empty && r->inputs->total == 0)
		return 0; /* an empty source, said to be intended */
	int over = cli.max_remove_is_pct ? removable * 100 > cli.max_remove * total
				     : removable > cli.max_remove;
	if (over) {
		char limit[64];
		if (cli.max_remove_is_pct)
			snprintf(limit, sizeof limit, "%llu%% of the documents",
				 (unsigned long long)cli.max_remove);
		else
			snprintf(limit, sizeof limit, "%llu documents",
				 (unsigned long long)cli.max_remove);
		complain("%s: the sync would remove %llu of the %llu "
			"documents (%.1f%%), more than --max-remove allows (%s): stopped "
			"before removing anything; check that the source is complete, or "
			"allow it with --max-remove", dir, (unsigned long long)removable,
			(unsigned long long)total,
			total ? 100.0 * (double)removable / (double)total : 0.0, limit);
		return -1;
	}
	if (cli.dry_run)
		r->removed = removable;
	return 0;
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

void run_init(run *r, const char *home, int json, int quiet, int mode)
{
	memset(r, 0, sizeof *r);
	r->json = json;
	r->quiet = quiet;
	r->command = mode_names[mode];
	r->home = home;
	r->rejects_total = r->generation = -1;
	r->sync = mode == MODE_SYNC;
}

/* Open the writer (on a new generation for a rebuild) with the limits
 * the options give. EXIT_OK, or the exit code of the failure (said). */
static int open_writer(run *r, int mode)
{
	carnet_error err;
	if ((mode == MODE_REBUILD ? carnet_writer_open_rebuild(&r->w, r->home, &err)
				  : carnet_writer_open(&r->w, r->home, &err)) != CARNET_OK) {
		complain("%s", err.message);
		return EXIT_FAILURE_;
	}
	if (cli.shards && carnet_writer_set_shard(r->w, cli.shard, cli.shards, &err)) {
		complain("%s", err.message);
		carnet_writer_close(r->w);
		r->w = NULL;
		return EXIT_FAILURE_;
	}
	if ((cli.max_size && carnet_writer_set_limit(r->w, CARNET_LIMIT_INPUT_BYTES,
						     cli.max_size, &err)) ||
	    (cli.pdf_timeout && carnet_writer_set_limit(r->w, CARNET_LIMIT_PDF_SECONDS,
							cli.pdf_timeout, &err)) ||
	    (cli.doc_timeout && carnet_writer_set_limit(r->w, CARNET_LIMIT_DOC_MILLISECONDS,
							cli.doc_timeout * 1000, &err))) {
		carnet_writer_close(r->w);
		r->w = NULL;
		return usage_error("%s", err.message);
	}
	return EXIT_OK;
}

/* Index a batch of inputs and commit it, or for a dry run say what
 * indexing them would do. With several jobs, the batch is committed by
 * the next one's carnet_writer_add_files while its threads extract, or
 * at the end of the walk (walk_inputs). */
static void index_batch(run *r, char *const *paths, size_t n)
{
	carnet_error err;
	if (!cli.dry_run) {
		r->uncommitted = 0;
		if (carnet_writer_add_files(r->w, (const char *const *)paths, n, cli.jobs,
					    on_outcome, r, &err) != CARNET_OK) {
			complain("%s", err.message);
			r->failed = 1;
			return;
		}
		if (cli.jobs > 1)
			r->uncommitted = 1;
		else
			commit(r);
		return;
	}
	for (size_t i = 0; i < n && !r->failed; i++) {
		r->seen++;
		if (carnet_writer_preview_file(r->w, paths[i], on_preview, r, &err) != CARNET_OK) {
			fprintf(stderr, "carnet-index: %s\n", err.message);
			r->failed = 1;
		}
	}
}

/* A batch of the walk (carnet_walk.on_batch): the inputs are indexed as
 * the walk finds them, --batch at a time, so that a large source is never
 * held in memory. The writer is opened with the first batch: a sync of a
 * source found empty changes nothing. */
static int take_batch(char *const *paths, size_t n, void *payload)
{
	run *r = payload;
	if (!r->w && (r->open_rc = open_writer(r, r->mode)) != EXIT_OK)
		return 1;
	index_batch(r, paths, n);
	return r->failed;
}

/* Walk the inputs, indexing them batch by batch (take_batch); a sync or
 * a rebuild checks its source first (source_state, into walked), and
 * refuses one found empty (check_source). Then the writer is open, and
 * what could not be read is kept. 0, or -1 when the run stops (said, or
 * r->open_rc says why the writer did not open). */
static int walk_inputs(run *r, int argc, char **argv, int sync, struct stat *walked)
{
	carnet_error err;
	carnet_walk *in = r->inputs;
	int src_err = sync ? source_state(argv[0], walked) : 0;
	if (sync && src_err)
		return check_source(r, argv[0], walked, src_err);
	in->on_batch = take_batch;
	in->batch_payload = r;
	in->batch = cli.batch;
	for (int i = 0; i < argc && !r->failed && !in->stopped; i++) {
		if (carnet_walk__run(in, argv[i], on_skip, r, &err) != CARNET_OK) {
			complain("%s", err.message);
			r->failed = 1;
		}
	}
	if (!r->failed && !in->stopped && in->total == 0 && sync &&
	    check_source(r, argv[0], walked, 0) != 0)
		return -1;
	if (!r->failed)
		carnet_walk__flush(in);
	/* the last batch added (even when the walk failed after it) */
	if (r->uncommitted)
		commit(r);
	if (r->open_rc != EXIT_OK || r->failed)
		return -1;
	if (!r->w && (r->open_rc = open_writer(r, r->mode)) != EXIT_OK)
		return -1;
	/* what could not be read keeps its documents */
	for (size_t i = 0; i < in->nunreadable && !r->failed; i++)
		if (carnet_writer_keep(r->w, in->unreadable[i], &err) != CARNET_OK) {
			fprintf(stderr, "carnet-index: %s\n", err.message);
			r->failed = 1;
		}
	return 0;
}

/* After indexing: a rebuild is published; a sync removes what its source
 * dir no longer holds (check_removal first); then the last commit. */
static void finish(run *r, int mode, const char *dir, const struct stat *walked)
{
	carnet_error err;
	if (mode == MODE_REBUILD) {
		/* nothing to remove: the new generation holds only what was read */
		if (!r->failed && r->list_errors) {
			complain("%s could not be listed entirely: the rebuild is not published",
				 dir);
			r->failed = 1;
		}
		if (!r->failed && carnet_writer_publish(r->w, &err) != CARNET_OK) {
			complain("%s", err.message);
			r->failed = 1;
		}
	} else if (mode == MODE_SYNC && !r->failed && check_removal(r, dir, walked) != 0) {
		r->failed = 1;
	} else if (mode == MODE_SYNC && !r->failed && !cli.dry_run &&
		   carnet_writer_remove_unseen(r->w, dir, &r->removed, &err) != CARNET_OK) {
		complain("%s", err.message);
		r->failed = 1;
	}
	if (mode != MODE_ADD && r->list_errors && !r->quiet)
		fprintf(stderr, "carnet-index: %s could not be read entirely: the documents "
			"of what could not be read are kept\n", dir);
	if (!r->failed && mode != MODE_REBUILD && !cli.dry_run)
		commit(r); /* what remove_unseen changed */
	/* a first load, written document by document in parallel shards:
	 * rewritten compactly (a rebuild is, as it is published); what it
	 * holds is committed, so a compaction that fails changes nothing */
	if (!r->failed && mode != MODE_REBUILD && !cli.dry_run && r->added &&
	    carnet_writer_compact(r->w, CARNET_COMPACT_IF_FIRST, &err) != CARNET_OK &&
	    !r->quiet)
		fprintf(stderr, "carnet-index: the index was not compacted (%s); it holds "
			"every document and answers as before\n", err.message);
}

/* The run's summary on stderr; returns its exit code. */
static int summary(const run *r)
{
	double secs = elapsed(r);
	if (r->progress)
		fputs("\r\033[K", stderr);
	int nothing = !r->added && !r->replaced && !r->removed && !r->moved && !r->left_shard;
	char shard_note[96] = "";
	if (cli.shards && r->left_shard)
		snprintf(shard_note, sizeof shard_note,
			 ", %lu other shard (%lu of them left this shard)", r->other_shard,
			 r->left_shard);
	else if (cli.shards)
		snprintf(shard_note, sizeof shard_note, ", %lu other shard", r->other_shard);
	char new_note[96] = "";
	if ((r->rejected || r->new_rejects) && !cli.dry_run)
		snprintf(new_note, sizeof new_note, " (%llu new; see: carnet-index rejects)",
			 r->new_rejects);
	if (!r->quiet)
		fprintf(stderr,
			"carnet-index: %s%lu files in %.2f s: %lu added, %lu replaced, "
			"%lu moved, %llu removed, %lu unchanged%s, %lu rejected%s%s%s\n",
			cli.dry_run ? "dry run, nothing changed: " : "",
			r->seen, secs, r->added, r->replaced, r->moved,
			(unsigned long long)r->removed, r->unchanged, shard_note, r->rejected, new_note,
			r->failed ? "; stopped on failure, last batch not committed" : "",
			nothing && !r->failed ? "; the index did not change" : "");
	return r->failed ? EXIT_FAILURE_ : r->new_rejects ? EXIT_REJECTS : EXIT_OK;
}

int cmd_add(const char *home, int json, int quiet, int argc, char **argv, int mode)
{
	int sync = mode != MODE_ADD;
	run r;
	run_init(&r, home, json, quiet, mode);
	if (argc < 1 || (sync && argc != 1))
		return stopped(&r, usage_error(sync ? "sync and rebuild need one SOURCE_DIR"
						    : "add needs at least one PATH"));
	if (cli.dry_run && mode == MODE_REBUILD)
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
	struct stat walked;
	r.mode = mode;
	if (walk_inputs(&r, argc, argv, sync, &walked) != 0)
		rc = r.open_rc != EXIT_OK ? r.open_rc : EXIT_FAILURE_;
	if (rc == EXIT_OK || (r.w && r.failed)) {
		finish(&r, mode, argv[0], &walked);
		carnet_writer_close(r.w);
		rc = EXIT_OK; /* the summary says how it ended */
	} else {
		carnet_writer_close(r.w);
	}
	carnet_walk__free(&in);
	if (rc == EXIT_OK)
		tally_rejects(&r, mode);
	rejects_free(r.before);
	r.before = NULL;
	if (rc != EXIT_OK)
		return stopped(&r, rc);
	rc = summary(&r);
	if (json)
		record(&r, rc);
	return rc;
}
