/* read_text.c - plain text reader: UTF-8 (or Windows-1252) text; the title
 * is the first non-empty line. Everything else comes from the sidecar. */
#include "reader.h"

#include <string.h>

#include "schema.h"

static int sniff(const carnet_input *in)
{
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	if (strcmp(ext, "txt") == 0 || strcmp(ext, "text") == 0 ||
	    strcmp(ext, "asc") == 0)
		return 50;
	return 0;
}

/* The first non-blank line of text, trimmed, at most 200 bytes (cut on a
 * UTF-8 boundary). */
static void first_line(const char *s, size_t len, const char **start,
		       size_t *n)
{
	size_t i = 0;
	*start = s;
	*n = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && s[e] != '\n')
			e++;
		size_t a = i, b = e;
		while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r'))
			a++;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' ||
				 s[b - 1] == '\r'))
			b--;
		if (b > a) {
			if (b - a > 200) {
				b = a + 200;
				while (b > a && ((unsigned char)s[b] & 0xC0) == 0x80)
					b--;
			}
			*start = s + a;
			*n = b - a;
			return;
		}
		i = e + 1;
	}
}

static int read_text(const carnet_input *in, carnet_doc_sink sink,
		     void *payload, carnet_error *err)
{
	const char *data = in->data;
	size_t len = in->len;
	if (len == 0)
		return carnet_error__set(err, CARNET_E_INVALID,
					 CARNET_ORIGIN_INPUT, 0,
					 "%s: empty file", in->path);
	carnet_buf conv = CARNET_BUF_INIT;
	int rc = carnet_reader__plain_text(&conv, in->path, data, len, err);
	if (rc) {
		carnet_buf__free(&conv);
		return rc;
	}
	data = conv.data;
	len = conv.len;
	int blank = 1;
	for (size_t i = 0; i < len && blank; i++)
		blank = (unsigned char)data[i] <= ' ';
	if (blank) {
		carnet_buf__free(&conv);
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: empty file (no text)", in->path);
	}

	carnet_doc doc;
	carnet_doc__init(&doc);
	const char *title;
	size_t title_len;
	first_line(data, len, &title, &title_len);
	if (carnet_doc__set(&doc.title, title, title_len) != 0 ||
	    carnet_doc__sets(&doc.format, "text") != 0 ||
	    carnet_doc__add_section(&doc, CARNET_WEIGHT_BODY, data, len) != 0) {
		rc = carnet_error__set(err, CARNET_E_NOMEM,
				       CARNET_ORIGIN_CARNET, 0,
				       "%s: out of memory", in->path);
	} else {
		rc = sink(&doc, payload);
	}
	carnet_doc__clear(&doc);
	carnet_buf__free(&conv);
	return rc;
}

const carnet_reader carnet_reader_text = { "text", CARNET_READER_NEEDS_SIDECAR,
					  sniff, read_text };
