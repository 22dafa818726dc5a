/* SPDX-License-Identifier: GPL-2.0-or-later */
/* home.c - index home layout: generations, the CURRENT switch, the writer lock. */
#define _GNU_SOURCE /* F_OFD_SETLK: a lock per open file, not per process */
#include "home.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.h"

#define LOCK_FILE "LOCK"
#define ACCESS_LOG_PREFIX "access.sqlite" /* and its -wal, -shm, -journal */
#define WALK_DEPTH_MAX 8 /* home/gen-N/xapian.K/file is 3 deep */

const char *carnet_home__resolve(const char *home)
{
	if (home && *home)
		return home;
	const char *env = getenv("CARNET_INDEX");
	return env && *env ? env : "carnet.idx";
}

int carnet_home__path(char *out, size_t size, const char *dir,
		      const char *name, carnet_error *err)
{
	int n = snprintf(out, size, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= size)
		return carnet_error__set(err, CARNET_E_INVALID,
					 CARNET_ORIGIN_CARNET, 0,
					 "index path too long: %s", dir);
	return CARNET_OK;
}

/* The number of a generation name "gen-N", or 0 if it is not one. */
static unsigned long generation_number(const char *name)
{
	if (strncmp(name, "gen-", 4) != 0 || !name[4])
		return 0;
	char *end;
	unsigned long n = strtoul(name + 4, &end, 10);
	return *end || name[4] == '0' ? 0 : n;
}

/* Read CURRENT into name (size >= 32). */
static int read_current(char *name, size_t size, const char *home,
			carnet_error *err)
{
	char cur[CARNET_PATH_MAX];
	int rc = carnet_home__path(cur, sizeof cur, home, CARNET_CURRENT_FILE, err);
	if (rc)
		return rc;
	FILE *f = fopen(cur, "r");
	if (!f) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return carnet_error__set(err, CARNET_E_NOTFOUND,
						 CARNET_ORIGIN_CARNET, e,
						 "no carnet index at %s", home);
		return carnet_error__os(err, CARNET_E_IO, e, "cannot read %s", cur);
	}
	if (!fgets(name, (int)size, f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\r\n")] = '\0';
	if (!generation_number(name))
		return carnet_error__set(err, CARNET_E_CORRUPT,
					 CARNET_ORIGIN_CARNET, 0,
					 "%s does not name a valid generation", cur);
	return CARNET_OK;
}

int carnet_home__current(char *gen_dir, size_t size, const char *home,
			 carnet_error *err)
{
	char name[64];
	int rc = read_current(name, sizeof name, home, err);
	return rc ? rc : carnet_home__path(gen_dir, size, home, name, err);
}

unsigned long long carnet_home__stamp(const char *home)
{
	char cur[CARNET_PATH_MAX];
	struct stat st;
	if (carnet_home__path(cur, sizeof cur, home, CARNET_CURRENT_FILE, NULL) ||
	    stat(cur, &st) != 0)
		return 0;
	return ((unsigned long long)st.st_ino << 20) ^
	       (unsigned long long)st.st_ctim.tv_sec * 1000003ull ^
	       (unsigned long long)st.st_ctim.tv_nsec;
}

int carnet_home__dir_of(char *dir, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *from = slash ? path : ".";
	size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
	if (n >= size)
		return -1;
	memcpy(dir, from, n);
	dir[n] = '\0';
	return 0;
}

void carnet_home__sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int carnet_home__shared(const char *dir)
{
	struct stat st;
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
	       (st.st_mode & (S_ISGID | S_IRGRP)) == (S_ISGID | S_IRGRP);
}

unsigned carnet_home__file_mode(const char *dir, int viewers_write)
{
	if (!carnet_home__shared(dir))
		return 0600;
	return viewers_write ? CARNET_MODE_SHARED_LOG : CARNET_MODE_SHARED_FILE;
}

int carnet_home__share_file(const char *dir, const char *path, int viewers_write)
{
	if (!carnet_home__shared(dir))
		return 0;
	return chmod(path, (mode_t)carnet_home__file_mode(dir, viewers_write));
}

/* The mode a shared home gives the entry `name` of type st. */
static mode_t shared_mode(const char *name, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return CARNET_MODE_SHARED_DIR;
	if (strcmp(name, LOCK_FILE) == 0)
		return CARNET_MODE_LOCK;
	if (strncmp(name, ACCESS_LOG_PREFIX, strlen(ACCESS_LOG_PREFIX)) == 0)
		return CARNET_MODE_SHARED_LOG;
	return CARNET_MODE_SHARED_FILE;
}

/* Give path (named name) and, for a directory, its entries, group gid and
 * their shared modes. Entries that vanish meanwhile (a WAL file) are fine. */
static int apply_modes(const char *path, const char *name, gid_t gid, int depth,
		       carnet_error *err)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? CARNET_OK
				       : carnet_error__os(err, CARNET_E_IO, errno, "cannot stat %s", path);
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return CARNET_OK; /* no symbolic link is followed */
	if (st.st_uid == geteuid() || geteuid() == 0) {
		/* the group first: chown may clear the setgid bit */
		mode_t want = shared_mode(name, &st);
		if ((st.st_gid != gid && lchown(path, (uid_t)-1, gid) != 0 && errno != ENOENT) ||
		    (((st.st_mode & 07777) != want || st.st_gid != gid) &&
		     chmod(path, want) != 0 && errno != ENOENT))
			return carnet_error__os(err, CARNET_E_IO, errno,
						"cannot give %s the index home's group and mode", path);
	}
	if (!S_ISDIR(st.st_mode) || depth >= WALK_DEPTH_MAX)
		return CARNET_OK;
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? CARNET_OK
				       : carnet_error__os(err, CARNET_E_IO, errno, "cannot list %s", path);
	int rc = CARNET_OK;
	struct dirent *e;
	while (rc == CARNET_OK && (e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char child[CARNET_PATH_MAX];
		if ((rc = carnet_home__path(child, sizeof child, path, e->d_name, err)) == CARNET_OK)
			rc = apply_modes(child, e->d_name, gid, depth + 1, err);
	}
	closedir(d);
	return rc;
}

int carnet_home__apply_modes(const char *home, const char *path, carnet_error *err)
{
	struct stat st;
	if (!carnet_home__shared(home) || stat(home, &st) != 0)
		return CARNET_OK;
	const char *slash = strrchr(path, '/');
	return apply_modes(path, slash ? slash + 1 : path, st.st_gid, 0, err);
}

int carnet_home__publish(const char *home, const char *name, carnet_error *err)
{
	char cur[CARNET_PATH_MAX], tmp[CARNET_PATH_MAX];
	int rc;
	if ((rc = carnet_home__path(cur, sizeof cur, home, CARNET_CURRENT_FILE, err)) ||
	    (rc = carnet_home__path(tmp, sizeof tmp, home, CARNET_CURRENT_FILE ".tmp", err)))
		return rc;
	FILE *f = fopen(tmp, "w");
	if (!f)
		return carnet_error__os(err, CARNET_E_IO, errno, "cannot write %s", tmp);
	int ok = carnet_home__share_file(home, tmp, 0) == 0;
	ok = fprintf(f, "%s\n", name) > 0 && ok;
	ok = fflush(f) == 0 && ok;
	ok = fsync(fileno(f)) == 0 && ok;
	ok = fclose(f) == 0 && ok;
	if (!ok || rename(tmp, cur) != 0) {
		int e = errno;
		unlink(tmp);
		return carnet_error__os(err, CARNET_E_IO, e, "cannot write %s", cur);
	}
	carnet_home__sync_dir(home);
	return CARNET_OK;
}

int carnet_home__create(const char *home, carnet_error *err)
{
	if (mkdir(home, 0700) != 0 && errno != EEXIST) {
		int e = errno;
		return carnet_error__os(err, carnet_error__from_errno(e), e,
					"cannot create index home %s", home);
	}
	struct stat st;
	if (stat(home, &st) != 0 || !S_ISDIR(st.st_mode))
		return carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_CARNET,
					 0, "index home %s is not a directory",
					 home);
	char cur[CARNET_PATH_MAX], gen[CARNET_PATH_MAX];
	int rc = carnet_home__path(cur, sizeof cur, home, CARNET_CURRENT_FILE, err);
	if (rc)
		return rc;
	if (access(cur, F_OK) != 0) {
		if ((rc = carnet_home__path(gen, sizeof gen, home, "gen-1", err)))
			return rc;
		if (mkdir(gen, CARNET_MODE_PRIVATE_DIR) != 0 && errno != EEXIST)
			return carnet_error__os(err, CARNET_E_IO, errno, "cannot create %s", gen);
		if ((rc = carnet_home__publish(home, "gen-1", err)))
			return rc;
	}
	/* a shared home: what was made here, and what a writer with another
	 * umask (or an operator) left, gets the group's modes */
	return carnet_home__apply_modes(home, home, err);
}

int carnet_home__lock(int *fd_out, const char *home, carnet_error *err)
{
	*fd_out = -1;
	char path[CARNET_PATH_MAX];
	int rc = carnet_home__path(path, sizeof path, home, LOCK_FILE, err);
	if (rc)
		return rc;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return carnet_error__os(err, CARNET_E_IO, errno, "cannot open %s", path);
	struct flock fl;
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		int e = errno;
		close(fd);
		if (e == EAGAIN || e == EACCES)
			return carnet_error__set(err, CARNET_E_LOCKED, CARNET_ORIGIN_OS, e,
						 "index %s is locked by another writer", home);
		return carnet_error__os(err, CARNET_E_IO, e, "cannot lock %s", path);
	}
	*fd_out = fd;
	return CARNET_OK;
}

void carnet_home__unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing the description releases its OFD lock */
}

/* The highest generation number in home (0 if none). */
static unsigned long highest_generation(const char *home)
{
	unsigned long top = 0;
	DIR *d = opendir(home);
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		unsigned long n = generation_number(e->d_name);
		if (n > top)
			top = n;
	}
	closedir(d);
	return top;
}

int carnet_home__new_generation(char *dir, size_t size, char *name,
				size_t name_size, const char *home,
				carnet_error *err)
{
	snprintf(name, name_size, "gen-%lu", highest_generation(home) + 1);
	int rc = carnet_home__path(dir, size, home, name, err);
	if (rc)
		return rc;
	if (mkdir(dir, CARNET_MODE_PRIVATE_DIR) != 0)
		return carnet_error__os(err, CARNET_E_IO, errno, "cannot create %s", dir);
	return carnet_home__apply_modes(home, dir, err);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int carnet_home__prune(const char *home, const char *keep, int newer_only,
		       carnet_error *err)
{
	char live[64];
	int rc = read_current(live, sizeof live, home, err);
	if (rc)
		return rc;
	unsigned long live_n = generation_number(live);
	DIR *d = opendir(home);
	if (!d)
		return carnet_error__os(err, CARNET_E_IO, errno, "cannot list %s", home);
	struct dirent *e;
	rc = CARNET_OK;
	while ((e = readdir(d))) {
		unsigned long n = generation_number(e->d_name);
		if (!n || n == live_n || (keep && strcmp(e->d_name, keep) == 0) ||
		    (newer_only && n < live_n))
			continue;
		char p[CARNET_PATH_MAX];
		if (carnet_home__path(p, sizeof p, home, e->d_name, err) == CARNET_OK &&
		    nftw(p, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && rc == CARNET_OK)
			rc = carnet_error__os(err, CARNET_E_IO, errno, "cannot remove %s", p);
	}
	closedir(d);
	return rc;
}

int carnet_home__read(carnet_buf *out, int *missing_out, const char *dir,
		      const char *name, size_t max_bytes, carnet_error *err)
{
	char path[CARNET_PATH_MAX];
	*missing_out = 0;
	int rc = carnet_home__path(path, sizeof path, dir, name, err);
	if (rc)
		return rc;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT) {
			*missing_out = 1;
			return CARNET_OK;
		}
		return carnet_error__os(err, CARNET_E_IO, errno, "cannot read %s", path);
	}
	char chunk[4096];
	size_t n, total = 0;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		total += n;
		if (total > max_bytes) {
			fclose(f);
			return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
						 "%s: larger than %zu bytes", path, max_bytes);
		}
		if (carnet_buf__put(out, chunk, n) != 0) {
			fclose(f);
			char what[CARNET_PATH_MAX + 16];
			snprintf(what, sizeof what, "reading %s", path);
			return carnet_error__nomem(err, what);
		}
	}
	int failed = ferror(f);
	fclose(f);
	if (failed)
		return carnet_error__set(err, CARNET_E_IO, CARNET_ORIGIN_CARNET, 0,
					 "cannot read %s", path);
	return CARNET_OK;
}
