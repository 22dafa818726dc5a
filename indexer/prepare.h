/* SPDX-License-Identifier: GPL-2.0-or-later */
/* prepare.h - preparing one input for the writer, without the writer: safe
 * to run in several threads at once, each with its own registry
 * connection, which it only reads. */
#ifndef CARNET_INDEXER_PREPARE_H
#define CARNET_INDEXER_PREPARE_H

#include <limits.h>

#include "rank.h"
#include "reader.h"
#include "registry.h"
#include "xapian_shim.h"

typedef enum carnet_prep_kind {
	CARNET_PREP_FATAL,           /* the index side failed: stop (reason says why) */
	CARNET_PREP_REJECT,          /* a bad input (reason says why) */
	CARNET_PREP_UNCHANGED,       /* indexed before with the same content */
	CARNET_PREP_REJECTED_BEFORE, /* rejected before with the same content */
	CARNET_PREP_DOCS,            /* documents ready to index */
	CARNET_PREP_OTHER_SHARD,     /* read: every document is another shard's */
	CARNET_PREP_OTHER_SHARD_BEFORE /* the same, known from a run before */
} carnet_prep_kind;

/* The reason a source whose documents are all another shard's is
 * recorded with (state indexed), so the next run knows without reading. */
#define CARNET_OTHER_SHARD_NOTE "other shard"

typedef struct carnet_prepared {
	carnet_prep_kind kind;
	char path[PATH_MAX];        /* as given */
	char source[PATH_MAX];      /* canonical; "" if it could not be resolved */
	char hash[64];              /* of content and sidecar; "" if unread */
	int state;                  /* the source's registry state when prepared */
	int state_read;             /* the registry's row of source was read: */
	char state_hash[64];        /* its hash then */
	char state_note[CARNET_ERROR_MESSAGE_SIZE]; /* and its note or reject reason */
	carnet_error reason;        /* why, for FATAL and rejects */
	carnet_doc *docs;           /* DOCS: the documents */
	carnet_xprepared **xdocs;   /* and their Xapian documents */
	size_t count;
} carnet_prepared;

/* Which patients an index holds (carnet_writer_set_shard): those of
 * shard index of count; count 0: all. */
typedef struct carnet_shard_spec {
	unsigned index, count;
} carnet_shard_spec;

/* Prepare path; returns job->kind. reg is read, never written; rank gives
 * the content keywords (carnet_rank__keys must have been called); the
 * documents of patients outside shard are left out (OTHER_SHARD when
 * none is left). */
int carnet_prepare__input(carnet_prepared *job, const char *path,
			  carnet_registry *reg, const carnet_limits *limits,
			  const carnet_ranking *rank, const carnet_shard_spec *shard);

/* Make job what carnet_prepare__input on reg would make now: when the row
 * of job's source that a worker read on its own connection differs from
 * what reg (the writer's connection, which sees every change of the run,
 * committed or not) holds now, job is prepared again on reg. What else a
 * worker reads of the registry (the masks set after upload) does not
 * change while inputs are added. Returns job->kind (CARNET_PREP_FATAL,
 * with the reason, when reg fails). */
int carnet_prepare__recheck(carnet_prepared *job, carnet_registry *reg,
			    const carnet_limits *limits, const carnet_ranking *rank,
			    const carnet_shard_spec *shard);

/* Free what a prepared job holds (it can be prepared again). */
void carnet_prepare__clear(carnet_prepared *job);

#endif
