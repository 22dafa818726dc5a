/* SPDX-License-Identifier: GPL-2.0-or-later */
/* error.c - status strings, error filling, version and allocator entry points. */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int carnet_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = CARNET_VERSION_MAJOR;
	if (minor)
		*minor = CARNET_VERSION_MINOR;
	if (patch)
		*patch = CARNET_VERSION_PATCH;
	return CARNET_VERSION_NUMBER;
}

const char *carnet_strerror(int code)
{
	switch (code) {
	case CARNET_OK: return "success";
	case CARNET_E_NOTFOUND: return "not found";
	case CARNET_E_LOCKED: return "index locked by another writer";
	case CARNET_E_MODIFIED: return "index modified during the read";
	case CARNET_E_CORRUPT: return "index or registry corrupt";
	case CARNET_E_VERSION: return "unsupported index format version";
	case CARNET_E_QUERY: return "query cannot be searched";
	case CARNET_E_UNSUPPORTED_FORMAT: return "unsupported input format";
	case CARNET_E_NOMEM: return "out of memory";
	case CARNET_E_IO: return "input/output error";
	case CARNET_E_INVALID: return "invalid argument or input";
	case CARNET_E_INTERNAL: return "internal error";
	case CARNET_E_DENIED: return "access denied";
	default: return "unknown status code";
	}
}

static void vfill(carnet_error *err, int code, int origin, int sys_code,
		  const char *fmt, va_list ap) CARNET_PRINTF(5, 0);

/* Fill err (nothing when it is NULL). */
static void vfill(carnet_error *err, int code, int origin, int sys_code,
		  const char *fmt, va_list ap)
{
	if (!err)
		return;
	err->code = code;
	err->origin = origin;
	err->sys_code = sys_code;
	vsnprintf(err->message, sizeof err->message, fmt, ap);
	/* keep it one line */
	for (char *p = err->message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

int carnet_error__set(carnet_error *err, int code, int origin, int sys_code,
		      const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfill(err, code, origin, sys_code, fmt, ap);
	va_end(ap);
	return code;
}

int carnet_error__from_errno(int errno_value)
{
	switch (errno_value) {
	case ENOENT:
	case ENOTDIR:
		return CARNET_E_NOTFOUND;
	case ENOMEM:
		return CARNET_E_NOMEM;
	default:
		return CARNET_E_IO;
	}
}

int carnet_error__os(carnet_error *err, int code, int errno_value,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfill(err, code, CARNET_ORIGIN_OS, errno_value, fmt, ap);
	va_end(ap);
	if (err) {
		char why[128];
		if (strerror_r(errno_value, why, sizeof why) != 0)
			snprintf(why, sizeof why, "errno %d", errno_value);
		size_t n = strlen(err->message);
		snprintf(err->message + n, sizeof err->message - n, ": %s",
			 why);
	}
	return code;
}

int carnet_error__nomem(carnet_error *err, const char *what)
{
	return what && *what
		? carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				    "out of memory %s", what)
		: carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				    "out of memory");
}

void carnet_error__clear(carnet_error *err)
{
	if (err) {
		err->code = CARNET_OK;
		err->origin = CARNET_ORIGIN_CARNET;
		err->sys_code = 0;
		err->message[0] = '\0';
	}
}
