/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fuzz_snippet.c - libFuzzer harness for the passage of a hit: the first
 * line of the input is the words searched, the rest the document's text
 * (skipped unless UTF-8, as the indexer keeps only UTF-8). The text is
 * read 64 bytes at a time and block by block: the same text moved by 1,
 * 32 or 63 leading spaces (other steps, other blocks, the same tokens)
 * must give the same passage, byte for byte, for each of the words the
 * index might say the document holds (all, the first, none). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "snippet.h"
#include "text.h"
#include "textpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define WORDS_MAX 6

/* The passage of text[0..len) for marks m (held: the marked words the
 * document holds), or NULL when it is refused (as a damaged text would). */
static char *passage(carnet_marks *m, uint64_t held, const char *text, size_t len)
{
	carnet_buf packed = CARNET_BUF_INIT, out = CARNET_BUF_INIT;
	carnet_textpack_reader r = { 0 };
	carnet_error err;
	char *s = NULL;
	if (carnet_textpack__pack(&packed, text, len) != 0)
		abort(); /* a text of the stored size always packs */
	if (carnet_textpack__open(&r, packed.data ? packed.data : "", packed.len, &err) ==
		    CARNET_OK &&
	    carnet_snippet__make(&out, &r, m, held, 28, &err) == CARNET_OK)
		s = carnet_buf__detach(&out);
	carnet_textpack__reader_free(&r);
	carnet_buf__free(&packed);
	carnet_buf__free(&out);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *nl = memchr(in, '\n', size);
	if (!nl || size - (size_t)(nl + 1 - in) > CARNET_STORED_TEXT_MAX - 64)
		return 0;
	const char *text = nl + 1;
	size_t len = size - (size_t)(text - in);
	if (carnet_text__utf8_valid(in, size, NULL) != 0)
		return 0;
	/* the words as a query gives them: folded, split at spaces */
	carnet_buf folded = CARNET_BUF_INIT;
	carnet_error err;
	if (carnet_text__fold(&folded, in, (size_t)(nl - in), &err) != CARNET_OK) {
		carnet_buf__free(&folded);
		return 0;
	}
	const char *words[WORDS_MAX];
	size_t count = 0;
	char *save = NULL;
	for (char *p = folded.data ? strtok_r(folded.data, " \t", &save) : NULL;
	     p && count < WORDS_MAX; p = strtok_r(NULL, " \t", &save))
		if (strlen(p) < 60)
			words[count++] = p;
	carnet_marks m;
	memset(&m, 0, sizeof m);
	if (count && carnet_snippet__marks(&m, words, count, count, &err) == CARNET_OK) {
		char *moved = malloc(len + 64);
		const uint64_t helds[] = { ~(uint64_t)0, 1, 0 };
		for (size_t h = 0; moved && h < sizeof helds / sizeof helds[0]; h++) {
			char *first = passage(&m, helds[h], text, len);
			for (size_t k = 1; k < 64; k += 31) {
				memset(moved, ' ', k);
				memcpy(moved + k, text, len);
				char *again = passage(&m, helds[h], moved, len + k);
				if ((first == NULL) != (again == NULL) ||
				    (first && strcmp(first, again) != 0))
					abort();
				free(again);
			}
			free(first);
		}
		free(moved);
		carnet_snippet__marks_free(&m);
	}
	carnet_buf__free(&folded);
	return 0;
}
