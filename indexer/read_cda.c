/* read_cda.c - HL7 CDA R2 (French CI-SIS profiles and C-CDA): header
 * metadata, section titles and narrative, coded entries, and nonXMLBody
 * content. libxml2 with no network and no entity expansion. */
#include "reader.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base64.h"
#include "schema.h"
#include "text.h"

#define HL7_NS "urn:hl7-org:v3"
#define FHIR_NS "http://hl7.org/fhir"

static int sniff(const carnet_input *in)
{
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	size_t n = in->len < 8192 ? in->len : 8192;
	int cda = 0;
	for (size_t i = 0; i + 16 <= n && !cda; i++)
		cda = memcmp(in->data + i, "ClinicalDocument", 16) == 0;
	if (strcmp(ext, "xml") == 0)
		return cda ? 40 : 10; /* all XML: a right reason for non-CDA XML */
	return cda && n && in->data[0] == '<' ? 20 : 0;
}

/* Is n an element of the HL7 v3 namespace named name? */
static int is(const xmlNode *n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       xmlStrcmp(n->ns->href, (const xmlChar *)HL7_NS) == 0 &&
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

/* Copy attribute name of n into *field (NULL stays NULL). 0 or -1 (memory). */
static int take_attr(char **field, const xmlNode *n, const char *name)
{
	if (!n)
		return 0;
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	if (!v)
		return 0;
	int rc = *v ? carnet_doc__sets(field, (const char *)v) : 0;
	xmlFree(v);
	return rc;
}

/* "root^extension" (or root) of an II element into *field. */
static int take_id(char **field, const xmlNode *id)
{
	if (!id)
		return 0;
	xmlChar *root = xmlGetNoNsProp(id, (const xmlChar *)"root");
	xmlChar *ext = xmlGetNoNsProp(id, (const xmlChar *)"extension");
	int rc = 0;
	if (root && *root) {
		char buf[CARNET_ID_MAX * 2 + 2];
		if (ext && *ext)
			snprintf(buf, sizeof buf, "%s^%s", root, ext);
		else
			snprintf(buf, sizeof buf, "%s", root);
		rc = carnet_doc__sets(field, buf);
	}
	xmlFree(root);
	xmlFree(ext);
	return rc;
}

/* A TS value "YYYYMMDD..." as "YYYY-MM-DD" into *field when well formed. */
static int take_date(char **field, const xmlNode *ts)
{
	if (!ts)
		return 0;
	xmlChar *v = xmlGetNoNsProp(ts, (const xmlChar *)"value");
	int rc = 0;
	if (v && xmlStrlen(v) >= 8) {
		char d[11];
		snprintf(d, sizeof d, "%.4s-%.2s-%.2s", (const char *)v, (const char *)v + 4,
			 (const char *)v + 6);
		if (carnet_doc__valid_date(d))
			rc = carnet_doc__sets(field, d);
	}
	xmlFree(v);
	return rc;
}

/* Append the text of n's subtree to out: newline after blocks, tab after
 * cells, blanks collapsed. 0 or -1 (memory). */
static int narrative(const xmlNode *n, carnet_buf *out, int depth)
{
	static const char *const blocks[] = { "paragraph", "item", "tr", "caption", "list",
					      "table", "br", "title", NULL };
	for (; n && depth < 200; n = n->next) {
		if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
			for (const char *t = (const char *)n->content; t && *t; t++) {
				char c = (*t == '\n' || *t == '\r' || *t == '\t') ? ' ' : *t;
				if (c == ' ' && (!out->len || out->data[out->len - 1] == ' ' ||
						 out->data[out->len - 1] == '\n' ||
						 out->data[out->len - 1] == '\t'))
					continue;
				if (carnet_buf__putc(out, c) != 0)
					return -1;
			}
			continue;
		}
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (narrative(n->children, out, depth + 1) != 0)
			return -1;
		int block = 0;
		for (size_t i = 0; blocks[i]; i++)
			block |= xmlStrcmp(n->name, (const xmlChar *)blocks[i]) == 0;
		if (block && out->len && out->data[out->len - 1] != '\n') {
			if (carnet_buf__putc(out, '\n') != 0)
				return -1;
		} else if ((xmlStrcmp(n->name, (const xmlChar *)"td") == 0 ||
			    xmlStrcmp(n->name, (const xmlChar *)"th") == 0) &&
			   carnet_buf__putc(out, '\t') != 0) {
			return -1;
		}
	}
	return 0;
}

/* Append "displayName code" for every coded element under n. */
static int coded(const xmlNode *n, carnet_buf *out, int depth)
{
	for (; n && depth < 200; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		xmlChar *dn = xmlGetNoNsProp(n, (const xmlChar *)"displayName");
		xmlChar *code = xmlGetNoNsProp(n, (const xmlChar *)"code");
		int rc = 0;
		if ((dn && *dn) || (code && *code && xmlStrlen(code) < 40 &&
				    xmlStrcmp(n->name, (const xmlChar *)"statusCode") != 0))
			rc = carnet_buf__printf(out, "%s %s\n", dn ? (const char *)dn : "",
						code ? (const char *)code : "");
		xmlFree(dn);
		xmlFree(code);
		if (rc)
			return -1;
		if (is(n, "originalText") && narrative(n->children, out, depth + 1) != 0)
			return -1;
		if (is(n, "text") || is(n, "originalText"))
			continue;
		if (coded(n->children, out, depth + 1) != 0)
			return -1;
	}
	return 0;
}

/* Does a section title or code mark a conclusion-like section? */
static int concludes(const char *title, const char *code)
{
	static const char *const codes[] = { "55110-1", "29548-5", "29299-5", "51848-0",
					     "11535-2", "42349-1", NULL };
	for (size_t i = 0; code && codes[i]; i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	if (!title)
		return 0;
	carnet_buf f = CARNET_BUF_INIT;
	int yes = 0;
	if (carnet_text__fold(&f, title, strlen(title), NULL) == CARNET_OK && f.data) {
		static const char *const words[] = { "conclusion", "synthese", "motif",
						     "diagnostic", "resultat", "impression",
						     "assessment", NULL };
		for (size_t i = 0; words[i] && !yes; i++)
			yes = strstr(f.data, words[i]) != NULL;
	}
	carnet_buf__free(&f);
	return yes;
}

typedef struct body {
	carnet_doc *doc;
	const carnet_input *in;
	carnet_buf codes; /* coded entries of every section */
} body;

static int section(body *b, const xmlNode *s, int depth)
{
	if (depth > 50)
		return 0;
	carnet_buf text = CARNET_BUF_INIT;
	char *title = NULL, *code = NULL;
	int rc = 0;
	const xmlNode *t = child(s, "title");
	if (t) {
		xmlChar *v = xmlNodeGetContent(t);
		if (v && *v)
			rc = carnet_doc__sets(&title, (const char *)v);
		xmlFree(v);
	}
	if (!rc)
		rc = take_attr(&code, child(s, "code"), "code");
	if (!rc && title)
		rc = carnet_buf__printf(&text, "%s\n", title);
	const xmlNode *nt = child(s, "text");
	if (!rc && nt)
		rc = narrative(nt->children, &text, 0);
	if (!rc && text.len)
		rc = carnet_doc__add_section(b->doc, concludes(title, code)
						     ? CARNET_WEIGHT_CONCLUSION
						     : CARNET_WEIGHT_BODY,
					     text.data, text.len);
	for (const xmlNode *c = s->children; !rc && c; c = c->next) {
		if (is(c, "entry"))
			rc = coded(c->children, &b->codes, 0);
		else if (is(c, "component") && child(c, "section"))
			rc = section(b, child(c, "section"), depth + 1);
	}
	carnet_buf__free(&text);
	free(title);
	free(code);
	return rc;
}

/* The ClinicalDocument element: the root, or inside a wrapper (the CI-SIS
 * "autoprésentable" documents wrap it in an XSL stylesheet). */
static const xmlNode *find_cda(const xmlNode *n, int depth)
{
	for (; n && depth < 8; n = n->next) {
		if (is(n, "ClinicalDocument"))
			return n;
		if (n->type == XML_ELEMENT_NODE) {
			const xmlNode *c = find_cda(n->children, depth + 1);
			if (c)
				return c;
		}
	}
	return NULL;
}

static int bad(carnet_error *err, const carnet_input *in, const char *why)
{
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0, "%s: %s",
				 in->path, why);
}

static int is_ins(const char *root)
{
	return carnet_doc__is_ins_system(root);
}

/* Patient ids of recordTarget/patientRole: the INS first, else the first id
 * with an extension; every other one into other_ids. */
static int patient(carnet_doc *d, const xmlNode *role)
{
	carnet_buf others = CARNET_BUF_INIT;
	int rc = 0, have_ins = 0;
	for (int pass = 0; pass < 2 && !rc; pass++) {
		for (const xmlNode *c = role ? role->children : NULL; c && !rc; c = c->next) {
			if (!is(c, "id"))
				continue;
			xmlChar *root = xmlGetNoNsProp(c, (const xmlChar *)"root");
			xmlChar *ext = xmlGetNoNsProp(c, (const xmlChar *)"extension");
			int ins = is_ins((const char *)root);
			if (pass == 0 && ins && ext && *ext && !have_ins) {
				have_ins = 1;
				rc = carnet_doc__sets(&d->patient_id, (const char *)ext) ||
				     carnet_doc__sets(&d->patient_system, (const char *)root);
			} else if (pass == 1 && ext && *ext &&
				   !(d->patient_id && strcmp(d->patient_id, (const char *)ext) == 0 &&
				     ins)) {
				if (!d->patient_id)
					rc = carnet_doc__sets(&d->patient_id, (const char *)ext) ||
					     carnet_doc__sets(&d->patient_system,
							      root ? (const char *)root : "");
				else
					rc = (others.len && carnet_buf__putc(&others, ' ')) ||
					     carnet_buf__printf(&others, "%s^%s",
								root ? (const char *)root : "",
								(const char *)ext);
			}
			xmlFree(root);
			xmlFree(ext);
		}
	}
	if (!rc && others.len)
		rc = carnet_doc__set(&d->other_ids, others.data, others.len);
	carnet_buf__free(&others);
	return rc;
}

static int header(carnet_doc *d, const xmlNode *cda)
{
	int rc = take_id(&d->id, child(cda, "id")) || take_id(&d->set_id, child(cda, "setId")) ||
		 take_attr(&d->type, child(cda, "code"), "code") ||
		 take_date(&d->date, child(cda, "effectiveTime")) ||
		 take_attr(&d->confidentiality, child(cda, "confidentialityCode"), "code") ||
		 take_attr(&d->language, child(cda, "languageCode"), "code");
	if (rc)
		return rc;
	char *version = NULL;
	if (take_attr(&version, child(cda, "versionNumber"), "value"))
		return -1;
	if (version) {
		int v = atoi(version);
		d->version = v > 0 && v < 1000000 ? v : 1;
		free(version);
	}
	const xmlNode *t = child(cda, "title");
	if (t) {
		xmlChar *v = xmlNodeGetContent(t);
		if (v && *v) {
			/* collapse blanks */
			carnet_buf b = CARNET_BUF_INIT;
			rc = narrative(t->children, &b, 0);
			while (!rc && b.len && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\n'))
				b.data[--b.len] = '\0';
			if (!rc && b.len)
				rc = carnet_doc__set(&d->title, b.data, b.len);
			carnet_buf__free(&b);
		}
		xmlFree(v);
		if (rc)
			return rc;
	}
	if ((rc = patient(d, path(cda, "recordTarget/patientRole"))))
		return rc;
	const xmlNode *author = path(cda, "author/assignedAuthor");
	if (author) {
		const xmlNode *id = child(author, "id");
		if ((rc = take_attr(&d->author_id, id, "extension")))
			return rc;
		char *code = NULL;
		if ((rc = take_attr(&code, child(author, "code"), "code")))
			return rc;
		if (code) {
			const char *sm = strncmp(code, "G15_10/", 7) == 0 ? code + 7 : code;
			rc = carnet_doc__sets(&d->author_specialty, sm);
			free(code);
			if (rc)
				return rc;
		}
		const xmlNode *name = path(author, "assignedPerson/name");
		if (name) {
			carnet_buf b = CARNET_BUF_INIT;
			const char *parts[] = { "given", "family" };
			for (int i = 0; i < 2 && !rc; i++) {
				xmlChar *v = xmlNodeGetContent(child(name, parts[i]));
				if (v && *v)
					rc = (b.len && carnet_buf__putc(&b, ' ')) ||
					     carnet_buf__puts(&b, (const char *)v);
				xmlFree(v);
			}
			if (!rc && b.len)
				rc = carnet_doc__set(&d->author_name, b.data, b.len);
			carnet_buf__free(&b);
			if (rc)
				return rc;
		}
	}
	const xmlNode *cust = path(cda, "custodian/assignedCustodian/representedCustodianOrganization");
	if (cust) {
		xmlChar *v = xmlNodeGetContent(child(cust, "name"));
		rc = v && *v ? carnet_doc__sets(&d->custodian, (const char *)v)
			     : take_attr(&d->custodian, child(cust, "id"), "extension");
		xmlFree(v);
		if (rc)
			return rc;
	}
	const xmlNode *ev = path(cda, "documentationOf/serviceEvent/effectiveTime");
	if ((rc = take_date(&d->service_start, child(ev, "low"))) ||
	    (rc = take_date(&d->service_end, child(ev, "high"))))
		return rc;
	const xmlNode *hcf = path(cda, "componentOf/encompassingEncounter/location/healthCareFacility");
	if (hcf) {
		if ((rc = take_attr(&d->practice_setting, child(hcf, "code"), "code")))
			return rc;
		xmlChar *v = xmlNodeGetContent(path(hcf, "serviceProviderOrganization/name"));
		if (v && *v)
			rc = carnet_doc__sets(&d->facility, (const char *)v);
		else
			rc = take_attr(&d->facility, child(hcf, "code"), "displayName");
		xmlFree(v);
		if (rc)
			return rc;
	}
	for (const xmlNode *c = cda->children; c; c = c->next) {
		if (!is(c, "relatedDocument"))
			continue;
		xmlChar *tc = xmlGetNoNsProp(c, (const xmlChar *)"typeCode");
		int rplc = tc && xmlStrcmp(tc, (const xmlChar *)"RPLC") == 0;
		xmlFree(tc);
		if (rplc && (rc = take_id(&d->replaces, path(c, "parentDocument/id"))))
			return rc;
	}
	return carnet_doc__sets(&d->format, "cda");
}

/* nonXMLBody: base64 or plain text content, or a refused external reference. */
static int non_xml(carnet_doc *d, const carnet_input *in, const xmlNode *nx,
		   carnet_error *err)
{
	const xmlNode *t = child(nx, "text");
	if (!t)
		return bad(err, in, "nonXMLBody without text");
	if (child(t, "reference"))
		return bad(err, in, "nonXMLBody references an external file, which is not fetched");
	xmlChar *compression = xmlGetNoNsProp(t, (const xmlChar *)"compression");
	if (compression) {
		xmlFree(compression);
		return bad(err, in, "compressed nonXMLBody (compression attribute) is not read");
	}
	xmlChar *mt = xmlGetNoNsProp(t, (const xmlChar *)"mediaType");
	xmlChar *rep = xmlGetNoNsProp(t, (const xmlChar *)"representation");
	xmlChar *content = xmlNodeGetContent(t);
	int rc = CARNET_OK;
	const char *mime = mt ? (const char *)mt : "text/plain";
	if (!content) {
		rc = bad(err, in, "nonXMLBody is empty");
	} else if (rep && xmlStrcmp(rep, (const xmlChar *)"B64") == 0) {
		carnet_buf bytes = CARNET_BUF_INIT;
		size_t off = 0;
		int b64 = carnet_base64__decode(&bytes, (const char *)content,
						(size_t)xmlStrlen(content), &off);
		if (b64 == CARNET_E_NOMEM)
			rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					       "%s: out of memory", in->path);
		else if (b64)
			rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					       "%s: nonXMLBody is not valid base64 (at character %zu)",
					       in->path, off);
		else
			rc = carnet_reader__embedded(d, in, mime, bytes.data ? bytes.data : "",
						     bytes.len, CARNET_WEIGHT_BODY, err);
		carnet_buf__free(&bytes);
	} else {
		rc = carnet_reader__embedded(d, in, mime, (const char *)content,
					     (size_t)xmlStrlen(content), CARNET_WEIGHT_BODY, err);
	}
	xmlFree(mt);
	xmlFree(rep);
	xmlFree(content);
	return rc;
}

/* Entity declarations are refused before parsing: no external entity is
 * ever resolved and no expansion can blow up. */
static int declares_entities(const char *data, size_t len)
{
	const char *doctype = NULL;
	for (size_t i = 0; i + 9 <= len && !doctype; i++)
		if (memcmp(data + i, "<!DOCTYPE", 9) == 0)
			doctype = data + i;
	if (!doctype)
		return 0;
	size_t rest = len - (size_t)(doctype - data);
	for (size_t i = 0; i + 8 <= rest; i++)
		if (memcmp(doctype + i, "<!ENTITY", 8) == 0)
			return 1;
	return 0;
}

static int read_cda(const carnet_input *in, carnet_doc_sink sink, void *payload,
		    carnet_error *err)
{
	if (in->len == 0)
		return bad(err, in, "empty file");
	if (in->len > (size_t)INT32_MAX)
		return bad(err, in, "XML too large");
	if (declares_entities(in->data, in->len))
		return bad(err, in, "DOCTYPE declares entities (external entities and entity "
				    "expansion are refused)");
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
					 "%s: out of memory", in->path);
	xmlDocPtr xml = xmlCtxtReadMemory(ctxt, in->data, (int)in->len, NULL, NULL,
					  XML_PARSE_NONET | XML_PARSE_NOERROR |
						  XML_PARSE_NOWARNING);
	int rc = CARNET_OK;
	carnet_doc d;
	carnet_doc__init(&d);
	body b = { &d, in, CARNET_BUF_INIT };
	if (!xml) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT,
				       e ? e->code : 0,
				       "%s: malformed XML at line %d (libxml2 error %d)", in->path,
				       e ? e->line : 0, e ? e->code : 0);
		goto out;
	}
	/* the byte scan above misses a DOCTYPE in UTF-16: look at what the
	 * parser declared (nothing was substituted: no XML_PARSE_NOENT) */
	if (xml->intSubset && (xml->intSubset->entities || xml->intSubset->pentities)) {
		rc = bad(err, in, "DOCTYPE declares entities (external entities and entity "
				  "expansion are refused)");
		goto out;
	}
	const xmlNode *root = xmlDocGetRootElement(xml);
	const xmlNode *cda = find_cda(root, 0);
	if (!cda) {
		char why[200];
		int fhir = root && root->ns &&
			   xmlStrcmp(root->ns->href, (const xmlChar *)FHIR_NS) == 0;
		snprintf(why, sizeof why, fhir ? "FHIR XML (root %.40s) is not read; use FHIR JSON"
					       : "XML root is %.40s, not an HL7 CDA ClinicalDocument",
			 root ? (const char *)root->name : "missing");
		rc = bad(err, in, why);
		goto out;
	}
	if (header(&d, cda) != 0)
		goto nomem;
	if (!d.patient_id) {
		rc = bad(err, in, "no patient id in recordTarget");
		goto out;
	}
	const xmlNode *comp = child(cda, "component");
	const xmlNode *sb = child(comp, "structuredBody");
	const xmlNode *nx = child(comp, "nonXMLBody");
	if (sb) {
		for (const xmlNode *c = sb->children; c; c = c->next)
			if (is(c, "component") && child(c, "section") &&
			    section(&b, child(c, "section"), 0) != 0)
				goto nomem;
		if (b.codes.len &&
		    carnet_doc__add_section(&d, CARNET_WEIGHT_BODY, b.codes.data, b.codes.len) != 0)
			goto nomem;
	} else if (nx) {
		if ((rc = non_xml(&d, in, nx, err)))
			goto out;
	}
	rc = sink(&d, payload);
	goto out;
nomem:
	rc = carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
			       "%s: out of memory", in->path);
out:
	carnet_doc__clear(&d);
	carnet_buf__free(&b.codes);
	if (xml)
		xmlFreeDoc(xml);
	xmlFreeParserCtxt(ctxt);
	return rc;
}

const carnet_reader carnet_reader_cda = { "cda", 0, sniff, read_cda };
