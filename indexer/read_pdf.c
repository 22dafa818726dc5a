/* read_pdf.c - PDF text through poppler, in a child process: a parser that
 * crashes, loops or eats memory costs only the input it was reading. The
 * child's failures are reported as a bad file; a failure to run the child
 * at all (fork, pipe) as an unusable extractor. */
#define _GNU_SOURCE /* pipe2 */
#include "reader.h"

#include <errno.h>
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

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wpedantic"
#include <poppler.h>
#pragma GCC diagnostic pop

#include "schema.h"
#include "text.h"

/* Largest text taken from one PDF. */
#define PDF_TEXT_MAX ((size_t)64 * 1024 * 1024)

/* What the child reports first, one byte, before any text. */
enum { PDF_OK = 'T', PDF_ENCRYPTED = 'E', PDF_DAMAGED = 'D', PDF_NO_PAGES = 'P',
       PDF_NO_TEXT = 'N' };

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The child: parse, write the status byte and the text, exit. Never returns. */
static void child(int fd, const char *data, size_t len, const carnet_limits *limits)
{
	struct rlimit cpu = { limits->pdf_seconds, limits->pdf_seconds + 1 };
	setrlimit(RLIMIT_CPU, &cpu);
#ifndef UNDER_ASAN
	/* AddressSanitizer reserves a huge address space: no RLIMIT_AS then */
	struct rlimit as = { limits->pdf_memory_bytes, limits->pdf_memory_bytes };
	setrlimit(RLIMIT_AS, &as);
#endif
	/* test hooks, for the isolation tests only */
	const char *hook = getenv("CARNET_PDF_TEST");
	if (hook && strcmp(hook, "crash") == 0)
		raise(SIGABRT); /* not SIGSEGV: AddressSanitizer would report it */
	if (hook && strcmp(hook, "hang") == 0)
		for (;;)
			pause();

	GError *gerr = NULL;
	GBytes *bytes = g_bytes_new_static(data, len);
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &gerr);
	char status = PDF_OK;
	if (!doc) {
		status = gerr && gerr->domain == POPPLER_ERROR && gerr->code == POPPLER_ERROR_ENCRYPTED
				 ? PDF_ENCRYPTED
				 : PDF_DAMAGED;
		write_all(fd, &status, 1);
		_exit(0);
	}
	int pages = poppler_document_get_n_pages(doc);
	if (pages <= 0) {
		status = PDF_NO_PAGES;
		write_all(fd, &status, 1);
		_exit(0);
	}
	write_all(fd, &status, 1);
	for (int i = 0; i < pages; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		if (!page)
			continue;
		char *text = poppler_page_get_text(page);
		if (text) {
			if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n\f\n", 3) != 0)
				_exit(1);
			g_free(text);
		}
		g_object_unref(page);
	}
	_exit(0);
}

int carnet_pdf__extract(carnet_buf *out, const char *path, const char *data,
			size_t len, const carnet_limits *limits, carnet_error *err)
{
	if (len == 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: empty file", path);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return carnet_error__os(err, CARNET_E_INTERNAL, errno,
					"PDF extractor unusable (pipe)");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(fds[0]);
		close(fds[1]);
		return carnet_error__os(err, CARNET_E_INTERNAL, e, "PDF extractor unusable (fork)");
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], data, len, limits);
	}
	close(fds[1]);

	/* read the child's answer until it closes the pipe or time runs out */
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	double deadline = (double)limits->pdf_seconds + 1.0;
	size_t start = out->len;
	int timed_out = 0, too_big = 0, nomem = 0;
	char chunk[65536];
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double spent = (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;
		if (spent >= deadline) {
			timed_out = 1;
			break;
		}
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		int pr = poll(&pfd, 1, (int)((deadline - spent) * 1000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			continue; /* the loop checks the deadline */
		ssize_t n = read(fds[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len - start + (size_t)n > PDF_TEXT_MAX) {
			too_big = 1;
			break;
		}
		if (carnet_buf__put(out, chunk, (size_t)n) != 0) {
			nomem = 1;
			break;
		}
	}
	close(fds[0]);
	if (timed_out || too_big || nomem)
		kill(pid, SIGKILL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;

	/* the verdict */
	char verdict = out->len > start ? out->data[start] : 0;
	int rc = CARNET_OK;
	if (nomem)
		rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				       "%s: out of memory reading PDF text", path);
	else if (timed_out)
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: PDF extraction took longer than %u s", path,
				       limits->pdf_seconds);
	else if (too_big)
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: PDF text larger than %zu bytes", path, PDF_TEXT_MAX);
	else if (WIFSIGNALED(status))
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, WTERMSIG(status),
				       "%s: PDF extractor crashed (signal %d) or ran out of time or memory",
				       path, WTERMSIG(status));
	else if (verdict == PDF_ENCRYPTED)
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: PDF is encrypted", path);
	else if (verdict == PDF_DAMAGED)
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: not a valid PDF (damaged or truncated)", path);
	else if (verdict == PDF_NO_PAGES)
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: PDF has no pages", path);
	else if (verdict != PDF_OK || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: PDF extractor failed", path);
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		return rc;
	}
	/* drop the verdict byte; keep the text if it is UTF-8 */
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

/* The first non-blank line of s, at most 200 bytes cut on a UTF-8 boundary. */
static void first_line(const char *s, size_t len, const char **start, size_t *n)
{
	size_t i = 0;
	while (i < len && (unsigned char)s[i] <= ' ')
		i++;
	size_t e = i;
	while (e < len && s[e] != '\n' && s[e] != '\f')
		e++;
	while (e > i && (unsigned char)s[e - 1] <= ' ')
		e--;
	if (e - i > 200) {
		e = i + 200;
		while (e > i && ((unsigned char)s[e] & 0xC0) == 0x80)
			e--;
	}
	*start = s + i;
	*n = e - i;
}

static int read_pdf(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err)
{
	carnet_buf text = CARNET_BUF_INIT;
	int rc = carnet_pdf__extract(&text, in->path, in->data, in->len, in->limits, err);
	if (rc == CARNET_OK) {
		carnet_doc doc;
		carnet_doc__init(&doc);
		const char *t;
		size_t tn;
		first_line(text.data, text.len, &t, &tn);
		if ((tn && carnet_doc__set(&doc.title, t, tn) != 0) ||
		    carnet_doc__sets(&doc.format, "pdf") != 0 ||
		    (text.len && carnet_doc__add_section(&doc, CARNET_WEIGHT_BODY, text.data,
							 text.len) != 0))
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					       "%s: out of memory", in->path);
		else
			rc = sink(&doc, payload);
		carnet_doc__clear(&doc);
	}
	carnet_buf__free(&text);
	return rc;
}

const carnet_reader carnet_reader_pdf = { "pdf", CARNET_READER_NEEDS_SIDECAR, sniff,
					  read_pdf };
