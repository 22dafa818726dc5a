/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_pdf.c - libFuzzer harness for the PDF reader. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read(&carnet_reader_pdf, "fuzz.pdf", data, size);
	return 0;
}
