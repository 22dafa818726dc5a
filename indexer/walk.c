/* SPDX-License-Identifier: GPL-2.0-or-later */
/* walk.c - the inputs under a source (see walk.h). Directories are opened
 * with O_NONBLOCK and O_NOFOLLOW and checked on the opened descriptor;
 * regular files are only listed here, never opened (the readers open them
 * with O_NONBLOCK and check the descriptor again). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "util.h"
#include "walk.h"

#define WALK_MAX_DEPTH 64

struct carnet_walk_seen {
	dev_t dev;
	ino_t ino;
	int used;
};

typedef struct walk_ctx {
	carnet_walk *w;
	char tree[PATH_MAX];  /* canonical root directory: links must stay in it */
	size_t tree_len;
	carnet_walk_cb cb;
	void *payload;
	int nomem;
	/* the directories being listed, from the root down: a directory that
	 * is its own ancestor (a bind mount) is not listed again */
	struct { dev_t dev; ino_t ino; } chain[WALK_MAX_DEPTH + 2];
} walk_ctx;

const char *carnet_walk__type_name(mode_t mode)
{
	static const struct { mode_t type; const char *name; } types[] = {
		{ S_IFIFO, "FIFO" },
		{ S_IFSOCK, "socket" },
		{ S_IFCHR, "character device" },
		{ S_IFBLK, "block device" },
		{ S_IFDIR, "directory" },
		{ S_IFLNK, "symbolic link" },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if ((mode & S_IFMT) == types[i].type)
			return types[i].name;
	return "unknown file type";
}

static size_t seen_slot(const carnet_walk *w, dev_t dev, ino_t ino)
{
	uint64_t h = ((uint64_t)dev * 0x9E3779B97F4A7C15ull) ^ (uint64_t)ino;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	size_t i = (size_t)h & (w->seen_cap - 1);
	while (w->seen[i].used && (w->seen[i].dev != dev || w->seen[i].ino != ino))
		i = (i + 1) & (w->seen_cap - 1);
	return i;
}

/* Was (dev, ino) noted by mark_seen? */
static int was_seen(const carnet_walk *w, dev_t dev, ino_t ino)
{
	return w->nseen && w->seen[seen_slot(w, dev, ino)].used;
}

/* Note (dev, ino) as visited: 1 if it was new, 0 if seen before, -1 on
 * lack of memory. Only what is reached through a link, or has several
 * hard links, is noted (see walk.h). */
static int mark_seen(walk_ctx *c, dev_t dev, ino_t ino)
{
	carnet_walk *w = c->w;
	if (2 * (w->nseen + 1) > w->seen_cap) {
		size_t cap = w->seen_cap ? w->seen_cap * 2 : 256;
		struct carnet_walk_seen *old = w->seen;
		size_t old_cap = w->seen_cap;
		w->seen = calloc(cap, sizeof *w->seen);
		if (!w->seen) {
			w->seen = old;
			c->nomem = 1;
			return -1;
		}
		w->seen_cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].used)
				w->seen[seen_slot(w, old[i].dev, old[i].ino)] = old[i];
		free(old);
	}
	size_t i = seen_slot(w, dev, ino);
	if (w->seen[i].used)
		return 0;
	w->seen[i].dev = dev;
	w->seen[i].ino = ino;
	w->seen[i].used = 1;
	w->nseen++;
	return 1;
}

static int push(walk_ctx *c, char ***list, size_t *count, size_t *cap,
		const char *path)
{
	if (CARNET_GROW(*list, *cap, *count + 1) != 0 ||
	    !((*list)[*count] = strdup(path))) {
		c->nomem = 1;
		return -1;
	}
	(*count)++;
	return 0;
}

static void report(walk_ctx *c, const char *path, carnet_walk_skip what,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(walk_ctx *c, const char *path, carnet_walk_skip what,
		   const char *fmt, ...)
{
	char reason[PATH_MAX + 512];
	int n = snprintf(reason, sizeof reason, "%s: ", path);
	va_list ap;
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof reason)
		vsnprintf(reason + n, sizeof reason - (size_t)n, fmt, ap);
	va_end(ap);
	if (what == CARNET_WALK_UNREADABLE)
		push(c, &c->w->unreadable, &c->w->nunreadable, &c->w->unreadable_cap, path);
	if (c->cb)
		c->cb(path, what, reason, c->payload);
}

static int inside(const walk_ctx *c, const char *canon)
{
	if (strcmp(c->tree, "/") == 0)
		return 1;
	return strncmp(canon, c->tree, c->tree_len) == 0 &&
	       (canon[c->tree_len] == '\0' || canon[c->tree_len] == '/');
}

/* Does walk_dir list the entry named name (len bytes): not hidden, not
 * a sidecar (read with its file)? */
static int listed(const char *name, size_t len)
{
	static const char sidecar[] = ".meta.json";
	size_t sl = sizeof sidecar - 1;
	return name[0] != '.' && !(len >= sl && memcmp(name + len - sl, sidecar, sl) == 0);
}

/* Is canonical path p one of the directories given as roots before the
 * one being walked (the last)? */
static int earlier_root(const walk_ctx *c, const char *p)
{
	for (size_t i = 0; i + 1 < c->w->nroots; i++)
		if (strcmp(c->w->roots[i], p) == 0)
			return 1;
	return 0;
}

/* Does the plain walk of the directories given as roots, which follows
 * no link, reach canonical path p by itself: p is such a root, or lies
 * under one by names the walk lists (none hidden, not a sidecar), not too
 * deep? Then a link to p need not be followed. */
static int reached_plainly(const carnet_walk *w, const char *p, int dir)
{
	for (size_t i = 0; i < w->nroots; i++) {
		const char *r = w->roots[i];
		size_t n = strlen(r);
		if (strcmp(p, r) == 0)
			return 1;
		if (strncmp(p, r, n) != 0)
			continue;
		const char *rel = p + n;
		if (n > 1) {
			if (*rel != '/')
				continue;
			rel++;
		}
		/* each name one walk_dir lists */
		int depth = 0, plain = 1;
		for (const char *part = rel; *part && plain; depth++) {
			const char *slash = strchr(part, '/');
			size_t len = slash ? (size_t)(slash - part) : strlen(part);
			plain = listed(part, len);
			part += len + (slash ? 1 : 0);
		}
		/* a directory at depth d is listed if d <= WALK_MAX_DEPTH; a
		 * file is returned if its directory is */
		if (plain && depth - (dir ? 0 : 1) <= WALK_MAX_DEPTH)
			return 1;
	}
	return 0;
}

/* A regular file: returned once. Reached through a link or named as a
 * root (linked), or with several hard links, it is noted; otherwise only
 * looked for, in case an earlier root named it or led to it. */
static void add_file(walk_ctx *c, const char *path, const struct stat *st, int linked)
{
	if (linked || st->st_nlink > 1) {
		if (mark_seen(c, st->st_dev, st->st_ino) != 1)
			return;
	} else if (was_seen(c->w, st->st_dev, st->st_ino)) {
		return;
	}
	if (push(c, &c->w->paths, &c->w->count, &c->w->cap, path) != 0)
		return;
	c->w->total++;
	if (c->w->on_batch && c->w->count >= c->w->batch)
		carnet_walk__flush(c->w);
}

int carnet_walk__flush(carnet_walk *w)
{
	if (!w->on_batch || w->stopped || !w->count)
		return w->stopped;
	if (w->on_batch(w->paths, w->count, w->batch_payload) != 0)
		w->stopped = 1;
	for (size_t i = 0; i < w->count; i++)
		free(w->paths[i]);
	w->count = 0;
	return w->stopped;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void visit(walk_ctx *c, const char *path, int depth, int linked);

/* List directory path (canonical) and visit its entries in name order,
 * unless it was visited before: through a link (linked) it is noted; in
 * the plain walk it is looked for (a link from an earlier root), and is
 * not listed if it is its own ancestor or an earlier root. */
static void walk_dir(walk_ctx *c, const char *path, int depth, int linked)
{
	if (depth > WALK_MAX_DEPTH) {
		report(c, path, CARNET_WALK_UNREADABLE,
		       "directories nested too deep (more than %d), skipped", WALK_MAX_DEPTH);
		return;
	}
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK |
				    O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		report(c, path, CARNET_WALK_UNREADABLE, "cannot list directory: %s",
		       e == ELOOP ? "replaced by a symbolic link while walked" : strerror(e));
		return;
	}
	int fresh = 1;
	for (int k = 0; k < depth && fresh; k++)
		if (c->chain[k].dev == st.st_dev && c->chain[k].ino == st.st_ino)
			fresh = 0;
	if (fresh && depth > 0 && earlier_root(c, path))
		fresh = 0; /* an earlier root, walked already */
	else if (fresh && linked)
		fresh = mark_seen(c, st.st_dev, st.st_ino);
	else if (fresh && was_seen(c->w, st.st_dev, st.st_ino))
		fresh = 0;
	c->chain[depth].dev = st.st_dev;
	c->chain[depth].ino = st.st_ino;
	DIR *d = fresh == 1 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		close(fd);
		if (fresh == 1)
			report(c, path, CARNET_WALK_UNREADABLE, "cannot list directory: %s",
			       strerror(e));
		return; /* visited before: a link back into the tree */
	}
	char **names = NULL;
	size_t count = 0, cap = 0;
	struct dirent *de;
	int e;
	for (;;) {
		errno = 0;
		if (!(de = readdir(d))) {
			e = errno;
			break;
		}
		const char *name = de->d_name;
		if (!listed(name, strlen(name)))
			continue; /* hidden entries; sidecars are read with their file */
		if (push(c, &names, &count, &cap, name) != 0) {
			e = 0;
			break;
		}
	}
	closedir(d);
	if (e != 0)
		report(c, path, CARNET_WALK_UNREADABLE, "cannot list directory: %s",
		       strerror(e));
	if (count > 1)
		qsort(names, count, sizeof *names, by_name);
	size_t plen = strlen(path);
	for (size_t i = 0; i < count; i++) {
		if (!c->nomem && !c->w->stopped) {
			size_t len = plen + strlen(names[i]) + 2;
			char *child = malloc(len);
			if (child) {
				snprintf(child, len, "%s%s%s", path,
					 path[plen - 1] == '/' ? "" : "/", names[i]);
				visit(c, child, depth + 1, linked);
				free(child);
			} else {
				c->nomem = 1;
			}
		}
		free(names[i]);
	}
	free(names);
}

/* Visit path (canonical: no symbolic link in it but maybe its last part;
 * linked: reached through a link). */
static void visit(walk_ctx *c, const char *path, int depth, int linked)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		int e = errno;
		report(c, path, CARNET_WALK_UNREADABLE, "%s",
		       e == ENOENT ? "vanished while the source was walked" : strerror(e));
		return;
	}
	const char *real = path;
	char target[PATH_MAX];
	if (S_ISLNK(st.st_mode)) {
		if (!realpath(path, target)) {
			int e = errno;
			if (e == ENOENT || e == ELOOP || e == ENOTDIR)
				report(c, path, CARNET_WALK_SKIPPED,
				       "symbolic link to a missing target, skipped");
			else
				report(c, path, CARNET_WALK_UNREADABLE,
				       "cannot follow symbolic link: %s", strerror(e));
			return;
		}
		if (!inside(c, target)) {
			report(c, path, CARNET_WALK_SKIPPED,
			       "symbolic link leading outside %s (to %s), skipped",
			       c->tree, target);
			return;
		}
		if (stat(target, &st) != 0) {
			int e = errno;
			report(c, path, CARNET_WALK_UNREADABLE, "%s", strerror(e));
			return;
		}
		/* the link's target, inside the tree: the plain walk reaches it
		 * (or has) under its own name, unless it is hidden or deep */
		if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
		    reached_plainly(c->w, target, S_ISDIR(st.st_mode)))
			return;
		real = target;
		linked = 1;
	}
	if (S_ISDIR(st.st_mode))
		walk_dir(c, real, depth, linked);
	else if (S_ISREG(st.st_mode))
		add_file(c, real, &st, linked);
	else
		report(c, path, CARNET_WALK_SKIPPED, "not a regular file (%s)",
		       carnet_walk__type_name(st.st_mode));
}

/* Note c->tree as a directory given as a root. 0, or -1 on lack of
 * memory. */
static int add_root(walk_ctx *c)
{
	carnet_walk *w = c->w;
	char *copy = strdup(c->tree);
	if (!copy || CARNET_GROW(w->roots, w->roots_cap, w->nroots + 1) != 0) {
		free(copy);
		c->nomem = 1;
		return -1;
	}
	w->roots[w->nroots++] = copy;
	return 0;
}

int carnet_walk__run(carnet_walk *w, const char *root, carnet_walk_cb cb,
		     void *payload, carnet_error *err)
{
	walk_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return carnet_error__nomem(err, "walking a directory");
	c->w = w;
	c->cb = cb;
	c->payload = payload;
	struct stat st;
	if (stat(root, &st) != 0 || !realpath(root, c->tree)) {
		int e = errno;
		report(c, root, CARNET_WALK_UNREADABLE, "cannot read: %s", strerror(e));
	} else if ((S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) &&
		   (reached_plainly(w, c->tree, S_ISDIR(st.st_mode)) ||
		    was_seen(w, st.st_dev, st.st_ino))) {
		/* walked already, under an earlier root */
	} else if (S_ISDIR(st.st_mode)) {
		c->tree_len = strlen(c->tree);
		if (add_root(c) == 0)
			walk_dir(c, c->tree, 0, 0);
	} else if (S_ISREG(st.st_mode)) {
		add_file(c, c->tree, &st, 1); /* a file named by the user */
	} else {
		report(c, root, CARNET_WALK_SKIPPED, "not a regular file (%s)",
		       carnet_walk__type_name(st.st_mode));
	}
	int nomem = c->nomem;
	free(c);
	if (nomem)
		return carnet_error__nomem(err, "walking a directory");
	return CARNET_OK;
}

int carnet_walk__under(char *const *dirs, size_t count, const char *path)
{
	for (size_t i = 0; i < count; i++) {
		const char *u = dirs[i];
		size_t n = strlen(u);
		if (strncmp(path, u, n) == 0 &&
		    (path[n] == '\0' || path[n] == '/' || (n > 0 && u[n - 1] == '/')))
			return 1;
	}
	return 0;
}

void carnet_walk__free(carnet_walk *w)
{
	for (size_t i = 0; i < w->count; i++)
		free(w->paths[i]);
	for (size_t i = 0; i < w->nunreadable; i++)
		free(w->unreadable[i]);
	free(w->paths);
	free(w->unreadable);
	free(w->seen);
	for (size_t i = 0; i < w->nroots; i++)
		free(w->roots[i]);
	free(w->roots);
	memset(w, 0, sizeof *w);
}
