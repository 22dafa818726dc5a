/* SPDX-License-Identifier: GPL-2.0-or-later */
/* textpack.h - a document's stored text (what snippets are made from),
 * compressed by carnet before it goes into its value slot. Xapian would
 * deflate it as document data; a Zstandard frame at level 1 is about as
 * small and several times cheaper to make and to read back. */
#ifndef CARNET_CORE_TEXTPACK_H
#define CARNET_CORE_TEXTPACK_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* Append to out text[0..len) (len at most CARNET_STORED_TEXT_MAX) as one
 * Zstandard frame that records its size; nothing for an empty text.
 * Returns 0, or -1 when memory runs out or the text is too long. */
int carnet_textpack__pack(carnet_buf *out, const char *text, size_t len);

/* The text packed in v[0..n) into *out (malloc'd, NUL-terminated; to
 * free) and its length into *len; "" for n == 0. A value that is not a
 * frame carnet_textpack__pack made (wrong magic, no recorded size, a size
 * over CARNET_STORED_TEXT_MAX, or a frame that does not decode to that
 * size) is a damaged index: CARNET_E_CORRUPT. CARNET_E_NOMEM otherwise. */
int carnet_textpack__unpack(char **out, size_t *len, const char *v, size_t n,
			    carnet_error *err);

#endif
