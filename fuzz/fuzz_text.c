/* fuzz_text.c - libFuzzer harness for the plain text reader and the sidecar
 * parser: the same bytes are read as a text file and as a FILE.meta.json. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "sidecar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(carnet_doc *doc, void *payload)
{
	(void)doc;
	(void)payload;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, 5, CARNET_DEFAULT_PDF_MEMORY_BYTES };
	carnet_input in = { "fuzz.txt", buf, size, &limits };
	carnet_error err;
	carnet_reader_text.read(&in, sink, NULL, &err);
	carnet_doc meta;
	carnet_doc__init(&meta);
	meta.version = 0;
	carnet_sidecar__parse(&meta, "fuzz.txt.meta.json", buf, size, &err);
	carnet_doc__clear(&meta);
	free(buf);
	return 0;
}
