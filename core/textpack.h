/* SPDX-License-Identifier: GPL-2.0-or-later */
/* textpack.h - a document's stored text (what snippets are made from),
 * compressed by carnet before it goes into its value slot. Xapian would
 * deflate it as document data; a Zstandard frame at level 1 is about as
 * small and several times cheaper to make and to read back, and a snippet
 * decodes only the blocks it reads. */
#ifndef CARNET_CORE_TEXTPACK_H
#define CARNET_CORE_TEXTPACK_H

#include <stddef.h>

#include "buf.h"
#include "error.h"

/* The first this many bytes of a text are a Zstandard block of their own,
 * the next twice as many another, and so on: a reader decodes the blocks
 * it reads and no more (most snippets are found in the first). A frame of
 * one block or two (the first piece and the rest), as carnet wrote
 * before, reads the same. */
#define CARNET_TEXT_PIECE 2048

/* Append to out text[0..len) (len at most CARNET_STORED_TEXT_MAX) as one
 * Zstandard frame that records its size, its blocks ended after
 * CARNET_TEXT_PIECE bytes, then 2, 4, 8... times as many; nothing for an
 * empty text. Returns 0, or -1
 * when memory runs out or the text is too long. */
int carnet_textpack__pack(carnet_buf *out, const char *text, size_t len);

/* A packed text read block by block: text[0..avail) is decoded (and
 * text[avail] is '\0'), out of size bytes. Zero-initialise; the decoder
 * is kept from one text to the next; free with
 * carnet_textpack__reader_free. */
typedef struct carnet_textpack_reader {
	struct ZSTD_DCtx_s *dctx;
	char *text;
	size_t size, avail;
	const char *in;  /* the packed value, borrowed */
	size_t in_len, in_pos, in_end; /* its length, what the decoder took,
					  where its next block starts */
} carnet_textpack_reader;

/* Start reading the text packed in v[0..n) (borrowed until the last
 * carnet_textpack__more; n == 0: the empty text): its size checked,
 * nothing decoded yet. A value that is not a frame
 * carnet_textpack__pack made (wrong magic, no recorded size, a size over
 * CARNET_STORED_TEXT_MAX, blocks that do not add up to n bytes) is a
 * damaged index: CARNET_E_CORRUPT. CARNET_E_NOMEM otherwise. */
int carnet_textpack__open(carnet_textpack_reader *r, const char *v, size_t n,
			  carnet_error *err);

/* Decode the next block (avail grows, up to size; nothing once avail ==
 * size). A block that does not decode, or a frame whose blocks do not
 * decode to its recorded size: CARNET_E_CORRUPT. */
int carnet_textpack__more(carnet_textpack_reader *r, carnet_error *err);

void carnet_textpack__reader_free(carnet_textpack_reader *r);

#endif
