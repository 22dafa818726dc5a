/* SPDX-License-Identifier: GPL-2.0-or-later */
/* reader.c - choosing the reader for an input, reading embedded content,
 * and what every reader shares (plain text, media types, out of memory). */
#include "reader.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#include "text.h"

static const carnet_reader *const readers[] = {
	&carnet_reader_text, &carnet_reader_html, &carnet_reader_pdf,
	&carnet_reader_cda, &carnet_reader_fhir,
};

void carnet_reader__init_threads(void)
{
	/* libxml2 must initialise its globals before threads use it */
	xmlInitParser();
}

const carnet_reader *carnet_reader__find(const carnet_input *in)
{
	const carnet_reader *best = NULL;
	int best_score = 0;
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		int s = readers[i]->sniff(in);
		if (s > best_score) {
			best = readers[i];
			best_score = s;
		}
	}
	return best;
}

void carnet_reader__extension(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t n = 0;
	if (dot && dot != base) {
		for (const char *p = dot + 1; *p && n + 1 < size; p++) {
			char c = *p;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			out[n++] = c;
		}
	}
	if (size)
		out[n] = '\0';
}

int carnet_reader__plain_text(carnet_buf *out, const char *path,
			      const char *data, size_t len, carnet_error *err)
{
	size_t off, bom = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
		data += 3;
		len -= 3;
		bom = 3;
	}
	if (carnet_text__looks_binary(data, len, &off))
		return carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT,
					 CARNET_ORIGIN_INPUT, 0,
					 "%s: not text (binary control byte) at byte offset %zu",
					 path, off + bom);
	if (carnet_text__utf8_valid(data, len, &off)) {
		if (carnet_buf__put(out, data, len) != 0)
			return carnet_reader__nomem(err, path);
		return CARNET_OK;
	}
	/* not UTF-8: legacy French text is Windows-1252 */
	return carnet_text__from_cp1252(out, data, len, err);
}

/* The first non-blank line of s (a line ends at a newline or a form
 * feed), trimmed, at most 200 bytes cut on a UTF-8 boundary. */
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

int carnet_reader__emit_text(const carnet_input *in, const char *format,
			     const char *title, size_t title_len,
			     const char *text, size_t len, carnet_doc_sink sink,
			     void *payload, carnet_error *err)
{
	if (!title_len)
		first_line(text ? text : "", len, &title, &title_len);
	carnet_doc doc;
	carnet_doc__init(&doc);
	int rc;
	if ((title_len && carnet_doc__set(&doc.title, title, title_len) != 0) ||
	    carnet_doc__sets(&doc.format, format) != 0 ||
	    (len && carnet_doc__add_section(&doc, CARNET_SECTION_BODY, text, len) != 0))
		rc = carnet_reader__nomem(err, in->path);
	else
		rc = sink(&doc, payload);
	carnet_doc__clear(&doc);
	return rc;
}

int carnet_reader__mime_is(const char *m, const char *want)
{
	size_t n = strcspn(m, "; \t");
	return strlen(want) == n && strncasecmp(m, want, n) == 0;
}

int carnet_reader__embedded(carnet_doc *doc, const carnet_input *in,
			    const char *mime, const char *data, size_t len,
			    carnet_error *err)
{
	carnet_buf text = CARNET_BUF_INIT;
	int rc;
	if (!mime)
		mime = "";
	if (carnet_reader__mime_is(mime, "text/plain")) {
		rc = carnet_reader__plain_text(&text, in->path, data, len, err);
	} else if (carnet_reader__mime_is(mime, "text/html") ||
		   carnet_reader__mime_is(mime, "application/xhtml+xml")) {
		rc = carnet_html__extract(&text, NULL, in->path, data, len, err);
	} else if (carnet_reader__mime_is(mime, "application/pdf")) {
		carnet_budget__pause(); /* --pdf-timeout bounds the extractor */
		rc = carnet_pdf__extract(&text, in->path, data, len, in->limits, err);
		carnet_budget__resume();
	} else {
		rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT,
				       CARNET_ORIGIN_INPUT, 0,
				       "%s: embedded content of type \"%.60s\" cannot be read",
				       in->path, mime);
	}
	if (rc == CARNET_OK && text.len &&
	    carnet_doc__add_section(doc, CARNET_SECTION_BODY, text.data, text.len) != 0)
		rc = carnet_reader__nomem(err, in->path);
	carnet_buf__free(&text);
	return rc;
}

int carnet_reader__nomem(carnet_error *err, const char *path)
{
	/* the walks stop as they do for memory when the time is up */
	if (carnet_budget__expired())
		return carnet_budget__fail(err, path);
	char what[CARNET_ERROR_MESSAGE_SIZE];
	snprintf(what, sizeof what, "reading %s", path);
	return carnet_error__nomem(err, what);
}
