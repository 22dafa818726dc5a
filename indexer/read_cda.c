/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_cda.c - HL7 CDA R2 (French CI-SIS profiles and C-CDA): header
 * metadata, section titles and narrative, coded entries, and nonXMLBody
 * content. The XML is parsed by carnet_parse__xml (parse_guard.c): no
 * network, no DTD loading and no entities. */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "base64.h"
#include "parse_guard.h"

#define HL7_NS "urn:hl7-org:v3"
#define FHIR_NS "http://hl7.org/fhir"
#define XSLT_NS "http://www.w3.org/1999/XSL/Transform"
#define MAX_DEPTH 200 /* recursion bound; libxml2 itself stops at 256 */

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
		  contains(in->data, n, HL7_NS);
	if (strcmp(ext, "xml") == 0)
		return cda ? 40 : 10; /* all XML: a right reason for non-CDA XML */
	/* a CDA under another name (.cda, no extension) */
	return cda && n && in->data[0] == '<' ? 20 : 0;
}

/* ---- tree helpers ------------------------------------------------------ */

static int has_ns(const xmlNode *n, const char *ns)
{
	return n && n->ns && n->ns->href && xmlStrcmp(n->ns->href, (const xmlChar *)ns) == 0;
}

/* Is n an element of the HL7 v3 namespace named name? */
static int is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && has_ns(n, HL7_NS) &&
	       xmlStrcmp(n->name, (const xmlChar *)name) == 0;
}

/* The first child element of n named name, or NULL. */
static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* Follow a path of child names ("a/b/c"), or NULL. */
static const xmlNode *path(const xmlNode *n, const char *p)
{
	char name[64];
	while (n && *p) {
		size_t len = strcspn(p, "/");
		if (len >= sizeof name)
			return NULL;
		memcpy(name, p, len);
		name[len] = '\0';
		n = child(n, name);
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

/* Attribute name of n (no namespace), or NULL when absent or empty; the
 * caller frees it with xmlFree. */
static char *attr(const xmlNode *n, const char *name)
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

/* Copy attribute name of n into *field (absent: unchanged). 0 or -1 (memory). */
static int take_attr(char **field, const xmlNode *n, const char *name)
{
	char *v = attr(n, name);
	int rc = v ? carnet_doc__sets(field, v) : 0;
	xmlFree(v);
	return rc;
}

/* "root^extension" (or root alone) of an II element into *field. */
static int take_id(char **field, const xmlNode *id)
{
	char *root = attr(id, "root"), *ext = attr(id, "extension");
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

/* A TS value "YYYYMMDD..." as "YYYY-MM-DD" into *field when it is a date. */
static int take_date(char **field, const xmlNode *ts)
{
	char *v = attr(ts, "value");
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

/* ---- narrative --------------------------------------------------------- */

/* Remove the blanks (space, tab) at the end of out. */
static void trim_end(carnet_buf *out)
{
	while (out->len && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
		out->data[--out->len] = '\0';
}

/* End the current line of out (nothing at the start of a line). */
static int newline(carnet_buf *out)
{
	trim_end(out);
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

/* Append the text of the nodes from n on (and their subtrees) to out:
 * blanks collapsed, a newline after each block element, a tab after each
 * table cell. 0 or -1 (memory). */
static int narrative(const xmlNode *n, carnet_buf *out, int depth)
{
	for (; n && depth < MAX_DEPTH; n = n->next) {
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
		if (block && newline(out) != 0)
			return -1;
		if (narrative(n->children, out, depth + 1) != 0)
			return -1;
		if (block) {
			if (newline(out) != 0)
				return -1;
		} else if (xmlStrcmp(n->name, (const xmlChar *)"td") == 0 ||
			   xmlStrcmp(n->name, (const xmlChar *)"th") == 0) {
			trim_end(out);
			if (out->len && out->data[out->len - 1] != '\n' &&
			    carnet_buf__putc(out, '\t') != 0)
				return -1;
		}
	}
	return 0;
}

/* The narrative of n's children, trimmed, into *field (nothing when
 * empty). 0 or -1 (memory). */
static int take_text(char **field, const xmlNode *n)
{
	if (!n)
		return 0;
	carnet_buf b = CARNET_BUF_INIT;
	int rc = narrative(n->children, &b, 0);
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

/* ---- body -------------------------------------------------------------- */

/* Append "displayName code" for every coded element from n on (and the
 * originalText of coded values), into out. 0 or -1 (memory). */
static int coded(const xmlNode *n, carnet_buf *out, int depth)
{
	for (; n && depth < MAX_DEPTH; n = n->next) {
		if (carnet_budget__over())
			return -1;
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (is(n, "text"))
			continue; /* an entry's text repeats the section narrative */
		if (is(n, "originalText")) {
			if (narrative(n->children, out, depth + 1) != 0 || newline(out) != 0)
				return -1;
			continue;
		}
		char *dn = attr(n, "displayName"), *code = attr(n, "code");
		int rc = 0;
		/* statusCode and the like carry a code without meaning to a reader */
		if (dn || (code && strlen(code) < 40 &&
			   (is(n, "code") || is(n, "value") || is(n, "translation"))))
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
	char *title = NULL, *code = attr(child(s, "code"), "code");
	int rc = take_text(&title, child(s, "title"));
	if (!rc && title)
		rc = carnet_buf__printf(&text, "%s\n", title);
	const xmlNode *nt = child(s, "text");
	if (!rc && nt)
		rc = narrative(nt->children, &text, 0);
	if (!rc)
		trim_end(&text);
	if (!rc && text.len)
		rc = carnet_doc__add_section(d, carnet_doc__section_kind(code, title),
					     text.data, text.len);
	for (const xmlNode *c = s->children; !rc && c; c = c->next) {
		if (is(c, "entry"))
			rc = coded(c->children, codes, 0);
		else if (is(c, "component") && child(c, "section"))
			rc = section(d, codes, child(c, "section"), depth + 1);
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
	const xmlNode *t = child(nx, "text");
	if (!t)
		return bad(err, in, "nonXMLBody without text");
	if (child(t, "reference"))
		return bad(err, in, "nonXMLBody references an external file, which is not fetched");
	char *mt = attr(t, "mediaType"), *rep = attr(t, "representation");
	char *comp = attr(t, "compression");
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

/* ---- header ------------------------------------------------------------ */

/* Patient ids of recordTarget/patientRole: the INS (by its system OID)
 * if any, else the first id with an extension; every other id with an
 * extension into other_ids as "root^extension". 0 or -1 (memory). */
static int patient(carnet_doc *d, const xmlNode *role)
{
	const xmlNode *chosen = NULL;
	for (const xmlNode *c = role ? role->children : NULL; c && !chosen; c = c->next) {
		char *root = attr(c, "root"), *ext = attr(c, "extension");
		if (is(c, "id") && ext && carnet_doc__is_ins_system(root))
			chosen = c;
		xmlFree(root);
		xmlFree(ext);
	}
	for (const xmlNode *c = role ? role->children : NULL; c && !chosen; c = c->next) {
		char *ext = attr(c, "extension");
		if (is(c, "id") && ext)
			chosen = c;
		xmlFree(ext);
	}
	if (!chosen)
		return 0;
	if (take_attr(&d->patient_id, chosen, "extension") ||
	    take_attr(&d->patient_system, chosen, "root"))
		return -1;
	carnet_buf others = CARNET_BUF_INIT;
	int rc = 0;
	for (const xmlNode *c = role->children; c && !rc; c = c->next) {
		if (c == chosen || !is(c, "id"))
			continue;
		char *root = attr(c, "root"), *ext = attr(c, "extension");
		if (ext)
			rc = (others.len && carnet_buf__putc(&others, ' ')) ||
			     carnet_buf__printf(&others, "%s^%s", root ? root : "", ext);
		xmlFree(root);
		xmlFree(ext);
	}
	if (!rc && others.len)
		rc = carnet_doc__set(&d->other_ids, others.data, others.len);
	carnet_buf__free(&others);
	return rc;
}

/* The specialty of an author code: "SM04" for "G15_10/SM04" (a physician's
 * specialty), any other code as given. */
static int take_specialty(char **field, const xmlNode *code)
{
	char *v = attr(code, "code");
	if (!v)
		return 0;
	const char *s = v;
	if (strncmp(v, "G15_10/SM", 9) == 0 && v[9]) {
		size_t i = 9;
		while (v[i] >= '0' && v[i] <= '9')
			i++;
		if (!v[i])
			s = v + 7;
	}
	int rc = carnet_doc__sets(field, s);
	xmlFree(v);
	return rc;
}

/* "Given FAMILY" of a PN element (the first given name and family name,
 * as written). 0 or -1 (memory). */
static int take_name(char **field, const xmlNode *name)
{
	if (!name)
		return 0;
	char *given = NULL, *family = NULL;
	int rc = take_text(&given, child(name, "given")) ||
		 take_text(&family, child(name, "family"));
	carnet_buf b = CARNET_BUF_INIT;
	if (!rc && (given || family))
		rc = carnet_buf__printf(&b, "%s%s%s", given ? given : "",
					given && family ? " " : "", family ? family : "") ||
		     carnet_doc__set(field, b.data, b.len);
	carnet_buf__free(&b);
	free(given);
	free(family);
	return rc;
}

static int author(carnet_doc *d, const xmlNode *a)
{
	if (!a)
		return 0;
	return take_attr(&d->author_id, child(a, "id"), "extension") ||
	       take_specialty(&d->author_specialty, child(a, "code")) ||
	       take_name(&d->author_name, path(a, "assignedPerson/name"));
}

static int encounter(carnet_doc *d, const xmlNode *hcf)
{
	if (!hcf)
		return 0;
	if (take_attr(&d->practice_setting, child(hcf, "code"), "code") ||
	    take_text(&d->facility, path(hcf, "serviceProviderOrganization/name")))
		return -1;
	if (!d->facility && take_text(&d->facility, path(hcf, "location/name")))
		return -1;
	if (!d->facility && take_attr(&d->facility, child(hcf, "code"), "displayName"))
		return -1;
	return 0;
}

/* Fill d from the header of cda. 0 or -1 (memory). */
static int header(carnet_doc *d, const xmlNode *cda)
{
	if (take_id(&d->id, child(cda, "id")) || take_id(&d->set_id, child(cda, "setId")) ||
	    take_attr(&d->type, child(cda, "code"), "code") ||
	    take_text(&d->title, child(cda, "title")) ||
	    take_date(&d->date, child(cda, "effectiveTime")) ||
	    take_attr(&d->confidentiality, child(cda, "confidentialityCode"), "code") ||
	    take_attr(&d->language, child(cda, "languageCode"), "code") ||
	    patient(d, path(cda, "recordTarget/patientRole")) ||
	    author(d, path(cda, "author/assignedAuthor")) ||
	    encounter(d, path(cda, "componentOf/encompassingEncounter/location/"
				   "healthCareFacility")))
		return -1;
	char *version = attr(child(cda, "versionNumber"), "value");
	if (version) {
		char *end;
		long v = strtol(version, &end, 10);
		if (!*end && v > 0 && v < 1000000)
			d->version = (int)v;
		xmlFree(version);
	}
	const xmlNode *cust = path(cda, "custodian/assignedCustodian/"
				   "representedCustodianOrganization");
	if (take_text(&d->custodian, child(cust, "name")) ||
	    (!d->custodian && take_attr(&d->custodian, child(cust, "id"), "extension")))
		return -1;
	const xmlNode *ev = path(cda, "documentationOf/serviceEvent/effectiveTime");
	if (take_date(&d->service_start, child(ev, "low")) ||
	    take_date(&d->service_end, child(ev, "high")))
		return -1;
	for (const xmlNode *c = cda->children; c; c = c->next) {
		if (!is(c, "relatedDocument"))
			continue;
		char *tc = attr(c, "typeCode");
		int rplc = tc && strcmp(tc, "RPLC") == 0;
		xmlFree(tc);
		if (rplc && take_id(&d->replaces, path(c, "parentDocument/id")))
			return -1;
	}
	return carnet_doc__sets(&d->format, "cda");
}

/* The ClinicalDocument element: the root, or inside an XSL stylesheet (the
 * CI-SIS "autoprésentable" documents carry it as the stylesheet's data). */
static const xmlNode *find_cda(const xmlNode *root)
{
	if (is(root, "ClinicalDocument"))
		return root;
	if (!has_ns(root, XSLT_NS))
		return NULL;
	for (const xmlNode *c = root->children; c; c = c->next) {
		if (is(c, "ClinicalDocument"))
			return c;
		for (const xmlNode *g = c->type == XML_ELEMENT_NODE ? c->children : NULL; g;
		     g = g->next)
			if (is(g, "ClinicalDocument"))
				return g;
	}
	return NULL;
}

/* Why root is not a CDA, into err. */
static int not_cda(const carnet_input *in, const xmlNode *root, carnet_error *err)
{
	char why[200];
	const char *name = root ? (const char *)root->name : "missing";
	if (has_ns(root, FHIR_NS))
		snprintf(why, sizeof why, "FHIR XML (root %.40s), which is not read (FHIR is "
					  "read as JSON)", name);
	else if (root && xmlStrcmp(root->name, (const xmlChar *)"ClinicalDocument") == 0)
		snprintf(why, sizeof why, "XML root ClinicalDocument is not in the HL7 v3 "
					  "namespace (%s)", HL7_NS);
	else if (has_ns(root, HL7_NS))
		snprintf(why, sizeof why, "XML root is %.40s (an HL7 v3 fragment), not an HL7 "
					  "CDA ClinicalDocument", name);
	else
		snprintf(why, sizeof why, "XML root is %.40s, not an HL7 CDA ClinicalDocument",
			 name);
	return bad(err, in, why);
}

/* A document belongs to one patient: a CDA with several recordTargets is
 * refused, naming the first two. */
static int one_patient(const xmlNode *cda, const carnet_input *in, carnet_error *err)
{
	const xmlNode *first = NULL;
	int n = 0, rc = CARNET_OK;
	for (const xmlNode *c = cda->children; c && rc == CARNET_OK; c = c->next) {
		if (!is(c, "recordTarget"))
			continue;
		if (n++ == 0) {
			first = c;
			continue;
		}
		carnet_doc a, b;
		carnet_doc__init(&a);
		carnet_doc__init(&b);
		if (patient(&a, child(first, "patientRole")) || patient(&b, child(c, "patientRole"))) {
			rc = carnet_reader__nomem(err, in->path);
		} else {
			const char *ia = carnet_doc__valid_id(a.patient_id) ? a.patient_id : "(none)";
			const char *ib = carnet_doc__valid_id(b.patient_id) ? b.patient_id : "(none)";
			rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
					       CARNET_READER_PATIENT_CONFLICT,
					       "%s: CDA has several recordTargets (patients %.128s and %.128s): "
					       "a document belongs to one patient",
					       in->path, ia, ib);
		}
		carnet_doc__clear(&a);
		carnet_doc__clear(&b);
	}
	return rc;
}

/* Visibility codes (MASQUE_PS, ...) carried as translations of the
 * confidentialityCode join the confidentiality codes. 0 or -1 (memory). */
static int visibility(carnet_doc *d, const xmlNode *cda)
{
	const xmlNode *cc = child(cda, "confidentialityCode");
	for (const xmlNode *t = cc ? cc->children : NULL; t; t = t->next) {
		char *code = is(t, "translation") ? attr(t, "code") : NULL;
		int rc = 0;
		if (code && carnet_doc__is_visibility(code, strlen(code))) {
			carnet_buf b = CARNET_BUF_INIT;
			rc = carnet_buf__printf(&b, "%s%s%s", d->confidentiality ? d->confidentiality : "",
						d->confidentiality ? " " : "", code) ||
			     carnet_doc__set(&d->confidentiality, b.data, b.len);
			carnet_buf__free(&b);
		}
		xmlFree(code);
		if (rc)
			return -1;
	}
	return 0;
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
	if (header(&d, cda) != 0 || visibility(&d, cda) != 0)
		goto nomem;
	if (!d.patient_id) {
		rc = bad(err, in, "no patient id in recordTarget");
		goto out;
	}
	if ((rc = one_patient(cda, in, err)) != CARNET_OK)
		goto out;
	const xmlNode *comp = child(cda, "component");
	const xmlNode *sb = child(comp, "structuredBody");
	const xmlNode *nx = child(comp, "nonXMLBody");
	if (sb) {
		for (const xmlNode *c = sb->children; c; c = c->next)
			if (is(c, "component") && child(c, "section") &&
			    section(&d, &codes, child(c, "section"), 0) != 0)
				goto nomem;
		trim_end(&codes);
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
