/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_textpack.c - libFuzzer harness for the stored text's reader: the
 * bytes read block by block as a packed value (what a damaged index would
 * hold) must give zstd's own answer or an error, and packed as a text they
 * must read back whole. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "schema.h"
#include "textpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The text of v[0..n) read block by block, or NULL. */
static char *read_blocks(const char *v, size_t n, size_t *len)
{
	carnet_textpack_reader r = { 0 };
	carnet_error err;
	int rc = carnet_textpack__open(&r, v, n, &err);
	while (rc == CARNET_OK && r.avail < r.size) {
		size_t before = r.avail;
		rc = carnet_textpack__more(&r, &err);
		if (rc == CARNET_OK && (r.avail <= before || r.text[r.avail] != '\0'))
			abort(); /* no progress, or no '\0' after what is there */
	}
	char *text = rc == CARNET_OK ? r.text : NULL;
	*len = r.size;
	r.text = NULL;
	carnet_textpack__reader_free(&r);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *v = (const char *)data;
	size_t len;
	char *text = read_blocks(v, size, &len);
	if (text && size) {
		/* what it read is what zstd decodes from the same bytes */
		char *z = malloc(len + 1);
		if (!z || ZSTD_decompress(z, len + 1, v, size) != len || memcmp(z, text, len) != 0)
			abort();
		free(z);
	}
	free(text);
	if (size > CARNET_STORED_TEXT_MAX)
		return 0;
	carnet_buf packed = CARNET_BUF_INIT;
	if (carnet_textpack__pack(&packed, v, size) != 0)
		abort();
	text = read_blocks(packed.data ? packed.data : "", packed.len, &len);
	if (!text || len != size || memcmp(text, data, size) != 0)
		abort();
	free(text);
	carnet_buf__free(&packed);
	return 0;
}
