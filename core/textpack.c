/* SPDX-License-Identifier: GPL-2.0-or-later */
/* textpack.c - the stored text of a document, compressed with Zstandard. */
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
	size_t cap = ZSTD_compressBound(len);
	if (carnet_buf__grow(out, cap) != 0)
		return -1;
	/* level 1: the text is read for a page of snippets, often; written
	 * once */
	size_t n = ZSTD_compress(out->data + out->len, cap, text, len, 1);
	if (ZSTD_isError(n))
		return -1;
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

int carnet_textpack__unpack(char **out, size_t *len, const char *v, size_t n,
			    carnet_error *err)
{
	*out = NULL;
	*len = 0;
	unsigned long long size = n ? ZSTD_getFrameContentSize(v, n) : 0;
	if (size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ||
	    size > CARNET_STORED_TEXT_MAX || (n && ZSTD_findFrameCompressedSize(v, n) != n))
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "index damaged: a document's stored text is not a "
					 "frame carnet wrote; nothing is returned (rebuild the "
					 "index)");
	char *text = malloc((size_t)size + 1);
	if (!text)
		return carnet_error__nomem(err, "reading a document's text");
	size_t got = size ? ZSTD_decompress(text, (size_t)size, v, n) : 0;
	if (ZSTD_isError(got) || got != size) {
		free(text);
		return carnet_error__set(err, CARNET_E_CORRUPT, CARNET_ORIGIN_CARNET, 0,
					 "index damaged: a document's stored text does not "
					 "decode; nothing is returned (rebuild the index)");
	}
	text[got] = '\0';
	*out = text;
	*len = got;
	return CARNET_OK;
}
