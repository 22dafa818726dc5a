/* reader.h - the reader interface: one reader per input format turns the
 * bytes of a file into documents in memory, or rejects it with a reason.
 * Readers know nothing of Xapian or sqlite. */
#ifndef CARNET_INDEXER_READER_H
#define CARNET_INDEXER_READER_H

#include <stddef.h>

#include "doc.h"

/* Longest input file read, in bytes. */
#define CARNET_INPUT_MAX ((size_t)256 * 1024 * 1024)

typedef struct carnet_input {
	const char *path;  /* for messages and the extension */
	const char *data;  /* whole file content */
	size_t len;
} carnet_input;

/* Receives each document a reader produces. The document stays owned by
 * the reader, which clears it after the call; non-zero return stops the
 * reader, which then returns that value. */
typedef int (*carnet_doc_sink)(carnet_doc *doc, void *payload);

typedef struct carnet_reader {
	const char *name;
	/* How sure the reader is that the input is its format: 0 = not mine,
	 * 1..100. Looks at the extension and first bytes only. */
	int (*sniff)(const carnet_input *in);
	/* Emit the documents of in. A bad input returns a negative code with
	 * err filled (origin CARNET_ORIGIN_INPUT, message naming the reason). */
	int (*read)(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err);
} carnet_reader;

/* The reader most sure of in, or NULL when none claims it. */
const carnet_reader *carnet_reader__find(const carnet_input *in);

/* Extension of path ("txt"), lower-cased into out; "" when none. */
void carnet_reader__extension(const char *path, char *out, size_t size);

/* The readers. */
extern const carnet_reader carnet_reader_text;

#endif
