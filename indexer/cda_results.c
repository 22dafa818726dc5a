/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cda_results.c - the coded results of a CDA's structured body: every
 * observation with a value under its sections' entries (the CR-BIO lab
 * report's batteries and isolates, and the other volets' observations). */
#include "cda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XSI_NS "http://www.w3.org/2001/XMLSchema-instance"

/* The walk over one structured body. */
typedef struct walk {
	carnet_doc *d;
	const xmlNode *narrative; /* the section's text, where references point */
	int rc;                   /* -1 once memory or time ran out */
} walk;

/* What the reading of one observation holds: the attributes it took (to
 * free) and the text it built. */
typedef struct taken {
	char *attrs[64];
	size_t n;
	carnet_buf text;  /* a text or coded value read from the narrative */
	char bound[80];   /* "<1.0": a value that is an upper bound */
	char obs_date[20];
} taken;

/* Attribute name of n, kept in t to be freed; NULL when absent. */
static const char *attr(taken *t, const xmlNode *n, const char *name)
{
	if (!n || t->n == sizeof t->attrs / sizeof t->attrs[0])
		return NULL;
	char *v = carnet_cda__attr(n, name);
	if (v)
		t->attrs[t->n++] = v;
	return v;
}

/* A TS "YYYYMMDD[HHMM...]" of element ts (its value, else its low's) as
 * "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" into out; "" when it is no date. */
static void ts_date(char out[20], const xmlNode *ts)
{
	out[0] = '\0';
	char *v = carnet_cda__attr(ts, "value");
	if (!v)
		v = carnet_cda__attr(carnet_cda__child(ts, "low"), "value");
	size_t digits = v ? strspn(v, "0123456789") : 0;
	if (digits >= 8) {
		snprintf(out, 20, "%.4s-%.2s-%.2s", v, v + 4, v + 6);
		if (!carnet_doc__valid_date(out))
			out[0] = '\0';
		else if (digits >= 12 && memcmp(v + 8, "24", 2) < 0 && memcmp(v + 10, "60", 2) < 0)
			snprintf(out + 10, 10, "T%.2s:%.2s", v + 8, v + 10);
	}
	xmlFree(v);
}

/* The element of the narrative whose ID is id, or NULL. */
static const xmlNode *find_id(const xmlNode *n, const char *id, int depth)
{
	for (; n && depth < CARNET_CDA_MAX_DEPTH; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		char *v = carnet_cda__attr(n, "ID");
		int same = v && strcmp(v, id) == 0;
		xmlFree(v);
		if (same)
			return n;
		const xmlNode *f = find_id(n->children, id, depth + 1);
		if (f)
			return f;
	}
	return NULL;
}

/* The text of an originalText (its reference into the narrative, else its
 * own text) into t->text. 0 or -1 (memory). */
static int original_text(walk *w, taken *t, const xmlNode *ot)
{
	const char *ref = attr(t, carnet_cda__child(ot, "reference"), "value");
	const xmlNode *from = ot;
	if (ref && ref[0] == '#')
		from = find_id(w->narrative ? w->narrative->children : NULL, ref + 1, 0);
	if (!from || carnet_cda__narrative(from->children, &t->text, 0) != 0)
		return from ? -1 : 0;
	carnet_cda__trim_end(&t->text);
	return 0;
}

/* The value of observation value element v (xsi:type type) into r.
 * 1 when there is one, 0 when none is read, -1 (memory). */
static int take_value(walk *w, taken *t, carnet_result *r, const xmlNode *v, const char *type)
{
	if (!strcmp(type, "PQ") || !strcmp(type, "INT") || !strcmp(type, "REAL")) {
		r->kind = CARNET_RESULT_NUMERIC;
		r->value = (char *)attr(t, v, "value");
		r->unit = (char *)attr(t, v, "unit");
		return r->value != NULL;
	}
	if (!strcmp(type, "IVL_PQ")) {
		const xmlNode *lo = carnet_cda__child(v, "low"), *hi = carnet_cda__child(v, "high");
		const char *low = attr(t, lo, "value"), *high = attr(t, hi, "value");
		if (low && !high) {
			r->kind = CARNET_RESULT_NUMERIC;
			r->value = (char *)low;
			r->unit = (char *)attr(t, lo, "unit");
			return 1;
		}
		if (!high || low)
			return 0;
		/* an upper bound alone: "<0.128" (under the detection limit) */
		const char *incl = attr(t, hi, "inclusive");
		snprintf(t->bound, sizeof t->bound, "%s%.60s",
			 incl && !strcmp(incl, "true") ? "<=" : "<", high);
		r->kind = CARNET_RESULT_TEXT;
		r->value = t->bound;
		r->unit = (char *)attr(t, hi, "unit");
		return 1;
	}
	if (!strcmp(type, "CD") || !strcmp(type, "CE") || !strcmp(type, "CV")) {
		r->kind = CARNET_RESULT_CODED;
		r->value = (char *)attr(t, v, "displayName");
		if (!r->value)
			r->value = (char *)attr(t, v, "code");
		if (!r->value && original_text(w, t, carnet_cda__child(v, "originalText")) != 0)
			return -1;
		if (!r->value && t->text.len)
			r->value = t->text.data;
		return r->value != NULL;
	}
	if (!strcmp(type, "ST") || !strcmp(type, "ED")) {
		r->kind = CARNET_RESULT_TEXT;
		if (carnet_cda__narrative(v->children, &t->text, 0) != 0)
			return -1;
		carnet_cda__trim_end(&t->text);
		r->value = t->text.len ? t->text.data : NULL;
		return r->value != NULL;
	}
	return 0;
}

/* The code of observation obs: its code, or the first translation with a
 * code when the code has a nullFlavor or no code; NULL when none. */
static const xmlNode *result_code(taken *t, const xmlNode *obs)
{
	const xmlNode *code = carnet_cda__child(obs, "code");
	if (attr(t, code, "code") && !attr(t, code, "nullFlavor"))
		return code;
	for (const xmlNode *c = code ? code->children : NULL; c; c = c->next)
		if (carnet_cda__is(c, "translation") && attr(t, c, "code"))
			return c;
	return NULL;
}

/* The specimen type of an organizer or observation, or NULL. */
static const char *specimen(taken *t, const xmlNode *n)
{
	const xmlNode *c = carnet_cda__path(n, "specimen/specimenRole/specimenPlayingEntity/code");
	const char *s = attr(t, c, "displayName");
	return s ? s : attr(t, c, "code");
}

/* The reference range of obs: the first REFV one, else the first. */
static void reference_range(taken *t, carnet_result *r, const xmlNode *obs)
{
	const xmlNode *range = NULL;
	for (const xmlNode *c = obs->children; c; c = c->next) {
		if (!carnet_cda__is(c, "referenceRange"))
			continue;
		const char *type = attr(t, c, "typeCode");
		if (!range || !type || !strcmp(type, "REFV")) {
			int refv = !type || !strcmp(type, "REFV");
			range = c;
			if (refv)
				break;
		}
	}
	const xmlNode *v = carnet_cda__path(range, "observationRange/value");
	r->low = (char *)attr(t, carnet_cda__child(v, "low"), "value");
	r->high = (char *)attr(t, carnet_cda__child(v, "high"), "value");
}

/* Is obs an observation whose result is to be read (an event, not
 * negated, not the type of an attached document)? */
static int is_result(taken *t, const xmlNode *obs)
{
	const char *cls = attr(t, obs, "classCode"), *mood = attr(t, obs, "moodCode");
	const char *neg = attr(t, obs, "negationInd");
	return (!cls || !strcmp(cls, "OBS")) && mood && !strcmp(mood, "EVN") &&
	       !(neg && !strcmp(neg, "true"));
}

/* Add the result of observation obs, if it has one; org_time and org_spec:
 * the nearest enclosing organizers with a date and with a specimen. */
static void observation(walk *w, const xmlNode *obs, const xmlNode *org_time,
			const xmlNode *org_spec)
{
	taken t;
	memset(&t, 0, sizeof t);
	carnet_result r;
	memset(&r, 0, sizeof r);
	const xmlNode *code = is_result(&t, obs) ? result_code(&t, obs) : NULL;
	const xmlNode *v = carnet_cda__child(obs, "value");
	char *type = v ? (char *)xmlGetNsProp(v, (const xmlChar *)"type",
					      (const xmlChar *)XSI_NS) : NULL;
	const char *local = type ? strchr(type, ':') : NULL;
	int has = 0;
	r.code = (char *)attr(&t, code, "code");
	if (r.code && strcmp(r.code, "69764-9") != 0 && type)
		has = take_value(w, &t, &r, v, local ? local + 1 : type);
	if (has > 0) {
		r.system = (char *)attr(&t, code, "codeSystem");
		r.display = (char *)attr(&t, code, "displayName");
		r.interpretation = (char *)attr(&t, carnet_cda__child(obs, "interpretationCode"),
						"code");
		reference_range(&t, &r, obs);
		ts_date(t.obs_date, carnet_cda__child(obs, "effectiveTime"));
		if (!t.obs_date[0])
			ts_date(t.obs_date, carnet_cda__child(org_time, "effectiveTime"));
		r.date = t.obs_date[0] ? t.obs_date : w->d->date;
		r.specimen = (char *)specimen(&t, obs);
		if (!r.specimen)
			r.specimen = (char *)specimen(&t, org_spec);
		has = carnet_doc__add_result(w->d, &r);
	}
	if (has < 0)
		w->rc = -1;
	xmlFree(type);
	for (size_t i = 0; i < t.n; i++)
		xmlFree(t.attrs[i]);
	carnet_buf__free(&t.text);
}

/* Does organizer org have a date of its own? */
static int dated(const xmlNode *org)
{
	char date[20];
	ts_date(date, carnet_cda__child(org, "effectiveTime"));
	return date[0] != '\0';
}

/* The observations from n on, at any depth under them. */
static void walk_nodes(walk *w, const xmlNode *n, const xmlNode *org_time,
		       const xmlNode *org_spec, int depth)
{
	for (; n && !w->rc && depth < CARNET_CDA_MAX_DEPTH; n = n->next) {
		if (n->type != XML_ELEMENT_NODE || !carnet_cda__has_ns(n, CARNET_CDA_NS))
			continue;
		if (carnet_budget__over()) {
			w->rc = -1;
			return;
		}
		const xmlNode *t = org_time, *s = org_spec;
		if (carnet_cda__is(n, "observation")) {
			observation(w, n, org_time, org_spec);
		} else if (carnet_cda__is(n, "organizer")) {
			t = dated(n) ? n : t;
			s = carnet_cda__child(n, "specimen") ? n : s;
		} else if (carnet_cda__is(n, "text") || carnet_cda__is(n, "code") ||
			   carnet_cda__is(n, "value") || carnet_cda__is(n, "referenceRange") ||
			   carnet_cda__is(n, "observationMedia")) {
			continue; /* nothing of a result below */
		}
		walk_nodes(w, n->children, t, s, depth + 1);
	}
}

/* The entries of section s, then its nested sections. */
static void section(walk *w, const xmlNode *s, int depth)
{
	if (depth > 50)
		return;
	for (const xmlNode *c = s->children; !w->rc && c; c = c->next) {
		w->narrative = carnet_cda__child(s, "text");
		if (carnet_cda__is(c, "entry"))
			walk_nodes(w, c->children, NULL, NULL, 0);
		else if (carnet_cda__is(c, "component") && carnet_cda__child(c, "section"))
			section(w, carnet_cda__child(c, "section"), depth + 1);
	}
}

int carnet_cda__results(carnet_doc *d, const xmlNode *body)
{
	walk w = { d, NULL, 0 };
	for (const xmlNode *c = body ? body->children : NULL; !w.rc && c; c = c->next)
		if (carnet_cda__is(c, "component") && carnet_cda__child(c, "section"))
			section(&w, carnet_cda__child(c, "section"), 0);
	return w.rc;
}
