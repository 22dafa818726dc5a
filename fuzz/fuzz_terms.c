/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_terms.c - libFuzzer harness: carnet's terms and query words of any
 * text against Xapian's TermGenerator on the same text; aborts on any
 * difference. The first byte chooses the language, prefix, weight, whether
 * the text is cut in two fields and whether bytes >= 0x80 are kept. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "terms_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	static const char *const langs[] = { "french", "english", "none", "french" };
	unsigned flags = data[0];
	size_t len = size - 1;
	char *text = malloc(len + 1);
	if (!text)
		return 0;
	for (size_t i = 0; i < len; i++)
		text[i] = (char)((flags & 0x20) ? data[i + 1] : data[i + 1] & 0x7f);
	text[len] = '\0';
	const char *prefix = (flags & 4) ? "S" : "";
	unsigned weight = (flags & 8) ? 3 : 1;
	size_t cut = (flags & 0x10) ? len / 2 : len;
	carnet_xtext texts[2] = { { text, cut, weight, prefix },
				  { text + cut, len - cut, 1, "" } };
	char why[512];
	int rc = terms_compare(texts, cut < len ? 2 : 1, langs[flags & 3], why, sizeof why);
	if (rc != 0) {
		fprintf(stderr, "fuzz_terms: %s\n", why);
		abort();
	}
	free(text);
	return 0;
}
