/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pdf_extractor.h - the PDF extractor process of each extraction thread,
 * kept from one PDF to the next (read_pdf.c judges what it answers). */
#ifndef CARNET_INDEXER_PDF_EXTRACTOR_H
#define CARNET_INDEXER_PDF_EXTRACTOR_H

#include <limits.h>
#include <sys/types.h>

#include "reader.h"

/* Under AddressSanitizer an extractor needs a huge address space for its
 * shadow memory: UNDER_ASAN is defined, and no RLIMIT_AS is set then (the
 * tests read it too). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Largest text taken from one PDF. */
#define CARNET_PDF_TEXT_MAX ((size_t)64 * 1024 * 1024)

/* Documents one extractor serves before a fresh one replaces it. poppler,
 * glib and fontconfig keep caches that grow with what they have read, and
 * a leak in them would grow with every document: 128 documents bound
 * both, far below the memory limit, while the start of an extractor
 * (about 40 ms: loading poppler, glib and cairo) costs 0.3 ms a PDF. */
#define CARNET_PDF_SERVE_MAX 128

/* Room for the extractor's path. */
#define CARNET_PDF_PROG_MAX (PATH_MAX + 64)

/* How an exchange with the extractor ended. */
typedef enum carnet_pdf_end {
	CARNET_PDF_ANSWERED,  /* a whole answer, in the protocol */
	CARNET_PDF_GONE,      /* the extractor ended (crashed, could not run) */
	CARNET_PDF_TIMED_OUT, /* no whole answer within the PDF's time */
	CARNET_PDF_TOO_BIG,   /* a text over CARNET_PDF_TEXT_MAX */
	CARNET_PDF_GARBAGE,   /* an answer out of the protocol */
	CARNET_PDF_NOMEM      /* no memory for the text */
} carnet_pdf_end;

typedef struct carnet_pdf_answer {
	carnet_pdf_end end;
	char verdict; /* the status byte (pdftext.h), 0 if none came */
	int status;   /* unless ANSWERED, how the extractor ended (waitpid) */
} carnet_pdf_answer;

/* Give the PDF data[0..len) to the calling thread's extractor and append
 * the text it answers to out (nothing unless ANSWERED with
 * CARNET_PDFTEXT_OK), all within limits->pdf_seconds and one more. The
 * extractor is prog, started on the thread's first PDF, or again when the
 * previous one ended, ran another program or under other limits, served
 * its share of documents or grew past half its memory limit; after any
 * end but ANSWERED it is killed
 * and reaped, so the next PDF gets a fresh one. CARNET_OK with *a filled
 * in, or CARNET_E_INTERNAL when no extractor could be started (socket,
 * fork). */
int carnet_pdf__exchange(carnet_pdf_answer *a, carnet_buf *out, const char *prog,
			 const char *data, size_t len, const carnet_limits *limits,
			 carnet_error *err);

/* The process id of the calling thread's extractor, 0 if none runs (for
 * the tests). */
pid_t carnet_pdf__extractor_pid(void);

#endif
