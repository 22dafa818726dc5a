/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sqlite.h - what the two sqlite databases of an index home (registry.h,
 * access_log.h) share: a connection opened the same way, one reading of a
 * sqlite failure as a carnet status, the time their rows are stamped with. */
#ifndef CARNET_CORE_SQLITE_H
#define CARNET_CORE_SQLITE_H

#include <sqlite3.h>

#include "error.h"

/* The carnet status for a sqlite result code (primary or extended):
 * busy or locked -> CARNET_E_LOCKED; corrupt, not a database or a
 * constraint refused -> CARNET_E_CORRUPT (carnet only writes what its
 * schemas accept: a refusal means a file or trigger not as carnet made
 * it); out of memory -> CARNET_E_NOMEM; cannot open, I/O, disk full, read
 * only, permission -> CARNET_E_IO; anything else -> CARNET_E_INTERNAL. */
int carnet_sqlite__code(int rc);

/* Fill err for the sqlite result rc: the status above, origin
 * CARNET_ORIGIN_SQLITE, rc as the foreign code and the message
 * "<kind> <path>: <what>: <sqlite's message>" (db's when db is given, else
 * rc's). Returns the status. */
int carnet_sqlite__fail(carnet_error *err, sqlite3 *db, int rc, const char *kind,
			const char *path, const char *what);

/* How long carnet waits for a busy database, in milliseconds. */
#define CARNET_SQLITE_BUSY_MS 5000

/* Open path with flags (SQLITE_OPEN_*) the way carnet opens its databases:
 * extended result codes, waiting up to 5 s for a busy database, and in a
 * shared home (home.h) the -wal and -shm files kept after the last
 * connection closes (viewers, who cannot create files there, need them).
 * With no_checkpoint, closing does not checkpoint the WAL (no fsync: the
 * commits that make the WAL grow checkpoint it). Returns a sqlite result
 * code; *out is set even on failure (for its message): close it. */
int carnet_sqlite__open(sqlite3 **out, const char *path, int flags, int no_checkpoint);

/* The current UTC time to the millisecond, "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void carnet_sqlite__now_ms(char out[32]);

#endif
