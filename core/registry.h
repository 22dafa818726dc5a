/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry.h - the catalogue of an index home (with access_log.h, a sqlite3 user):
 * sources and their content hashes, documents and their metadata, rejected
 * inputs with reasons. It is the truth an index can be rebuilt from. */
#ifndef CARNET_CORE_REGISTRY_H
#define CARNET_CORE_REGISTRY_H

#include <stdint.h>

#include "doc.h"
#include "schema.h"

/* Schema version of registry.sqlite (PRAGMA user_version). Older files are
 * migrated forward at open; newer ones are refused with CARNET_E_VERSION. */
#define CARNET_REGISTRY_SCHEMA 4

typedef struct carnet_registry carnet_registry;

/* Open path. With create, a missing file is created and initialised;
 * without, it is CARNET_E_NOTFOUND. Applies pending migrations and checks
 * the index format. WAL mode; waits up to 5 s for a busy database.
 * Without create, closing does not checkpoint the WAL (no fsync). */
int carnet_registry__open(carnet_registry **out, const char *path, int create,
			  carnet_error *err);
void carnet_registry__close(carnet_registry *r);

/* Transactions: begin is a no-op when one is already open. */
int carnet_registry__begin(carnet_registry *r, carnet_error *err);
int carnet_registry__commit(carnet_registry *r, carnet_error *err);
void carnet_registry__rollback(carnet_registry *r);
/* Is a transaction open (changes not yet committed)? */
int carnet_registry__in_txn(const carnet_registry *r);
/* How many rows this connection has inserted, updated or deleted since it
 * was opened (committed or not): a write in between changes it. */
uint64_t carnet_registry__changes(const carnet_registry *r);

/* Source files. state is "indexed" or "rejected". */
enum carnet_source_state { CARNET_SOURCE_NONE = 0, CARNET_SOURCE_INDEXED,
			   CARNET_SOURCE_REJECTED };

/* Look up a source: *state_out is CARNET_SOURCE_NONE when unknown; else
 * hash_out (if not NULL) receives its hash (size 64) and reason_out (if not
 * NULL, size reason_size) its reject reason, or the note an indexed source
 * was recorded with ("" when none). */
int carnet_registry__source_get(carnet_registry *r, const char *path,
				int *state_out, char hash_out[64],
				char *reason_out, size_t reason_size,
				carnet_error *err);
/* Record a source: its hash, state, and reason (a reject's; for an
 * indexed source, a note such as "other shard", or NULL). */
int carnet_registry__source_set(carnet_registry *r, const char *path,
				const char *hash, int state,
				const char *reason, carnet_error *err);

/* Forget a source (its documents are removed separately). */
int carnet_registry__source_delete(carnet_registry *r, const char *path,
				   carnet_error *err);

/* A file was renamed or moved: the documents read from `from` are now
 * read from `to` (same ids, so their masks stay), and `from` is forgotten. */
int carnet_registry__source_move(carnet_registry *r, const char *from,
				 const char *to, carnet_error *err);

/* Make the rejects "document id already indexed from another file" be
 * read again at the next sync (they were kept forever before 0.1.1). */
int carnet_registry__retry_conflicts(carnet_registry *r, carnet_error *err);

/* Note that path was seen by this connection (a temporary table, gone when
 * the registry is closed), for finding the sources that disappeared. */
int carnet_registry__seen(carnet_registry *r, const char *path,
			  carnet_error *err);

/* Call cb for every known source whose path starts with prefix and that
 * was not noted by carnet_registry__seen, in path order. A non-zero return
 * stops and is returned. */
int carnet_registry__unseen_sources(carnet_registry *r, const char *prefix,
				    int (*cb)(const char *path, void *payload),
				    void *payload, carnet_error *err);

/* Documents. put inserts or replaces by id. */
int carnet_registry__doc_put(carnet_registry *r, const carnet_doc *d,
			     carnet_error *err);
int carnet_registry__doc_delete(carnet_registry *r, const char *id,
				carnet_error *err);

/* Called per document; non-zero return stops and is returned. */
typedef int (*carnet_registry_doc_cb)(const char *id, const char *set_id,
				      int version, const char *date,
				      void *payload);
/* The documents read from a source path. */
int carnet_registry__docs_of_source(carnet_registry *r, const char *path,
				    carnet_registry_doc_cb cb, void *payload,
				    carnet_error *err);
/* The versions of a patient's set (a set id is only ever shared within
 * one patient's record), in no particular order. */
int carnet_registry__docs_of_set(carnet_registry *r, const char *patient,
				 const char *set_id, carnet_registry_doc_cb cb,
				 void *payload, carnet_error *err);
/* A document of set set_id that belongs to another patient than patient
 * and was read from another file than source: its id and patient into
 * id_out and patient_out ("" when there is none). */
int carnet_registry__set_clash(carnet_registry *r, const char *patient,
			       const char *set_id, const char *source,
			       char id_out[CARNET_ID_MAX + 1],
			       char patient_out[CARNET_ID_MAX + 1], carnet_error *err);
/* The patient, set id and source of document id ("" when unknown). */
int carnet_registry__doc_owner(carnet_registry *r, const char *id,
			       char patient_out[CARNET_ID_MAX + 1],
			       char set_out[CARNET_ID_MAX + 1], char *source_out,
			       size_t source_size, carnet_error *err);

/* Counts. */
enum carnet_registry_count { CARNET_COUNT_DOCUMENTS, CARNET_COUNT_PATIENTS,
			     CARNET_COUNT_SETS, CARNET_COUNT_REJECTS };
int carnet_registry__count(carnet_registry *r, int which, uint64_t *out,
			   carnet_error *err);

/* Every rejected source, oldest first (see carnet_reject_cb); its time is
 * when it was first rejected with this content for this reason
 * ("YYYY-MM-DDTHH:MM:SS.mmmZ"; whole seconds for rows of schema 3 and
 * before), unchanged while source_set records the same reject again. */
int carnet_registry__rejects(carnet_registry *r, carnet_reject_cb cb,
			     void *payload, carnet_error *err);

/* Key/value metadata. get copies into out (size out_size); "" when unset. */
int carnet_registry__meta_get(carnet_registry *r, const char *key, char *out,
			      size_t out_size, carnet_error *err);
int carnet_registry__meta_set(carnet_registry *r, const char *key,
			      const char *value, carnet_error *err);

/* ---- Visibility changed after upload (mask / unmask) ---- */

/* Record that document id is hidden (hidden != 0) or no longer hidden from
 * an audience, by a code such as "MASQUE_PS"; kept across re-reads. */
int carnet_registry__visibility_set(carnet_registry *r, const char *id,
				    const char *code, int hidden,
				    carnet_error *err);
/* Apply the recorded changes to d->confidentiality (codes added or
 * removed). Returns CARNET_OK or an error; d unchanged on error. */
int carnet_registry__visibility_apply(carnet_registry *r, carnet_doc *d,
				      carnet_error *err);
/* Replace the confidentiality codes recorded for document id. */
int carnet_registry__doc_set_confidentiality(carnet_registry *r, const char *id,
					     const char *codes, carnet_error *err);
/* Copy the visibility changes recorded in the registry at from_path (the
 * live generation's) into this one, for a rebuild. */
int carnet_registry__copy_visibility(carnet_registry *r, const char *from_path,
				     carnet_error *err);
/* The source path document id was read from, into out (size); "" when
 * the registry does not know the id. */
int carnet_registry__doc_source(carnet_registry *r, const char *id, char *out,
				size_t size, carnet_error *err);
/* Does the registry know document id? *found_out 1 or 0. */
int carnet_registry__doc_exists(carnet_registry *r, const char *id,
				int *found_out, char confidentiality[256],
				carnet_error *err);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void carnet_registry__now(char out[32]);

#endif
