/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tables.c - reading the ranking tables: ranking.conf, affinity.tsv and
 * synonyms.tsv, the defaults compiled in and the index home's own; and
 * looking words up in the synonym table. */
#include "tables.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "doc.h"
#include "error.h"
#include "home.h"
#include "schema.h"
#include "text.h"
#include "util.h"

/* the defaults, generated from core/data/ranking.conf, affinity.tsv,
 * synonyms.tsv: their text (for a home with its own affinity or synonym
 * table, parsed after them) */
#include "ranking_default.h"

#define TABLE_MAX_BYTES (16 * 1024 * 1024)
#define LOADING "loading the ranking tables" /* what ran out of memory */

#ifndef CARNET_TABLES_BOOT
/* and as they are once loaded (frozen_defaults), made by tools/gen-tables.c
 * with this parser (built with -DCARNET_TABLES_BOOT, without them) */
#include "ranking_frozen.h"
#endif

void carnet_rank__free(carnet_ranking *rk)
{
	if (!rk)
		return;
	if (!rk->frozen || rk->own_half_lives)
		carnet_strmap__free(&rk->half_lives);
	if (rk->frozen) {
		free(rk->frozen_words);
		free(rk->frozen_entries);
		free(rk->frozen_alts);
		free(rk->entries);
		free(rk->profiles);
	} else {
		carnet_strmap__free(&rk->rules);
		carnet_strmap__free(&rk->synonyms);
		for (size_t i = 0; i < rk->profiles_count; i++)
			free(rk->profiles[i].words);
		free(rk->profiles);
		for (size_t i = 0; i < rk->entries_count; i++) {
			free(rk->entries[i]->partners);
			free(rk->entries[i]->partner_ids);
		}
		free(rk->entries);
	}
	carnet_xap_keyset_free(rk->keyset);
	free(rk->key_first);
	free(rk->keys);
	free(rk->key_terms);
	carnet_arena__free(&rk->mem);
	free(rk);
}

/* Calls fn for each line of text that holds something (carnet_lines:
 * comments and blanks cut; name:line in messages); stops at the first
 * error. */
typedef int (*line_fn)(carnet_ranking *rk, carnet_lines *it, void *payload,
		       carnet_error *err);

static int each_line(carnet_ranking *rk, const char *name, const char *text,
		     size_t len, line_fn fn, void *payload, carnet_error *err)
{
	carnet_lines it;
	carnet_lines__start(&it, name, text, len);
	int rc;
	while ((rc = carnet_lines__next(&it, err)) == 1)
		if ((rc = fn(rk, &it, payload, err)) != CARNET_OK)
			return rc;
	return rc;
}

/* ---- ranking.conf ---- */

typedef struct conf_change {
	char key[CARNET_ID_MAX + 4];
	double value;
} conf_change;

typedef struct conf_batch {
	params p;           /* a copy, changed line by line */
	conf_change *half;  /* half-lives to set */
	size_t count, cap;
} conf_batch;

static int parse_number(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v < 0)
		return -1;
	*out = v;
	return 0;
}

/* Value v for code what, as "KIND:what" in the per-code map (half-lives,
 * content factors), set when the whole batch is read. */
static int conf_per_code(conf_batch *b, const carnet_lines *it, char kind, const char *what,
			 double v, carnet_error *err)
{
	if (!*what || strlen(what) > CARNET_ID_MAX)
		return carnet_lines__bad(it, err, "missing or too long a code");
	if (CARNET_GROW(b->half, b->cap, b->count + 1) != 0)
		return carnet_error__nomem(err, LOADING);
	conf_change *c = &b->half[b->count++];
	snprintf(c->key, sizeof c->key, "%c:%s", kind, what);
	c->value = v;
	return CARNET_OK;
}

/* "half_life.WHAT = value", WHAT and value already cut out of the line. */
static int conf_half_life(conf_batch *b, const carnet_lines *it, const char *what,
			  const char *value, carnet_error *err)
{
	double v;
	if (strcmp(value, "never") == 0)
		v = 0;
	else if (parse_number(value, &v) != 0 || v < 1)
		return carnet_lines__bad(it, err, "a half-life is a number of days (at least 1) or never");
	if (strcmp(what, "default") == 0) {
		b->p.half_life_default = v;
		return CARNET_OK;
	}
	char kind;
	if (strncmp(what, "class.", 6) == 0)
		kind = 'c', what += 6;
	else if (strncmp(what, "type.", 5) == 0)
		kind = 't', what += 5;
	else
		return carnet_lines__bad(it, err, "half_life.default, half_life.class.CODE or half_life.type.CODE");
	return conf_per_code(b, it, kind, what, v, err);
}

/* "affinity.content.type.TYPE = value" (0 to 1), TYPE and value already
 * cut out of the line. */
static int conf_content_type(conf_batch *b, const carnet_lines *it, const char *what,
			     const char *value, carnet_error *err)
{
	double v;
	if (parse_number(value, &v) != 0 || v > 1)
		return carnet_lines__bad(it, err, "value must be a number from 0 to 1");
	return conf_per_code(b, it, 'r', what, v, err);
}

static int conf_line(carnet_ranking *rk, carnet_lines *it, void *payload,
		     carnet_error *err)
{
	(void)rk;
	conf_batch *b = payload;
	char *line = it->line;
	char *eq = strchr(line, '=');
	if (!eq)
		return carnet_lines__bad(it, err, "expected key = value");
	char *value = eq + 1;
	while (*value == ' ' || *value == '\t')
		value++;
	char *kend = eq;
	while (kend > line && (kend[-1] == ' ' || kend[-1] == '\t'))
		kend--;
	*kend = '\0';
	struct { const char *key; double *target; int unit; } keys[] = {
		{ "weight.text", &b->p.w_text, 1 },
		{ "weight.specialty", &b->p.w_spec, 1 },
		{ "weight.recency", &b->p.w_rec, 1 },
		{ "weight.results", &b->p.w_results, 1 },
		{ "recency.series", &b->p.rec_series, 0 },
		{ "recency.memory", &b->p.memory, 1 },
		{ "recency.memory_half_life", &b->p.memory_half_life, 0 },
		{ "results.series_half_life", &b->p.series_half_life, 0 },
		{ "affinity.type", &b->p.a_type, 1 },
		{ "affinity.author", &b->p.a_author, 1 },
		{ "affinity.content", &b->p.a_content, 1 },
		{ "affinity.content_saturation", &b->p.saturation, 0 },
		{ "affinity.topic", &b->p.topic, 1 },
		{ "affinity.topic_min", &b->p.topic_min, 0 },
		{ "affinity.type_default", &b->p.type_default, 1 },
		{ "affinity.author_default", &b->p.author_default, 1 },
		{ "affinity.author_unknown", &b->p.author_unknown, 1 },
		{ "bm25.k1", &b->p.k1, 0 },
		{ "bm25.b", &b->p.b, 1 },
	};
	double v;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (strcmp(line, keys[i].key) != 0)
			continue;
		if (parse_number(value, &v) != 0 || (keys[i].unit && v > 1))
			return carnet_lines__bad(it, err, "%s", keys[i].unit
						 ? "value must be a number from 0 to 1"
						 : "value must be a number of at least 0");
		if ((keys[i].target == &b->p.saturation || keys[i].target == &b->p.memory_half_life) &&
		    v == 0)
			return carnet_lines__bad(it, err, "%s must be above 0", keys[i].key);
		*keys[i].target = v;
		return CARNET_OK;
	}
	if (strncmp(line, "affinity.content.type.", 22) == 0)
		return conf_content_type(b, it, line + 22, value, err);
	if (strncmp(line, "half_life.", 10) != 0)
		return carnet_lines__bad(it, err, "unknown key %.64s", line);
	return conf_half_life(b, it, line + 10, value, err);
}

/* The frozen defaults' half-lives are shared: rk's copy of them, before a
 * change (the keys stay where they are: never freed one by one). */
static int own_half_lives(carnet_ranking *rk, carnet_error *err)
{
	carnet_strmap *m = &rk->half_lives;
	carnet_strmap own = { NULL, m->cap, m->count, NULL, m->pool_len, m->pool_len };
	if (m->cap && (!(own.slots = malloc(m->cap * sizeof *own.slots)) ||
		       !(own.pool = malloc(m->pool_len ? m->pool_len : 1)))) {
		free(own.slots);
		return carnet_error__nomem(err, LOADING);
	}
	if (m->cap) {
		memcpy(own.slots, m->slots, m->cap * sizeof *own.slots);
		memcpy(own.pool, m->pool, m->pool_len);
	}
	*m = own;
	rk->own_half_lives = 1;
	return CARNET_OK;
}

int carnet_rank__configure(carnet_ranking *rk, const char *name,
			   const char *text, size_t len, carnet_error *err)
{
	conf_batch b = { rk->p, NULL, 0, 0 };
	int rc = each_line(rk, name, text, len, conf_line, &b, err);
	if (rc == CARNET_OK && b.count && rk->frozen && !rk->own_half_lives)
		rc = own_half_lives(rk, err);
	/* make room for every half-life first, so that applying cannot fail half-way */
	for (size_t i = 0; rc == CARNET_OK && i < b.count; i++)
		if (!carnet_strmap__put(&rk->half_lives, b.half[i].key))
			rc = carnet_error__nomem(err, LOADING);
	if (rc == CARNET_OK) {
		rk->p = b.p;
		for (size_t i = 0; i < b.count; i++)
			carnet_strmap__find(&rk->half_lives, b.half[i].key)->num = b.half[i].value;
	}
	free(b.half);
	return rc;
}

/* ---- word lists ---- */

typedef struct split_ctx {
	carnet_buf *buf;   /* words, NUL-separated */
	size_t count;
} split_ctx;

static int collect_word(const char *word, size_t len, void *payload)
{
	split_ctx *c = payload;
	if (c->count == ENTRY_WORDS_MAX)
		return 1;
	if (carnet_buf__put(c->buf, word, len) != 0 || carnet_buf__putc(c->buf, '\0') != 0)
		return 2;
	c->count++;
	return 0;
}

/* Fold s and split it into words as the indexer does, into c (the first
 * ENTRY_WORDS_MAX words). */
static int split_words(const char *s, split_ctx *c, carnet_error *err)
{
	int plain = 1;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == ' '))
			plain = 0;
	if (plain) {
		/* lower-case ASCII words: split on spaces, as the indexer would */
		for (const char *p = s; *p;) {
			while (*p == ' ')
				p++;
			size_t n = strcspn(p, " ");
			if (n) {
				int r = collect_word(p, n, c);
				if (r == 2)
					return carnet_error__nomem(err, LOADING);
				else if (r)
					break;
			}
			p += n;
		}
		return CARNET_OK;
	}
	carnet_buf folded = CARNET_BUF_INIT;
	int rc = carnet_text__fold(&folded, s, strlen(s), err);
	if (rc == CARNET_OK) {
		rc = carnet_xap_words(folded.data ? folded.data : "", folded.len,
				      collect_word, c, err);
		if (rc == 1)
			rc = CARNET_OK; /* too many words: keep the first ones */
		else if (rc == 2)
			rc = carnet_error__nomem(err, LOADING);
	}
	carnet_buf__free(&folded);
	return rc;
}

/* A new entry of count words (words: NUL-separated, len bytes), under key
 * mkey; its index in *idx_out. */
static int new_entry(carnet_ranking *rk, const char *mkey, const carnet_buf *words,
		     size_t count, size_t *idx_out, carnet_error *err)
{
	entry *e = carnet_arena__alloc(&rk->mem, sizeof *e + count * sizeof(char *) + words->len);
	if (!e)
		return carnet_error__nomem(err, LOADING);
	memset(e, 0, sizeof *e);
	e->words = (const char **)(e + 1);
	char *text = (char *)(e->words + count);
	memcpy(text, words->data, words->len);
	for (size_t i = 0, off = 0; i < count; i++) {
		e->words[i] = text + off;
		off += strlen(text + off) + 1;
	}
	e->count = count;
	carnet_strmap_slot *sl;
	if (CARNET_GROW(rk->entries, rk->entries_cap, rk->entries_count + 1) != 0 ||
	    !(sl = carnet_strmap__put(&rk->rules, mkey)))
		return carnet_error__nomem(err, LOADING);
	sl->idx = rk->entries_count;
	rk->entries[rk->entries_count++] = e;
	*idx_out = sl->idx;
	return CARNET_OK;
}

/* Fold s and split it into words as the indexer does; add it as an entry
 * (or find the identical one). Returns its index in *idx_out; *idx_out is
 * (size_t)-1 when s has no words. */
static int add_entry(carnet_ranking *rk, const char *s, size_t *idx_out,
		     carnet_error *err)
{
	*idx_out = (size_t)-1;
	carnet_buf words = CARNET_BUF_INIT;
	split_ctx c = { &words, 0 };
	int rc = split_words(s, &c, err);
	if (rc != CARNET_OK || c.count == 0)
		goto out;
	/* the key: "E:" and the words joined by spaces */
	char mkey[8 + 1024];
	if (words.len + 2 > sizeof mkey) {
		rc = CARNET_OK; /* too long to be a keyword or a synonym */
		goto out;
	}
	mkey[0] = 'E';
	mkey[1] = ':';
	for (size_t i = 0; i + 1 < words.len; i++)
		mkey[2 + i] = words.data[i] ? words.data[i] : ' ';
	mkey[words.len + 1] = '\0';
	carnet_strmap_slot *sl = carnet_strmap__find(&rk->rules, mkey);
	if (sl)
		*idx_out = sl->idx;
	else
		rc = new_entry(rk, mkey, &words, c.count, idx_out, err);
out:
	carnet_buf__free(&words);
	return rc;
}

/* ---- affinity.tsv ---- */


static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= NAME_MAX_LEN)
		return 0;
	for (; *s; s++)
		if (*s == ':' || *s == ' ' || (unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* The index of profile name, added if new; -1 on no memory. */
static long profile_index(carnet_ranking *rk, const char *name)
{
	char key[NAME_MAX_LEN + 4];
	carnet_strmap__key(key, sizeof key, 'P', name, NULL);
	carnet_strmap_slot *s = carnet_strmap__find(&rk->rules, key);
	if (s)
		return (long)s->idx;
	if (CARNET_GROW(rk->profiles, rk->profiles_cap, rk->profiles_count + 1) != 0 ||
	    !(s = carnet_strmap__put(&rk->rules, key)))
		return -1;
	profile *p = &rk->profiles[rk->profiles_count];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	s->idx = rk->profiles_count++;
	return (long)s->idx;
}

static int parse_unit(const char *s, double *out)
{
	return parse_number(s, out) == 0 && *out <= 1 ? 0 : -1;
}

/* "word<TAB>PROFILE<TAB>KEYWORD<TAB>WEIGHT": a content keyword. */
static int affinity_word(carnet_ranking *rk, const carnet_lines *it, char **f,
			 size_t n, carnet_error *err)
{
	double v;
	if (n != 4 || !valid_name(f[1]) || !*f[2] || parse_unit(f[3], &v) != 0)
		return carnet_lines__bad(it, err, "word<TAB>PROFILE<TAB>KEYWORD<TAB>WEIGHT (0 to 1)");
	long p = profile_index(rk, f[1]);
	if (p < 0)
		return carnet_error__nomem(err, LOADING);
	size_t e;
	int rc = add_entry(rk, f[2], &e, err);
	if (rc)
		return rc;
	if (e == (size_t)-1)
		return carnet_lines__bad(it, err, "a keyword without a word");
	profile *pr = &rk->profiles[p];
	for (size_t i = 0; i < pr->words_count; i++)
		if (pr->words[i].entry == e) {
			pr->words[i].weight = v; /* a later line wins */
			return CARNET_OK;
		}
	if (CARNET_GROW(pr->words, pr->words_cap, pr->words_count + 1) != 0)
		return carnet_error__nomem(err, LOADING);
	keyword *k = &pr->words[pr->words_count++];
	k->entry = e;
	k->weight = v;
	return CARNET_OK;
}

static int affinity_line(carnet_ranking *rk, carnet_lines *it, void *payload,
			 carnet_error *err)
{
	(void)payload;
	char *f[5];
	size_t n = carnet__split_tabs(it->line, f, 5);
	char key[CARNET_ID_MAX + 2 * NAME_MAX_LEN + 8];
	double v;
	carnet_strmap_slot *s;
	if (strcmp(f[0], "profile") == 0) {
		if (n != 3 || !carnet_doc__valid_id(f[1]) || !valid_name(f[2]))
			return carnet_lines__bad(it, err, "profile<TAB>SPECIALTY<TAB>PROFILE");
		long p = profile_index(rk, f[2]);
		carnet_strmap__key(key, sizeof key, 's', f[1], NULL);
		if (p < 0 || !(s = carnet_strmap__put(&rk->rules, key)))
			return carnet_error__nomem(err, LOADING);
		s->idx = (size_t)p;
		return CARNET_OK;
	}
	if (strcmp(f[0], "type") == 0 || strcmp(f[0], "author") == 0) {
		int type = f[0][0] == 't';
		if (n != 4 || (strcmp(f[1], "*") != 0 && !valid_name(f[1])) ||
		    (type ? !carnet_doc__valid_id(f[2]) : !valid_name(f[2])) ||
		    parse_unit(f[3], &v) != 0)
			return carnet_lines__bad(it, err, "%s", type
				   ? "type<TAB>PROFILE or *<TAB>TYPE<TAB>AFFINITY (0 to 1)"
				   : "author<TAB>PROFILE or *<TAB>AUTHOR PROFILE<TAB>AFFINITY (0 to 1)");
		if (strcmp(f[1], "*") != 0 && profile_index(rk, f[1]) < 0)
			return carnet_error__nomem(err, LOADING);
		carnet_strmap__key(key, sizeof key, type ? 't' : 'a', f[1], f[2]);
		if (!(s = carnet_strmap__put(&rk->rules, key)))
			return carnet_error__nomem(err, LOADING);
		s->num = v;
		return CARNET_OK;
	}
	if (strcmp(f[0], "word") == 0)
		return affinity_word(rk, it, f, n, err);
	return carnet_lines__bad(it, err, "a rule starts with profile, type, author or word");
}

/* ---- synonyms.tsv ---- */

static int add_partner(entry *e, size_t id)
{
	for (size_t i = 0; i < e->partners_count; i++)
		if (e->partner_ids[i] == id)
			return 0;
	if (CARNET_GROW(e->partner_ids, e->partners_cap, e->partners_count + 1) != 0)
		return -1;
	e->partner_ids[e->partners_count++] = id;
	return 0;
}

static int synonym_line(carnet_ranking *rk, carnet_lines *it, void *payload,
			carnet_error *err)
{
	(void)payload;
	char *f[3];
	size_t n = carnet__split_tabs(it->line, f, 3);
	if (n < 2 || !*f[0] || !*f[1])
		return carnet_lines__bad(it, err, "FORM<TAB>EQUIVALENT FORM[<TAB>SOURCE]");
	size_t a, b;
	int rc = add_entry(rk, f[0], &a, err);
	if (rc == CARNET_OK)
		rc = add_entry(rk, f[1], &b, err);
	if (rc)
		return rc;
	if (a == (size_t)-1 || b == (size_t)-1)
		return carnet_lines__bad(it, err, "a form without a word");
	if (a == b)
		return CARNET_OK;
	if (add_partner(rk->entries[a], b) != 0 || add_partner(rk->entries[b], a) != 0)
		return carnet_error__nomem(err, LOADING);
	for (size_t i = 0; i < 2; i++) {
		entry *e = rk->entries[i ? b : a];
		char key[1024];
		if (!carnet_strmap__join(key, sizeof key, e->words, e->count))
			continue;
		carnet_strmap_slot *s = carnet_strmap__put(&rk->synonyms, key);
		if (!s)
			return carnet_error__nomem(err, LOADING);
		s->idx = i ? b : a;
		if (e->count > rk->longest)
			rk->longest = e->count;
	}
	return CARNET_OK;
}

/* Number the entries used as keywords, each once, in the order the
 * profiles name them: the order of carnet_rank__keys, which the indexer's
 * content vectors follow. */
static int number_keys(carnet_ranking *rk, carnet_error *err)
{
	size_t *key_of = malloc((rk->entries_count ? rk->entries_count : 1) * sizeof *key_of);
	if (!key_of)
		return carnet_error__nomem(err, LOADING);
	for (size_t i = 0; i < rk->entries_count; i++)
		key_of[i] = (size_t)-1;
	size_t n = 0;
	for (size_t p = 0; p < rk->profiles_count; p++) {
		profile *pr = &rk->profiles[p];
		for (size_t j = 0; j < pr->words_count; j++) {
			keyword *k = &pr->words[j];
			if (key_of[k->entry] == (size_t)-1)
				key_of[k->entry] = n++;
			k->key = key_of[k->entry];
		}
	}
	rk->distinct_keys = n;
	free(key_of);
	return CARNET_OK;
}

/* Once every table is read: number the keywords; give each synonym entry
 * the list of its partners' words. */
static int finish(carnet_ranking *rk, carnet_error *err)
{
	int rc = number_keys(rk, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < rk->entries_count; i++) {
		entry *e = rk->entries[i];
		free(e->partners);
		e->partners = NULL;
		if (!e->partners_count)
			continue;
		e->partners = calloc(e->partners_count, sizeof *e->partners);
		if (!e->partners)
			return carnet_error__nomem(err, LOADING);
		for (size_t j = 0; j < e->partners_count; j++) {
			entry *o = rk->entries[e->partner_ids[j]];
			e->partners[j].words = o->words;
			e->partners[j].count = o->count;
		}
	}
	return CARNET_OK;
}

/* ---- loading ---- */

typedef int (*apply_fn)(carnet_ranking *rk, const char *name, const char *text,
			size_t len, carnet_error *err);

static int apply_affinity(carnet_ranking *rk, const char *name, const char *text,
			  size_t len, carnet_error *err)
{
	return each_line(rk, name, text, len, affinity_line, NULL, err);
}

static int apply_synonyms(carnet_ranking *rk, const char *name, const char *text,
			  size_t len, carnet_error *err)
{
	return each_line(rk, name, text, len, synonym_line, NULL, err);
}

#ifndef CARNET_TABLES_BOOT
static void frozen_map_use(carnet_strmap *m, const frozen_map *f)
{
	/* never written: a map is changed only while a table is parsed, and
	 * the half-lives are copied before (own_half_lives) */
	m->slots = (carnet_strmap_slot *)f->slots;
	m->cap = f->cap;
	m->count = f->count;
	m->pool = (char *)f->pool;
	m->pool_len = m->pool_cap = f->pool_len;
}

/* The compiled-in defaults f into rk (empty): the maps and keywords used
 * as they are, the words, entries and profiles made from them (some
 * 200 KB of pointers and structures; parsing allocated and hashed ten
 * times more). */
static int frozen_defaults(carnet_ranking *rk, const frozen_tables *f, carnet_error *err)
{
	rk->frozen = 1;
	rk->p = f->p;
	frozen_map_use(&rk->half_lives, &f->half_lives);
	frozen_map_use(&rk->rules, &f->rules);
	frozen_map_use(&rk->synonyms, &f->synonyms);
	size_t ne = f->entries_count ? f->entries_count : 1;
	if (!(rk->frozen_words = malloc((f->words_count ? f->words_count : 1) * sizeof(char *))) ||
	    !(rk->frozen_entries = calloc(ne, sizeof *rk->frozen_entries)) ||
	    !(rk->entries = malloc(ne * sizeof *rk->entries)) ||
	    !(rk->frozen_alts = malloc((f->alts_count ? f->alts_count : 1) *
				       sizeof *rk->frozen_alts)) ||
	    !(rk->profiles = calloc(f->profiles_count ? f->profiles_count : 1,
				    sizeof *rk->profiles)))
		return carnet_error__nomem(err, LOADING);
	for (size_t i = 0; i < f->words_count; i++)
		rk->frozen_words[i] = f->words + f->word_off[i];
	for (size_t i = 0; i < f->entries_count; i++) {
		entry *e = &rk->frozen_entries[i];
		e->words = rk->frozen_words + f->entries[i].word;
		e->count = f->entries[i].count;
		e->partners = f->entries[i].alts ? rk->frozen_alts + f->entries[i].alt : NULL;
		e->partners_count = e->partners_cap = f->entries[i].alts;
		rk->entries[i] = e;
	}
	for (size_t i = 0; i < f->alts_count; i++) {
		const frozen_entry *o = &f->entries[f->alts[i]];
		rk->frozen_alts[i].words = rk->frozen_words + o->word;
		rk->frozen_alts[i].count = o->count;
	}
	for (size_t i = 0; i < f->profiles_count; i++) {
		profile *p = &rk->profiles[i];
		memcpy(p->name, f->profiles[i].name, sizeof p->name);
		/* never written: keywords are numbered by loading */
		p->words = (keyword *)f->keywords + f->profiles[i].keyword;
		p->words_count = p->words_cap = f->profiles[i].count;
	}
	rk->entries_count = rk->entries_cap = f->entries_count;
	rk->profiles_count = rk->profiles_cap = f->profiles_count;
	rk->longest = f->longest;
	rk->distinct_keys = f->distinct_keys;
	rk->synonyms_loaded = 1;
	return CARNET_OK;
}
#endif

/* The hash of each distinct keyword's first word, for carnet_rank__topic. */
static int hash_keys(carnet_ranking *rk, carnet_error *err)
{
	size_t n = rk->distinct_keys;
	if (!(rk->key_first = calloc(n ? n : 1, sizeof *rk->key_first)))
		return carnet_error__nomem(err, LOADING);
	for (size_t p = 0; p < rk->profiles_count; p++)
		for (size_t j = 0; j < rk->profiles[p].words_count; j++) {
			const keyword *k = &rk->profiles[p].words[j];
			const entry *e = rk->entries[k->entry];
			if (k->key < n && e->count)
				rk->key_first[k->key] = carnet__hash_str(e->words[0]);
		}
	return CARNET_OK;
}

/* The home's file of that name: its text into *text, or text->data NULL
 * when it has none; its path into path. */
static int read_home(carnet_buf *text, char path[CARNET_PATH_MAX], const char *home,
		     const char *file, carnet_error *err)
{
	int missing = 1;
	int rc = home ? carnet_home__read(text, &missing, home, file, TABLE_MAX_BYTES, err)
		      : CARNET_OK;
	if (rc == CARNET_OK && !missing)
		rc = carnet_home__path(path, CARNET_PATH_MAX, home, file, err);
	if (rc == CARNET_OK && !missing && !text->data)
		rc = carnet_buf__puts(text, "") == 0 ? CARNET_OK
						      : carnet_error__nomem(err, LOADING);
	if (rc == CARNET_OK && missing)
		carnet_buf__free(text);
	return rc;
}

/* Apply the default text (unless NULL; messages name its source file,
 * deflt_name), then the home's text if any (text->data not NULL; messages
 * name its path). */
static int load_table(carnet_ranking *rk, const carnet_buf *text, const char *path,
		      const char *deflt, const char *deflt_name, apply_fn apply,
		      carnet_error *err)
{
	int rc = deflt ? apply(rk, deflt_name, deflt, strlen(deflt), err) : CARNET_OK;
	if (rc == CARNET_OK && text->data)
		rc = apply(rk, path, text->data, text->len, err);
	return rc;
}

/* The tables from their text: the defaults', each followed by the
 * home's; the home's synonyms now, to refuse a bad file at once; the
 * default ones (pairs, so order does not matter) when a search first has
 * words (carnet_rank__synonyms). */
static int parse_tables(carnet_ranking *rk, carnet_buf t[3], char path[3][CARNET_PATH_MAX],
			carnet_error *err)
{
	int rc;
	if ((rc = load_table(rk, &t[0], path[0], carnet_default_ranking,
			     carnet_default_ranking_file, carnet_rank__configure, err)) ||
	    (rc = load_table(rk, &t[1], path[1], carnet_default_affinity,
			     carnet_default_affinity_file, apply_affinity, err)) ||
	    (rc = load_table(rk, &t[2], path[2], NULL, NULL, apply_synonyms, err)))
		return rc;
	return finish(rk, err);
}

int carnet_rank__load(carnet_ranking **out, const char *home, carnet_error *err)
{
	*out = NULL;
	carnet_ranking *rk = calloc(1, sizeof *rk);
	if (!rk)
		return carnet_error__nomem(err, LOADING);
	static const char *const files[3] = {
		CARNET_RANKING_FILE, CARNET_AFFINITY_FILE, CARNET_SYNONYMS_FILE,
	};
	carnet_buf t[3] = { CARNET_BUF_INIT, CARNET_BUF_INIT, CARNET_BUF_INIT };
	char path[3][CARNET_PATH_MAX];
	int rc = CARNET_OK;
	for (int i = 0; i < 3 && rc == CARNET_OK; i++)
		rc = read_home(&t[i], path[i], home, files[i], err);
#ifndef CARNET_TABLES_BOOT
	if (rc == CARNET_OK && !t[1].data && !t[2].data) {
		/* the defaults as loaded at build time, and the home's
		 * ranking.conf (which changes only the parameters and
		 * half-lives) over them: what parsing would give */
		rc = frozen_defaults(rk, &carnet_frozen, err);
		if (rc == CARNET_OK && t[0].data)
			rc = carnet_rank__configure(rk, path[0], t[0].data, t[0].len, err);
	} else
#endif
	if (rc == CARNET_OK)
		rc = parse_tables(rk, t, path, err);
	if (rc == CARNET_OK)
		rc = hash_keys(rk, err);
	for (int i = 0; i < 3; i++)
		carnet_buf__free(&t[i]);
	if (rc) {
		carnet_rank__free(rk);
		return rc;
	}
	*out = rk;
	return CARNET_OK;
}

int carnet_rank__synonyms(carnet_ranking *rk, carnet_error *err)
{
	if (rk->synonyms_loaded)
		return CARNET_OK;
	int rc = apply_synonyms(rk, carnet_default_synonyms_file, carnet_default_synonyms,
				strlen(carnet_default_synonyms), err);
	if (rc == CARNET_OK)
		rc = finish(rk, err);
	rk->synonyms_loaded = rc == CARNET_OK;
	return rc;
}

/* ---- looking up synonyms ---- */

size_t carnet_rank__synonym_at(const carnet_ranking *rk, const char *const *w,
			       size_t n, size_t *entry_out)
{
	size_t max = n < rk->longest ? n : rk->longest;
	char key[1024];
	for (size_t len = max; len > 0; len--) {
		if (!carnet_strmap__join(key, sizeof key, w, len))
			continue;
		carnet_strmap_slot *s = carnet_strmap__find(&rk->synonyms, key);
		if (s) {
			*entry_out = s->idx;
			return len;
		}
	}
	return 0;
}

size_t carnet_rank__partners(const carnet_ranking *rk, size_t which,
			     const carnet_xalt **alts_out)
{
	*alts_out = rk->entries[which]->partners;
	return rk->entries[which]->partners_count;
}
