/* SPDX-License-Identifier: GPL-2.0-or-later */
/* carnet-query-access.c - carnet-query --access-log: who searched a
 * patient's record, newest first, from one index home or merged from the
 * replicas of a shard (each row naming the replica that wrote it). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "carnet.h"
#include "carnet-query.h"

/* s with every control character (C0, DEL, C1, line separators, bidi
 * controls), backslash and byte that is not UTF-8 written as an escape
 * (\n, \t, \\, \xHH, \u0085, \u202e): what the log
 * holds cannot move the cursor, colour the terminal or forge a line.
 * Malloc'd; NULL when memory runs out. */
static char *escape(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	char *out = malloc(6 * n + 1), *o = out;
	if (!out)
		return NULL;
	while (*p) {
		size_t len = 0;
		if (p[0] >= 0xc2 && p[0] <= 0xdf && (p[1] & 0xc0) == 0x80)
			len = 2;
		else if (p[0] >= 0xe0 && p[0] <= 0xef && (p[1] & 0xc0) == 0x80 &&
			 (p[2] & 0xc0) == 0x80 &&
			 !(p[0] == 0xe0 && p[1] < 0xa0) && !(p[0] == 0xed && p[1] >= 0xa0))
			len = 3;
		else if (p[0] >= 0xf0 && p[0] <= 0xf4 && (p[1] & 0xc0) == 0x80 &&
			 (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80 &&
			 !(p[0] == 0xf0 && p[1] < 0x90) && !(p[0] == 0xf4 && p[1] >= 0x90))
			len = 4;
		unsigned cp = len == 3 ? ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu)
				       : 0;
		if (len == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
			o += sprintf(o, "\\u%04x", p[1]); /* C1 control */
		} else if (cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
			   (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)) {
			/* line separators and bidi controls: they too can
			 * make a line look like another */
			o += sprintf(o, "\\u%04x", cp);
		} else if (len) {
			memcpy(o, p, len);
			o += len;
		} else if (*p == '\n') {
			o += sprintf(o, "\\n");
		} else if (*p == '\t') {
			o += sprintf(o, "\\t");
		} else if (*p == '\r') {
			o += sprintf(o, "\\r");
		} else if (*p == '\\') {
			o += sprintf(o, "\\\\");
		} else if (*p < 0x20 || *p >= 0x7f) {
			o += sprintf(o, "\\x%02x", *p);
		} else {
			*o++ = (char)*p;
		}
		p += len ? len : 1;
	}
	*o = '\0';
	return out;
}

/* A JSON string of s: its text when it is UTF-8 (jansson escapes the
 * controls), else the escaped form. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	if (!j) {
		char *e = escape(s);
		j = e ? json_string(e) : NULL;
		free(e);
	}
	return j;
}

/* How rows are printed: JSON lines or a table, naming the replica when
 * there are several. */
typedef struct printing {
	int json;
	const char *replica; /* NULL: one home */
} printing;

static int print_access(const carnet_access_entry *e, void *payload)
{
	const printing *pr = payload;
	if (pr->json) {
		json_t *o = json_object();
		if (o) {
			json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
			json_object_set_new(o, "at", json_text(e->at_utc));
			json_object_set_new(o, "viewer_id", json_text(e->viewer_id));
			json_object_set_new(o, "role", json_text(e->role));
			json_object_set_new(o, "profession", json_text(e->profession));
			json_object_set_new(o, "specialty", json_text(e->specialty));
			json_object_set_new(o, "emergency", json_boolean(e->emergency));
			json_object_set_new(o, "words", json_text(e->words));
			json_object_set_new(o, "documents", json_text(e->doc_ids));
			json_object_set_new(o, "status", json_integer(e->status));
			json_object_set_new(o, "reason", json_text(e->reason));
			if (pr->replica)
				json_object_set_new(o, "replica", json_text(pr->replica));
			/* \u escapes for all but ASCII: no C1 control reaches
			 * the terminal */
			json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
			putchar('\n');
			json_decref(o);
		}
		return 0;
	}
	const char *raw[7] = { e->at_utc, e->role, e->viewer_id, e->profession, e->specialty,
			       e->words, e->doc_ids };
	char *f[8] = { NULL };
	int bad = 0;
	for (int i = 0; i < 7; i++)
		bad |= !(f[i] = escape(raw[i]));
	bad |= !(f[7] = escape(e->reason));
	char *rep = pr->replica ? escape(pr->replica) : NULL;
	bad |= pr->replica && !rep;
	if (!bad) {
		if (rep)
			printf("%s  ", rep);
		printf("%s  %-20s %-12s %-4s %-5s %s%s  [%s]", f[0], f[1],
		       *f[2] ? f[2] : "-", *f[3] ? f[3] : "-", *f[4] ? f[4] : "-",
		       e->emergency ? "EMERGENCY " : "", *f[5] ? f[5] : "(browse)", f[6]);
		if (e->status != CARNET_OK)
			printf("  REFUSED (%s): %s", carnet_strerror(e->status), f[7]);
		putchar('\n');
	}
	for (int i = 0; i < 8; i++)
		free(f[i]);
	free(rep);
	return bad ? -1 : 0;
}


/* One row kept for the merge: its strings copied, its replica. */
typedef struct kept_row {
	carnet_access_entry e;
	char *text[8];
	size_t replica;
} kept_row;

typedef struct kept {
	kept_row *rows;
	size_t n, cap;
	size_t replica;
} kept;

static void kept_row_free(kept_row *r)
{
	for (int i = 0; i < 8; i++)
		free(r->text[i]);
}

static int keep_row(const carnet_access_entry *e, void *payload)
{
	kept *k = payload;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		kept_row *rows = realloc(k->rows, cap * sizeof *rows);
		if (!rows)
			return CARNET_E_NOMEM;
		k->rows = rows;
		k->cap = cap;
	}
	kept_row *r = &k->rows[k->n];
	const char *src[8] = { e->at_utc, e->viewer_id, e->role, e->profession, e->specialty,
			       e->words, e->doc_ids, e->reason };
	int bad = 0;
	for (int i = 0; i < 8; i++)
		bad |= !(r->text[i] = strdup(src[i] ? src[i] : ""));
	if (bad) {
		kept_row_free(r);
		return CARNET_E_NOMEM;
	}
	r->e = *e;
	r->e.at_utc = r->text[0];
	r->e.viewer_id = r->text[1];
	r->e.role = r->text[2];
	r->e.profession = r->text[3];
	r->e.specialty = r->text[4];
	r->e.words = r->text[5];
	r->e.doc_ids = r->text[6];
	r->e.reason = r->text[7];
	r->replica = k->replica;
	k->n++;
	return 0;
}

/* Newest first (the times are YYYY-MM-DDTHH:MM:SS.mmmZ, ordered as
 * text); at the same time, by replica, then newest row first. */
static int newest_first(const void *a, const void *b)
{
	const kept_row *x = a, *y = b;
	int c = strcmp(y->e.at_utc, x->e.at_utc);
	if (c)
		return c;
	if (x->replica != y->replica)
		return x->replica < y->replica ? -1 : 1;
	return x->e.seq < y->e.seq ? 1 : x->e.seq > y->e.seq ? -1 : 0;
}

/* Read one home's rows of patient with cb; prints the error. */
static int read_home(const char *home, const char *label, const char *patient,
		     carnet_access_entry_cb cb, void *payload)
{
	carnet_error err;
	carnet_index *idx;
	if (carnet_index_open(&idx, home, &err) != CARNET_OK) {
		fprintf(stderr, "carnet-query: %s%s%s\n", label ? label : "", label ? ": " : "",
			err.message);
		return 3;
	}
	int rc = carnet_index_access_log_entries(idx, patient, cb, payload, &err);
	carnet_index_close(idx);
	if (rc != CARNET_OK) {
		if (rc == CARNET_E_NOMEM)
			fputs("carnet-query: out of memory\n", stderr);
		else
			fprintf(stderr, "carnet-query: %s%s%s\n", label ? label : "",
				label ? ": " : "", err.message);
		return rc == CARNET_E_INVALID ? 2 : 3;
	}
	return 0;
}

int show_access_log(const char *const *homes, size_t n, const char *patient, int json)
{
	if (n == 1) { /* streamed as the log is read */
		printing pr = { json, NULL };
		return read_home(homes[0], NULL, patient, print_access, &pr);
	}
	kept k = { NULL, 0, 0, 0 };
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		k.replica = i;
		rc = read_home(homes[i], homes[i], patient, keep_row, &k);
	}
	if (!rc) {
		qsort(k.rows, k.n, sizeof *k.rows, newest_first);
		for (size_t i = 0; i < k.n; i++) {
			printing pr = { json, homes[k.rows[i].replica] };
			print_access(&k.rows[i].e, &pr);
		}
	}
	for (size_t i = 0; i < k.n; i++)
		kept_row_free(&k.rows[i]);
	free(k.rows);
	return rc;
}
