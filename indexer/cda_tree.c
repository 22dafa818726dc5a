/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cda_tree.c - reading a CDA's XML tree: elements of the HL7 v3 namespace,
 * attributes, ids and dates, and narrative blocks as text. */
#include "cda.h"

#include <stdio.h>
#include <string.h>

int carnet_cda__has_ns(const xmlNode *n, const char *ns)
{
	return n && n->ns && n->ns->href && xmlStrcmp(n->ns->href, (const xmlChar *)ns) == 0;
}

int carnet_cda__is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && carnet_cda__has_ns(n, CARNET_CDA_NS) &&
	       xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

const xmlNode *carnet_cda__child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (carnet_cda__is(c, name))
			return c;
	return NULL;
}

const xmlNode *carnet_cda__path(const xmlNode *n, const char *p)
{
	char name[64];
	while (n && *p) {
		size_t len = strcspn(p, "/");
		if (len >= sizeof name)
			return NULL;
		memcpy(name, p, len);
		name[len] = '\0';
		n = carnet_cda__child(n, name);
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

char *carnet_cda__attr(const xmlNode *n, const char *name)
{
	if (!n)
		return NULL;
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (v && !*v) {
		xmlFree(v);
		v = NULL;
	}
	return (char *)v;
}

int carnet_cda__take_attr(char **field, const xmlNode *n, const char *name)
{
	char *v = carnet_cda__attr(n, name);
	int rc = v ? carnet_doc__sets(field, v) : 0;
	xmlFree(v);
	return rc;
}

int carnet_cda__take_id(char **field, const xmlNode *id)
{
	char *root = carnet_cda__attr(id, "root"), *ext = carnet_cda__attr(id, "extension");
	int rc = 0;
	if (root) {
		carnet_buf b = CARNET_BUF_INIT;
		rc = ext ? carnet_buf__printf(&b, "%s^%s", root, ext) : carnet_buf__puts(&b, root);
		if (!rc)
			rc = carnet_doc__set(field, b.data, b.len);
		carnet_buf__free(&b);
	}
	xmlFree(root);
	xmlFree(ext);
	return rc;
}

int carnet_cda__take_date(char **field, const xmlNode *ts)
{
	char *v = carnet_cda__attr(ts, "value");
	int rc = 0;
	if (v && strlen(v) >= 8) {
		char d[11];
		snprintf(d, sizeof d, "%.4s-%.2s-%.2s", v, v + 4, v + 6);
		if (carnet_doc__valid_date(d))
			rc = carnet_doc__sets(field, d);
	}
	xmlFree(v);
	return rc;
}

void carnet_cda__trim_end(carnet_buf *out)
{
	while (out->len && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
		out->data[--out->len] = '\0';
}

int carnet_cda__newline(carnet_buf *out)
{
	carnet_cda__trim_end(out);
	if (!out->len || out->data[out->len - 1] == '\n')
		return 0;
	return carnet_buf__putc(out, '\n');
}

/* Append text with its blanks collapsed to single spaces. */
static int put_text(carnet_buf *out, const char *t)
{
	for (; t && *t; t++) {
		char c = *t;
		if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
			if (!out->len || out->data[out->len - 1] == ' ' ||
			    out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\t')
				continue;
			c = ' ';
		}
		if (carnet_buf__putc(out, c) != 0)
			return -1;
	}
	return 0;
}

static int is_block(const xmlNode *n)
{
	static const char *const blocks[] = { "paragraph", "item", "list", "table", "thead",
					      "tbody", "tfoot", "tr", "caption", "br",
					      "footnote", "title", NULL };
	for (size_t i = 0; blocks[i]; i++)
		if (xmlStrcmp(n->name, (const xmlChar *)blocks[i]) == 0)
			return 1;
	return 0;
}

int carnet_cda__narrative(const xmlNode *n, carnet_buf *out, int depth)
{
	for (; n && depth < CARNET_CDA_MAX_DEPTH; n = n->next) {
		if (carnet_budget__over())
			return -1;
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			if (put_text(out, (const char *)n->content) != 0)
				return -1;
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		int block = is_block(n);
		if (block && carnet_cda__newline(out) != 0)
			return -1;
		if (carnet_cda__narrative(n->children, out, depth + 1) != 0)
			return -1;
		if (block) {
			if (carnet_cda__newline(out) != 0)
				return -1;
		} else if (xmlStrcmp(n->name, (const xmlChar *)"td") == 0 ||
			   xmlStrcmp(n->name, (const xmlChar *)"th") == 0) {
			carnet_cda__trim_end(out);
			if (out->len && out->data[out->len - 1] != '\n' &&
			    carnet_buf__putc(out, '\t') != 0)
				return -1;
		}
	}
	return 0;
}

int carnet_cda__take_text(char **field, const xmlNode *n)
{
	if (!n)
		return 0;
	carnet_buf b = CARNET_BUF_INIT;
	int rc = carnet_cda__narrative(n->children, &b, 0);
	while (!rc && b.len && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\n' ||
				b.data[b.len - 1] == '\t'))
		b.data[--b.len] = '\0';
	for (size_t i = 0; !rc && i < b.len; i++)
		if (b.data[i] == '\n' || b.data[i] == '\t')
			b.data[i] = ' ';
	if (!rc && b.len)
		rc = carnet_doc__set(field, b.data, b.len);
	carnet_buf__free(&b);
	return rc;
}
