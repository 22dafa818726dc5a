/* SPDX-License-Identifier: GPL-2.0-or-later */
/* access_log.c - access.sqlite as a viewer uses it: opening the existing
 * log (never creating it, failing closed) and checking it, appending a
 * request, listing a patient's; the errors and statements the other
 * access_log_*.c files share. */
#include "access_log_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#include "buf.h"
#include "sqlite.h"

/* Bounds on what one row keeps of a request's strings, in bytes. */
#define FIELD_MAX 256
#define WORDS_MAX 4096
#define REASON_MAX 1024

/* The WAL, in frames (pages), past which a viewer truncates it. A viewer
 * commits without an fsync (synchronous=NORMAL), and each new viewer
 * process, the first to open the log, rebuilds the WAL index by reading
 * every frame of the WAL; that index, and with it what the last checkpoint
 * copied, goes when the process ends, so sqlite's automatic checkpoint (at
 * 1000 pages) left every process reading up to 4 MB, about 750 reads, and
 * then checkpointing them again. So a handle that closes with the WAL past
 * WAL_FRAMES pages checkpoints it and truncates it to zero if no other
 * connection is reading it (never waiting for one): a new process reads at
 * most about WAL_FRAMES frames plus what one process wrote. It costs the
 * copy of those pages and two fsyncs (the WAL, then the log) about every
 * fifteen viewer processes, paid after their answer. A long-lived handle
 * (a service) checkpoints only past WAL_FRAMES_LIVE pages, about once in
 * 2,700 requests (a row takes about 3 pages: the row, the patient index,
 * the head), on a thread of its own (see append_locked), so that no search
 * waits for the fsyncs (with a checkpoint at 64 pages in the searches, one
 * request in eight paid them and the p99 of every kind of search was 4.5
 * ms at 100,000 documents). Each checkpoint still holds the appends for
 * the tail's two fsyncs: at sqlite's own threshold, 1,000 pages (one
 * request in 300), carnet-serve at 16 clients left its 2 cores idle 9% of
 * the time; at 8,000 pages 4% (2,630 searches/s against 2,170-2,335), for
 * a WAL of about 40 MB at most. */
#define WAL_FRAMES 64
#define WAL_FRAMES_LIVE 8000

struct carnet_alog {
	work w;
	sqlite3 *db;
	int schema_version;   /* PRAGMA schema_version when last checked */
	int wal_frames;       /* the WAL's frames after this handle's last commit */
	/* what every append runs besides the chain's statements (w), kept
	 * prepared: sqlite parses a statement anew each time it is given text */
	sqlite3_stmt *version, *begin, *commit;
	char path[4096];
};

/* ---- errors and statements ---- */

int carnet_alog__sql_fail(sqlite3 *db, const char *path, int rc, const char *what,
			  carnet_error *err)
{
	return carnet_sqlite__fail(err, db, rc, "access log", path, what);
}

int carnet_alog__corrupt(carnet_error *err, const char *path, const char *fmt, ...)
{
	char what[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
				 "access log %s: %s", path, what);
}

int carnet_alog__row_error(carnet_error *err, const char *path, uint64_t seq,
			   const char *what)
{
	return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
				 "access log %s: row %llu: %s", path,
				 (unsigned long long)seq, what);
}

int carnet_alog__exec(sqlite3 *db, const char *path, const char *sql,
		      const char *what, carnet_error *err)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? CARNET_OK : carnet_alog__sql_fail(db, path, rc, what, err);
}

int carnet_alog__prepare(sqlite3 *db, const char *path, sqlite3_stmt **st,
			 const char *sql, carnet_error *err)
{
	int rc = sqlite3_prepare_v2(db, sql, -1, st, NULL);
	return rc == SQLITE_OK ? CARNET_OK : carnet_alog__sql_fail(db, path, rc, "prepare", err);
}

int carnet_alog__end(sqlite3 *db, const char *path, sqlite3_stmt *st, int rc,
		     const char *what, carnet_error *err)
{
	sqlite3_finalize(st);
	if (rc == CARNET_OK)
		rc = carnet_alog__exec(db, path, "COMMIT", what, err);
	if (rc)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
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

/* ---- opening ---- */

int carnet_alog__open_db(sqlite3 **out, const char *path, int readonly, carnet_error *err)
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
	/* sqlite's checkpoint at close is off (an fsync per viewer process):
	 * carnet_alog__close checkpoints past WAL_FRAMES */
	sqlite3 *db = NULL;
	int flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
		    SQLITE_OPEN_NOMUTEX;
	int rc = carnet_sqlite__open(&db, path, flags, 1);
	if (rc != SQLITE_OK) {
		rc = carnet_alog__sql_fail(db, path, rc, "cannot open it", err);
		sqlite3_close(db);
		return rc;
	}
	*out = db;
	return CARNET_OK;
}

/* sqlite's WAL hook: instead of its automatic checkpoint, note the WAL's
 * size after each commit (carnet_alog__append checkpoints). */
static int note_wal(void *payload, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	((carnet_alog *)payload)->wal_frames = frames;
	return SQLITE_OK;
}

/* Past frames frames, checkpoint the WAL, without waiting for other
 * connections (then it stays for a later commit). TRUNCATE (at close)
 * also empties the file, but holds sqlite's write lock meanwhile: the
 * other handles of a service would sleep in sqlite's busy handler for
 * the checkpoint's two fsyncs (the p99 of searches on 4 threads was 20
 * ms). PASSIVE (in commits) copies without the write lock; the next
 * writer then starts the WAL again from its beginning. The rows are
 * committed already: a checkpoint that cannot be made is no failure of
 * the log. */
static void bound_wal(carnet_alog *l, int frames, int mode)
{
	if (l->wal_frames < frames)
		return;
	sqlite3_busy_timeout(l->db, 0);
	sqlite3_wal_checkpoint_v2(l->db, NULL, mode, NULL, NULL);
	sqlite3_busy_timeout(l->db, CARNET_SQLITE_BUSY_MS);
	l->wal_frames = 0;
}

int carnet_alog__open(carnet_alog **out, const char *path, carnet_error *err)
{
	*out = NULL;
	carnet_alog *l = calloc(1, sizeof *l);
	if (!l)
		return carnet_error__nomem(err, "opening the access log");
	snprintf(l->path, sizeof l->path, "%s", path);
	carnet_alog_report rep;
	int rc;
	carnet_alog__work_init(&l->w);
	if ((rc = carnet_alog__open_db(&l->db, path, 0, err)) ||
	    (rc = carnet_alog__exec(l->db, path, "PRAGMA synchronous=NORMAL", "set synchronous",
				    err)) ||
	    (rc = carnet_alog__exec(l->db, path, "BEGIN", "begin reading", err)))
		goto fail;
	sqlite3_wal_hook(l->db, note_wal, l);
	l->schema_version = carnet_alog__schema_version(l->db);
	rc = carnet_alog__check_schema(l->db, path, err);
	if (rc == CARNET_OK)
		rc = carnet_alog__check_chain(l->db, path, &l->w, CARNET_ALOG_TAIL, &rep, err);
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
	bound_wal(l, WAL_FRAMES, SQLITE_CHECKPOINT_TRUNCATE);
	carnet_alog__work_free(&l->w);
	sqlite3_finalize(l->version);
	sqlite3_finalize(l->begin);
	sqlite3_finalize(l->commit);
	sqlite3_close(l->db);
	free(l);
}

/* ---- appending and listing ---- */

/* The handles of one process take turns at the log here, before sqlite's
 * write lock: a connection that finds that lock taken waits in sqlite's
 * busy handler, which sleeps 1, 2, 5, 10... ms between tries, so a
 * service's worker threads, each with its own handle, spent much of their
 * time asleep behind a commit of a few tens of microseconds (searches on
 * 4 threads used under one core). Other processes (a carnet-query beside
 * the service) still meet at sqlite's lock. */
static pthread_mutex_t append_turn = PTHREAD_MUTEX_INITIALIZER;

/* A long-lived handle's checkpoint, in two parts, so that no search
 * waits for its fsyncs. Past WAL_FRAMES_LIVE pages, the handle that
 * committed asks the process's checkpointer thread to copy the WAL into
 * the log (the bulk: thousands of pages and two fsyncs, 15 ms on the CI VM
 * for 1,000, which held every search of a service when done in turn: the
 * p99 of the service at 4 clients was 11 ms over the search itself; done
 * by the search that asked, it took one search in 300 to 15 ms). The handles
 * keep appending meanwhile, so what they append is left (the tail); the
 * next handle of that log to append copies it in its turn, a few pages,
 * so that the WAL is then wholly copied and the next commit writes it
 * again from its start. A WAL copied only while others append is never
 * wholly copied and grows without end (20 MB with 4 threads). The thread
 * is started the first time it is needed (a viewer process that makes
 * one search never starts it), has its own connection to the log, and
 * if it cannot be started the handle copies the bulk itself after its
 * turn. Guarded by append_turn. */
static struct {
	int started;          /* the checkpointer thread runs in this process */
	int wanted;           /* the bulk of the log at path is to be copied */
	int running;          /* a bulk is being copied */
	int tail_due;         /* the log at path has a tail to copy in turn */
	char path[4096];
} ckpt;
static pthread_cond_t ckpt_wake = PTHREAD_COND_INITIALIZER;

/* Copy what the WAL of the log at db holds into the log, without waiting
 * for the other connections; a checkpoint that cannot be made is no
 * failure of the log (its rows are committed). */
static int copy_wal(sqlite3 *db)
{
	int frames = 0, copied = 0;
	sqlite3_busy_timeout(db, 0);
	int rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
	sqlite3_busy_timeout(db, CARNET_SQLITE_BUSY_MS);
	return rc == SQLITE_OK && frames > copied ? frames - copied : 0;
}

/* The bulk, copied by the checkpointer thread: again while the handles
 * appended more than TAIL_FRAMES pages during the last copy, a few times
 * at most, so that the tail the next append copies in its turn is small.
 * Its fsync waits for every page of the WAL written since the last one:
 * after one copy of 8,000 pages, the tail held a search for 50 ms. */
#define TAIL_FRAMES 64
static void copy_bulk(sqlite3 *db)
{
	for (int round = 0; round < 4 && copy_wal(db) > TAIL_FRAMES; round++)
		;
}

/* The bulk is copied (in turn). What was appended meanwhile is not
 * counted in what the checkpoint reports: the tail is always due
 * (copying an empty tail costs no fsync). */
static void bulk_copied(void)
{
	ckpt.running = 0;
	ckpt.tail_due = 1;
}

static void *checkpointer(void *arg)
{
	(void)arg;
	prctl(PR_SET_NAME, "carnet-ckpt"); /* as ps and top show it */
	sqlite3 *db = NULL;
	char open_path[sizeof ckpt.path] = "", path[sizeof ckpt.path];
	pthread_mutex_lock(&append_turn);
	for (;;) {
		while (!ckpt.wanted)
			pthread_cond_wait(&ckpt_wake, &append_turn);
		ckpt.wanted = 0;
		ckpt.running = 1;
		memcpy(path, ckpt.path, sizeof path);
		pthread_mutex_unlock(&append_turn);
		if (strcmp(path, open_path) != 0) {
			carnet_error err;
			sqlite3_close(db);
			db = NULL;
			open_path[0] = '\0';
			/* a connection that has read nothing does not know the
			 * log is in WAL mode: its checkpoint copies nothing and
			 * says so (-1 frames), leaving the whole bulk to the
			 * tail, in turn (every search held 50-100 ms) */
			if (carnet_alog__open_db(&db, path, 0, &err) == CARNET_OK &&
			    sqlite3_exec(db, "SELECT seq FROM access_log_head", NULL, NULL, NULL) ==
				    SQLITE_OK)
				memcpy(open_path, path, sizeof open_path);
			else { /* the tail copies it all; opened again next time */
				sqlite3_close(db);
				db = NULL;
			}
		}
		if (db)
			copy_bulk(db);
		pthread_mutex_lock(&append_turn);
		bulk_copied();
	}
	return NULL;
}

/* A fork while another thread holds append_turn would leave the child a
 * turn nobody gives back; and the child has no checkpointer thread. */
static void fork_prepare(void) { pthread_mutex_lock(&append_turn); }
static void fork_parent(void) { pthread_mutex_unlock(&append_turn); }
static void fork_child(void)
{
	ckpt.started = ckpt.wanted = ckpt.running = ckpt.tail_due = 0;
	pthread_mutex_unlock(&append_turn);
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) { pthread_atfork(fork_prepare, fork_parent, fork_child); }

/* Start the checkpointer (in turn): 1 if it runs. */
static int start_checkpointer(void)
{
	if (ckpt.started)
		return 1;
	pthread_attr_t attr;
	pthread_t t;
	if (pthread_attr_init(&attr) != 0)
		return 0;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	ckpt.started = pthread_create(&t, &attr, checkpointer, NULL) == 0;
	pthread_attr_destroy(&attr);
	return ckpt.started;
}

/* Run the statement *st keeps (prepared from sql the first time). */
static int run_kept(carnet_alog *l, sqlite3_stmt **st, const char *sql, const char *what,
		    carnet_error *err)
{
	int rc = *st ? SQLITE_OK : sqlite3_prepare_v2(l->db, sql, -1, st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(*st);
		sqlite3_reset(*st);
	}
	return rc == SQLITE_DONE || rc == SQLITE_OK ? CARNET_OK
						    : carnet_alog__sql_fail(l->db, l->path, rc, what, err);
}

static int append_locked(carnet_alog *l, val v[C_ALL], char hash[65], carnet_error *err)
{
	int rc;
	pthread_once(&atfork_once, register_atfork);
	pthread_mutex_lock(&append_turn);
	if ((rc = run_kept(l, &l->begin, "BEGIN IMMEDIATE", "lock the log", err)) == CARNET_OK) {
		if ((rc = carnet_alog__check_last(l->db, l->path, &l->w, err)) == CARNET_OK)
			rc = carnet_alog__insert_row(l->db, l->path, &l->w, v, hash, err);
		if (rc == CARNET_OK)
			rc = run_kept(l, &l->commit, "COMMIT", "commit a row", err);
		if (rc)
			sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	}
	int self = 0; /* copy the bulk after the turn, no thread to do it */
	if (rc == CARNET_OK && ckpt.tail_due && strcmp(ckpt.path, l->path) == 0) {
		ckpt.tail_due = 0;
		copy_wal(l->db);
		l->wal_frames = 0;
	} else if (rc == CARNET_OK && l->wal_frames >= WAL_FRAMES_LIVE && !ckpt.wanted &&
		   !ckpt.running) {
		/* a tail still due is another log's, whose handles have not
		 * appended since (closed, maybe): it must not hold this one */
		ckpt.tail_due = 0;
		snprintf(ckpt.path, sizeof ckpt.path, "%s", l->path);
		l->wal_frames = 0;
		if (start_checkpointer()) {
			ckpt.wanted = 1;
			pthread_cond_signal(&ckpt_wake);
		} else {
			ckpt.running = self = 1;
		}
	}
	pthread_mutex_unlock(&append_turn);
	if (self) {
		copy_bulk(l->db);
		pthread_mutex_lock(&append_turn);
		bulk_copied();
		pthread_mutex_unlock(&append_turn);
	}
	return rc;
}

int carnet_alog__append(carnet_alog *l, const carnet_access *a, carnet_error *err)
{
	/* the schema changed since it was checked (a trigger added or
	 * dropped while this handle was open): check it again */
	int sv = -1;
	if (l->version || sqlite3_prepare_v2(l->db, "PRAGMA schema_version", -1, &l->version,
					      NULL) == SQLITE_OK) {
		if (sqlite3_step(l->version) == SQLITE_ROW)
			sv = sqlite3_column_int(l->version, 0);
		sqlite3_reset(l->version);
	}
	if (sv != l->schema_version) {
		int rc = carnet_alog__check_schema(l->db, l->path, err);
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
		rc = carnet_error__nomem(err, "writing the access log");
	} else {
		char at[32], hash[65];
		carnet_sqlite__now_ms(at);
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
	int rc = carnet_alog__prepare(l->db, l->path, &st,
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
	return s == SQLITE_DONE ? CARNET_OK
				: carnet_alog__sql_fail(l->db, l->path, s, "read the log", err);
}
