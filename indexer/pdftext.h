/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pdftext.h - the protocol between the library and carnet-pdftext: one
 * status byte, then (for OK) the text of every page. */
#ifndef CARNET_INDEXER_PDFTEXT_H
#define CARNET_INDEXER_PDFTEXT_H

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

#endif
