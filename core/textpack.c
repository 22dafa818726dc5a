/* SPDX-License-Identifier: GPL-2.0-or-later */
/* textpack.c - the stored text of a document, compressed with Zstandard in
 * pieces that decode one after the other. */
#include "textpack.h"

#include <stdlib.h>
#include <zstd.h>

#include "schema.h"

int carnet_textpack__pack(carnet_buf *out, const char *text, size_t len)
{
	if (len == 0)
		return 0;
	if (len > CARNET_STORED_TEXT_MAX)
		return -1;
	size_t cap = ZSTD_compressBound(len) + 3 * (len / CARNET_TEXT_PIECE + 1);
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	if (!cc || carnet_buf__grow(out, cap) != 0) {
		ZSTD_freeCCtx(cc);
		return -1;
	}
	/* level 1: the text is read for a page of snippets, often; written
	 * once. The size recorded in the frame; a block ended every piece, so
	 * that a snippet decodes the pieces it reads and no more. */
	ZSTD_outBuffer o = { out->data + out->len, cap, 0 };
	size_t r = ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(cc, len);
	for (size_t p = 0; p < len && !ZSTD_isError(r); p += CARNET_TEXT_PIECE) {
		size_t e = len - p > CARNET_TEXT_PIECE ? p + CARNET_TEXT_PIECE : len;
		ZSTD_inBuffer in = { text + p, e - p, 0 };
		r = ZSTD_compressStream2(cc, &o, &in, e == len ? ZSTD_e_end : ZSTD_e_flush);
		if (!ZSTD_isError(r) && (r != 0 || in.pos != in.size))
			r = (size_t)-1; /* room was made for all of it */
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
	r->size = r->avail = r->in_pos = 0;
	r->in = v;
	r->in_len = n;
	unsigned long long size = n ? ZSTD_getFrameContentSize(v, n) : 0;
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
	    size > CARNET_STORED_TEXT_MAX || (n && ZSTD_findFrameCompressedSize(v, n) != n))
		return damaged(err, not_a_frame);
	if (!(r->text = malloc((size_t)size + 1)) || (size && !r->dctx && !(r->dctx = ZSTD_createDCtx())))
		return carnet_error__nomem(err, "reading a document's text");
	r->text[0] = '\0';
	r->size = (size_t)size;
	if (size && ZSTD_isError(ZSTD_DCtx_reset(r->dctx, ZSTD_reset_session_only)))
		return damaged(err, no_decode);
	return CARNET_OK;
}

int carnet_textpack__more(carnet_textpack_reader *r, carnet_error *err)
{
	if (r->avail == r->size)
		return CARNET_OK;
	/* room for a piece: the decoder stops there, at the latest */
	size_t room = r->size - r->avail > CARNET_TEXT_PIECE ? r->avail + CARNET_TEXT_PIECE
							     : r->size;
	ZSTD_outBuffer o = { r->text, room, r->avail };
	ZSTD_inBuffer in = { r->in, r->in_len, r->in_pos };
	size_t left = ZSTD_decompressStream(r->dctx, &o, &in);
	if (ZSTD_isError(left) || o.pos == r->avail ||
	    (o.pos == r->size) != (left == 0 && in.pos == in.size))
		return damaged(err, no_decode);
	r->avail = o.pos;
	r->in_pos = in.pos;
	r->text[r->avail] = '\0';
	return CARNET_OK;
}

int carnet_textpack__unpack(char **out, size_t *len, const char *v, size_t n,
			    carnet_error *err)
{
	*out = NULL;
	*len = 0;
	carnet_textpack_reader r = { 0 };
	int rc = carnet_textpack__open(&r, v, n, err);
	while (rc == CARNET_OK && r.avail < r.size)
		rc = carnet_textpack__more(&r, err);
	if (rc == CARNET_OK) {
		*out = r.text;
		*len = r.size;
		r.text = NULL;
	}
	carnet_textpack__reader_free(&r);
	return rc;
}
