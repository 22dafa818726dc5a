/* reader.h - the reader interface: one reader per input format turns the
 * bytes of a file into documents in memory, or rejects it with a reason.
 * Readers know nothing of Xapian or sqlite. */
#ifndef CARNET_INDEXER_READER_H
#define CARNET_INDEXER_READER_H

#include <stddef.h>
#include <stdint.h>

#include "doc.h"

/* Default limits (carnet_writer_set_limit changes them). */
#define CARNET_DEFAULT_INPUT_BYTES ((uint64_t)64 * 1024 * 1024)
#define CARNET_DEFAULT_PDF_SECONDS 30
#define CARNET_DEFAULT_PDF_MEMORY_BYTES ((uint64_t)1024 * 1024 * 1024)

typedef struct carnet_limits {
	uint64_t input_bytes;      /* largest input file read */
	unsigned pdf_seconds;      /* CPU and wall time for one PDF extraction */
	uint64_t pdf_memory_bytes; /* address space of the PDF extractor */
} carnet_limits;

typedef struct carnet_input {
	const char *path;             /* for messages and the extension */
	const char *data;             /* whole file content, NUL-terminated */
	size_t len;
	const carnet_limits *limits;
} carnet_input;

/* Receives each document a reader produces. The document stays owned by
 * the reader, which clears it after the call; non-zero return stops the
 * reader, which then returns that value. */
typedef int (*carnet_doc_sink)(carnet_doc *doc, void *payload);

/* err->sys_code of an input refused for whom it belongs to (several or
 * disagreeing patients): a container carrying it as an attachment is
 * refused too, never filed under its own patient. */
#define CARNET_READER_PATIENT_CONFLICT 0x7a71

/* The reader needs a sidecar FILE.meta.json (its format carries no patient). */
#define CARNET_READER_NEEDS_SIDECAR 1u

typedef struct carnet_reader {
	const char *name;
	unsigned flags;
	/* How sure the reader is that the input is its format: 0 = not mine,
	 * 1..100. Looks at the extension and first bytes only. */
	int (*sniff)(const carnet_input *in);
	/* Emit the documents of in. A bad input returns a negative code with
	 * err filled (origin CARNET_ORIGIN_INPUT, message naming the path and
	 * the reason, never document text). */
	int (*read)(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err);
} carnet_reader;

/* Prepare the readers' libraries for use from several threads; call once
 * from the main thread before starting extraction threads. Idempotent. */
void carnet_reader__init_threads(void);

/* The reader most sure of in, or NULL when none claims it. */
const carnet_reader *carnet_reader__find(const carnet_input *in);

/* Extension of path ("txt"), lower-cased into out; "" when none. */
void carnet_reader__extension(const char *path, char *out, size_t size);

/* Add the text of embedded content (a CDA nonXMLBody, a FHIR attachment)
 * to doc as a section of the given weight. mime is its media type
 * (text/plain, text/html, application/xhtml+xml, application/pdf; any
 * parameters after ';' ignored). Bad content returns a negative code with
 * err naming in->path; CARNET_E_UNSUPPORTED_FORMAT for another type. */
int carnet_reader__embedded(carnet_doc *doc, const carnet_input *in,
			    const char *mime, const char *data, size_t len,
			    unsigned weight, carnet_error *err);

/* Emit one document of the given format made of text[0..len): its title
 * is title[0..title_len) when not empty, else the first non-blank line of
 * the text (at most 200 bytes, cut on a UTF-8 boundary); the text is one
 * body section when not empty. Returns the sink's value, or
 * CARNET_E_NOMEM naming in->path. */
int carnet_reader__emit_text(const carnet_input *in, const char *format,
			     const char *title, size_t title_len,
			     const char *text, size_t len, carnet_doc_sink sink,
			     void *payload, carnet_error *err);

/* Plain text (UTF-8, else Windows-1252) appended to out as UTF-8.
 * Rejects binary content. */
int carnet_reader__plain_text(carnet_buf *out, const char *path,
			      const char *data, size_t len, carnet_error *err);

/* The text of a PDF, appended to out; extracted in a child process under
 * the PDF limits of in, so a crashing or hanging parser only costs this
 * input. A PDF without text (a scanned document) appends nothing and is
 * not an error. A bad PDF (corrupt, encrypted, empty) returns
 * CARNET_E_INVALID naming path; CARNET_E_INTERNAL when the extractor
 * itself cannot run (fork, pipe). */
int carnet_pdf__extract(carnet_buf *out, const char *path, const char *data,
			size_t len, const carnet_limits *limits,
			carnet_error *err);

/* The visible text of an HTML or XHTML document appended to out (scripts
 * and styles left out, block elements separated by newlines), its <title>
 * to title (if not NULL). No network access, no external entities. */
int carnet_html__extract(carnet_buf *out, carnet_buf *title, const char *path,
			 const char *data, size_t len, carnet_error *err);

/* The readers. */
extern const carnet_reader carnet_reader_text;
extern const carnet_reader carnet_reader_html;
extern const carnet_reader carnet_reader_pdf;
extern const carnet_reader carnet_reader_cda;
extern const carnet_reader carnet_reader_fhir;

#endif
