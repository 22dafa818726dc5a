/* SPDX-License-Identifier: GPL-2.0-or-later */
/* registry_int.h - what the files of the registry share (registry.c: the
 * connection, schema, metadata; registry_sources.c, registry_docs.c,
 * registry_visibility.c): the handle and the statement helpers. Not for
 * other modules. */
#ifndef CARNET_CORE_REGISTRY_INT_H
#define CARNET_CORE_REGISTRY_INT_H

#include <sqlite3.h>

#include "registry.h"
#include "sqlite.h"

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

/* The failure rc of sqlite on the registry (carnet_sqlite__fail). */
int carnet_registry__fail(carnet_registry *r, carnet_error *err, int rc,
			  const char *what);
int carnet_registry__exec(carnet_registry *r, const char *sql, const char *what,
			  carnet_error *err);
/* A statement prepared for one use: finalize it, or give it to
 * carnet_registry__run or carnet_registry__release. */
int carnet_registry__prepare(carnet_registry *r, sqlite3_stmt **st, const char *sql,
			     carnet_error *err);
/* Like prepare, for the statements run once or more per input: sql must be
 * a string literal; the statement is compiled once per connection and
 * kept. Give it back with carnet_registry__release(). */
int carnet_registry__cached(carnet_registry *r, sqlite3_stmt **st, const char *sql,
			    carnet_error *err);
/* cached, with key bound to the first parameter (NULL binds NULL). */
int carnet_registry__select(carnet_registry *r, sqlite3_stmt **st, const char *sql,
			    const char *key, carnet_error *err);
/* Done with st: reset a cached statement, finalize any other. */
void carnet_registry__release(carnet_registry *r, sqlite3_stmt *st);
/* Bind text s (NULL binds NULL) to parameter i. */
void carnet_registry__bind_text(sqlite3_stmt *st, int i, const char *s);
/* Step a statement that returns no rows, then release it. */
int carnet_registry__run(carnet_registry *r, sqlite3_stmt *st, const char *what,
			 carnet_error *err);
/* Run sql, a statement that returns no rows, once, with the n text
 * parameters (const char *, NULL binds NULL) that follow n. */
int carnet_registry__write(carnet_registry *r, const char *sql, const char *what,
			   carnet_error *err, int n, ...);
/* The first column of the row sql (a string literal, run as a cached
 * statement, with one text parameter: key) finds, as text into out (size
 * bytes; "" when there is no row; out may be NULL); *found_out (if not
 * NULL) 1 or 0. what names the look-up in an error. */
int carnet_registry__lookup(carnet_registry *r, const char *sql, const char *key,
			    char *out, size_t size, int *found_out, const char *what,
			    carnet_error *err);
/* Column col of st's row as text into out (size bytes; "" for NULL);
 * nothing when out is NULL or size 0. */
void carnet_registry__copy_col(sqlite3_stmt *st, int col, char *out, size_t size);

#endif
