/* SPDX-License-Identifier: GPL-2.0-or-later */
/* fhir_json.c - FHIR JSON: loading it under the time budget, reading members
 * and codings, and resolving references within the file. */
#include "fhir.h"

#include <stdio.h>
#include <string.h>

const char *carnet_fhir__safe_name(const char *s)
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

json_t *carnet_fhir__load(const char *data, size_t len, json_error_t *jerr)
{
	json_feed f = { data, len, 0 };
	return json_load_callback(feed, &f, JSON_REJECT_DUPLICATES, jerr);
}

const char *carnet_fhir__str(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	return s && *s ? s : NULL;
}

json_t *carnet_fhir__first(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_object(v) ? v : NULL;
}

json_t *carnet_fhir__path(json_t *obj, const char *k1, const char *k2)
{
	json_t *v = json_object_get(obj, k1);
	v = json_is_object(v) ? json_object_get(v, k2) : NULL;
	return v;
}

int carnet_fhir__is(json_t *res, const char *type)
{
	const char *t = carnet_fhir__str(res, "resourceType");
	return t && strcmp(t, type) == 0;
}

const char *carnet_fhir__oid(const char *system)
{
	if (system && strncmp(system, "urn:oid:", 8) == 0)
		return system + 8;
	return system;
}

int carnet_fhir__system_ends(const char *system, const char *suffix)
{
	if (!system)
		return 0;
	size_t n = strlen(system), m = strlen(suffix);
	return n >= m && strcmp(system + n - m, suffix) == 0;
}

json_t *carnet_fhir__coding(json_t *concept, const char *prefer)
{
	json_t *codings = json_object_get(concept, "coding"), *c;
	size_t i;
	if (!json_is_array(codings))
		return NULL;
	if (prefer)
		json_array_foreach(codings, i, c) {
			const char *sys = carnet_fhir__str(c, "system");
			if (sys && strcmp(sys, prefer) == 0 && carnet_fhir__str(c, "code"))
				return c;
		}
	json_array_foreach(codings, i, c)
		if (carnet_fhir__str(c, "code"))
			return c;
	return NULL;
}

const char *carnet_fhir__ref_id(const char *ref, size_t *len)
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
	const char *id = carnet_fhir__ref_id(ref, &idlen);
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

/* The fullUrl of the entry of bundle holding res, or NULL. */
static const char *full_url_of(json_t *bundle, json_t *res)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(bundle, "entry"), i, e)
		if (json_object_get(e, "resource") == res)
			return carnet_fhir__str(e, "fullUrl");
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
	const char *id = carnet_fhir__ref_id(url, &idlen);
	if (strncmp(url, "urn:", 4) == 0 || id == url || id[-1] != '/')
		return 0;
	const char *t = id - 1;
	while (t > url && t[-1] != '/')
		t--;
	return (size_t)(t - url);
}

int carnet_fhir__resolve_ref(json_t *container, json_t *bundle, const char *ref, json_t **out,
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
			if (json_is_object(r) && carnet_fhir__str(r, "id") &&
			    strcmp(carnet_fhir__str(r, "id"), ref + 1) == 0) {
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
		const char *url = carnet_fhir__str(e, "fullUrl");
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
	const char *id = carnet_fhir__ref_id(ref, &idlen);
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
		const char *rid = carnet_fhir__str(r, "id");
		if (!rid || !carnet_fhir__is(r, type) || strlen(rid) != idlen ||
		    memcmp(rid, id, idlen) != 0)
			continue;
		const char *url = carnet_fhir__str(e, "fullUrl");
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

json_t *carnet_fhir__resolve(json_t *container, json_t *bundle, const char *ref)
{
	json_t *r;
	return carnet_fhir__resolve_ref(container, bundle, ref, &r, NULL) == REF_FOUND ? r : NULL;
}

const char *carnet_fhir__ref_label(char *out, size_t size, const char *ref)
{
	size_t n = 0;
	for (const char *r = ref ? ref : ""; *r && n + 1 < size && n < 100; r++)
		out[n++] = (*r > 0x20 && *r < 0x7f) ? *r : '?';
	out[n] = '\0';
	return out;
}
