/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doc.c - documents in memory and their stored record. */
#include "doc.h"

#include "patient.h"
#include "policy.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

/* Field separator of the stored record (ASCII unit separator). */
#define REC_SEP '\x1f'

void carnet_doc__init(carnet_doc *d)
{
	memset(d, 0, sizeof *d);
	d->version = 1;
}

void carnet_doc__clear(carnet_doc *d)
{
	char **strs[] = { &d->id, &d->set_id, &d->patient_id,
			  &d->patient_system, &d->type, &d->title, &d->date,
			  &d->author_id, &d->author_specialty,
			  &d->confidentiality, &d->language, &d->format,
			  &d->source, &d->class_code, &d->practice_setting,
			  &d->facility, &d->author_name, &d->custodian,
			  &d->service_start, &d->service_end, &d->replaces,
			  &d->other_ids };
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		free(*strs[i]);
	for (size_t i = 0; i < d->sections_count; i++)
		free(d->sections[i].text);
	free(d->sections);
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

int carnet_doc__add_section(carnet_doc *d, unsigned weight, const char *text,
			    size_t len)
{
	if (d->sections_count == d->sections_cap) {
		size_t cap = d->sections_cap ? d->sections_cap * 2 : 4;
		carnet_section *s = realloc(d->sections, cap * sizeof *s);
		if (!s)
			return -1;
		d->sections = s;
		d->sections_cap = cap;
	}
	carnet_section *s = &d->sections[d->sections_count];
	s->text = NULL;
	if (carnet_doc__set(&s->text, text, len) != 0)
		return -1;
	s->weight = weight;
	s->len = len;
	d->sections_count++;
	return 0;
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
