/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry.c - registry.sqlite: opening it, its schema and migrations,
 * transactions, metadata, and the statement helpers of the registry_*.c
 * files (sources, documents, visibility). */
#include "registry_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Migration n brings a registry from schema n-1 to n. Append only. */
static const char *const migrations[] = {
	NULL,
	/* 1: first schema */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE sources("
	"  path TEXT PRIMARY KEY,"
	"  content_hash TEXT NOT NULL,"
	"  state TEXT NOT NULL CHECK (state IN ('indexed','rejected')),"
	"  reason TEXT,"
	"  updated_at TEXT NOT NULL);"
	"CREATE TABLE documents("
	"  id TEXT PRIMARY KEY,"
	"  set_id TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  patient_id TEXT NOT NULL,"
	"  patient_system TEXT,"
	"  type TEXT,"
	"  title TEXT,"
	"  date TEXT,"
	"  author_id TEXT,"
	"  author_specialty TEXT,"
	"  confidentiality TEXT,"
	"  language TEXT,"
	"  format TEXT,"
	"  source_path TEXT NOT NULL,"
	"  indexed_at TEXT NOT NULL);"
	"CREATE INDEX documents_patient ON documents(patient_id);"
	"CREATE INDEX documents_set ON documents(set_id);"
	"CREATE INDEX documents_source ON documents(source_path);"
	"CREATE INDEX sources_state ON sources(state);",
	/* 2: what CDA and FHIR documents say beyond the sidecar fields */
	"ALTER TABLE documents ADD COLUMN class_code TEXT;"
	"ALTER TABLE documents ADD COLUMN practice_setting TEXT;"
	"ALTER TABLE documents ADD COLUMN facility TEXT;"
	"ALTER TABLE documents ADD COLUMN author_name TEXT;"
	"ALTER TABLE documents ADD COLUMN custodian TEXT;"
	"ALTER TABLE documents ADD COLUMN service_start TEXT;"
	"ALTER TABLE documents ADD COLUMN service_end TEXT;"
	"ALTER TABLE documents ADD COLUMN replaces TEXT;"
	"ALTER TABLE documents ADD COLUMN other_patient_ids TEXT;",
	/* 3: visibility changed after upload, kept across re-reads */
	"CREATE TABLE visibility("
	"  id TEXT NOT NULL,"
	"  code TEXT NOT NULL,"
	"  hidden INTEGER NOT NULL,"
	"  changed_at TEXT NOT NULL,"
	"  PRIMARY KEY (id, code));",
	/* 4: when a reject was first recorded with its content and reason
	 * (kept while the same input is refused again for the same reason),
	 * so that a run can tell its new rejects from those on record */
	"ALTER TABLE sources ADD COLUMN rejected_since TEXT;"
	"UPDATE sources SET rejected_since = updated_at WHERE state = 'rejected';",
};

#define SCHEMA_LATEST ((int)(sizeof migrations / sizeof migrations[0]) - 1)

/* ---- errors and statements ---- */

int carnet_registry__fail(carnet_registry *r, carnet_error *err, int rc,
			  const char *what)
{
	return carnet_sqlite__fail(err, r ? r->db : NULL, rc, "registry", r ? r->path : "",
				   what);
}

int carnet_registry__exec(carnet_registry *r, const char *sql, const char *what,
			  carnet_error *err)
{
	int rc = sqlite3_exec(r->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CARNET_OK : carnet_registry__fail(r, err, rc, what);
}

int carnet_registry__prepare(carnet_registry *r, sqlite3_stmt **st, const char *sql,
			     carnet_error *err)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? CARNET_OK : carnet_registry__fail(r, err, rc, "prepare");
}

int carnet_registry__cached(carnet_registry *r, sqlite3_stmt **st, const char *sql,
			    carnet_error *err)
{
	size_t i;
	for (i = 0; i < STMT_CACHE && r->cache[i].sql; i++) {
		if (r->cache[i].sql == sql && !r->cache[i].busy) {
			r->cache[i].busy = 1;
			*st = r->cache[i].st;
			return CARNET_OK;
		}
	}
	if (i == STMT_CACHE)
		return carnet_registry__prepare(r, st, sql, err);
	int rc = sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (rc != SQLITE_OK)
		return carnet_registry__fail(r, err, rc, "prepare");
	r->cache[i].sql = sql;
	r->cache[i].st = *st;
	r->cache[i].busy = 1;
	return CARNET_OK;
}

int carnet_registry__select(carnet_registry *r, sqlite3_stmt **st, const char *sql,
			    const char *key, carnet_error *err)
{
	int rc = carnet_registry__cached(r, st, sql, err);
	if (rc == CARNET_OK)
		carnet_registry__bind_text(*st, 1, key);
	return rc;
}

void carnet_registry__release(carnet_registry *r, sqlite3_stmt *st)
{
	for (size_t i = 0; i < STMT_CACHE && r->cache[i].sql; i++) {
		if (r->cache[i].st == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			r->cache[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(st);
}

void carnet_registry__bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

int carnet_registry__run(carnet_registry *r, sqlite3_stmt *st, const char *what,
			 carnet_error *err)
{
	int rc = sqlite3_step(st);
	int done = rc == SQLITE_DONE ? CARNET_OK : carnet_registry__fail(r, err, rc, what);
	carnet_registry__release(r, st);
	return done;
}

int carnet_registry__write(carnet_registry *r, const char *sql, const char *what,
			   carnet_error *err, int n, ...)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__prepare(r, &st, sql, err);
	if (rc)
		return rc;
	va_list ap;
	va_start(ap, n);
	for (int i = 1; i <= n; i++)
		carnet_registry__bind_text(st, i, va_arg(ap, const char *));
	va_end(ap);
	return carnet_registry__run(r, st, what, err);
}

int carnet_registry__lookup(carnet_registry *r, const char *sql, const char *key,
			    char *out, size_t size, int *found_out, const char *what,
			    carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__select(r, &st, sql, key, err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	if (out && size)
		out[0] = '\0';
	if (s == SQLITE_ROW)
		carnet_registry__copy_col(st, 0, out, size);
	if (found_out)
		*found_out = s == SQLITE_ROW;
	carnet_registry__release(r, st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : carnet_registry__fail(r, err, s, what);
}

void carnet_registry__copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
	if (!out || !size)
		return;
	const unsigned char *v = sqlite3_column_text(st, col);
	snprintf(out, size, "%s", v ? (const char *)v : "");
}

/* ---- opening: schema and migrations ---- */

static int user_version(carnet_registry *r, int *out, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_registry__prepare(r, &st, "PRAGMA user_version", err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	*out = s == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return s == SQLITE_ROW ? CARNET_OK
			       : carnet_registry__fail(r, err, s, "read schema version");
}

/* Migration v + 1, inside the caller's transaction; the first stamps the
 * index format. */
static int migrate_one(carnet_registry *r, int v, carnet_error *err)
{
	char setv[64];
	snprintf(setv, sizeof setv, "PRAGMA user_version = %d", v + 1);
	int rc;
	if ((rc = carnet_registry__exec(r, migrations[v + 1], "migrate", err)) ||
	    (rc = carnet_registry__exec(r, setv, "set schema version", err)))
		return rc;
	if (v != 0)
		return CARNET_OK;
	char fmt[128];
	snprintf(fmt, sizeof fmt, "INSERT INTO meta VALUES('index_format', '%d')",
		 CARNET_INDEX_FORMAT);
	return carnet_registry__exec(r, fmt, "stamp format", err);
}

/* Bring the schema to SCHEMA_LATEST, one migration per transaction. */
static int migrate(carnet_registry *r, carnet_error *err)
{
	int v;
	int rc = user_version(r, &v, err);
	if (rc)
		return rc;
	if (v > SCHEMA_LATEST)
		return carnet_error__set(err, CARNET_E_VERSION,
					 CARNET_ORIGIN_CARNET, 0,
					 "registry %s has schema %d, this library knows up to %d",
					 r->path, v, SCHEMA_LATEST);
	while (v < SCHEMA_LATEST) {
		if ((rc = carnet_registry__exec(r, "BEGIN IMMEDIATE", "begin migration", err)))
			return rc;
		/* another process may have migrated meanwhile */
		int now;
		if ((rc = user_version(r, &now, err)) == CARNET_OK && now == v)
			rc = migrate_one(r, v, err);
		if (rc || now != v) {
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			if (rc)
				return rc;
			v = now;
			continue;
		}
		if ((rc = carnet_registry__exec(r, "COMMIT", "commit migration", err)))
			return rc;
		v++;
	}
	return CARNET_OK;
}

int carnet_registry__open(carnet_registry **out, const char *path, int create,
			  carnet_error *err)
{
	*out = NULL;
	if (!create && access(path, F_OK) != 0)
		return carnet_error__set(err, CARNET_E_NOTFOUND,
					 CARNET_ORIGIN_CARNET, 0,
					 "no registry at %s", path);
	carnet_registry *r = calloc(1, sizeof *r);
	if (!r)
		return carnet_error__nomem(err, "opening registry");
	snprintf(r->path, sizeof r->path, "%s", path);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    (create ? SQLITE_OPEN_CREATE : 0);
	/* Readers (viewers, extraction threads) do not checkpoint when they
	 * close: that fsyncs, and a viewer that runs carnet-query once per
	 * record opening would wait for the disk every time. The WAL is
	 * checkpointed by the commits that make it grow (sqlite's automatic
	 * checkpoint) and by the writer. */
	int rc = carnet_sqlite__open(&r->db, path, flags, !create);
	if (rc != SQLITE_OK) {
		rc = carnet_registry__fail(r, err, rc, "open");
		goto fail;
	}
	if ((rc = carnet_registry__exec(r, "PRAGMA journal_mode=WAL", "set WAL mode", err)) ||
	    (rc = carnet_registry__exec(r, "PRAGMA synchronous=NORMAL", "set synchronous", err)) ||
	    (rc = migrate(r, err)))
		goto fail;
	char fmt[32];
	if ((rc = carnet_registry__meta_get(r, "index_format", fmt, sizeof fmt, err)))
		goto fail;
	if (atoi(fmt) != CARNET_INDEX_FORMAT) {
		rc = carnet_error__set(err, CARNET_E_VERSION, CARNET_ORIGIN_CARNET,
				       0, "registry %s has index format '%s', this library reads format %d",
				       path, fmt, CARNET_INDEX_FORMAT);
		goto fail;
	}
	*out = r;
	return CARNET_OK;
fail:
	carnet_registry__close(r);
	return rc;
}

/* ---- the connection ---- */

void carnet_registry__close(carnet_registry *r)
{
	if (!r)
		return;
	if (r->in_txn)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	for (size_t i = 0; i < STMT_CACHE && r->cache[i].sql; i++)
		sqlite3_finalize(r->cache[i].st);
	sqlite3_close(r->db);
	free(r);
}

int carnet_registry__begin(carnet_registry *r, carnet_error *err)
{
	if (r->in_txn)
		return CARNET_OK;
	int rc = carnet_registry__exec(r, "BEGIN IMMEDIATE", "begin", err);
	if (rc == CARNET_OK)
		r->in_txn = 1;
	return rc;
}

int carnet_registry__commit(carnet_registry *r, carnet_error *err)
{
	if (!r->in_txn)
		return CARNET_OK;
	int rc = carnet_registry__exec(r, "COMMIT", "commit", err);
	if (rc == CARNET_OK)
		r->in_txn = 0;
	return rc;
}

int carnet_registry__in_txn(const carnet_registry *r)
{
	return r->in_txn;
}

uint64_t carnet_registry__changes(const carnet_registry *r)
{
	return (uint64_t)sqlite3_total_changes64(r->db);
}

void carnet_registry__rollback(carnet_registry *r)
{
	if (r->in_txn)
		sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
	r->in_txn = 0;
}

void carnet_registry__now(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- metadata ---- */

int carnet_registry__meta_get(carnet_registry *r, const char *key, char *out,
			      size_t out_size, carnet_error *err)
{
	return carnet_registry__lookup(r, "SELECT value FROM meta WHERE key = ?", key, out,
				       out_size, NULL, "read metadata", err);
}

int carnet_registry__meta_set(carnet_registry *r, const char *key,
			      const char *value, carnet_error *err)
{
	return carnet_registry__write(r, "INSERT OR REPLACE INTO meta VALUES(?, ?)",
				      "write metadata", err, 2, key, value);
}
