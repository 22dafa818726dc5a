/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access_log_int.h - what the files of the access log share (access_log.c:
 * opening, appending, listing; access_log_schema.c: the schema, creating,
 * checking, migrating; access_log_chain.c: the hash chain and its walk;
 * access_log_archive.c: verify and archive): a row's columns and values,
 * and the helpers each of them calls. Not for other modules. */
#ifndef CARNET_CORE_ACCESS_LOG_INT_H
#define CARNET_CORE_ACCESS_LOG_INT_H

#include <stdint.h>
#include <string.h>

#include <nettle/sha2.h>
#include <sqlite3.h>

#include "access_log.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* The columns, in the order they are hashed (all but the hash itself). */
#define COLS "seq, at, kind, patient_id, viewer_id, role, profession, specialty," \
	     " emergency, words, doc_ids, count, status, reason, archive_upto,"    \
	     " archive_rows, archive_last, archive_file, prev, hash"
enum { C_SEQ, C_AT, C_KIND, C_PATIENT, C_VIEWER, C_ROLE, C_PROFESSION,
       C_SPECIALTY, C_EMERGENCY, C_WORDS, C_DOC_IDS, C_COUNT, C_STATUS,
       C_REASON, C_UPTO, C_ROWS, C_LAST, C_FILE, C_PREV, C_HASHED = C_PREV + 1,
       C_HASH = C_HASHED, C_ALL };
/* Their names, in that order (the keys of an archive's JSON lines). */
extern const char *const carnet_alog__cols[C_ALL];

/* One value of a row, whatever it came from (C, sqlite, JSON). */
typedef struct val {
	char type;      /* 'N' null, 'I' integer, 'T' text, 'B' blob, 'R' real */
	int64_t i;
	double r;
	const char *s;
	size_t n;
} val;

static inline val v_null(void)
{
	val v = { 'N', 0, 0, NULL, 0 };
	return v;
}

static inline val v_int(int64_t i)
{
	val v = { 'I', i, 0, NULL, 0 };
	return v;
}

static inline val v_text(const char *s)
{
	if (!s)
		return v_null();
	val v = { 'T', 0, 0, s, strlen(s) };
	return v;
}

static inline int text_is(const val *v, const char *s)
{
	return v->type == 'T' && v->n == strlen(s) && memcmp(v->s, s, v->n) == 0;
}

/* What the chain's work reuses: the SHA-256 state (nettle's: no library
 * to initialise, a cost every viewer process paid with OpenSSL 3) and the
 * statements run per row. */
typedef struct work {
	struct sha256_ctx sha;
	sqlite3_stmt *head, *insert, *last;
} work;

/* ---- access_log.c: errors, statements, opening ---- */

/* The failure rc of sqlite on the log at path (carnet_sqlite__fail). */
int carnet_alog__sql_fail(sqlite3 *db, const char *path, int rc, const char *what,
			  carnet_error *err);
/* CARNET_E_CORRUPT: "access log PATH: " and what fmt says. */
int carnet_alog__corrupt(carnet_error *err, const char *path, const char *fmt, ...)
	CARNET_PRINTF(3, 4);
/* CARNET_E_CORRUPT: "access log PATH: row SEQ: what". */
int carnet_alog__row_error(carnet_error *err, const char *path, uint64_t seq,
			   const char *what);
int carnet_alog__exec(sqlite3 *db, const char *path, const char *sql,
		      const char *what, carnet_error *err);
int carnet_alog__prepare(sqlite3 *db, const char *path, sqlite3_stmt **st,
			 const char *sql, carnet_error *err);
/* End the write transaction on db: st (may be NULL) is finalized; with rc
 * CARNET_OK the transaction is committed (what names the commit), else,
 * or when the commit fails, rolled back. Returns rc or the commit's. */
int carnet_alog__end(sqlite3 *db, const char *path, sqlite3_stmt *st, int rc,
		     const char *what, carnet_error *err);
/* Open the existing file at path with sqlite, without creating it: a
 * missing, empty or non-regular file is refused with what it is. */
int carnet_alog__open_db(sqlite3 **out, const char *path, int readonly,
			 carnet_error *err);

/* ---- access_log_schema.c ---- */

/* Is the schema of db exactly carnet's (no object missing, added or
 * changed), the version 2 and the journal WAL? */
int carnet_alog__check_schema(sqlite3 *db, const char *path, carnet_error *err);
/* PRAGMA schema_version (changes with any change to the schema), or -1. */
int carnet_alog__schema_version(sqlite3 *db);

/* ---- access_log_chain.c ---- */

void carnet_alog__work_init(work *w);
void carnet_alog__work_free(work *w);
/* The values of the current row of st, whose columns are COLS. */
void carnet_alog__vals_of_stmt(sqlite3_stmt *st, val v[C_ALL]);
/* Does the stored hash of a row match its content? 1 or 0 (the hash into
 * computed). */
int carnet_alog__row_hash_ok(work *w, const val v[C_ALL], char computed[65]);
/* min or max of seq (sql says which), 0 when the table is empty. */
int carnet_alog__seq_bound(sqlite3 *db, const char *path, const char *sql,
			   uint64_t *out, carnet_error *err);
/* The chain of the last tail rows (every row when tail is 0) against the
 * head; rep gets what the walk found, rep->bad_seq the first broken row. */
int carnet_alog__check_chain(sqlite3 *db, const char *path, work *w, uint64_t tail,
			     carnet_alog_report *rep, carnet_error *err);
/* Append the row v (all but seq, prev and hash filled) after the head,
 * inside the caller's write transaction; its hash into hash_out. */
int carnet_alog__insert_row(sqlite3 *db, const char *path, work *w, val v[C_ALL],
			    char hash_out[65], carnet_error *err);
/* The last row against the head, before a row is chained to it. */
int carnet_alog__check_last(sqlite3 *db, const char *path, work *w,
			    carnet_error *err);

#endif
