/* SPDX-License-Identifier: GPL-2.0-or-later */
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

/* The directory of the file path into dir (size bytes): "." for a bare
 * name, "/" for a file at the root. 0, or -1 when it does not fit. */
int carnet_home__dir_of(char *dir, size_t size, const char *path);

/* fsync directory dir, so that a file created or renamed in it is
 * durable (nothing is said when it cannot be opened). */
void carnet_home__sync_dir(const char *dir);

/* The live generation's directory (home/gen-N), from CURRENT. NOTFOUND
 * when home has no CURRENT; CORRUPT when CURRENT names no generation. */
int carnet_home__current(char *gen_dir, size_t size, const char *home,
			 carnet_error *err);

/* A cheap fingerprint of CURRENT (inode and change time): when it differs
 * from the last one seen, a new generation went live. 0 if unreadable. */
unsigned long long carnet_home__stamp(const char *home);

/* Who may read a home. A new home is private: 0700, only its owner (the
 * writer, and viewers running as the same user) uses it. A home shared with
 * a group (carnet-index init --group) is setgid to that group and group
 * readable: the writer owns it, viewers in the group read the index and
 * append to the access log, nobody else reads anything. In a shared home
 * the writer gives what it creates these modes itself, whatever its umask
 * (the setgid bit makes the group follow). */
#define CARNET_MODE_PRIVATE_DIR 0700
#define CARNET_MODE_SHARED_DIR 02750   /* the home, generations, Xapian dirs */
#define CARNET_MODE_SHARED_FILE 0640   /* CURRENT, index and registry files */
#define CARNET_MODE_SHARED_LOG 0660    /* the access log (and its -wal, -shm),
					  which viewers write */
#define CARNET_MODE_LOCK 0600          /* LOCK: a viewer must not hold it */

/* 1 if directory dir is shared with its group: setgid and group-readable
 * (a directory made by mkdir with a umask of 022 is group-readable, but
 * nobody shared it on purpose: it is left as it is). */
int carnet_home__shared(const char *dir);

/* The mode of a new file in directory dir: for a shared one,
 * CARNET_MODE_SHARED_LOG if viewers write it, else CARNET_MODE_SHARED_FILE;
 * 0600 in a private one. */
unsigned carnet_home__file_mode(const char *dir, int viewers_write);

/* Give a file just created in directory dir the mode above if dir is
 * shared (the umask may have removed group bits). 0 or -1 (errno set). */
int carnet_home__share_file(const char *dir, const char *path, int viewers_write);

/* In a shared home, give path and everything under it the modes and the
 * group of the home (the access log CARNET_MODE_SHARED_LOG, LOCK
 * CARNET_MODE_LOCK); nothing in a private one. Only files the caller owns
 * can change: others are left as they are. */
int carnet_home__apply_modes(const char *home, const char *path, carnet_error *err);

/* Create home (mode 0700) and its first generation if missing. In a shared
 * home, also give everything in it the modes above. */
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
