/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access_log_archive.c - the full walk of access.sqlite (verify), the
 * archive that moves its oldest rows to a file of JSON lines and records
 * them as a row, the check of such a file; carnet_access_log_verify and
 * carnet_access_log_archive. */
#include "access_log_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>

#include "doc.h"
#include "home.h"
#include "sqlite.h"

/* ---- verify ---- */

int carnet_alog__verify(const char *path, carnet_alog_report *rep, carnet_error *err)
{
	memset(rep, 0, sizeof *rep);
	sqlite3 *db;
	int rc = carnet_alog__open_db(&db, path, 1, err);
	if (rc)
		return rc;
	/* one snapshot for the whole walk */
	work w;
	carnet_alog__work_init(&w);
	if ((rc = carnet_alog__exec(db, path, "BEGIN", "begin reading", err)) == CARNET_OK) {
		rc = carnet_alog__check_chain(db, path, &w, 0, rep, err);
		/* a broken row is named first; a failure to read the rows at
		 * all is explained by the schema when it differs */
		if (rc == CARNET_OK || rc != CARNET_E_CORRUPT) {
			int sc = carnet_alog__check_schema(db, path, err);
			if (sc)
				rc = sc;
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	carnet_alog__work_free(&w);
	sqlite3_close(db);
	return rc;
}

/* ---- archiving ---- */

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
		if (!x || json_object_set_new(o, carnet_alog__cols[c], x) != 0) {
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

/* Write the rows after row `after` to fd, in order, as JSON lines: with
 * `before` (archive), only the longest run of them before that day. The
 * count, first and last row and its hash into rep. */
static int write_rows(sqlite3 *db, const char *path, const char *before, uint64_t after,
		      int fd, const char *file, carnet_alog_report *rep, carnet_error *err)
{
	sqlite3_stmt *st;
	int rc = carnet_alog__prepare(db, path, &st,
				      "SELECT " COLS " FROM access_log WHERE seq > ? ORDER BY seq",
				      err);
	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		val v[C_ALL];
		carnet_alog__vals_of_stmt(st, v);
		if (before && (v[C_AT].type != 'T' || strcmp(v[C_AT].s, before) >= 0))
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
				return carnet_alog__row_error(err, path, (uint64_t)v[C_SEQ].i,
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
		return carnet_alog__sql_fail(db, path, s, "read the rows", err);
	return CARNET_OK;
}

/* Record the archive as a row, then remove the archived rows, in one
 * transaction; the rows must still be the ones written. */
static int commit_archive(sqlite3 *db, const char *path, work *w, const char *file,
			  const carnet_alog_report *a, carnet_error *err)
{
	int rc;
	if ((rc = carnet_alog__exec(db, path, "BEGIN IMMEDIATE", "lock the log", err)))
		return rc;
	uint64_t first;
	char last_hash[65] = "";
	sqlite3_stmt *st = NULL;
	if ((rc = carnet_alog__seq_bound(db, path, "SELECT min(seq) FROM access_log", &first,
					 err)) ||
	    (rc = carnet_alog__prepare(db, path, &st, "SELECT hash FROM access_log WHERE seq = ?",
				       err)))
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)a->last_seq);
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(last_hash, sizeof last_hash, "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	st = NULL;
	if (first != a->first_seq || strcmp(last_hash, a->head) != 0) {
		rc = carnet_alog__corrupt(err, path, "the rows changed while they were archived "
					  "(another archive?)");
		goto fail;
	}
	char at[32], hash[65], *name = realpath(file, NULL);
	carnet_sqlite__now_ms(at);
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
	rc = carnet_alog__insert_row(db, path, w, v, hash, err);
	free(name);
	if (rc)
		goto fail;
	if ((rc = carnet_alog__prepare(db, path, &st, "DELETE FROM access_log WHERE seq <= ?",
				       err)))
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)a->last_seq);
	int s = sqlite3_step(st);
	sqlite3_finalize(st);
	st = NULL;
	if (s != SQLITE_DONE)
		rc = carnet_alog__sql_fail(db, path, s, "remove the archived rows", err);
	else if ((uint64_t)sqlite3_changes(db) != a->archived)
		rc = carnet_alog__corrupt(err, path, "removing the archived rows removed another "
					  "number of rows");
fail:
	return carnet_alog__end(db, path, st, rc, "commit the archive", err);
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
	if ((rc = carnet_alog__open_db(&db, path, 0, err)))
		return rc;
	if ((rc = carnet_alog__check_schema(db, path, err))) {
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
	if ((rc = carnet_alog__exec(db, path, "BEGIN", "begin reading", err)) == CARNET_OK) {
		rc = write_rows(db, path, before, 0, fd, file, rep, err);
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
	char dir[CARNET_PATH_MAX];
	if (carnet_home__dir_of(dir, sizeof dir, file) == 0)
		carnet_home__sync_dir(dir);
	work w;
	carnet_alog__work_init(&w);
	rc = commit_archive(db, path, &w, file, rep, err);
	carnet_alog__work_free(&w);
	sqlite3_close(db);
	return rc;
}

/* ---- exporting ---- */

int carnet_alog__export(const char *path, uint64_t after, int fd, const char *file,
			carnet_alog_report *rep, carnet_error *err)
{
	memset(rep, 0, sizeof *rep);
	/* only rows whose chain holds leave for the central store */
	carnet_alog_report whole;
	int rc = carnet_alog__verify(path, &whole, err);
	if (rc)
		return rc;
	sqlite3 *db;
	if ((rc = carnet_alog__open_db(&db, path, 1, err)))
		return rc;
	if ((rc = carnet_alog__exec(db, path, "BEGIN", "begin reading", err)) == CARNET_OK) {
		rc = write_rows(db, path, NULL, after, fd, file, rep, err);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	}
	sqlite3_close(db);
	return rc;
}

/* ---- checking an archive file ---- */

/* One line of an archive file into values (strings borrowed from o). */
static int vals_of_json(json_t *o, val v[C_ALL])
{
	if (!json_is_object(o))
		return -1;
	for (int c = 0; c < C_ALL; c++) {
		json_t *x = json_object_get(o, carnet_alog__cols[c]);
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
	carnet_alog__work_init(&w);
	int rc = CARNET_OK;
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
		} else if (!carnet_alog__row_hash_ok(&w, v, computed)) {
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
	carnet_alog__work_free(&w);
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
	if ((rc = carnet_alog__open_db(&db, path, 1, err)))
		return rc;
	sqlite3_stmt *st;
	if ((rc = carnet_alog__prepare(db, path, &st,
				       "SELECT archive_upto, archive_rows FROM access_log"
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

/* The access log of home into path, and *out (or local, when out is
 * NULL) cleared for the report. */
static int home_log(char path[CARNET_PATH_MAX], const char *home,
		    carnet_access_log_report **out, carnet_access_log_report *local,
		    carnet_error *err)
{
	if (!*out)
		*out = local;
	memset(*out, 0, sizeof **out);
	return carnet_home__path(path, CARNET_PATH_MAX, carnet_home__resolve(home),
				 CARNET_ACCESS_LOG_FILE, err);
}

int carnet_access_log_verify(const char *home, const char *archive,
			     carnet_access_log_report *out, carnet_error *err)
{
	carnet_access_log_report local;
	char path[CARNET_PATH_MAX];
	int rc = home_log(path, home, &out, &local, err);
	if (rc)
		return rc;
	return archive ? carnet_alog__verify_archive(path, archive, out, err)
		       : carnet_alog__verify(path, out, err);
}

int carnet_access_log_export(const char *home, uint64_t after, int fd,
			     carnet_access_log_report *out, carnet_error *err)
{
	carnet_access_log_report local;
	char path[CARNET_PATH_MAX], what[32];
	int rc = home_log(path, home, &out, &local, err);
	if (rc)
		return rc;
	snprintf(what, sizeof what, "descriptor %d", fd);
	rc = carnet_alog__export(path, after, fd, what, out, err);
	out->rows = out->archived;
	out->archived = 0;
	return rc;
}

int carnet_access_log_archive(const char *home, const char *before, const char *file,
			      carnet_access_log_report *out, carnet_error *err)
{
	carnet_access_log_report local;
	char path[CARNET_PATH_MAX];
	int rc = home_log(path, home, &out, &local, err);
	if (rc)
		return rc;
	if (!file || !*file)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "archive: no file named");
	return carnet_alog__archive(path, before, file, out, err);
}
