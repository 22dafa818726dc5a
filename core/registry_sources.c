/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry_sources.c - the source files of the registry: their content
 * hashes and states, renames, the sources a sync did not see, and the
 * rejected inputs with their reasons. */
#include "registry_int.h"

#include <string.h>

int carnet_registry__source_get(carnet_registry *r, const char *path,
				int *state_out, char hash_out[64],
				char *reason_out, size_t reason_size,
				carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__select(r, &st,
					 "SELECT content_hash, state, reason FROM sources WHERE path = ?",
					 path, err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	*state_out = CARNET_SOURCE_NONE;
	if (s == SQLITE_ROW) {
		carnet_registry__copy_col(st, 0, hash_out, 64);
		const unsigned char *state = sqlite3_column_text(st, 1);
		*state_out = state && strcmp((const char *)state, "indexed") == 0
				     ? CARNET_SOURCE_INDEXED
				     : CARNET_SOURCE_REJECTED;
		carnet_registry__copy_col(st, 2, reason_out, reason_size);
	}
	carnet_registry__release(r, st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return carnet_registry__fail(r, err, s, "look up source");
	return CARNET_OK;
}

int carnet_registry__source_set(carnet_registry *r, const char *path,
				const char *hash, int state,
				const char *reason, carnet_error *err)
{
	/* a reject keeps its rejected_since while the same content is refused
	 * for the same reason; anything else starts it again */
	sqlite3_stmt *st;
	int rc = carnet_registry__cached(r, &st,
			 "INSERT INTO sources(path, content_hash, state, reason, updated_at,"
			 " rejected_since) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
			 " ON CONFLICT(path) DO UPDATE SET content_hash = excluded.content_hash,"
			 " state = excluded.state, reason = excluded.reason,"
			 " updated_at = excluded.updated_at,"
			 " rejected_since = CASE WHEN excluded.state = 'rejected'"
			 "  AND sources.state = 'rejected'"
			 "  AND sources.content_hash = excluded.content_hash"
			 "  AND sources.reason IS excluded.reason"
			 "  AND sources.rejected_since IS NOT NULL"
			 " THEN sources.rejected_since ELSE excluded.rejected_since END",
			 err);
	if (rc)
		return rc;
	char now[32], since[32];
	carnet_registry__now(now);
	carnet_sqlite__now_ms(since);
	int indexed = state == CARNET_SOURCE_INDEXED;
	carnet_registry__bind_text(st, 1, path);
	carnet_registry__bind_text(st, 2, hash);
	carnet_registry__bind_text(st, 3, indexed ? "indexed" : "rejected");
	carnet_registry__bind_text(st, 4, reason); /* indexed: a note, or NULL */
	carnet_registry__bind_text(st, 5, now);
	carnet_registry__bind_text(st, 6, indexed ? NULL : since);
	return carnet_registry__run(r, st, "record source", err);
}

int carnet_registry__source_delete(carnet_registry *r, const char *path,
				   carnet_error *err)
{
	return carnet_registry__write(r, "DELETE FROM sources WHERE path = ?", "forget source",
				      err, 1, path);
}

int carnet_registry__source_move(carnet_registry *r, const char *from,
				 const char *to, carnet_error *err)
{
	int rc = carnet_registry__write(r, "UPDATE documents SET source_path = ?2"
				       " WHERE source_path = ?1", "move documents to their new path",
				       err, 2, from, to);
	return rc ? rc : carnet_registry__source_delete(r, from, err);
}

int carnet_registry__retry_conflicts(carnet_registry *r, carnet_error *err)
{
	return carnet_registry__exec(r,
				     "UPDATE sources SET content_hash = '' WHERE state = 'rejected'"
				     " AND content_hash <> '' AND reason LIKE '%is already indexed from%'",
				     "retry conflicting sources", err);
}

/* Create the connection's temporary table of the sources seen, once. */
static int seen_table(carnet_registry *r, carnet_error *err)
{
	if (r->seen_table)
		return CARNET_OK;
	int rc = carnet_registry__exec(r,
				       "CREATE TEMP TABLE IF NOT EXISTS seen(path TEXT PRIMARY KEY)",
				       "create seen table", err);
	if (rc == CARNET_OK)
		r->seen_table = 1;
	return rc;
}

int carnet_registry__seen(carnet_registry *r, const char *path,
			  carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = seen_table(r, err);
	if (rc == CARNET_OK)
		rc = carnet_registry__select(r, &st, "INSERT OR IGNORE INTO temp.seen VALUES(?)",
					     path, err);
	if (rc)
		return rc;
	return carnet_registry__run(r, st, "note source", err);
}

int carnet_registry__unseen_sources(carnet_registry *r, const char *prefix,
				    int (*cb)(const char *path, void *payload),
				    void *payload, carnet_error *err)
{
	int rc = seen_table(r, err);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	rc = carnet_registry__prepare(r, &st,
				      "SELECT path FROM sources WHERE substr(path, 1, length(?1)) = ?1"
				      " AND path NOT IN (SELECT path FROM temp.seen) ORDER BY path",
				      err);
	if (rc)
		return rc;
	carnet_registry__bind_text(st, 1, prefix);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(st, 0);
		rc = cb(p ? (const char *)p : "", payload);
		if (rc) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return s == SQLITE_DONE ? CARNET_OK
				: carnet_registry__fail(r, err, s, "list unseen sources");
}

int carnet_registry__rejects(carnet_registry *r, carnet_reject_cb cb,
			     void *payload, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__prepare(r, &st,
					  "SELECT path, reason, coalesce(rejected_since, updated_at) AS since"
					  " FROM sources WHERE state = 'rejected' ORDER BY since, path",
					  err);
	if (rc)
		return rc;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *p = sqlite3_column_text(st, 0);
		const unsigned char *why = sqlite3_column_text(st, 1);
		const unsigned char *when = sqlite3_column_text(st, 2);
		rc = cb(p ? (const char *)p : "", why ? (const char *)why : "",
			when ? (const char *)when : "", payload);
		if (rc) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return s == SQLITE_DONE ? CARNET_OK : carnet_registry__fail(r, err, s, "list rejects");
}
