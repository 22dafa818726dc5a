/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry.c - registry.sqlite: schema, migrations and the queries the
 * indexer and the query side need. With access_log.c, the files that include
 * sqlite3.h. */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "home.h"

#define STMT_CACHE 16

struct carnet_registry {
	sqlite3 *db;
	int in_txn;
	int seen_table; /* temp.seen exists on this connection */
	char path[4096];
	struct {
		const char *sql;  /* a string literal: looked up by address */
		sqlite3_stmt *st;
		int busy;         /* handed out and not yet released */
	} cache[STMT_CACHE];  /* the statements run for every input */
};

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

/* Map a sqlite result code to a carnet status and fill err. */
static int sql_fail(carnet_registry *r, carnet_error *err, int rc,
		    const char *what)
{
	int code;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		code = CARNET_E_LOCKED;
		break;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		code = CARNET_E_CORRUPT;
		break;
	case SQLITE_NOMEM:
		code = CARNET_E_NOMEM;
		break;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		code = CARNET_E_IO;
		break;
	default:
		code = CARNET_E_INTERNAL;
		break;
	}
	const char *msg = r && r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc);
	return carnet_error__set(err, code, CARNET_ORIGIN_SQLITE, rc,
				 "registry %s: %s: %s", r ? r->path : "", what,
				 msg);
}

static int exec(carnet_registry *r, const char *sql, const char *what,
		carnet_error *err)
{
	int rc = sqlite3_exec(r->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CARNET_OK : sql_fail(r, err, rc, what);
}

static int prepare(carnet_registry *r, sqlite3_stmt **st, const char *sql,
		   carnet_error *err)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? CARNET_OK : sql_fail(r, err, rc, "prepare");
}

/* Like prepare, for the statements run once or more per input: sql must be
 * a string literal; the statement is compiled once per connection and
 * kept. Give it back with release(). */
static int cached(carnet_registry *r, sqlite3_stmt **st, const char *sql,
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
		return prepare(r, st, sql, err);
	int rc = sqlite3_prepare_v3(r->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
	if (rc != SQLITE_OK)
		return sql_fail(r, err, rc, "prepare");
	r->cache[i].sql = sql;
	r->cache[i].st = *st;
	r->cache[i].busy = 1;
	return CARNET_OK;
}

/* Done with st: reset a cached statement, finalize any other. */
static void release(carnet_registry *r, sqlite3_stmt *st)
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

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* Step a statement that returns no rows, then finalize it. */
static int run(carnet_registry *r, sqlite3_stmt *st, const char *what,
	       carnet_error *err)
{
	int rc = sqlite3_step(st);
	int done = rc == SQLITE_DONE ? CARNET_OK : sql_fail(r, err, rc, what);
	release(r, st);
	return done;
}

static int user_version(carnet_registry *r, int *out, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st, "PRAGMA user_version", err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	*out = s == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	return s == SQLITE_ROW ? CARNET_OK : sql_fail(r, err, s, "read schema version");
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
		char setv[64];
		snprintf(setv, sizeof setv, "PRAGMA user_version = %d", v + 1);
		if ((rc = exec(r, "BEGIN IMMEDIATE", "begin migration", err)))
			return rc;
		/* another process may have migrated meanwhile */
		int now;
		if ((rc = user_version(r, &now, err)) || now != v) {
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			if (rc)
				return rc;
			v = now;
			continue;
		}
		if ((rc = exec(r, migrations[v + 1], "migrate", err)) ||
		    (rc = exec(r, setv, "set schema version", err))) {
			sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
		if (v == 0) {
			char fmt[128];
			snprintf(fmt, sizeof fmt,
				 "INSERT INTO meta VALUES('index_format', '%d')",
				 CARNET_INDEX_FORMAT);
			if ((rc = exec(r, fmt, "stamp format", err))) {
				sqlite3_exec(r->db, "ROLLBACK", NULL, NULL, NULL);
				return rc;
			}
		}
		if ((rc = exec(r, "COMMIT", "commit migration", err)))
			return rc;
		v++;
	}
	return CARNET_OK;
}

/* The directory of a file path into dir. 0 on success. */
static int dir_of(char *dir, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) : 1;
	if (n >= size)
		return -1;
	memcpy(dir, slash ? path : ".", n);
	dir[n] = '\0';
	return 0;
}

/* In a directory shared with viewers who cannot create files there (home.h),
 * the -wal and -shm files of a database must outlive its connections: a
 * viewer may open it read-only (the registry) or write it (the access log)
 * only when they exist. sqlite gives them the database file's mode. */
static void keep_wal_files(sqlite3 *db, const char *schema, const char *path)
{
	char dir[CARNET_PATH_MAX];
	int on = 1;
	if (dir_of(dir, sizeof dir, path) == 0 && carnet_home__shared(dir))
		sqlite3_file_control(db, schema, SQLITE_FCNTL_PERSIST_WAL, &on);
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
		return carnet_error__set(err, CARNET_E_NOMEM,
					 CARNET_ORIGIN_CARNET, 0,
					 "out of memory opening registry");
	snprintf(r->path, sizeof r->path, "%s", path);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    (create ? SQLITE_OPEN_CREATE : 0);
	int rc = sqlite3_open_v2(path, &r->db, flags, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_fail(r, err, rc, "open");
		goto fail;
	}
	sqlite3_busy_timeout(r->db, 5000);
	sqlite3_extended_result_codes(r->db, 1);
	keep_wal_files(r->db, "main", path);
	/* Readers (viewers, extraction threads) do not checkpoint when they
	 * close: that fsyncs, and a viewer that runs carnet-query once per
	 * record opening would wait for the disk every time. The WAL is
	 * checkpointed by the commits that make it grow (sqlite's automatic
	 * checkpoint) and by the writer. */
	if (!create)
		sqlite3_db_config(r->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	if ((rc = exec(r, "PRAGMA journal_mode=WAL", "set WAL mode", err)) ||
	    (rc = exec(r, "PRAGMA synchronous=NORMAL", "set synchronous", err)) ||
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
	int rc = exec(r, "BEGIN IMMEDIATE", "begin", err);
	if (rc == CARNET_OK)
		r->in_txn = 1;
	return rc;
}

int carnet_registry__commit(carnet_registry *r, carnet_error *err)
{
	if (!r->in_txn)
		return CARNET_OK;
	int rc = exec(r, "COMMIT", "commit", err);
	if (rc == CARNET_OK)
		r->in_txn = 0;
	return rc;
}

int carnet_registry__in_txn(const carnet_registry *r)
{
	return r->in_txn;
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

/* Current UTC time to the millisecond, "YYYY-MM-DDTHH:MM:SS.mmmZ": two
 * runs of the indexer never share one. */
static void now_ms(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t size)
{
	if (!out || !size)
		return;
	const unsigned char *v = sqlite3_column_text(st, col);
	snprintf(out, size, "%s", v ? (const char *)v : "");
}

int carnet_registry__source_get(carnet_registry *r, const char *path,
				int *state_out, char hash_out[64],
				char *reason_out, size_t reason_size,
				carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st,
			 "SELECT content_hash, state, reason FROM sources WHERE path = ?",
			 err);
	if (rc)
		return rc;
	bind_text(st, 1, path);
	int s = sqlite3_step(st);
	*state_out = CARNET_SOURCE_NONE;
	if (s == SQLITE_ROW) {
		copy_col(st, 0, hash_out, 64);
		const unsigned char *state = sqlite3_column_text(st, 1);
		*state_out = state && strcmp((const char *)state, "indexed") == 0
				     ? CARNET_SOURCE_INDEXED
				     : CARNET_SOURCE_REJECTED;
		copy_col(st, 2, reason_out, reason_size);
	}
	release(r, st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return sql_fail(r, err, s, "look up source");
	return CARNET_OK;
}

int carnet_registry__source_set(carnet_registry *r, const char *path,
				const char *hash, int state,
				const char *reason, carnet_error *err)
{
	/* a reject keeps its rejected_since while the same content is refused
	 * for the same reason; anything else starts it again */
	sqlite3_stmt *st;
	int rc = cached(r, &st,
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
	now_ms(since);
	int indexed = state == CARNET_SOURCE_INDEXED;
	bind_text(st, 1, path);
	bind_text(st, 2, hash);
	bind_text(st, 3, indexed ? "indexed" : "rejected");
	bind_text(st, 4, indexed ? NULL : reason);
	bind_text(st, 5, now);
	bind_text(st, 6, indexed ? NULL : since);
	return run(r, st, "record source", err);
}

int carnet_registry__source_delete(carnet_registry *r, const char *path,
				   carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st, "DELETE FROM sources WHERE path = ?", err);
	if (rc)
		return rc;
	bind_text(st, 1, path);
	return run(r, st, "forget source", err);
}

int carnet_registry__source_move(carnet_registry *r, const char *from,
				 const char *to, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st, "UPDATE documents SET source_path = ?2 WHERE source_path = ?1",
			 err);
	if (rc)
		return rc;
	bind_text(st, 1, from);
	bind_text(st, 2, to);
	if ((rc = run(r, st, "move documents to their new path", err)))
		return rc;
	return carnet_registry__source_delete(r, from, err);
}

int carnet_registry__retry_conflicts(carnet_registry *r, carnet_error *err)
{
	return exec(r, "UPDATE sources SET content_hash = '' WHERE state = 'rejected'"
		       " AND content_hash <> '' AND reason LIKE '%is already indexed from%'",
		    "retry conflicting sources", err);
}

int carnet_registry__seen(carnet_registry *r, const char *path,
			  carnet_error *err)
{
	if (!r->seen_table) {
		int rc = exec(r, "CREATE TEMP TABLE IF NOT EXISTS seen(path TEXT PRIMARY KEY)",
			      "create seen table", err);
		if (rc)
			return rc;
		r->seen_table = 1;
	}
	sqlite3_stmt *st;
	int rc = cached(r, &st, "INSERT OR IGNORE INTO temp.seen VALUES(?)", err);
	if (rc)
		return rc;
	bind_text(st, 1, path);
	return run(r, st, "note source", err);
}

int carnet_registry__unseen_sources(carnet_registry *r, const char *prefix,
				    int (*cb)(const char *path, void *payload),
				    void *payload, carnet_error *err)
{
	int rc;
	if (!r->seen_table) {
		rc = exec(r, "CREATE TEMP TABLE IF NOT EXISTS seen(path TEXT PRIMARY KEY)",
			  "create seen table", err);
		if (rc)
			return rc;
		r->seen_table = 1;
	}
	sqlite3_stmt *st;
	rc = prepare(r, &st,
		     "SELECT path FROM sources WHERE substr(path, 1, length(?1)) = ?1"
		     " AND path NOT IN (SELECT path FROM temp.seen) ORDER BY path",
		     err);
	if (rc)
		return rc;
	bind_text(st, 1, prefix);
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
	return s == SQLITE_DONE ? CARNET_OK : sql_fail(r, err, s, "list unseen sources");
}

int carnet_registry__doc_put(carnet_registry *r, const carnet_doc *d,
			     carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st,
			 "INSERT OR REPLACE INTO documents(id, set_id, version, patient_id,"
			 " patient_system, type, title, date, author_id, author_specialty,"
			 " confidentiality, language, format, source_path, indexed_at,"
			 " class_code, practice_setting, facility, author_name, custodian,"
			 " service_start, service_end, replaces, other_patient_ids)"
			 " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			 err);
	if (rc)
		return rc;
	char now[32];
	carnet_registry__now(now);
	bind_text(st, 1, d->id);
	bind_text(st, 2, d->set_id ? d->set_id : d->id);
	sqlite3_bind_int(st, 3, d->version);
	bind_text(st, 4, d->patient_id);
	bind_text(st, 5, d->patient_system);
	bind_text(st, 6, d->type);
	bind_text(st, 7, d->title);
	bind_text(st, 8, d->date);
	bind_text(st, 9, d->author_id);
	bind_text(st, 10, d->author_specialty);
	bind_text(st, 11, d->confidentiality);
	bind_text(st, 12, d->language);
	bind_text(st, 13, d->format);
	bind_text(st, 14, d->source ? d->source : "");
	bind_text(st, 15, now);
	bind_text(st, 16, d->class_code);
	bind_text(st, 17, d->practice_setting);
	bind_text(st, 18, d->facility);
	bind_text(st, 19, d->author_name);
	bind_text(st, 20, d->custodian);
	bind_text(st, 21, d->service_start);
	bind_text(st, 22, d->service_end);
	bind_text(st, 23, d->replaces);
	bind_text(st, 24, d->other_ids);
	return run(r, st, "record document", err);
}

int carnet_registry__doc_delete(carnet_registry *r, const char *id,
				carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st, "DELETE FROM documents WHERE id = ?", err);
	if (rc)
		return rc;
	bind_text(st, 1, id);
	return run(r, st, "delete document", err);
}

static int each_doc(carnet_registry *r, const char *sql, const char *key,
		    const char *key2, carnet_registry_doc_cb cb, void *payload,
		    carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st, sql, err);
	if (rc)
		return rc;
	bind_text(st, 1, key);
	if (key2)
		bind_text(st, 2, key2);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *id = sqlite3_column_text(st, 0);
		const unsigned char *set = sqlite3_column_text(st, 1);
		const unsigned char *date = sqlite3_column_text(st, 3);
		rc = cb(id ? (const char *)id : "", set ? (const char *)set : "",
			sqlite3_column_int(st, 2),
			date ? (const char *)date : "", payload);
		if (rc) {
			release(r, st);
			return rc;
		}
	}
	release(r, st);
	return s == SQLITE_DONE ? CARNET_OK : sql_fail(r, err, s, "list documents");
}

int carnet_registry__docs_of_source(carnet_registry *r, const char *path,
				    carnet_registry_doc_cb cb, void *payload,
				    carnet_error *err)
{
	return each_doc(r,
			"SELECT id, set_id, version, date FROM documents WHERE source_path = ? ORDER BY id",
			path, NULL, cb, payload, err);
}

int carnet_registry__docs_of_set(carnet_registry *r, const char *patient,
				 const char *set_id, carnet_registry_doc_cb cb,
				 void *payload, carnet_error *err)
{
	return each_doc(r,
			"SELECT id, set_id, version, date FROM documents"
			" WHERE patient_id = ? AND set_id = ? ORDER BY id",
			patient, set_id, cb, payload, err);
}

int carnet_registry__set_clash(carnet_registry *r, const char *patient,
			       const char *set_id, const char *source,
			       char id_out[CARNET_ID_MAX + 1],
			       char patient_out[CARNET_ID_MAX + 1], carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st,
			"SELECT id, patient_id FROM documents WHERE set_id = ?"
			" AND patient_id <> ? AND source_path <> ? ORDER BY id LIMIT 1",
			err);
	if (rc)
		return rc;
	bind_text(st, 1, set_id);
	bind_text(st, 2, patient);
	bind_text(st, 3, source);
	int s = sqlite3_step(st);
	id_out[0] = patient_out[0] = '\0';
	if (s == SQLITE_ROW) {
		copy_col(st, 0, id_out, CARNET_ID_MAX + 1);
		copy_col(st, 1, patient_out, CARNET_ID_MAX + 1);
	}
	release(r, st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : sql_fail(r, err, s, "look up a set");
}

int carnet_registry__doc_owner(carnet_registry *r, const char *id,
			       char patient_out[CARNET_ID_MAX + 1],
			       char set_out[CARNET_ID_MAX + 1], char *source_out,
			       size_t source_size, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st,
			"SELECT patient_id, set_id, source_path FROM documents WHERE id = ?", err);
	if (rc)
		return rc;
	bind_text(st, 1, id);
	int s = sqlite3_step(st);
	patient_out[0] = set_out[0] = '\0';
	if (source_size)
		source_out[0] = '\0';
	if (s == SQLITE_ROW) {
		copy_col(st, 0, patient_out, CARNET_ID_MAX + 1);
		copy_col(st, 1, set_out, CARNET_ID_MAX + 1);
		copy_col(st, 2, source_out, source_size);
	}
	release(r, st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : sql_fail(r, err, s, "look up document");
}

int carnet_registry__count(carnet_registry *r, int which, uint64_t *out,
			   carnet_error *err)
{
	static const char *const sql[] = {
		[CARNET_COUNT_DOCUMENTS] = "SELECT count(*) FROM documents",
		[CARNET_COUNT_PATIENTS] = "SELECT count(DISTINCT patient_id) FROM documents",
		[CARNET_COUNT_SETS] = "SELECT count(DISTINCT set_id) FROM documents",
		[CARNET_COUNT_REJECTS] = "SELECT count(*) FROM sources WHERE state = 'rejected'",
	};
	if (which < 0 || which > CARNET_COUNT_REJECTS)
		return carnet_error__set(err, CARNET_E_INVALID,
					 CARNET_ORIGIN_CARNET, 0,
					 "unknown registry count %d", which);
	sqlite3_stmt *st;
	int rc = prepare(r, &st, sql[which], err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	*out = s == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return s == SQLITE_ROW ? CARNET_OK : sql_fail(r, err, s, "count");
}

int carnet_registry__rejects(carnet_registry *r, carnet_reject_cb cb,
			     void *payload, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st,
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
	return s == SQLITE_DONE ? CARNET_OK : sql_fail(r, err, s, "list rejects");
}

int carnet_registry__meta_get(carnet_registry *r, const char *key, char *out,
			      size_t out_size, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st, "SELECT value FROM meta WHERE key = ?", err);
	if (rc)
		return rc;
	bind_text(st, 1, key);
	int s = sqlite3_step(st);
	out[0] = '\0';
	if (s == SQLITE_ROW)
		copy_col(st, 0, out, out_size);
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE
		       ? CARNET_OK
		       : sql_fail(r, err, s, "read metadata");
}

int carnet_registry__meta_set(carnet_registry *r, const char *key,
			      const char *value, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st, "INSERT OR REPLACE INTO meta VALUES(?, ?)", err);
	if (rc)
		return rc;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	return run(r, st, "write metadata", err);
}

int carnet_registry__visibility_set(carnet_registry *r, const char *id,
				    const char *code, int hidden,
				    carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st,
			 "INSERT OR REPLACE INTO visibility(id, code, hidden, changed_at)"
			 " VALUES(?, ?, ?, ?)", err);
	if (rc)
		return rc;
	char now[32];
	carnet_registry__now(now);
	bind_text(st, 1, id);
	bind_text(st, 2, code);
	sqlite3_bind_int(st, 3, hidden != 0);
	bind_text(st, 4, now);
	return run(r, st, "record visibility", err);
}

/* Does the space-separated list have code? */
static int has_code(const char *list, const char *code)
{
	size_t n = strlen(code);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, " ");
		if (len == n && strncmp(p, code, n) == 0)
			return 1;
		p += len;
		while (*p == ' ')
			p++;
	}
	return 0;
}

int carnet_registry__visibility_apply(carnet_registry *r, carnet_doc *d,
				      carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st, "SELECT code, hidden FROM visibility WHERE id = ? ORDER BY code",
			 err);
	if (rc)
		return rc;
	bind_text(st, 1, d->id);
	carnet_buf out = CARNET_BUF_INIT;
	if (d->confidentiality && carnet_buf__puts(&out, d->confidentiality) != 0)
		goto nomem;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *code = (const char *)sqlite3_column_text(st, 0);
		int hidden = sqlite3_column_int(st, 1);
		if (!code)
			continue;
		if (hidden && !has_code(out.data, code)) {
			if ((out.len && carnet_buf__putc(&out, ' ') != 0) ||
			    carnet_buf__puts(&out, code) != 0)
				goto nomem;
		} else if (!hidden && has_code(out.data, code)) {
			/* rebuild the list without code */
			carnet_buf kept = CARNET_BUF_INIT;
			for (const char *p = out.data; *p;) {
				size_t len = strcspn(p, " ");
				if (!(len == strlen(code) && strncmp(p, code, len) == 0) &&
				    ((kept.len && carnet_buf__putc(&kept, ' ') != 0) ||
				     carnet_buf__put(&kept, p, len) != 0)) {
					carnet_buf__free(&kept);
					goto nomem;
				}
				p += len;
				while (*p == ' ')
					p++;
			}
			carnet_buf__free(&out);
			out = kept;
		}
	}
	release(r, st);
	if (s != SQLITE_DONE) {
		carnet_buf__free(&out);
		return sql_fail(r, err, s, "read visibility");
	}
	rc = carnet_doc__set(&d->confidentiality, out.len ? out.data : NULL, out.len) == 0
		     ? CARNET_OK
		     : carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory");
	carnet_buf__free(&out);
	return rc;
nomem:
	release(r, st);
	carnet_buf__free(&out);
	return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				 "out of memory");
}

int carnet_registry__doc_set_confidentiality(carnet_registry *r, const char *id,
					     const char *codes, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st, "UPDATE documents SET confidentiality = ? WHERE id = ?", err);
	if (rc)
		return rc;
	bind_text(st, 1, codes);
	bind_text(st, 2, id);
	return run(r, st, "record confidentiality", err);
}

int carnet_registry__copy_visibility(carnet_registry *r, const char *from_path,
				     carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(r, &st, "ATTACH DATABASE ? AS previous", err);
	if (rc)
		return rc;
	bind_text(st, 1, from_path);
	if ((rc = run(r, st, "open the previous registry", err)))
		return rc;
	rc = exec(r, "INSERT OR REPLACE INTO main.visibility SELECT id, code, hidden, changed_at"
		     " FROM previous.visibility", "copy visibility changes", err);
	sqlite3_exec(r->db, "DETACH DATABASE previous", NULL, NULL, NULL);
	return rc;
}

int carnet_registry__doc_source(carnet_registry *r, const char *id, char *out,
				size_t size, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st, "SELECT source_path FROM documents WHERE id = ?", err);
	if (rc)
		return rc;
	bind_text(st, 1, id);
	int s = sqlite3_step(st);
	out[0] = '\0';
	if (s == SQLITE_ROW)
		copy_col(st, 0, out, size);
	release(r, st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : sql_fail(r, err, s, "look up document");
}

int carnet_registry__doc_exists(carnet_registry *r, const char *id,
				int *found_out, char confidentiality[256],
				carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = cached(r, &st, "SELECT confidentiality FROM documents WHERE id = ?", err);
	if (rc)
		return rc;
	bind_text(st, 1, id);
	int s = sqlite3_step(st);
	*found_out = s == SQLITE_ROW;
	if (confidentiality) {
		confidentiality[0] = '\0';
		if (s == SQLITE_ROW)
			copy_col(st, 0, confidentiality, 256);
	}
	release(r, st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : sql_fail(r, err, s, "look up document");
}
