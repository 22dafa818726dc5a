/* SPDX-License-Identifier: GPL-2.0-or-later */
/* writer_add.c - adding an input: a prepared input applied to the index
 * and the registry (rejects, moves, conflicts between files, sets that
 * would join two patients' records), one file at a time, and the preview
 * of what adding a file would do. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "writer.h"

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

/* Check the documents of job against the files they were read from
 * before: *moved when one of them was indexed from a file now gone (it
 * moves), *refused (job's reason filled) at the first one still indexed
 * from another file that is there. */
static int check_owners(carnet_writer *w, carnet_prepared *job, int *refused,
			int *moved, carnet_error *err)
{
	char other[PATH_MAX];
	*refused = *moved = 0;
	for (size_t i = 0; i < job->count; i++) {
		int gone;
		int rc = other_owner(w, job, i, other, sizeof other, &gone, err);
		if (rc)
			return rc;
		if (other[0] && !gone) {
			conflict(job, i, other);
			*refused = 1;
			return CARNET_OK;
		}
		*moved |= other[0] != '\0';
	}
	return CARNET_OK;
}

/* What adding job does to its documents: they move, replace or are new. */
static carnet_outcome added(const carnet_prepared *job, int moved)
{
	return moved ? CARNET_OUTCOME_MOVED
	       : job->state == CARNET_SOURCE_INDEXED ? CARNET_OUTCOME_REPLACED
						     : CARNET_OUTCOME_ADDED;
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
int carnet_writer__apply(carnet_writer *w, carnet_prepared *job,
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
	case CARNET_PREP_OTHER_SHARD_BEFORE:
		if (outcome_out)
			*outcome_out = CARNET_OUTCOME_OTHER_SHARD;
		return CARNET_OK;
	case CARNET_PREP_OTHER_SHARD:
		/* another shard's now: what it gave this one before goes */
		if (outcome_out)
			*outcome_out = job->state == CARNET_SOURCE_INDEXED ? CARNET_OUTCOME_LEFT_SHARD
									   : CARNET_OUTCOME_OTHER_SHARD;
		if ((rc = carnet_registry__begin(w->reg, err)) ||
		    (rc = carnet_writer__drop_stale(w, job->source, NULL, 0, err)) ||
		    (rc = carnet_registry__source_set(w->reg, job->source, job->hash,
						      CARNET_SOURCE_INDEXED,
						      CARNET_OTHER_SHARD_NOTE, err)))
			return rc;
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
	int refused, moved;
	if ((rc = check_owners(w, job, &refused, &moved, err)))
		return rc;
	/* no hash: read again at every sync, until one file goes */
	if (refused)
		return record_reject(w, job->source, "", &job->reason, outcome_out, err);
	char other[PATH_MAX];
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
	if ((rc = carnet_writer__drop_stale(w, job->source, job->docs, job->count, err)))
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
		    (rc = carnet_writer__mark_latest(w, job->docs[i].patient_id,
						     job->docs[i].set_id,
						     job->docs[i].id, x, err)))
			return rc;
		if (old_patient[0] && (strcmp(old_patient, job->docs[i].patient_id) != 0 ||
				       strcmp(old_set, job->docs[i].set_id) != 0) &&
		    (rc = carnet_writer__mark_latest(w, old_patient, old_set, NULL, NULL, err)))
			return rc;
		job->xdocs[i] = NULL; /* consumed by put_prepared */
		if ((rc = carnet_xap_writer_put_prepared(w->xw, id_term, job->docs[i].patient_id,
							 old_patient[0] != '\0', x, err)))
			return rc;
	}
	if ((rc = carnet_registry__source_set(w->reg, job->source, job->hash,
					      CARNET_SOURCE_INDEXED, NULL, err)))
		return rc;
	if (outcome_out)
		*outcome_out = added(job, moved);
	return CARNET_OK;
}

int carnet_writer_add_file(carnet_writer *w, const char *path,
			   carnet_outcome *outcome_out, carnet_error *err)
{
	carnet_prepared *job = malloc(sizeof *job);
	if (!job)
		return carnet_error__nomem(err, "adding a file");
	carnet_prepare__input(job, path, w->reg, &w->limits, w->rank, &w->shard);
	int rc = carnet_writer__apply(w, job, outcome_out, err);
	carnet_prepare__clear(job);
	free(job);
	return rc;
}

int carnet_writer_preview_file(carnet_writer *w, const char *path,
			       carnet_preview_cb cb, void *payload, carnet_error *err)
{
	carnet_prepared *job = malloc(sizeof *job);
	if (!job)
		return carnet_error__nomem(err, "previewing a file");
	carnet_prepare__input(job, path, w->reg, &w->limits, w->rank, &w->shard);
	int rc = CARNET_OK;
	if (job->kind == CARNET_PREP_FATAL) {
		if (err)
			*err = job->reason;
		rc = job->reason.code ? job->reason.code : CARNET_E_INTERNAL;
		goto out;
	}
	if (job->source[0] && (rc = carnet_registry__seen(w->reg, job->source, err)))
		goto out;
	if (job->kind == CARNET_PREP_UNCHANGED || job->kind == CARNET_PREP_OTHER_SHARD ||
	    job->kind == CARNET_PREP_OTHER_SHARD_BEFORE) {
		if (cb)
			cb(path, job->kind == CARNET_PREP_UNCHANGED ? CARNET_OUTCOME_UNCHANGED
								   : CARNET_OUTCOME_OTHER_SHARD,
			   NULL, NULL, payload);
		goto out;
	}
	if (job->kind != CARNET_PREP_DOCS) {
		if (cb)
			cb(path, CARNET_OUTCOME_REJECTED, NULL, job->reason.message, payload);
		goto out;
	}
	int refused, moved;
	if ((rc = check_owners(w, job, &refused, &moved, err)))
		goto out;
	if (refused) {
		if (cb)
			cb(path, CARNET_OUTCOME_REJECTED, NULL, job->reason.message, payload);
		goto out;
	}
	char other[PATH_MAX];
	for (size_t i = 0; i < job->count; i++) {
		int gone;
		if ((rc = other_owner(w, job, i, other, sizeof other, &gone, err)))
			goto out;
		/* the old path will not be removed: its documents move */
		if (other[0] && (rc = carnet_registry__seen(w->reg, other, err)))
			goto out;
		if (cb)
			cb(path, added(job, other[0] != '\0'), job->docs[i].id,
			   other[0] ? other : NULL, payload);
	}
out:
	carnet_prepare__clear(job);
	free(job);
	return rc;
}
