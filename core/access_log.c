/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access_log.c - access.sqlite: the schema and its triggers, the SHA-256
 * chain of rows, the checks a viewer makes when it opens the log, the full
 * walk (verify) and the archive. */
#include "access_log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "buf.h"
#include "doc.h"
#include "home.h"

#define ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Bounds on what one row keeps of a request's strings, in bytes. */
#define FIELD_MAX 256
#define WORDS_MAX 4096
#define REASON_MAX 1024

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

/* The columns, in the order they are hashed (all but the hash itself). */
#define COLS "seq, at, kind, patient_id, viewer_id, role, profession, specialty," \
	     " emergency, words, doc_ids, count, status, reason, archive_upto,"    \
	     " archive_rows, archive_last, archive_file, prev, hash"
static const char *const col_names[] = {
	"seq", "at", "kind", "patient_id", "viewer_id", "role", "profession",
	"specialty", "emergency", "words", "doc_ids", "count", "status", "reason",
	"archive_upto", "archive_rows", "archive_last", "archive_file", "prev", "hash",
};
enum { C_SEQ, C_AT, C_KIND, C_PATIENT, C_VIEWER, C_ROLE, C_PROFESSION,
       C_SPECIALTY, C_EMERGENCY, C_WORDS, C_DOC_IDS, C_COUNT, C_STATUS,
       C_REASON, C_UPTO, C_ROWS, C_LAST, C_FILE, C_PREV, C_HASHED = C_PREV + 1,
       C_HASH = C_HASHED, C_ALL };

/* One value of a row, whatever it came from (C, sqlite, JSON). */
typedef struct val {
	char type;      /* 'N' null, 'I' integer, 'T' text, 'B' blob, 'R' real */
	int64_t i;
	double r;
	const char *s;
	size_t n;
} val;

/* What the chain's work reuses: OpenSSL's SHA-256 fetched once (a fetch
 * per hash costs more than the hash), and the statements run per row. */
typedef struct work {
	EVP_MD *md;
	EVP_MD_CTX *ctx;
	sqlite3_stmt *head, *insert, *last;
} work;

struct carnet_alog {
	work w;
	sqlite3 *db;
	int schema_version;   /* PRAGMA schema_version when last checked */
	char path[4096];
};

/* ---- errors ---- */

static int sql_code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return CARNET_E_LOCKED;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return CARNET_E_CORRUPT;
	case SQLITE_NOMEM:
		return CARNET_E_NOMEM;
	case SQLITE_CONSTRAINT:
		return CARNET_E_CORRUPT;
	default:
		return CARNET_E_IO;
	}
}

static int sql_fail(sqlite3 *db, const char *path, int rc, const char *what,
		    carnet_error *err)
{
	return carnet_error__set(err, sql_code(rc), CARNET_ORIGIN_SQLITE, rc,
				 "access log %s: %s: %s", path, what,
				 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static int corrupt(carnet_error *err, const char *path, const char *fmt, ...)
	CARNET_PRINTF(3, 4);
static int corrupt(carnet_error *err, const char *path, const char *fmt, ...)
{
	char what[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
				 "access log %s: %s", path, what);
}

static int row_error(carnet_error *err, const char *path, uint64_t seq,
		     const char *what)
{
	return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
				 "access log %s: row %llu: %s", path,
				 (unsigned long long)seq, what);
}

static int exec(sqlite3 *db, const char *path, const char *sql,
		const char *what, carnet_error *err)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CARNET_OK : sql_fail(db, path, rc, what, err);
}

static int prepare(sqlite3 *db, const char *path, sqlite3_stmt **st,
		   const char *sql, carnet_error *err)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? CARNET_OK : sql_fail(db, path, rc, "prepare", err);
}

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
static int hash_row(work *w, const val v[C_HASHED], char out[65])
{
	static const char tag[] = "carnet access log 2\n";
	static const char hex[] = "0123456789abcdef";
	EVP_MD_CTX *ctx = w->ctx;
	unsigned char md[EVP_MAX_MD_SIZE], buf[1024];
	unsigned int mdlen = 0;
	size_t used = 0;
	int ok = ctx && w->md && EVP_DigestInit_ex(ctx, w->md, NULL) == 1 &&
		 EVP_DigestUpdate(ctx, tag, sizeof tag - 1) == 1;
	/* small pieces gathered in buf: one update per KB, not per field */
	for (int c = 0; ok && c < C_HASHED; c++) {
		uint64_t x = 0;
		if (v[c].type == 'I')
			x = (uint64_t)v[c].i;
		else if (v[c].type == 'R')
			memcpy(&x, &v[c].r, sizeof x);
		else if (v[c].type == 'T' || v[c].type == 'B')
			x = v[c].n;
		if (used + 9 > sizeof buf) {
			ok = EVP_DigestUpdate(ctx, buf, used) == 1;
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
			ok = ok && EVP_DigestUpdate(ctx, buf, used) == 1 &&
			     EVP_DigestUpdate(ctx, v[c].s, v[c].n) == 1;
			used = 0;
		}
	}
	ok = ok && (used == 0 || EVP_DigestUpdate(ctx, buf, used) == 1) &&
	     EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 32;
	if (!ok)
		return -1;
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

static int work_init(work *w)
{
	memset(w, 0, sizeof *w);
	w->md = EVP_MD_fetch(NULL, "SHA256", NULL);
	w->ctx = EVP_MD_CTX_new();
	return w->md && w->ctx ? 0 : -1;
}

static void work_free(work *w)
{
	sqlite3_finalize(w->head);
	sqlite3_finalize(w->insert);
	sqlite3_finalize(w->last);
	EVP_MD_CTX_free(w->ctx);
	EVP_MD_free(w->md);
	memset(w, 0, sizeof *w);
}

static int no_sha(carnet_error *err)
{
	return carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_CARNET, 0,
				 "SHA-256 is not available from OpenSSL");
}

/* A statement kept in *slot (prepared at first use, reset after), or
 * prepared for one use when slot is NULL; give it back with put_stmt. */
static int get_stmt(sqlite3 *db, const char *path, sqlite3_stmt **slot,
		    const char *sql, sqlite3_stmt **st, carnet_error *err)
{
	if (slot && *slot) {
		*st = *slot;
		return CARNET_OK;
	}
	int rc = prepare(db, path, st, sql, err);
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

static val v_null(void)
{
	val v = { 'N', 0, 0, NULL, 0 };
	return v;
}

static val v_int(int64_t i)
{
	val v = { 'I', i, 0, NULL, 0 };
	return v;
}

static val v_text(const char *s)
{
	if (!s)
		return v_null();
	val v = { 'T', 0, 0, s, strlen(s) };
	return v;
}

/* The values of the current row of st, whose columns are COLS. */
static void vals_of_stmt(sqlite3_stmt *st, val v[C_ALL])
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

static int text_is(const val *v, const char *s)
{
	return v->type == 'T' && v->n == strlen(s) && memcmp(v->s, s, v->n) == 0;
}

/* Does the stored hash of a row match its content? */
static int row_hash_ok(work *w, const val v[C_ALL], char computed[65])
{
	if (hash_row(w, v, computed) != 0)
		return -1;
	return text_is(&v[C_HASH], computed) ? 1 : 0;
}

/* ---- strings kept of a request ---- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	if (p[0] < 0x80)
		return 1;
	size_t len;
	uint32_t cp;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* s as valid UTF-8 (each invalid byte becomes U+FFFD) of at most max
 * bytes, cut at a character boundary; NULL stays NULL. *out is malloc'd. */
static int clean(char **out, const char *s, size_t max)
{
	*out = NULL;
	if (!s)
		return 0;
	carnet_buf b = CARNET_BUF_INIT;
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n) {
		size_t len = utf8_seq(p, n);
		const char *piece = len ? (const char *)p : "\xef\xbf\xbd";
		size_t plen = len ? len : 3;
		if (b.len + plen > max)
			break;
		if (carnet_buf__put(&b, piece, plen) != 0) {
			carnet_buf__free(&b);
			return -1;
		}
		p += len ? len : 1;
		n -= len ? len : 1;
	}
	*out = carnet_buf__detach(&b);
	return *out ? 0 : -1;
}

/* ---- opening and checking ---- */

/* The schema objects of db, sorted by name: type, name, table, sql. */
typedef struct objects {
	char *(*o)[4];
	size_t n;
} objects;

static void objects_free(objects *x)
{
	for (size_t i = 0; i < x->n; i++)
		for (int j = 0; j < 4; j++)
			free(x->o[i][j]);
	free(x->o);
	x->o = NULL;
	x->n = 0;
}

static int objects_read(sqlite3 *db, objects *x)
{
	memset(x, 0, sizeof *x);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master"
			       " ORDER BY name, type", -1, &st, NULL) != SQLITE_OK)
		return -1;
	int s, bad = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW && !bad) {
		void *grown = realloc(x->o, (x->n + 1) * sizeof *x->o);
		if (!grown) {
			bad = 1;
			break;
		}
		x->o = grown;
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
		return -1;
	}
	return 0;
}

#define SCHEMA_OBJECTS (sizeof schema / sizeof schema[0])

static int create_schema(sqlite3 *db, const char *path, carnet_error *err)
{
	for (size_t i = 0; i < SCHEMA_OBJECTS; i++) {
		int rc = exec(db, path, schema[i].sql, "create the schema", err);
		if (rc == CARNET_OK && strcmp(schema[i].name, "access_log_head") == 0)
			rc = exec(db, path, head_row, "create the head", err);
		if (rc)
			return rc;
	}
	return CARNET_OK;
}

/* Is the schema of db exactly carnet's (no object missing, added or
 * changed), the version 2 and the journal WAL? */
static int check_schema(sqlite3 *db, const char *path, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc, version = -1;
	char mode[16] = "";
	if ((rc = prepare(db, path, &st, "PRAGMA user_version", err)))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if ((rc = prepare(db, path, &st, "PRAGMA journal_mode", err)))
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(mode, sizeof mode, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);

	objects have;
	if (objects_read(db, &have) != 0)
		return sql_fail(db, path, sqlite3_errcode(db), "read the schema", err);
	if (have.n == 0 && version == 0) {
		objects_free(&have);
		return corrupt(err, path, "holds no access log (an empty database): "
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
		return corrupt(err, path, "journal mode is '%s', carnet creates it in WAL mode",
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
			rc = corrupt(err, path, "an unexpected %s '%s' on %s, not created by carnet",
				     have.o[i][0], have.o[i][1], have.o[i][2]);
		else if (strcmp(have.o[i][0], schema[j].type) != 0 ||
			 strcmp(have.o[i][2], schema[j].table) != 0 ||
			 strcmp(have.o[i][3], schema[j].sql) != 0)
			rc = corrupt(err, path, "%s '%s' differs from the one carnet creates",
				     have.o[i][0], have.o[i][1]);
		else
			seen[j] = 1;
	}
	for (size_t j = 0; rc == CARNET_OK && j < SCHEMA_OBJECTS; j++)
		if (!seen[j])
			rc = corrupt(err, path, "%s '%s' is missing (dropped?)", schema[j].type,
				     schema[j].name);
	objects_free(&have);
	return rc;
}

static int schema_version(sqlite3 *db)
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
		return sql_fail(db, path, s, "read the head", err);
	if (n != 1)
		return corrupt(err, path, "its head row is missing or doubled");
	return CARNET_OK;
}

/* min or max of seq, 0 when the table is empty. */
static int seq_bound(sqlite3 *db, const char *path, const char *sql, uint64_t *out,
		     carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, path, &st, sql, err);
	if (rc)
		return rc;
	int s = sqlite3_step(st);
	*out = s == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : sql_fail(db, path, s, "read the rows", err);
}

/* The first row must start the chain: row 1 with no previous hash, or the
 * row after the last archived one, whose hash an archive row records. */
static int check_start(sqlite3 *db, const char *path, uint64_t first,
		       const char *prev, carnet_error *err)
{
	if (first == 1)
		return strcmp(prev, ZERO_HASH) == 0
			       ? CARNET_OK
			       : row_error(err, path, 1, "the first row names a previous row");
	sqlite3_stmt *st;
	int rc = prepare(db, path, &st,
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
		return sql_fail(db, path, s, "look for the archive row", err);
	char what[160];
	snprintf(what, sizeof what, "rows 1 to %llu are gone and no archive row records them (deleted?)",
		 (unsigned long long)(first - 1));
	return row_error(err, path, first, what);
}

/* Walk the rows from seq from to the end: no gap, each row's hash over
 * its content, each row naming the one before. rep gets the count and the
 * last row; rep->bad_seq the first row that breaks. */
static int walk(sqlite3 *db, const char *path, work *w, uint64_t from,
		carnet_alog_report *rep, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, path, &st, "SELECT " COLS " FROM access_log WHERE seq >= ? ORDER BY seq",
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
		vals_of_stmt(st, v);
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
			int ok = row_hash_ok(w, v, computed);
			if (ok < 0) {
				sqlite3_finalize(st);
				return no_sha(err);
			}
			if (!ok)
				what = "its content does not match its hash (edited?)";
		}
		if (what) {
			sqlite3_finalize(st);
			rep->bad_seq = seq;
			return row_error(err, path, seq, what);
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
		return sql_fail(db, path, s, "read the rows", err);
	if (rep->rows)
		snprintf(rep->head, sizeof rep->head, "%s", prev);
	return CARNET_OK;
}

/* The previous hash of row seq, into out. */
static int prev_of(sqlite3 *db, const char *path, uint64_t seq, char out[65],
		   carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, path, &st, "SELECT prev FROM access_log WHERE seq = ?", err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	out[0] = '\0';
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return s == SQLITE_ROW || s == SQLITE_DONE ? CARNET_OK
						   : sql_fail(db, path, s, "read a row", err);
}

/* The chain from row from to the end, against the head: a full walk when
 * from is the first row. */
static int check_chain(sqlite3 *db, const char *path, work *w, uint64_t tail,
		       carnet_alog_report *rep, carnet_error *err)
{
	head h;
	uint64_t first, last;
	int rc;
	memset(rep, 0, sizeof *rep);
	if ((rc = read_head(db, path, w, &h, err)) ||
	    (rc = seq_bound(db, path, "SELECT min(seq) FROM access_log", &first, err)) ||
	    (rc = seq_bound(db, path, "SELECT max(seq) FROM access_log", &last, err)))
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
		return corrupt(err, path, "%s", what);
	}
	if (last > h.seq) {
		snprintf(what, sizeof what, "row %llu is past the head (row %llu): added behind "
			 "carnet's back", (unsigned long long)last, (unsigned long long)h.seq);
		rep->bad_seq = h.seq + 1;
		return corrupt(err, path, "%s", what);
	}
	if (strcmp(rep->head, h.hash) != 0) {
		rep->bad_seq = last;
		return row_error(err, path, last, "its hash is not the one the head holds");
	}
	uint64_t rows = last ? last - first + 1 : 0;
	if (rows != h.rows) {
		snprintf(what, sizeof what, "it holds %llu rows, its head counts %llu "
			 "(rows removed or added behind carnet's back)",
			 (unsigned long long)rows, (unsigned long long)h.rows);
		return corrupt(err, path, "%s", what);
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

/* Open the existing file at path with sqlite, without creating it: a
 * missing, empty or non-regular file is refused with what it is. */
static int open_db(sqlite3 **out, const char *path, int readonly, carnet_error *err)
{
	*out = NULL;
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
						 "access log %s is missing: every index home has "
						 "one (carnet-index creates it); was it removed?",
						 path);
		return carnet_error__os(err, CARNET_E_IO, errno, "access log %s", path);
	}
	if (!S_ISREG(st.st_mode))
		return carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_CARNET, 0,
					 "access log %s is not a regular file", path);
	if (st.st_size == 0)
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "access log %s is empty (0 bytes): it was truncated "
					 "or replaced", path);
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, (readonly ? SQLITE_OPEN_READONLY
						      : SQLITE_OPEN_READWRITE) |
						 SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		rc = sql_fail(db, path, rc, "cannot open it", err);
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_extended_result_codes(db, 1);
	/* closing does not checkpoint (an fsync per viewer process); the
	 * commits that make the WAL grow do */
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	/* in a home shared with viewers, who cannot create files there, the
	 * -wal and -shm files must outlive every connection (home.h) */
	char dir[4096];
	const char *slash = strrchr(path, '/');
	snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	int on = 1;
	if (carnet_home__shared(dir))
		sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	*out = db;
	return CARNET_OK;
}

int carnet_alog__open(carnet_alog **out, const char *path, carnet_error *err)
{
	*out = NULL;
	carnet_alog *l = calloc(1, sizeof *l);
	if (!l)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "out of memory opening the access log");
	snprintf(l->path, sizeof l->path, "%s", path);
	carnet_alog_report rep;
	int rc;
	if (work_init(&l->w) != 0) {
		rc = no_sha(err);
		goto fail;
	}
	if ((rc = open_db(&l->db, path, 0, err)) ||
	    (rc = exec(l->db, path, "PRAGMA synchronous=NORMAL", "set synchronous", err)) ||
	    (rc = exec(l->db, path, "BEGIN", "begin reading", err)))
		goto fail;
	l->schema_version = schema_version(l->db);
	rc = check_schema(l->db, path, err);
	if (rc == CARNET_OK)
		rc = check_chain(l->db, path, &l->w, CARNET_ALOG_TAIL, &rep, err);
	sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
	if (rc)
		goto fail;
	*out = l;
	return CARNET_OK;
fail:
	carnet_alog__close(l);
	return rc;
}

void carnet_alog__close(carnet_alog *l)
{
	if (!l)
		return;
	work_free(&l->w);
	sqlite3_close(l->db);
	free(l);
}

/* ---- appending ---- */

static void now_utc(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	unsigned ms = (unsigned)(ts.tv_nsec / 1000000) % 1000u;
	snprintf(out + n, 32 - n, ".%03uZ", ms);
}

/* Append the row v (all but seq, prev and hash filled) after the head,
 * inside the caller's write transaction; its hash into hash_out. */
static int insert_row(sqlite3 *db, const char *path, work *w, val v[C_ALL],
		      char hash_out[65], carnet_error *err)
{
	head h;
	int rc = read_head(db, path, w, &h, err);
	if (rc)
		return rc;
	v[C_SEQ] = v_int((int64_t)(h.seq + 1));
	v[C_PREV] = v_text(h.hash);
	if (hash_row(w, v, hash_out) != 0)
		return no_sha(err);
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
		return sql_fail(db, path, s, "write a row", err);
	/* a trigger that ignores the insert would let the search go unlogged */
	head after;
	if (sqlite3_changes(db) != 1 || (rc = read_head(db, path, w, &after, err)) ||
	    after.seq != h.seq + 1 || strcmp(after.hash, hash_out) != 0)
		return rc ? rc : corrupt(err, path, "a row written did not reach the head "
					 "(a trigger added to ignore it?)");
	return CARNET_OK;
}

/* The last row against the head, before a row is chained to it. */
static int check_last(sqlite3 *db, const char *path, work *w, carnet_error *err)
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
		vals_of_stmt(st, v);
		int ok = row_hash_ok(w, v, computed) == 1 && strcmp(computed, h.hash) == 0;
		put_stmt(&w->last, st);
		return ok ? CARNET_OK
			  : row_error(err, path, h.seq,
				      "its content does not match the head's hash (edited?)");
	}
	put_stmt(&w->last, st);
	if (s != SQLITE_DONE)
		return sql_fail(db, path, s, "read the last row", err);
	return row_error(err, path, h.seq, "the head's row is missing (deleted?)");
}

static int append_locked(carnet_alog *l, val v[C_ALL], char hash[65], carnet_error *err)
{
	int rc;
	if ((rc = exec(l->db, l->path, "BEGIN IMMEDIATE", "lock the log", err)))
		return rc;
	if ((rc = check_last(l->db, l->path, &l->w, err)) ||
	    (rc = insert_row(l->db, l->path, &l->w, v, hash, err)) ||
	    (rc = exec(l->db, l->path, "COMMIT", "commit a row", err))) {
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return CARNET_OK;
}

int carnet_alog__append(carnet_alog *l, const carnet_access *a, carnet_error *err)
{
	/* the schema changed since it was checked (a trigger added or
	 * dropped while this handle was open): check it again */
	int sv = schema_version(l->db);
	if (sv != l->schema_version) {
		int rc = check_schema(l->db, l->path, err);
		if (rc)
			return rc;
		l->schema_version = sv;
	}
	char *f[7] = { NULL };
	int bad = clean(&f[0], a->patient_id ? a->patient_id : "", FIELD_MAX) ||
		  clean(&f[1], a->viewer_id, FIELD_MAX) ||
		  clean(&f[2], a->role ? a->role : "", FIELD_MAX) ||
		  clean(&f[3], a->profession, FIELD_MAX) ||
		  clean(&f[4], a->specialty, FIELD_MAX) ||
		  clean(&f[5], a->words, WORDS_MAX) ||
		  clean(&f[6], a->reason ? a->reason : "", REASON_MAX);
	int rc = CARNET_OK;
	if (bad) {
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				       "out of memory writing the access log");
	} else {
		char at[32], hash[65];
		now_utc(at);
		val v[C_ALL];
		v[C_AT] = v_text(at);
		v[C_KIND] = v_text("search");
		v[C_PATIENT] = v_text(f[0]);
		v[C_VIEWER] = v_text(f[1]);
		v[C_ROLE] = v_text(f[2]);
		v[C_PROFESSION] = v_text(f[3]);
		v[C_SPECIALTY] = v_text(f[4]);
		v[C_EMERGENCY] = v_int(a->emergency != 0);
		v[C_WORDS] = v_text(f[5]);
		v[C_DOC_IDS] = v_text(a->doc_ids ? a->doc_ids : "");
		v[C_COUNT] = v_int((int64_t)a->count);
		v[C_STATUS] = v_int(a->status);
		v[C_REASON] = v_text(f[6]);
		v[C_UPTO] = v[C_ROWS] = v[C_LAST] = v[C_FILE] = v_null();
		rc = append_locked(l, v, hash, err);
	}
	for (int i = 0; i < 7; i++)
		free(f[i]);
	return rc;
}

int carnet_alog__list(carnet_alog *l, const char *patient_id, carnet_alog_cb cb,
		      void *payload, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(l->db, l->path, &st,
			 "SELECT seq, at, viewer_id, profession, specialty, role, emergency, words,"
			 " doc_ids, count, status, reason FROM access_log"
			 " WHERE patient_id = ? AND kind = 'search' ORDER BY seq DESC", err);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, patient_id, -1, SQLITE_STATIC);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		carnet_access a;
		a.seq = (uint64_t)sqlite3_column_int64(st, 0);
		a.at = (const char *)sqlite3_column_text(st, 1);
		a.viewer_id = (const char *)sqlite3_column_text(st, 2);
		a.profession = (const char *)sqlite3_column_text(st, 3);
		a.specialty = (const char *)sqlite3_column_text(st, 4);
		a.role = (const char *)sqlite3_column_text(st, 5);
		a.patient_id = patient_id;
		a.emergency = sqlite3_column_int(st, 6);
		a.words = (const char *)sqlite3_column_text(st, 7);
		a.doc_ids = (const char *)sqlite3_column_text(st, 8);
		a.count = (unsigned long)sqlite3_column_int64(st, 9);
		a.status = sqlite3_column_int(st, 10);
		a.reason = (const char *)sqlite3_column_text(st, 11);
		if ((rc = cb(&a, payload))) {
			sqlite3_finalize(st);
			return rc;
		}
	}
	sqlite3_finalize(st);
	return s == SQLITE_DONE ? CARNET_OK : sql_fail(l->db, l->path, s, "read the log", err);
}

/* ---- the writer: creating and migrating ---- */

static void sync_dir_of(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof dir, ".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
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
		rc = sql_fail(db, tmp, s, "cannot open it", err);
	if (rc == CARNET_OK &&
	    !(rc = exec(db, tmp, "PRAGMA journal_mode=WAL", "set WAL mode", err)) &&
	    !(rc = exec(db, tmp, "BEGIN", "begin", err)) &&
	    !(rc = create_schema(db, tmp, err)) &&
	    !(rc = exec(db, tmp, "PRAGMA user_version = 2", "set the version", err)))
		rc = exec(db, tmp, "COMMIT", "commit the schema", err);
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
	if (rc == CARNET_OK)
		sync_dir_of(path);
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
	if ((rc = exec(db, path, "BEGIN IMMEDIATE", "lock the log", err)))
		return rc;
	sqlite3_stmt *st = NULL;
	if ((rc = exec(db, path, drop, "migrate from schema 1", err)) ||
	    (rc = create_schema(db, path, err)) ||
	    (rc = prepare(db, path, &st,
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
		if ((rc = insert_row(db, path, w, v, hash, err)))
			goto fail;
	}
	if (s != SQLITE_DONE) {
		rc = sql_fail(db, path, s, "read the rows of schema 1", err);
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((rc = exec(db, path, "DROP TABLE access_log_v1", "migrate from schema 1", err)) ||
	    (rc = exec(db, path, "PRAGMA user_version = 2", "set the version", err)) ||
	    (rc = exec(db, path, "COMMIT", "commit the migration", err)))
		goto fail;
	return CARNET_OK;
fail:
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
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
	int rc = open_db(&db, path, 0, err);
	if (rc)
		return rc;
	sqlite3_stmt *q;
	int version = -1;
	if ((rc = prepare(db, path, &q, "PRAGMA user_version", err)) == CARNET_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			version = sqlite3_column_int(q, 0);
		sqlite3_finalize(q);
		work w;
		if (version == 1)
			rc = work_init(&w) != 0 ? no_sha(err) : migrate_v1(db, path, &w, err);
		if (version == 1)
			work_free(&w);
	}
	sqlite3_close(db);
	return rc;
}

/* ---- verify and archive ---- */

int carnet_alog__verify(const char *path, carnet_alog_report *rep, carnet_error *err)
{
	memset(rep, 0, sizeof *rep);
	sqlite3 *db;
	int rc = open_db(&db, path, 1, err);
	if (rc)
		return rc;
	/* one snapshot for the whole walk */
	work w;
	if (work_init(&w) != 0)
		rc = no_sha(err);
	else if ((rc = exec(db, path, "BEGIN", "begin reading", err)) == CARNET_OK) {
		rc = check_chain(db, path, &w, 0, rep, err);
		/* a broken row is named first; a failure to read the rows at
		 * all is explained by the schema when it differs */
		if (rc == CARNET_OK || rc != CARNET_E_CORRUPT) {
			int sc = check_schema(db, path, err);
			if (sc)
				rc = sc;
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	work_free(&w);
	sqlite3_close(db);
	return rc;
}

/* One row as a JSON object, its keys the column names. */
static json_t *row_json(const val v[C_ALL])
{
	json_t *o = json_object();
	for (int c = 0; o && c < C_ALL; c++) {
		json_t *x = NULL;
		if (v[c].type == 'I')
			x = json_integer(v[c].i);
		else if (v[c].type == 'T')
			x = json_stringn(v[c].s, v[c].n);
		else if (v[c].type == 'N')
			x = json_null();
		if (!x || json_object_set_new(o, col_names[c], x) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Write the longest run of oldest rows before day `before` to fd; the
 * count, first and last row and its hash into rep. */
static int write_archive(sqlite3 *db, const char *path, const char *before, int fd,
			 const char *file, carnet_alog_report *rep, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = prepare(db, path, &st, "SELECT " COLS " FROM access_log ORDER BY seq", err);
	if (rc)
		return rc;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		val v[C_ALL];
		vals_of_stmt(st, v);
		if (v[C_AT].type != 'T' || strcmp(v[C_AT].s, before) >= 0)
			break;
		json_t *o = row_json(v);
		char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		json_decref(o);
		int bad = !line || write_all(fd, line, strlen(line)) != 0 ||
			  write_all(fd, "\n", 1) != 0;
		free(line);
		if (bad) {
			sqlite3_finalize(st);
			if (!o)
				return row_error(err, path, (uint64_t)v[C_SEQ].i,
						 "holds a value that cannot be archived as JSON");
			return carnet_error__os(err, CARNET_E_IO, errno, "cannot write %s", file);
		}
		if (!rep->archived)
			rep->first_seq = (uint64_t)v[C_SEQ].i;
		rep->archived++;
		rep->last_seq = (uint64_t)v[C_SEQ].i;
		snprintf(rep->head, sizeof rep->head, "%.*s", (int)v[C_HASH].n, v[C_HASH].s);
	}
	sqlite3_finalize(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return sql_fail(db, path, s, "read the rows", err);
	return CARNET_OK;
}

/* Record the archive as a row, then remove the archived rows, in one
 * transaction; the rows must still be the ones written. */
static int commit_archive(sqlite3 *db, const char *path, work *w, const char *file,
			  const carnet_alog_report *a, carnet_error *err)
{
	int rc;
	if ((rc = exec(db, path, "BEGIN IMMEDIATE", "lock the log", err)))
		return rc;
	uint64_t first;
	char last_hash[65] = "";
	sqlite3_stmt *st = NULL;
	if ((rc = seq_bound(db, path, "SELECT min(seq) FROM access_log", &first, err)) ||
	    (rc = prepare(db, path, &st, "SELECT hash FROM access_log WHERE seq = ?", err)))
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)a->last_seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(last_hash, sizeof last_hash, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (first != a->first_seq || strcmp(last_hash, a->head) != 0) {
		rc = corrupt(err, path, "the rows changed while they were archived (another archive?)");
		goto fail;
	}
	char at[32], hash[65], *name = realpath(file, NULL);
	now_utc(at);
	val v[C_ALL];
	v[C_AT] = v_text(at);
	v[C_KIND] = v_text("archive");
	v[C_PATIENT] = v_text("");
	v[C_VIEWER] = v_null();
	v[C_ROLE] = v_text("");
	v[C_PROFESSION] = v[C_SPECIALTY] = v[C_WORDS] = v_null();
	v[C_EMERGENCY] = v_int(0);
	v[C_DOC_IDS] = v_text("");
	v[C_COUNT] = v_int((int64_t)a->archived);
	v[C_STATUS] = v_int(CARNET_OK);
	v[C_REASON] = v_text("");
	v[C_UPTO] = v_int((int64_t)a->last_seq);
	v[C_ROWS] = v_int((int64_t)a->archived);
	v[C_LAST] = v_text(a->head);
	v[C_FILE] = v_text(name ? name : file);
	rc = insert_row(db, path, w, v, hash, err);
	free(name);
	if (rc)
		goto fail;
	if ((rc = prepare(db, path, &st, "DELETE FROM access_log WHERE seq <= ?", err)))
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)a->last_seq);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (s != SQLITE_DONE) {
		rc = sql_fail(db, path, s, "remove the archived rows", err);
		goto fail;
	}
	if ((uint64_t)sqlite3_changes(db) != a->archived) {
		rc = corrupt(err, path, "removing the archived rows removed another number of rows");
		goto fail;
	}
	if ((rc = exec(db, path, "COMMIT", "commit the archive", err)))
		goto fail;
	return CARNET_OK;
fail:
	sqlite3_finalize(st);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

int carnet_alog__archive(const char *path, const char *before, const char *file,
			 carnet_alog_report *rep, carnet_error *err)
{
	memset(rep, 0, sizeof *rep);
	if (!before || !carnet_doc__valid_date(before))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "archive: the date must be YYYY-MM-DD");
	carnet_alog_report whole;
	int rc = carnet_alog__verify(path, &whole, err);
	if (rc)
		return rc;
	sqlite3 *db;
	if ((rc = open_db(&db, path, 0, err)))
		return rc;
	if ((rc = check_schema(db, path, err))) {
		sqlite3_close(db);
		return rc;
	}
	int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = carnet_error__os(err, errno == EEXIST ? CARNET_E_INVALID : CARNET_E_IO, errno,
				      "cannot create the archive %s (an archive is never replaced)",
				      file);
		sqlite3_close(db);
		return rc;
	}
	if ((rc = exec(db, path, "BEGIN", "begin reading", err)) == CARNET_OK) {
		rc = write_archive(db, path, before, fd, file, rep, err);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	if (rc == CARNET_OK && fsync(fd) != 0)
		rc = carnet_error__os(err, CARNET_E_IO, errno, "cannot sync %s", file);
	if (close(fd) != 0 && rc == CARNET_OK)
		rc = carnet_error__os(err, CARNET_E_IO, errno, "cannot write %s", file);
	if (rc == CARNET_OK && rep->archived == 0)
		rc = carnet_error__set(err, CARNET_E_NOTFOUND, CARNET_ORIGIN_CARNET, 0,
				       "access log %s: no row is older than %s; nothing archived",
				       path, before);
	if (rc) {
		unlink(file);
		sqlite3_close(db);
		return rc;
	}
	sync_dir_of(file);
	work w;
	rc = work_init(&w) != 0 ? no_sha(err) : commit_archive(db, path, &w, file, rep, err);
	work_free(&w);
	sqlite3_close(db);
	return rc;
}

/* One line of an archive file into values (strings borrowed from o). */
static int vals_of_json(json_t *o, val v[C_ALL])
{
	if (!json_is_object(o))
		return -1;
	for (int c = 0; c < C_ALL; c++) {
		json_t *x = json_object_get(o, col_names[c]);
		memset(&v[c], 0, sizeof v[c]);
		if (json_is_integer(x)) {
			v[c].type = 'I';
			v[c].i = (int64_t)json_integer_value(x);
		} else if (json_is_string(x)) {
			v[c].type = 'T';
			v[c].s = json_string_value(x);
			v[c].n = json_string_length(x);
		} else if (json_is_null(x)) {
			v[c].type = 'N';
		} else {
			return -1;
		}
	}
	return v[C_SEQ].type == 'I' && v[C_HASH].type == 'T' && v[C_PREV].type == 'T' ? 0 : -1;
}

static int archive_error(carnet_error *err, const char *file, unsigned long line,
			 const char *what)
{
	return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
				 "archive %s: line %lu: %s", file, line, what);
}

int carnet_alog__verify_archive(const char *path, const char *file,
				carnet_alog_report *rep, carnet_error *err)
{
	memset(rep, 0, sizeof *rep);
	FILE *f = fopen(file, "rb");
	if (!f)
		return carnet_error__os(err, carnet_error__from_errno(errno), errno,
					"cannot read the archive %s", file);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	char prev[65] = "", computed[65];
	work w;
	int rc = work_init(&w) != 0 ? no_sha(err) : CARNET_OK;
	while (rc == CARNET_OK && (n = getline(&line, &cap, f)) > 0) {
		lineno++;
		json_error_t jerr;
		json_t *o = json_loadb(line, (size_t)n, 0, &jerr);
		val v[C_ALL];
		if (!o || vals_of_json(o, v) != 0) {
			rc = archive_error(err, file, lineno, "not a row of the access log");
		} else if (lineno > 1 && (uint64_t)v[C_SEQ].i != rep->last_seq + 1) {
			rc = archive_error(err, file, lineno, "a row is missing before this one");
		} else if (lineno > 1 && !text_is(&v[C_PREV], prev)) {
			rc = archive_error(err, file, lineno, "does not name the row before it");
		} else if (row_hash_ok(&w, v, computed) != 1) {
			rc = archive_error(err, file, lineno,
					   "its content does not match its hash (edited?)");
		} else if (lineno == 1 && v[C_SEQ].i == 1 && !text_is(&v[C_PREV], ZERO_HASH)) {
			rc = archive_error(err, file, lineno, "the first row names a previous row");
		} else {
			if (lineno == 1)
				rep->first_seq = (uint64_t)v[C_SEQ].i;
			rep->last_seq = (uint64_t)v[C_SEQ].i;
			rep->rows++;
			snprintf(prev, sizeof prev, "%s", computed);
		}
		json_decref(o);
	}
	int read_error = ferror(f);
	work_free(&w);
	free(line);
	fclose(f);
	if (rc)
		return rc;
	if (read_error)
		return carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_OS, 0,
					 "cannot read the archive %s", file);
	if (rep->rows == 0)
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "archive %s holds no row", file);
	snprintf(rep->head, sizeof rep->head, "%s", prev);
	/* the archive row of the log that records this file */
	sqlite3 *db;
	if ((rc = open_db(&db, path, 1, err)))
		return rc;
	sqlite3_stmt *st;
	if ((rc = prepare(db, path, &st, "SELECT archive_upto, archive_rows FROM access_log"
			  " WHERE kind = 'archive' AND archive_last = ?", err))) {
		sqlite3_close(db);
		return rc;
	}
	sqlite3_bind_text(st, 1, rep->head, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	uint64_t upto = 0, rows = 0;
	if (s == SQLITE_ROW) {
		upto = (uint64_t)sqlite3_column_int64(st, 0);
		rows = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	if (s != SQLITE_ROW)
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "archive %s: no archive row of %s records its last row "
					 "(hash %s); is it truncated, or recorded by a later archive?",
					 file, path, rep->head);
	if (upto != rep->last_seq || rows != rep->rows)
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "archive %s: holds rows %llu to %llu (%llu), its record says "
					 "up to row %llu (%llu rows)", file,
					 (unsigned long long)rep->first_seq,
					 (unsigned long long)rep->last_seq,
					 (unsigned long long)rep->rows, (unsigned long long)upto,
					 (unsigned long long)rows);
	rep->archived = rows;
	return CARNET_OK;
}

/* ---- the public calls ---- */

static int home_log(char path[CARNET_PATH_MAX], const char *home, carnet_error *err)
{
	return carnet_home__path(path, CARNET_PATH_MAX, carnet_home__resolve(home),
				 CARNET_ACCESS_LOG_FILE, err);
}

int carnet_access_log_verify(const char *home, const char *archive,
			     carnet_access_log_report *out, carnet_error *err)
{
	carnet_access_log_report local;
	if (!out)
		out = &local;
	memset(out, 0, sizeof *out);
	char path[CARNET_PATH_MAX];
	int rc = home_log(path, home, err);
	if (rc)
		return rc;
	return archive ? carnet_alog__verify_archive(path, archive, out, err)
		       : carnet_alog__verify(path, out, err);
}

int carnet_access_log_archive(const char *home, const char *before, const char *file,
			      carnet_access_log_report *out, carnet_error *err)
{
	carnet_access_log_report local;
	if (!out)
		out = &local;
	memset(out, 0, sizeof *out);
	if (!file || !*file)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "archive: no file named");
	char path[CARNET_PATH_MAX];
	int rc = home_log(path, home, err);
	if (rc)
		return rc;
	return carnet_alog__archive(path, before, file, out, err);
}
