/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access_log_chain.c - the chain of access.sqlite's rows: a row's values
 * and its SHA-256 over the previous hash and its content, the head row,
 * the walk that checks the chain against the head, and a row chained on. */
#include "access_log_int.h"

#include <stdio.h>

const char *const carnet_alog__cols[C_ALL] = {
	"seq", "at", "kind", "patient_id", "viewer_id", "role", "profession",
	"specialty", "emergency", "words", "doc_ids", "count", "status", "reason",
	"archive_upto", "archive_rows", "archive_last", "archive_file", "prev", "hash",
};

/* ---- the hash ---- */

static void put_be64(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
}

/* SHA-256 over a tag and the first C_HASHED values (the previous hash
 * among them), each as a type byte, then 8 bytes big-endian (an integer,
 * a real's bits, a length) and the bytes of a text or blob. Hex into out. */
static void hash_row(work *w, const val v[C_HASHED], char out[65])
{
	static const char tag[] = "carnet access log 2\n";
	static const char hex[] = "0123456789abcdef";
	struct sha256_ctx *ctx = &w->sha;
	unsigned char md[SHA256_DIGEST_SIZE], buf[1024];
	size_t used = 0;
	sha256_init(ctx);
	sha256_update(ctx, sizeof tag - 1, (const uint8_t *)tag);
	/* small pieces gathered in buf: one update per KB, not per field */
	for (int c = 0; c < C_HASHED; c++) {
		uint64_t x = 0;
		if (v[c].type == 'I')
			x = (uint64_t)v[c].i;
		else if (v[c].type == 'R')
			memcpy(&x, &v[c].r, sizeof x);
		else if (v[c].type == 'T' || v[c].type == 'B')
			x = v[c].n;
		if (used + 9 > sizeof buf) {
			sha256_update(ctx, used, buf);
			used = 0;
		}
		buf[used] = (unsigned char)v[c].type;
		put_be64(buf + used + 1, x);
		used += 9;
		if (v[c].type != 'T' && v[c].type != 'B')
			continue;
		if (used + v[c].n <= sizeof buf) {
			memcpy(buf + used, v[c].s, v[c].n);
			used += v[c].n;
		} else {
			sha256_update(ctx, used, buf);
			sha256_update(ctx, v[c].n, (const uint8_t *)v[c].s);
			used = 0;
		}
	}
	if (used)
		sha256_update(ctx, used, buf);
	sha256_digest(ctx, sizeof md, md);
	for (unsigned i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

void carnet_alog__work_init(work *w)
{
	memset(w, 0, sizeof *w);
}

void carnet_alog__work_free(work *w)
{
	sqlite3_finalize(w->head);
	sqlite3_finalize(w->insert);
	sqlite3_finalize(w->last);
	memset(w, 0, sizeof *w);
}

void carnet_alog__vals_of_stmt(sqlite3_stmt *st, val v[C_ALL])
{
	for (int c = 0; c < C_ALL; c++) {
		val *x = &v[c];
		memset(x, 0, sizeof *x);
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_INTEGER:
			x->type = 'I';
			x->i = sqlite3_column_int64(st, c);
			break;
		case SQLITE_FLOAT:
			x->type = 'R';
			x->r = sqlite3_column_double(st, c);
			break;
		case SQLITE_TEXT:
			x->type = 'T';
			x->s = (const char *)sqlite3_column_text(st, c);
			x->n = (size_t)sqlite3_column_bytes(st, c);
			break;
		case SQLITE_BLOB:
			x->type = 'B';
			x->s = sqlite3_column_blob(st, c);
			x->n = (size_t)sqlite3_column_bytes(st, c);
			break;
		default:
			x->type = 'N';
			break;
		}
		if ((x->type == 'T' || x->type == 'B') && !x->s)
			x->s = "";
	}
}

int carnet_alog__row_hash_ok(work *w, const val v[C_ALL], char computed[65])
{
	hash_row(w, v, computed);
	return text_is(&v[C_HASH], computed) ? 1 : 0;
}

/* ---- the head and the walk ---- */

/* A statement kept in *slot (prepared at first use, reset after), or
 * prepared for one use when slot is NULL; give it back with put_stmt. */
static int get_stmt(sqlite3 *db, const char *path, sqlite3_stmt **slot,
		    const char *sql, sqlite3_stmt **st, carnet_error *err)
{
	if (slot && *slot) {
		*st = *slot;
		return CARNET_OK;
	}
	int rc = carnet_alog__prepare(db, path, st, sql, err);
	if (rc == CARNET_OK && slot)
		*slot = *st;
	return rc;
}

static void put_stmt(sqlite3_stmt **slot, sqlite3_stmt *st)
{
	if (slot) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
}

typedef struct head {
	uint64_t seq, rows;
	char hash[65];
} head;

static int read_head(sqlite3 *db, const char *path, work *w, head *h, carnet_error *err)
{
	sqlite3_stmt *st;
	sqlite3_stmt **slot = w ? &w->head : NULL;
	int rc = get_stmt(db, path, slot, "SELECT seq, hash, rows FROM access_log_head", &st, err);
	if (rc)
		return rc;
	int n = 0, s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hash = (const char *)sqlite3_column_text(st, 1);
		h->seq = (uint64_t)sqlite3_column_int64(st, 0);
		h->rows = (uint64_t)sqlite3_column_int64(st, 2);
		snprintf(h->hash, sizeof h->hash, "%s", hash ? hash : "");
		n++;
	}
	put_stmt(slot, st);
	if (s != SQLITE_DONE)
		return carnet_alog__sql_fail(db, path, s, "read the head", err);
	if (n != 1)
		return carnet_alog__corrupt(err, path, "its head row is missing or doubled");
	return CARNET_OK;
}

/* min or max of seq, 0 when the table is empty. */
int carnet_alog__seq_bound(sqlite3 *db, const char *path, const char *sql, uint64_t *out,
			   carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_alog__prepare(db, path, &st, sql, err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	*out = s == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : carnet_alog__sql_fail(db, path, s,
									   "read the rows", err);
}

/* The first row must start the chain: row 1 with no previous hash, or the
 * row after the last archived one, whose hash an archive row records. */
static int check_start(sqlite3 *db, const char *path, uint64_t first,
		       const char *prev, carnet_error *err)
{
	if (first == 1)
		return strcmp(prev, ZERO_HASH) == 0
			       ? CARNET_OK
			       : carnet_alog__row_error(err, path, 1,
							"the first row names a previous row");
	sqlite3_stmt *st;
	int rc = carnet_alog__prepare(db, path, &st,
				      "SELECT 1 FROM access_log WHERE kind = 'archive' AND archive_upto = ?"
				      " AND archive_last = ?", err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)(first - 1));
	sqlite3_bind_text(st, 2, prev, -1, SQLITE_TRANSIENT);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	if (s == SQLITE_ROW)
		return CARNET_OK;
	if (s != SQLITE_DONE)
		return carnet_alog__sql_fail(db, path, s, "look for the archive row", err);
	char what[160];
	snprintf(what, sizeof what,
		 "rows 1 to %llu are gone and no archive row records them (deleted?)",
		 (unsigned long long)(first - 1));
	return carnet_alog__row_error(err, path, first, what);
}

/* Walk the rows from seq from to the end: no gap, each row's hash over
 * its content, each row naming the one before. rep gets the count and the
 * last row; rep->bad_seq the first row that breaks. */
static int walk(sqlite3 *db, const char *path, work *w, uint64_t from,
		carnet_alog_report *rep, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_alog__prepare(db, path, &st,
				      "SELECT " COLS " FROM access_log WHERE seq >= ? ORDER BY seq",
				      err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	uint64_t expect = 0;
	char prev[65] = "", computed[65];
	int s;
	rep->rows = 0;
	rep->first_seq = rep->last_seq = 0;
	snprintf(rep->head, sizeof rep->head, "%s", ZERO_HASH);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		val v[C_ALL];
		carnet_alog__vals_of_stmt(st, v);
		uint64_t seq = v[C_SEQ].type == 'I' ? (uint64_t)v[C_SEQ].i : 0;
		const char *what = NULL;
		if (expect && seq != expect) {
			seq = expect;
			what = "missing: the next row follows the one before it (deleted?)";
		} else if (v[C_PREV].type != 'T' || v[C_HASH].type != 'T') {
			what = "its hashes are not text";
		} else if (expect && !text_is(&v[C_PREV], prev)) {
			what = "does not name the row before it (a row inserted, removed or moved?)";
		} else {
			if (!carnet_alog__row_hash_ok(w, v, computed))
				what = "its content does not match its hash (edited?)";
		}
		if (what) {
			sqlite3_finalize(st);
			rep->bad_seq = seq;
			return carnet_alog__row_error(err, path, seq, what);
		}
		if (!rep->rows)
			rep->first_seq = seq;
		rep->rows++;
		rep->last_seq = seq;
		snprintf(prev, sizeof prev, "%.*s", (int)v[C_HASH].n, v[C_HASH].s);
		expect = seq + 1;
	}
	sqlite3_finalize(st);
	if (s != SQLITE_DONE)
		return carnet_alog__sql_fail(db, path, s, "read the rows", err);
	if (rep->rows)
		snprintf(rep->head, sizeof rep->head, "%s", prev);
	return CARNET_OK;
}

/* The previous hash of row seq, into out. */
static int prev_of(sqlite3 *db, const char *path, uint64_t seq, char out[65],
		   carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_alog__prepare(db, path, &st, "SELECT prev FROM access_log WHERE seq = ?",
				      err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	out[0] = '\0';
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : carnet_alog__sql_fail(db, path, s,
									   "read a row", err);
}

/* The chain from row from to the end, against the head: a full walk when
 * from is the first row. */
int carnet_alog__check_chain(sqlite3 *db, const char *path, work *w, uint64_t tail,
			     carnet_alog_report *rep, carnet_error *err)
{
	head h;
	uint64_t first, last;
	int rc;
	memset(rep, 0, sizeof *rep);
	if ((rc = read_head(db, path, w, &h, err)) ||
	    (rc = carnet_alog__seq_bound(db, path, "SELECT min(seq) FROM access_log", &first,
					 err)) ||
	    (rc = carnet_alog__seq_bound(db, path, "SELECT max(seq) FROM access_log", &last, err)))
		return rc;
	uint64_t from = first;
	if (tail && last > first && last - first >= tail)
		from = last - tail + 1;
	if ((rc = walk(db, path, w, from, rep, err)))
		return rc;
	char what[200];
	if (last < h.seq) {
		snprintf(what, sizeof what, "rows %llu to %llu are missing: the head is row %llu "
			 "(the log was truncated?)", (unsigned long long)last + 1,
			 (unsigned long long)h.seq, (unsigned long long)h.seq);
		rep->bad_seq = last + 1;
		return carnet_alog__corrupt(err, path, "%s", what);
	}
	if (last > h.seq) {
		snprintf(what, sizeof what, "row %llu is past the head (row %llu): added behind "
			 "carnet's back", (unsigned long long)last, (unsigned long long)h.seq);
		rep->bad_seq = h.seq + 1;
		return carnet_alog__corrupt(err, path, "%s", what);
	}
	if (strcmp(rep->head, h.hash) != 0) {
		rep->bad_seq = last;
		return carnet_alog__row_error(err, path, last,
					      "its hash is not the one the head holds");
	}
	uint64_t rows = last ? last - first + 1 : 0;
	if (rows != h.rows) {
		snprintf(what, sizeof what, "it holds %llu rows, its head counts %llu "
			 "(rows removed or added behind carnet's back)",
			 (unsigned long long)rows, (unsigned long long)h.rows);
		return carnet_alog__corrupt(err, path, "%s", what);
	}
	if (first) {
		char prev[65];
		if ((rc = prev_of(db, path, first, prev, err)) ||
		    (rc = check_start(db, path, first, prev, err))) {
			if (rc == CARNET_E_CORRUPT)
				rep->bad_seq = first;
			return rc;
		}
	}
	rep->first_seq = first;
	rep->last_seq = last;
	rep->rows = rows;
	return CARNET_OK;
}

/* ---- chaining a row ---- */

int carnet_alog__insert_row(sqlite3 *db, const char *path, work *w, val v[C_ALL],
			    char hash_out[65], carnet_error *err)
{
	head h;
	int rc = read_head(db, path, w, &h, err);
	if (rc)
		return rc;
	v[C_SEQ] = v_int((int64_t)(h.seq + 1));
	v[C_PREV] = v_text(h.hash);
	hash_row(w, v, hash_out);
	v[C_HASH] = v_text(hash_out);
	sqlite3_stmt *st;
	if ((rc = get_stmt(db, path, &w->insert, "INSERT INTO access_log(" COLS ") VALUES(?, ?,"
			   " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, err)))
		return rc;
	for (int c = 0; c < C_ALL; c++) {
		if (v[c].type == 'I')
			sqlite3_bind_int64(st, c + 1, v[c].i);
		else if (v[c].type == 'T')
			sqlite3_bind_text(st, c + 1, v[c].s, (int)v[c].n, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, c + 1);
	}
	int s = sqlite3_step(st);
	put_stmt(&w->insert, st);
	if (s != SQLITE_DONE)
		return carnet_alog__sql_fail(db, path, s, "write a row", err);
	/* a trigger that ignores the insert would let the search go unlogged */
	head after;
	if (sqlite3_changes(db) != 1 || (rc = read_head(db, path, w, &after, err)) ||
	    after.seq != h.seq + 1 || strcmp(after.hash, hash_out) != 0)
		return rc ? rc : carnet_alog__corrupt(err, path,
						      "a row written did not reach the head "
						      "(a trigger added to ignore it?)");
	return CARNET_OK;
}

int carnet_alog__check_last(sqlite3 *db, const char *path, work *w, carnet_error *err)
{
	head h;
	int rc = read_head(db, path, w, &h, err);
	if (rc || h.seq == 0)
		return rc;
	sqlite3_stmt *st;
	if ((rc = get_stmt(db, path, &w->last, "SELECT " COLS " FROM access_log WHERE seq = ?",
			   &st, err)))
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)h.seq);
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		val v[C_ALL];
		char computed[65];
		carnet_alog__vals_of_stmt(st, v);
		int ok = carnet_alog__row_hash_ok(w, v, computed) &&
			 strcmp(computed, h.hash) == 0;
		put_stmt(&w->last, st);
		return ok ? CARNET_OK
			  : carnet_alog__row_error(err, path, h.seq,
						   "its content does not match the head's hash (edited?)");
	}
	put_stmt(&w->last, st);
	if (s != SQLITE_DONE)
		return carnet_alog__sql_fail(db, path, s, "read the last row", err);
	return carnet_alog__row_error(err, path, h.seq, "the head's row is missing (deleted?)");
}
