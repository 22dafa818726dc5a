/* SPDX-License-Identifier: GPL-2.0-or-later */
/* parse_guard.c - libxml2 parses of an input under carnet's guards (the
 * nesting limit, the time budget, nothing printed), and the XML parse of
 * the CDA reader: no network, no DTD, no entities. */
#include "parse_guard.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>

static int bad(carnet_error *err, const char *path, const char *why)
{
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0, "%s: %s", path,
				 why);
}

int carnet_parse__late(xmlParserCtxtPtr ctxt)
{
	if (!carnet_budget__over())
		return 0;
	((carnet_parse_guard *)ctxt->_private)->late = 1;
	xmlStopParser(ctxt);
	return 1;
}

int carnet_parse__deep(xmlParserCtxtPtr ctxt)
{
	if (ctxt->nameNr < CARNET_MAX_DEPTH)
		return 0;
	((carnet_parse_guard *)ctxt->_private)->deep = 1;
	xmlStopParser(ctxt);
	return 1;
}

xmlDocPtr carnet_parse__run(xmlParserCtxtPtr ctxt, carnet_parse_guard *g,
			    xmlStructuredErrorFunc on_error, int html)
{
	memset(g, 0, sizeof *g);
	ctxt->_private = g;
	ctxt->sax->serror = on_error;
	ctxt->sax->error = NULL;
	ctxt->sax->warning = NULL;
	ctxt->sax->fatalError = NULL;
	if (html)
		htmlParseDocument(ctxt);
	else
		xmlParseDocument(ctxt);
	xmlDocPtr doc = ctxt->myDoc;
	ctxt->myDoc = NULL;
	return doc;
}

/* ---- XML --------------------------------------------------------------- */

/* Elements and text stop the parse when the document's time budget has
 * run out, or when elements nest deeper than the limit. */
static void on_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
			     const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
			     int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
	if (!carnet_parse__deep(ctx) && !carnet_parse__late(ctx))
		xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_namespaces, namespaces,
				      nb_attributes, nb_defaulted, attributes);
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
	if (!carnet_parse__late(ctx))
		xmlSAX2Characters(ctx, ch, len);
}

static void on_cdata(void *ctx, const xmlChar *value, int len)
{
	if (!carnet_parse__late(ctx))
		xmlSAX2CDataBlock(ctx, value, len);
}

/* An entity declaration stops the parse: no external entity is ever
 * resolved and no expansion can blow up, whatever the encoding. */
static void refuse_entity(void *ctx)
{
	xmlParserCtxtPtr ctxt = ctx;
	((carnet_parse_guard *)ctxt->_private)->entity = 1;
	xmlStopParser(ctxt);
}

static void on_entity_decl(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			   const xmlChar *system_id, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	refuse_entity(ctx);
}

static void on_unparsed_entity_decl(void *ctx, const xmlChar *name, const xmlChar *public_id,
				    const xmlChar *system_id, const xmlChar *notation)
{
	(void)name;
	(void)public_id;
	(void)system_id;
	(void)notation;
	refuse_entity(ctx);
}

/* Errors stay in ctxt->lastError; nothing is printed. The first fatal
 * error rejects the document: the parse stops there, before libxml2 2.9
 * reports more (each "--" inside a comment copies the whole comment read
 * so far into its report: quadratic time). */
static void on_error(void *data, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = data;
	if (!ctxt || !e || e->level != XML_ERR_FATAL)
		return;
	carnet_parse_guard *g = ctxt->_private;
	if (!g->first.code)
		xmlCopyError(e, &g->first);
	xmlStopParser(ctxt);
}

/* Why libxml2 refused the document, in our words (never its text). */
static const char *xml_reason(const xmlError *e)
{
	if (!e)
		return "malformed XML";
	switch (e->code) {
	case XML_ERR_DOCUMENT_EMPTY:
		return "no XML content";
	case XML_ERR_TAG_NOT_FINISHED:
	case XML_ERR_LTSLASH_REQUIRED:
	case XML_ERR_DOCUMENT_END:
		return e->code == XML_ERR_DOCUMENT_END ? "malformed XML (content after the root "
							 "element)"
						       : "malformed XML (truncated: an element is "
							 "left open)";
	case XML_ERR_INVALID_CHAR:
	case XML_ERR_INVALID_ENCODING:
	case XML_ERR_UNKNOWN_ENCODING:
	case XML_ERR_UNSUPPORTED_ENCODING:
		return "malformed XML (bytes not in the declared encoding)";
	case XML_ERR_NO_MEMORY:
		if (e->message && strstr(e->message, "huge"))
			return "XML text node larger than the parser's limit (10 MB)";
		return "malformed XML";
	default:
		return "malformed XML";
	}
}

int carnet_parse__xml(xmlDocPtr *out, const carnet_input *in, carnet_error *err)
{
	*out = NULL;
	if (in->len > (size_t)INT_MAX)
		return bad(err, in->path, "XML too large");
	int rc = carnet_markup__check(in->path, in->data, in->len, 0, in->limits, err);
	if (rc)
		return rc;
	xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(in->data, (int)in->len);
	if (!ctxt)
		return carnet_reader__nomem(err, in->path);
	/* no network, no DTD loading or validation, no entity substitution;
	 * libxml2's own size and depth limits stay on (no XML_PARSE_HUGE) */
	xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	carnet_parse_guard g;
	ctxt->sax->entityDecl = on_entity_decl;
	ctxt->sax->unparsedEntityDecl = on_unparsed_entity_decl;
	ctxt->sax->externalSubset = NULL;
	ctxt->sax->startElementNs = on_start_element;
	ctxt->sax->characters = on_characters;
	ctxt->sax->cdataBlock = on_cdata;
	xmlDocPtr doc = carnet_parse__run(ctxt, &g, on_error, 0);
	const xmlError *e = g.first.code ? &g.first : &ctxt->lastError;
	int failed = !ctxt->wellFormed || e->level == XML_ERR_FATAL ||
		     ctxt->errNo == XML_ERR_NO_MEMORY || !doc;
	if (g.late) {
		rc = carnet_budget__fail(err, in->path);
	} else if (g.deep) {
		char why[80];
		snprintf(why, sizeof why, "elements nested more than %d deep", CARNET_MAX_DEPTH);
		rc = bad(err, in->path, why);
	} else if (g.entity) {
		rc = bad(err, in->path, "DOCTYPE declares entities (external entities and entity "
				  "expansion are refused)");
	} else if (failed) {
		int code = e->code ? e->code : ctxt->errNo;
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, code,
				       "%s: %s at line %d (libxml2 error %d)", in->path,
				       xml_reason(e->code ? e : NULL), e->line, code);
	}
	if (rc != CARNET_OK)
		xmlFreeDoc(doc);
	else
		*out = doc;
	xmlResetError(&g.first);
	xmlFreeParserCtxt(ctxt);
	return rc;
}
