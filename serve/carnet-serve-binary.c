/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-binary.c - the bytes ITI-68 answers: a document's file read
 * (a regular file within the size limit), a FHIR file only when it holds
 * one document, a CDA document rendered as a page on _format=html. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve.h"

char *serve_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char *b = NULL;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= SERVE_DOCUMENT_MAX &&
	    (b = malloc((size_t)st.st_size + 1))) {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
			if (n <= 0 && !(n < 0 && errno == EINTR))
				break;
			if (n > 0)
				got += (size_t)n;
		}
		if (got != (size_t)st.st_size) {
			free(b);
			b = NULL;
		}
		*len = got;
	}
	close(fd);
	return b;
}

/* A FHIR file holds one document when it is a DocumentReference or a
 * document Bundle; a Bundle of several is never served whole. */
static int one_fhir_document(const char *b, size_t len)
{
	json_t *o = json_loadb(b, len, 0, NULL);
	const char *rt = json_string_value(json_object_get(o, "resourceType"));
	const char *ty = json_string_value(json_object_get(o, "type"));
	int one = rt && (!strcmp(rt, "DocumentReference") ||
			 (!strcmp(rt, "Bundle") && ty && !strcmp(ty, "document")));
	json_decref(o);
	return one;
}

/* _format=html: a CDA document as a page, or the PDF its body carries;
 * any other document as it is. 0, or -1 out of memory. */
static int rendered(char **b, size_t *len, const char **type)
{
	char *r;
	size_t n;
	if (strcmp(*type, "application/xml") != 0)
		return 0;
	if (serve_cda_pdf(*b, *len, &r, &n)) {
		*type = "application/pdf";
	} else {
		int rc = serve_cda_html(*b, *len, &r, &n);
		if (rc)
			return rc < 0 ? -1 : 0;
		*type = "text/html; charset=utf-8";
	}
	free(*b);
	*b = r;
	*len = n;
	return 0;
}

int serve_document(serve_answer *a, const char *src, int html)
{
	size_t len = 0;
	char *b = serve_read_file(src, &len);
	const char *type = b ? serve_content_type(src, b, len) : NULL;
	if (b && !strcmp(type, "application/fhir+json") && !one_fhir_document(b, len)) {
		free(b);
		b = NULL;
	}
	if (!b)
		return 1;
	if (html && rendered(&b, &len, &type)) {
		free(b);
		serve_outcome(a, 500, "exception", "the document could not be rendered");
		return -1;
	}
	free(a->body);
	a->body = b;
	a->len = len;
	a->status = 200;
	a->content_type = type;
	return 0;
}
