/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access_log_schema.c - the schema of access.sqlite (its tables and the
 * triggers that keep it append-only) and the writer's part: creating the
 * log, migrating schema 1; the check that a log is exactly carnet's. */
#include "access_log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "util.h"

/* The schema of version 2, statement by statement. The head row holds the
 * last row's sequence number and hash and the number of rows: a row is
 * only accepted when it follows the head (no rowid can be reused, so
 * INSERT OR REPLACE cannot overwrite), nothing is updated, and a row is
 * only removed when an archive row already records it. */
static const struct object {
	const char *type, *name, *table, *sql;
} schema[] = {
	{ "table", "access_log", "access_log",
		"CREATE TABLE access_log("
		"  seq INTEGER PRIMARY KEY,"
		"  at TEXT NOT NULL,"
		"  kind TEXT NOT NULL CHECK (kind IN ('search', 'archive')),"
		"  patient_id TEXT NOT NULL,"
		"  viewer_id TEXT,"
		"  role TEXT NOT NULL,"
		"  profession TEXT,"
		"  specialty TEXT,"
		"  emergency INTEGER NOT NULL,"
		"  words TEXT,"
		"  doc_ids TEXT NOT NULL,"
		"  count INTEGER NOT NULL,"
		"  status INTEGER NOT NULL,"
		"  reason TEXT NOT NULL,"
		"  archive_upto INTEGER,"
		"  archive_rows INTEGER,"
		"  archive_last TEXT,"
		"  archive_file TEXT,"
		"  prev TEXT NOT NULL,"
		"  hash TEXT NOT NULL)" },
	{ "index", "access_log_patient", "access_log",
		"CREATE INDEX access_log_patient ON access_log(patient_id, seq)" },
	{ "index", "access_log_archives", "access_log",
		"CREATE INDEX access_log_archives ON access_log(archive_upto) WHERE kind = 'archive'" },
	{ "table", "access_log_head", "access_log_head",
		"CREATE TABLE access_log_head("
		"  one INTEGER PRIMARY KEY CHECK (one = 1),"
		"  seq INTEGER NOT NULL,"
		"  hash TEXT NOT NULL,"
		"  rows INTEGER NOT NULL)" },
	{ "trigger", "access_log_follows_head", "access_log",
		"CREATE TRIGGER access_log_follows_head BEFORE INSERT ON access_log"
		"  WHEN NEW.seq IS NOT (SELECT seq + 1 FROM access_log_head)"
		"    OR NEW.prev IS NOT (SELECT hash FROM access_log_head)"
		"  BEGIN SELECT RAISE(ABORT, 'the access log is append-only: a row must follow the head'); END" },
	{ "trigger", "access_log_advance", "access_log",
		"CREATE TRIGGER access_log_advance AFTER INSERT ON access_log"
		"  BEGIN UPDATE access_log_head SET seq = NEW.seq, hash = NEW.hash, rows = rows + 1; END" },
	{ "trigger", "access_log_no_update", "access_log",
		"CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log"
		"  BEGIN SELECT RAISE(ABORT, 'the access log is append-only'); END" },
	{ "trigger", "access_log_no_delete", "access_log",
		"CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log"
		"  WHEN NOT EXISTS (SELECT 1 FROM access_log WHERE kind = 'archive'"
		"                   AND archive_upto >= OLD.seq)"
		"  BEGIN SELECT RAISE(ABORT, 'the access log is append-only: only archived rows are removed'); END" },
	{ "trigger", "access_log_archived", "access_log",
		"CREATE TRIGGER access_log_archived AFTER DELETE ON access_log"
		"  BEGIN UPDATE access_log_head SET rows = rows - 1; END" },
	{ "trigger", "access_log_head_no_insert", "access_log_head",
		"CREATE TRIGGER access_log_head_no_insert BEFORE INSERT ON access_log_head"
		"  BEGIN SELECT RAISE(ABORT, 'the access log has one head'); END" },
	{ "trigger", "access_log_head_no_delete", "access_log_head",
		"CREATE TRIGGER access_log_head_no_delete BEFORE DELETE ON access_log_head"
		"  BEGIN SELECT RAISE(ABORT, 'the access log has one head'); END" },
	{ "trigger", "access_log_head_moves", "access_log_head",
		"CREATE TRIGGER access_log_head_moves BEFORE UPDATE ON access_log_head"
		"  WHEN NEW.one IS NOT 1 OR NOT ("
		"    (NEW.seq = OLD.seq AND NEW.hash = OLD.hash AND NEW.rows = OLD.rows - 1) OR"
		"    (NEW.seq = OLD.seq + 1 AND NEW.rows = OLD.rows + 1 AND"
		"     NEW.hash IS (SELECT hash FROM access_log WHERE seq = NEW.seq)))"
		"  BEGIN SELECT RAISE(ABORT, 'the access log head only follows its rows'); END" },
};

/* The head row, inserted before its triggers exist. */
static const char head_row[] =
	"INSERT INTO access_log_head VALUES(1, 0, '" ZERO_HASH "', 0)";

/* The schema objects of db, sorted by name: type, name, table, sql. */
typedef struct objects {
	char *(*o)[4];
	size_t n, cap;
} objects;

static void objects_free(objects *x)
{
	for (size_t i = 0; i < x->n; i++)
		for (int j = 0; j < 4; j++)
			free(x->o[i][j]);
	free(x->o);
	x->o = NULL;
	x->n = x->cap = 0;
}

static int objects_read(sqlite3 *db, const char *path, objects *x, carnet_error *err)
{
	memset(x, 0, sizeof *x);
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master"
				    " ORDER BY name, type", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return carnet_alog__sql_fail(db, path, rc, "read the schema", err);
	int s, bad = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW && !bad) {
		if (CARNET_GROW(x->o, x->cap, x->n + 1) != 0) {
			bad = 1;
			break;
		}
		for (int j = 0; j < 4; j++) {
			const char *t = (const char *)sqlite3_column_text(st, j);
			x->o[x->n][j] = strdup(t ? t : "");
			bad |= !x->o[x->n][j];
		}
		x->n++;
	}
	sqlite3_finalize(st);
	if (bad || s != SQLITE_DONE) {
		objects_free(x);
		return bad ? carnet_error__nomem(err, "reading the access log's schema")
			   : carnet_alog__sql_fail(db, path, s, "read the schema", err);
	}
	return CARNET_OK;
}

/* The integer a pragma (sql) reads, into *out (-1 when it gives none). */
static int pragma_int(sqlite3 *db, const char *path, const char *sql, int *out,
		      carnet_error *err)
{
	sqlite3_stmt *st;
	*out = -1;
	int rc = carnet_alog__prepare(db, path, &st, sql, err);
	if (rc)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return CARNET_OK;
}

#define SCHEMA_OBJECTS (sizeof schema / sizeof schema[0])

static int create_schema(sqlite3 *db, const char *path, carnet_error *err)
{
	for (size_t i = 0; i < SCHEMA_OBJECTS; i++) {
		int rc = carnet_alog__exec(db, path, schema[i].sql, "create the schema", err);
		if (rc == CARNET_OK && strcmp(schema[i].name, "access_log_head") == 0)
			rc = carnet_alog__exec(db, path, head_row, "create the head", err);
		if (rc)
			return rc;
	}
	return CARNET_OK;
}

/* Is the schema of db exactly carnet's (no object missing, added or
 * changed), the version 2 and the journal WAL? */
int carnet_alog__check_schema(sqlite3 *db, const char *path, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc, version;
	char mode[16] = "";
	if ((rc = pragma_int(db, path, "PRAGMA user_version", &version, err)))
		return rc;
	if ((rc = carnet_alog__prepare(db, path, &st, "PRAGMA journal_mode", err)))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);

	objects have;
	if ((rc = objects_read(db, path, &have, err)))
		return rc;
	if (have.n == 0 && version == 0) {
		objects_free(&have);
		return carnet_alog__corrupt(err, path, "holds no access log (an empty database): "
					    "was it replaced? carnet-index creates the log with the index home");
	}
	if (version == 1) {
		objects_free(&have);
		return carnet_error__set(err, CARNET_E_VERSION, CARNET_ORIGIN_CARNET, 0,
					 "access log %s has schema 1, without the chain of "
					 "hashes: run carnet-index on the home to migrate it",
					 path);
	}
	if (version != CARNET_ALOG_SCHEMA) {
		objects_free(&have);
		return carnet_error__set(err, version > CARNET_ALOG_SCHEMA ? CARNET_E_VERSION
									    : CARNET_E_CORRUPT,
					 CARNET_ORIGIN_CARNET, 0,
					 "access log %s has schema %d, this library knows %d",
					 path, version, CARNET_ALOG_SCHEMA);
	}
	if (strcmp(mode, "wal") != 0) {
		objects_free(&have);
		return carnet_alog__corrupt(err, path,
					    "journal mode is '%s', carnet creates it in WAL mode",
					    mode);
	}
	/* sqlite keeps the text of each CREATE as it was run (carnet's have
	 * no schema name or leading space to normalise): compare it with
	 * carnet's, object by object */
	int seen[SCHEMA_OBJECTS] = { 0 };
	rc = CARNET_OK;
	for (size_t i = 0; rc == CARNET_OK && i < have.n; i++) {
		size_t j = 0;
		while (j < SCHEMA_OBJECTS && strcmp(schema[j].name, have.o[i][1]) != 0)
			j++;
		if (j == SCHEMA_OBJECTS)
			rc = carnet_alog__corrupt(err, path,
						  "an unexpected %s '%s' on %s, not created by carnet",
						  have.o[i][0], have.o[i][1], have.o[i][2]);
		else if (strcmp(have.o[i][0], schema[j].type) != 0 ||
			 strcmp(have.o[i][2], schema[j].table) != 0 ||
			 strcmp(have.o[i][3], schema[j].sql) != 0)
			rc = carnet_alog__corrupt(err, path,
						  "%s '%s' differs from the one carnet creates",
						  have.o[i][0], have.o[i][1]);
		else
			seen[j] = 1;
	}
	for (size_t j = 0; rc == CARNET_OK && j < SCHEMA_OBJECTS; j++)
		if (!seen[j])
			rc = carnet_alog__corrupt(err, path, "%s '%s' is missing (dropped?)",
						  schema[j].type,
						  schema[j].name);
	objects_free(&have);
	return rc;
}

int carnet_alog__schema_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA schema_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	return v;
}

/* Build a new log under a temporary name, then link it into place: a
 * viewer sees no log or a complete one, and an existing file is never
 * replaced. */
static int create_log(const char *path, carnet_error *err)
{
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.new-%ld", path, (long)getpid());
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
	if (fd < 0)
		return carnet_error__os(err, CARNET_E_IO, errno, "cannot create the access log %s",
					tmp);
	/* group-writable whatever the umask: viewers of the index's group
	 * append to it */
	int ok = fchmod(fd, 0660) == 0;
	close(fd);
	if (!ok) {
		int e = errno;
		unlink(tmp);
		return carnet_error__os(err, CARNET_E_IO, e, "cannot set the mode of %s", tmp);
	}
	sqlite3 *db = NULL;
	int rc = CARNET_OK;
	int s = sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (s != SQLITE_OK)
		rc = carnet_alog__sql_fail(db, tmp, s, "cannot open it", err);
	if (rc == CARNET_OK &&
	    !(rc = carnet_alog__exec(db, tmp, "PRAGMA journal_mode=WAL", "set WAL mode", err)) &&
	    !(rc = carnet_alog__exec(db, tmp, "BEGIN", "begin", err)) &&
	    !(rc = create_schema(db, tmp, err)) &&
	    !(rc = carnet_alog__exec(db, tmp, "PRAGMA user_version = 2", "set the version", err)))
		rc = carnet_alog__exec(db, tmp, "COMMIT", "commit the schema", err);
	/* the last connection closes: the WAL is checkpointed and removed */
	if (sqlite3_close(db) != SQLITE_OK && rc == CARNET_OK)
		rc = carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_SQLITE, 0,
				       "access log %s: cannot close it", tmp);
	if (rc == CARNET_OK) {
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fsync(fd) != 0)
			rc = carnet_error__os(err, CARNET_E_IO, errno, "cannot sync %s", tmp);
		if (fd >= 0)
			close(fd);
	}
	if (rc == CARNET_OK && link(tmp, path) != 0 && errno != EEXIST)
		rc = carnet_error__os(err, CARNET_E_IO, errno, "cannot create the access log %s",
				      path);
	unlink(tmp);
	char dir[CARNET_PATH_MAX];
	if (rc == CARNET_OK && carnet_home__dir_of(dir, sizeof dir, path) == 0)
		carnet_home__sync_dir(dir);
	return rc;
}

/* Schema 1 (rows without chain, from before carnet chained them) to 2:
 * every row is kept, in its order and with its time, chained from the
 * first. */
static int migrate_v1(sqlite3 *db, const char *path, work *w, carnet_error *err)
{
	static const char *const drop =
		"DROP TRIGGER IF EXISTS access_log_no_update;"
		"DROP TRIGGER IF EXISTS access_log_no_delete;"
		"DROP INDEX IF EXISTS access_log_patient;"
		"ALTER TABLE access_log RENAME TO access_log_v1;";
	int rc;
	if ((rc = carnet_alog__exec(db, path, "BEGIN IMMEDIATE", "lock the log", err)))
		return rc;
	sqlite3_stmt *st = NULL;
	if ((rc = carnet_alog__exec(db, path, drop, "migrate from schema 1", err)) ||
	    (rc = create_schema(db, path, err)) ||
	    (rc = carnet_alog__prepare(db, path, &st,
				       "SELECT at, patient_id, viewer_id, role, profession, specialty,"
				       " emergency, words, doc_ids, count FROM access_log_v1 ORDER BY rowid",
				       err)))
		goto fail;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		val v[C_ALL];
		char hash[65];
#define COL_TEXT(i) v_text((const char *)sqlite3_column_text(st, i))
		v[C_AT] = COL_TEXT(0);
		v[C_KIND] = v_text("search");
		v[C_PATIENT] = COL_TEXT(1);
		v[C_VIEWER] = COL_TEXT(2);
		v[C_ROLE] = COL_TEXT(3);
		v[C_PROFESSION] = COL_TEXT(4);
		v[C_SPECIALTY] = COL_TEXT(5);
		v[C_EMERGENCY] = v_int(sqlite3_column_int(st, 6) != 0);
		v[C_WORDS] = COL_TEXT(7);
		v[C_DOC_IDS] = COL_TEXT(8);
#undef COL_TEXT
		v[C_COUNT] = v_int(sqlite3_column_int64(st, 9));
		v[C_STATUS] = v_int(CARNET_OK);
		v[C_REASON] = v_text("");
		v[C_UPTO] = v[C_ROWS] = v[C_LAST] = v[C_FILE] = v_null();
		if (v[C_AT].type == 'N')
			v[C_AT] = v_text("");
		if (v[C_PATIENT].type == 'N')
			v[C_PATIENT] = v_text("");
		if (v[C_ROLE].type == 'N')
			v[C_ROLE] = v_text("");
		if (v[C_DOC_IDS].type == 'N')
			v[C_DOC_IDS] = v_text("");
		if ((rc = carnet_alog__insert_row(db, path, w, v, hash, err)))
			goto fail;
	}
	if (s != SQLITE_DONE) {
		rc = carnet_alog__sql_fail(db, path, s, "read the rows of schema 1", err);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = carnet_alog__exec(db, path, "DROP TABLE access_log_v1", "migrate from schema 1",
				    err)) == CARNET_OK)
		rc = carnet_alog__exec(db, path, "PRAGMA user_version = 2", "set the version", err);
fail:
	return carnet_alog__end(db, path, st, rc, "commit the migration", err);
}

int carnet_alog__ensure(const char *path, carnet_error *err)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			return carnet_error__os(err, CARNET_E_IO, errno, "access log %s", path);
		return create_log(path, err);
	}
	sqlite3 *db;
	int rc = carnet_alog__open_db(&db, path, 0, err);
	if (rc)
		return rc;
	int version;
	if ((rc = pragma_int(db, path, "PRAGMA user_version", &version, err)) == CARNET_OK &&
	    version == 1) {
		work w;
		carnet_alog__work_init(&w);
		rc = migrate_v1(db, path, &w, err);
		carnet_alog__work_free(&w);
	}
	sqlite3_close(db);
	return rc;
}
