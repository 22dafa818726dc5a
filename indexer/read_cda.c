/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_cda.c - HL7 CDA R2 (French CI-SIS profiles and C-CDA): header
 * metadata, section titles and narrative, coded entries, and nonXMLBody
 * content. The XML is parsed by carnet_parse__xml (parse_guard.c): no
 * network, no DTD loading and no entities. This file: the reader, the
 * body and the nonXMLBody; the tree and the header in cda_*.c (cda.h). */
#include "cda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "parse_guard.h"

#define FHIR_NS "http://hl7.org/fhir"

#define XSLT_NS "http://www.w3.org/1999/XSL/Transform"

/* Does data[0..n) contain the string s? */
static int contains(const char *data, size_t n, const char *s)
{
	size_t k = strlen(s);
	for (size_t i = 0; i + k <= n; i++)
		if (data[i] == s[0] && memcmp(data + i, s, k) == 0)
			return 1;
	return 0;
}

static int sniff(const carnet_input *in)
{
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	size_t n = in->len < 8192 ? in->len : 8192;
	int cda = contains(in->data, n, "ClinicalDocument") &&
		  contains(in->data, n, CARNET_CDA_NS);
	if (strcmp(ext, "xml") == 0)
		return cda ? 40 : 10; /* all XML: a right reason for non-CDA XML */
	/* a CDA under another name (.cda, no extension) */
	return cda && n && in->data[0] == '<' ? 20 : 0;
}

/* Append "displayName code" for every coded element from n on (and the
 * originalText of coded values), into out. 0 or -1 (memory). */
static int coded(const xmlNode *n, carnet_buf *out, int depth)
{
	for (; n && depth < CARNET_CDA_MAX_DEPTH; n = n->next) {
		if (carnet_budget__over())
			return -1;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (carnet_cda__is(n, "text"))
			continue; /* an entry's text repeats the section narrative */
		if (carnet_cda__is(n, "originalText")) {
			if (carnet_cda__narrative(n->children, out, depth + 1) != 0 ||
			    carnet_cda__newline(out) != 0)
				return -1;
			continue;
		}
		char *dn = carnet_cda__attr(n, "displayName"), *code = carnet_cda__attr(n, "code");
		int rc = 0;
		/* statusCode and the like carry a code without meaning to a reader */
		if (dn || (code && strlen(code) < 40 &&
			   (carnet_cda__is(n, "code") || carnet_cda__is(n, "value") ||
			    carnet_cda__is(n, "translation"))))
			rc = carnet_buf__printf(out, "%s%s%s\n", dn ? dn : "", dn && code ? " " : "",
						code ? code : "");
		xmlFree(dn);
		xmlFree(code);
		if (rc || coded(n->children, out, depth + 1) != 0)
			return -1;
	}
	return 0;
}

/* One section (title and narrative) as a doc section, its entries' codes
 * into *codes, then its nested sections. 0 or -1 (memory). */
static int section(carnet_doc *d, carnet_buf *codes, const xmlNode *s, int depth)
{
	if (depth > 50)
		return 0;
	carnet_buf text = CARNET_BUF_INIT;
	char *title = NULL, *code = carnet_cda__attr(carnet_cda__child(s, "code"), "code");
	int rc = carnet_cda__take_text(&title, carnet_cda__child(s, "title"));
	if (!rc && title)
		rc = carnet_buf__printf(&text, "%s\n", title);
	const xmlNode *nt = carnet_cda__child(s, "text");
	if (!rc && nt)
		rc = carnet_cda__narrative(nt->children, &text, 0);
	if (!rc)
		carnet_cda__trim_end(&text);
	if (!rc && text.len)
		rc = carnet_doc__add_section(d, carnet_doc__section_kind(code, title),
					     text.data, text.len);
	for (const xmlNode *c = s->children; !rc && c; c = c->next) {
		if (carnet_cda__is(c, "entry"))
			rc = coded(c->children, codes, 0);
		else if (carnet_cda__is(c, "component") && carnet_cda__child(c, "section"))
			rc = section(d, codes, carnet_cda__child(c, "section"), depth + 1);
	}
	carnet_buf__free(&text);
	free(title);
	xmlFree(code);
	return rc;
}

static int bad(carnet_error *err, const carnet_input *in, const char *why)
{
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0, "%s: %s",
				 in->path, why);
}

/* nonXMLBody: base64 or plain text content read through the embedded
 * content readers; an external reference or compressed content refused.
 * CARNET_OK or a negative code with err filled. */
static int non_xml(carnet_doc *d, const carnet_input *in, const xmlNode *nx,
		   carnet_error *err)
{
	const xmlNode *t = carnet_cda__child(nx, "text");
	if (!t)
		return bad(err, in, "nonXMLBody without text");
	if (carnet_cda__child(t, "reference"))
		return bad(err, in, "nonXMLBody references an external file, which is not fetched");
	char *mt = carnet_cda__attr(t, "mediaType"), *rep = carnet_cda__attr(t, "representation");
	char *comp = carnet_cda__attr(t, "compression");
	xmlChar *content = xmlNodeGetContent(t);
	const char *mime = mt ? mt : "text/plain"; /* the ED default */
	int rc = CARNET_OK;
	if (comp) {
		rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT, 0,
				       "%s: nonXMLBody is compressed, which is not read",
				       in->path);
	} else if (!content) {
		rc = carnet_reader__nomem(err, in->path);
	} else if (rep && strcmp(rep, "B64") == 0) {
		carnet_buf bytes = CARNET_BUF_INIT;
		size_t off = 0;
		int b64 = carnet_base64__decode(&bytes, (const char *)content,
						(size_t)xmlStrlen(content), &off);
		if (b64 == CARNET_E_NOMEM)
			rc = carnet_reader__nomem(err, in->path);
		else if (b64)
			rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					       "%s: nonXMLBody is not valid base64 (at byte %zu "
					       "of its text)", in->path, off);
		else if (!bytes.len)
			rc = bad(err, in, "nonXMLBody is empty");
		else
			rc = carnet_reader__embedded(d, in, mime, bytes.data, bytes.len, err);
		carnet_buf__free(&bytes);
	} else if (rep && strcmp(rep, "TXT") != 0) {
		rc = bad(err, in, "nonXMLBody has an unknown representation");
	} else {
		rc = carnet_reader__embedded(d, in, mime, (const char *)content,
					     (size_t)xmlStrlen(content), err);
	}
	xmlFree(mt);
	xmlFree(rep);
	xmlFree(comp);
	xmlFree(content);
	return rc;
}

/* The ClinicalDocument element: the root, or inside an XSL stylesheet (the
 * CI-SIS "autoprésentable" documents carry it as the stylesheet's data). */
static const xmlNode *find_cda(const xmlNode *root)
{
	if (carnet_cda__is(root, "ClinicalDocument"))
		return root;
	if (!carnet_cda__has_ns(root, XSLT_NS))
		return NULL;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (carnet_cda__is(c, "ClinicalDocument"))
			return c;
		for (const xmlNode *g = c->type == XML_ELEMENT_NODE ? c->children : NULL; g;
		     g = g->next)
			if (carnet_cda__is(g, "ClinicalDocument"))
				return g;
	}
	return NULL;
}

/* Why root is not a CDA, into err. */
static int not_cda(const carnet_input *in, const xmlNode *root, carnet_error *err)
{
	char why[200];
	const char *name = root ? (const char *)root->name : "missing";
	if (carnet_cda__has_ns(root, FHIR_NS))
		snprintf(why, sizeof why, "FHIR XML (root %.40s), which is not read (FHIR is "
					  "read as JSON)", name);
	else if (root && xmlStrcmp(root->name, (const xmlChar *)"ClinicalDocument") == 0)
		snprintf(why, sizeof why, "XML root ClinicalDocument is not in the HL7 v3 "
					  "namespace (%s)", CARNET_CDA_NS);
	else if (carnet_cda__has_ns(root, CARNET_CDA_NS))
		snprintf(why, sizeof why, "XML root is %.40s (an HL7 v3 fragment), not an HL7 "
					  "CDA ClinicalDocument", name);
	else
		snprintf(why, sizeof why, "XML root is %.40s, not an HL7 CDA ClinicalDocument",
			 name);
	return bad(err, in, why);
}

static int read_cda(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err)
{
	if (in->len == 0)
		return bad(err, in, "empty file");
	/* a NUL byte ends libxml2's input early; say so (UTF-16 and UTF-32,
	 * recognised by their first bytes, are full of them) */
	const unsigned char *u = (const unsigned char *)in->data;
	int wide = in->len >= 2 && (u[0] == 0 || u[1] == 0 || (u[0] == 0xFE && u[1] == 0xFF) ||
				    (u[0] == 0xFF && u[1] == 0xFE));
	const char *nul = wide ? NULL : memchr(in->data, '\0', in->len);
	if (nul)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: malformed XML (a NUL byte at byte %zu)", in->path,
					 (size_t)(nul - in->data));
	xmlDocPtr xml;
	int rc = carnet_parse__xml(&xml, in, err);
	if (rc)
		return rc;
	carnet_doc d;
	carnet_doc__init(&d);
	carnet_buf codes = CARNET_BUF_INIT;
	const xmlNode *root = xmlDocGetRootElement(xml);
	const xmlNode *cda = find_cda(root);
	if (!cda) {
		rc = not_cda(in, root, err);
		goto out;
	}
	if (carnet_cda__header(&d, cda) != 0 || carnet_cda__visibility(&d, cda) != 0)
		goto nomem;
	if (!d.patient_id) {
		rc = bad(err, in, "no patient id in recordTarget");
		goto out;
	}
	if ((rc = carnet_cda__one_patient(cda, in, err)) != CARNET_OK)
		goto out;
	const xmlNode *comp = carnet_cda__child(cda, "component");
	const xmlNode *sb = carnet_cda__child(comp, "structuredBody");
	const xmlNode *nx = carnet_cda__child(comp, "nonXMLBody");
	if (sb) {
		for (const xmlNode *c = sb->children; c; c = c->next)
			if (carnet_cda__is(c, "component") && carnet_cda__child(c, "section") &&
			    section(&d, &codes, carnet_cda__child(c, "section"), 0) != 0)
				goto nomem;
		if (carnet_cda__results(&d, sb) != 0)
			goto nomem;
		carnet_cda__trim_end(&codes);
		if (codes.len &&
		    carnet_doc__add_section(&d, CARNET_SECTION_BODY, codes.data, codes.len) != 0)
			goto nomem;
	} else if (nx && (rc = non_xml(&d, in, nx, err)) != CARNET_OK) {
		goto out;
	}
	rc = sink(&d, payload);
	goto out;
nomem:
	rc = carnet_reader__nomem(err, in->path);
out:
	carnet_doc__clear(&d);
	carnet_buf__free(&codes);
	xmlFreeDoc(xml);
	return rc;
}

const carnet_reader carnet_reader_cda = { "cda", 0, sniff, read_cda };
