/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_text.c - libFuzzer harness for the plain text reader and the sidecar
 * parser: the same bytes are read as a text file and as a FILE.meta.json. */
#include "harness.h"
#include "sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read(&carnet_reader_text, "fuzz.txt", data, size);
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	carnet_error err;
	carnet_doc meta;
	carnet_doc__init(&meta);
	meta.version = 0;
	carnet_sidecar__parse(&meta, "fuzz.txt.meta.json", buf, size, &err);
	carnet_doc__clear(&meta);
	free(buf);
	return 0;
}
