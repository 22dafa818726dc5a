/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access_log.h - INDEX_HOME/access.sqlite, the evidence of who looked at
 * which record: one row per request (answered or refused), each row
 * chained to the one before by a SHA-256 hash, append-only by triggers,
 * checked against what carnet creates whenever it is opened, emptied only
 * by an archive that is itself a row of the chain. */
#ifndef CARNET_CORE_ACCESS_LOG_H
#define CARNET_CORE_ACCESS_LOG_H

#include <stdint.h>

#include "error.h"

#define CARNET_ACCESS_LOG_FILE "access.sqlite"

/* Schema version of access.sqlite (PRAGMA user_version). 1: the rows
 * without chain (migrated by the writer); 2: the chained rows. */
#define CARNET_ALOG_SCHEMA 2

/* Rows whose chain a viewer checks when it opens the log (the newest). */
#define CARNET_ALOG_TAIL 64

typedef struct carnet_alog carnet_alog;

/* One request, as the log keeps it. On append, seq, at and the archive
 * fields are ignored; strings may be NULL. */
typedef struct carnet_access {
	uint64_t seq;
	const char *at;          /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
	const char *viewer_id, *profession, *specialty, *role;
	const char *patient_id;
	int emergency;
	const char *words;
	const char *doc_ids;     /* ids returned, space-separated */
	unsigned long count;
	int status;              /* CARNET_OK, or why the request was refused */
	const char *reason;      /* "" or the refusal's message */
} carnet_access;

/* The writer's part, under its lock: create path (mode 0660, WAL, the
 * schema, atomically: a viewer sees no log or a whole one) when it is
 * missing; migrate a schema 1 log to the chained rows. Never replaces an
 * existing file. */
int carnet_alog__ensure(const char *path, carnet_error *err);

/* A viewer's: open the existing log at path for appending and reading,
 * and check it: the schema and triggers exactly as carnet creates them
 * (nothing added), WAL mode, the head counter against the first and last
 * rows, and the chain of the last CARNET_ALOG_TAIL rows. Never creates:
 * a missing, empty or foreign file is CARNET_E_CORRUPT, saying what is
 * wrong. */
int carnet_alog__open(carnet_alog **out, const char *path, carnet_error *err);
void carnet_alog__close(carnet_alog *l);

/* Append one request, chained to the head, in its own transaction
 * (durable in the WAL on return). Strings are stored as valid UTF-8
 * (invalid bytes become U+FFFD) and bounded in length. The schema and the
 * head row are checked again first; the row must really be added. */
int carnet_alog__append(carnet_alog *l, const carnet_access *a,
			carnet_error *err);

/* Called per row; a non-zero return stops and is returned. */
typedef int (*carnet_alog_cb)(const carnet_access *a, void *payload);
/* The rows of one patient, newest first. */
int carnet_alog__list(carnet_alog *l, const char *patient_id,
		      carnet_alog_cb cb, void *payload, carnet_error *err);

/* What a walk of the chain found (see carnet.h). */
typedef carnet_access_log_report carnet_alog_report;

/* Walk every row of the log at path: sequence numbers without gaps, each
 * row's hash over the previous hash and its content, the chain's start
 * (the first row, or an archive row's record of the last archived hash),
 * the head counter, the schema. CARNET_E_CORRUPT names the first broken
 * row (rep->bad_seq). */
int carnet_alog__verify(const char *path, carnet_alog_report *rep,
			carnet_error *err);

/* Check the archive file written by carnet_alog__archive against its
 * record in the log at path: every line's hash, the chain within the
 * file, the row count and the last hash the record holds. */
int carnet_alog__verify_archive(const char *path, const char *file,
				carnet_alog_report *rep, carnet_error *err);

/* Move the rows older than before (YYYY-MM-DD, UTC; the longest run of
 * oldest rows before that day) to file as JSON lines: file is created
 * (never replaced), written and fsynced first; then, in one transaction,
 * a row recording the archive (rows, last hash, file name) is appended
 * and the archived rows are removed. The log must verify first. */
/* Write the rows of the log at path after row `after` to fd (named file
 * in messages) as JSON lines, as an archive holds them, the log's chain
 * checked first; nothing is removed. rep->archived counts them. */
int carnet_alog__export(const char *path, uint64_t after, int fd, const char *file,
			carnet_alog_report *rep, carnet_error *err);

int carnet_alog__archive(const char *path, const char *before,
			 const char *file, carnet_alog_report *rep,
			 carnet_error *err);

#endif
