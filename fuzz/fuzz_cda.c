/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_cda.c - libFuzzer harness for the CDA reader. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read(&carnet_reader_cda, "fuzz.xml", data, size);
	return 0;
}
