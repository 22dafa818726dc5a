/* SPDX-License-Identifier: GPL-2.0-or-later */
/* policy.c - parsing and applying the authorisation matrix. */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "home.h"
#include "schema.h"

/* the default matrix, generated from query/authorisations.tsv */
#include "authorisations_default.h"

typedef struct rule {
	char profession[16];
	char specialty[32];   /* "*" for any */
	char kind;            /* '*', 't' (type) or 'c' (class) */
	char code[CARNET_ID_MAX + 1];
} rule;

struct carnet_policy {
	rule *rules;
	size_t count;
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

int carnet_policy__parse(carnet_policy **out, const char *name,
			 const char *text, size_t len, carnet_error *err)
{
	*out = NULL;
	carnet_policy *p = calloc(1, sizeof *p);
	if (!p)
		return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
					 0, "out of memory");
	size_t cap = 0;
	unsigned line = 0;
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		line++;
		const char *s = text + i;
		size_t n = e - i;
		i = e + 1;
		if (n && s[n - 1] == '\r')
			n--;
		size_t lead = 0;
		while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
			lead++;
		if (lead == n || s[lead] == '#')
			continue;
		/* three tab-separated fields */
		const char *f[3];
		size_t fl[3];
		size_t k = 0, start = 0;
		for (size_t j = 0; j <= n && k < 3; j++) {
			if (j == n || s[j] == '\t') {
				f[k] = s + start;
				fl[k] = j - start;
				k++;
				start = j + 1;
			}
		}
		if (k != 3 || start <= n) {
			carnet_policy__free(p);
			return bad_line(err, name, line,
					"a rule has three tab-separated fields: profession, specialty, documents");
		}
		if (p->count == cap) {
			cap = cap ? cap * 2 : 64;
			rule *r = realloc(p->rules, cap * sizeof *r);
			if (!r) {
				carnet_policy__free(p);
				return carnet_error__set(err, CARNET_E_NOMEM,
							 CARNET_ORIGIN_CARNET, 0,
							 "out of memory");
			}
			p->rules = r;
		}
		rule *r = &p->rules[p->count];
		if (!field(r->profession, sizeof r->profession, f[0], fl[0]) ||
		    !field(r->specialty, sizeof r->specialty, f[1], fl[1])) {
			carnet_policy__free(p);
			return bad_line(err, name, line, "bad profession or specialty code");
		}
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
			carnet_policy__free(p);
			return bad_line(err, name, line,
					"documents must be *, type:CODE or class:CODE");
		}
		p->count++;
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

int carnet_policy__filter(const carnet_policy *p, const char *profession,
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
			return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET,
						 0, "out of memory");
		(*count_out)++;
	}
	if (!known)
		return carnet_error__set(err, CARNET_E_DENIED, CARNET_ORIGIN_CARNET, 0,
					 "profession %.16s is not in the authorisation matrix: "
					 "it may not read any document", profession);
	return CARNET_OK;
}
