/* SPDX-License-Identifier: GPL-2.0-or-later */
/* util.h - the small things the library would otherwise write again in
 * every file: growing an array, hashing bytes, reading a table's lines.
 * (Saying that memory ran out is carnet_error__nomem, in error.h.) */
#ifndef CARNET_CORE_UTIL_H
#define CARNET_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Make room for need elements in the array whose address is arrayp (a
 * pointer to any T *), of elem_size bytes each, whose capacity is *cap:
 * the capacity doubles from 8 until it holds need. Returns 0, or -1 when
 * memory runs out or the size overflows (array and *cap then unchanged). */
int carnet__grow(void *arrayp, size_t *cap, size_t need, size_t elem_size);

/* The usual call: CARNET_GROW(list->items, list->cap, list->count + 1)
 * (need is read twice: no side effects in it). No call while it fits. */
#define CARNET_GROW(array, cap, need) \
	((need) <= (cap) ? 0 : carnet__grow(&(array), &(cap), (need), sizeof *(array)))

/* 64-bit FNV-1a of len bytes, or of a NUL-terminated string: stable across
 * runs and machines (the index may store what it decides). */
uint64_t carnet__hash(const void *data, size_t len);
/* Go on hashing: h (CARNET_HASH_START or an earlier answer) and more bytes. */
#define CARNET_HASH_START 14695981039346656037ull
uint64_t carnet__hash_add(uint64_t h, const void *data, size_t len);
uint64_t carnet__hash_str(const char *s);

/* Reading a table (the shipped ones and those a deployer puts in an index
 * home): one record a line; '#' starts a comment that runs to the end of
 * the line; blanks (space, tab, CR) around a line are dropped; lines left
 * empty are skipped. */
#define CARNET_LINE_MAX 1023

typedef struct carnet_lines {
	const char *name;  /* the table's name, for messages */
	const char *text;
	size_t len, at;
	unsigned number;   /* the number of the line in line (from 1) */
	char line[CARNET_LINE_MAX + 1];
} carnet_lines;

void carnet_lines__start(carnet_lines *it, const char *name, const char *text,
			 size_t len);

/* 1 with it->line holding the next line that holds something, 0 at the
 * end; CARNET_E_INVALID (negative) naming "name:number" for a NUL byte or a
 * line longer than CARNET_LINE_MAX bytes. */
int carnet_lines__next(carnet_lines *it, carnet_error *err);

/* CARNET_E_INVALID naming the table and the line the iterator is on, with
 * a reason (printf-style). */
int carnet_lines__bad(const carnet_lines *it, carnet_error *err, const char *fmt,
		      ...) CARNET_PRINTF(3, 4);

/* Split line on tabs, in place, into at most max fields f; returns their
 * count (the last field keeps any further tabs). */
size_t carnet__split_tabs(char *line, char **f, size_t max);

#endif
