/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pdftext.h - the protocol between the library and carnet-pdftext: a
 * status byte, then (for OK) the text of every page; one PDF per run, or
 * framed, one PDF after another, in serving mode. */
#ifndef CARNET_INDEXER_PDFTEXT_H
#define CARNET_INDEXER_PDFTEXT_H

#include <stdint.h>

enum {
	CARNET_PDFTEXT_OK = 'T',
	CARNET_PDFTEXT_ENCRYPTED = 'E',
	CARNET_PDFTEXT_DAMAGED = 'D',
	CARNET_PDFTEXT_NO_PAGES = 'P'
};

/* The extractor's name, looked for in $CARNET_PDFTEXT, the libexec
 * directory the library was built for, then beside the running program
 * (and in ../libexec/carnet from it). */
#define CARNET_PDFTEXT_NAME "carnet-pdftext"

/* Serving mode (carnet-pdftext --serve, what the library runs): on
 * standard input, requests, each the length of a PDF then its bytes; on
 * standard output, for each, an answer: the status byte, the length of
 * the text (0 unless OK), the text. Lengths are 8 bytes, least
 * significant first. The extractor exits 0 at the end of its input
 * between two requests. Without --serve: the PDF is all of standard
 * input, and the answer is the status byte then the text, unframed. */
#define CARNET_PDFTEXT_SERVE "--serve"
#define CARNET_PDFTEXT_LEN_BYTES 8
#define CARNET_PDFTEXT_HEADER_BYTES (1 + CARNET_PDFTEXT_LEN_BYTES)

static inline void carnet_pdftext__put_len(unsigned char *p, uint64_t len)
{
	for (int i = 0; i < CARNET_PDFTEXT_LEN_BYTES; i++)
		p[i] = (unsigned char)(len >> (8 * i));
}

static inline uint64_t carnet_pdftext__get_len(const unsigned char *p)
{
	uint64_t len = 0;
	for (int i = 0; i < CARNET_PDFTEXT_LEN_BYTES; i++)
		len |= (uint64_t)p[i] << (8 * i);
	return len;
}

#endif
