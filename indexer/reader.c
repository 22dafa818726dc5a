/* reader.c - choosing the reader for an input. */
#include "reader.h"

#include <string.h>

static const carnet_reader *const readers[] = {
	&carnet_reader_text,
};

const carnet_reader *carnet_reader__find(const carnet_input *in)
{
	const carnet_reader *best = NULL;
	int best_score = 0;
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		int s = readers[i]->sniff(in);
		if (s > best_score) {
			best = readers[i];
			best_score = s;
		}
	}
	return best;
}

void carnet_reader__extension(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strrchr(base, '.');
	size_t n = 0;
	if (dot && dot != base) {
		for (const char *p = dot + 1; *p && n + 1 < size; p++) {
			char c = *p;
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			out[n++] = c;
		}
	}
	if (size)
		out[n] = '\0';
}
