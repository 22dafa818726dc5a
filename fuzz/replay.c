/* SPDX-License-Identifier: GPL-2.0-or-later */
/* replay.c - run a fuzz harness's entry point over files, without libFuzzer:
 * make check replays the seeds and every saved crasher (corpora/fuzz/) with
 * the ordinary compiler and sanitizers, as sqlite's fuzzcheck does.
 * usage: replay_FORMAT PATH... (files, or directories walked recursively;
 * names ending in .meta.json are skipped). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned long replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open %s\n", path);
		return 1;
	}
	size_t cap = 1 << 16, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf) {
		fprintf(stderr, "replay: out of memory reading %s\n", path);
		return 1;
	}
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	replayed++;
	return 0;
}

static int replay_path(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return 0; /* a missing seed directory is not an error */
	if (!S_ISDIR(st.st_mode)) {
		size_t n = strlen(path);
		if (n > 10 && strcmp(path + n - 10, ".meta.json") == 0)
			return 0;
		return replay_file(path);
	}
	struct dirent **names;
	int count = scandir(path, &names, NULL, alphasort);
	int rc = 0;
	for (int i = 0; i < count; i++) {
		if (names[i]->d_name[0] != '.') {
			size_t len = strlen(path) + strlen(names[i]->d_name) + 2;
			char *child = malloc(len);
			if (child) {
				snprintf(child, len, "%s/%s", path, names[i]->d_name);
				rc |= replay_path(child);
				free(child);
			}
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	int rc = 0;
	for (int i = 1; i < argc; i++)
		rc |= replay_path(argv[i]);
	printf("replayed %lu input(s)\n", replayed);
	return rc;
}
