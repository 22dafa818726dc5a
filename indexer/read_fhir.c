/* SPDX-License-Identifier: GPL-2.0-or-later */
/* read_fhir.c - FHIR R4 JSON reader: a DocumentReference, a submission,
 * search or collection Bundle of DocumentReferences, or a document Bundle
 * (Composition); one document per DocumentReference or Composition, with
 * the text of its attachments (base64 text, HTML, PDF, CDA) or sections. */
#include "reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base64.h"
#include "patient.h"
#include "util.h"

/* The OIDs of the INS (national health identifier), preferred in order. */
static const char *const ins_oids[] = {
	"1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.9", "1.2.250.1.213.1.4.10",
	"1.2.250.1.213.1.4.11",
};
#define RPPS_OID "1.2.250.1.71.4.2.1"
#define MAX_SECTION_DEPTH 8

/* Reading state of one input. Errors are sticky: once rc is set, the
 * steps that follow do nothing. */
typedef struct ctx {
	const carnet_input *in;
	carnet_error *err;
	int rc;
	carnet_doc *docs;  /* built documents, emitted once all are good */
	size_t count, cap;
} ctx;

static int nomem(ctx *c)
{
	if (!c->rc)
		c->rc = carnet_reader__nomem(c->err, c->in->path);
	return c->rc;
}

/* A value safe to name in a message (a FHIR type or code name, never
 * free text): letters, digits and '-', at most 40 bytes. */
static const char *safe_name(const char *s)
{
	size_t n = 0;
	if (!s)
		return "(none)";
	for (; s[n]; n++)
		if (n >= 40 || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
				 (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return "(not a name)";
	return n ? s : "(empty)";
}

/* ---- JSON access ---- */

/* JSON handed to jansson in pieces, the time budget checked between. */
typedef struct json_feed {
	const char *data;
	size_t len, off;
} json_feed;

static size_t feed(void *buffer, size_t size, void *payload)
{
	json_feed *f = payload;
	if (carnet_budget__over())
		return (size_t)-1;
	size_t n = f->len - f->off;
	if (n > size)
		n = size;
	if (n > 64 * 1024)
		n = 64 * 1024;
	memcpy(buffer, f->data + f->off, n);
	f->off += n;
	return n;
}

/* json_loadb, stopping when the document's time is up (NULL then, and
 * carnet_budget__expired says so). */
static json_t *load_json(const char *data, size_t len, json_error_t *jerr)
{
	json_feed f = { data, len, 0 };
	return json_load_callback(feed, &f, JSON_REJECT_DUPLICATES, jerr);
}

/* The non-empty string at obj[key], or NULL. */
static const char *jstr(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	return s && *s ? s : NULL;
}

/* obj[key][0] when obj[key] is an array, obj[key] when it is an object. */
static json_t *jfirst(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_object(v) ? v : NULL;
}

static json_t *jpath(json_t *obj, const char *k1, const char *k2)
{
	json_t *v = json_object_get(obj, k1);
	v = json_is_object(v) ? json_object_get(v, k2) : NULL;
	return v;
}

static int rtype_is(json_t *res, const char *type)
{
	const char *t = jstr(res, "resourceType");
	return t && strcmp(t, type) == 0;
}

/* "urn:oid:1.2.3" -> "1.2.3"; other systems unchanged. */
static const char *strip_oid(const char *system)
{
	if (system && strncmp(system, "urn:oid:", 8) == 0)
		return system + 8;
	return system;
}

/* Does system (with or without "urn:oid:") end with the OID suffix? */
static int system_ends(const char *system, const char *suffix)
{
	if (!system)
		return 0;
	size_t n = strlen(system), m = strlen(suffix);
	return n >= m && strcmp(system + n - m, suffix) == 0;
}

/* The code of the first coding of a CodeableConcept, preferring a coding
 * of system `prefer` (NULL: the first). */
static json_t *pick_coding(json_t *concept, const char *prefer)
{
	json_t *codings = json_object_get(concept, "coding"), *c;
	size_t i;
	if (!json_is_array(codings))
		return NULL;
	if (prefer)
		json_array_foreach(codings, i, c) {
			const char *sys = jstr(c, "system");
			if (sys && strcmp(sys, prefer) == 0 && jstr(c, "code"))
				return c;
		}
	json_array_foreach(codings, i, c)
		if (jstr(c, "code"))
			return c;
	return NULL;
}

/* The id part of a reference: "DocumentReference/x" -> "x",
 * "http://h/Patient/x/_history/2" -> "x", "urn:uuid:u" -> "u". Returns a
 * pointer into ref and the length in *len (0 when there is none). */
static const char *ref_id(const char *ref, size_t *len)
{
	size_t n = strlen(ref);
	const char *h = strstr(ref, "/_history/");
	if (h)
		n = (size_t)(h - ref);
	size_t q = strcspn(ref, "?#");
	if (q < n)
		n = q;
	size_t start = n;
	while (start > 0 && ref[start - 1] != '/' && ref[start - 1] != ':')
		start--;
	*len = n - start;
	return ref + start;
}

/* The "Type" of "…/Type/id" into out; "" when there is none. */
static void ref_type(const char *ref, char *out, size_t size)
{
	size_t idlen;
	const char *id = ref_id(ref, &idlen);
	out[0] = '\0';
	if (id == ref || id[-1] != '/')
		return;
	const char *end = id - 1, *start = end;
	while (start > ref && start[-1] != '/')
		start--;
	size_t n = (size_t)(end - start);
	if (n && n < size) {
		memcpy(out, start, n);
		out[n] = '\0';
	}
}

/* How a reference resolved (resolve_ref). */
enum { REF_FOUND, REF_NONE, REF_OTHER_SERVER, REF_AMBIGUOUS };

/* The fullUrl of the entry of bundle holding res, or NULL. */
static const char *full_url_of(json_t *bundle, json_t *res)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(bundle, "entry"), i, e)
		if (json_object_get(e, "resource") == res)
			return jstr(e, "fullUrl");
	return NULL;
}

/* Is ref absolute ("http://h/Patient/x", "urn:uuid:u")? */
static int ref_absolute(const char *ref)
{
	return strstr(ref, "://") != NULL || strncmp(ref, "urn:", 4) == 0;
}

/* The length of the server base of absolute url ".../Type/id[/_history/n]":
 * what comes before "Type/id"; 0 when there is none (urn:). */
static size_t url_base_len(const char *url)
{
	size_t idlen;
	const char *id = ref_id(url, &idlen);
	if (strncmp(url, "urn:", 4) == 0 || id == url || id[-1] != '/')
		return 0;
	const char *t = id - 1;
	while (t > url && t[-1] != '/')
		t--;
	return (size_t)(t - url);
}

/* The resource a reference points to: "#id" among container's contained
 * resources; otherwise the entry of bundle whose fullUrl is the reference
 * (a relative one made absolute with the base of container's own
 * fullUrl). A relative reference in a bundle whose entries have no
 * fullUrl falls back to the entry of that type and id. Returns REF_FOUND
 * with *out set; REF_OTHER_SERVER when only an entry of another server
 * has that type and id (its fullUrl in *other); REF_AMBIGUOUS when
 * entries of several servers do; REF_NONE otherwise. */
static int resolve_ref(json_t *container, json_t *bundle, const char *ref, json_t **out,
		       const char **other)
{
	json_t *r, *e;
	size_t i;
	*out = NULL;
	if (other)
		*other = NULL;
	if (!ref)
		return REF_NONE;
	if (ref[0] == '#') {
		json_array_foreach(json_object_get(container, "contained"), i, r)
			if (json_is_object(r) && jstr(r, "id") && strcmp(jstr(r, "id"), ref + 1) == 0) {
				*out = r;
				return REF_FOUND;
			}
		return REF_NONE;
	}
	json_t *entries = json_object_get(bundle, "entry");
	/* the reference as an absolute url */
	carnet_buf want = CARNET_BUF_INIT;
	const char *own = full_url_of(bundle, container);
	size_t base = own && !ref_absolute(ref) ? url_base_len(own) : 0;
	int oom = base ? carnet_buf__printf(&want, "%.*s%s", (int)base, own, ref)
		       : carnet_buf__puts(&want, ref);
	json_array_foreach(entries, i, e) {
		const char *url = jstr(e, "fullUrl");
		r = json_object_get(e, "resource");
		if (!oom && url && json_is_object(r) && strcmp(url, want.data) == 0) {
			carnet_buf__free(&want);
			*out = r;
			return REF_FOUND;
		}
	}
	carnet_buf__free(&want);
	char type[64];
	size_t idlen;
	const char *id = ref_id(ref, &idlen);
	ref_type(ref, type, sizeof type);
	if (!type[0] || !idlen)
		return REF_NONE;
	/* entries of that type and id: usable only if no server says
	 * otherwise (an absolute reference, or a known base, must match) */
	json_t *found = NULL;
	const char *found_url = NULL;
	int servers = 0, rc = REF_NONE;
	json_array_foreach(entries, i, e) {
		r = json_object_get(e, "resource");
		const char *rid = jstr(r, "id");
		if (!rid || !rtype_is(r, type) || strlen(rid) != idlen || memcmp(rid, id, idlen) != 0)
			continue;
		const char *url = jstr(e, "fullUrl");
		if (url && (ref_absolute(ref) || base)) {
			if (other)
				*other = url;
			rc = REF_OTHER_SERVER;
			continue;
		}
		if (found && url && found_url && url_base_len(url) == url_base_len(found_url) &&
		    strncmp(url, found_url, url_base_len(url)) == 0)
			continue; /* the same server's resource twice */
		servers++;
		found = r;
		found_url = url;
	}
	if (servers > 1)
		return REF_AMBIGUOUS;
	if (found) {
		*out = found;
		return REF_FOUND;
	}
	return rc;
}

static json_t *resolve(json_t *container, json_t *bundle, const char *ref)
{
	json_t *r;
	return resolve_ref(container, bundle, ref, &r, NULL) == REF_FOUND ? r : NULL;
}

/* ---- filling fields ---- */

/* Set *field to value[0..len) unless it is already set or value is empty. */
static void fill_n(ctx *c, char **field, const char *value, size_t len)
{
	if (c->rc || *field || !value || !len)
		return;
	if (carnet_doc__set(field, value, len) != 0)
		nomem(c);
}

static void fill(ctx *c, char **field, const char *value)
{
	if (value)
		fill_n(c, field, value, strlen(value));
}

/* Set a date field from a FHIR date, dateTime or instant (its day). */
static void fill_date(ctx *c, char **field, const char *value)
{
	char day[11];
	if (!value || strlen(value) < 10)
		return;
	memcpy(day, value, 10);
	day[10] = '\0';
	if (carnet_doc__valid_date(day))
		fill(c, field, day);
}

/* A code usable as an index term: the part after the last '/'
 * ("G15_10/SM04" -> "SM04"). */
static void fill_code(ctx *c, char **field, const char *code)
{
	if (!code)
		return;
	const char *slash = strrchr(code, '/');
	if (slash && slash[1])
		code = slash + 1;
	if (carnet_doc__valid_id(code))
		fill(c, field, code);
}

/* "fr-FR" -> "fr". */
static void fill_language(ctx *c, char **field, const char *lang)
{
	char out[4];
	size_t n = 0;
	if (!lang)
		return;
	while (n < 3 && ((lang[n] >= 'a' && lang[n] <= 'z') || (lang[n] >= 'A' && lang[n] <= 'Z'))) {
		out[n] = (char)(lang[n] | 0x20);
		n++;
	}
	if (n >= 2 && (lang[n] == '\0' || lang[n] == '-' || lang[n] == '_'))
		fill_n(c, field, out, n);
}

/* Append "system^value" to the patient's other ids (skipping the main id,
 * duplicates and values that cannot be terms). */
static void add_other_id(ctx *c, carnet_doc *d, const char *system, const char *value)
{
	if (c->rc || !value || !carnet_doc__valid_id(value))
		return;
	system = strip_oid(system);
	if (!system || !carnet_doc__valid_id(system) || strchr(system, '^'))
		system = "";
	if (d->patient_id && strcmp(d->patient_id, value) == 0 &&
	    strcmp(d->patient_system ? d->patient_system : "", system) == 0)
		return;
	carnet_buf b = CARNET_BUF_INIT;
	if (carnet_buf__printf(&b, "%s^%s", system, value) != 0)
		goto oom;
	if (d->other_ids) {
		const char *p = d->other_ids;
		size_t n = b.len;
		while (*p) {
			size_t w = strcspn(p, " ");
			if (w == n && memcmp(p, b.data, n) == 0) {
				carnet_buf__free(&b);
				return;
			}
			p += w;
			while (*p == ' ')
				p++;
		}
		carnet_buf__reset(&b);
		if (carnet_buf__printf(&b, "%s %s^%s", d->other_ids, system, value) != 0)
			goto oom;
	}
	if (carnet_doc__set(&d->other_ids, b.data, b.len) != 0)
		goto oom;
	carnet_buf__free(&b);
	return;
oom:
	carnet_buf__free(&b);
	nomem(c);
}

/* Take the patient from a Patient resource: an INS identifier first, else
 * the first identifier; the others become other ids. Returns whether an
 * identifier was found. */
static int patient_from(ctx *c, carnet_doc *d, json_t *patient)
{
	json_t *ids = json_object_get(patient, "identifier"), *id, *best = NULL;
	size_t i;
	for (size_t k = 0; k < sizeof ins_oids / sizeof ins_oids[0] && !best; k++)
		json_array_foreach(ids, i, id) {
			const char *sys = strip_oid(jstr(id, "system"));
			if (sys && jstr(id, "value") && strcmp(sys, ins_oids[k]) == 0) {
				best = id;
				break;
			}
		}
	if (!best)
		json_array_foreach(ids, i, id)
			if (jstr(id, "value") && carnet_doc__valid_id(jstr(id, "value"))) {
				best = id;
				break;
			}
	if (!best)
		return 0;
	if (!d->patient_id) {
		fill(c, &d->patient_id, jstr(best, "value"));
		fill(c, &d->patient_system, strip_oid(jstr(best, "system")));
	}
	json_array_foreach(ids, i, id)
		add_other_id(c, d, jstr(id, "system"), jstr(id, "value"));
	return 1;
}

/* Decode %XX escapes of s[0..n) into out. Returns 0 or -1 (no memory). */
static int percent_decode(carnet_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (ch == '%' && i + 2 < n) {
			char hex[3] = { s[i + 1], s[i + 2], '\0' }, *end;
			unsigned long v = strtoul(hex, &end, 16);
			if (*end == '\0' && strspn(hex, "0123456789abcdefABCDEF") == 2 && v) {
				ch = (char)v;
				i += 2;
			}
		}
		if (carnet_buf__putc(out, ch) != 0)
			return -1;
	}
	return 0;
}

/* A conditional reference "Patient?identifier=system|value": take its
 * identifier. Returns whether one was found. */
static int patient_from_search(ctx *c, carnet_doc *d, const char *ref)
{
	const char *q = strchr(ref, '?');
	if (!q)
		return 0;
	for (const char *p = q + 1; *p;) {
		size_t n = strcspn(p, "&");
		if (n > 11 && strncmp(p, "identifier=", 11) == 0) {
			carnet_buf v = CARNET_BUF_INIT;
			if (percent_decode(&v, p + 11, n - 11) != 0) {
				carnet_buf__free(&v);
				nomem(c);
				return 0;
			}
			char *bar = strchr(v.data, '|');
			const char *value = bar ? bar + 1 : v.data;
			int found = 0;
			if (carnet_doc__valid_id(value)) {
				fill(c, &d->patient_id, value);
				if (bar && bar > v.data) {
					*bar = '\0';
					fill(c, &d->patient_system, strip_oid(v.data));
				}
				found = 1;
			}
			carnet_buf__free(&v);
			return found;
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* A patient named by (system, id), to show in a message: its key, or
 * the id as given when it has none (never unprintable bytes). */
static const char *patient_label(char *out, size_t size, const char *system, const char *id)
{
	char key[CARNET_ID_MAX + 1], why[160];
	if (carnet_patient__key(key, system, id, why, sizeof why) == 0)
		snprintf(out, size, "%s", key);
	else if (carnet_doc__valid_id(id) && (!system || carnet_doc__valid_id(system)))
		snprintf(out, size, "%s%s%s", system ? system : "", system ? "|" : "", id);
	else
		snprintf(out, size, "(unprintable id)");
	return out;
}

/* Do (s1, i1) and (s2, i2) name the same patient? */
static int same_patient(const char *s1, const char *i1, const char *s2, const char *i2)
{
	char k1[CARNET_ID_MAX + 1], k2[CARNET_ID_MAX + 1], why[160];
	if (carnet_patient__key(k1, s1, i1, why, sizeof why) == 0 &&
	    carnet_patient__key(k2, s2, i2, why, sizeof why) == 0)
		return strcmp(k1, k2) == 0;
	s1 = strip_oid(s1);
	s2 = strip_oid(s2);
	return strcmp(i1, i2) == 0 && strcmp(s1 ? s1 : "", s2 ? s2 : "") == 0;
}

/* Take the patient `p` found in `where` into d; if d already has one
 * that is another patient, the document is refused naming both. */
static void agree_patient(ctx *c, carnet_doc *d, const carnet_doc *p, const char *what,
			  const char *where)
{
	if (c->rc || !p->patient_id)
		return;
	if (!d->patient_id) {
		fill(c, &d->patient_id, p->patient_id);
		fill(c, &d->patient_system, p->patient_system);
		return;
	}
	if (same_patient(d->patient_system, d->patient_id, p->patient_system, p->patient_id))
		return;
	char a[CARNET_ID_MAX + 64], b[CARNET_ID_MAX + 64];
	c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				  "%s: %s names patient %s but %s names patient %s: the document "
				  "is not filed under either",
				  c->in->path, what,
				  patient_label(a, sizeof a, d->patient_system, d->patient_id), where,
				  patient_label(b, sizeof b, p->patient_system, p->patient_id));
}

/* A reference, to show in a message (printable ASCII, at most 100 bytes). */
static const char *ref_label(char *out, size_t size, const char *ref)
{
	size_t n = 0;
	for (const char *r = ref ? ref : ""; *r && n + 1 < size && n < 100; r++)
		out[n++] = (*r > 0x20 && *r < 0x7f) ? *r : '?';
	out[n] = '\0';
	return out;
}

/* The patient of a DocumentReference or Composition (`what`, for
 * messages): subject.identifier; the Patient subject.reference resolves
 * to (its INS, else its first identifier); the identifier of a
 * conditional reference. A reference that resolves to nothing in the
 * file, to another server's resource, or to a Patient without an
 * identifier refuses the document: the id part of a reference alone does
 * not name a patient. The DocumentReference's source patient brings
 * aliases only. */
static void take_patient(ctx *c, carnet_doc *d, json_t *res, json_t *bundle, const char *what)
{
	json_t *subj = json_object_get(res, "subject");
	json_t *ident = json_object_get(subj, "identifier");
	const char *ref = jstr(subj, "reference");
	char rl[128];
	carnet_doc p;
	carnet_doc__init(&p);
	if (jstr(ident, "value") && carnet_doc__valid_id(jstr(ident, "value"))) {
		fill(c, &p.patient_id, jstr(ident, "value"));
		fill(c, &p.patient_system, strip_oid(jstr(ident, "system")));
	}
	if (ref && !c->rc) {
		json_t *r;
		const char *other;
		int how = resolve_ref(res, bundle, ref, &r, &other);
		carnet_doc q;
		carnet_doc__init(&q);
		if (how == REF_FOUND && rtype_is(r, "Patient")) {
			if (!patient_from(c, &q, r))
				c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
							  "%s: %s subject %s is a Patient without an identifier",
							  c->in->path, what, ref_label(rl, sizeof rl, ref));
		} else if (how == REF_FOUND) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s is not a Patient", c->in->path, what,
						  ref_label(rl, sizeof rl, ref));
		} else if (how == REF_OTHER_SERVER) {
			char ol[128];
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s is not on the server of the bundle's entry %s",
						  c->in->path, what, ref_label(rl, sizeof rl, ref),
						  ref_label(ol, sizeof ol, other));
		} else if (how == REF_AMBIGUOUS) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s matches Patients of several servers",
						  c->in->path, what, ref_label(rl, sizeof rl, ref));
		} else if (!(strchr(ref, '?') && patient_from_search(c, &q, ref)) && !p.patient_id) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: %s subject %s resolves to no Patient in the file",
						  c->in->path, what, ref_label(rl, sizeof rl, ref));
		}
		if (!p.patient_id) {
			fill(c, &p.patient_id, q.patient_id);
			fill(c, &p.patient_system, q.patient_system);
			fill(c, &p.other_ids, q.other_ids);
		} else {
			char where[200];
			snprintf(where, sizeof where, "its subject reference %s",
				 ref_label(rl, sizeof rl, ref));
			agree_patient(c, &p, &q, "its subject identifier", where);
			fill(c, &p.other_ids, q.other_ids);
		}
		carnet_doc__clear(&q);
	}
	json_t *src = resolve(res, bundle, jstr(jpath(res, "context", "sourcePatientInfo"), "reference"));
	if (src && rtype_is(src, "Patient") && p.patient_id)
		patient_from(c, &p, src); /* the source's ids are aliases */
	int had = d->patient_id != NULL;
	agree_patient(c, d, &p, had ? "the document" : what, what);
	if (!had)
		fill(c, &d->other_ids, p.other_ids);
	carnet_doc__clear(&p);
}

/* The preferred identifier of a Practitioner: the RPPS, else the first. */
static const char *practitioner_id(json_t *pr)
{
	json_t *ids = json_object_get(pr, "identifier"), *id;
	size_t i;
	json_array_foreach(ids, i, id)
		if (jstr(id, "value") && system_ends(jstr(id, "system"), RPPS_OID))
			return jstr(id, "value");
	json_array_foreach(ids, i, id)
		if (jstr(id, "value"))
			return jstr(id, "value");
	return NULL;
}

/* "Prénom NOM" of a HumanName list. */
static void fill_name(ctx *c, char **field, json_t *names)
{
	json_t *name = json_is_array(names) ? json_array_get(names, 0) : NULL;
	if (c->rc || *field || !json_is_object(name))
		return;
	if (jstr(name, "text")) {
		fill(c, field, jstr(name, "text"));
		return;
	}
	carnet_buf b = CARNET_BUF_INIT;
	json_t *g;
	size_t i;
	int bad = 0;
	json_array_foreach(json_object_get(name, "given"), i, g)
		if (json_is_string(g) && json_string_length(g))
			bad |= (b.len && carnet_buf__putc(&b, ' ')) ||
			       carnet_buf__puts(&b, json_string_value(g));
	if (jstr(name, "family"))
		bad |= (b.len && carnet_buf__putc(&b, ' ')) ||
		       carnet_buf__puts(&b, jstr(name, "family"));
	if (bad)
		nomem(c);
	else if (b.len)
		fill_n(c, field, b.data, b.len);
	carnet_buf__free(&b);
}

static void fill_practitioner(ctx *c, carnet_doc *d, json_t *pr)
{
	const char *id = practitioner_id(pr);
	if (id && carnet_doc__valid_id(id))
		fill(c, &d->author_id, id);
	fill_name(c, &d->author_name, json_object_get(pr, "name"));
}

/* Author id, name and specialty from the author references of res,
 * resolved among res's contained resources or in bundle. */
static void take_authors(ctx *c, carnet_doc *d, json_t *res, json_t *bundle)
{
	json_t *authors = json_object_get(res, "author"), *a;
	size_t i;
	json_array_foreach(authors, i, a) {
		json_t *r = resolve(res, bundle, jstr(a, "reference"));
		if (r && rtype_is(r, "PractitionerRole")) {
			json_t *sp, *cc;
			size_t k;
			json_array_foreach(json_object_get(r, "specialty"), k, sp) {
				json_t *coding = pick_coding(sp, NULL);
				fill_code(c, &d->author_specialty, jstr(coding, "code"));
			}
			/* French profiles may code the specialty as "G15_10/SM04" */
			json_array_foreach(json_object_get(r, "code"), k, cc) {
				json_t *coding = pick_coding(cc, NULL);
				const char *code = jstr(coding, "code");
				if (code && strchr(code, '/'))
					fill_code(c, &d->author_specialty, code);
			}
			json_t *pr = resolve(res, bundle, jstr(json_object_get(r, "practitioner"), "reference"));
			if (!pr)
				pr = resolve(r, bundle, jstr(json_object_get(r, "practitioner"), "reference"));
			if (pr && rtype_is(pr, "Practitioner"))
				fill_practitioner(c, d, pr);
			const char *rid = practitioner_id(r);
			if (rid && carnet_doc__valid_id(rid))
				fill(c, &d->author_id, rid);
		} else if (r && rtype_is(r, "Practitioner")) {
			fill_practitioner(c, d, r);
		} else if (!r) {
			const char *v = jstr(json_object_get(a, "identifier"), "value");
			if (v && carnet_doc__valid_id(v))
				fill(c, &d->author_id, v);
		}
		if (!r || !rtype_is(r, "Organization"))
			fill(c, &d->author_name, jstr(a, "display"));
	}
}

static void take_custodian(ctx *c, carnet_doc *d, json_t *res, json_t *bundle)
{
	json_t *cust = json_object_get(res, "custodian");
	json_t *org = resolve(res, bundle, jstr(cust, "reference"));
	if (org && rtype_is(org, "Organization")) {
		fill(c, &d->custodian, jstr(org, "name"));
		fill(c, &d->custodian, jstr(jfirst(org, "identifier"), "value"));
	}
	fill(c, &d->custodian, jstr(cust, "display"));
}

/* Confidentiality codes joined with single spaces. */
static void add_conf(ctx *c, carnet_buf *b, const char *code)
{
	if (c->rc || !code || !carnet_doc__valid_id(code))
		return;
	if ((b->len && carnet_buf__putc(b, ' ') != 0) || carnet_buf__puts(b, code) != 0)
		nomem(c);
}

static void take_security_labels(ctx *c, carnet_doc *d, json_t *res)
{
	carnet_buf b = CARNET_BUF_INIT;
	json_t *label, *coding;
	size_t i, k;
	json_array_foreach(json_object_get(res, "securityLabel"), i, label)
		json_array_foreach(json_object_get(label, "coding"), k, coding)
			add_conf(c, &b, jstr(coding, "code"));
	/* visibility codes may come as security tags of the resource too */
	json_array_foreach(jpath(res, "meta", "security"), i, coding) {
		const char *code = jstr(coding, "code");
		if (code && carnet_doc__is_visibility(code, strlen(code)))
			add_conf(c, &b, code);
	}
	if (b.len)
		fill_n(c, &d->confidentiality, b.data, b.len);
	carnet_buf__free(&b);
}

/* The id of a DocumentReference: masterIdentifier, identifier[0], id. */
static const char *docref_id(json_t *dr)
{
	const char *id = jstr(json_object_get(dr, "masterIdentifier"), "value");
	if (!id)
		id = jstr(jfirst(dr, "identifier"), "value");
	if (!id)
		id = jstr(dr, "id");
	return id;
}

/* relatesTo[code=replaces]: the replaced document's id becomes replaces and
 * the set id, and this is version 2. */
static void take_replaces(ctx *c, carnet_doc *d, json_t *res, json_t *bundle)
{
	json_t *rel;
	size_t i;
	json_array_foreach(json_object_get(res, "relatesTo"), i, rel) {
		const char *code = jstr(rel, "code");
		if (!code || strcmp(code, "replaces") != 0)
			continue;
		json_t *target = json_object_get(rel, "target");
		if (!target)
			target = json_object_get(rel, "targetReference");
		const char *ref = jstr(target, "reference");
		const char *id = NULL;
		size_t n = 0;
		json_t *r = resolve(res, bundle, ref);
		if (r && rtype_is(r, "DocumentReference"))
			id = docref_id(r);
		else if (r && rtype_is(r, "Composition"))
			id = jstr(jfirst(r, "identifier"), "value") ? jstr(jfirst(r, "identifier"), "value")
								     : jstr(r, "id");
		if (id)
			n = strlen(id);
		else if (ref)
			id = ref_id(ref, &n);
		if (!n) {
			id = jstr(json_object_get(target, "identifier"), "value");
			if (!id)
				id = jstr(json_object_get(rel, "targetIdentifier"), "value");
			n = id ? strlen(id) : 0;
		}
		if (!n)
			continue;
		fill_n(c, &d->replaces, id, n);
		fill_n(c, &d->set_id, id, n);
		d->version = 2;
		return;
	}
}

/* ---- content ---- */

static int is_xml_mime(const char *m)
{
	static const char *const xml[] = { "text/xml", "application/xml",
					   "application/hl7-cda+xml",
					   "application/cda+xml" };
	for (size_t i = 0; i < sizeof xml / sizeof xml[0]; i++)
		if (carnet_reader__mime_is(m, xml[i]))
			return 1;
	return 0;
}

static int starts_xml(const char *data, size_t len)
{
	size_t i = 0;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
		i++;
	return (len - i >= 5 && memcmp(data + i, "<?xml", 5) == 0) ||
	       (len - i >= 17 && memcmp(data + i, "<ClinicalDocument", 17) == 0);
}

/* An error of the content itself (bad or unreadable embedded file) costs
 * only its text; a failure of the machine (memory, extractor) stops. */
static int content_error_is_fatal(int rc)
{
	/* so is the end of the document's time budget */
	return (rc != CARNET_E_INVALID && rc != CARNET_E_UNSUPPORTED_FORMAT) ||
	       (rc && carnet_budget__expired());
}

/* Has the document's time budget run out? Sets c->rc if so. */
static int late(ctx *c)
{
	if (!c->rc && carnet_budget__over())
		c->rc = carnet_budget__fail(c->err, c->in->path);
	return c->rc != CARNET_OK;
}

static void keep_fatal(ctx *c, int rc, const carnet_error *e)
{
	if (rc && content_error_is_fatal(rc) && !c->rc) {
		if (c->err)
			*c->err = *e;
		c->rc = rc;
	}
}

/* What a CDA attachment brings: sections, and metadata the
 * DocumentReference left empty. */
typedef struct cda_state {
	ctx *c;
	carnet_doc *d;
	char *set_id;  /* the CDA's set id and version, used when the */
	int version;   /* DocumentReference says nothing of versions */
	int seen;
} cda_state;

static int cda_sink(carnet_doc *cda, void *payload)
{
	cda_state *st = payload;
	ctx *c = st->c;
	carnet_doc *d = st->d;
	for (size_t i = 0; i < cda->sections_count; i++)
		if (carnet_doc__add_section(d, cda->sections[i].kind, cda->sections[i].text,
					    cda->sections[i].len) != 0)
			return nomem(c);
	if (st->seen++)
		return 0;
	/* the container and the CDA it carries must name one patient */
	if (d->patient_id && cda->patient_id) {
		agree_patient(c, d, cda, "the FHIR resource", "its embedded CDA's recordTarget");
		if (c->rc)
			return c->rc;
	}
	struct {
		char **to;
		const char *from;
	} f[] = {
		{ &d->id, cda->id },
		{ &d->patient_id, cda->patient_id },
		{ &d->patient_system, cda->patient_system },
		{ &d->type, cda->type },
		{ &d->title, cda->title },
		{ &d->date, cda->date },
		{ &d->author_id, cda->author_id },
		{ &d->author_specialty, cda->author_specialty },
		{ &d->confidentiality, cda->confidentiality },
		{ &d->class_code, cda->class_code },
		{ &d->practice_setting, cda->practice_setting },
		{ &d->facility, cda->facility },
		{ &d->author_name, cda->author_name },
		{ &d->custodian, cda->custodian },
		{ &d->service_start, cda->service_start },
		{ &d->service_end, cda->service_end },
		{ &d->replaces, cda->replaces },
		{ &d->other_ids, cda->other_ids },
	};
	int had_patient = d->patient_id != NULL;
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		if (had_patient && f[i].to == &d->patient_system)
			continue;
		fill(c, f[i].to, f[i].from);
	}
	fill_language(c, &d->language, cda->language);
	if (cda->set_id && !(st->set_id = strdup(cda->set_id)))
		return nomem(c);
	st->version = cda->version;
	return c->rc;
}

/* Read a CDA attachment through the CDA reader, as "<file>#attachment". */
static void cda_content(ctx *c, carnet_doc *d, const char *data, size_t len,
			size_t k, char **set_id, int *version)
{
	carnet_buf label = CARNET_BUF_INIT;
	int bad = k ? carnet_buf__printf(&label, "%s#attachment-%zu", c->in->path, k + 1)
		    : carnet_buf__printf(&label, "%s#attachment", c->in->path);
	if (bad) {
		nomem(c);
		return;
	}
	carnet_input sub = { label.data, data, len, c->in->limits };
	cda_state st = { c, d, NULL, 1, 0 };
	carnet_error e;
	carnet_error__clear(&e);
	int rc = carnet_reader_cda.read(&sub, cda_sink, &st, &e);
	if (!c->rc && rc && e.sys_code == CARNET_READER_PATIENT_CONFLICT) {
		if (c->err)
			*c->err = e; /* whose document it is cannot be told */
		c->rc = rc;
	}
	if (!c->rc)
		keep_fatal(c, rc, &e);
	if (!c->rc && st.set_id && !*set_id) {
		*set_id = st.set_id;
		*version = st.version > 0 ? st.version : 1;
		st.set_id = NULL;
	}
	free(st.set_id);
	carnet_buf__free(&label);
}

static void composition_content(ctx *c, carnet_doc *d, json_t *bundle, json_t *comp);

/* The text of decoded attachment bytes data[0..len) (NUL-terminated). */
static void attachment_content(ctx *c, carnet_doc *d, const char *mime,
			       const char *data, size_t len, size_t k,
			       char **set_id, int *version)
{
	carnet_error e;
	if (c->rc || !len)
		return;
	if (!mime)
		mime = "";
	if (carnet_reader__mime_is(mime, "text/plain") || carnet_reader__mime_is(mime, "text/html") ||
	    carnet_reader__mime_is(mime, "application/xhtml+xml") ||
	    carnet_reader__mime_is(mime, "application/pdf")) {
		carnet_error__clear(&e);
		int rc = carnet_reader__embedded(d, c->in, mime, data, len, &e);
		keep_fatal(c, rc, &e);
	} else if (is_xml_mime(mime) || starts_xml(data, len)) {
		cda_content(c, d, data, len, k, set_id, version);
	} else if (carnet_reader__mime_is(mime, "application/fhir+json") ||
		   carnet_reader__mime_is(mime, "application/json")) {
		/* a FHIR document (Bundle) sent as the attachment */
		json_error_t jerr;
		carnet_error__clear(&e);
		int rc = carnet_json__check(c->in->path, data, len, NULL, &e);
		keep_fatal(c, rc, &e);
		json_t *b = rc ? NULL : load_json(data, len, &jerr);
		if (!b && carnet_budget__expired())
			late(c);
		json_t *e0, *comp = NULL;
		size_t i;
		if (b && rtype_is(b, "Bundle") && jstr(b, "type") &&
		    strcmp(jstr(b, "type"), "document") == 0)
			json_array_foreach(json_object_get(b, "entry"), i, e0)
				if (!comp && rtype_is(json_object_get(e0, "resource"), "Composition"))
					comp = json_object_get(e0, "resource");
		if (comp)
			composition_content(c, d, b, comp);
		json_decref(b);
	}
	/* other types (images, DICOM...) carry no text we read */
}

/* The attachments of DocumentReference number n of the file. */
static void take_content(ctx *c, carnet_doc *d, json_t *dr, json_t *bundle, size_t n,
			 char **set_id, int *version)
{
	json_t *content, *att;
	size_t k;
	json_array_foreach(json_object_get(dr, "content"), k, content) {
		if (late(c))
			return;
		att = json_object_get(content, "attachment");
		const char *mime = jstr(att, "contentType");
		const char *b64 = jstr(att, "data");
		if (!b64) {
			json_t *r = resolve(dr, bundle, jstr(att, "url"));
			if (r && rtype_is(r, "Binary")) {
				b64 = jstr(r, "data");
				if (!mime)
					mime = jstr(r, "contentType");
			} else if (r && rtype_is(r, "Bundle")) {
				json_t *e0, *comp = NULL;
				size_t i;
				json_array_foreach(json_object_get(r, "entry"), i, e0)
					if (!comp && rtype_is(json_object_get(e0, "resource"), "Composition"))
						comp = json_object_get(e0, "resource");
				if (comp)
					composition_content(c, d, r, comp);
			}
		}
		if (!b64)
			continue; /* an external url: the metadata is the document */
		carnet_buf bytes = CARNET_BUF_INIT;
		size_t bad = 0;
		int rc = carnet_base64__decode(&bytes, b64, strlen(b64), &bad);
		if (rc == CARNET_E_NOMEM) {
			nomem(c);
		} else if (rc) {
			c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
						  "%s: DocumentReference %zu attachment %zu: invalid base64 at byte offset %zu of its data",
						  c->in->path, n, k + 1, bad);
		} else if (bytes.data) {
			attachment_content(c, d, mime, bytes.data, bytes.len, k, set_id, version);
		}
		carnet_buf__free(&bytes);
	}
}

/* Append the text of XHTML narrative div[0..len) to out, through the HTML
 * extractor, or by dropping the tags when it cannot read it. */
static void narrative_text(ctx *c, carnet_buf *out, const char *div, size_t len)
{
	carnet_error e;
	carnet_error__clear(&e);
	size_t before = out->len;
	int rc = carnet_html__extract(out, NULL, c->in->path, div, len, &e);
	if (rc == CARNET_OK)
		return;
	if (content_error_is_fatal(rc)) {
		keep_fatal(c, rc, &e);
		return;
	}
	out->len = before;
	if (out->data)
		out->data[before] = '\0';
	static const struct {
		const char *name;
		const char *utf8;
	} ents[] = { { "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" },
		     { "apos;", "'" }, { "nbsp;", " " } };
	int space = 1;
	for (size_t i = 0; i < len && !c->rc; i++) {
		char ch = div[i];
		if (ch == '<') {
			while (i < len && div[i] != '>')
				i++;
			ch = ' ';
		} else if (ch == '&') {
			size_t k;
			int done = 0;
			for (k = 0; k < sizeof ents / sizeof ents[0] && !done; k++) {
				size_t m = strlen(ents[k].name);
				if (len - i - 1 >= m && memcmp(div + i + 1, ents[k].name, m) == 0) {
					if (carnet_buf__puts(out, ents[k].utf8) != 0)
						nomem(c);
					i += m;
					done = 1;
				}
			}
			if (!done && i + 2 < len && div[i + 1] == '#') {
				unsigned long cp = 0;
				size_t j = i + 2;
				int hex = div[j] == 'x' || div[j] == 'X';
				j += (size_t)hex;
				char *end;
				char num[16];
				size_t m = 0;
				while (j + m < len && m < sizeof num - 1 && div[j + m] != ';')
					num[m] = div[j + m], m++;
				num[m] = '\0';
				cp = strtoul(num, &end, hex ? 16 : 10);
				if (m && *end == '\0' && j + m < len && cp > 0 && cp < 0x110000 &&
				    !(cp >= 0xD800 && cp < 0xE000)) {
					char u[4];
					size_t un;
					if (cp < 0x80)
						u[0] = (char)cp, un = 1;
					else if (cp < 0x800)
						u[0] = (char)(0xC0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3F)), un = 2;
					else if (cp < 0x10000)
						u[0] = (char)(0xE0 | (cp >> 12)), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
						u[2] = (char)(0x80 | (cp & 0x3F)), un = 3;
					else
						u[0] = (char)(0xF0 | (cp >> 18)), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
						u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), un = 4;
					if (carnet_buf__put(out, u, un) != 0)
						nomem(c);
					i = j + m;
					done = 1;
				}
			}
			if (done) {
				space = 0;
				continue;
			}
		}
		int blank = ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
		if (blank && space)
			continue;
		if (carnet_buf__putc(out, blank ? ' ' : ch) != 0)
			nomem(c);
		space = blank;
	}
	while (out->len > before && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
}

static void add_sections(ctx *c, carnet_doc *d, json_t *sections, unsigned depth)
{
	json_t *s;
	size_t i;
	if (depth > MAX_SECTION_DEPTH)
		return;
	json_array_foreach(sections, i, s) {
		if (c->rc)
			return;
		const char *title = jstr(s, "title");
		const char *code = jstr(pick_coding(json_object_get(s, "code"), "http://loinc.org"),
					"code");
		json_t *div = jpath(s, "text", "div");
		carnet_buf b = CARNET_BUF_INIT;
		if (title && carnet_buf__puts(&b, title) != 0)
			nomem(c);
		if (json_is_string(div) && json_string_length(div)) {
			if (b.len && carnet_buf__putc(&b, '\n') != 0)
				nomem(c);
			narrative_text(c, &b, json_string_value(div), json_string_length(div));
		}
		if (!c->rc && b.len &&
		    carnet_doc__add_section(d, carnet_doc__section_kind(code, title), b.data,
					    b.len) != 0)
			nomem(c);
		carnet_buf__free(&b);
		add_sections(c, d, json_object_get(s, "section"), depth + 1);
	}
}

/* Metadata (where d has none) and sections of a Composition in its
 * document Bundle. */
static void composition_content(ctx *c, carnet_doc *d, json_t *bundle, json_t *comp)
{
	json_t *type = json_object_get(comp, "type");
	json_t *coding = pick_coding(type, "http://loinc.org");
	if (jstr(coding, "code") && carnet_doc__valid_id(jstr(coding, "code")))
		fill(c, &d->type, jstr(coding, "code"));
	json_t *cat, *cc;
	size_t i, k;
	json_array_foreach(json_object_get(comp, "category"), i, cat)
		json_array_foreach(json_object_get(cat, "coding"), k, cc)
			if (system_ends(jstr(cc, "system"), "1.2.250.1.213.1.1.4.1") ||
			    (jstr(cc, "system") && strstr(jstr(cc, "system"), "TRE_A03")))
				fill_code(c, &d->class_code, jstr(cc, "code"));
	take_patient(c, d, comp, bundle, "the Composition");
	fill_date(c, &d->date, jstr(comp, "date"));
	fill(c, &d->title, jstr(comp, "title"));
	fill(c, &d->title, jstr(coding, "display"));
	fill(c, &d->title, jstr(type, "text"));
	take_authors(c, d, comp, bundle);
	take_custodian(c, d, comp, bundle);
	if (!d->confidentiality) {
		carnet_buf b = CARNET_BUF_INIT;
		json_t *sec;
		add_conf(c, &b, jstr(comp, "confidentiality"));
		json_array_foreach(jpath(comp, "meta", "security"), i, sec)
			if (system_ends(jstr(sec, "system"), "v3-Confidentiality") ||
			    system_ends(jstr(sec, "system"), "1.2.250.1.213.1.1.4.13") ||
			    (jstr(sec, "code") && carnet_doc__is_visibility(jstr(sec, "code"),
									    strlen(jstr(sec, "code")))))
				add_conf(c, &b, jstr(sec, "code"));
		if (b.len)
			fill_n(c, &d->confidentiality, b.data, b.len);
		carnet_buf__free(&b);
	}
	fill_language(c, &d->language, jstr(comp, "language"));
	fill_language(c, &d->language, jstr(bundle, "language"));
	json_t *period = json_object_get(jfirst(comp, "event"), "period");
	fill_date(c, &d->service_start, jstr(period, "start"));
	fill_date(c, &d->service_end, jstr(period, "end"));
	add_sections(c, d, json_object_get(comp, "section"), 0);
}

/* ---- documents ---- */

/* Keep a built document for emission. */
static void keep(ctx *c, carnet_doc *d)
{
	if (!c->rc && !d->set_id)
		fill(c, &d->set_id, d->id);
	fill(c, &d->format, "fhir");
	if (c->rc)
		return;
	if (CARNET_GROW(c->docs, c->cap, c->count + 1) != 0) {
		nomem(c);
		return;
	}
	c->docs[c->count++] = *d;
	carnet_doc__init(d);
}

static int no_subject(ctx *c, const char *what, size_t n)
{
	return c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: %s %zu has no subject", c->in->path, what, n);
}

/* Build the document of DocumentReference number n of the file. */
static void read_docref(ctx *c, json_t *dr, json_t *bundle, size_t n)
{
	if (!json_is_object(json_object_get(dr, "subject"))) {
		no_subject(c, "DocumentReference", n);
		return;
	}
	carnet_doc d;
	carnet_doc__init(&d);
	char *cda_set = NULL;
	int cda_version = 1;
	fill(c, &d.id, docref_id(dr));
	take_replaces(c, &d, dr, bundle);
	char what[64];
	snprintf(what, sizeof what, "DocumentReference %zu", n);
	take_patient(c, &d, dr, bundle, what);
	json_t *type = json_object_get(dr, "type");
	json_t *coding = pick_coding(type, "http://loinc.org");
	if (jstr(coding, "code") && carnet_doc__valid_id(jstr(coding, "code")))
		fill(c, &d.type, jstr(coding, "code"));
	json_t *cat, *cc;
	size_t i, k;
	json_array_foreach(json_object_get(dr, "category"), i, cat)
		json_array_foreach(json_object_get(cat, "coding"), k, cc)
			if (system_ends(jstr(cc, "system"), "1.2.250.1.213.1.1.4.1") ||
			    (jstr(cc, "system") && (strstr(jstr(cc, "system"), "TRE_A03") ||
						    strstr(jstr(cc, "system"), "TRE-A03"))))
				fill_code(c, &d.class_code, jstr(cc, "code"));
	json_t *att0 = json_object_get(jfirst(dr, "content"), "attachment");
	json_t *context = json_object_get(dr, "context");
	json_t *period = json_object_get(context, "period");
	fill_date(c, &d.date, jstr(dr, "date"));
	fill_date(c, &d.date, jstr(att0, "creation"));
	fill_date(c, &d.date, jstr(period, "start"));
	fill(c, &d.title, jstr(dr, "description"));
	fill(c, &d.title, jstr(att0, "title"));
	fill(c, &d.title, jstr(pick_coding(type, NULL), "display"));
	fill(c, &d.title, jstr(type, "text"));
	take_authors(c, &d, dr, bundle);
	take_custodian(c, &d, dr, bundle);
	fill_code(c, &d.practice_setting,
		  jstr(pick_coding(json_object_get(context, "practiceSetting"), NULL), "code"));
	json_t *fac = pick_coding(json_object_get(context, "facilityType"), NULL);
	fill(c, &d.facility, jstr(fac, "display"));
	fill(c, &d.facility, jstr(fac, "code"));
	fill_date(c, &d.service_start, jstr(period, "start"));
	fill_date(c, &d.service_end, jstr(period, "end"));
	take_security_labels(c, &d, dr);
	fill_language(c, &d.language, jstr(att0, "language"));
	take_content(c, &d, dr, bundle, n, &cda_set, &cda_version);
	if (!d.set_id && cda_set) {
		fill(c, &d.set_id, cda_set);
		d.version = cda_version;
	}
	free(cda_set);
	keep(c, &d);
	carnet_doc__clear(&d);
}

/* Build the document of the Composition of a document Bundle (bundle may be
 * NULL for a Composition alone). */
static void read_composition(ctx *c, json_t *comp, json_t *bundle, size_t n)
{
	if (!json_is_object(json_object_get(comp, "subject"))) {
		no_subject(c, "Composition", n);
		return;
	}
	carnet_doc d;
	carnet_doc__init(&d);
	fill(c, &d.id, jstr(json_object_get(bundle, "identifier"), "value"));
	fill(c, &d.id, jstr(jfirst(comp, "identifier"), "value"));
	fill(c, &d.id, jstr(comp, "id"));
	fill(c, &d.id, jstr(bundle, "id"));
	take_replaces(c, &d, comp, bundle);
	composition_content(c, &d, bundle, comp);
	keep(c, &d);
	carnet_doc__clear(&d);
}

/* The first Composition of a document Bundle. */
static json_t *bundle_composition(json_t *bundle)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(bundle, "entry"), i, e)
		if (rtype_is(json_object_get(e, "resource"), "Composition"))
			return json_object_get(e, "resource");
	return NULL;
}

static void read_bundle(ctx *c, json_t *bundle)
{
	const char *type = jstr(bundle, "type");
	const carnet_input *in = c->in;
	json_t *e, *r;
	size_t i, n = 0;
	if (!type) {
		c->rc = carnet_error__set(c->err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					  "%s: FHIR Bundle has no type", in->path);
		return;
	}
	if (strcmp(type, "document") == 0) {
		json_t *comp = bundle_composition(bundle);
		if (!comp)
			c->rc = carnet_error__set(c->err, CARNET_E_UNSUPPORTED_FORMAT,
						  CARNET_ORIGIN_INPUT, 0,
						  "%s: FHIR document Bundle holds no Composition",
						  in->path);
		else
			read_composition(c, comp, bundle, 1);
		return;
	}
	if (strcmp(type, "transaction") != 0 && strcmp(type, "batch") != 0 &&
	    strcmp(type, "searchset") != 0 && strcmp(type, "collection") != 0) {
		c->rc = carnet_error__set(c->err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
					  0, "%s: FHIR Bundle of type %s carries no document to read (document, transaction, batch, searchset or collection are read)",
					  in->path, safe_name(type));
		return;
	}
	json_array_foreach(json_object_get(bundle, "entry"), i, e) {
		r = json_object_get(e, "resource");
		if (!late(c) && rtype_is(r, "DocumentReference"))
			read_docref(c, r, bundle, ++n);
	}
	/* a collection of FHIR documents */
	if (n == 0)
		json_array_foreach(json_object_get(bundle, "entry"), i, e) {
			r = json_object_get(e, "resource");
			const char *t = jstr(r, "type");
			json_t *comp;
			if (!c->rc && rtype_is(r, "Bundle") && t && strcmp(t, "document") == 0 &&
			    (comp = bundle_composition(r)))
				read_composition(c, comp, r, ++n);
		}
	if (n == 0 && !c->rc)
		c->rc = carnet_error__set(c->err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT,
					  0, "%s: FHIR Bundle of type %s holds no DocumentReference or Composition",
					  in->path, safe_name(type));
}

/* ---- the reader ---- */

static int sniff(const carnet_input *in)
{
	char ext[16];
	carnet_reader__extension(in->path, ext, sizeof ext);
	if (strcmp(ext, "json") != 0)
		return 0;
	static const char key[] = "\"resourceType\"";
	size_t n = in->len < 8192 ? in->len : 8192, m = sizeof key - 1;
	for (size_t i = 0; i + m <= n; i++)
		if (in->data[i] == '"' && memcmp(in->data + i, key, m) == 0)
			return 40;
	return 10; /* other JSON: ours to reject with a reason */
}

static int parse_error(const carnet_input *in, json_error_t *jerr, carnet_error *err)
{
	/* jansson quotes the offending token after " near " or in quotes:
	 * keep the reason, drop the quote (it may be patient data) */
	char *cut = strstr(jerr->text, " near ");
	if (cut)
		*cut = '\0';
	if ((cut = strstr(jerr->text, "'\\")))
		*cut = '\0';
	size_t n = strlen(jerr->text);
	while (n && (jerr->text[n - 1] == ' ' || jerr->text[n - 1] == ':'))
		jerr->text[--n] = '\0';
	int truncated = jerr->position >= (int)in->len || strstr(jerr->text, "end of") != NULL;
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
				 "%s: invalid JSON at line %d column %d (byte offset %d): %s%s",
				 in->path, jerr->line, jerr->column, jerr->position,
				 n ? jerr->text : "syntax error",
				 truncated ? " (truncated?)" : "");
}

static int read_fhir(const carnet_input *in, carnet_doc_sink sink, void *payload,
		     carnet_error *err)
{
	const char *data = in->data;
	size_t len = in->len;
	if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
		data += 3, len -= 3;
	int rc = carnet_json__check(in->path, data, len, in->limits, err);
	if (rc)
		return rc;
	json_error_t jerr;
	json_t *root = load_json(data, len, &jerr);
	if (!root && carnet_budget__expired())
		return carnet_budget__fail(err, in->path);
	if (!root)
		return parse_error(in, &jerr, err);
	ctx c = { in, err, CARNET_OK, NULL, 0, 0 };
	json_t *rt = json_object_get(root, "resourceType");
	if (!json_is_object(root)) {
		c.rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT, 0,
					 "%s: not a FHIR resource (the JSON is not an object)", in->path);
	} else if (!rt) {
		c.rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT, 0,
					 "%s: not a FHIR resource (no resourceType)", in->path);
	} else if (!json_is_string(rt)) {
		c.rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_INPUT, 0,
					 "%s: resourceType is not a string", in->path);
	} else if (rtype_is(root, "DocumentReference")) {
		read_docref(&c, root, NULL, 1);
	} else if (rtype_is(root, "Bundle")) {
		read_bundle(&c, root);
	} else if (rtype_is(root, "Composition")) {
		read_composition(&c, root, NULL, 1);
	} else {
		c.rc = carnet_error__set(err, CARNET_E_UNSUPPORTED_FORMAT, CARNET_ORIGIN_INPUT, 0,
					 "%s: FHIR resourceType %s carries no document", in->path,
					 safe_name(json_string_value(rt)));
	}
	json_decref(root);
	/* every document was built: now hand them over */
	for (size_t i = 0; i < c.count; i++) {
		if (c.rc == CARNET_OK)
			c.rc = sink(&c.docs[i], payload);
		carnet_doc__clear(&c.docs[i]);
	}
	free(c.docs);
	return c.rc;
}

const carnet_reader carnet_reader_fhir = { "fhir", 0, sniff, read_fhir };
