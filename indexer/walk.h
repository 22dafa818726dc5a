/* SPDX-License-Identifier: GPL-2.0-or-later */
/* walk.h - finding the inputs under a source: the files of a directory
 * tree, in name order, read safely whatever the tree holds. Only regular
 * files are returned; FIFOs, devices and sockets are skipped with a
 * reason; a symbolic link is followed only when its target is inside the
 * tree, and only when the plain walk (no link followed) does not reach
 * that target by itself; so links to "." or ".." can neither loop nor
 * multiply the walk, and a file reached by two paths is returned once.
 * Nothing is opened in a way that can block.
 *
 * Memory does not grow with the tree: only what is reached through a
 * link, or has several hard links, is remembered (by device and inode);
 * the plain walk needs no memory of its own to visit a file once. The one
 * case left: a directory mounted twice side by side (not as its own
 * ancestor) is walked twice. */
#ifndef CARNET_INDEXER_WALK_H
#define CARNET_INDEXER_WALK_H

#include <stddef.h>
#include <sys/types.h>

#include "carnet.h"

/* Why an entry was not returned. */
typedef enum carnet_walk_skip {
	CARNET_WALK_SKIPPED,   /* not an input (FIFO, device, link leaving the tree...) */
	CARNET_WALK_UNREADABLE /* could not be read (EIO, EACCES, vanished, too deep):
				  what it held before must be kept */
} carnet_walk_skip;

/* Called for each entry not returned: path as walked, what happened, and
 * a reason naming it ("PATH: not a regular file (FIFO)"). */
typedef void (*carnet_walk_cb)(const char *path, carnet_walk_skip what,
			       const char *reason, void *payload);

typedef struct carnet_walk {
	char **paths;        /* regular files, in walk order (sorted by name) */
	size_t count, cap;
	char **unreadable;   /* canonical paths of what could not be read */
	size_t nunreadable, unreadable_cap;
	/* internal: (device, inode) of what was reached through a link or has
	 * several hard links; and the canonical roots walked so far */
	struct carnet_walk_seen *seen;
	size_t nseen, seen_cap;
	char **roots;        /* the directories given as roots, canonical */
	size_t nroots, roots_cap;
	/* Optional, set before walking: whenever paths holds batch files,
	 * on_batch is given them (in walk order), and they are forgotten, so
	 * that a large source is not held in memory; a non-zero return stops
	 * the walk (stopped). carnet_walk__flush hands over the rest. */
	int (*on_batch)(char *const *paths, size_t count, void *payload);
	void *batch_payload;
	size_t batch;
	size_t total;        /* regular files found, handed over or not */
	int stopped;
} carnet_walk;

#define CARNET_WALK_INIT { .paths = NULL }

/* Walk root (a file or a directory; a symbolic link given as root is
 * followed) and append its inputs to w. Several roots may be walked into
 * the same w (a file met twice is returned once). Skipped and unreadable
 * entries are reported to cb (may be NULL). Returns CARNET_OK, or
 * CARNET_E_NOMEM; a root that cannot be read is reported as unreadable,
 * not returned as an error. */
int carnet_walk__run(carnet_walk *w, const char *root, carnet_walk_cb cb,
		     void *payload, carnet_error *err);

/* Hand the paths w holds to its on_batch (if any) and forget them.
 * Returns w->stopped: non-zero once on_batch has asked to stop. */
int carnet_walk__flush(carnet_walk *w);

/* Is path at or under one of the count paths dirs (one that ends in '/'
 * holds every path it begins)? */
int carnet_walk__under(char *const *dirs, size_t count, const char *path);

void carnet_walk__free(carnet_walk *w);

/* "FIFO", "socket", "character device", ... for a st_mode. */
const char *carnet_walk__type_name(mode_t mode);

#endif
