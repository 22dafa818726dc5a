/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.c - who may see what (see policy.h): the authorisation matrix,
 * the audiences' codes and the filter of a request. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "doc.h"
#include "home.h"
#include "schema.h"
#include "util.h"

/* the default matrix, generated from core/data/authorisations.tsv */
#include "authorisations_default.h"

/* ---- the authorisation matrix ---- */

typedef struct rule {
	char profession[16];
	char specialty[32];   /* "*" for any */
	char kind;            /* '*', 't' (type) or 'c' (class) */
	char code[CARNET_ID_MAX + 1];
} rule;

struct carnet_policy {
	rule *rules;
	size_t count, cap;
};

void carnet_policy__free(carnet_policy *p)
{
	if (!p)
		return;
	free(p->rules);
	free(p);
}

/* Copy field [s, s+n) into out (size); 0 if it does not fit or is empty. */
static int field(char *out, size_t size, const char *s, size_t n)
{
	if (n == 0 || n >= size)
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return carnet_doc__valid_id(out);
}

static int bad_line(carnet_error *err, const char *name, unsigned line,
		    const char *why)
{
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "%s line %u: %s", name, line, why);
}

/* The rule of one line of the matrix (comments and blanks gone), or
 * CARNET_E_INVALID naming the line. */
static int parse_rule(rule *r, const carnet_lines *it, carnet_error *err)
{
	/* three tab-separated fields */
	const char *s = it->line, *f[3];
	size_t n = strlen(s), fl[3];
	size_t k = 0, start = 0;
	for (size_t j = 0; j <= n && k < 3; j++) {
		if (j == n || s[j] == '\t') {
			f[k] = s + start;
			fl[k] = j - start;
			k++;
			start = j + 1;
		}
	}
	if (k != 3 || start <= n)
		return bad_line(err, it->name, it->number,
				"a rule has three tab-separated fields: profession, specialty, documents");
	if (!field(r->profession, sizeof r->profession, f[0], fl[0]) ||
	    !field(r->specialty, sizeof r->specialty, f[1], fl[1]))
		return bad_line(err, it->name, it->number, "bad profession or specialty code");
	if (fl[2] == 1 && f[2][0] == '*') {
		r->kind = '*';
		r->code[0] = '\0';
	} else if (fl[2] > 5 && strncmp(f[2], "type:", 5) == 0 &&
		   field(r->code, sizeof r->code, f[2] + 5, fl[2] - 5)) {
		r->kind = 't';
	} else if (fl[2] > 6 && strncmp(f[2], "class:", 6) == 0 &&
		   field(r->code, sizeof r->code, f[2] + 6, fl[2] - 6)) {
		r->kind = 'c';
	} else {
		return bad_line(err, it->name, it->number,
				"documents must be *, type:CODE or class:CODE");
	}
	return CARNET_OK;
}

int carnet_policy__parse(carnet_policy **out, const char *name,
			 const char *text, size_t len, carnet_error *err)
{
	*out = NULL;
	carnet_policy *p = calloc(1, sizeof *p);
	if (!p)
		return carnet_error__nomem(err, NULL);
	carnet_lines it;
	carnet_lines__start(&it, name, text, len);
	int rc;
	while ((rc = carnet_lines__next(&it, err)) == 1) {
		if (CARNET_GROW(p->rules, p->cap, p->count + 1) != 0) {
			rc = carnet_error__nomem(err, NULL);
			break;
		}
		if ((rc = parse_rule(&p->rules[p->count], &it, err)))
			break;
		p->count++;
	}
	if (rc) {
		carnet_policy__free(p);
		return rc;
	}
	*out = p;
	return CARNET_OK;
}

int carnet_policy__load(carnet_policy **out, const char *home,
			carnet_error *err)
{
	carnet_buf text = CARNET_BUF_INIT;
	int missing;
	*out = NULL;
	int rc = carnet_home__read(&text, &missing, home, CARNET_AUTHZ_FILE,
				   4 * 1024 * 1024, err);
	if (rc == CARNET_OK && missing)
		rc = carnet_policy__parse(out, "default authorisations.tsv",
					  carnet_default_authorisations,
					  strlen(carnet_default_authorisations), err);
	else if (rc == CARNET_OK)
		rc = carnet_policy__parse(out, CARNET_AUTHZ_FILE " of the index home",
					  text.data ? text.data : "", text.len, err);
	carnet_buf__free(&text);
	return rc;
}

/* What a professional may read. Sets *all_out when every document;
 * otherwise appends the index terms of the readable types and classes to
 * terms (NUL-separated) and their number to *count_out. CARNET_E_DENIED
 * when no rule covers the profession (or it is missing). */
static int matrix_grants(const carnet_policy *p, const char *profession,
			 const char *specialty, int *all_out, carnet_buf *terms,
			 size_t *count_out, carnet_error *err)
{
	*all_out = 0;
	*count_out = 0;
	if (!profession || !*profession)
		return carnet_error__set(err, CARNET_E_DENIED, CARNET_ORIGIN_CARNET, 0,
					 "a professional's request needs a profession code "
					 "(TRE_G15, e.g. 10 for médecin)");
	int known = 0;
	for (size_t i = 0; i < p->count; i++) {
		const rule *r = &p->rules[i];
		if (strcmp(r->profession, profession) != 0)
			continue;
		known = 1;
		if (strcmp(r->specialty, "*") != 0 &&
		    (!specialty || strcmp(r->specialty, specialty) != 0))
			continue;
		if (r->kind == '*') {
			*all_out = 1;
			return CARNET_OK;
		}
		if (carnet_buf__printf(terms, "%s%s",
				       r->kind == 't' ? CARNET_PREFIX_TYPE : CARNET_PREFIX_CLASS,
				       r->code) != 0 ||
		    carnet_buf__putc(terms, '\0') != 0)
			return carnet_error__nomem(err, NULL);
		(*count_out)++;
	}
	if (!known)
		return carnet_error__set(err, CARNET_E_DENIED, CARNET_ORIGIN_CARNET, 0,
					 "profession %.16s is not in the authorisation matrix: "
					 "it may not read any document", profession);
	return CARNET_OK;
}

/* ---- audiences and their codes ---- */

/* The code that hides a document from each audience, and its index term:
 * the one table of them. */
#define AUDIENCE(code) { code, CARNET_PREFIX_CONF code }
static const struct audience {
	const char *code;
	const char *term;
} audiences[] = {
	[CARNET_AUDIENCE_PROFESSIONALS] = AUDIENCE("MASQUE_PS"),
	[CARNET_AUDIENCE_PATIENT] = AUDIENCE("INVISIBLE_PATIENT"),
	[CARNET_AUDIENCE_LEGAL_REPRESENTATIVES] = AUDIENCE("INVISIBLE_REPRESENTANTS_LEGAUX"),
};
#define AUDIENCES (sizeof audiences / sizeof audiences[0])

const char *carnet_policy__audience_code(carnet_audience audience)
{
	if ((unsigned)audience >= AUDIENCES)
		return NULL;
	return audiences[audience].code;
}

int carnet_policy__is_audience_code(const char *code, size_t len)
{
	for (size_t i = 0; code && i < AUDIENCES; i++)
		if (strlen(audiences[i].code) == len &&
		    strncasecmp(code, audiences[i].code, len) == 0)
			return 1;
	return 0;
}

/* ---- the filter of a request ---- */

void carnet_policy__filter_clear(carnet_policy_filter *f)
{
	free(f->grants);
	free(f->storage);
	memset(f, 0, sizeof *f);
}

/* A professional: the matrix, and MASQUE_PS hidden but to its author,
 * unless in emergency access. */
static int professional(const carnet_policy *p, const carnet_request *req,
			carnet_policy_filter *out, carnet_error *err)
{
	carnet_buf terms = CARNET_BUF_INIT;
	size_t count;
	int rc = matrix_grants(p, req->profession, req->specialty, &out->everything,
			       &terms, &count, err);
	int emergency = (req->flags & CARNET_REQUEST_EMERGENCY) != 0;
	int author = !emergency && req->viewer_id && *req->viewer_id;
	size_t unhide_at = terms.len;
	if (rc == CARNET_OK && author &&
	    carnet_buf__printf(&terms, CARNET_PREFIX_AUTHOR "%s", req->viewer_id) != 0)
		rc = carnet_error__nomem(err, NULL);
	if (rc == CARNET_OK && !out->everything &&
	    !(out->grants = calloc(count ? count : 1, sizeof *out->grants)))
		rc = carnet_error__nomem(err, NULL);
	if (rc) {
		carnet_buf__free(&terms);
		carnet_policy__filter_clear(out);
		return rc;
	}
	out->storage = terms.data;
	for (size_t i = 0, off = 0; !out->everything && i < count; i++) {
		out->grants[i] = terms.data + off;
		off += strlen(out->grants[i]) + 1;
	}
	out->grants_count = out->everything ? 0 : count;
	if (!emergency)
		out->hide[out->hide_count++] = audiences[CARNET_AUDIENCE_PROFESSIONALS].term;
	if (author)
		out->unhide = terms.data + unhide_at;
	return CARNET_OK;
}

int carnet_policy__request(const carnet_policy *p, const carnet_request *req,
			   carnet_policy_filter *out, carnet_error *err)
{
	memset(out, 0, sizeof *out);
	switch (req->role) {
	case CARNET_ROLE_PROFESSIONAL:
		return professional(p, req, out, err);
	case CARNET_ROLE_PATIENT:
		out->everything = 1;
		out->hide[out->hide_count++] = audiences[CARNET_AUDIENCE_PATIENT].term;
		return CARNET_OK;
	case CARNET_ROLE_LEGAL_REPRESENTATIVE:
		out->everything = 1;
		out->hide[out->hide_count++] =
			audiences[CARNET_AUDIENCE_LEGAL_REPRESENTATIVES].term;
		return CARNET_OK;
	}
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "invalid request: unknown role");
}
