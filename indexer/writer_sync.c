/* SPDX-License-Identifier: GPL-2.0-or-later */
/* writer_sync.c - what a sync no longer sees: the paths kept whatever
 * happens (carnet_writer_keep), the sources gone from a folder, listing
 * their documents and removing them. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"
#include "walk.h"
#include "writer.h"

/* Paths of the sources that disappeared. */
typedef struct path_list {
	char **paths;
	size_t count, cap;
} path_list;

static int collect_path(const char *path, void *payload)
{
	path_list *l = payload;
	if (CARNET_GROW(l->paths, l->cap, l->count + 1) != 0)
		return CARNET_E_NOMEM;
	size_t n = strlen(path) + 1;
	if (!(l->paths[l->count] = malloc(n)))
		return CARNET_E_NOMEM;
	memcpy(l->paths[l->count++], path, n);
	return 0;
}

static void free_paths(path_list *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->paths[i]);
	free(l->paths);
}

/* Is path at or under one of the paths given to carnet_writer_keep? */
static int kept(const carnet_writer *w, const char *path)
{
	return carnet_walk__under(w->keep, w->nkeep, path);
}

int carnet_writer_keep(carnet_writer *w, const char *path, carnet_error *err)
{
	char canon[PATH_MAX];
	const char *p = realpath(path, canon) ? canon : path;
	if (CARNET_GROW(w->keep, w->keep_cap, w->nkeep + 1) != 0 ||
	    !(w->keep[w->nkeep] = strdup(p)))
		return carnet_error__nomem(err, "keeping a path");
	w->nkeep++;
	return CARNET_OK;
}

/* The sources under dir that this writer was not given, that are not
 * kept and that are gone from the disk, in path order. */
static int gone_sources(carnet_writer *w, const char *dir, path_list *gone,
			carnet_error *err)
{
	char canon[PATH_MAX], prefix[PATH_MAX + 2];
	if (!realpath(dir, canon)) {
		int e = errno;
		return carnet_error__os(err, carnet_error__from_errno(e), e,
					"%s: cannot resolve", dir);
	}
	snprintf(prefix, sizeof prefix, "%s%s", canon,
		 strcmp(canon, "/") == 0 ? "" : "/");
	path_list unseen = { NULL, 0, 0 };
	int rc = carnet_registry__unseen_sources(w->reg, prefix, collect_path, &unseen, err);
	if (rc == CARNET_E_NOMEM)
		carnet_error__nomem(err, "listing the sources");
	for (size_t i = 0; rc == CARNET_OK && i < unseen.count; i++) {
		struct stat st;
		if (kept(w, unseen.paths[i]))
			continue;
		/* present, or gone: not given means no longer an input; a file
		 * that cannot be checked (EACCES, EIO) is kept */
		if (lstat(unseen.paths[i], &st) != 0 && errno != ENOENT && errno != ENOTDIR)
			continue;
		if (collect_path(unseen.paths[i], gone) != 0)
			rc = carnet_error__nomem(err, "listing the sources");
	}
	free_paths(&unseen);
	return rc;
}

typedef struct unseen_docs {
	carnet_unseen_cb cb;
	void *payload;
	const char *path;
	uint64_t count;
	int stopped;
} unseen_docs;

static int report_unseen(const char *id, const char *set_id, int version,
			 const char *date, void *payload)
{
	(void)set_id;
	(void)version;
	(void)date;
	unseen_docs *u = payload;
	u->count++;
	int rc = u->cb ? u->cb(u->path, id, u->payload) : 0;
	if (rc)
		u->stopped = 1;
	return rc;
}

int carnet_writer_unseen(carnet_writer *w, const char *dir, carnet_unseen_cb cb,
			 void *payload, uint64_t *removable_out, uint64_t *total_out,
			 carnet_error *err)
{
	if (removable_out)
		*removable_out = 0;
	if (total_out)
		*total_out = 0;
	path_list gone = { NULL, 0, 0 };
	int rc = gone_sources(w, dir, &gone, err);
	unseen_docs u = { cb, payload, NULL, 0, 0 };
	for (size_t i = 0; rc == CARNET_OK && i < gone.count; i++) {
		u.path = gone.paths[i];
		uint64_t before = u.count;
		rc = carnet_registry__docs_of_source(w->reg, gone.paths[i], report_unseen,
						     &u, err);
		if (rc == CARNET_OK && u.count == before && cb)
			rc = cb(gone.paths[i], NULL, payload); /* a reject, forgotten */
		else if (rc && !u.stopped)
			break;
	}
	free_paths(&gone);
	if (rc == CARNET_OK && total_out)
		rc = carnet_registry__count(w->reg, CARNET_COUNT_DOCUMENTS, total_out, err);
	if (rc == CARNET_OK && removable_out)
		*removable_out = u.count;
	return rc;
}

int carnet_writer_remove_unseen(carnet_writer *w, const char *dir,
				uint64_t *removed_out, carnet_error *err)
{
	if (removed_out)
		*removed_out = 0;
	path_list gone = { NULL, 0, 0 };
	int rc = gone_sources(w, dir, &gone, err);
	if (rc == CARNET_OK)
		rc = carnet_registry__begin(w->reg, err);
	for (size_t i = 0; rc == CARNET_OK && i < gone.count; i++) {
		/* a source that yields nothing: all its documents go */
		carnet_prior_docs before = { NULL, 0, 0 };
		rc = carnet_registry__docs_of_source(w->reg, gone.paths[i],
						     carnet_writer__collect_prior, &before, err);
		if (rc == CARNET_OK && removed_out)
			*removed_out += before.count;
		free(before.ids);
		if (rc == CARNET_OK)
			rc = carnet_writer__drop_stale(w, gone.paths[i], NULL, 0, err);
		if (rc == CARNET_OK)
			rc = carnet_registry__source_delete(w->reg, gone.paths[i], err);
	}
	free_paths(&gone);
	return rc;
}

