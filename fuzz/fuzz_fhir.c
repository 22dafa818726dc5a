/* fuzz_fhir.c - libFuzzer harness for the FHIR R4 JSON reader (and, through
 * its attachments, the CDA, HTML and text readers it calls). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

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
	carnet_limits limits = { CARNET_DEFAULT_INPUT_BYTES, CARNET_DEFAULT_PDF_SECONDS,
				 CARNET_DEFAULT_PDF_MEMORY_BYTES };
	carnet_input in = { "fuzz.json", buf, size, &limits };
	carnet_error err;
	carnet_reader_fhir.read(&in, sink, NULL, &err);
	free(buf);
	return 0;
}
