/* SPDX-License-Identifier: GPL-2.0-or-later */
/* error.h - filling a carnet_error; shared by every module of the library. */
#ifndef CARNET_CORE_ERROR_H
#define CARNET_CORE_ERROR_H

#include "carnet.h"

#if defined(__GNUC__)
#define CARNET_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CARNET_PRINTF(f, a)
#endif

/* Fill err (if not NULL) with code, origin, foreign code and a formatted
 * message; returns code so a caller can `return carnet_error__set(...)`. */
int carnet_error__set(carnet_error *err, int code, int origin, int sys_code,
		      const char *fmt, ...) CARNET_PRINTF(5, 6);

/* Same for an errno failure: appends ": strerror(errno_value)". */
int carnet_error__os(carnet_error *err, int code, int errno_value,
		     const char *fmt, ...) CARNET_PRINTF(4, 5);

/* CARNET_E_NOMEM, "out of memory" and, when what is given, " " what (e.g.
 * "reading the registry"); returns CARNET_E_NOMEM. */
int carnet_error__nomem(carnet_error *err, const char *what);

/* Reset err to CARNET_OK with an empty message. */
void carnet_error__clear(carnet_error *err);

/* The status code for an errno value (ENOENT -> NOTFOUND, ENOMEM -> NOMEM,
 * anything else -> IO). */
int carnet_error__from_errno(int errno_value);

#endif
