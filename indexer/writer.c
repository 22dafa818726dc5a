/* SPDX-License-Identifier: GPL-2.0-or-later */
/* writer.c - the index writer (public carnet_writer_*): opening it on a
 * home (lock, recovery, rebuild generations), its limits, committing the
 * index and the registry together, publishing, closing; and the masks set
 * after upload. Adding inputs is writer_add.c, syncing writer_sync.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access_log.h"
#include "policy.h"
#include "writer.h"

/* Does the registry know document id (a term "Q<id>")? If not, the
 * document was committed to Xapian by a run that died before its registry
 * commit, from a file the registry never recorded: remove it. */
static int drop_orphan(const char *term, size_t len, void *payload)
{
	carnet_writer *w = payload;
	carnet_error *err = w->scratch_err;
	char id[CARNET_ID_MAX + 2];
	if (len < 2 || len - 1 > CARNET_ID_MAX)
		return 0;
	memcpy(id, term + 1, len - 1);
	id[len - 1] = '\0';
	int found;
	int rc = carnet_registry__doc_exists(w->reg, id, &found, NULL, err);
	if (rc == CARNET_OK && !found)
		rc = carnet_xap_writer_delete(w->xw, term, err);
	return rc;
}

/* After a run that did not finish (the registry's "clean" mark is unset),
 * make the index agree with the registry again. The reverse case cannot
 * happen: the registry only commits after Xapian. */
static int recover(carnet_writer *w, carnet_error *err)
{
	char clean[8];
	int rc = carnet_registry__meta_get(w->reg, "clean", clean, sizeof clean, err);
	if (rc)
		return rc;
	if (strcmp(clean, "0") == 0) {
		w->scratch_err = err;
		if ((rc = carnet_xap_writer_each_term(w->xw, CARNET_PREFIX_ID, drop_orphan, w, err)) ||
		    (rc = carnet_xap_writer_commit(w->xw, err)))
			return rc;
	}
	/* until close, a crash leaves this mark for the next writer to see */
	if ((rc = carnet_registry__begin(w->reg, err)) ||
	    (rc = carnet_registry__meta_set(w->reg, "clean", "0", err)) ||
	    (rc = carnet_registry__retry_conflicts(w->reg, err)))
		return rc;
	return carnet_registry__commit(w->reg, err);
}

/* The codes by which this index's content vectors name the clinical
 * profiles: the ones it has, and new ones for profiles of this writer's
 * tables it lacks (kept at the next commit). */
static int profile_codes(carnet_writer *w, carnet_error *err)
{
	char *stored;
	int rc = carnet_xap_writer_get_metadata(w->xw, CARNET_PROFILES_KEY, &stored, err);
	if (rc)
		return rc;
	carnet_buf updated = CARNET_BUF_INIT;
	if (carnet_rank__codes(w->rank, stored, &updated) != 0)
		rc = carnet_error__nomem(err, "reading the clinical profiles");
	else if (strcmp(stored, updated.data ? updated.data : "") != 0)
		rc = carnet_xap_writer_set_metadata(w->xw, CARNET_PROFILES_KEY,
						    updated.data ? updated.data : "", err);
	carnet_buf__free(&updated);
	free(stored);
	return rc;
}

/* In a shared home, give the generation's files (new Xapian and sqlite
 * files, made with the process's umask) the modes viewers need (home.h). */
static int share_generation(carnet_writer *w, carnet_error *err)
{
	char gen[CARNET_PATH_MAX];
	snprintf(gen, sizeof gen, "%s", w->registry_path);
	char *slash = strrchr(gen, '/');
	if (slash)
		*slash = '\0';
	return carnet_home__apply_modes(w->home, gen, err);
}

/* Open the writer's Xapian database: a new one is written in one shard
 * per core, in parallel. */
static int open_xapian(carnet_writer *w, carnet_error *err)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned shards = cores < 1 ? 1 : cores > CARNET_SHARDS_MAX ? CARNET_SHARDS_MAX : (unsigned)cores;
	return carnet_xap_writer_open_shards(&w->xw, w->xapian_path, shards, err);
}

/* Open the Xapian database and the registry of generation directory gen. */

static int open_generation(carnet_writer *w, const char *gen, carnet_error *err)
{
	char db[CARNET_PATH_MAX], reg[CARNET_PATH_MAX];
	int rc;
	if ((rc = carnet_home__path(db, sizeof db, gen, CARNET_XAPIAN_DIR, err)) ||
	    (rc = carnet_home__path(reg, sizeof reg, gen, CARNET_REGISTRY_FILE, err)))
		return rc;
	snprintf(w->registry_path, sizeof w->registry_path, "%s", reg);
	snprintf(w->xapian_path, sizeof w->xapian_path, "%s", db);
	uint64_t docs = 0;
	if ((rc = open_xapian(w, err)) ||
	    (rc = carnet_registry__open(&w->reg, reg, 1, err)) ||
	    (rc = profile_codes(w, err)) ||
	    (rc = recover(w, err)) ||
	    (rc = carnet_registry__count(w->reg, CARNET_COUNT_DOCUMENTS, &docs, err)))
		return rc;
	w->was_empty = docs == 0;
	return share_generation(w, err);
}

int carnet_writer_compact(carnet_writer *w, unsigned flags, carnet_error *err)
{
	if ((flags & CARNET_COMPACT_IF_FIRST) && !w->was_empty)
		return CARNET_OK;
	int rc = carnet_writer_commit(w, err);
	if (rc)
		return rc;
	/* no writer may hold the database: the extraction threads end too
	 * (the next add starts them again) */
	carnet_writer__pool_free(w->pool);
	w->pool = NULL;
	carnet_xap_writer_free(w->xw);
	w->xw = NULL;
#ifdef CARNET_TESTING
	/* Test hook (test builds only): CARNET_CRASH_AT=compact-fails makes the
	 * compaction fail as a disk without room for the copy would. */
	const char *at = getenv("CARNET_CRASH_AT");
	if (at && strcmp(at, "compact-fails") == 0)
		rc = carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_OS, ENOSPC,
				       "compaction made to fail (CARNET_CRASH_AT)");
	else
#endif
		rc = carnet_xap_compact(w->xapian_path, err);
	carnet_error again;
	int rc2 = open_xapian(w, rc ? &again : err);
	if (rc == CARNET_OK && rc2 == CARNET_OK)
		rc = share_generation(w, err);
	w->was_empty = 0;
	return rc ? rc : rc2;
}

/* The access log exists in every home the writer has opened: created with
 * the home (or at the first run on a home from before), migrated when its
 * schema is older. Viewers never create it. */
static int ensure_access_log(const char *home, carnet_error *err)
{
	char path[CARNET_PATH_MAX];
	int rc = carnet_home__path(path, sizeof path, home, CARNET_ACCESS_LOG_FILE, err);
	return rc ? rc : carnet_alog__ensure(path, err);
}

/* Common start of a writer: create the home if needed, take its lock
 * (never waiting), and remove what an unfinished rebuild left. */
static int start(carnet_writer **out, const char *home, carnet_error *err)
{
	*out = NULL;
	carnet_writer *w = calloc(1, sizeof *w);
	if (!w)
		return carnet_error__nomem(err, "opening writer");
	w->lock_fd = -1;
	w->added_changes = CARNET_WRITER_NOT_ADDED;
	snprintf(w->home, sizeof w->home, "%s", home);
	w->limits.input_bytes = CARNET_DEFAULT_INPUT_BYTES;
	w->limits.pdf_seconds = CARNET_DEFAULT_PDF_SECONDS;
	w->limits.pdf_memory_bytes = CARNET_DEFAULT_PDF_MEMORY_BYTES;
	w->limits.doc_ms = CARNET_DEFAULT_DOC_MILLISECONDS;
	int rc;
	const carnet_xkey *keys;
	size_t nkeys;
	if ((rc = carnet_home__create(home, err)) ||
	    (rc = carnet_home__lock(&w->lock_fd, home, err)) ||
	    (rc = ensure_access_log(home, err)) ||
	    (rc = carnet_home__prune(home, NULL, 1, err)) ||
	    (rc = carnet_rank__load(&w->rank, home, err)) ||
	    (rc = carnet_rank__keys(w->rank, &keys, &nkeys, err))) {
		carnet_writer_close(w);
		return rc;
	}
	*out = w;
	return CARNET_OK;
}

/* Open generation directory gen for a rebuild: a new one beside the live
 * one, with the masks set after upload carried over. */
static int open_rebuild(carnet_writer *w, const char *home, carnet_error *err)
{
	char live[CARNET_PATH_MAX], live_reg[CARNET_PATH_MAX], gen[CARNET_PATH_MAX];
	int rc;
	if ((rc = carnet_home__current(live, sizeof live, home, err)) ||
	    (rc = carnet_home__path(live_reg, sizeof live_reg, live, CARNET_REGISTRY_FILE, err)) ||
	    (rc = carnet_home__new_generation(gen, sizeof gen, w->new_gen, sizeof w->new_gen,
					      home, err)) ||
	    (rc = open_generation(w, gen, err)))
		return rc;
	const char *slash = strrchr(live, '/');
	snprintf(w->old_gen, sizeof w->old_gen, "%s", slash ? slash + 1 : live);
	if (access(live_reg, F_OK) == 0)
		rc = carnet_registry__copy_visibility(w->reg, live_reg, err);
	return rc;
}

/* A writer on the live generation, or on a new one for a rebuild. */
static int open_writer(carnet_writer **out, const char *home, int rebuild,
		       carnet_error *err)
{
	*out = NULL;
	home = carnet_home__resolve(home);
	carnet_writer *w;
	int rc = start(&w, home, err);
	if (rc)
		return rc;
	char gen[CARNET_PATH_MAX];
	if (rebuild)
		rc = open_rebuild(w, home, err);
	else if ((rc = carnet_home__current(gen, sizeof gen, home, err)) == CARNET_OK)
		rc = open_generation(w, gen, err);
	if (rc) {
		carnet_writer_close(w);
		return rc;
	}
	*out = w;
	return CARNET_OK;
}

int carnet_writer_open(carnet_writer **out, const char *home, carnet_error *err)
{
	return open_writer(out, home, 0, err);
}

int carnet_writer_open_rebuild(carnet_writer **out, const char *home,
			       carnet_error *err)
{
	return open_writer(out, home, 1, err);
}

int carnet_writer_publish(carnet_writer *w, carnet_error *err)
{
	if (!w->new_gen[0])
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "this writer is not a rebuild");
	int rc;
	if ((rc = carnet_writer_commit(w, err)))
		return rc;
	/* compacted if it can be: what it holds is committed, so a rebuild
	 * that cannot be (no room for the copy) is published as written */
	carnet_error why;
	int compacted = carnet_writer_compact(w, 0, &why);
	if ((rc = carnet_home__publish(w->home, w->new_gen, err)))
		return rc;
	/* readers move to the new generation at their next search; the one
	 * they may still have open stays until the next rebuild */
	rc = carnet_home__prune(w->home, w->old_gen, 0, err);
	w->new_gen[0] = '\0';
	if (rc == CARNET_OK && !w->xw) { /* published, but cannot write on */
		if (err)
			*err = why;
		rc = compacted;
	}
	return rc;
}

int carnet_writer_set_shard(carnet_writer *w, unsigned index, unsigned count,
			    carnet_error *err)
{
	if (count < 1 || count > CARNET_SHARD_COUNT_MAX || index >= count)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "shard %u of %u: the shard must be 0 to the count "
					 "minus 1, the count 1 to %d", index, count,
					 CARNET_SHARD_COUNT_MAX);
	char want[32], have[32];
	snprintf(want, sizeof want, "%u/%u", index, count);
	uint64_t docs = 0;
	int rc = carnet_registry__meta_get(w->reg, "shard", have, sizeof have, err);
	if (rc == CARNET_OK && !have[0])
		rc = carnet_registry__count(w->reg, CARNET_COUNT_DOCUMENTS, &docs, err);
	if (rc)
		return rc;
	/* what an index holds was chosen by its shard: another one would
	 * keep documents that are no longer its own (a rebuild starts empty) */
	if (!w->new_gen[0] && (have[0] ? strcmp(have, want) != 0 : docs > 0))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "this index holds %s%s, not shard %s: a shard is "
					 "changed by a rebuild", have[0] ? "shard " : "",
					 have[0] ? have : "every patient", want);
	if (strcmp(have, want) != 0 &&
	    ((rc = carnet_registry__begin(w->reg, err)) ||
	     (rc = carnet_registry__meta_set(w->reg, "shard", want, err))))
		return rc;
	w->shard.index = index;
	w->shard.count = count;
	return CARNET_OK;
}

int carnet_writer_set_limit(carnet_writer *w, carnet_limit which,
			    uint64_t value, carnet_error *err)
{
	if (value == 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET,
					 0, "a limit must be greater than 0");
	switch (which) {
	case CARNET_LIMIT_INPUT_BYTES:
		w->limits.input_bytes = value;
		return CARNET_OK;
	case CARNET_LIMIT_PDF_SECONDS:
		w->limits.pdf_seconds = value > 86400 ? 86400 : (unsigned)value;
		return CARNET_OK;
	case CARNET_LIMIT_PDF_MEMORY_BYTES:
		w->limits.pdf_memory_bytes = value;
		return CARNET_OK;
	case CARNET_LIMIT_DOC_MILLISECONDS:
		w->limits.doc_ms = value > 86400000 ? 86400000 : value;
		return CARNET_OK;
	}
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "unknown limit %d", (int)which);
}

void carnet_writer_close(carnet_writer *w)
{
	if (!w)
		return;
	/* the extraction threads first: they read the registry */
	carnet_writer__pool_free(w->pool);
	w->pool = NULL;
	/* a writer closed normally leaves index and registry in agreement
	 * (uncommitted changes are discarded from both) */
	if (w->reg && w->xw && !w->disagree) {
		carnet_registry__rollback(w->reg);
		if (carnet_registry__begin(w->reg, NULL) == CARNET_OK &&
		    carnet_registry__meta_set(w->reg, "clean", "1", NULL) == CARNET_OK)
			carnet_registry__commit(w->reg, NULL);
		else
			carnet_registry__rollback(w->reg);
	}
	carnet_xap_writer_free(w->xw);
	carnet_registry__close(w->reg);
	carnet_home__unlock(w->lock_fd);
	/* the PDF extractor of this thread (carnet_writer_add_file and
	 * add_files with one job extract here); extraction threads stop
	 * theirs as they end */
	carnet_pdf__stop_extractor();
	carnet_rank__free(w->rank);
	for (size_t i = 0; i < w->nkeep; i++)
		free(w->keep[i]);
	free(w->keep);
	free(w);
}

#ifdef CARNET_TESTING
/* Test hook (test builds only): CARNET_CRASH_AT=index-commit-N-fails makes
 * the Nth commit of the process fail as an index that cannot write would,
 * before anything of it is written. */
static int index_commit_fails(carnet_error *err)
{
	static int commits;
	int n;
	const char *at = getenv("CARNET_CRASH_AT");
	commits++;
	if (!at || sscanf(at, "index-commit-%d-fails", &n) != 1 || n != commits)
		return CARNET_OK;
	return carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_XAPIAN, 0,
				 "index commit %d made to fail (CARNET_CRASH_AT)", n);
}
#endif

int carnet_writer_commit(carnet_writer *w, carnet_error *err)
{
	/* Xapian first: if we crash before the registry commits, the next run
	 * sees the sources as new and indexes them again (replacing by id). */
	int rc = CARNET_OK;
#ifdef CARNET_TESTING
	rc = index_commit_fails(err);
#endif
	if (rc == CARNET_OK)
		rc = carnet_xap_writer_commit(w->xw, err);
	if (rc) {
		/* some shards may have committed: the next writer's recovery
		 * removes what the registry does not know */
		w->disagree = 1;
		carnet_registry__rollback(w->reg);
		return rc;
	}
#ifdef CARNET_TESTING
	/* Crash point for the crash-consistency tests: the process dies in the
	 * one window where the index is ahead of the registry. Only in test
	 * builds (build/testing/), never in what make install installs. */
	const char *crash = getenv("CARNET_CRASH_AT");
	if (crash && strcmp(crash, "between-index-and-registry-commits") == 0)
		_exit(99);
#endif
	rc = carnet_registry__commit(w->reg, err);
	if (rc)
		w->disagree = 1; /* left for the next writer's recovery */
	return rc ? rc : share_generation(w, err);
}

int carnet_writer_set_visibility(carnet_writer *w, const char *id,
				 carnet_audience audience, int hidden,
				 carnet_error *err)
{
	const char *code = carnet_policy__audience_code(audience);
	if (!code)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "unknown audience %d", (int)audience);
	if (!carnet_doc__valid_id(id))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "invalid document id");
	int found;
	char conf[256];
	int rc = carnet_registry__doc_exists(w->reg, id, &found, conf, err);
	if (rc)
		return rc;
	if (!found)
		return carnet_error__set(err, CARNET_E_NOTFOUND, CARNET_ORIGIN_CARNET, 0,
					 "no document with id %s", id);
	char id_term[CARNET_ID_MAX + 8], conf_term[64];
	snprintf(id_term, sizeof id_term, CARNET_PREFIX_ID "%s", id);
	snprintf(conf_term, sizeof conf_term, CARNET_PREFIX_CONF "%s", code);
	carnet_doc d;
	carnet_doc__init(&d);
	if (carnet_doc__sets(&d.id, id) != 0 ||
	    carnet_doc__sets(&d.confidentiality, conf[0] ? conf : NULL) != 0) {
		carnet_doc__clear(&d);
		return carnet_error__nomem(err, "setting a mask");
	}
	if ((rc = carnet_registry__begin(w->reg, err)) == CARNET_OK &&
	    (rc = carnet_registry__visibility_set(w->reg, id, code, hidden, err)) == CARNET_OK &&
	    (rc = carnet_registry__visibility_apply(w->reg, &d, err)) == CARNET_OK &&
	    (rc = carnet_registry__doc_set_confidentiality(w->reg, id, d.confidentiality, err)) == CARNET_OK)
		rc = carnet_xap_writer_set_term(w->xw, id_term, conf_term, hidden, err);
	carnet_doc__clear(&d);
	return rc;
}
