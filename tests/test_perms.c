/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_perms.c - the permission model (README, "Who may read the index"):
 * the writer owns a home shared with a group by `carnet-index init
 * --group`; a viewer running as another user of that group searches it
 * and its search is logged; a user outside the group is refused by the
 * operating system. The other users are real: the test runs as root,
 * forks, and drops to them (setgroups, setgid, setuid) before opening the
 * index. Not root: skipped. */
#define _GNU_SOURCE /* setgroups */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "carnet.h"
#include "helpers.h"

#define PATIENT "158047511203495"
/* ids no user or group of a test machine has */
#define OUTSIDER_ID 64999

typedef struct viewer {
	uid_t uid;
	gid_t gid;
	char group[64];
} viewer;

/* The viewer: nobody, in nobody's group (nogroup on Debian), which will be
 * the home's group. Skips the test when it cannot run. */
static viewer the_viewer(void)
{
	viewer v;
	if (geteuid() != 0)
		cr_skip_test("not root: cannot run a viewer as another user");
	struct passwd *pw = getpwnam("nobody");
	struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;
	if (!pw || !gr)
		cr_skip_test("no user nobody with a group on this machine");
	v.uid = pw->pw_uid;
	v.gid = pw->pw_gid;
	snprintf(v.group, sizeof v.group, "%s", gr->gr_name);
	return v;
}

/* A temporary directory other users may cross (th_tmpdir's is 0700). */
static const char *open_tmpdir(void)
{
	const char *dir = th_tmpdir();
	cr_assert_eq(chmod(dir, 0755), 0);
	return dir;
}

/* fork; in the child, become uid:gid with no other group (exit 255 if
 * that fails). The child's pid, or 0 in the child. */
static pid_t fork_as(uid_t uid, gid_t gid)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0 && (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0))
		_exit(255);
	return pid;
}

/* The exit status of child pid. */
static int status_of(pid_t pid)
{
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status), "the child process died");
	return WEXITSTATUS(status);
}

/* In a child running as uid:gid with no other group, search the sample
 * patient's record for "hemoglobine" as viewer `viewer_id`. The child's
 * exit status: 0 with `expected` hits, 10 + -code when a call failed (its message
 * on stderr), 9 on a wrong count, 255 if it could not become uid:gid. */
static int search_as(uid_t uid, gid_t gid, const char *home, const char *viewer_id,
		     size_t expected)
{
	pid_t pid = fork_as(uid, gid);
	if (pid == 0) {
		carnet_index *idx;
		carnet_error err;
		int rc = carnet_index_open(&idx, home, &err);
		if (rc != CARNET_OK) {
			fprintf(stderr, "as %u: %s\n", (unsigned)uid, err.message);
			_exit(10 - rc);
		}
		carnet_request req = CARNET_REQUEST_INIT;
		req.patient_id = PATIENT;
		req.profession = "10";
		req.viewer_id = viewer_id;
		req.words = "hemoglobine";
		carnet_results *res;
		rc = carnet_index_search(&res, idx, &req, &err);
		if (rc != CARNET_OK) {
			fprintf(stderr, "as %u: %s\n", (unsigned)uid, err.message);
			carnet_index_close(idx);
			_exit(10 - rc);
		}
		size_t n = carnet_results_count(res);
		carnet_results_free(res);
		carnet_index_close(idx);
		_exit(n == expected ? 0 : 9);
	}
	return status_of(pid);
}

/* In a child running as uid:gid, open(path, flags, 0640): its errno, or 0. */
static int open_as(uid_t uid, gid_t gid, const char *path, int flags)
{
	pid_t pid = fork_as(uid, gid);
	if (pid == 0) {
		int fd = open(path, flags, 0640);
		_exit(fd >= 0 ? 0 : errno);
	}
	return status_of(pid);
}

static int logged_by(const char *at, const char *viewer_id, const char *role,
		     const char *profession, const char *specialty, int emergency,
		     const char *words, const char *ids, void *payload)
{
	(void)at, (void)role, (void)profession, (void)specialty, (void)emergency, (void)ids;
	if (strcmp(viewer_id, "VIEWER-NOBODY") == 0 && strcmp(words, "hemoglobine") == 0)
		++*(int *)payload;
	return 0;
}

/* init --group, then sync the sample, both by the writer (root here) with
 * a umask that would give viewers nothing: the modes are set explicitly. */
static const char *shared_home(const viewer *v)
{
	static char home[4096]; /* th_path's buffers are reused */
	snprintf(home, sizeof home, "%s/idx", open_tmpdir());
	umask(077);
	char *out, *err;
	const char *init[] = { "carnet-index", "--index", home, "init", "--group", v->group, NULL };
	int rc = th_run(&out, &err, init);
	cr_assert_eq(rc, 0, "init: %s", err);
	free(out);
	free(err);
	const char *sync[] = { "carnet-index", "--quiet", "--index", home, "sync", th_sample(), NULL };
	rc = th_run(&out, &err, sync);
	cr_assert_eq(rc, 0, "sync: %s", err);
	free(out);
	free(err);
	umask(022);
	return home;
}

Test(perms, a_viewer_of_the_group_searches_and_is_logged, .fini = th_cleanup)
{
	viewer v = the_viewer();
	const char *home = shared_home(&v);
	struct stat st;
	cr_assert_eq(stat(home, &st), 0);
	cr_expect_eq(st.st_mode & 07777, 02750, "home mode %o", (unsigned)(st.st_mode & 07777));
	cr_expect_eq(st.st_gid, v.gid);
	cr_assert_eq(stat(th_path("%s/access.sqlite", home), &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0660);

	cr_assert_eq(search_as(v.uid, v.gid, home, "VIEWER-NOBODY", 4), 0,
		     "a viewer in the home's group could not search");
	/* the search is in the access log, read by the writer */
	carnet_index *idx;
	cr_assert_eq(carnet_index_open(&idx, home, NULL), CARNET_OK);
	int logged = 0;
	cr_assert_eq(carnet_index_access_log(idx, PATIENT, logged_by, &logged, NULL), CARNET_OK);
	cr_expect_eq(logged, 1, "the viewer's search was logged %d times", logged);
	carnet_index_close(idx);

	/* a second viewer process, after the first closed everything */
	cr_expect_eq(search_as(v.uid, v.gid, home, "VIEWER-NOBODY", 4), 0);
}

Test(perms, a_user_outside_the_group_reads_nothing, .fini = th_cleanup)
{
	viewer v = the_viewer();
	const char *home = shared_home(&v);
	int code = search_as(OUTSIDER_ID, OUTSIDER_ID, home, "OUTSIDER", 4);
	cr_expect_eq(code, 10 - CARNET_E_IO, "an outsider's open gave status %d", code);
	/* nor any file, knowing its path */
	const char *files[] = { "CURRENT", "access.sqlite", "gen-1/registry.sqlite",
				"gen-1/xapian/iamglass" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		cr_expect_eq(open_as(OUTSIDER_ID, OUTSIDER_ID, th_path("%s/%s", home, files[i]),
				     O_RDONLY),
			     EACCES, "an outsider could open %s", files[i]);
}

Test(perms, a_viewer_writes_the_access_log_and_nothing_else, .fini = th_cleanup)
{
	viewer v = the_viewer();
	const char *home = shared_home(&v);
	cr_expect_eq(open_as(v.uid, v.gid, th_path("%s/access.sqlite", home), O_WRONLY), 0);
	const char *files[] = { "CURRENT", "LOCK", "gen-1/registry.sqlite",
				"gen-1/xapian/iamglass" };
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
		cr_expect_eq(open_as(v.uid, v.gid, th_path("%s/%s", home, files[i]), O_WRONLY),
			     EACCES, "a viewer could write %s", files[i]);
	/* nor add a file, such as an authorisation matrix of its own */
	cr_expect_eq(open_as(v.uid, v.gid, th_path("%s/authorisations.tsv", home),
			     O_WRONLY | O_CREAT | O_EXCL), EACCES);
	int e = open_as(v.uid, v.gid, th_path("%s/gen-1/x", home), O_WRONLY | O_CREAT | O_EXCL);
	cr_expect_eq(e, EACCES, "a viewer's creating a file in a generation gave %d", e);
}

Test(perms, a_rebuilt_generation_is_shared_too, .fini = th_cleanup)
{
	viewer v = the_viewer();
	const char *home = shared_home(&v);
	cr_assert_eq(search_as(v.uid, v.gid, home, "VIEWER-NOBODY", 4), 0);
	umask(077);
	char *out, *err;
	const char *rebuild[] = { "carnet-index", "--quiet", "--index", home, "rebuild", th_sample(), NULL };
	int rc = th_run(&out, &err, rebuild);
	umask(022);
	cr_assert_eq(rc, 0, "rebuild: %s", err);
	free(out);
	free(err);
	struct stat st;
	cr_assert_eq(stat(th_path("%s/gen-2", home), &st), 0);
	cr_expect_eq(st.st_mode & 07777, 02750);
	cr_expect_eq(st.st_gid, v.gid);
	cr_expect_eq(search_as(v.uid, v.gid, home, "VIEWER-NOBODY", 4), 0,
		     "the viewer could not search the rebuilt generation");
}

Test(perms, a_home_without_init_is_private, .fini = th_cleanup)
{
	viewer v = the_viewer();
	char home[4096];
	snprintf(home, sizeof home, "%s/idx", open_tmpdir());
	cr_assert_gt(th_index_dir(home, th_sample()), 0);
	struct stat st;
	cr_assert_eq(stat(home, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0700);
	int code = search_as(v.uid, v.gid, home, "VIEWER-NOBODY", 4);
	cr_expect_eq(code, 10 - CARNET_E_IO, "another user's open gave status %d", code);
}

Test(perms, init_names_an_unknown_group, .fini = th_cleanup)
{
	char home[4096];
	snprintf(home, sizeof home, "%s/idx", th_tmpdir());
	char *out, *err;
	const char *init[] = { "carnet-index", "--index", home, "init", "--group",
			       "no-such-group-carnet", NULL };
	int rc = th_run(&out, &err, init);
	cr_expect_eq(rc, 2);
	cr_expect(strstr(err, "no group named 'no-such-group-carnet'"), "stderr: %s", err);
	cr_expect_neq(access(home, F_OK), 0, "the home was created anyway");
	free(out);
	free(err);
}

Test(perms, a_viewer_searches_while_the_writer_works, .fini = th_cleanup)
{
	viewer v = the_viewer();
	const char *home = shared_home(&v);
	/* the nightly job has committed a batch and is still open: the
	 * registry's WAL holds that batch */
	carnet_writer *w;
	cr_assert_eq(carnet_writer_open(&w, home, NULL), CARNET_OK);
	const char *doc = th_path("%s/new/cr.txt", th_tmpdir());
	th_write_doc(doc, PATIENT, "DOC-NEW-1", "2026-01-05", "Hémoglobine 12,9 g/dL");
	carnet_outcome o;
	cr_assert_eq(carnet_writer_add_file(w, doc, &o, NULL), CARNET_OK);
	cr_assert_eq(o, CARNET_OUTCOME_ADDED);
	cr_assert_eq(carnet_writer_commit(w, NULL), CARNET_OK);
	cr_expect_eq(search_as(v.uid, v.gid, home, "VIEWER-NOBODY", 5), 0,
		     "a viewer could not search, or see the committed batch, while the writer is open");
	carnet_writer_close(w);
	cr_expect_eq(search_as(v.uid, v.gid, home, "VIEWER-NOBODY", 5), 0);
}
