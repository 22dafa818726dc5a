/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doc.c - documents in memory and their stored record. */
#include "doc.h"

#include "patient.h"
#include "policy.h"
#include "schema.h"
#include "util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <xxhash.h>

/* Field separator of the stored record (ASCII unit separator). */
#define REC_SEP '\x1f'

void carnet_doc__init(carnet_doc *d)
{
	memset(d, 0, sizeof *d);
	d->version = 1;
}

/* Where each text field lives in a carnet_doc. */
static const size_t field_offset[CARNET_DOC_FIELDS] = {
	[CARNET_DOC_ID] = offsetof(carnet_doc, id),
	[CARNET_DOC_SET_ID] = offsetof(carnet_doc, set_id),
	[CARNET_DOC_PATIENT_ID] = offsetof(carnet_doc, patient_id),
	[CARNET_DOC_PATIENT_SYSTEM] = offsetof(carnet_doc, patient_system),
	[CARNET_DOC_TYPE] = offsetof(carnet_doc, type),
	[CARNET_DOC_TITLE] = offsetof(carnet_doc, title),
	[CARNET_DOC_DATE] = offsetof(carnet_doc, date),
	[CARNET_DOC_AUTHOR_ID] = offsetof(carnet_doc, author_id),
	[CARNET_DOC_AUTHOR_SPECIALTY] = offsetof(carnet_doc, author_specialty),
	[CARNET_DOC_CONFIDENTIALITY] = offsetof(carnet_doc, confidentiality),
	[CARNET_DOC_LANGUAGE] = offsetof(carnet_doc, language),
	[CARNET_DOC_FORMAT] = offsetof(carnet_doc, format),
	[CARNET_DOC_SOURCE] = offsetof(carnet_doc, source),
	[CARNET_DOC_CLASS_CODE] = offsetof(carnet_doc, class_code),
	[CARNET_DOC_PRACTICE_SETTING] = offsetof(carnet_doc, practice_setting),
	[CARNET_DOC_FACILITY] = offsetof(carnet_doc, facility),
	[CARNET_DOC_AUTHOR_NAME] = offsetof(carnet_doc, author_name),
	[CARNET_DOC_CUSTODIAN] = offsetof(carnet_doc, custodian),
	[CARNET_DOC_SERVICE_START] = offsetof(carnet_doc, service_start),
	[CARNET_DOC_SERVICE_END] = offsetof(carnet_doc, service_end),
	[CARNET_DOC_REPLACES] = offsetof(carnet_doc, replaces),
	[CARNET_DOC_OTHER_IDS] = offsetof(carnet_doc, other_ids),
};

char **carnet_doc__field(carnet_doc *d, carnet_doc_field f)
{
	return (char **)((char *)d + field_offset[f]);
}

void carnet_doc__clear(carnet_doc *d)
{
	for (int f = 0; f < CARNET_DOC_FIELDS; f++)
		free(*carnet_doc__field(d, (carnet_doc_field)f));
	for (size_t i = 0; i < d->sections_count; i++)
		free(d->sections[i].text);
	free(d->sections);
	for (size_t i = 0; i < d->results_count; i++)
		carnet_result__clear(&d->results[i]);
	free(d->results);
	carnet_doc__init(d);
}

int carnet_doc__set(char **field, const char *value, size_t len)
{
	char *copy = NULL;
	if (value) {
		copy = malloc(len + 1);
		if (!copy)
			return -1;
		memcpy(copy, value, len);
		copy[len] = '\0';
	}
	free(*field);
	*field = copy;
	return 0;
}

int carnet_doc__sets(char **field, const char *value)
{
	return carnet_doc__set(field, value, value ? strlen(value) : 0);
}

int carnet_doc__copy(carnet_doc *to, const carnet_doc *from, const carnet_doc_field *fields,
		     size_t n, int replace)
{
	for (size_t i = 0; i < n; i++) {
		char **dst = carnet_doc__field(to, fields[i]);
		const char *src = *(char *const *)((const char *)from + field_offset[fields[i]]);
		if (!src || (!replace && (*dst || !*src)))
			continue;
		if (carnet_doc__sets(dst, src) != 0)
			return -1;
	}
	return 0;
}

int carnet_doc__add_section(carnet_doc *d, carnet_section_kind kind, const char *text,
			    size_t len)
{
	if (CARNET_GROW(d->sections, d->sections_cap, d->sections_count + 1) != 0)
		return -1;
	carnet_section *s = &d->sections[d->sections_count];
	s->text = NULL;
	if (carnet_doc__set(&s->text, text, len) != 0)
		return -1;
	s->kind = kind;
	s->len = len;
	d->sections_count++;
	return 0;
}

void carnet_result__clear(carnet_result *r)
{
	char *f[] = { r->system, r->code, r->display, r->value, r->unit, r->low, r->high,
		      r->interpretation, r->date, r->specimen };
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		free(f[i]);
	memset(r, 0, sizeof *r);
}

/* A copy of src into *dst, made safe: control characters become spaces,
 * blanks around are dropped, at most max bytes (cut before a UTF-8
 * sequence); NULL when nothing is left. 0 or -1 (memory). */
static int safe_copy(char **dst, const char *src, size_t max)
{
	*dst = NULL;
	if (!src)
		return 0;
	while (*src == ' ' || (unsigned char)*src < 0x20 || *src == 0x7f)
		if (!*src++)
			return 0;
	size_t n = strlen(src);
	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--;
	}
	while (n > 0 && ((unsigned char)src[n - 1] <= 0x20 || src[n - 1] == 0x7f))
		n--;
	if (!n)
		return 0;
	if (carnet_doc__set(dst, src, n) != 0)
		return -1;
	for (char *p = *dst; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return 0;
}

/* Is v (modified: a ',' decimal becomes '.') a number
 * [-+]digits[.digits][e[-+]digits]? */
static int number(char *v)
{
	char *p = v, *comma = strchr(v, ',');
	if (comma && !strchr(v, '.') && !strchr(comma + 1, ','))
		*comma = '.';
	if (*p == '-' || *p == '+')
		p++;
	size_t digits = strspn(p, "0123456789");
	p += digits;
	if (*p == '.') {
		size_t frac = strspn(p + 1, "0123456789");
		digits += frac;
		p += 1 + frac;
	}
	if (!digits)
		return 0;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		size_t exp = strspn(p, "0123456789");
		if (!exp)
			return 0;
		p += exp;
	}
	return *p == '\0';
}

int carnet_doc__add_result(carnet_doc *d, const carnet_result *r)
{
	if (d->results_count >= CARNET_RESULTS_MAX || !r->code ||
	    strlen(r->code) > CARNET_RESULT_CODE_MAX || !carnet_doc__valid_id(r->code) ||
	    (r->kind != CARNET_RESULT_NUMERIC && r->kind != CARNET_RESULT_CODED &&
	     r->kind != CARNET_RESULT_TEXT))
		return 0;
	if (CARNET_GROW(d->results, d->results_cap, d->results_count + 1) != 0)
		return -1;
	carnet_result *c = &d->results[d->results_count];
	memset(c, 0, sizeof *c);
	c->kind = r->kind;
	const size_t cm = CARNET_RESULT_CODE_MAX, tm = CARNET_RESULT_TEXT_MAX;
	if (safe_copy(&c->system, r->system, cm) || safe_copy(&c->code, r->code, cm) ||
	    safe_copy(&c->display, r->display, tm) || safe_copy(&c->value, r->value, tm) ||
	    safe_copy(&c->unit, r->unit, cm) || safe_copy(&c->low, r->low, cm) ||
	    safe_copy(&c->high, r->high, cm) ||
	    safe_copy(&c->interpretation, r->interpretation, cm) ||
	    safe_copy(&c->date, r->date, cm) || safe_copy(&c->specimen, r->specimen, tm)) {
		carnet_result__clear(c);
		return -1;
	}
	if (c->kind == CARNET_RESULT_NUMERIC && (!c->value || !number(c->value)))
		c->kind = CARNET_RESULT_TEXT;
	d->results_count++;
	return 0;
}

/* Does s contain word (lower-case ASCII), in any case? */
static int has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (; *s; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

carnet_section_kind carnet_doc__section_kind(const char *code, const char *title)
{
	static const char *const codes[] = { "55110-1", /* conclusions */
					     "29548-5", /* diagnosis */
					     "29299-5", /* reason for visit */
					     "51848-0", /* assessment */
					     "11535-2", /* discharge diagnosis */
					     "42349-1", /* reason for referral */
					     NULL };
	/* ASCII stems, before any accent: "synth" is synthèse, synthese and
	 * synthesis; "diagnos" diagnostic, diagnostique and diagnosis */
	static const char *const words[] = { "conclusion", "synth", "motif", "diagnos",
					     "impression", "assessment", NULL };
	for (size_t i = 0; code && codes[i]; i++)
		if (strcmp(code, codes[i]) == 0)
			return CARNET_SECTION_CONCLUSION;
	for (size_t i = 0; title && words[i]; i++)
		if (has_word(title, words[i]))
			return CARNET_SECTION_CONCLUSION;
	return CARNET_SECTION_BODY;
}

/* Append one record field, with separators and line breaks made spaces. */
static int put_field(carnet_buf *out, const char *v, int last)
{
	size_t start = out->len;
	if (v && carnet_buf__puts(out, v) != 0)
		return -1;
	for (size_t i = start; i < out->len; i++)
		if (out->data[i] == REC_SEP || out->data[i] == '\n' ||
		    out->data[i] == '\r')
			out->data[i] = ' ';
	return last ? 0 : carnet_buf__putc(out, REC_SEP);
}

int carnet_doc__encode_record(carnet_buf *out, const carnet_doc *d)
{
	char version[16];
	snprintf(version, sizeof version, "%d", d->version);
	const char *f[CARNET_REC_COUNT] = {
		[CARNET_REC_ID] = d->id,
		[CARNET_REC_SET_ID] = d->set_id,
		[CARNET_REC_VERSION] = version,
		[CARNET_REC_PATIENT] = d->patient_id,
		[CARNET_REC_TYPE] = d->type,
		[CARNET_REC_TITLE] = d->title,
		[CARNET_REC_DATE] = d->date,
		[CARNET_REC_AUTHOR_ID] = d->author_id,
		[CARNET_REC_AUTHOR_SPECIALTY] = d->author_specialty,
		[CARNET_REC_SOURCE] = d->source,
		[CARNET_REC_CONFIDENTIALITY] = d->confidentiality,
		[CARNET_REC_LANGUAGE] = d->language,
	};
	size_t start = out->len;
	for (int i = 0; i < CARNET_REC_CHECK; i++)
		if (put_field(out, f[i], 0) != 0)
			return -1;
	XXH64_hash_t h = XXH64(out->data + start, out->len - start, 0);
	return carnet_buf__printf(out, "%016llx", (unsigned long long)h) != 0 ? -1 : 0;
}

int carnet_doc__record_intact(const char *rec, size_t len)
{
	if (!rec || len < 17 || rec[len - 17] != REC_SEP)
		return 0;
	size_t seps = 0;
	for (size_t i = 0; i < len; i++)
		seps += rec[i] == REC_SEP;
	if (seps != CARNET_REC_CHECK)
		return 0;
	char want[17];
	snprintf(want, sizeof want, "%016llx",
		 (unsigned long long)XXH64(rec, len - 16, 0));
	return memcmp(want, rec + len - 16, 16) == 0;
}

void carnet_doc__decode_record(char *rec, char *fields[CARNET_REC_COUNT])
{
	static char empty[] = "";
	char *p = rec;
	for (int i = 0; i < CARNET_REC_COUNT; i++) {
		if (!p) {
			fields[i] = empty;
			continue;
		}
		fields[i] = p;
		char *sep = strchr(p, REC_SEP);
		if (sep) {
			*sep = '\0';
			p = sep + 1;
		} else {
			p = NULL;
		}
	}
}

int carnet_doc__valid_date(const char *s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return !(m == 2 && d == 29 && !leap);
}

int carnet_doc__valid_id(const char *s)
{
	if (!s || !*s || strlen(s) > CARNET_ID_MAX)
		return 0;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

int carnet_doc__is_ins_system(const char *oid)
{
	return carnet_patient__ins_kind(oid) != 0;
}

/* the codes are the audiences' (core/policy.c) */
int carnet_doc__is_visibility(const char *code, size_t len)
{
	return carnet_policy__is_audience_code(code, len);
}

void carnet_doc__normalise_visibility(char *confidentiality)
{
	for (char *c = confidentiality; c && *c;) {
		size_t n = strcspn(c, " \t\r\n");
		if (carnet_doc__is_visibility(c, n))
			for (size_t i = 0; i < n; i++)
				if (c[i] >= 'a' && c[i] <= 'z')
					c[i] = (char)(c[i] - 'a' + 'A');
		c += n;
		while (*c == ' ' || *c == '\t' || *c == '\r' || *c == '\n')
			c++;
	}
}
