/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_pdf.c - PDF text through poppler, in another process (fork and exec
 * of carnet-pdftext, safe from a multi-threaded indexer): a parser that
 * crashes, loops or eats memory costs only the input it was reading. Its
 * failures are reported as a bad file; a failure to run it at all (not
 * installed, fork, pipe) as an unusable extractor. */
#define _GNU_SOURCE /* pipe2, memfd_create */
#include "reader.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


#include "pdftext.h"
#include "text.h"

/* Largest text taken from one PDF. */
#define PDF_TEXT_MAX ((size_t)64 * 1024 * 1024)

/* Under AddressSanitizer the extractor needs a huge address space for its
 * shadow memory: no RLIMIT_AS then. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Where make install puts the extractor (generated from PREFIX: a
 * changed PREFIX rebuilds this file), and the same place relative to the
 * library directory. */
#include "carnet_paths.h"

/* out = dir/rel/name if that is an executable file; 0 then, -1 otherwise. */
static int try_extractor(char *out, size_t size, const char *dir, const char *rel)
{
	int n = snprintf(out, size, "%s%s%s/%s", dir, *rel ? "/" : "", rel,
			 CARNET_PDFTEXT_NAME);
	return n > 0 && (size_t)n < size && access(out, X_OK) == 0 ? 0 : -1;
}

/* The directory of a file path into dir (the path itself if it has no
 * slash: then it is not usable). 0 on success. */
static int dir_of(char *dir, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) >= size)
		return -1;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	return 0;
}

/* Find the extractor program into out; 0 if found, -1 otherwise. In order:
 * $CARNET_PDFTEXT; beside the shared library that holds this code, as
 * installed (LIBDIR/../libexec/carnet whatever PREFIX and DESTDIR were);
 * the LIBEXECDIR of the build; beside the running program, or in its
 * ../libexec/carnet (the CLIs, linked with the static library). */
static int find_extractor(char *out, size_t size)
{
	const char *env = getenv("CARNET_PDFTEXT");
	if (env && *env) {
		snprintf(out, size, "%s", env);
		return access(out, X_OK) == 0 ? 0 : -1;
	}
	static const char anchor; /* an address inside this library */
	char dir[PATH_MAX];
	Dl_info info;
	if (dladdr(&anchor, &info) && info.dli_fname &&
	    dir_of(dir, sizeof dir, info.dli_fname) == 0 &&
	    try_extractor(out, size, dir, CARNET_LIBEXEC_FROM_LIBDIR) == 0)
		return 0;
	if (try_extractor(out, size, CARNET_LIBEXECDIR, "") == 0)
		return 0;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = '\0';
	if (dir_of(dir, sizeof dir, self) != 0)
		return -1;
	return try_extractor(out, size, dir, "") == 0 ||
	       try_extractor(out, size, dir, "../libexec/carnet") == 0 ? 0 : -1;
}

/* The PDF data[0..len) in an anonymous file, read from its start, into
 * *fd_out: the extractor's standard input (no pipe to feed, no SIGPIPE if
 * it dies early). */
static int stage_pdf(int *fd_out, const char *path, const char *data, size_t len,
		     carnet_error *err)
{
	int in = memfd_create("carnet-pdf", MFD_CLOEXEC);
	if (in < 0)
		return carnet_error__os(err, CARNET_E_INTERNAL, errno,
					"PDF extractor unusable (memfd)");
	for (size_t done = 0; done < len;) {
		ssize_t w = write(in, data + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;
			close(in);
			return carnet_error__os(err, CARNET_E_IO, e, "%s: cannot stage the PDF", path);
		}
		done += (size_t)w;
	}
	lseek(in, 0, SEEK_SET);
	*fd_out = in;
	return CARNET_OK;
}

/* Run the extractor prog on the staged PDF in (which it closes), under
 * the limits: its pid into *pid_out, the end of the pipe its text comes
 * from into *fd_out. CARNET_OK, or why it could not be started. */
static int spawn_extractor(const char *prog, int in, const carnet_limits *limits,
			   pid_t *pid_out, int *fd_out, carnet_error *err)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		int e = errno;
		close(in);
		return carnet_error__os(err, CARNET_E_INTERNAL, e, "PDF extractor unusable (pipe)");
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(in);
		close(fds[0]);
		close(fds[1]);
		return carnet_error__os(err, CARNET_E_INTERNAL, e, "PDF extractor unusable (fork)");
	}
	if (pid == 0) {
		/* only async-signal-safe calls until exec: the parent may have
		 * other threads */
		struct rlimit cpu = { limits->pdf_seconds, limits->pdf_seconds + 1 };
		setrlimit(RLIMIT_CPU, &cpu);
#ifndef UNDER_ASAN
		struct rlimit as = { limits->pdf_memory_bytes, limits->pdf_memory_bytes };
		setrlimit(RLIMIT_AS, &as);
#endif
		/* move both ends above 2 first: in a process started with
		 * its standard descriptors closed they may be 0 or 1, where
		 * dup2 would be a no-op that keeps close-on-exec */
		int pdf_fd = in < 3 ? fcntl(in, F_DUPFD, 3) : in;
		int text_fd = fds[1] < 3 ? fcntl(fds[1], F_DUPFD, 3) : fds[1];
		if (pdf_fd < 0 || text_fd < 0 || dup2(pdf_fd, 0) < 0 || dup2(text_fd, 1) < 0)
			_exit(126);
		/* the extractor gets its input, its output and stderr, none
		 * of the indexer's other files (a kernel without close_range
		 * still closes those marked close-on-exec) */
		close_range(3, ~0u, 0);
		char *const argv[] = { (char *)CARNET_PDFTEXT_NAME, NULL };
		execv(prog, argv);
		_exit(127);
	}
	close(in);
	close(fds[1]);
	*pid_out = pid;
	*fd_out = fds[0];
	return CARNET_OK;
}

/* How reading the extractor's answer ended, when it did not end with the
 * extractor closing the pipe. */
typedef enum answer_end {
	ANSWER_DONE, ANSWER_TIMED_OUT, ANSWER_TOO_BIG, ANSWER_NOMEM
} answer_end;

/* Append to out what the extractor writes on fd, until it closes the pipe
 * or time runs out (limits->pdf_seconds and one more). */
static answer_end read_answer(carnet_buf *out, int fd, const carnet_limits *limits)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double deadline = (double)limits->pdf_seconds + 1.0;
	size_t start = out->len;
	char chunk[65536];
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double spent = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (spent >= deadline)
			return ANSWER_TIMED_OUT;
		struct pollfd pfd = { fd, POLLIN, 0 };
		int pr = poll(&pfd, 1, (int)((deadline - spent) * 1000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			continue; /* the loop checks the deadline */
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ANSWER_DONE;
		if (out->len - start + (size_t)n > PDF_TEXT_MAX)
			return ANSWER_TOO_BIG;
		if (carnet_buf__put(out, chunk, (size_t)n) != 0)
			return ANSWER_NOMEM;
	}
}

/* The verdict on an extraction: how the extractor prog ended (status),
 * how reading it ended, and its verdict byte (0 if none). CARNET_OK, or
 * the error for path in err. */
static int judge(const char *path, const char *prog, int status, answer_end end,
		 char verdict, const carnet_limits *limits, carnet_error *err)
{
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126) &&
	    !verdict)
		return carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_CARNET, 0,
					 "PDF extractor unusable: cannot run %s (not executable, or "
					 "its memory limit of %llu bytes is too small to load it)",
					 prog, (unsigned long long)limits->pdf_memory_bytes);
	if (end == ANSWER_NOMEM)
		return carnet_error__nomem(err, "reading PDF text");
	if (end == ANSWER_TIMED_OUT)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF extraction took longer than %u s", path,
					 limits->pdf_seconds);
	if (end == ANSWER_TOO_BIG)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF text larger than %zu bytes", path, PDF_TEXT_MAX);
	if (WIFSIGNALED(status))
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, WTERMSIG(status),
					 "%s: PDF extractor crashed (signal %d) or ran out of time or memory",
					 path, WTERMSIG(status));
	if (verdict == CARNET_PDFTEXT_ENCRYPTED)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF is encrypted", path);
	if (verdict == CARNET_PDFTEXT_DAMAGED)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: not a valid PDF (damaged or truncated)", path);
	if (verdict == CARNET_PDFTEXT_NO_PAGES)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF has no pages", path);
	if (verdict != CARNET_PDFTEXT_OK || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF extractor failed", path);
	return CARNET_OK;
}

/* The text the extractor answered, from out's byte start on: the verdict
 * byte dropped, kept if it is UTF-8 (else an error) and holds something
 * (else nothing is kept). */
static int take_text(carnet_buf *out, size_t start, const char *path, carnet_error *err)
{
	memmove(out->data + start, out->data + start + 1, out->len - start - 1);
	out->len--;
	out->data[out->len] = '\0';
	size_t bad;
	size_t tlen = out->len - start;
	if (!carnet_text__utf8_valid(out->data + start, tlen, &bad)) {
		out->len = start;
		out->data[start] = '\0';
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: PDF text is not UTF-8 (byte offset %zu)", path, bad);
	}
	int has_text = 0;
	for (size_t i = start; i < out->len && !has_text; i++)
		has_text = (unsigned char)out->data[i] > ' ';
	if (!has_text) {
		/* a scanned document: a valid PDF without text; its metadata
		 * still deserve a place in the record */
		out->len = start;
		out->data[start] = '\0';
	}
	return CARNET_OK;
}

int carnet_pdf__extract(carnet_buf *out, const char *path, const char *data,
			size_t len, const carnet_limits *limits, carnet_error *err)
{
	if (len == 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: empty file", path);
	static const carnet_limits defaults = { CARNET_DEFAULT_INPUT_BYTES,
						CARNET_DEFAULT_PDF_SECONDS,
						CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };
	if (!limits)
		limits = &defaults;
	char prog[PATH_MAX + 64];
	if (find_extractor(prog, sizeof prog) != 0)
		return carnet_error__set(err, CARNET_E_INTERNAL, CARNET_ORIGIN_CARNET, 0,
					 "PDF extractor unusable: %s not found (install it, or set "
					 "CARNET_PDFTEXT)", CARNET_PDFTEXT_NAME);
	int in = -1, text_fd = -1;
	pid_t pid = -1;
	int rc = stage_pdf(&in, path, data, len, err);
	if (rc || (rc = spawn_extractor(prog, in, limits, &pid, &text_fd, err)))
		return rc;
	/* read the child's answer until it closes the pipe or time runs out */
	size_t start = out->len;
	answer_end end = read_answer(out, text_fd, limits);
	close(text_fd);
	if (end != ANSWER_DONE)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	char verdict = out->len > start ? out->data[start] : 0;
	if ((rc = judge(path, prog, status, end, verdict, limits, err))) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return rc;
	}
	return take_text(out, start, path, err);
}

static int sniff(const carnet_input *in)
{
	size_t n = in->len < 1024 ? in->len : 1024;
	for (size_t i = 0; i + 5 <= n; i++)
		if (memcmp(in->data + i, "%PDF-", 5) == 0)
			return 80;
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	return strcmp(ext, "pdf") == 0 ? 30 : 0;
}

static int read_pdf(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err)
{
	carnet_buf text = CARNET_BUF_INIT;
	carnet_budget__pause(); /* --pdf-timeout bounds the extractor */
	int rc = carnet_pdf__extract(&text, in->path, in->data, in->len, in->limits, err);
	carnet_budget__resume();
	if (rc == CARNET_OK)
		rc = carnet_reader__emit_text(in, "pdf", NULL, 0, text.data, text.len, sink,
					      payload, err);
	carnet_buf__free(&text);
	return rc;
}

const carnet_reader carnet_reader_pdf = { "pdf", CARNET_READER_NEEDS_SIDECAR, sniff,
					  read_pdf };
