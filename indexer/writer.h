/* SPDX-License-Identifier: GPL-2.0-or-later */
/* writer.h - what the writer's files share: the writer's state, and the
 * steps one of them does for another (writer.c: open, commit, close;
 * writer_add.c: applying an input; writer_pool.c: parallel extraction;
 * writer_versions.c: a set's versions and a source's documents;
 * writer_sync.c: the sources a sync no longer sees). */
#ifndef CARNET_INDEXER_WRITER_H
#define CARNET_INDEXER_WRITER_H

#include "carnet.h"
#include "home.h"
#include "prepare.h"
#include "rank.h"
#include "registry.h"
#include "schema.h"
#include "xapian_shim.h"

typedef struct carnet_pool carnet_pool;

/* added_changes when the last registry change was not add_files' */
#define CARNET_WRITER_NOT_ADDED UINT64_MAX

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
	size_t nkeep, keep_cap;
	carnet_pool *pool;             /* add_files' extraction threads */
	uint64_t added_changes;        /* carnet_registry__changes after the last
					  add_files when it succeeded, else
					  CARNET_WRITER_NOT_ADDED */
	carnet_shard_spec shard;       /* the patients it holds (carnet_writer_set_shard) */
	int was_empty;                 /* the generation held no document at open */
	char xapian_path[CARNET_PATH_MAX]; /* its Xapian database */
};

/* Stop the extraction threads of a pool (writer_pool.c) and free it;
 * NULL is fine. */
void carnet_writer__pool_free(carnet_pool *pl);

/* Apply a prepared input to the index and the registry (writer thread). */
int carnet_writer__apply(carnet_writer *w, carnet_prepared *job,
			 carnet_outcome *outcome_out, carnet_error *err);

/* Make the newest version of patient's set_id, and only it, carry the
 * patient's latest term. Call after the registry holds the set's current
 * versions. If fresh is not NULL, it is the prepared document of version
 * fresh_id, not yet in the index: its term is set there, which spares
 * rewriting it once put. */
int carnet_writer__mark_latest(carnet_writer *w, const char *patient, const char *set_id,
			       const char *fresh_id, carnet_xprepared *fresh,
			       carnet_error *err);

/* The (id, set id) pairs a source produced before. */
typedef struct carnet_prior_docs {
	char (*ids)[2][CARNET_ID_MAX + 1];
	size_t count, cap;
} carnet_prior_docs;

/* A registry callback (carnet_registry__docs_of_source) that adds each
 * document to a carnet_prior_docs. */
int carnet_writer__collect_prior(const char *id, const char *set_id, int version,
				 const char *date, void *payload);

/* Remove the documents source produced before and that are not among
 * docs[0..count). */
int carnet_writer__drop_stale(carnet_writer *w, const char *source, const carnet_doc *docs,
			      size_t count, carnet_error *err);

#endif
