/* home.h - the layout of an index home directory: which Xapian generation
 * is live (the CURRENT file) and where the registry is. */
#ifndef CARNET_CORE_HOME_H
#define CARNET_CORE_HOME_H

#include <stddef.h>

#include "error.h"

#define CARNET_PATH_MAX 4096

/* The home to use: home if not NULL, else $CARNET_INDEX, else ./carnet.idx. */
const char *carnet_home__resolve(const char *home);

/* out = home/name. Returns CARNET_OK or CARNET_E_INVALID (too long). */
int carnet_home__path(char *out, size_t size, const char *home,
		      const char *name, carnet_error *err);

/* Path of the live Xapian database of home, from its CURRENT file.
 * NOTFOUND if home has no CURRENT file. */
int carnet_home__current_db(char *out, size_t size, const char *home,
			    carnet_error *err);

/* Create home (mode 0700) if missing, and its CURRENT file naming the first
 * generation if missing; the file is written atomically. */
int carnet_home__create(const char *home, carnet_error *err);

#endif
