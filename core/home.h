/* home.h - the layout of an index home directory:
 *   CURRENT          names the live generation ("gen-1"), replaced atomically
 *   gen-N/xapian     that generation's Xapian database
 *   gen-N/registry.sqlite  and its registry
 *   LOCK             held by the one writer (an OFD lock; never waited for)
 *   access.sqlite    the access log, shared by all generations
 *   authorisations.tsv, ranking.conf, affinity.tsv, synonyms.tsv
 *                    the deployer's own rules, if any */
#ifndef CARNET_CORE_HOME_H
#define CARNET_CORE_HOME_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

#define CARNET_PATH_MAX 4096

/* The home to use: home if not NULL, else $CARNET_INDEX, else ./carnet.idx. */
const char *carnet_home__resolve(const char *home);

/* out = dir/name. Returns CARNET_OK or CARNET_E_INVALID (too long). */
int carnet_home__path(char *out, size_t size, const char *dir,
		      const char *name, carnet_error *err);

/* The live generation's directory (home/gen-N), from CURRENT. NOTFOUND
 * when home has no CURRENT; CORRUPT when CURRENT names no generation. */
int carnet_home__current(char *gen_dir, size_t size, const char *home,
			 carnet_error *err);

/* A cheap fingerprint of CURRENT (inode and change time): when it differs
 * from the last one seen, a new generation went live. 0 if unreadable. */
unsigned long long carnet_home__stamp(const char *home);

/* Create home (mode 0700) and its first generation if missing. */
int carnet_home__create(const char *home, carnet_error *err);

/* Take the writer lock of home without waiting: LOCKED if another writer
 * (in this process or another) holds it. *fd_out is released with
 * carnet_home__unlock. */
int carnet_home__lock(int *fd_out, const char *home, carnet_error *err);
void carnet_home__unlock(int fd);

/* Make a new, empty generation directory (the next gen-N) and give its
 * path and name (name_size >= 32). */
int carnet_home__new_generation(char *dir, size_t size, char *name,
				size_t name_size, const char *home,
				carnet_error *err);

/* Make generation `name` the live one, atomically and durably. */
int carnet_home__publish(const char *home, const char *name, carnet_error *err);

/* Remove every generation directory but the live one and `keep` (may be
 * NULL); with newer_only, only those numbered above the live one (left by a
 * rebuild that did not finish). */
int carnet_home__prune(const char *home, const char *keep, int newer_only,
		       carnet_error *err);

/* Read the file name in directory dir into out (appended, NUL-terminated),
 * refusing files over max_bytes. *missing_out is set to 1 (and CARNET_OK
 * returned) when the file does not exist. Returns CARNET_OK,
 * CARNET_E_INVALID (too large), CARNET_E_IO or CARNET_E_NOMEM. */
int carnet_home__read(carnet_buf *out, int *missing_out, const char *dir,
		      const char *name, size_t max_bytes, carnet_error *err);

#endif
