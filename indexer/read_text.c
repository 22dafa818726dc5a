/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_text.c - plain text reader: UTF-8 (or Windows-1252) text; the title
 * is the first non-empty line. Everything else comes from the sidecar. */
#include "reader.h"

#include <string.h>

static int sniff(const carnet_input *in)
{
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	if (strcmp(ext, "txt") == 0 || strcmp(ext, "text") == 0 ||
	    strcmp(ext, "asc") == 0)
		return 50;
	return 0;
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
	if (carnet_budget__over()) {
		carnet_buf__free(&conv);
		return carnet_budget__fail(err, in->path);
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

	rc = carnet_reader__emit_text(in, "text", NULL, 0, data, len, sink, payload, err);
	carnet_buf__free(&conv);
	return rc;
}

const carnet_reader carnet_reader_text = { "text", CARNET_READER_NEEDS_SIDECAR,
					  sniff, read_text };
