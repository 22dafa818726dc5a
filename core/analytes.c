/* SPDX-License-Identifier: GPL-2.0-or-later */
/* analytes.c - reading analytes.tsv and panels.tsv (the defaults compiled
 * in, then an index home's), and looking analytes up by LOINC code, by
 * the words that name them, and by the viewer's profile. */
#include "analytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "home.h"
#include "strmap.h"
#include "text.h"
#include "units.h"
#include "util.h"
#include "xapian_shim.h"

/* the defaults, generated from core/data/analytes.tsv and panels.tsv */
#include "analytes_default.h"

#define TABLE_MAX_BYTES (4 * 1024 * 1024)
#define LOADING "loading the analytes tables"
#define WORDS_MAX 8   /* words in one entry of the words column */

/* One entry of the words column: folded words joined by spaces. */
typedef struct word_entry {
	char *words;
	size_t count, analyte;
} word_entry;

typedef struct panel {
	char *profile;
	size_t *list;
	size_t count, cap;
	const char *file;  /* the file that last set it */
} panel;

typedef struct defn {
	carnet_analyte a;
	char *words;       /* the words column as written */
} defn;

struct carnet_analytes {
	defn *d;
	size_t count, cap;
	carnet_strmap codes;  /* "c:CODE" -> analyte */
	word_entry *w;
	size_t w_count, w_cap, longest;
	panel *p;
	size_t p_count, p_cap;
};

static void defn_clear(defn *d)
{
	free(d->a.key);
	free(d->a.label);
	free(d->a.unit);
	for (size_t i = 0; i < d->a.codes_count; i++)
		free(d->a.codes[i]);
	free(d->a.codes);
	free(d->a.where);
	free(d->words);
	memset(d, 0, sizeof *d);
}

void carnet_analytes__free(carnet_analytes *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->count; i++)
		defn_clear(&a->d[i]);
	free(a->d);
	carnet_strmap__free(&a->codes);
	for (size_t i = 0; i < a->w_count; i++)
		free(a->w[i].words);
	free(a->w);
	for (size_t i = 0; i < a->p_count; i++) {
		free(a->p[i].profile);
		free(a->p[i].list);
	}
	free(a->p);
	free(a);
}

/* ---- checking fields ---- */


static int valid_key(const char *s, int star)
{
	size_t n = strlen(s);
	if (star && strcmp(s, "*") == 0)
		return 1;
	return n > 0 && n < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* A LOINC code: digits, '-', its check digit (mod 10, as LOINC computes
 * it: Luhn's algorithm over the whole code). */
int carnet_analytes__is_loinc(const char *s)
{
	size_t n = strlen(s);
	if (n < 3 || n > 9 || s[n - 2] != '-' || strspn(s, "0123456789") != n - 2 ||
	    s[n - 1] < '0' || s[n - 1] > '9')
		return 0;
	int sum = s[n - 1] - '0', dbl = 1;
	for (size_t i = n - 2; i-- > 0; dbl = !dbl) {
		int d = (s[i] - '0') * (dbl ? 2 : 1);
		sum += d > 9 ? d - 9 : d;
	}
	return sum % 10 == 0;
}

/* ---- analytes.tsv ---- */

static int analyte_line(carnet_analytes *a, carnet_lines *it, carnet_error *err)
{
	char *f[7];
	size_t n = carnet__split_tabs(it->line, f, 7);
	double mm = 0;
	char *end = NULL;
	carnet_unit u;
	if (n != 6 || !valid_key(f[0], 0) || !*f[2] || !*f[5])
		return carnet_lines__bad(it, err, "KEY<TAB>LOINC,...<TAB>LABEL<TAB>UNIT<TAB>"
					 "MOLAR MASS or -<TAB>WORD,...");
	if (carnet_unit__parse(&u, f[3]))
		return carnet_lines__bad(it, err, "unit %s is not a UCUM unit carnet reads", f[3]);
	if (strcmp(f[4], "-") != 0 && (!(mm = strtod(f[4], &end)) || *end || !(mm > 0)))
		return carnet_lines__bad(it, err, "the molar mass is a number of g/mol above 0, or -");
	size_t i = 0;
	while (i < a->count && strcmp(a->d[i].a.key, f[0]) != 0)
		i++;
	if (i == a->count && CARNET_GROW(a->d, a->cap, a->count + 1))
		return carnet_error__nomem(err, LOADING);
	defn d;
	memset(&d, 0, sizeof d);
	char where[CARNET_PATH_MAX + 16];
	snprintf(where, sizeof where, "%s:%u", it->name, it->number);
	size_t codes_cap = 0;
	int rc = CARNET_OK;
	d.a.molar_mass = mm;
	if (!(d.a.key = strdup(f[0])) || !(d.a.label = strdup(f[2])) ||
	    !(d.a.unit = strdup(f[3])) || !(d.words = strdup(f[5])) ||
	    !(d.a.where = strdup(where)))
		rc = carnet_error__nomem(err, LOADING);
	char *save = NULL;
	for (char *c = strtok_r(f[1], ",", &save); c && rc == CARNET_OK;
	     c = strtok_r(NULL, ",", &save)) {
		if (!carnet_analytes__is_loinc(c))
			rc = carnet_lines__bad(it, err, "%s is not a LOINC code (digits, '-', "
					       "its check digit)", c);
		else if (CARNET_GROW(d.a.codes, codes_cap, d.a.codes_count + 1) ||
			 !(d.a.codes[d.a.codes_count++] = strdup(c)))
			rc = carnet_error__nomem(err, LOADING);
	}
	if (rc == CARNET_OK && !d.a.codes_count)
		rc = carnet_lines__bad(it, err, "an analyte needs a LOINC code");
	if (rc) {
		defn_clear(&d);
		return rc;
	}
	if (i < a->count)
		defn_clear(&a->d[i]);
	else
		a->count++;
	a->d[i] = d;
	return CARNET_OK;
}

/* ---- words ---- */

typedef struct fold_state {
	carnet_buf *out;
	size_t *count;
} fold_state;

static int fold_word(const char *w, size_t n, void *payload)
{
	fold_state *s = payload;
	if (carnet_buf__put(s->out, w, n) || carnet_buf__putc(s->out, '\0'))
		return 2;
	(*s->count)++;
	return 0;
}

int carnet_analytes__fold(carnet_buf *out, size_t *count, const char *s, size_t len,
			  carnet_error *err)
{
	carnet_buf folded = CARNET_BUF_INIT;
	fold_state st = { out, count };
	int rc = carnet_text__fold(&folded, s, len, err);
	if (rc == CARNET_OK &&
	    (rc = carnet_xap_words(folded.data ? folded.data : "", folded.len, fold_word, &st,
				   err)) == 2)
		rc = carnet_error__nomem(err, LOADING);
	carnet_buf__free(&folded);
	return rc;
}

/* The entries of the words column of analyte i. */
static int index_words(carnet_analytes *a, size_t i, carnet_error *err)
{
	char *copy = strdup(a->d[i].words);
	if (!copy)
		return carnet_error__nomem(err, LOADING);
	int rc = CARNET_OK;
	char *save = NULL;
	for (char *wd = strtok_r(copy, ",", &save); wd && rc == CARNET_OK;
	     wd = strtok_r(NULL, ",", &save)) {
		carnet_buf b = CARNET_BUF_INIT;
		size_t count = 0;
		if ((rc = carnet_analytes__fold(&b, &count, wd, strlen(wd), err)) || !count ||
		    count > WORDS_MAX) {
			carnet_buf__free(&b);
			if (rc == CARNET_OK)
				rc = carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
						       "%s: '%s' holds no word, or more than %d",
						       a->d[i].a.where, wd, WORDS_MAX);
			break;
		}
		for (size_t k = 0; k + 1 < b.len; k++)
			if (b.data[k] == '\0')
				b.data[k] = ' ';
		if (CARNET_GROW(a->w, a->w_cap, a->w_count + 1)) {
			carnet_buf__free(&b);
			rc = carnet_error__nomem(err, LOADING);
			break;
		}
		a->w[a->w_count++] = (word_entry){ carnet_buf__detach(&b), count, i };
		if (count > a->longest)
			a->longest = count;
	}
	free(copy);
	return rc;
}

/* Once the analytes are read: the code map and the word entries. */
static int finish_analytes(carnet_analytes *a, carnet_error *err)
{
	for (size_t i = 0; i < a->count; i++) {
		const carnet_analyte *an = &a->d[i].a;
		for (size_t j = 0; j < an->codes_count; j++) {
			char key[80];
			carnet_strmap__key(key, sizeof key, 'c', an->codes[j], NULL);
			carnet_strmap_slot *s = carnet_strmap__find(&a->codes, key);
			if (s && s->idx != i)
				return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
							 "%s: LOINC code %s is already %s's",
							 an->where, an->codes[j],
							 a->d[s->idx].a.key);
			if (!(s = carnet_strmap__put(&a->codes, key)))
				return carnet_error__nomem(err, LOADING);
			s->idx = i;
		}
		int rc = index_words(a, i, err);
		if (rc)
			return rc;
	}
	return CARNET_OK;
}

/* ---- panels.tsv ---- */

static int panel_line(carnet_analytes *a, carnet_lines *it, carnet_error *err)
{
	char *f[3];
	size_t n = carnet__split_tabs(it->line, f, 3);
	if (n != 2 || !valid_key(f[0], 1) || !*f[1])
		return carnet_lines__bad(it, err, "PROFILE<TAB>ANALYTE,ANALYTE,...");
	size_t p = 0;
	while (p < a->p_count && strcmp(a->p[p].profile, f[0]) != 0)
		p++;
	if (p == a->p_count) {
		if (CARNET_GROW(a->p, a->p_cap, a->p_count + 1))
			return carnet_error__nomem(err, LOADING);
		memset(&a->p[p], 0, sizeof a->p[p]);
		if (!(a->p[p].profile = strdup(f[0])))
			return carnet_error__nomem(err, LOADING);
		a->p_count++;
	}
	panel *pn = &a->p[p];
	if (pn->file != it->name)
		pn->count = 0; /* a later file replaces the list */
	pn->file = it->name;
	char *save = NULL;
	for (char *k = strtok_r(f[1], ",", &save); k; k = strtok_r(NULL, ",", &save)) {
		size_t i = 0;
		while (i < a->count && strcmp(a->d[i].a.key, k) != 0)
			i++;
		if (i == a->count)
			return carnet_lines__bad(it, err, "%s is not an analyte of analytes.tsv", k);
		if (CARNET_GROW(pn->list, pn->cap, pn->count + 1))
			return carnet_error__nomem(err, LOADING);
		pn->list[pn->count++] = i;
	}
	return CARNET_OK;
}

/* ---- loading ---- */

static int each_line(carnet_analytes *a, const char *name, const char *text, size_t len,
		     int panels, carnet_error *err)
{
	carnet_lines it;
	carnet_lines__start(&it, name, text, len);
	int rc;
	while ((rc = carnet_lines__next(&it, err)) == 1)
		if ((rc = panels ? panel_line(a, &it, err) : analyte_line(a, &it, err)))
			return rc;
	return rc;
}

/* The tables from texts t[0..n) of analytes (names[i], texts[i]) then
 * panels (the same, from n on). */
static int parse_texts(carnet_analytes **out, const char *const *names,
		       const char *const *texts, const size_t *lens, size_t n, size_t np,
		       carnet_error *err)
{
	*out = NULL;
	carnet_analytes *a = calloc(1, sizeof *a);
	if (!a)
		return carnet_error__nomem(err, LOADING);
	int rc = CARNET_OK;
	for (size_t i = 0; i < n && rc == CARNET_OK; i++)
		rc = each_line(a, names[i], texts[i], lens[i], 0, err);
	if (rc == CARNET_OK)
		rc = finish_analytes(a, err);
	for (size_t i = n; i < n + np && rc == CARNET_OK; i++)
		rc = each_line(a, names[i], texts[i], lens[i], 1, err);
	if (rc) {
		carnet_analytes__free(a);
		return rc;
	}
	*out = a;
	return CARNET_OK;
}

int carnet_analytes__parse(carnet_analytes **out, const char *analytes_name,
			   const char *analytes, size_t analytes_len,
			   const char *panels_name, const char *panels,
			   size_t panels_len, carnet_error *err)
{
	const char *names[2] = { analytes_name, panels_name };
	const char *texts[2] = { analytes, panels };
	size_t lens[2] = { analytes_len, panels_len };
	return parse_texts(out, names, texts, lens, 1, 1, err);
}

int carnet_analytes__load(carnet_analytes **out, const char *home, carnet_error *err)
{
	*out = NULL;
	carnet_buf t[2] = { CARNET_BUF_INIT, CARNET_BUF_INIT };
	char path[2][CARNET_PATH_MAX];
	int missing[2] = { 1, 1 };
	static const char *const files[2] = { CARNET_ANALYTES_FILE, CARNET_PANELS_FILE };
	int rc = CARNET_OK;
	for (int i = 0; i < 2 && rc == CARNET_OK && home; i++)
		if ((rc = carnet_home__read(&t[i], &missing[i], home, files[i], TABLE_MAX_BYTES,
					    err)) == CARNET_OK && !missing[i])
			rc = carnet_home__path(path[i], CARNET_PATH_MAX, home, files[i], err);
	/* the defaults, each followed by the home's file if it has one */
	const char *names[4], *texts[4];
	size_t lens[4], n = 0, np = 0;
	names[n] = carnet_default_analytes_file;
	texts[n] = carnet_default_analytes;
	lens[n++] = strlen(carnet_default_analytes);
	if (!missing[0]) {
		names[n] = path[0];
		texts[n] = t[0].data ? t[0].data : "";
		lens[n++] = t[0].len;
	}
	names[n + np] = carnet_default_panels_file;
	texts[n + np] = carnet_default_panels;
	lens[n + np++] = strlen(carnet_default_panels);
	if (!missing[1]) {
		names[n + np] = path[1];
		texts[n + np] = t[1].data ? t[1].data : "";
		lens[n + np++] = t[1].len;
	}
	if (rc == CARNET_OK)
		rc = parse_texts(out, names, texts, lens, n, np, err);
	carnet_buf__free(&t[0]);
	carnet_buf__free(&t[1]);
	return rc;
}

/* ---- looking up ---- */

size_t carnet_analytes__count(const carnet_analytes *a)
{
	return a->count;
}

const carnet_analyte *carnet_analytes__at(const carnet_analytes *a, size_t i)
{
	return i < a->count ? &a->d[i].a : NULL;
}

long carnet_analytes__by_code(const carnet_analytes *a, const char *code)
{
	char key[80];
	if (strlen(code) > 64)
		return -1;
	carnet_strmap__key(key, sizeof key, 'c', code, NULL);
	const carnet_strmap_slot *s = carnet_strmap__find(&a->codes, key);
	return s ? (long)s->idx : -1;
}

size_t carnet_analytes__words_at(const carnet_analytes *a, const char *const *w,
				 size_t n, unsigned char *sel)
{
	char key[1024];
	for (size_t len = n < a->longest ? n : a->longest; len > 0; len--) {
		if (!carnet_strmap__join(key, sizeof key, w, len))
			continue;
		size_t found = 0;
		for (size_t i = 0; i < a->w_count; i++)
			if (a->w[i].count == len && strcmp(a->w[i].words, key) == 0) {
				sel[a->w[i].analyte] = 1;
				found = 1;
			}
		if (found)
			return len;
	}
	return 0;
}

size_t carnet_analytes__panel(const carnet_analytes *a, const char *profile,
			      const size_t **out)
{
	const panel *star = NULL;
	for (size_t i = 0; i < a->p_count; i++) {
		if (profile && strcmp(a->p[i].profile, profile) == 0) {
			*out = a->p[i].list;
			return a->p[i].count;
		}
		if (strcmp(a->p[i].profile, "*") == 0)
			star = &a->p[i];
	}
	*out = star ? star->list : NULL;
	return star ? star->count : 0;
}
