/* SPDX-License-Identifier: GPL-2.0-or-later */
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
#define CARNET_DEFAULT_DOC_MILLISECONDS 30000

typedef struct carnet_limits {
	uint64_t input_bytes;      /* largest input file read */
	unsigned pdf_seconds;      /* CPU and wall time for one PDF extraction */
	uint64_t pdf_memory_bytes; /* address space of the PDF extractor */
	uint64_t doc_ms;           /* wall time to read one input; 0: none */
} carnet_limits;

/* Structural limits of the inputs, checked before a parser sees them
 * (README, Inputs). The elements, attributes or JSON values of one parse
 * are at most the input size limit / CARNET_BYTES_PER_NODE (at least
 * CARNET_MIN_NODES), which bounds the memory of its tree. */
#define CARNET_MAX_ATTRIBUTES 256     /* per element; declared by ATTLIST */
#define CARNET_MAX_DEPTH 256          /* nested elements */
#define CARNET_MAX_NAME_BYTES 1000    /* element and attribute names */
#define CARNET_MAX_VALUE_BYTES 10000000 /* an attribute value, an HTML text */
#define CARNET_MAX_JSON_DEPTH 100
#define CARNET_MAX_JSON_MEMBERS 1000000 /* of one array or object */
#define CARNET_BYTES_PER_NODE 32
#define CARNET_MIN_NODES 100000

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

/* Is the media type m (what comes before any ';' or blank) want, in any
 * case? */
int carnet_reader__mime_is(const char *m, const char *want);

/* Add the text of embedded content (a CDA nonXMLBody, a FHIR attachment)
 * to doc as a body section. mime is its media type (text/plain,
 * text/html, application/xhtml+xml, application/pdf; any parameters after
 * ';' ignored). Bad content returns a negative code with err naming
 * in->path; CARNET_E_UNSUPPORTED_FORMAT for another type. */
int carnet_reader__embedded(carnet_doc *doc, const carnet_input *in,
			    const char *mime, const char *data, size_t len,
			    carnet_error *err);

/* Memory ran out reading path: CARNET_E_NOMEM naming path; or, when the
 * time budget has run out (the walks stop as they do for memory), the
 * budget's error. */
int carnet_reader__nomem(carnet_error *err, const char *path);

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
 * itself cannot run (fork, socket). The child process serves the calling
 * thread's next PDFs too (pdf_extractor.h), until
 * carnet_pdf__stop_extractor, the thread's end or the program's exit. */
int carnet_pdf__extract(carnet_buf *out, const char *path, const char *data,
			size_t len, const carnet_limits *limits,
			carnet_error *err);

/* Stop the calling thread's PDF extractor, if it has one, and reap it
 * (the writer does when it closes, each extraction thread when it ends;
 * a thread's end and the program's exit do it too). */
void carnet_pdf__stop_extractor(void);

/* The visible text of an HTML or XHTML document appended to out (scripts
 * and styles left out, block elements separated by newlines), its <title>
 * to title (if not NULL). No network access, no external entities. */
int carnet_html__extract(carnet_buf *out, carnet_buf *title, const char *path,
			 const char *data, size_t len, carnet_error *err);

/* The time budget of the input this thread reads (limits->doc_ms from
 * now; none when 0 or limits is NULL): readers and the indexing of its
 * documents call carnet_budget__over at points reached regularly and stop
 * when it returns 1; carnet_budget__fail then says so, naming path
 * (CARNET_E_INVALID: the input is rejected). Expiry is sticky until the
 * next start or stop. */
void carnet_budget__start(const carnet_limits *limits);
void carnet_budget__stop(void);
/* Time between pause and resume (the PDF extractor, which has its own
 * limit) does not count. */
void carnet_budget__pause(void);
void carnet_budget__resume(void);
int carnet_budget__over(void);
int carnet_budget__expired(void);
int carnet_budget__fail(carnet_error *err, const char *path);

/* Most elements, attributes or JSON values one parse may hold: from the
 * input size limit of limits, or when NULL of the input being read. */
uint64_t carnet_budget__max_nodes(const carnet_limits *limits);

/* The structural limits of XML (html 0: any encoding libxml2 detects;
 * the encodings whose markup is not ASCII are refused) or HTML (html 1:
 * ASCII-compatible bytes) in data[0..len): attributes per element and
 * declared by ATTLIST, names and attribute values, elements and
 * attributes in all. CARNET_E_INVALID naming path and the limit. */
int carnet_markup__check(const char *path, const char *data, size_t len, int html,
			 const carnet_limits *limits, carnet_error *err);

/* The structural limits of JSON: nesting depth, members of an array or
 * object, values in all. CARNET_E_INVALID naming path and the limit. */
int carnet_json__check(const char *path, const char *data, size_t len,
		       const carnet_limits *limits, carnet_error *err);

/* The readers. */
extern const carnet_reader carnet_reader_text;
extern const carnet_reader carnet_reader_html;
extern const carnet_reader carnet_reader_pdf;
extern const carnet_reader carnet_reader_cda;
extern const carnet_reader carnet_reader_fhir;

#endif
