/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-serve-cda.c - a CDA document as a page a professional reads: its
 * header (title, type, patient, author, date) and its sections with their
 * headings and narrative (paragraphs, lists, tables), every text escaped,
 * nothing but plain HTML elements (no script, style, link or attribute
 * but a table's border and a cell's spans), from libxml2's tree. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "serve.h"

#define V3 "urn:hl7-org:v3"
/* Deepest narrative or section nesting rendered; below it, text only. */
#define NEST_MAX 48
/* Largest rendering (the document itself is at most SERVE_DOCUMENT_MAX). */
#define HTML_MAX ((size_t)96 << 20)

typedef struct out {
	char *b;
	size_t len, cap;
	int failed;
} out;

static void put(out *o, const char *s, size_t n)
{
	if (o->failed)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *b = cap <= HTML_MAX ? realloc(o->b, cap) : NULL;
		if (!b) {
			o->failed = 1;
			return;
		}
		o->b = b;
		o->cap = cap;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
	o->b[o->len] = '\0';
}

static void puts_(out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Text, escaped for an element's content or an attribute's value. */
static void text(out *o, const char *s)
{
	for (const char *p = s; p && *p; p++) {
		const char *e = *p == '&' ? "&amp;" : *p == '<' ? "&lt;" : *p == '>' ? "&gt;"
				: *p == '"' ? "&quot;" : *p == '\'' ? "&#39;" : NULL;
		if (e)
			puts_(o, e);
		else
			put(o, p, 1);
	}
}

/* ---- the tree ---- */

static int is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       !strcmp((const char *)n->ns->href, V3) && !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* A path of child names separated by '/'. */
static const xmlNode *path(const xmlNode *n, const char *p)
{
	char name[64];
	while (n && *p) {
		size_t k = strcspn(p, "/");
		if (k >= sizeof name)
			return NULL;
		memcpy(name, p, k);
		name[k] = '\0';
		n = child(n, name);
		p += k + (p[k] == '/');
	}
	return n;
}

/* An attribute's value (to xmlFree), or NULL. */
static char *attr(const xmlNode *n, const char *name)
{
	return n ? (char *)xmlGetNoNsProp(n, (const xmlChar *)name) : NULL;
}

/* The text of n and its descendants (escaped, or as it is): text and
 * CDATA nodes only, never an entity's replacement (none is substituted,
 * none is expanded here). */
static void gather(out *o, const xmlNode *n, int depth, int escape)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			if (escape)
				text(o, (const char *)c->content);
			else
				puts_(o, c->content ? (const char *)c->content : "");
		} else if (c->type == XML_ELEMENT_NODE && depth < NEST_MAX * 4) {
			gather(o, c, depth + 1, escape);
		}
	}
}

static void text_of(out *o, const xmlNode *n)
{
	gather(o, n, 0, 1);
}

/* A name (given, family, prefix) as one line. */
static void person_name(out *o, const xmlNode *name)
{
	static const char *const parts[] = { "prefix", "given", "family", "suffix" };
	int first = 1;
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		for (const xmlNode *c = name ? name->children : NULL; c; c = c->next)
			if (is(c, parts[i])) {
				if (!first)
					puts_(o, " ");
				text_of(o, c);
				first = 0;
			}
	if (first && name)
		text_of(o, name);
}

/* An HL7 TS (YYYYMMDD[HHMM...]) as DD/MM/YYYY [HH:MM]. */
static void date(out *o, const xmlNode *n)
{
	char *v = attr(n, "value");
	char d[32];
	size_t len = v ? strspn(v, "0123456789") : 0;
	if (len >= 12)
		snprintf(d, sizeof d, "%.2s/%.2s/%.4s %.2s:%.2s", v + 6, v + 4, v, v + 8, v + 10);
	else if (len >= 8)
		snprintf(d, sizeof d, "%.2s/%.2s/%.4s", v + 6, v + 4, v);
	else
		snprintf(d, sizeof d, "%s", "");
	text(o, d);
	xmlFree(v);
}

/* ---- the header ---- */

static void row(out *o, const char *label)
{
	puts_(o, "<tr><th scope=\"row\">");
	text(o, label);
	puts_(o, "</th><td>");
}

static void header(out *o, const xmlNode *cda)
{
	const xmlNode *title = child(cda, "title"), *code = child(cda, "code");
	char *type = attr(code, "displayName");
	puts_(o, "<header><h1>");
	if (title)
		text_of(o, title);
	else
		text(o, type ? type : "Document");
	puts_(o, "</h1><table class=\"cda-header\">");
	if (type) {
		row(o, "Type");
		text(o, type);
		puts_(o, "</td></tr>");
	}
	const xmlNode *role = path(cda, "recordTarget/patientRole");
	const xmlNode *pat = child(role, "patient");
	row(o, "Patient");
	person_name(o, child(pat, "name"));
	const xmlNode *birth = child(pat, "birthTime");
	if (birth) {
		puts_(o, ", né(e) le ");
		date(o, birth);
	}
	puts_(o, "</td></tr>");
	const xmlNode *author = path(cda, "author/assignedAuthor");
	row(o, "Auteur");
	person_name(o, path(author, "assignedPerson/name"));
	char *spec = attr(child(author, "code"), "displayName");
	if (spec) {
		puts_(o, ", ");
		text(o, spec);
	}
	const xmlNode *org = path(author, "representedOrganization/name");
	if (org) {
		puts_(o, ", ");
		text_of(o, org);
	}
	puts_(o, "</td></tr>");
	row(o, "Date");
	date(o, child(cda, "effectiveTime"));
	puts_(o, "</td></tr></table></header>\n");
	xmlFree(spec);
	xmlFree(type);
}

/* ---- the narrative ---- */

/* The HTML element a narrative element becomes, or NULL for its content
 * alone. */
static const char *html_of(const xmlNode *n, char *ordered)
{
	static const char *const same[] = { "table", "thead", "tbody", "tfoot", "tr", "th", "td",
					    "caption", "sub", "sup", "br", NULL };
	if (is(n, "paragraph"))
		return "p";
	if (is(n, "item"))
		return "li";
	if (is(n, "list")) {
		char *t = attr(n, "listType");
		*ordered = t && !strcmp(t, "ordered");
		xmlFree(t);
		return *ordered ? "ol" : "ul";
	}
	if (is(n, "content")) {
		char *st = attr(n, "styleCode");
		const char *tag = st && strstr(st, "Bold") ? "strong"
				  : st && (strstr(st, "Italics") || strstr(st, "Emphasis")) ? "em"
				  : "span";
		xmlFree(st);
		return tag;
	}
	for (size_t i = 0; same[i]; i++)
		if (is(n, same[i]))
			return same[i];
	return NULL;
}

/* A cell's span, when it is a small number. */
static void span(out *o, const xmlNode *n, const char *name)
{
	char *v = attr(n, name);
	if (v && strspn(v, "0123456789") == strlen(v) && strlen(v) >= 1 && strlen(v) <= 3) {
		char b[32];
		snprintf(b, sizeof b, " %s=\"%d\"", name, atoi(v));
		puts_(o, b);
	}
	xmlFree(v);
}

static void narrative(out *o, const xmlNode *n, int depth)
{
	for (const xmlNode *c = n->children; c; c = c->next) {
		if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
			text(o, (const char *)c->content);
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue; /* comments, processing instructions, entity references */
		char ordered = 0;
		const char *tag = depth < NEST_MAX ? html_of(c, &ordered) : NULL;
		if (is(c, "renderMultiMedia")) {
			puts_(o, "<span>[image]</span>");
			continue;
		}
		if (!tag) {
			if (depth < NEST_MAX)
				narrative(o, c, depth + 1);
			else
				text_of(o, c);
			continue;
		}
		puts_(o, "<");
		puts_(o, tag);
		if (!strcmp(tag, "table"))
			puts_(o, " border=\"1\" cellpadding=\"4\" cellspacing=\"0\"");
		if (!strcmp(tag, "td") || !strcmp(tag, "th")) {
			span(o, c, "colspan");
			span(o, c, "rowspan");
		}
		puts_(o, ">");
		if (strcmp(tag, "br") != 0) {
			narrative(o, c, depth + 1);
			puts_(o, "</");
			puts_(o, tag);
			puts_(o, ">");
		}
	}
}

/* A section: its heading (h2 to h6 by depth), narrative, subsections. */
static void section(out *o, const xmlNode *s, int depth)
{
	char h[16];
	snprintf(h, sizeof h, "h%d", depth < 4 ? depth + 2 : 6);
	const xmlNode *title = child(s, "title");
	char *code = title ? NULL : attr(child(s, "code"), "displayName");
	puts_(o, "<section>");
	if (title || code) {
		puts_(o, "<");
		puts_(o, h);
		puts_(o, ">");
		if (title)
			text_of(o, title);
		else
			text(o, code);
		puts_(o, "</");
		puts_(o, h);
		puts_(o, ">");
	}
	xmlFree(code);
	const xmlNode *t = child(s, "text");
	if (t) {
		puts_(o, "<div class=\"narrative\">");
		narrative(o, t, 0);
		puts_(o, "</div>");
	}
	for (const xmlNode *c = s->children; c; c = c->next)
		if (is(c, "component") && child(c, "section") && depth < NEST_MAX)
			section(o, child(c, "section"), depth + 1);
	puts_(o, "</section>\n");
}

static void body(out *o, const xmlNode *cda)
{
	const xmlNode *sb = path(cda, "component/structuredBody");
	const xmlNode *nx = path(cda, "component/nonXMLBody");
	puts_(o, "<main>");
	for (const xmlNode *c = sb ? sb->children : NULL; c; c = c->next)
		if (is(c, "component") && child(c, "section"))
			section(o, child(c, "section"), 0);
	if (nx) {
		char *mt = attr(child(nx, "text"), "mediaType");
		puts_(o, "<p>Le corps de ce document est un fichier joint (");
		text(o, mt ? mt : "type inconnu");
		puts_(o, ").</p>");
		xmlFree(mt);
	}
	if (!sb && !nx)
		puts_(o, "<p>Document sans corps lisible.</p>");
	puts_(o, "</main>\n");
}

/* ---- the document ---- */

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static void quiet_structured(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

static xmlDoc *parse(const char *xml, size_t len)
{
	if (len > INT_MAX)
		return NULL;
	/* a document's faults are not the service's journal's business (these
	 * handlers are the calling thread's own in libxml2) */
	xmlSetGenericErrorFunc(NULL, quiet);
	xmlSetStructuredErrorFunc(NULL, quiet_structured);
	/* no network, no DTD loaded, no entity substituted */
	return xmlReadMemory(xml, (int)len, "document.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static const xmlNode *clinical_document(xmlDoc *doc)
{
	const xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL;
	return is(root, "ClinicalDocument") ? root : NULL;
}

int serve_cda_html(const char *xml, size_t len, char **html, size_t *html_len)
{
	*html = NULL;
	*html_len = 0;
	xmlDoc *doc = parse(xml, len);
	const xmlNode *cda = clinical_document(doc);
	if (!cda) {
		xmlFreeDoc(doc);
		return 1;
	}
	out o = { 0 };
	puts_(&o, "<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\">"
		  "<title>");
	const xmlNode *title = child(cda, "title");
	if (title)
		text_of(&o, title);
	else
		text(&o, "Document");
	puts_(&o, "</title></head>\n<body>\n");
	header(&o, cda);
	body(&o, cda);
	puts_(&o, "</body></html>\n");
	xmlFreeDoc(doc);
	if (o.failed) {
		free(o.b);
		return -1;
	}
	*html = o.b;
	*html_len = o.len;
	return 0;
}

/* The decoded bytes of a base64 text (whitespace skipped), or NULL. */
static unsigned char *unbase64(const char *s, size_t *n)
{
	size_t len = strlen(s), o = 0;
	unsigned char *b = malloc(len / 4 * 3 + 3);
	unsigned acc = 0, bits = 0;
	if (!b)
		return NULL;
	for (const char *p = s; *p && *p != '='; p++) {
		const char *abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *at = strchr(abc, *p);
		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
			continue;
		if (!at) {
			free(b);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)(at - abc);
		if ((bits += 6) >= 8) {
			bits -= 8;
			b[o++] = (unsigned char)(acc >> bits);
		}
	}
	*n = o;
	return b;
}

int serve_cda_pdf(const char *xml, size_t len, char **pdf, size_t *pdf_len)
{
	*pdf = NULL;
	*pdf_len = 0;
	xmlDoc *doc = parse(xml, len);
	const xmlNode *t = path(clinical_document(doc), "component/nonXMLBody/text");
	char *mt = attr(t, "mediaType"), *rep = attr(t, "representation");
	int found = 0;
	if (t && mt && rep && !strcmp(mt, "application/pdf") && !strcmp(rep, "B64")) {
		out c = { 0 };
		size_t n = 0;
		gather(&c, t, 0, 0);
		unsigned char *b = c.b && !c.failed ? unbase64(c.b, &n) : NULL;
		free(c.b);
		if (b && n >= 5 && !memcmp(b, "%PDF-", 5)) {
			*pdf = (char *)b;
			*pdf_len = n;
			found = 1;
		} else {
			free(b);
		}
	}
	xmlFree(mt);
	xmlFree(rep);
	xmlFreeDoc(doc);
	return found;
}
