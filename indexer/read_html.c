/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_html.c - HTML and XHTML: the visible text (libxml2's HTML parser, no
 * network), for standalone files with a sidecar and for embedded content. */
#include "reader.h"

#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "parse_guard.h"
#include "text.h"

static int sniff(const carnet_input *in)
{
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	if (strcmp(ext, "html") == 0 || strcmp(ext, "htm") == 0 || strcmp(ext, "xhtml") == 0)
		return 50;
	size_t n = in->len < 1024 ? in->len : 1024;
	for (size_t i = 0; i + 5 <= n; i++)
		if (strncasecmp(in->data + i, "<html", 5) == 0 ||
		    (i + 14 <= n && strncasecmp(in->data + i, "<!doctype html", 14) == 0))
			return 30;
	return 0;
}

static int is_name(const xmlNode *n, const char *const *names)
{
	for (size_t i = 0; names[i]; i++)
		if (xmlStrcasecmp(n->name, (const xmlChar *)names[i]) == 0)
			return 1;
	return 0;
}

static const char *const skipped[] = { "script", "style", "noscript", "template",
				       "head", NULL };
static const char *const blocks[] = { "p", "div", "br", "li", "tr", "h1", "h2", "h3",
				      "h4", "h5", "h6", "table", "section", "article",
				      "header", "footer", "blockquote", "pre", "ul", "ol",
				      "dl", "dt", "dd", "title", "caption", NULL };
static const char *const cells[] = { "td", "th", NULL };

/* Append the text under n to out, a newline after blocks, a tab after
 * cells, runs of blanks collapsed. Returns 0 or -1 (no memory). */
static int walk(const xmlNode *n, carnet_buf *out, int depth)
{
	for (; n; n = n->next) {
		if (carnet_budget__over())
			return -1;
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			const char *t = (const char *)n->content;
			for (; t && *t; t++) {
				char c = *t;
				if (c == '\n' || c == '\r' || c == '\t' || c == '\f')
					c = ' ';
				if (c == ' ' && (!out->len || out->data[out->len - 1] == ' ' ||
						 out->data[out->len - 1] == '\n'))
					continue;
				if (carnet_buf__putc(out, c) != 0)
					return -1;
			}
			continue;
		}
		if (n->type != XML_ELEMENT_NODE || is_name(n, skipped))
			continue;
		if (depth < 256 && walk(n->children, out, depth + 1) != 0)
			return -1;
		if (is_name(n, blocks) && out->len && out->data[out->len - 1] != '\n') {
			if (out->data[out->len - 1] == ' ')
				out->len--;
			if (carnet_buf__putc(out, '\n') != 0)
				return -1;
		} else if (is_name(n, cells) && carnet_buf__putc(out, '\t') != 0) {
			return -1;
		}
	}
	return 0;
}

/* The first element named name under n (depth-first), or NULL. */
static const xmlNode *find(const xmlNode *n, const char *name, int depth)
{
	for (; n && depth < 256; n = n->next) {
		if (n->type == XML_ELEMENT_NODE &&
		    xmlStrcasecmp(n->name, (const xmlChar *)name) == 0)
			return n;
		const xmlNode *c = find(n->children, name, depth + 1);
		if (c)
			return c;
	}
	return NULL;
}

/* The character set the first 2 KiB declare (charset= or encoding=),
 * lower-cased into out; "" when none. */
static void declared_charset(const char *data, size_t len, char *out, size_t size)
{
	size_t n = len < 2048 ? len : 2048, k = 0;
	out[0] = '\0';
	for (size_t i = 0; i + 8 <= n; i++) {
		size_t j = i;
		if (strncasecmp(data + i, "charset", 7) == 0)
			j += 7;
		else if (strncasecmp(data + i, "encoding", 8) == 0)
			j += 8;
		else
			continue;
		while (j < n && (data[j] == ' ' || data[j] == '=' || data[j] == '"' || data[j] == '\''))
			j++;
		for (k = 0; j < n && k + 1 < size; j++, k++) {
			char c = data[j];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			      c == '-' || c == '_' || c == '.' || c == ':'))
				break;
			out[k] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
		out[k] = '\0';
		if (k)
			return;
	}
}

/* Is cs a character set whose markup bytes are ASCII? */
static int ascii_charset(const char *cs)
{
	static const char *const known[] = { "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-",
					     "iso8859-", "iso_8859-", "latin", "windows-125",
					     "cp125", NULL };
	for (size_t i = 0; known[i]; i++)
		if (strncmp(cs, known[i], strlen(known[i])) == 0)
			return 1;
	return 0;
}

static void on_start_element(void *ctx, const xmlChar *name, const xmlChar **atts)
{
	htmlParserCtxtPtr ctxt = ctx;
	((carnet_parse_guard *)ctxt->_private)->text = 0;
	if (!carnet_parse__deep(ctxt) && !carnet_parse__late(ctxt))
		xmlSAX2StartElement(ctx, name, atts);
}

static void on_end_element(void *ctx, const xmlChar *name)
{
	htmlParserCtxtPtr ctxt = ctx;
	((carnet_parse_guard *)ctxt->_private)->text = 0;
	xmlSAX2EndElement(ctx, name);
}

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
	htmlParserCtxtPtr ctxt = ctx;
	carnet_parse_guard *g = ctxt->_private;
	if (carnet_parse__late(ctxt))
		return;
	g->text += (size_t)len;
	if (g->text > CARNET_MAX_VALUE_BYTES) {
		g->huge = 1;
		xmlStopParser(ctxt);
		return;
	}
	xmlSAX2Characters(ctx, ch, len);
}

/* Errors stay in the context; nothing is printed. */
static void on_error(void *data, xmlErrorPtr e)
{
	(void)data;
	(void)e;
}

int carnet_html__extract(carnet_buf *out, carnet_buf *title, const char *path,
			 const char *data, size_t len, carnet_error *err)
{
	if (len == 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: empty file", path);
	if (len > (size_t)INT32_MAX)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: HTML too large", path);
	size_t off;
	if (carnet_text__looks_binary(data, len, &off))
		return carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
					 0, "%s: not HTML (binary byte at byte offset %zu)",
					 path, off);
	int rc = carnet_markup__check(path, data, len, 1, NULL, err);
	if (rc)
		return rc;
	/* the encoding is chosen here and a <meta> cannot change it, so the
	 * bytes the limits were checked on are the markup the parser reads:
	 * a declared charset if its markup is ASCII, else UTF-8 if it is,
	 * else Windows-1252 */
	char declared[40];
	declared_charset(data, len, declared, sizeof declared);
	const char *encoding = declared;
	if (!ascii_charset(declared))
		encoding = carnet_text__utf8_valid(data, len, NULL) ? "UTF-8" : "windows-1252";
	htmlParserCtxtPtr ctxt = htmlCreateMemoryParserCtxt(data, (int)len);
	if (!ctxt)
		return carnet_reader__nomem(err, path);
	htmlCtxtUseOptions(ctxt, HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
					 HTML_PARSE_RECOVER | HTML_PARSE_NOBLANKS |
					 HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC);
	xmlCharEncodingHandlerPtr handler = xmlFindCharEncodingHandler(encoding);
	if (handler) {
		xmlSwitchToEncoding(ctxt, handler);
		if (ctxt->input->encoding)
			xmlFree((xmlChar *)ctxt->input->encoding);
		ctxt->input->encoding = xmlStrdup((const xmlChar *)encoding);
	}
	carnet_parse_guard g;
	ctxt->sax->startElement = on_start_element;
	ctxt->sax->endElement = on_end_element;
	ctxt->sax->characters = on_characters;
	ctxt->sax->cdataBlock = on_characters;
	htmlDocPtr doc = carnet_parse__run(ctxt, &g, on_error, 1);
	if (g.late || g.deep || g.huge) {
		if (g.late) {
			rc = carnet_budget__fail(err, path);
		} else {
			rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					       g.deep ? "%s: elements nested more than %d deep"
						      : "%s: a text longer than %d bytes",
					       path, g.deep ? CARNET_MAX_DEPTH : CARNET_MAX_VALUE_BYTES);
		}
		goto out;
	}
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (!root) {
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: not HTML (nothing could be parsed)", path);
		goto out;
	}
	size_t start = out->len;
	if (walk(root, out, 0) != 0)
		goto nomem;
	if (title) {
		const xmlNode *t = find(root, "title", 0);
		if (!t)
			t = find(root, "h1", 0);
		if (t && walk(t->children, title, 0) != 0)
			goto nomem;
		while (title->len && (title->data[title->len - 1] == ' ' ||
				      title->data[title->len - 1] == '\n'))
			title->data[--title->len] = '\0';
	}
	if (out->len == start) {
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				       "%s: HTML without text", path);
	}
	goto out;
nomem:
	rc = carnet_reader__nomem(err, path);
out:
	if (doc)
		xmlFreeDoc(doc);
	htmlFreeParserCtxt(ctxt);
	return rc;
}

static int read_html(const carnet_input *in, carnet_doc_sink sink, void *payload,
		     carnet_error *err)
{
	carnet_buf text = CARNET_BUF_INIT, title = CARNET_BUF_INIT;
	int rc = carnet_html__extract(&text, &title, in->path, in->data, in->len, err);
	if (rc == CARNET_OK)
		rc = carnet_reader__emit_text(in, "html", title.data, title.len, text.data,
					      text.len, sink, payload, err);
	carnet_buf__free(&text);
	carnet_buf__free(&title);
	return rc;
}

const carnet_reader carnet_reader_html = { "html", CARNET_READER_NEEDS_SIDECAR, sniff,
					   read_html };
