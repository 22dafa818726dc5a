/* SPDX-License-Identifier: GPL-2.0-or-later */
/* harness.h - what the reader fuzz harnesses share: run one reader over
 * the fuzzer's bytes as a NUL-terminated input, discarding its documents. */
#ifndef CARNET_FUZZ_HARNESS_H
#define CARNET_FUZZ_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fuzz_sink(carnet_doc *doc, void *payload)
{
	(void)doc;
	(void)payload;
	return 0;
}

/* Read data as the file `name` with reader r. */
static inline void fuzz_read(const carnet_reader *r, const char *name,
			     const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return;
	memcpy(buf, data, size);
	buf[size] = '\0';
	carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, 5, CARNET_DEFAULT_PDF_MEMORY_BYTES, 0 };
	carnet_input in = { name, buf, size, &limits };
	carnet_error err;
	r->read(&in, fuzz_sink, NULL, &err);
	free(buf);
}

#endif
