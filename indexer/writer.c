/* SPDX-License-Identifier: GPL-2.0-or-later */
/* writer.c - the index writer (public carnet_writer_*): reads inputs through
 * the readers, records them in the registry and indexes them in Xapian,
 * committing both together. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access_log.h"
#include "carnet.h"
#include "codes.h"
#include "home.h"
#include "reader.h"
#include "prepare.h"
#include "registry.h"
#include "schema.h"
#include "xapian_shim.h"

struct carnet_writer {
	carnet_registry *reg;
	carnet_xwriter *xw;
	carnet_limits limits;
	carnet_ranking *rank;     /* the ranking tables: content keywords */
	int lock_fd;              /* the home's writer lock */
	char new_gen[CARNET_PATH_MAX]; /* rebuild: the generation being written */
	carnet_error *scratch_err;     /* for callbacks */
	int disagree;                  /* Xapian committed, the registry did not */
	char registry_path[CARNET_PATH_MAX]; /* for the extraction threads */
	char old_gen[CARNET_PATH_MAX]; /* rebuild: the one live when it began */
	char home[CARNET_PATH_MAX];
	char **keep;                   /* carnet_writer_keep: never removed */
	size_t nkeep;
};

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

/* Open the Xapian database and the registry of generation directory gen. */
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
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				       "out of memory");
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

static int open_generation(carnet_writer *w, const char *gen, carnet_error *err)
{
	char db[CARNET_PATH_MAX], reg[CARNET_PATH_MAX];
	int rc;
	if ((rc = carnet_home__path(db, sizeof db, gen, CARNET_XAPIAN_DIR, err)) ||
	    (rc = carnet_home__path(reg, sizeof reg, gen, CARNET_REGISTRY_FILE, err)))
		return rc;
	snprintf(w->registry_path, sizeof w->registry_path, "%s", reg);
	/* a new index is written in one shard per core, in parallel */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned shards = cores < 1 ? 1 : cores > 8 ? 8 : (unsigned)cores;
	if ((rc = carnet_xap_writer_open_shards(&w->xw, db, shards, err)) ||
	    (rc = carnet_registry__open(&w->reg, reg, 1, err)) ||
	    (rc = profile_codes(w, err)) ||
	    (rc = recover(w, err)))
		return rc;
	return share_generation(w, err);
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
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					 0, "out of memory opening writer");
	w->lock_fd = -1;
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
	if ((rc = carnet_writer_commit(w, err)) ||
	    (rc = carnet_home__publish(w->home, w->new_gen, err)))
		return rc;
	/* readers move to the new generation at their next search; the one
	 * they may still have open stays until the next rebuild */
	rc = carnet_home__prune(w->home, w->old_gen, 0, err);
	w->new_gen[0] = '\0';
	return rc;
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
	carnet_rank__free(w->rank);
	for (size_t i = 0; i < w->nkeep; i++)
		free(w->keep[i]);
	free(w->keep);
	free(w);
}

int carnet_writer_commit(carnet_writer *w, carnet_error *err)
{
	/* Xapian first: if we crash before the registry commits, the next run
	 * sees the sources as new and indexes them again (replacing by id). */
	int rc = carnet_xap_writer_commit(w->xw, err);
	if (rc) {
		/* some shards may have committed: the next writer's recovery
		 * removes what the registry does not know */
		w->disagree = 1;
		carnet_registry__rollback(w->reg);
		return rc;
	}
	/* Crash point for the crash-consistency tests: the process dies in the
	 * one window where the index is ahead of the registry. Only an
	 * environment variable set on purpose reaches it. */
	const char *crash = getenv("CARNET_CRASH_AT");
	if (crash && strcmp(crash, "between-index-and-registry-commits") == 0)
		_exit(99);
	rc = carnet_registry__commit(w->reg, err);
	if (rc)
		w->disagree = 1; /* left for the next writer's recovery */
	return rc ? rc : share_generation(w, err);
}

/* Record a rejected source and describe it in err. */
static int record_reject(carnet_writer *w, const char *source,
			 const char *hash, carnet_error *reason,
			 carnet_outcome *outcome_out, carnet_error *err)
{
	if (outcome_out)
		*outcome_out = CARNET_OUTCOME_REJECTED;
	int rc;
	if ((rc = carnet_registry__begin(w->reg, err)) ||
	    (rc = carnet_registry__source_set(w->reg, source, hash ? hash : "",
					      CARNET_SOURCE_REJECTED,
					      reason->message, err)))
		return rc;
	if (err && err != reason)
		*err = *reason;
	if (err)
		err->origin = CARNET_ORIGIN_INPUT;
	return CARNET_OK;
}

/* Versions of a set as the registry knows them, to find the newest. */
typedef struct set_scan {
	char best_id[CARNET_ID_MAX + 1];
	int best_version;
	char best_date[16];
	char (*ids)[CARNET_ID_MAX + 1];
	size_t count, cap;
} set_scan;

/* Is (version, date, id) newer than the best so far? */
static int newer(const set_scan *s, int version, const char *date,
		 const char *id)
{
	if (!s->best_id[0] || version != s->best_version)
		return !s->best_id[0] || version > s->best_version;
	int c = strcmp(date, s->best_date);
	return c != 0 ? c > 0 : strcmp(id, s->best_id) > 0;
}

static int scan_set(const char *id, const char *set_id, int version,
		    const char *date, void *payload)
{
	(void)set_id;
	set_scan *s = payload;
	if (s->count == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		void *p = realloc(s->ids, cap * sizeof *s->ids);
		if (!p)
			return CARNET_E_NOMEM;
		s->ids = p;
		s->cap = cap;
	}
	snprintf(s->ids[s->count++], sizeof *s->ids, "%s", id);
	if (newer(s, version, date, id)) {
		snprintf(s->best_id, sizeof s->best_id, "%s", id);
		snprintf(s->best_date, sizeof s->best_date, "%s", date);
		s->best_version = version;
	}
	return 0;
}

/* Make the newest version of patient's set_id, and only it, carry the
 * patient's latest term. Call after the registry holds the set's current
 * versions. If fresh is not NULL, it is the prepared document of version
 * fresh_id, not yet in the index: its term is set there, which spares
 * rewriting it once put. */
static int mark_latest(carnet_writer *w, const char *patient, const char *set_id,
		       const char *fresh_id, carnet_xprepared *fresh, carnet_error *err)
{
	set_scan s;
	memset(&s, 0, sizeof s);
	char latest_term[CARNET_ID_MAX + 8];
	snprintf(latest_term, sizeof latest_term, CARNET_PREFIX_LATEST "%s", patient);
	int rc = carnet_registry__docs_of_set(w->reg, patient, set_id, scan_set, &s, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__set(err, rc, CARNET_ORIGIN_CARNET, 0,
				  "out of memory scanning versions");
	for (size_t i = 0; rc == CARNET_OK && i < s.count; i++) {
		int latest = strcmp(s.ids[i], s.best_id) == 0;
		if (fresh && strcmp(s.ids[i], fresh_id) == 0) {
			rc = carnet_xap_prepared_set_term(fresh, latest_term, latest, err);
			continue;
		}
		char term[CARNET_ID_MAX + 8];
		snprintf(term, sizeof term, CARNET_PREFIX_ID "%s", s.ids[i]);
		rc = carnet_xap_writer_set_term(w->xw, term, latest_term, latest, err);
		if (rc == CARNET_E_NOTFOUND) /* registry ahead of the index */
			rc = CARNET_OK;
	}
	free(s.ids);
	return rc;
}

/* The (id, set id) pairs a source produced before. */
typedef struct prior_docs {
	char (*ids)[2][CARNET_ID_MAX + 1];
	size_t count, cap;
} prior_docs;

static int collect_prior(const char *id, const char *set_id, int version,
			 const char *date, void *payload)
{
	(void)version;
	(void)date;
	prior_docs *pd = payload;
	if (pd->count == pd->cap) {
		size_t cap = pd->cap ? pd->cap * 2 : 4;
		void *n = realloc(pd->ids, cap * sizeof *pd->ids);
		if (!n)
			return CARNET_E_NOMEM;
		pd->ids = n;
		pd->cap = cap;
	}
	snprintf(pd->ids[pd->count][0], CARNET_ID_MAX + 1, "%s", id);
	snprintf(pd->ids[pd->count][1], CARNET_ID_MAX + 1, "%s", set_id);
	pd->count++;
	return 0;
}

/* Remove the documents source produced before and that are not among
 * docs[0..count). */
static int drop_stale(carnet_writer *w, const char *source, const carnet_doc *docs,
		      size_t count, carnet_error *err)
{
	prior_docs pd = { NULL, 0, 0 };
	int rc = carnet_registry__docs_of_source(w->reg, source, collect_prior,
						 &pd, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__set(err, rc, CARNET_ORIGIN_CARNET, 0, "out of memory");
	for (size_t i = 0; rc == CARNET_OK && i < pd.count; i++) {
		int kept = 0;
		for (size_t j = 0; j < count && !kept; j++)
			kept = strcmp(docs[j].id, pd.ids[i][0]) == 0;
		if (kept)
			continue;
		char term[CARNET_ID_MAX + 8], patient[CARNET_ID_MAX + 1], set[CARNET_ID_MAX + 1];
		snprintf(term, sizeof term, CARNET_PREFIX_ID "%s", pd.ids[i][0]);
		if ((rc = carnet_registry__doc_owner(w->reg, pd.ids[i][0], patient, set, NULL, 0,
						     err)) == CARNET_OK &&
		    (rc = carnet_xap_writer_delete(w->xw, term, err)) == CARNET_OK &&
		    (rc = carnet_registry__doc_delete(w->reg, pd.ids[i][0], err)) == CARNET_OK)
			rc = mark_latest(w, patient, set, NULL, NULL, err);
	}
	free(pd.ids);
	return rc;
}

/* The source other than job's that document i is indexed from, into
 * other ("" if none), and whether that path is gone from the disk (a
 * path that cannot be checked, EACCES or EIO, is not gone). */
static int other_owner(carnet_writer *w, const carnet_prepared *job, size_t i,
		       char *other, size_t size, int *gone, carnet_error *err)
{
	*gone = 0;
	int rc = carnet_registry__doc_source(w->reg, job->docs[i].id, other, size, err);
	if (rc)
		return rc;
	if (strcmp(other, job->source) == 0) {
		other[0] = '\0';
		return CARNET_OK;
	}
	struct stat st;
	if (other[0] && lstat(other, &st) != 0)
		*gone = errno == ENOENT || errno == ENOTDIR;
	return CARNET_OK;
}

static void conflict(carnet_prepared *job, size_t i, const char *other)
{
	carnet_error__set(&job->reason, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
			  "%s: document id %.128s is also in %s, which is indexed: "
			  "two files hold the same document; the one in %s is kept",
			  job->source, job->docs[i].id, other, other);
}

/* Fill job's reason ("SOURCE: " then the message); returns CARNET_OK (the
 * refusal is the input's, not a failure). */
static int clash(carnet_prepared *job, const char *fmt, ...) CARNET_PRINTF(2, 3);
static int clash(carnet_prepared *job, const char *fmt, ...)
{
	char why[CARNET_ERROR_MESSAGE_SIZE];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	carnet_error__set(&job->reason, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0, "%s: %s",
			  job->source, why);
	return CARNET_OK;
}

/* Refuse job (its reason filled, job->reason.code set) when one of its
 * documents would join another patient's record: a set id that another
 * patient's documents (from other files, or this one) carry, or a
 * replaced document of another patient. Returns a registry failure. */
static int check_sets(carnet_writer *w, carnet_prepared *job, carnet_error *err)
{
	char other_id[CARNET_ID_MAX + 1], other_patient[CARNET_ID_MAX + 1];
	char other_set[CARNET_ID_MAX + 1];
	int rc;
	carnet_error__clear(&job->reason);
	for (size_t i = 0; i < job->count; i++) {
		const carnet_doc *d = &job->docs[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(job->docs[j].set_id, d->set_id) == 0 &&
			    strcmp(job->docs[j].patient_id, d->patient_id) != 0)
				return clash(job, "documents %s (patient %s) and %s (patient %s) share set id %s: a set belongs to one patient's record",
					     job->docs[j].id, job->docs[j].patient_id, d->id,
					     d->patient_id, d->set_id);
		if ((rc = carnet_registry__set_clash(w->reg, d->patient_id, d->set_id, job->source,
						     other_id, other_patient, err)))
			return rc;
		if (other_id[0])
			return clash(job, "document %s of patient %s has set id %s, which is the set of document %s of another patient (%s): a set belongs to one patient's record",
				     d->id, d->patient_id, d->set_id, other_id, other_patient);
		if (!d->replaces)
			continue;
		char src[PATH_MAX];
		if ((rc = carnet_registry__doc_owner(w->reg, d->replaces, other_patient, other_set,
						     src, sizeof src, err)))
			return rc;
		if (other_patient[0] && strcmp(other_patient, d->patient_id) != 0 &&
		    strcmp(src, job->source) != 0)
			return clash(job, "document %s of patient %s replaces document %.128s, which belongs to another patient (%s)",
				     d->id, d->patient_id, d->replaces, other_patient);
	}
	return CARNET_OK;
}

/* Apply a prepared input to the index and the registry (writer thread). */
static int apply(carnet_writer *w, carnet_prepared *job,
		 carnet_outcome *outcome_out, carnet_error *err)
{
	if (outcome_out)
		*outcome_out = CARNET_OUTCOME_REJECTED;
	int rc;
	if (job->kind == CARNET_PREP_FATAL) {
		if (err)
			*err = job->reason;
		return job->reason.code ? job->reason.code : CARNET_E_INTERNAL;
	}
	if (job->source[0] && (rc = carnet_registry__seen(w->reg, job->source, err)))
		return rc;
	switch (job->kind) {
	case CARNET_PREP_UNCHANGED:
		if (outcome_out)
			*outcome_out = CARNET_OUTCOME_UNCHANGED;
		return CARNET_OK;
	case CARNET_PREP_REJECTED_BEFORE:
		if (err)
			*err = job->reason;
		return CARNET_OK;
	case CARNET_PREP_REJECT:
		/* a file that could not be read now (vanished, EIO, EACCES: the
		 * system said so) keeps what it held: remove_unseen leaves it */
		if (job->reason.origin == CARNET_ORIGIN_OS &&
		    (rc = carnet_writer_keep(w, job->source[0] ? job->source : job->path, err)))
			return rc;
		return record_reject(w, job->source[0] ? job->source : job->path,
				     job->hash[0] ? job->hash : NULL, &job->reason,
				     outcome_out, err);
	default:
		break;
	}
	/* a document id already read from another file: a move when that
	 * file is gone, else a conflict (the input is refused rather than
	 * taking the other file's document) */
	char other[PATH_MAX];
	int moved = 0;
	for (size_t i = 0; i < job->count; i++) {
		int gone;
		if ((rc = other_owner(w, job, i, other, sizeof other, &gone, err)))
			return rc;
		if (other[0] && !gone) {
			conflict(job, i, other);
			/* no hash: read again at every sync, until one file goes */
			return record_reject(w, job->source, "", &job->reason,
					     outcome_out, err);
		}
		moved |= other[0] != '\0';
	}
	if ((rc = carnet_registry__begin(w->reg, err)))
		return rc;
	/* a move: the documents take their new path, keeping their ids */
	for (size_t i = 0; moved && i < job->count; i++) {
		int gone;
		if ((rc = other_owner(w, job, i, other, sizeof other, &gone, err)) ||
		    (other[0] && (rc = carnet_registry__source_move(w->reg, other, job->source,
								    err))))
			return rc;
	}
	/* a set, and what a document replaces, belong to one patient's record:
	 * another patient's set or document is a clash, never joined */
	if ((rc = check_sets(w, job, err)) != CARNET_OK)
		return rc;
	if (job->reason.code)
		return record_reject(w, job->source, job->hash, &job->reason, outcome_out, err);
	/* index: drop what the source no longer yields, then put */
	if ((rc = drop_stale(w, job->source, job->docs, job->count, err)))
		return rc;
	for (size_t i = 0; i < job->count; i++) {
		char id_term[CARNET_ID_MAX + 8];
		snprintf(id_term, sizeof id_term, CARNET_PREFIX_ID "%s", job->docs[i].id);
		carnet_xprepared *x = job->xdocs[i];
		/* the record and set a re-read document leaves */
		char old_patient[CARNET_ID_MAX + 1], old_set[CARNET_ID_MAX + 1];
		if ((rc = carnet_registry__doc_owner(w->reg, job->docs[i].id, old_patient, old_set,
						     NULL, 0, err)))
			return rc;
		if ((rc = carnet_registry__doc_put(w->reg, &job->docs[i], err)) ||
		    (rc = mark_latest(w, job->docs[i].patient_id, job->docs[i].set_id,
				      job->docs[i].id, x, err)))
			return rc;
		if (old_patient[0] && (strcmp(old_patient, job->docs[i].patient_id) != 0 ||
				       strcmp(old_set, job->docs[i].set_id) != 0) &&
		    (rc = mark_latest(w, old_patient, old_set, NULL, NULL, err)))
			return rc;
		job->xdocs[i] = NULL; /* consumed by put_prepared */
		if ((rc = carnet_xap_writer_put_prepared(w->xw, id_term, x, err)))
			return rc;
	}
	if ((rc = carnet_registry__source_set(w->reg, job->source, job->hash,
					      CARNET_SOURCE_INDEXED, NULL, err)))
		return rc;
	if (outcome_out)
		*outcome_out = moved ? CARNET_OUTCOME_MOVED
			       : job->state == CARNET_SOURCE_INDEXED ? CARNET_OUTCOME_REPLACED
								     : CARNET_OUTCOME_ADDED;
	return CARNET_OK;
}

int carnet_writer_add_file(carnet_writer *w, const char *path,
			   carnet_outcome *outcome_out, carnet_error *err)
{
	carnet_prepared *job = malloc(sizeof *job);
	if (!job)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	carnet_prepare__input(job, path, w->reg, &w->limits, w->rank);
	int rc = apply(w, job, outcome_out, err);
	carnet_prepare__clear(job);
	free(job);
	return rc;
}

/* Parallel extraction: worker threads prepare inputs into a ring of slots,
 * each with its own registry connection; the calling thread applies them
 * in input order, so the result is the same as one by one. The ring
 * bounds the memory in flight whatever the number of inputs. */
typedef struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work;       /* a slot was freed, or stop */
	pthread_cond_t done;       /* a slot was prepared */
	const char *const *paths;
	size_t count;
	size_t claimed;            /* next input a worker takes */
	size_t applied;            /* inputs the writer has finished with */
	carnet_prepared *slots;
	int *ready;
	size_t nslots;
	int stop;
	const carnet_limits *limits;
	char registry[CARNET_PATH_MAX];
	carnet_writer *w;
} pool;

static void *worker(void *arg)
{
	pool *pl = arg;
	carnet_registry *reg = NULL;
	carnet_error err;
	int open_rc = carnet_registry__open(&reg, pl->registry, 0, &err);
	for (;;) {
		pthread_mutex_lock(&pl->mu);
		while (!pl->stop && pl->claimed < pl->count &&
		       pl->claimed - pl->applied >= pl->nslots)
			pthread_cond_wait(&pl->work, &pl->mu);
		if (pl->stop || pl->claimed >= pl->count) {
			pthread_mutex_unlock(&pl->mu);
			break;
		}
		size_t i = pl->claimed++;
		pthread_mutex_unlock(&pl->mu);
		carnet_prepared *job = &pl->slots[i % pl->nslots];
		if (open_rc == CARNET_OK) {
			carnet_prepare__input(job, pl->paths[i], reg, pl->limits, pl->w->rank);
		} else {
			memset(job, 0, sizeof *job);
			job->kind = CARNET_PREP_FATAL;
			job->reason = err;
		}
		pthread_mutex_lock(&pl->mu);
		pl->ready[i % pl->nslots] = 1;
		pthread_cond_broadcast(&pl->done);
		pthread_mutex_unlock(&pl->mu);
	}
	carnet_registry__close(reg);
	return NULL;
}

int carnet_writer_add_files(carnet_writer *w, const char *const *paths,
			    size_t count, unsigned jobs, carnet_outcome_cb cb,
			    void *payload, carnet_error *err)
{
	/* with several jobs, the shards are also written (and committed)
	 * in parallel, until the writer closes; one job is one thread */
	int rc = carnet_xap_writer_threads(w->xw, jobs > 1, err);
	if (rc)
		return rc;
	if (jobs <= 1 || count <= 1) {
		for (size_t i = 0; i < count; i++) {
			carnet_outcome o;
			carnet_error reason;
			carnet_error__clear(&reason);
			rc = carnet_writer_add_file(w, paths[i], &o, &reason);
			if (rc) {
				if (err)
					*err = reason;
				return rc;
			}
			if (cb)
				cb(paths[i], o, o == CARNET_OUTCOME_REJECTED ? &reason : NULL, payload);
		}
		return CARNET_OK;
	}
	if (jobs > 64)
		jobs = 64;
	carnet_reader__init_threads();
	/* uncommitted registry changes must be visible to the workers'
	 * connections: commit them first */
	rc = carnet_registry__in_txn(w->reg) ? carnet_writer_commit(w, err) : CARNET_OK;
	if (rc)
		return rc;
	pool pl;
	memset(&pl, 0, sizeof pl);
	pl.paths = paths;
	pl.count = count;
	pl.nslots = 2 * (size_t)jobs;
	pl.limits = &w->limits;
	pl.w = w;
	snprintf(pl.registry, sizeof pl.registry, "%s", w->registry_path);
	pl.slots = calloc(pl.nslots, sizeof *pl.slots);
	pl.ready = calloc(pl.nslots, sizeof *pl.ready);
	pthread_t threads[64];
	unsigned started = 0;
	if (!pl.slots || !pl.ready) {
		free(pl.slots);
		free(pl.ready);
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.work, NULL);
	pthread_cond_init(&pl.done, NULL);
	for (unsigned t = 0; t < jobs; t++)
		if (pthread_create(&threads[started], NULL, worker, &pl) == 0)
			started++;
	if (!started) {
		rc = carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_OS, 0,
				       "cannot start extraction threads");
		goto done;
	}
	for (size_t i = 0; i < count && rc == CARNET_OK; i++) {
		pthread_mutex_lock(&pl.mu);
		while (!pl.ready[i % pl.nslots])
			pthread_cond_wait(&pl.done, &pl.mu);
		pthread_mutex_unlock(&pl.mu);
		carnet_prepared *job = &pl.slots[i % pl.nslots];
		carnet_outcome o;
		carnet_error reason;
		carnet_error__clear(&reason);
		rc = apply(w, job, &o, &reason);
		if (rc && err)
			*err = reason;
		if (rc == CARNET_OK && cb)
			cb(paths[i], o, o == CARNET_OUTCOME_REJECTED ? &reason : NULL, payload);
		carnet_prepare__clear(job);
		pthread_mutex_lock(&pl.mu);
		pl.ready[i % pl.nslots] = 0;
		pl.applied = i + 1;
		pthread_cond_broadcast(&pl.work);
		pthread_mutex_unlock(&pl.mu);
	}
done:
	pthread_mutex_lock(&pl.mu);
	pl.stop = 1;
	pthread_cond_broadcast(&pl.work);
	pthread_mutex_unlock(&pl.mu);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	/* slots prepared but not applied (after a failure) */
	for (size_t k = 0; k < pl.nslots; k++)
		carnet_prepare__clear(&pl.slots[k]);
	pthread_cond_destroy(&pl.done);
	pthread_cond_destroy(&pl.work);
	pthread_mutex_destroy(&pl.mu);
	free(pl.slots);
	free(pl.ready);
	return rc;
}

/* Paths of the sources that disappeared. */
typedef struct path_list {
	char **paths;
	size_t count, cap;
} path_list;

static int collect_path(const char *path, void *payload)
{
	path_list *l = payload;
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **p = realloc(l->paths, cap * sizeof *p);
		if (!p)
			return CARNET_E_NOMEM;
		l->paths = p;
		l->cap = cap;
	}
	size_t n = strlen(path) + 1;
	if (!(l->paths[l->count] = malloc(n)))
		return CARNET_E_NOMEM;
	memcpy(l->paths[l->count++], path, n);
	return 0;
}

static void free_paths(path_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->paths[i]);
	free(l->paths);
}

/* Is path at or under one of the paths given to carnet_writer_keep? */
static int kept(const carnet_writer *w, const char *path)
{
	for (size_t i = 0; i < w->nkeep; i++) {
		size_t n = strlen(w->keep[i]);
		if (strncmp(path, w->keep[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || (n && w->keep[i][n - 1] == '/')))
			return 1;
	}
	return 0;
}

int carnet_writer_keep(carnet_writer *w, const char *path, carnet_error *err)
{
	char canon[PATH_MAX];
	const char *p = realpath(path, canon) ? canon : path;
	char **keep = realloc(w->keep, (w->nkeep + 1) * sizeof *keep);
	if (!keep)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	w->keep = keep;
	if (!(w->keep[w->nkeep] = strdup(p)))
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	w->nkeep++;
	return CARNET_OK;
}

/* The sources under dir that this writer was not given, that are not
 * kept and that are gone from the disk, in path order. */
static int gone_sources(carnet_writer *w, const char *dir, path_list *gone,
			carnet_error *err)
{
	char canon[PATH_MAX], prefix[PATH_MAX + 2];
	if (!realpath(dir, canon)) {
		int e = errno;
		return carnet_error__os(err, carnet_error__from_errno(e), e,
					"%s: cannot resolve", dir);
	}
	snprintf(prefix, sizeof prefix, "%s%s", canon,
		 strcmp(canon, "/") == 0 ? "" : "/");
	path_list unseen = { NULL, 0, 0 };
	int rc = carnet_registry__unseen_sources(w->reg, prefix, collect_path, &unseen, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__set(err, rc, CARNET_ORIGIN_CARNET, 0, "out of memory");
	for (size_t i = 0; rc == CARNET_OK && i < unseen.count; i++) {
		struct stat st;
		if (kept(w, unseen.paths[i]))
			continue;
		/* present, or gone: not given means no longer an input; a file
		 * that cannot be checked (EACCES, EIO) is kept */
		if (lstat(unseen.paths[i], &st) != 0 && errno != ENOENT && errno != ENOTDIR)
			continue;
		if (collect_path(unseen.paths[i], gone) != 0)
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					       "out of memory");
	}
	free_paths(&unseen);
	return rc;
}

typedef struct unseen_docs {
	carnet_unseen_cb cb;
	void *payload;
	const char *path;
	uint64_t count;
	int stopped;
} unseen_docs;

static int report_unseen(const char *id, const char *set_id, int version,
			 const char *date, void *payload)
{
	(void)set_id;
	(void)version;
	(void)date;
	unseen_docs *u = payload;
	u->count++;
	int rc = u->cb ? u->cb(u->path, id, u->payload) : 0;
	if (rc)
		u->stopped = 1;
	return rc;
}

int carnet_writer_unseen(carnet_writer *w, const char *dir, carnet_unseen_cb cb,
			 void *payload, uint64_t *removable_out, uint64_t *total_out,
			 carnet_error *err)
{
	if (removable_out)
		*removable_out = 0;
	if (total_out)
		*total_out = 0;
	path_list gone = { NULL, 0, 0 };
	int rc = gone_sources(w, dir, &gone, err);
	unseen_docs u = { cb, payload, NULL, 0, 0 };
	for (size_t i = 0; rc == CARNET_OK && i < gone.count; i++) {
		u.path = gone.paths[i];
		uint64_t before = u.count;
		rc = carnet_registry__docs_of_source(w->reg, gone.paths[i], report_unseen,
						     &u, err);
		if (rc == CARNET_OK && u.count == before && cb)
			rc = cb(gone.paths[i], NULL, payload); /* a reject, forgotten */
		else if (rc && !u.stopped)
			break;
	}
	free_paths(&gone);
	if (rc == CARNET_OK && total_out)
		rc = carnet_registry__count(w->reg, CARNET_COUNT_DOCUMENTS, total_out, err);
	if (rc == CARNET_OK && removable_out)
		*removable_out = u.count;
	return rc;
}

int carnet_writer_remove_unseen(carnet_writer *w, const char *dir,
				uint64_t *removed_out, carnet_error *err)
{
	if (removed_out)
		*removed_out = 0;
	path_list gone = { NULL, 0, 0 };
	int rc = gone_sources(w, dir, &gone, err);
	if (rc == CARNET_OK)
		rc = carnet_registry__begin(w->reg, err);
	for (size_t i = 0; rc == CARNET_OK && i < gone.count; i++) {
		/* a source that yields nothing: all its documents go */
		prior_docs before = { NULL, 0, 0 };
		rc = carnet_registry__docs_of_source(w->reg, gone.paths[i],
						     collect_prior, &before, err);
		if (rc == CARNET_OK && removed_out)
			*removed_out += before.count;
		free(before.ids);
		if (rc == CARNET_OK)
			rc = drop_stale(w, gone.paths[i], NULL, 0, err);
		if (rc == CARNET_OK)
			rc = carnet_registry__source_delete(w->reg, gone.paths[i], err);
	}
	free_paths(&gone);
	return rc;
}

int carnet_writer_preview_file(carnet_writer *w, const char *path,
			       carnet_preview_cb cb, void *payload, carnet_error *err)
{
	carnet_prepared *job = malloc(sizeof *job);
	if (!job)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	carnet_prepare__input(job, path, w->reg, &w->limits, w->rank);
	int rc = CARNET_OK;
	if (job->kind == CARNET_PREP_FATAL) {
		if (err)
			*err = job->reason;
		rc = job->reason.code ? job->reason.code : CARNET_E_INTERNAL;
		goto out;
	}
	if (job->source[0] && (rc = carnet_registry__seen(w->reg, job->source, err)))
		goto out;
	if (job->kind == CARNET_PREP_UNCHANGED) {
		if (cb)
			cb(path, CARNET_OUTCOME_UNCHANGED, NULL, NULL, payload);
		goto out;
	}
	if (job->kind != CARNET_PREP_DOCS) {
		if (cb)
			cb(path, CARNET_OUTCOME_REJECTED, NULL, job->reason.message, payload);
		goto out;
	}
	char other[PATH_MAX];
	for (size_t i = 0; i < job->count; i++) {
		int gone;
		if ((rc = other_owner(w, job, i, other, sizeof other, &gone, err)))
			goto out;
		if (other[0] && !gone) {
			conflict(job, i, other);
			if (cb)
				cb(path, CARNET_OUTCOME_REJECTED, NULL, job->reason.message,
				   payload);
			goto out;
		}
	}
	for (size_t i = 0; i < job->count; i++) {
		int gone;
		if ((rc = other_owner(w, job, i, other, sizeof other, &gone, err)))
			goto out;
		/* the old path will not be removed: its documents move */
		if (other[0] && (rc = carnet_registry__seen(w->reg, other, err)))
			goto out;
		if (cb)
			cb(path, other[0] ? CARNET_OUTCOME_MOVED
			   : job->state == CARNET_SOURCE_INDEXED ? CARNET_OUTCOME_REPLACED
								 : CARNET_OUTCOME_ADDED,
			   job->docs[i].id, other[0] ? other : NULL, payload);
	}
out:
	carnet_prepare__clear(job);
	free(job);
	return rc;
}

int carnet_writer_set_visibility(carnet_writer *w, const char *id,
				 carnet_audience audience, int hidden,
				 carnet_error *err)
{
	static const char *const codes[] = {
		[CARNET_AUDIENCE_PROFESSIONALS] = "MASQUE_PS",
		[CARNET_AUDIENCE_PATIENT] = "INVISIBLE_PATIENT",
		[CARNET_AUDIENCE_LEGAL_REPRESENTATIVES] = "INVISIBLE_REPRESENTANTS_LEGAUX",
	};
	if ((int)audience < 0 || (int)audience > CARNET_AUDIENCE_LEGAL_REPRESENTATIVES)
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
	snprintf(conf_term, sizeof conf_term, CARNET_PREFIX_CONF "%s", codes[audience]);
	carnet_doc d;
	carnet_doc__init(&d);
	if (carnet_doc__sets(&d.id, id) != 0 ||
	    carnet_doc__sets(&d.confidentiality, conf[0] ? conf : NULL) != 0) {
		carnet_doc__clear(&d);
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	}
	if ((rc = carnet_registry__begin(w->reg, err)) == CARNET_OK &&
	    (rc = carnet_registry__visibility_set(w->reg, id, codes[audience], hidden, err)) == CARNET_OK &&
	    (rc = carnet_registry__visibility_apply(w->reg, &d, err)) == CARNET_OK &&
	    (rc = carnet_registry__doc_set_confidentiality(w->reg, id, d.confidentiality, err)) == CARNET_OK)
		rc = carnet_xap_writer_set_term(w->xw, id_term, conf_term, hidden, err);
	carnet_doc__clear(&d);
	return rc;
}
