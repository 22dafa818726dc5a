/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sqlite.c - opening carnet's sqlite databases, their failures as carnet
 * statuses, their time stamps (see sqlite.h). */
#include "sqlite.h"

#include <stdio.h>
#include <time.h>

#include "home.h"

int carnet_sqlite__code(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return CARNET_E_LOCKED;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_CONSTRAINT:
		return CARNET_E_CORRUPT;
	case SQLITE_NOMEM:
		return CARNET_E_NOMEM;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return CARNET_E_IO;
	default:
		return CARNET_E_INTERNAL;
	}
}

int carnet_sqlite__fail(carnet_error *err, sqlite3 *db, int rc, const char *kind,
			const char *path, const char *what)
{
	return carnet_error__set(err, carnet_sqlite__code(rc), CARNET_ORIGIN_SQLITE, rc,
				 "%s %s: %s: %s", kind, path, what,
				 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

int carnet_sqlite__open(sqlite3 **out, const char *path, int flags, int no_checkpoint)
{
	int rc = sqlite3_open_v2(path, out, flags, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3 *db = *out;
	sqlite3_busy_timeout(db, CARNET_SQLITE_BUSY_MS);
	sqlite3_extended_result_codes(db, 1);
	/* in a directory shared with viewers who cannot create files there
	 * (home.h), the -wal and -shm files of a database must outlive its
	 * connections: a viewer may open it read-only (the registry) or
	 * write it (the access log) only when they exist. sqlite gives them
	 * the database file's mode. */
	char dir[CARNET_PATH_MAX];
	int on = 1;
	if (carnet_home__dir_of(dir, sizeof dir, path) == 0 && carnet_home__shared(dir))
		sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &on);
	if (no_checkpoint)
		sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)NULL);
	return SQLITE_OK;
}

void carnet_sqlite__now_ms(char out[32])
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ts.tv_nsec / 1000000) % 1000u);
}
