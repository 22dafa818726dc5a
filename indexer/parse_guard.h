/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parse_guard.h - libxml2 parses of an input under carnet's guards: the
 * nesting limit and the time budget stop the parse, nothing is printed;
 * XML also refuses entity declarations and stops at its first fatal error.
 * Used by the CDA reader (XML) and the HTML extractor. */
#ifndef CARNET_INDEXER_PARSE_GUARD_H
#define CARNET_INDEXER_PARSE_GUARD_H

#include <stddef.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "reader.h"

/* What the SAX guards of one parse saw (ctxt->_private). */
typedef struct carnet_parse_guard {
	int deep;       /* elements nested more than CARNET_MAX_DEPTH */
	int late;       /* the time budget of the document ran out */
	int entity;     /* XML: an entity declaration was refused */
	int huge;       /* HTML: a text longer than CARNET_MAX_VALUE_BYTES */
	size_t text;    /* HTML: length of the text since the last tag */
	xmlError first; /* XML: the first fatal error (code 0: none) */
} carnet_parse_guard;

/* Stop the parse when the time budget has run out; 1 if stopped. */
int carnet_parse__late(xmlParserCtxtPtr ctxt);

/* Stop the parse when elements nest CARNET_MAX_DEPTH deep (an element
 * starting); 1 if stopped. */
int carnet_parse__deep(xmlParserCtxtPtr ctxt);

/* Run the parse of ctxt, its SAX handlers set, with g (zeroed) as its
 * guard and on_error receiving its errors (none printed); html: an HTML
 * parser context. Returns the document parsed (NULL: none), which the
 * caller frees; the context stays the caller's. */
xmlDocPtr carnet_parse__run(xmlParserCtxtPtr ctxt, carnet_parse_guard *g,
			    xmlStructuredErrorFunc on_error, int html);

/* Parse the XML of in into *out (NULL on failure, with err filled:
 * CARNET_E_INVALID naming in->path and the reason, never the text). No
 * network, no DTD loading or validation, no entities; the structural
 * limits of the input are checked first. */
int carnet_parse__xml(xmlDocPtr *out, const carnet_input *in, carnet_error *err);

#endif
