/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_fhir.c - libFuzzer harness for the FHIR R4 JSON reader (and, through
 * its attachments, the CDA, HTML and text readers it calls). */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read(&carnet_reader_fhir, "fuzz.json", data, size);
	return 0;
}
