/* SPDX-License-Identifier: GPL-2.0-or-later */
/* helpers.c - shared test fixtures: temporary directories, files, running
 * the CLIs. Real files, real indexes: nothing is mocked. */
#include "helpers.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <jansson.h>

#include "carnet.h"

static char tmpdir[4096];

const char *th_tmpdir(void)
{
	if (tmpdir[0])
		return tmpdir; /* made already: one per test, removed by th_cleanup */
	const char *base = getenv("TMPDIR");
	snprintf(tmpdir, sizeof tmpdir, "%s/carnet-test-XXXXXX",
		 base && *base ? base : "/tmp");
	cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	return tmpdir;
}

static int rm_entry(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void th_cleanup(void)
{
	if (tmpdir[0])
		nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	tmpdir[0] = '\0';
}

const char *th_path(const char *fmt, ...)
{
	static char bufs[8][4096];
	static int next;
	char *b = bufs[next++ % 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, 4096, fmt, ap);
	va_end(ap);
	return b;
}

static void mkparents(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0700);
			*p = '/';
		}
	}
}

void th_write(const char *path, const char *data, size_t len)
{
	mkparents(path);
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

void th_write_str(const char *path, const char *s)
{
	th_write(path, s, strlen(s));
}

void th_write_doc(const char *path, const char *patient, const char *id,
		  const char *date, const char *text)
{
	th_write_str(path, text);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "patient_id", patient,
			      "id", id, "date", date, "type", "11488-4");
	char *s = json_dumps(o, 0);
	th_write_str(th_path("%s.meta.json", path), s);
	free(s);
	json_decref(o);
}

char *th_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot read %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	cr_assert_not_null(b);
	cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
	b[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return b;
}

const char *th_root(void)
{
	static char root[4096];
	if (!root[0]) {
		const char *env = getenv("CARNET_ROOT");
		if (env && *env)
			snprintf(root, sizeof root, "%s", env);
		else
			cr_assert_not_null(getcwd(root, sizeof root));
	}
	return root;
}

const char *th_build(void)
{
	static char build[4096];
	if (!build[0]) {
		const char *env = getenv("CARNET_BUILD");
		snprintf(build, sizeof build, "%s/%s", th_root(),
			 env && *env ? env : "build");
	}
	return build;
}

const char *th_sample(void)
{
	static char p[4096];
	snprintf(p, sizeof p, "%s/corpora/sample", th_root());
	return p;
}

const char *th_bad(void)
{
	static char p[4096];
	snprintf(p, sizeof p, "%s/corpora/bad", th_root());
	return p;
}

const char *th_corpus(const char *rel)
{
	return th_path("%s/corpora/%s", th_root(), rel);
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *th_public_dir(void)
{
	static char dir[4096];
	const char *env = getenv("CARNET_PUBLIC_CORPORA");
	if (env) {
		if (!*env)
			return NULL;
		cr_assert(is_dir(env), "CARNET_PUBLIC_CORPORA=%s: not a directory", env);
		snprintf(dir, sizeof dir, "%s", env);
		return dir;
	}
	return NULL; /* nothing outside the repository is read unless named */
}

const char *th_public(const char *rel, const char *what)
{
	const char *dir = th_public_dir();
	if (!dir) {
		th_cleanup(); /* a skipped test's fini does not run */
		cr_skip_test("%s absent: set CARNET_PUBLIC_CORPORA", what);
	}
	const char *p = th_path("%s/%s", dir, rel);
	cr_assert_eq(access(p, R_OK), 0, "%s: missing from the public corpora", p);
	return p;
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void scan_patients(const char *dir, char ids[][64], size_t *n, size_t max)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot list %s", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		const char *p = th_path("%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			char sub[4096];
			snprintf(sub, sizeof sub, "%s", p);
			scan_patients(sub, ids, n, max);
			continue;
		}
		size_t len = strlen(e->d_name);
		if (len < 10 || strcmp(e->d_name + len - 10, ".meta.json") != 0)
			continue;
		json_t *o = json_load_file(p, 0, NULL);
		const char *pid = json_string_value(json_object_get(o, "patient_id"));
		int seen = !pid;
		for (size_t i = 0; !seen && i < *n; i++)
			seen = strcmp(ids[i], pid) == 0;
		if (!seen && *n < max)
			snprintf(ids[(*n)++], 64, "%s", pid);
		json_decref(o);
	}
	closedir(d);
}

size_t th_sample_patients(char ids[][64], size_t max)
{
	size_t n = 0;
	scan_patients(th_sample(), ids, &n, max);
	qsort(ids, n, 64, cmp_ids);
	return n;
}

static int add_tree(carnet_writer *w, const char *dir)
{
	int added = 0;
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);
	cr_assert_geq(n, 0, "cannot list %s", dir);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		char p[4096];
		snprintf(p, sizeof p, "%s/%s", dir, name);
		struct stat st;
		if (name[0] == '.' || (len > 10 && strcmp(name + len - 10, ".meta.json") == 0)) {
			/* skip */
		} else if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			added += add_tree(w, p);
		} else {
			carnet_outcome o;
			carnet_error err;
			cr_assert_eq(carnet_writer_add_file(w, p, &o, &err), CARNET_OK,
				     "%s: %s", p, err.message);
			added += o == CARNET_OUTCOME_ADDED;
		}
		free(names[i]);
	}
	free(names);
	return added;
}

int th_index_dir(const char *home, const char *dir)
{
	carnet_writer *w;
	carnet_error err;
	cr_assert_eq(carnet_writer_open(&w, home, &err), CARNET_OK, "%s", err.message);
	int added = add_tree(w, dir);
	cr_assert_eq(carnet_writer_commit(w, &err), CARNET_OK, "%s", err.message);
	carnet_writer_close(w);
	return added;
}

static char *drain(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	cr_assert_not_null(buf);
	for (;;) {
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			cr_assert_not_null(buf);
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

int th_run(char **out, char **errout, const char *const argv[])
{
	char outp[4200], errp[4200];
	snprintf(outp, sizeof outp, "%s/.run-out-%d", tmpdir[0] ? tmpdir : "/tmp", getpid());
	snprintf(errp, sizeof errp, "%s/.run-err-%d", tmpdir[0] ? tmpdir : "/tmp", getpid());
	const char *prog = th_path("%s/%s", th_build(), argv[0]);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (in < 0 || o < 0 || e < 0)
			_exit(126);
		dup2(in, 0);
		dup2(o, 1);
		dup2(e, 2);
		execv(prog, (char *const *)argv);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int fd = open(outp, O_RDONLY);
	*out = drain(fd);
	close(fd);
	fd = open(errp, O_RDONLY);
	*errout = drain(fd);
	close(fd);
	unlink(outp);
	unlink(errp);
	/* a sanitizer report in a child is a failure wherever it happens */
	cr_assert_null(strstr(*errout, "ERROR: AddressSanitizer"), "%s", *errout);
	cr_assert_null(strstr(*errout, "ERROR: LeakSanitizer"), "%s", *errout);
	cr_assert_null(strstr(*errout, "runtime error:"), "%s", *errout);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int th_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
		  getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	close(fd);
	return ntohs(a.sin_port);
}
