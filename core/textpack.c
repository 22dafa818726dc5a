/* SPDX-License-Identifier: GPL-2.0-or-later */
/* textpack.c - the stored text of a document, compressed with Zstandard,
 * and read back whole or one block at a time. */
#include "textpack.h"

#include <stdlib.h>
/* for two experimental parameters (ZSTD_c_literalCompressionMode,
 * ZSTD_d_stableOutBuffer), each left at its default where it is unknown */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "schema.h"

int carnet_textpack__pack(carnet_buf *out, const char *text, size_t len)
{
	if (len == 0)
		return 0;
	if (len > CARNET_STORED_TEXT_MAX)
		return -1;
	size_t cap = ZSTD_compressBound(len) + 16;
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	if (!cc || carnet_buf__grow(out, cap) != 0) {
		ZSTD_freeCCtx(cc);
		return -1;
	}
	/* level 1: the text is read for a page of snippets, often; written
	 * once. The size recorded in the frame. Blocks of CARNET_TEXT_PIECE
	 * bytes, then twice as many each time, so that most snippets decode
	 * the first alone and none decodes much more than twice what it
	 * reads; literals left uncompressed (about a quarter larger; twice as
	 * fast to decode, with no table to build per block), when this
	 * libzstd knows how. */
	ZSTD_outBuffer o = { out->data + out->len, cap, 0 };
	size_t r = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
	if (!ZSTD_isError(r))
		(void)ZSTD_CCtx_setParameter(cc, ZSTD_c_literalCompressionMode, ZSTD_ps_disable);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(cc, len);
	for (size_t p = 0, piece = CARNET_TEXT_PIECE; p < len && !ZSTD_isError(r); piece *= 2) {
		size_t e = len - p > piece ? p + piece : len;
		ZSTD_inBuffer in = { text + p, e - p, 0 };
		r = ZSTD_compressStream2(cc, &o, &in, e == len ? ZSTD_e_end : ZSTD_e_flush);
		if (!ZSTD_isError(r) && (r != 0 || in.pos != in.size))
			r = (size_t)-1; /* room was made for all of it */
		p = e;
	}
	ZSTD_freeCCtx(cc);
	if (ZSTD_isError(r))
		return -1;
	out->len += o.pos;
	out->data[out->len] = '\0';
	return 0;
}

static int damaged(carnet_error *err, const char *why)
{
	return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
				 "index damaged: a document's stored text %s; nothing is "
				 "returned (rebuild the index)", why);
}

static const char not_a_frame[] = "is not a frame carnet wrote";
static const char no_decode[] = "does not decode";

/* The size of the frame header that starts v[0..n) (RFC 8878, 3.1.1.1),
 * 0 when it does not fit. */
static size_t header_size(const char *v, size_t n)
{
	if (n < 5)
		return 0;
	unsigned char fhd = (unsigned char)v[4];
	static const unsigned char dict_id[4] = { 0, 1, 2, 4 }, content[4] = { 0, 2, 4, 8 };
	unsigned single = fhd >> 5 & 1, fcs = fhd >> 6;
	size_t h = 5 + !single + dict_id[fhd & 3] + (fcs == 0 ? single : content[fcs]);
	return h <= n ? h : 0;
}

/* The end in r's frame of the block that starts at r->in_end (its
 * header, RFC 8878, 3.1.1.2), and of the frame for the last one; 0 when it
 * does not fit. */
static size_t block_end(const carnet_textpack_reader *r)
{
	const unsigned char *b = (const unsigned char *)r->in + r->in_end;
	if (r->in_len - r->in_end < 3)
		return 0;
	unsigned long h = b[0] | (unsigned long)b[1] << 8 | (unsigned long)b[2] << 16;
	size_t stored = (h >> 1 & 3) == 1 ? 1 : h >> 3; /* an RLE block: one byte */
	if (r->in_len - r->in_end - 3 < stored)
		return 0;
	return h & 1 ? r->in_len : r->in_end + 3 + stored;
}

void carnet_textpack__reader_free(carnet_textpack_reader *r)
{
	ZSTD_freeDCtx(r->dctx);
	free(r->text);
	r->dctx = NULL;
	r->text = NULL;
}

int carnet_textpack__open(carnet_textpack_reader *r, const char *v, size_t n,
			  carnet_error *err)
{
	free(r->text);
	r->text = NULL;
	r->size = r->avail = r->in_pos = r->in_end = 0;
	r->in = v;
	r->in_len = n;
	unsigned long long size = n ? ZSTD_getFrameContentSize(v, n) : 0;
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
	    size > CARNET_STORED_TEXT_MAX || (n && ZSTD_findFrameCompressedSize(v, n) != n))
		return damaged(err, not_a_frame);
	if (!(r->text = malloc((size_t)size + 1)))
		return carnet_error__nomem(err, "reading a document's text");
	if (size && !r->dctx) {
		if (!(r->dctx = ZSTD_createDCtx()))
			return carnet_error__nomem(err, "reading a document's text");
		/* decoded straight into r->text (its address and size stay the
		 * same while a text is read), not through a window of the
		 * decoder's: when this libzstd knows how */
		(void)ZSTD_DCtx_setParameter(r->dctx, ZSTD_d_stableOutBuffer, 1);
	}
	r->text[0] = '\0';
	r->size = (size_t)size;
	if (size && ZSTD_isError(ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only)))
		return damaged(err, no_decode);
	if (size && (r->in_end = header_size(v, n)) == 0)
		return damaged(err, not_a_frame);
	return CARNET_OK;
}

int carnet_textpack__more(carnet_textpack_reader *r, carnet_error *err)
{
	/* the decoder is given one block more at a time (it would decode a
	 * block ahead of the room it is given), until some text comes out */
	ZSTD_outBuffer o = { r->text, r->size, r->avail };
	size_t left = 1;
	while (o.pos == r->avail && r->avail < r->size) {
		size_t end = block_end(r);
		if (end == 0)
			return damaged(err, no_decode);
		ZSTD_inBuffer in = { r->in, end, r->in_pos };
		left = ZSTD_decompressStream(r->dctx, &o, &in);
		if (ZSTD_isError(left) || in.pos != end || (end == r->in_len) != (left == 0))
			return damaged(err, no_decode);
		r->in_pos = r->in_end = end;
		if (end == r->in_len && o.pos != r->size)
			return damaged(err, no_decode);
	}
	r->avail = o.pos;
	r->text[r->avail] = '\0';
	return CARNET_OK;
}
