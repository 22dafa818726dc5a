/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_html.c - libFuzzer harness for the HTML reader. */
#include "harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_read(&carnet_reader_html, "fuzz.html", data, size);
	return 0;
}
