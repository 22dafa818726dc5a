/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_registry.c - registry.sqlite (core/registry.h): creation, refusal of
 * missing, damaged and newer files, migrations, sources, documents, counts,
 * rejects, transactions, and how sqlite failures read. Each test gets a
 * fresh directory; files are prepared or inspected with sqlite3 directly,
 * as a user of the file would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>
#include <sqlite3.h>

#include "helpers.h"
#include "registry.h"
#include "sqlite.h"

/* the index format as a string, for SQL written by hand */
#define STR_(x) #x
#define STR(x) STR_(x)
#define CARNET_INDEX_FORMAT_STRING STR(CARNET_INDEX_FORMAT)

static char dir[4096];
static char db[4200];

static void init(void)
{
	snprintf(dir, sizeof dir, "%s", th_tmpdir());
	snprintf(db, sizeof db, "%s/registry.sqlite", dir);
}

TestSuite(registry, .init = init, .fini = th_cleanup);

/* ---- helpers ---- */

static carnet_registry *open_ok(int create)
{
	carnet_registry *r = NULL;
	carnet_error err;
	cr_assert_eq(carnet_registry__open(&r, db, create, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_not_null(r);
	return r;
}

/* Run sql on the file with a connection of our own. */
static void sql_exec(const char *path, const char *sql)
{
	sqlite3 *h;
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(h, sql, NULL, NULL, &msg);
	cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, msg ? msg : "");
	sqlite3_close(h);
}

/* First column of the first row of sql, as text, into out ("" if none;
 * "(null)" for NULL). */
static void sql_text(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	cr_assert_eq(sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(h));
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		snprintf(out, size, "%s", v ? (const char *)v : "(null)");
	}
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static int sql_int(const char *path, const char *sql)
{
	char v[64];
	sql_text(path, sql, v, sizeof v);
	return atoi(v);
}

static uint64_t count(carnet_registry *r, int which)
{
	uint64_t n = 12345;
	carnet_error err;
	cr_assert_eq(carnet_registry__count(r, which, &n, &err), CARNET_OK, "%s",
		     err.message);
	return n;
}

static void put(carnet_registry *r, const char *id, const char *set_id, int version,
		const char *patient, const char *date, const char *source,
		const char *title)
{
	carnet_doc d;
	carnet_doc__init(&d);
	cr_assert_eq(carnet_doc__sets(&d.id, id), 0);
	cr_assert_eq(carnet_doc__sets(&d.set_id, set_id), 0);
	cr_assert_eq(carnet_doc__sets(&d.patient_id, patient), 0);
	cr_assert_eq(carnet_doc__sets(&d.date, date), 0);
	cr_assert_eq(carnet_doc__sets(&d.source, source), 0);
	cr_assert_eq(carnet_doc__sets(&d.title, title), 0);
	d.version = version;
	carnet_error err;
	cr_assert_eq(carnet_registry__doc_put(r, &d, &err), CARNET_OK, "%s", err.message);
	carnet_doc__clear(&d);
}

/* A small catalogue: patient P1 has set S1 in two versions (from one
 * source) and a document without set id; P2 has one document. */
static void put_sample(carnet_registry *r)
{
	put(r, "d1", "S1", 1, "P1", "2025-01-02", "docs/a.xml", "CR v1");
	put(r, "d2", "S1", 2, "P1", "2025-03-04", "docs/a.xml", "CR v2");
	put(r, "d3", NULL, 1, "P1", "2024-12-31", "docs/b.txt", "Ordonnance");
	put(r, "d4", "S2", 1, "P2", NULL, "docs/c.pdf", "Biologie");
}

/* Collects what a document callback receives. */
struct seen_docs {
	int calls;
	int stop_after; /* return stop_value at this call (1-based); 0 = never */
	int stop_value;
	char ids[8][32];
	char sets[8][32];
	int versions[8];
	char dates[8][16];
};

static int collect_doc(const char *id, const char *set_id, int version,
		       const char *date, void *payload)
{
	struct seen_docs *s = payload;
	if (s->calls < 8) {
		snprintf(s->ids[s->calls], 32, "%s", id);
		snprintf(s->sets[s->calls], 32, "%s", set_id);
		s->versions[s->calls] = version;
		snprintf(s->dates[s->calls], 16, "%s", date);
	}
	s->calls++;
	return s->stop_after && s->calls == s->stop_after ? s->stop_value : 0;
}

struct seen_rejects {
	int calls;
	int stop_after;
	int stop_value;
	char paths[8][64];
	char reasons[8][128];
	char whens[8][32];
};

static int collect_reject(const char *path, const char *reason, const char *when,
			  void *payload)
{
	struct seen_rejects *s = payload;
	if (s->calls < 8) {
		snprintf(s->paths[s->calls], 64, "%s", path);
		snprintf(s->reasons[s->calls], 128, "%s", reason);
		snprintf(s->whens[s->calls], 32, "%s", when);
	}
	s->calls++;
	return s->stop_after && s->calls == s->stop_after ? s->stop_value : 0;
}

static int matches(const char *s, const char *pattern)
{
	if (strlen(s) != strlen(pattern))
		return 0;
	for (size_t i = 0; pattern[i]; i++) {
		if (pattern[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pattern[i])
			return 0;
	}
	return 1;
}

/* Is s exactly "YYYY-MM-DDTHH:MM:SSZ"? */
static int is_iso_utc(const char *s)
{
	return matches(s, "dddd-dd-ddTdd:dd:ddZ");
}

/* Is s exactly "YYYY-MM-DDTHH:MM:SS.mmmZ"? */
static int is_iso_utc_ms(const char *s)
{
	return matches(s, "dddd-dd-ddTdd:dd:dd.dddZ");
}

static int table_exists(const char *path, const char *name)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'", name);
	return sql_int(path, sql);
}

/* ---- open: creation and refusals ---- */

Test(registry, open_with_create_makes_file_at_current_schema)
{
	carnet_registry *r = open_ok(1);
	struct stat st;
	cr_assert_eq(stat(db, &st), 0, "no file at %s", db);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(carnet_registry__in_txn(r), 0);
	carnet_registry__close(r);

	cr_assert_eq(sql_int(db, "PRAGMA user_version"), CARNET_REGISTRY_SCHEMA);
	char mode[32];
	sql_text(db, "PRAGMA journal_mode", mode, sizeof mode);
	cr_assert_str_eq(mode, "wal");
	for (const char *const *t = (const char *const[]){ "meta", "sources", "documents",
							   "visibility", NULL };
	     *t; t++)
		cr_assert_eq(table_exists(db, *t), 1, "table %s missing", *t);
}

Test(registry, open_with_create_stamps_index_format)
{
	char want[16];
	snprintf(want, sizeof want, "%d", CARNET_INDEX_FORMAT);
	carnet_registry *r = open_ok(1);
	char fmt[32] = "junk";
	carnet_error err;
	cr_assert_eq(carnet_registry__meta_get(r, "index_format", fmt, sizeof fmt, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_str_eq(fmt, want);
	carnet_registry__close(r);
	char stored[32];
	sql_text(db, "SELECT value FROM meta WHERE key='index_format'", stored, sizeof stored);
	cr_assert_str_eq(stored, want);
}

Test(registry, reopening_without_create_keeps_content)
{
	carnet_registry *r = open_ok(1);
	put_sample(r);
	carnet_registry__close(r);
	r = open_ok(0);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 4);
	carnet_registry__close(r);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), CARNET_REGISTRY_SCHEMA);
}

Test(registry, open_without_create_on_missing_file_is_notfound)
{
	carnet_registry *r = (carnet_registry *)&r; /* not NULL */
	carnet_error err;
	memset(&err, 0, sizeof err);
	cr_assert_eq(carnet_registry__open(&r, db, 0, &err), CARNET_E_NOTFOUND);
	cr_assert_null(r);
	cr_assert_eq(err.code, CARNET_E_NOTFOUND);
	cr_assert(strstr(err.message, db), "message does not name %s: %s", db, err.message);
	struct stat st;
	cr_assert_neq(stat(db, &st), 0, "open without create made %s", db);
}

Test(registry, open_accepts_null_error)
{
	carnet_registry *r = (carnet_registry *)&r;
	cr_assert_eq(carnet_registry__open(&r, db, 0, NULL), CARNET_E_NOTFOUND);
	cr_assert_null(r);
}

Test(registry, open_on_garbage_file_is_corrupt_and_leaves_it_alone)
{
	char junk[4096];
	memset(junk, 'x', sizeof junk);
	th_write(db, junk, sizeof junk);
	for (int create = 0; create <= 1; create++) {
		carnet_registry *r = (carnet_registry *)&r;
		carnet_error err;
		memset(&err, 0, sizeof err);
		cr_assert_eq(carnet_registry__open(&r, db, create, &err), CARNET_E_CORRUPT,
			     "create=%d: %d %s", create, err.code, err.message);
		cr_assert_null(r);
		cr_assert_eq(err.code, CARNET_E_CORRUPT);
		cr_assert_eq(err.origin, CARNET_ORIGIN_SQLITE);
		cr_assert_eq(err.sys_code & 0xff, SQLITE_NOTADB, "sys_code %d", err.sys_code);
		cr_assert(strstr(err.message, db), "%s", err.message);
	}
	/* the damaged file is kept for inspection, byte for byte */
	FILE *f = fopen(db, "rb");
	cr_assert_not_null(f);
	char back[8192];
	size_t n = fread(back, 1, sizeof back, f);
	fclose(f);
	cr_assert_eq(n, sizeof junk);
	cr_assert_eq(memcmp(back, junk, n), 0);
}

Test(registry, open_newer_schema_is_version_error)
{
	sql_exec(db, "CREATE TABLE future(x); PRAGMA user_version = 99;");
	carnet_registry *r = (carnet_registry *)&r;
	carnet_error err;
	memset(&err, 0, sizeof err);
	cr_assert_eq(carnet_registry__open(&r, db, 0, &err), CARNET_E_VERSION, "%d %s",
		     err.code, err.message);
	cr_assert_null(r);
	cr_assert(strstr(err.message, db), "%s", err.message);
	cr_assert(strstr(err.message, "99"), "%s", err.message);
	/* nothing was migrated or stamped */
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), 99);
	cr_assert_eq(table_exists(db, "meta"), 0);
}

Test(registry, open_migrates_empty_schema_0_file_to_current)
{
	/* a real but empty sqlite database: header written, no tables */
	sql_exec(db, "PRAGMA user_version = 0; VACUUM;");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sqlite_master"), 0);

	carnet_registry *r = open_ok(0);
	put(r, "d1", "S1", 1, "P1", "2025-01-02", "docs/a.xml", "CR");
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 1);
	char fmt[32];
	carnet_error err;
	cr_assert_eq(carnet_registry__meta_get(r, "index_format", fmt, sizeof fmt, &err),
		     CARNET_OK);
	cr_assert_eq(atoi(fmt), CARNET_INDEX_FORMAT);
	carnet_registry__close(r);

	cr_assert_eq(sql_int(db, "PRAGMA user_version"), CARNET_REGISTRY_SCHEMA);
	for (const char *const *t = (const char *const[]){ "meta", "sources", "documents",
							   "visibility", NULL };
	     *t; t++)
		cr_assert_eq(table_exists(db, *t), 1, "table %s missing", *t);
	/* a column added by migration 2 */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM pragma_table_info('documents')"
				 " WHERE name = 'class_code'"), 1);
}

Test(registry, open_migrates_schema_1_file_and_keeps_its_rows)
{
	/* the first schema, as an early library wrote it */
	sql_exec(db,
		 "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
		 "CREATE TABLE sources(path TEXT PRIMARY KEY, content_hash TEXT NOT NULL,"
		 "  state TEXT NOT NULL CHECK (state IN ('indexed','rejected')),"
		 "  reason TEXT, updated_at TEXT NOT NULL);"
		 "CREATE TABLE documents(id TEXT PRIMARY KEY, set_id TEXT NOT NULL,"
		 "  version INTEGER NOT NULL, patient_id TEXT NOT NULL, patient_system TEXT,"
		 "  type TEXT, title TEXT, date TEXT, author_id TEXT, author_specialty TEXT,"
		 "  confidentiality TEXT, language TEXT, format TEXT,"
		 "  source_path TEXT NOT NULL, indexed_at TEXT NOT NULL);"
		 "INSERT INTO meta VALUES('index_format', '" CARNET_INDEX_FORMAT_STRING "');"
		 "INSERT INTO documents(id, set_id, version, patient_id, date, source_path,"
		 "  indexed_at) VALUES('old', 'OLDSET', 4, 'P9', '2020-05-06', 'docs/old.txt',"
		 "  '2020-05-06T10:00:00Z');"
		 "PRAGMA user_version = 1;");
	carnet_registry *r = open_ok(0);
	struct seen_docs s = { 0 };
	carnet_error err;
	cr_assert_eq(carnet_registry__docs_of_set(r, "P9", "OLDSET", collect_doc, &s, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(s.calls, 1);
	cr_assert_str_eq(s.ids[0], "old");
	cr_assert_eq(s.versions[0], 4);
	cr_assert_str_eq(s.dates[0], "2020-05-06");
	carnet_registry__close(r);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), CARNET_REGISTRY_SCHEMA);
	cr_assert_eq(table_exists(db, "visibility"), 1);
	/* the format row was not stamped twice */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM meta WHERE key='index_format'"), 1);
}

Test(registry, changed_index_format_is_version_error_at_next_open)
{
	carnet_registry__close(open_ok(1));
	sql_exec(db, "UPDATE meta SET value = '999' WHERE key = 'index_format'");
	carnet_registry *r = (carnet_registry *)&r;
	carnet_error err;
	memset(&err, 0, sizeof err);
	cr_assert_eq(carnet_registry__open(&r, db, 0, &err), CARNET_E_VERSION, "%d %s",
		     err.code, err.message);
	cr_assert_null(r);
	cr_assert(strstr(err.message, "999"), "%s", err.message);
	cr_assert(strstr(err.message, db), "%s", err.message);
	/* with create too: an existing file is never re-stamped */
	cr_assert_eq(carnet_registry__open(&r, db, 1, &err), CARNET_E_VERSION);
	cr_assert_null(r);
	char v[32];
	sql_text(db, "SELECT value FROM meta WHERE key='index_format'", v, sizeof v);
	cr_assert_str_eq(v, "999");
}

Test(registry, missing_index_format_is_version_error)
{
	carnet_registry__close(open_ok(1));
	sql_exec(db, "DELETE FROM meta WHERE key = 'index_format'");
	carnet_registry *r = (carnet_registry *)&r;
	carnet_error err;
	cr_assert_eq(carnet_registry__open(&r, db, 0, &err), CARNET_E_VERSION, "%d %s",
		     err.code, err.message);
	cr_assert_null(r);
}

Test(registry, close_null_is_harmless)
{
	carnet_registry__close(NULL);
	carnet_registry__close(NULL);
}

/* ---- meta ---- */

Test(registry, meta_get_of_unset_key_is_empty_and_set_round_trips)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	char v[16] = "junk";
	cr_assert_eq(carnet_registry__meta_get(r, "nothing", v, sizeof v, &err), CARNET_OK);
	cr_assert_str_eq(v, "");
	cr_assert_eq(carnet_registry__meta_set(r, "generation", "7", &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_eq(carnet_registry__meta_set(r, "generation", "8", &err), CARNET_OK);
	cr_assert_eq(carnet_registry__meta_get(r, "generation", v, sizeof v, &err),
		     CARNET_OK);
	cr_assert_str_eq(v, "8");
	/* cut to the buffer, NUL-terminated */
	cr_assert_eq(carnet_registry__meta_set(r, "long", "0123456789abcdefXYZ", &err),
		     CARNET_OK);
	cr_assert_eq(carnet_registry__meta_get(r, "long", v, 8, &err), CARNET_OK);
	cr_assert_str_eq(v, "0123456");
	carnet_registry__close(r);
}

/* ---- sources ---- */

Test(registry, source_indexed_round_trips_with_hash)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	const char *hash = "0123456789abcdef0123456789abcdef";
	cr_assert_eq(carnet_registry__source_set(r, "docs/a.txt", hash,
						 CARNET_SOURCE_INDEXED, NULL, &err),
		     CARNET_OK, "%s", err.message);
	int state = -1;
	char h[64] = "junk", reason[64] = "junk";
	cr_assert_eq(carnet_registry__source_get(r, "docs/a.txt", &state, h, reason,
						 sizeof reason, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(state, CARNET_SOURCE_INDEXED);
	cr_assert_str_eq(h, hash);
	cr_assert_str_eq(reason, "");
	carnet_registry__close(r);
}

Test(registry, source_rejected_round_trips_with_reason)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "docs/b.pdf", "feedface",
						 CARNET_SOURCE_REJECTED,
						 "docs/b.pdf: not a PDF", &err),
		     CARNET_OK, "%s", err.message);
	int state = -1;
	char h[64], reason[128];
	cr_assert_eq(carnet_registry__source_get(r, "docs/b.pdf", &state, h, reason,
						 sizeof reason, &err),
		     CARNET_OK);
	cr_assert_eq(state, CARNET_SOURCE_REJECTED);
	cr_assert_str_eq(h, "feedface");
	cr_assert_str_eq(reason, "docs/b.pdf: not a PDF");
	/* hash and reason are optional outputs */
	state = -1;
	cr_assert_eq(carnet_registry__source_get(r, "docs/b.pdf", &state, NULL, NULL, 0,
						 &err),
		     CARNET_OK);
	cr_assert_eq(state, CARNET_SOURCE_REJECTED);
	/* a reason longer than the buffer is cut, NUL-terminated */
	cr_assert_eq(carnet_registry__source_get(r, "docs/b.pdf", &state, NULL, reason, 8,
						 &err),
		     CARNET_OK);
	cr_assert_str_eq(reason, "docs/b.");
	carnet_registry__close(r);
}

Test(registry, source_set_again_replaces_state_and_reason)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "docs/c.txt", "h1",
						 CARNET_SOURCE_REJECTED, "empty file", &err),
		     CARNET_OK);
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 1);
	/* indexed with a note (a source of another shard): the note replaces
	 * the reject's reason */
	cr_assert_eq(carnet_registry__source_set(r, "docs/c.txt", "h2",
						 CARNET_SOURCE_INDEXED, "other shard", &err),
		     CARNET_OK);
	char note[64] = "";
	int st = -1;
	cr_assert_eq(carnet_registry__source_get(r, "docs/c.txt", &st, NULL, note, sizeof note,
						 &err),
		     CARNET_OK);
	cr_assert_eq(st, CARNET_SOURCE_INDEXED);
	cr_assert_str_eq(note, "other shard");
	/* indexed without a note: none */
	cr_assert_eq(carnet_registry__source_set(r, "docs/c.txt", "h2",
						 CARNET_SOURCE_INDEXED, NULL, &err),
		     CARNET_OK);
	int state = -1;
	char h[64], reason[64] = "junk";
	cr_assert_eq(carnet_registry__source_get(r, "docs/c.txt", &state, h, reason,
						 sizeof reason, &err),
		     CARNET_OK);
	cr_assert_eq(state, CARNET_SOURCE_INDEXED);
	cr_assert_str_eq(h, "h2");
	cr_assert_str_eq(reason, "");
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 0);
	carnet_registry__close(r);
}

Test(registry, source_get_of_unknown_path_is_none)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "docs/a.txt", "h", CARNET_SOURCE_INDEXED,
						 NULL, &err),
		     CARNET_OK);
	int state = -1;
	char h[64], reason[64];
	cr_assert_eq(carnet_registry__source_get(r, "docs/A.txt", &state, h, reason,
						 sizeof reason, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(state, CARNET_SOURCE_NONE);
	state = -1;
	cr_assert_eq(carnet_registry__source_get(r, "docs/a.txt.meta.json", &state, NULL,
						 NULL, 0, &err),
		     CARNET_OK);
	cr_assert_eq(state, CARNET_SOURCE_NONE);
	carnet_registry__close(r);
}

Test(registry, source_delete_forgets_the_source)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "docs/a.txt", "h", CARNET_SOURCE_REJECTED,
						 "bad", &err),
		     CARNET_OK);
	cr_assert_eq(carnet_registry__source_delete(r, "docs/a.txt", &err), CARNET_OK);
	int state = -1;
	cr_assert_eq(carnet_registry__source_get(r, "docs/a.txt", &state, NULL, NULL, 0, &err),
		     CARNET_OK);
	cr_assert_eq(state, CARNET_SOURCE_NONE);
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 0);
	carnet_registry__close(r);
}

/* ---- documents and counts ---- */

Test(registry, doc_put_twice_with_same_id_replaces)
{
	carnet_registry *r = open_ok(1);
	put(r, "d1", "S1", 1, "P1", "2025-01-02", "docs/a.txt", "A");
	put(r, "d1", "S1", 2, "P1", "2025-01-03", "docs/a.txt", "B");
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 1);
	struct seen_docs s = { 0 };
	carnet_error err;
	cr_assert_eq(carnet_registry__docs_of_set(r, "P1", "S1", collect_doc, &s, &err), CARNET_OK);
	cr_assert_eq(s.calls, 1);
	cr_assert_eq(s.versions[0], 2);
	cr_assert_str_eq(s.dates[0], "2025-01-03");
	carnet_registry__close(r);
	char title[32];
	sql_text(db, "SELECT title FROM documents WHERE id = 'd1'", title, sizeof title);
	cr_assert_str_eq(title, "B");
}

Test(registry, counts_documents_patients_sets_and_rejects)
{
	carnet_registry *r = open_ok(1);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 0);
	cr_assert_eq(count(r, CARNET_COUNT_PATIENTS), 0);
	cr_assert_eq(count(r, CARNET_COUNT_SETS), 0);
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 0);
	put_sample(r);
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "docs/a.xml", "h", CARNET_SOURCE_INDEXED,
						 NULL, &err),
		     CARNET_OK);
	cr_assert_eq(carnet_registry__source_set(r, "bad/1.pdf", "h", CARNET_SOURCE_REJECTED,
						 "encrypted", &err),
		     CARNET_OK);
	cr_assert_eq(carnet_registry__source_set(r, "bad/2.txt", "h", CARNET_SOURCE_REJECTED,
						 "empty file", &err),
		     CARNET_OK);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 4);
	cr_assert_eq(count(r, CARNET_COUNT_PATIENTS), 2);
	/* S1, S2 and d3, which has no set id and is its own set */
	cr_assert_eq(count(r, CARNET_COUNT_SETS), 3);
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 2);
	carnet_registry__close(r);
}

Test(registry, count_of_unknown_figure_is_invalid)
{
	carnet_registry *r = open_ok(1);
	uint64_t n = 0;
	carnet_error err;
	cr_assert_eq(carnet_registry__count(r, 99, &n, &err), CARNET_E_INVALID);
	cr_assert_eq(err.code, CARNET_E_INVALID);
	cr_assert_eq(carnet_registry__count(r, -1, &n, &err), CARNET_E_INVALID);
	carnet_registry__close(r);
}

Test(registry, doc_without_set_id_is_its_own_set)
{
	carnet_registry *r = open_ok(1);
	put_sample(r);
	struct seen_docs s = { 0 };
	carnet_error err;
	cr_assert_eq(carnet_registry__docs_of_set(r, "P1", "d3", collect_doc, &s, &err), CARNET_OK);
	cr_assert_eq(s.calls, 1);
	cr_assert_str_eq(s.ids[0], "d3");
	cr_assert_str_eq(s.sets[0], "d3");
	carnet_registry__close(r);
}

Test(registry, doc_delete_removes_only_that_document)
{
	carnet_registry *r = open_ok(1);
	put_sample(r);
	carnet_error err;
	cr_assert_eq(carnet_registry__doc_delete(r, "d2", &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 3);
	struct seen_docs s = { 0 };
	cr_assert_eq(carnet_registry__docs_of_set(r, "P1", "S1", collect_doc, &s, &err), CARNET_OK);
	cr_assert_eq(s.calls, 1);
	cr_assert_str_eq(s.ids[0], "d1");
	/* deleting the last document of P2 drops a patient */
	cr_assert_eq(carnet_registry__doc_delete(r, "d4", &err), CARNET_OK);
	cr_assert_eq(count(r, CARNET_COUNT_PATIENTS), 1);
	cr_assert_eq(count(r, CARNET_COUNT_SETS), 2);
	/* an unknown id is not an error and changes nothing */
	cr_assert_eq(carnet_registry__doc_delete(r, "nope", &err), CARNET_OK);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 2);
	carnet_registry__close(r);
}

Test(registry, docs_of_set_lists_each_version)
{
	carnet_registry *r = open_ok(1);
	put_sample(r);
	struct seen_docs s = { 0 };
	carnet_error err;
	cr_assert_eq(carnet_registry__docs_of_set(r, "P1", "S1", collect_doc, &s, &err), CARNET_OK,
		     "%s", err.message);
	cr_assert_eq(s.calls, 2);
	/* "in no particular order": find each */
	int i1 = strcmp(s.ids[0], "d1") == 0 ? 0 : 1;
	int i2 = 1 - i1;
	cr_assert_str_eq(s.ids[i1], "d1");
	cr_assert_str_eq(s.ids[i2], "d2");
	cr_assert_eq(s.versions[i1], 1);
	cr_assert_eq(s.versions[i2], 2);
	cr_assert_str_eq(s.sets[i1], "S1");
	cr_assert_str_eq(s.sets[i2], "S1");
	cr_assert_str_eq(s.dates[i1], "2025-01-02");
	cr_assert_str_eq(s.dates[i2], "2025-03-04");
	/* an unknown set: no call */
	struct seen_docs none = { 0 };
	cr_assert_eq(carnet_registry__docs_of_set(r, "P1", "S9", collect_doc, &none, &err),
		     CARNET_OK);
	cr_assert_eq(none.calls, 0);
	carnet_registry__close(r);
}

Test(registry, docs_of_source_lists_documents_read_from_path)
{
	carnet_registry *r = open_ok(1);
	put_sample(r);
	struct seen_docs s = { 0 };
	carnet_error err;
	cr_assert_eq(carnet_registry__docs_of_source(r, "docs/a.xml", collect_doc, &s, &err),
		     CARNET_OK, "%s", err.message);
	cr_assert_eq(s.calls, 2);
	cr_assert(strcmp(s.ids[0], s.ids[1]) != 0);
	for (int i = 0; i < 2; i++) {
		cr_assert(strcmp(s.ids[i], "d1") == 0 || strcmp(s.ids[i], "d2") == 0, "%s",
			  s.ids[i]);
		cr_assert_eq(s.versions[i], s.ids[i][1] - '0');
		cr_assert_str_eq(s.sets[i], "S1");
	}
	struct seen_docs one = { 0 };
	cr_assert_eq(carnet_registry__docs_of_source(r, "docs/c.pdf", collect_doc, &one, &err),
		     CARNET_OK);
	cr_assert_eq(one.calls, 1);
	cr_assert_str_eq(one.ids[0], "d4");
	cr_assert_str_eq(one.dates[0], ""); /* no date: "" rather than NULL */
	struct seen_docs none = { 0 };
	cr_assert_eq(carnet_registry__docs_of_source(r, "docs", collect_doc, &none, &err),
		     CARNET_OK);
	cr_assert_eq(none.calls, 0);
	carnet_registry__close(r);
}

Test(registry, doc_callback_non_zero_stops_iteration_and_is_returned)
{
	carnet_registry *r = open_ok(1);
	put_sample(r);
	carnet_error err;
	struct seen_docs s = { .stop_after = 1, .stop_value = 42 };
	cr_assert_eq(carnet_registry__docs_of_set(r, "P1", "S1", collect_doc, &s, &err), 42);
	cr_assert_eq(s.calls, 1);
	struct seen_docs t = { .stop_after = 1, .stop_value = -3 };
	cr_assert_eq(carnet_registry__docs_of_source(r, "docs/a.xml", collect_doc, &t, &err),
		     -3);
	cr_assert_eq(t.calls, 1);
	/* the registry is still usable after a stopped iteration */
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 4);
	carnet_registry__close(r);
}

/* ---- rejects ---- */

Test(registry, rejects_lists_path_reason_and_utc_time)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	char before[32], after[32];
	carnet_registry__now(before);
	cr_assert(is_iso_utc(before), "%s", before);
	cr_assert_eq(carnet_registry__source_set(r, "docs/ok.txt", "h", CARNET_SOURCE_INDEXED,
						 NULL, &err),
		     CARNET_OK);
	cr_assert_eq(carnet_registry__source_set(r, "bad/vide.txt", "h1",
						 CARNET_SOURCE_REJECTED,
						 "bad/vide.txt: empty file", &err),
		     CARNET_OK);
	carnet_registry__now(after);
	struct seen_rejects s = { 0 };
	cr_assert_eq(carnet_registry__rejects(r, collect_reject, &s, &err), CARNET_OK, "%s",
		     err.message);
	cr_assert_eq(s.calls, 1);
	cr_assert_str_eq(s.paths[0], "bad/vide.txt");
	cr_assert_str_eq(s.reasons[0], "bad/vide.txt: empty file");
	cr_assert(is_iso_utc_ms(s.whens[0]), "not YYYY-MM-DDTHH:MM:SS.mmmZ: \"%s\"",
		  s.whens[0]);
	/* ISO 8601 UTC strings sort as times (to the second here: after is
	 * whole seconds, so compare the seconds part) */
	cr_assert(strncmp(before, s.whens[0], 19) <= 0 && strncmp(s.whens[0], after, 19) <= 0,
		  "%s not within [%s, %s]", s.whens[0], before, after);
	carnet_registry__close(r);
}

Test(registry, rejects_come_oldest_first)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "a.pdf", "h", CARNET_SOURCE_REJECTED,
						 "first", &err),
		     CARNET_OK);
	cr_assert_eq(carnet_registry__source_set(r, "b.pdf", "h", CARNET_SOURCE_REJECTED,
						 "second", &err),
		     CARNET_OK);
	carnet_registry__close(r);
	/* make a.pdf the newer reject, against path order */
	sql_exec(db, "UPDATE sources SET rejected_since = '2020-01-01T00:00:00.000Z' WHERE path = 'b.pdf';"
		     "UPDATE sources SET rejected_since = '2021-06-30T23:59:59.999Z' WHERE path = 'a.pdf';");
	r = open_ok(0);
	struct seen_rejects s = { 0 };
	cr_assert_eq(carnet_registry__rejects(r, collect_reject, &s, &err), CARNET_OK);
	cr_assert_eq(s.calls, 2);
	cr_assert_str_eq(s.paths[0], "b.pdf");
	cr_assert_str_eq(s.whens[0], "2020-01-01T00:00:00.000Z");
	cr_assert_str_eq(s.reasons[0], "second");
	cr_assert_str_eq(s.paths[1], "a.pdf");
	cr_assert_str_eq(s.whens[1], "2021-06-30T23:59:59.999Z");
	carnet_registry__close(r);
}

/* The time rejects() reports for path (asserts there is one). */
static void reject_time(carnet_registry *r, const char *path, char out[32])
{
	struct seen_rejects s = { 0 };
	carnet_error err;
	cr_assert_eq(carnet_registry__rejects(r, collect_reject, &s, &err), CARNET_OK, "%s",
		     err.message);
	for (int i = 0; i < s.calls && i < 8; i++)
		if (strcmp(s.paths[i], path) == 0) {
			snprintf(out, 32, "%s", s.whens[i]);
			return;
		}
	cr_assert_fail("%s is not among the rejects", path);
}

static void reject(carnet_registry *r, const char *path, const char *hash,
		   const char *reason)
{
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, path, hash, CARNET_SOURCE_REJECTED,
						 reason, &err),
		     CARNET_OK, "%s", err.message);
}

Test(registry, the_same_reject_again_keeps_its_first_time_anything_else_starts_it_again)
{
	carnet_registry *r = open_ok(1);
	reject(r, "bad/a.txt", "h1", "bad/a.txt: empty file");
	reject(r, "bad/b.txt", "", "bad/b.txt: cannot read: Permission denied");
	char a0[32], b0[32], t[32];
	reject_time(r, "bad/a.txt", a0);
	reject_time(r, "bad/b.txt", b0);
	cr_assert(is_iso_utc_ms(a0) && is_iso_utc_ms(b0), "%s %s", a0, b0);
	carnet_registry__close(r);
	/* the first rejects are from an earlier night */
	sql_exec(db, "UPDATE sources SET rejected_since = '2020-01-01T01:30:00.000Z'");

	r = open_ok(0);
	/* refused again, same content and reason (also without a hash):
	 * still the reject recorded in 2020 */
	reject(r, "bad/a.txt", "h1", "bad/a.txt: empty file");
	reject(r, "bad/b.txt", "", "bad/b.txt: cannot read: Permission denied");
	reject_time(r, "bad/a.txt", t);
	cr_assert_str_eq(t, "2020-01-01T01:30:00.000Z");
	reject_time(r, "bad/b.txt", t);
	cr_assert_str_eq(t, "2020-01-01T01:30:00.000Z");

	/* new content, same reason: a new reject */
	reject(r, "bad/a.txt", "h2", "bad/a.txt: empty file");
	reject_time(r, "bad/a.txt", t);
	cr_assert(is_iso_utc_ms(t) && strcmp(t, "2020-01-01T01:30:00.000Z") > 0, "%s", t);
	/* same content, another reason: a new reject */
	reject(r, "bad/b.txt", "", "bad/b.txt: no sidecar");
	reject_time(r, "bad/b.txt", t);
	cr_assert(strcmp(t, "2020-01-01T01:30:00.000Z") > 0, "%s", t);
	carnet_registry__close(r);

	/* indexed in between, then refused again as before: a new reject */
	sql_exec(db, "UPDATE sources SET rejected_since = '2020-01-01T01:30:00.000Z'");
	r = open_ok(0);
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "bad/a.txt", "h2", CARNET_SOURCE_INDEXED,
						 NULL, &err),
		     CARNET_OK);
	reject(r, "bad/a.txt", "h2", "bad/a.txt: empty file");
	reject_time(r, "bad/a.txt", t);
	cr_assert(strcmp(t, "2020-01-01T01:30:00.000Z") > 0, "%s", t);
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 2);
	carnet_registry__close(r);
}

Test(registry, open_migrates_schema_3_rejects_keeping_their_time)
{
	/* a registry of schema 3 with a reject and an indexed source, made
	 * by the library (schema 4) and taken back to 3 as 3 had it */
	carnet_registry *r = open_ok(1);
	reject(r, "bad/old.txt", "h1", "bad/old.txt: invalid JSON");
	carnet_error err;
	cr_assert_eq(carnet_registry__source_set(r, "docs/ok.txt", "h2", CARNET_SOURCE_INDEXED,
						 NULL, &err),
		     CARNET_OK);
	carnet_registry__close(r);
	sql_exec(db, "UPDATE sources SET updated_at = '2021-03-04T05:06:07Z';"
		     "ALTER TABLE sources DROP COLUMN rejected_since;"
		     "PRAGMA user_version = 3;");
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM pragma_table_info('sources')"
				 " WHERE name = 'rejected_since'"), 0);

	r = open_ok(0);
	char t[32];
	reject_time(r, "bad/old.txt", t);
	cr_assert_str_eq(t, "2021-03-04T05:06:07Z", "the reject keeps the time it had");
	/* refused again for the same reason: still that reject */
	reject(r, "bad/old.txt", "h1", "bad/old.txt: invalid JSON");
	reject_time(r, "bad/old.txt", t);
	cr_assert_str_eq(t, "2021-03-04T05:06:07Z");
	int state;
	cr_assert_eq(carnet_registry__source_get(r, "docs/ok.txt", &state, NULL, NULL, 0, &err),
		     CARNET_OK);
	cr_assert_eq(state, CARNET_SOURCE_INDEXED);
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 1);
	carnet_registry__close(r);
	cr_assert_eq(sql_int(db, "PRAGMA user_version"), CARNET_REGISTRY_SCHEMA);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM sources WHERE rejected_since IS NULL"
				 " AND state = 'indexed'"), 1);
}

Test(registry, rejects_callback_non_zero_stops_and_is_returned)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	for (int i = 0; i < 3; i++)
		cr_assert_eq(carnet_registry__source_set(r, th_path("bad/%d.txt", i), "h",
							 CARNET_SOURCE_REJECTED, "why", &err),
			     CARNET_OK);
	struct seen_rejects s = { .stop_after = 2, .stop_value = 7 };
	cr_assert_eq(carnet_registry__rejects(r, collect_reject, &s, &err), 7);
	cr_assert_eq(s.calls, 2);
	carnet_registry__close(r);
}

/* ---- transactions ---- */

Test(registry, rollback_discards_changes_since_begin)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	put(r, "before", NULL, 1, "P1", NULL, "docs/0.txt", "kept"); /* autocommit */
	cr_assert_eq(carnet_registry__begin(r, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_registry__in_txn(r), 1);
	put(r, "d1", "S1", 1, "P1", NULL, "docs/a.txt", "A");
	cr_assert_eq(carnet_registry__source_set(r, "docs/a.txt", "h", CARNET_SOURCE_REJECTED,
						 "x", &err),
		     CARNET_OK);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 2); /* seen inside the transaction */
	carnet_registry__rollback(r);
	cr_assert_eq(carnet_registry__in_txn(r), 0);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 1);
	cr_assert_eq(count(r, CARNET_COUNT_REJECTS), 0);
	carnet_registry__close(r);
	r = open_ok(0);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 1);
	struct seen_docs s = { 0 };
	cr_assert_eq(carnet_registry__docs_of_source(r, "docs/0.txt", collect_doc, &s, &err),
		     CARNET_OK);
	cr_assert_eq(s.calls, 1);
	cr_assert_str_eq(s.ids[0], "before");
	carnet_registry__close(r);
}

Test(registry, commit_keeps_changes_across_reopen)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__begin(r, &err), CARNET_OK);
	put_sample(r);
	cr_assert_eq(carnet_registry__commit(r, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_registry__in_txn(r), 0);
	carnet_registry__close(r);
	r = open_ok(0);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 4);
	cr_assert_eq(count(r, CARNET_COUNT_PATIENTS), 2);
	carnet_registry__close(r);
	/* and another connection sees them */
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM documents"), 4);
}

Test(registry, close_with_open_transaction_discards_it)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__begin(r, &err), CARNET_OK);
	put_sample(r);
	carnet_registry__close(r);
	r = open_ok(0);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 0);
	carnet_registry__close(r);
}

Test(registry, begin_inside_a_transaction_is_a_no_op)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__begin(r, &err), CARNET_OK);
	put(r, "d1", NULL, 1, "P1", NULL, "docs/a.txt", "A");
	cr_assert_eq(carnet_registry__begin(r, &err), CARNET_OK, "%s", err.message);
	cr_assert_eq(carnet_registry__in_txn(r), 1);
	put(r, "d2", NULL, 1, "P1", NULL, "docs/b.txt", "B");
	/* one rollback undoes both: there was one transaction */
	carnet_registry__rollback(r);
	cr_assert_eq(count(r, CARNET_COUNT_DOCUMENTS), 0);
	/* commit and rollback without a transaction are harmless */
	cr_assert_eq(carnet_registry__commit(r, &err), CARNET_OK);
	carnet_registry__rollback(r);
	cr_assert_eq(carnet_registry__in_txn(r), 0);
	carnet_registry__close(r);
}

Test(registry, uncommitted_changes_are_invisible_to_other_connections)
{
	carnet_registry *r = open_ok(1);
	carnet_error err;
	cr_assert_eq(carnet_registry__begin(r, &err), CARNET_OK);
	put_sample(r);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM documents"), 0);
	cr_assert_eq(carnet_registry__commit(r, &err), CARNET_OK);
	cr_assert_eq(sql_int(db, "SELECT count(*) FROM documents"), 4);
	carnet_registry__close(r);
}

/* ---- sqlite failures, read the same way for the registry and the log ---- */

Test(registry, sqlite_failures_read_as_carnet_statuses)
{
	static const struct { int rc, code; } cases[] = {
		{ SQLITE_BUSY, CARNET_E_LOCKED },
		{ SQLITE_BUSY_SNAPSHOT, CARNET_E_LOCKED },
		{ SQLITE_LOCKED, CARNET_E_LOCKED },
		{ SQLITE_CORRUPT, CARNET_E_CORRUPT },
		{ SQLITE_NOTADB, CARNET_E_CORRUPT },
		{ SQLITE_CONSTRAINT_TRIGGER, CARNET_E_CORRUPT },
		{ SQLITE_CONSTRAINT_PRIMARYKEY, CARNET_E_CORRUPT },
		{ SQLITE_NOMEM, CARNET_E_NOMEM },
		{ SQLITE_CANTOPEN, CARNET_E_IO },
		{ SQLITE_IOERR_FSYNC, CARNET_E_IO },
		{ SQLITE_FULL, CARNET_E_IO },
		{ SQLITE_READONLY, CARNET_E_IO },
		{ SQLITE_PERM, CARNET_E_IO },
		{ SQLITE_ERROR, CARNET_E_INTERNAL },
		{ SQLITE_MISUSE, CARNET_E_INTERNAL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		cr_expect_eq(carnet_sqlite__code(cases[i].rc), cases[i].code,
			     "sqlite %d (%s) gave %d", cases[i].rc, sqlite3_errstr(cases[i].rc),
			     carnet_sqlite__code(cases[i].rc));
}

Test(registry, a_trigger_added_behind_carnets_back_is_a_corrupt_registry)
{
	carnet_registry *r = open_ok(1);
	carnet_registry__close(r);
	sql_exec(db, "CREATE TRIGGER no_docs BEFORE INSERT ON documents"
		     "  BEGIN SELECT RAISE(ABORT, 'refused'); END");
	r = open_ok(0);
	carnet_doc d;
	carnet_doc__init(&d);
	cr_assert_eq(carnet_doc__sets(&d.id, "d1"), 0);
	cr_assert_eq(carnet_doc__sets(&d.patient_id, "P1"), 0);
	carnet_error err;
	cr_assert_eq(carnet_registry__doc_put(r, &d, &err), CARNET_E_CORRUPT);
	cr_assert_eq(err.origin, CARNET_ORIGIN_SQLITE);
	cr_assert_eq(err.sys_code, SQLITE_CONSTRAINT_TRIGGER, "sys_code %d", err.sys_code);
	cr_assert(strstr(err.message, db) && strstr(err.message, "refused"), "%s", err.message);
	carnet_doc__clear(&d);
	carnet_registry__close(r);
}
