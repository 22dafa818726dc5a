/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pdf_extractor.c - the PDF extractor process of each extraction thread:
 * carnet-pdftext --serve, started on the thread's first PDF, fed one PDF
 * after another over a socket (pdftext.h) and replaced after a crash, a
 * timeout, an answer out of the protocol, CARNET_PDF_SERVE_MAX documents,
 * or when it has grown past half its memory limit. */
#define _GNU_SOURCE /* close_range, MSG_NOSIGNAL */
#include "pdf_extractor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pdftext.h"

/* Time an extractor told to stop (end of its input) has to exit before it
 * is killed. */
#define STOP_GRACE_S 1.0

typedef struct extractor {
	pid_t pid;        /* 0: none */
	pid_t owner;      /* the process that started it (a fork copies this record, not the child) */
	int fd;           /* our end of its socket: requests out, answers in */
	unsigned served;  /* documents answered */
	unsigned seconds; /* the limits and program it runs with */
	uint64_t memory;
	char prog[CARNET_PDF_PROG_MAX];
} extractor;

/* One extractor per thread: each extraction thread reads one input at a
 * time, so its extractor is never shared. */
static _Thread_local extractor self = { 0, 0, -1, 0, 0, 0, "" };

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;
static pthread_key_t thread_end; /* its destructor reaps a thread's extractor */

static double since(const struct timespec *t0)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Close x's socket (its end of input: a served extractor exits), wait at
 * most grace seconds for it to exit, then kill it. Its wait status, 0 if
 * unknown; x is then empty. An extractor of the process this one was
 * forked from is only forgotten. */
static int reap(extractor *x, double grace)
{
	int status = 0;
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	if (x->pid > 0 && x->owner == getpid()) {
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid_t r;
		while (((r = waitpid(x->pid, &status, WNOHANG)) == 0 && since(&t0) < grace) ||
		       (r < 0 && errno == EINTR))
			nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
		if (r == 0) {
			kill(x->pid, SIGKILL);
			while ((r = waitpid(x->pid, &status, 0)) < 0 && errno == EINTR)
				;
		}
		if (r < 0)
			status = 0; /* reaped by someone else (SIGCHLD ignored) */
	}
	x->pid = 0;
	return status;
}

void carnet_pdf__stop_extractor(void)
{
	reap(&self, STOP_GRACE_S);
}

static void at_thread_end(void *x)
{
	reap(x, STOP_GRACE_S);
}

static void at_exit(void)
{
	carnet_pdf__stop_extractor();
}

/* A thread that ends, and the program (its thread that exits), reap
 * their extractor: no child is left behind the library. */
static void install_hooks(void)
{
	if (pthread_key_create(&thread_end, at_thread_end) == 0)
		atexit(at_exit);
}

pid_t carnet_pdf__extractor_pid(void)
{
	return self.owner == getpid() ? self.pid : 0;
}

/* x's address space is over half its limit: what the PDFs it has read
 * left behind (caches, fragments, leaks) could make the next one run out
 * of memory, and be rejected for what another did. */
static int grown(const extractor *x)
{
#ifdef UNDER_ASAN
	(void)x;
	return 0;
#else
	char path[64], statm[128];
	snprintf(path, sizeof path, "/proc/%d/statm", (int)x->pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, statm, sizeof statm - 1);
	close(fd);
	if (n <= 0)
		return 0;
	statm[n] = '\0';
	long page = sysconf(_SC_PAGESIZE);
	uint64_t size = strtoull(statm, NULL, 10) * (uint64_t)(page > 0 ? page : 4096);
	return size > x->memory / 2;
#endif
}

/* Start prog --serve as x, under limits. */
static int start(extractor *x, const char *prog, const carnet_limits *limits, carnet_error *err)
{
	pthread_once(&hooks_once, install_hooks);
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
		return carnet_error__os(err, CARNET_E_INTERNAL, errno,
					"PDF extractor unusable (socketpair)");
	/* The CPU limit is a backstop for the extractor's whole life: the
	 * parent's deadline bounds each document (pdf_seconds + 1 of wall
	 * time, so as much CPU time), and it serves at most CARNET_PDF_SERVE_MAX;
	 * only an extractor that escapes the deadlines meets it. */
	rlim_t cpu_s = ((rlim_t)limits->pdf_seconds + 1) * CARNET_PDF_SERVE_MAX + 1;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return carnet_error__os(err, CARNET_E_INTERNAL, e, "PDF extractor unusable (fork)");
	}
	if (pid == 0) {
		/* only async-signal-safe calls until exec: the parent may have
		 * other threads */
		struct rlimit cpu = { cpu_s, cpu_s + 1 };
		setrlimit(RLIMIT_CPU, &cpu);
#ifndef UNDER_ASAN
		struct rlimit as = { limits->pdf_memory_bytes, limits->pdf_memory_bytes };
		setrlimit(RLIMIT_AS, &as);
#endif
		/* move the socket above 2 first: in a process started with
		 * its standard descriptors closed it may be 0 or 1, where
		 * dup2 would be a no-op that keeps close-on-exec */
		int fd = fds[1] < 3 ? fcntl(fds[1], F_DUPFD, 3) : fds[1];
		if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
			_exit(126);
		/* the extractor gets its socket and stderr, none of the
		 * indexer's other files (other threads' extractor sockets
		 * included; a kernel without close_range still closes those
		 * marked close-on-exec) */
		close_range(3, ~0u, 0);
		char *const argv[] = { (char *)CARNET_PDFTEXT_NAME, (char *)CARNET_PDFTEXT_SERVE,
				       NULL };
		execv(prog, argv);
		_exit(127);
	}
	close(fds[1]);
	*x = (extractor){ pid, getpid(), fds[0], 0, limits->pdf_seconds,
			  limits->pdf_memory_bytes, "" };
	snprintf(x->prog, sizeof x->prog, "%s", prog);
	pthread_setspecific(thread_end, x);
	return CARNET_OK;
}

/* Wait until fd is ready for events, or the deadline (seconds from t0)
 * passes: 1 ready (or in error: the next call says why), 0 timed out. */
static int ready(int fd, short events, const struct timespec *t0, double deadline)
{
	for (;;) {
		double left = deadline - since(t0);
		if (left <= 0)
			return 0;
		struct pollfd pfd = { fd, events, 0 };
		int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (pr > 0 || (pr < 0 && errno != EINTR))
			return 1;
	}
}

/* Send or receive (receiving) all of p[0..n) on fd before the deadline.
 * MSG_NOSIGNAL: an extractor that died leaves EPIPE, never a SIGPIPE that
 * would kill the indexer. */
static carnet_pdf_end transfer(int fd, char *p, size_t n, int receiving,
			       const struct timespec *t0, double deadline)
{
	while (n) {
		ssize_t r = receiving ? recv(fd, p, n, MSG_DONTWAIT)
				      : send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!ready(fd, receiving ? POLLIN : POLLOUT, t0, deadline))
				return CARNET_PDF_TIMED_OUT;
		} else if (r == 0 || errno != EINTR) {
			return CARNET_PDF_GONE; /* end of its output, EPIPE, ECONNRESET */
		}
	}
	return CARNET_PDF_ANSWERED;
}

/* The request for data[0..len) and the answer to it, the text appended
 * to out (with its NUL); how it ended. */
static carnet_pdf_end ask(carnet_pdf_answer *a, carnet_buf *out, const extractor *x,
			  const char *data, size_t len)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double deadline = (double)x->seconds + 1.0;
	unsigned char head[CARNET_PDFTEXT_HEADER_BYTES];
	carnet_pdftext__put_len(head, len);
	carnet_pdf_end end = transfer(x->fd, (char *)head, CARNET_PDFTEXT_LEN_BYTES, 0, &t0, deadline);
	if (end == CARNET_PDF_ANSWERED)
		end = transfer(x->fd, (char *)data, len, 0, &t0, deadline);
	if (end == CARNET_PDF_ANSWERED)
		end = transfer(x->fd, (char *)head, sizeof head, 1, &t0, deadline);
	if (end != CARNET_PDF_ANSWERED)
		return end;
	a->verdict = (char)head[0];
	uint64_t tlen = carnet_pdftext__get_len(head + 1);
	int known = strchr((char[]){ CARNET_PDFTEXT_OK, CARNET_PDFTEXT_ENCRYPTED,
				     CARNET_PDFTEXT_DAMAGED, CARNET_PDFTEXT_NO_PAGES, 0 },
			   a->verdict) != NULL;
	if (!a->verdict || !known || (a->verdict != CARNET_PDFTEXT_OK && tlen))
		return CARNET_PDF_GARBAGE;
	if (tlen > CARNET_PDF_TEXT_MAX)
		return CARNET_PDF_TOO_BIG;
	if (carnet_buf__grow(out, (size_t)tlen) != 0)
		return CARNET_PDF_NOMEM;
	if (!out->data || !tlen)
		return CARNET_PDF_ANSWERED;
	end = transfer(x->fd, out->data + out->len, (size_t)tlen, 1, &t0, deadline);
	if (end == CARNET_PDF_ANSWERED)
		out->len += (size_t)tlen;
	out->data[out->len] = '\0';
	return end;
}

int carnet_pdf__exchange(carnet_pdf_answer *a, carnet_buf *out, const char *prog,
			 const char *data, size_t len, const carnet_limits *limits,
			 carnet_error *err)
{
	extractor *x = &self;
	*a = (carnet_pdf_answer){ CARNET_PDF_ANSWERED, 0, 0 };
	int status;
	if (x->pid && (x->owner != getpid() || x->seconds != limits->pdf_seconds ||
		       x->memory != limits->pdf_memory_bytes || strcmp(x->prog, prog) != 0))
		reap(x, STOP_GRACE_S);
	/* one that ended while it waited (killed from outside) is replaced,
	 * not blamed on this PDF */
	if (x->pid && waitpid(x->pid, &status, WNOHANG) == x->pid) {
		x->pid = 0;
		reap(x, 0);
	}
	int rc;
	if (!x->pid && (rc = start(x, prog, limits, err)))
		return rc;
	a->end = ask(a, out, x, data, len);
	if (a->end == CARNET_PDF_ANSWERED) {
		if (++x->served >= CARNET_PDF_SERVE_MAX || grown(x))
			reap(x, STOP_GRACE_S);
		return CARNET_OK;
	}
	/* its own end says why (a crash, a program that could not run);
	 * otherwise, stopped where it is: it may be busy, or out of step */
	a->status = reap(x, a->end == CARNET_PDF_GONE ? STOP_GRACE_S : 0);
	return CARNET_OK;
}
