/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_walk.c - libFuzzer harness for the directory walk (walk.h): the
 * bytes describe a small tree (files, directories, FIFOs, sockets, links
 * to ".", "..", each other, the tree's root and places outside it), built
 * in a temporary directory, then walked. Aborts if the walk returns a path
 * outside the tree, anything but a regular file, or a file twice; a walk
 * that does not end is libFuzzer's timeout. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rmtree.h"
#include "walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/carnet-fuzz-walk-XXXXXX";
static char tree[PATH_MAX], outside[PATH_MAX];

static void teardown(void)
{
	fuzz_rmtree(dir);
}

/* Once per process: dir/outside/secret.txt, a file the walk must never
 * return, and the name of the tree built for each input. */
static void setup(void)
{
	if (!mkdtemp(dir))
		abort();
	atexit(teardown);
	snprintf(outside, sizeof outside, "%s/outside", dir);
	snprintf(tree, sizeof tree, "%s/tree", dir);
	char secret[PATH_MAX + 16];
	snprintf(secret, sizeof secret, "%s/secret.txt", outside);
	FILE *f;
	if (mkdir(outside, 0700) != 0 || !(f = fopen(secret, "w")))
		abort();
	fputs("not in the tree\n", f);
	fclose(f);
}

static const char *const names[] = { "a", "b", "c.txt", "d.pdf", ".hidden",
				     "e.txt.meta.json", "f", "g" };
#define NNAMES (sizeof names / sizeof names[0])

/* Build the tree the bytes describe; returns how many regular files it
 * holds at most. Each op is two bytes: what, and which name. */
static size_t build(const uint8_t *data, size_t size)
{
	char cwd[PATH_MAX];
	snprintf(cwd, sizeof cwd, "%s", tree);
	int depth = 0;
	size_t files = 0;
	for (size_t i = 0; i + 1 < size && i < 512; i += 2) {
		uint8_t arg = data[i + 1];
		char path[PATH_MAX + 64];
		snprintf(path, sizeof path, "%s/%s", cwd, names[arg % NNAMES]);
		switch (data[i] % 10) {
		case 0: { /* a regular file */
			int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
			if (fd >= 0) {
				files++;
				if (write(fd, "x\n", 2) != 2)
					abort();
				close(fd);
			}
			break;
		}
		case 1: { /* a directory, entered */
			struct stat st;
			mkdir(path, 0700);
			if (depth < 8 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
			    strlen(path) < sizeof cwd) {
				memcpy(cwd, path, strlen(path) + 1);
				depth++;
			}
			break;
		}
		case 2: /* back up */
			if (depth > 0) {
				*strrchr(cwd, '/') = '\0';
				depth--;
			}
			break;
		case 3:
			symlink(arg & 0x80 ? "." : "./", path);
			break;
		case 4:
			symlink(arg & 0x80 ? ".." : "../..", path);
			break;
		case 5: { /* out of the tree */
			static const char *const out[] = { "/etc", "/", "/dev/zero", NULL };
			const char *target = out[(arg >> 3) % 4];
			symlink(target ? target : outside, path);
			break;
		}
		case 6:
			mkfifo(path, 0600);
			break;
		case 7: /* to a sibling: maybe missing, maybe a loop */
			symlink(names[(arg >> 3) % NNAMES], path);
			break;
		case 8: /* to the tree's root, by its absolute path */
			symlink(tree, path);
			break;
		case 9: { /* a socket */
			struct sockaddr_un sa;
			memset(&sa, 0, sizeof sa);
			sa.sun_family = AF_UNIX;
			if (strlen(path) < sizeof sa.sun_path) {
				memcpy(sa.sun_path, path, strlen(path));
				int s = socket(AF_UNIX, SOCK_STREAM, 0);
				if (s >= 0) {
					bind(s, (struct sockaddr *)&sa, sizeof sa);
					close(s);
				}
			}
			break;
		}
		}
	}
	return files;
}

static int by_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void on_skip(const char *path, carnet_walk_skip what, const char *reason,
		    void *payload)
{
	(void)what;
	(void)payload;
	if (strncmp(reason, path, strlen(path)) != 0)
		abort(); /* a reason names its path */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready++)
		setup();
	if (mkdir(tree, 0700) != 0)
		abort();
	size_t files = build(data, size);
	carnet_walk w = CARNET_WALK_INIT;
	carnet_error err;
	if (carnet_walk__run(&w, tree, on_skip, NULL, &err) != CARNET_OK)
		abort();
	char canon[PATH_MAX];
	if (!realpath(tree, canon))
		abort();
	size_t n = strlen(canon);
	if (w.count > files)
		abort(); /* a file returned more than once, or one not made */
	for (size_t i = 0; i < w.count; i++) {
		const char *p = w.paths[i];
		char real[PATH_MAX];
		struct stat st;
		if (strncmp(p, canon, n) != 0 || p[n] != '/' || !realpath(p, real) ||
		    strcmp(real, p) != 0 || lstat(p, &st) != 0 || !S_ISREG(st.st_mode))
			abort(); /* outside the tree, not canonical or not a file */
	}
	if (w.count > 1)
		qsort(w.paths, w.count, sizeof *w.paths, by_str);
	for (size_t i = 1; i < w.count; i++)
		if (strcmp(w.paths[i - 1], w.paths[i]) == 0)
			abort();
	carnet_walk__free(&w);
	fuzz_rmtree(tree);
	return 0;
}
