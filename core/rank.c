/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rank.c - the ranking configuration, the specialty affinity table and the
 * synonym table, and the score of a document for a viewer. */
#include "rank.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "codes.h"
#include "error.h"
#include "doc.h"
#include "home.h"
#include "schema.h"
#include "text.h"

/* the defaults, generated from query/ranking.conf, affinity.tsv, synonyms.tsv */
#include "ranking_default.h"

#define TABLE_MAX_BYTES (16 * 1024 * 1024)
#define NAME_MAX_LEN 64
#define ENTRY_WORDS_MAX 8
#define CONTENT_STEPS 20 /* a content vector stores sums in 1/20ths */

/* ---- a string-keyed hash map ------------------------------------------ */

typedef struct slot {
	char *key;
	unsigned long long h; /* hash of key */
	double num;   /* a value, or */
	size_t idx;   /* an index into another table */
} slot;

/* Many small allocations that live as long as the tables: keys, entries. */
typedef struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
} chunk;

typedef struct arena {
	chunk *head;
} arena;

static void *arena_alloc(arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > 64 * 1024 ? n : 64 * 1024;
		chunk *c = malloc(sizeof *c + cap);
		if (!c)
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	void *p = (char *)a->head->data + a->head->used;
	a->head->used += n;
	return p;
}

static void arena_free(arena *a)
{
	while (a->head) {
		chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

typedef struct strmap {
	slot *slots;
	size_t cap, count; /* cap is a power of two */
	arena *keys;       /* where keys are copied */
} strmap;

static unsigned long long hash(const char *s)
{
	unsigned long long h = 1469598103934665603ull; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static slot *map_find(const strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	unsigned long long h = hash(key);
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].key)
			return NULL;
		if (m->slots[i].h == h && strcmp(m->slots[i].key, key) == 0)
			return &m->slots[i];
	}
}

/* The slot of key, added (num 0, idx 0) if missing; NULL on no memory. */
static slot *map_put(strmap *m, const char *key)
{
	unsigned long long h = hash(key);
	if (m->cap) {
		for (size_t i = h & (m->cap - 1); m->slots[i].key; i = (i + 1) & (m->cap - 1))
			if (m->slots[i].h == h && strcmp(m->slots[i].key, key) == 0)
				return &m->slots[i];
	}
	if ((m->count + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		slot *n = calloc(cap, sizeof *n);
		if (!n)
			return NULL;
		for (size_t i = 0; i < m->cap; i++) {
			if (!m->slots[i].key)
				continue;
			size_t j = m->slots[i].h & (cap - 1);
			while (n[j].key)
				j = (j + 1) & (cap - 1);
			n[j] = m->slots[i];
		}
		free(m->slots);
		m->slots = n;
		m->cap = cap;
	}
	size_t i = h & (m->cap - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	size_t n = strlen(key) + 1;
	if (!(m->slots[i].key = arena_alloc(m->keys, n)))
		return NULL;
	memcpy(m->slots[i].key, key, n);
	m->slots[i].h = h;
	m->count++;
	return &m->slots[i];
}

static void map_free(strmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->count = 0;
}


/* key = kind ":" a [":" b], cut to size (keys are short; codes are
 * checked to fit before). Faster than snprintf, which loading calls a
 * few thousand times. */
static void mkkey(char *key, size_t size, char kind, const char *a, const char *b)
{
	size_t n = 0;
	key[n++] = kind;
	key[n++] = ':';
	for (const char *p = a; *p && n + 1 < size; p++)
		key[n++] = *p;
	if (b) {
		if (n + 1 < size)
			key[n++] = ':';
		for (const char *p = b; *p && n + 1 < size; p++)
			key[n++] = *p;
	}
	key[n] = '\0';
}

/* The words of w[0..n) joined by spaces into key; 0 if it does not fit. */
static size_t join_words(char *key, size_t size, const char *const *w, size_t n)
{
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(w[i]);
		if (off + l + 2 > size)
			return 0;
		if (i)
			key[off++] = ' ';
		memcpy(key + off, w[i], l);
		off += l;
	}
	key[off] = '\0';
	return off;
}

/* ---- the ranking ------------------------------------------------------- */

/* A sequence of folded words, as the indexer splits them. */
typedef struct entry {
	const char **words;
	size_t count;
	carnet_xalt *partners; /* synonym entries only */
	size_t partners_count, partners_cap;
	size_t *partner_ids;   /* while loading */
} entry;

typedef struct keyword {
	size_t entry;     /* its words: an entry */
	double weight;
	size_t key;       /* its index in carnet_ranking.keys */
} keyword;

typedef struct profile {
	char name[NAME_MAX_LEN];
	keyword *words;             /* its content keywords */
	size_t words_count, words_cap;
} profile;

typedef struct params {
	double w_text, w_spec, w_rec;
	double a_type, a_author, a_content, saturation;
	double topic, topic_min;
	double type_default, author_default, author_unknown;
	double k1, b;
	double half_life_default;
} params;

struct carnet_ranking {
	params p;
	strmap half_lives; /* "c:CLASS" or "t:TYPE" -> days (0: never) */
	strmap rules;      /* "s:CODE" -> profile; "t:PROFILE:TYPE" and
			      "a:PROFILE:AUTHOR_PROFILE" -> affinity;
			      "P:NAME" -> profile index */
	profile *profiles;
	size_t profiles_count, profiles_cap;
	entry **entries;   /* keyword and synonym word lists */
	size_t entries_count, entries_cap;
	strmap synonyms;   /* joined words -> entry index */
	size_t longest;    /* most words in a synonym entry */
	int synonyms_loaded; /* the default synonyms are in */
	arena mem;         /* keys and entries */
	unsigned char code_of[256];   /* a profile's code in the index, 0: none */
	int profile_of_code[256];
	carnet_xkey *keys; /* the distinct keywords, for the indexer */
	carnet_xkeyset *keyset; /* and made ready for matching */
	size_t keys_count;
	char *key_terms;   /* their stem terms */
};

static int nomem(carnet_error *err)
{
	return carnet_error__set(err, CARNET_E_NOMEM, CARNET_ORIGIN_CARNET, 0,
				 "out of memory loading the ranking tables");
}

static int bad(carnet_error *err, const char *name, unsigned line, const char *why)
{
	return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
				 "%s line %u: %s", name, line, why);
}

void carnet_rank__free(carnet_ranking *rk)
{
	if (!rk)
		return;
	map_free(&rk->half_lives);
	map_free(&rk->rules);
	map_free(&rk->synonyms);
	for (size_t i = 0; i < rk->profiles_count; i++)
		free(rk->profiles[i].words);
	free(rk->profiles);
	for (size_t i = 0; i < rk->entries_count; i++) {
		free(rk->entries[i]->partners);
		free(rk->entries[i]->partner_ids);
	}
	free(rk->entries);
	carnet_xap_keyset_free(rk->keyset);
	free(rk->keys);
	free(rk->key_terms);
	arena_free(&rk->mem);
	free(rk);
}

/* Iterate over the lines of text: calls fn(line, len, number) for each
 * line that is not blank or a comment, with the comment and trailing
 * blanks cut; stops at the first error. */
typedef int (*line_fn)(carnet_ranking *rk, const char *name, unsigned number,
		       char *line, void *payload, carnet_error *err);

static int each_line(carnet_ranking *rk, const char *name, const char *text,
		     size_t len, line_fn fn, void *payload, carnet_error *err)
{
	char buf[1024];
	unsigned number = 0;
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		number++;
		size_t n = e - i;
		const char *s = text + i;
		i = e + 1;
		if (memchr(s, '\0', n))
			return bad(err, name, number, "a NUL byte");
		if (n >= sizeof buf)
			return bad(err, name, number, "line longer than 1023 bytes");
		memcpy(buf, s, n);
		buf[n] = '\0';
		char *hash_mark = strchr(buf, '#');
		if (hash_mark)
			*hash_mark = '\0';
		n = strlen(buf);
		while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		char *p = buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			continue;
		int rc = fn(rk, name, number, p, payload, err);
		if (rc)
			return rc;
	}
	return CARNET_OK;
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

static int conf_line(carnet_ranking *rk, const char *name, unsigned number,
		     char *line, void *payload, carnet_error *err)
{
	(void)rk;
	conf_batch *b = payload;
	char *eq = strchr(line, '=');
	if (!eq)
		return bad(err, name, number, "expected key = value");
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
			return bad(err, name, number, keys[i].unit
				   ? "value must be a number from 0 to 1"
				   : "value must be a number of at least 0");
		if (keys[i].target == &b->p.saturation && v == 0)
			return bad(err, name, number, "affinity.content_saturation must be above 0");
		*keys[i].target = v;
		return CARNET_OK;
	}
	if (strncmp(line, "half_life.", 10) != 0)
		return carnet_error__set(err, CARNET_E_INVALID, CARNET_ORIGIN_CARNET, 0,
					 "%s line %u: unknown key %.64s", name, number, line);
	if (strcmp(value, "never") == 0)
		v = 0;
	else if (parse_number(value, &v) != 0 || v < 1)
		return bad(err, name, number, "a half-life is a number of days (at least 1) or never");
	const char *what = line + 10;
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
		return bad(err, name, number, "half_life.default, half_life.class.CODE or half_life.type.CODE");
	if (!*what || strlen(what) > CARNET_ID_MAX)
		return bad(err, name, number, "missing or too long a code");
	if (b->count == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 32;
		conf_change *n = realloc(b->half, cap * sizeof *n);
		if (!n)
			return nomem(err);
		b->half = n;
		b->cap = cap;
	}
	conf_change *c = &b->half[b->count++];
	snprintf(c->key, sizeof c->key, "%c:%s", kind, what);
	c->value = v;
	return CARNET_OK;
}

int carnet_rank__configure(carnet_ranking *rk, const char *name,
			   const char *text, size_t len, carnet_error *err)
{
	conf_batch b = { rk->p, NULL, 0, 0 };
	int rc = each_line(rk, name, text, len, conf_line, &b, err);
	/* make room for every half-life first, so that applying cannot fail half-way */
	for (size_t i = 0; rc == CARNET_OK && i < b.count; i++)
		if (!map_put(&rk->half_lives, b.half[i].key))
			rc = nomem(err);
	if (rc == CARNET_OK) {
		rk->p = b.p;
		for (size_t i = 0; i < b.count; i++)
			map_find(&rk->half_lives, b.half[i].key)->num = b.half[i].value;
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

/* Fold s and split it into words as the indexer does; add it as an entry
 * (or find the identical one). Returns its index in *idx_out; *idx_out is
 * (size_t)-1 when s has no words. */
static int add_entry(carnet_ranking *rk, const char *s, size_t *idx_out,
		     carnet_error *err)
{
	*idx_out = (size_t)-1;
	carnet_buf folded = CARNET_BUF_INIT, words = CARNET_BUF_INIT;
	split_ctx c = { &words, 0 };
	int rc = CARNET_OK;
	int plain = 1;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == ' '))
			plain = 0;
	if (plain) {
		/* lower-case ASCII words: split on spaces, as the indexer would */
		for (const char *p = s; *p && rc == CARNET_OK;) {
			while (*p == ' ')
				p++;
			size_t n = strcspn(p, " ");
			if (n) {
				int r = collect_word(p, n, &c);
				if (r == 2)
					rc = nomem(err);
				else if (r)
					break;
			}
			p += n;
		}
	} else {
		rc = carnet_text__fold(&folded, s, strlen(s), err);
		if (rc == CARNET_OK) {
			rc = carnet_xap_words(folded.data ? folded.data : "", folded.len,
					      collect_word, &c, err);
			if (rc == 1)
				rc = CARNET_OK; /* too many words: keep the first ones */
			else if (rc == 2)
				rc = nomem(err);
		}
	}
	if (rc != CARNET_OK || c.count == 0)
		goto out;
	/* the joined form is the key */
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
	slot *sl = map_find(&rk->rules, mkey);
	if (sl) {
		*idx_out = sl->idx;
		goto out;
	}
	entry *e = arena_alloc(&rk->mem, sizeof *e + c.count * sizeof(char *) + words.len);
	if (!e) {
		rc = nomem(err);
		goto out;
	}
	memset(e, 0, sizeof *e);
	e->words = (const char **)(e + 1);
	char *text = (char *)(e->words + c.count);
	memcpy(text, words.data, words.len);
	for (size_t i = 0, off = 0; i < c.count; i++) {
		e->words[i] = text + off;
		off += strlen(text + off) + 1;
	}
	e->count = c.count;
	if (rk->entries_count == rk->entries_cap) {
		size_t cap = rk->entries_cap ? rk->entries_cap * 2 : 256;
		entry **n = realloc(rk->entries, cap * sizeof *n);
		if (!n) {
			rc = nomem(err);
			goto out;
		}
		rk->entries = n;
		rk->entries_cap = cap;
	}
	if (!(sl = map_put(&rk->rules, mkey))) {
		rc = nomem(err);
		goto out;
	}
	sl->idx = rk->entries_count;
	rk->entries[rk->entries_count++] = e;
	*idx_out = sl->idx;
out:
	carnet_buf__free(&folded);
	carnet_buf__free(&words);
	return rc;
}

/* ---- affinity.tsv ---- */

/* Split line on tabs into at most max fields; returns the count. */
static size_t split_tabs(char *line, char **f, size_t max)
{
	size_t n = 0;
	for (char *p = line; n < max;) {
		f[n++] = p;
		char *t = strchr(p, '\t');
		if (!t)
			break;
		*t = '\0';
		p = t + 1;
	}
	return n;
}

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
	mkkey(key, sizeof key, 'P', name, NULL);
	slot *s = map_find(&rk->rules, key);
	if (s)
		return (long)s->idx;
	if (rk->profiles_count == rk->profiles_cap) {
		size_t cap = rk->profiles_cap ? rk->profiles_cap * 2 : 32;
		profile *n = realloc(rk->profiles, cap * sizeof *n);
		if (!n)
			return -1;
		rk->profiles = n;
		rk->profiles_cap = cap;
	}
	if (!(s = map_put(&rk->rules, key)))
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

static int affinity_line(carnet_ranking *rk, const char *name, unsigned number,
			 char *line, void *payload, carnet_error *err)
{
	(void)payload;
	char *f[5];
	size_t n = split_tabs(line, f, 5);
	char key[CARNET_ID_MAX + 2 * NAME_MAX_LEN + 8];
	double v;
	slot *s;
	if (strcmp(f[0], "profile") == 0) {
		if (n != 3 || !carnet_doc__valid_id(f[1]) || !valid_name(f[2]))
			return bad(err, name, number, "profile<TAB>SPECIALTY<TAB>PROFILE");
		long p = profile_index(rk, f[2]);
		mkkey(key, sizeof key, 's', f[1], NULL);
		if (p < 0 || !(s = map_put(&rk->rules, key)))
			return nomem(err);
		s->idx = (size_t)p;
		return CARNET_OK;
	}
	if (strcmp(f[0], "type") == 0 || strcmp(f[0], "author") == 0) {
		int type = f[0][0] == 't';
		if (n != 4 || (strcmp(f[1], "*") != 0 && !valid_name(f[1])) ||
		    (type ? !carnet_doc__valid_id(f[2]) : !valid_name(f[2])) ||
		    parse_unit(f[3], &v) != 0)
			return bad(err, name, number, type
				   ? "type<TAB>PROFILE or *<TAB>TYPE<TAB>AFFINITY (0 to 1)"
				   : "author<TAB>PROFILE or *<TAB>AUTHOR PROFILE<TAB>AFFINITY (0 to 1)");
		if (strcmp(f[1], "*") != 0 && profile_index(rk, f[1]) < 0)
			return nomem(err);
		mkkey(key, sizeof key, type ? 't' : 'a', f[1], f[2]);
		if (!(s = map_put(&rk->rules, key)))
			return nomem(err);
		s->num = v;
		return CARNET_OK;
	}
	if (strcmp(f[0], "word") == 0) {
		if (n != 4 || !valid_name(f[1]) || !*f[2] || parse_unit(f[3], &v) != 0)
			return bad(err, name, number, "word<TAB>PROFILE<TAB>KEYWORD<TAB>WEIGHT (0 to 1)");
		long p = profile_index(rk, f[1]);
		if (p < 0)
			return nomem(err);
		size_t e;
		int rc = add_entry(rk, f[2], &e, err);
		if (rc)
			return rc;
		if (e == (size_t)-1)
			return bad(err, name, number, "a keyword without a word");
		profile *pr = &rk->profiles[p];
		for (size_t i = 0; i < pr->words_count; i++)
			if (pr->words[i].entry == e) {
				pr->words[i].weight = v; /* a later line wins */
				return CARNET_OK;
			}
		if (pr->words_count == pr->words_cap) {
			size_t cap = pr->words_cap ? pr->words_cap * 2 : 16;
			keyword *k = realloc(pr->words, cap * sizeof *k);
			if (!k)
				return nomem(err);
			pr->words = k;
			pr->words_cap = cap;
		}
		keyword *k = &pr->words[pr->words_count++];
		k->entry = e;
		k->weight = v;
		return CARNET_OK;
	}
	return bad(err, name, number, "a rule starts with profile, type, author or word");
}

/* ---- synonyms.tsv ---- */

static int add_partner(entry *e, size_t id)
{
	for (size_t i = 0; i < e->partners_count; i++)
		if (e->partner_ids[i] == id)
			return 0;
	if (e->partners_count == e->partners_cap) {
		size_t cap = e->partners_cap ? e->partners_cap * 2 : 4;
		size_t *n = realloc(e->partner_ids, cap * sizeof *n);
		if (!n)
			return -1;
		e->partner_ids = n;
		e->partners_cap = cap;
	}
	e->partner_ids[e->partners_count++] = id;
	return 0;
}

static int synonym_line(carnet_ranking *rk, const char *name, unsigned number,
			char *line, void *payload, carnet_error *err)
{
	(void)payload;
	char *f[3];
	size_t n = split_tabs(line, f, 3);
	if (n < 2 || !*f[0] || !*f[1])
		return bad(err, name, number, "FORM<TAB>EQUIVALENT FORM[<TAB>SOURCE]");
	size_t a, b;
	int rc = add_entry(rk, f[0], &a, err);
	if (rc == CARNET_OK)
		rc = add_entry(rk, f[1], &b, err);
	if (rc)
		return rc;
	if (a == (size_t)-1 || b == (size_t)-1)
		return bad(err, name, number, "a form without a word");
	if (a == b)
		return CARNET_OK;
	if (add_partner(rk->entries[a], b) != 0 || add_partner(rk->entries[b], a) != 0)
		return nomem(err);
	for (size_t i = 0; i < 2; i++) {
		entry *e = rk->entries[i ? b : a];
		char key[1024];
		if (!join_words(key, sizeof key, e->words, e->count))
			continue;
		slot *s = map_put(&rk->synonyms, key);
		if (!s)
			return nomem(err);
		s->idx = i ? b : a;
		if (e->count > rk->longest)
			rk->longest = e->count;
	}
	return CARNET_OK;
}

/* Once every table is read: give each synonym entry the list of its
 * partners' words. */
static int finish(carnet_ranking *rk, carnet_error *err)
{
	for (size_t i = 0; i < rk->entries_count; i++) {
		entry *e = rk->entries[i];
		free(e->partners);
		e->partners = NULL;
		if (!e->partners_count)
			continue;
		e->partners = calloc(e->partners_count, sizeof *e->partners);
		if (!e->partners)
			return nomem(err);
		for (size_t j = 0; j < e->partners_count; j++) {
			entry *o = rk->entries[e->partner_ids[j]];
			e->partners[j].words = o->words;
			e->partners[j].count = o->count;
		}
	}
	return CARNET_OK;
}

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

/* Apply the default text (unless NULL), then the home's file of that name
 * if any. */
static int load_table(carnet_ranking *rk, const char *home, const char *file,
		      const char *deflt, apply_fn apply, carnet_error *err)
{
	char name[64];
	snprintf(name, sizeof name, "default %s", file);
	int rc = deflt ? apply(rk, name, deflt, strlen(deflt), err) : CARNET_OK;
	if (rc || !home)
		return rc;
	carnet_buf text = CARNET_BUF_INIT;
	int missing;
	rc = carnet_home__read(&text, &missing, home, file, TABLE_MAX_BYTES, err);
	if (rc == CARNET_OK && !missing) {
		snprintf(name, sizeof name, "%s of the index home", file);
		rc = apply(rk, name, text.data ? text.data : "", text.len, err);
	}
	carnet_buf__free(&text);
	return rc;
}

int carnet_rank__load(carnet_ranking **out, const char *home, carnet_error *err)
{
	*out = NULL;
	carnet_ranking *rk = calloc(1, sizeof *rk);
	if (!rk)
		return nomem(err);
	rk->half_lives.keys = rk->rules.keys = rk->synonyms.keys = &rk->mem;
	int rc;
	if ((rc = load_table(rk, home, CARNET_RANKING_FILE, carnet_default_ranking,
			     carnet_rank__configure, err)) ||
	    (rc = load_table(rk, home, CARNET_AFFINITY_FILE, carnet_default_affinity,
			     apply_affinity, err)) ||
	    /* the home's synonyms now, to refuse a bad file at once; the
	     * default ones (pairs, so order does not matter) when a search
	     * first has words: a browse, or a viewer that shells out once
	     * per record, does not pay for them */
	    (rc = load_table(rk, home, CARNET_SYNONYMS_FILE, NULL, apply_synonyms, err)) ||
	    (rc = finish(rk, err))) {
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
	int rc = apply_synonyms(rk, "default " CARNET_SYNONYMS_FILE, carnet_default_synonyms,
				strlen(carnet_default_synonyms), err);
	if (rc == CARNET_OK)
		rc = finish(rk, err);
	rk->synonyms_loaded = rc == CARNET_OK;
	return rc;
}

/* ---- scoring ---- */

/* The value of the n digits at s, or -1 if one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

long carnet_rank__days(const char *date)
{
	/* by hand: this runs for every candidate of every search */
	if (!date)
		return -1;
	size_t n = strlen(date);
	int y, m, d;
	if (n == 8) {
		y = digits(date, 4), m = digits(date + 4, 2), d = digits(date + 6, 2);
	} else if (n == 10 && date[4] == '-' && date[7] == '-') {
		y = digits(date, 4), m = digits(date + 5, 2), d = digits(date + 8, 2);
	} else {
		return -1;
	}
	if (y < 0 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	/* days from civil (proleptic Gregorian) */
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The profile of a specialty code, or -1. "SM04" is also looked up as a
 * médecin's "G15_10/SM04". */
static long profile_of(const carnet_ranking *rk, const char *code)
{
	if (!code || !*code || strlen(code) > CARNET_ID_MAX)
		return -1;
	char key[CARNET_ID_MAX + 16];
	mkkey(key, sizeof key, 's', code, NULL);
	slot *s = map_find(&rk->rules, key);
	if (!s && !strchr(code, '/') && strncmp(code, "G15_", 4) != 0) {
		char full[CARNET_ID_MAX + 8];
		memcpy(full, "G15_10/", 8);
		strcat(full, code);
		mkkey(key, sizeof key, 's', full, NULL);
		s = map_find(&rk->rules, key);
	}
	return s ? (long)s->idx : -1;
}

void carnet_rank__viewer(const carnet_ranking *rk, carnet_viewer *v,
			 const char *specialty, const char *profession,
			 const char *as_of)
{
	memset(v, 0, sizeof *v);
	v->profile = -1;
	v->topic = -1;
	long p = profile_of(rk, specialty);
	if (p < 0 && profession && *profession && strlen(profession) < 16) {
		char code[24];
		snprintf(code, sizeof code, "G15_%s", profession);
		p = profile_of(rk, code);
	}
	if (p >= 0)
		v->profile = (int)p;
	v->as_of_days = carnet_rank__days(as_of);
	if (v->as_of_days < 0) {
		time_t now = time(NULL);
		v->as_of_days = (long)(now / 86400);
	}
}

static double rule(const carnet_ranking *rk, char kind, const char *who,
		   const char *code, int *found)
{
	char key[CARNET_ID_MAX + 2 * NAME_MAX_LEN + 8];
	mkkey(key, sizeof key, kind, who, code);
	slot *s = map_find(&rk->rules, key);
	*found = s != NULL;
	return s ? s->num : 0;
}

/* The half-life of a type: its own, else its class's, else the default.
 * superseded: "never" does not count (an older summary or vaccination
 * history than the newest one fades like the rest). */
static double half_life(const carnet_ranking *rk, const char *type, int superseded)
{
	if (!type || !*type || strlen(type) > CARNET_ID_MAX)
		return rk->p.half_life_default;
	char key[CARNET_ID_MAX + 4];
	mkkey(key, sizeof key, 't', type, NULL);
	slot *s = map_find(&rk->half_lives, key);
	if (s && (s->num > 0 || !superseded))
		return s->num;
	const char *cls = carnet_codes__type_class(type);
	if (cls) {
		mkkey(key, sizeof key, 'c', cls, NULL);
		s = map_find(&rk->half_lives, key);
		if (s && (s->num > 0 || !superseded))
			return s->num;
	}
	return rk->p.half_life_default > 0 || !superseded ? rk->p.half_life_default : 1095;
}

/* What a document type is worth to profile who (or -1: none). */
static double type_affinity(const carnet_ranking *rk, long who, const char *type)
{
	int found = 0;
	double a = 0;
	if (type && *type && strlen(type) <= CARNET_ID_MAX) {
		if (who >= 0)
			a = rule(rk, 't', rk->profiles[who].name, type, &found);
		if (!found)
			a = rule(rk, 't', "*", type, &found);
	}
	return found ? a : rk->p.type_default;
}

/* What an author of this specialty is worth to profile who (or -1). */
static double author_affinity(const carnet_ranking *rk, long who, const char *specialty)
{
	if (!specialty || !*specialty)
		return rk->p.author_unknown;
	long ap = profile_of(rk, specialty);
	if (ap < 0)
		return rk->p.author_default;
	if (who >= 0 && ap == who)
		return 1.0;
	int found = 0;
	double a = 0;
	const char *author = rk->profiles[ap].name;
	if (who >= 0)
		a = rule(rk, 'a', rk->profiles[who].name, author, &found);
	if (!found)
		a = rule(rk, 'a', "*", author, &found);
	return found ? a : rk->p.author_default;
}

void carnet_rank__type(const carnet_ranking *rk, const carnet_viewer *v,
		       const char *type, carnet_rank_type *out)
{
	out->affinity[0] = type_affinity(rk, v->profile, type);
	out->affinity[1] = v->topic >= 0 ? type_affinity(rk, v->topic, type) : 0;
	out->half_life[0] = half_life(rk, type, 0);
	out->half_life[1] = half_life(rk, type, 1);
}

void carnet_rank__author(const carnet_ranking *rk, const carnet_viewer *v,
			 const char *specialty, carnet_rank_author *out)
{
	out->affinity[0] = author_affinity(rk, v->profile, specialty);
	out->affinity[1] = v->topic >= 0 ? author_affinity(rk, v->topic, specialty) : 0;
}

/* Affinity from its three sub-scores. */
static double affinity_sum(const params *p, double a_type, double a_author, double content)
{
	double a_content = content / p->saturation;
	if (a_content > 1)
		a_content = 1;
	double a = p->a_type * a_type + p->a_author * a_author + p->a_content * a_content;
	return a > 1 ? 1 : a;
}

double carnet_rank__combine(const carnet_ranking *rk, const carnet_viewer *v,
			    double text_norm, double content, double content_topic,
			    long date_days, const carnet_rank_type *t,
			    const carnet_rank_author *au, int newest_of_type,
			    carnet_parts *parts)
{
	const params *p = &rk->p;
	double affinity = affinity_sum(p, t->affinity[0], au->affinity[0], content);
	double topic = 0;
	if (v->topic >= 0) {
		/* the words are about another field: what a specialist of it
		 * would want counts too */
		topic = affinity_sum(p, t->affinity[1], au->affinity[1], content_topic);
		affinity = (1 - p->topic) * affinity + p->topic * topic;
	}

	/* recency */
	double age = date_days < 0 ? 0 : (double)(v->as_of_days - date_days);
	if (age < 0)
		age = 0;
	double half = t->half_life[newest_of_type ? 0 : 1];
	double recency = half > 0 ? exp2(-age / half) : 1.0;

	double a_content = content / p->saturation;
	parts->v[CARNET_PART_TEXT] = p->w_text * text_norm;
	parts->v[CARNET_PART_SPECIALTY] = p->w_spec * affinity;
	parts->v[CARNET_PART_RECENCY] = p->w_rec * recency;
	parts->v[CARNET_PART_TEXT_RAW] = text_norm;
	parts->v[CARNET_PART_AFFINITY] = affinity;
	parts->v[CARNET_PART_AFFINITY_TYPE] = t->affinity[0];
	parts->v[CARNET_PART_AFFINITY_AUTHOR] = au->affinity[0];
	parts->v[CARNET_PART_AFFINITY_CONTENT] = a_content > 1 ? 1 : a_content;
	parts->v[CARNET_PART_RECENCY_RAW] = recency;
	parts->v[CARNET_PART_AGE_DAYS] = age;
	parts->v[CARNET_PART_HALF_LIFE_DAYS] = half;
	parts->v[CARNET_PART_AFFINITY_TOPIC] = topic;
	return parts->v[CARNET_PART_TEXT] + parts->v[CARNET_PART_SPECIALTY] +
	       parts->v[CARNET_PART_RECENCY];
}

void carnet_rank__bm25(const carnet_ranking *rk, double *k1, double *b)
{
	*k1 = rk->p.k1;
	*b = rk->p.b;
}

size_t carnet_rank__synonym_at(const carnet_ranking *rk, const char *const *w,
			       size_t n, size_t *entry_out)
{
	size_t max = n < rk->longest ? n : rk->longest;
	char key[1024];
	for (size_t len = max; len > 0; len--) {
		if (!join_words(key, sizeof key, w, len))
			continue;
		slot *s = map_find(&rk->synonyms, key);
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

int carnet_rank__keys(carnet_ranking *rk, const carnet_xkey **keys_out,
		      size_t *count_out, carnet_error *err)
{
	if (!rk->keys) {
		/* one key per distinct entry used as a keyword */
		size_t *key_of = malloc((rk->entries_count ? rk->entries_count : 1) * sizeof *key_of);
		carnet_xkey *keys = calloc(rk->entries_count ? rk->entries_count : 1, sizeof *keys);
		carnet_buf terms = CARNET_BUF_INIT;
		size_t n = 0;
		if (!key_of || !keys) {
			free(key_of);
			free(keys);
			return nomem(err);
		}
		for (size_t i = 0; i < rk->entries_count; i++)
			key_of[i] = (size_t)-1;
		/* stems first, into one buffer (offsets: it moves while growing) */
		size_t (*offs)[2] = calloc(rk->entries_count ? rk->entries_count : 1, sizeof *offs);
		int rc = offs ? CARNET_OK : nomem(err);
		for (size_t p = 0; rc == CARNET_OK && p < rk->profiles_count; p++) {
			profile *pr = &rk->profiles[p];
			for (size_t j = 0; rc == CARNET_OK && j < pr->words_count; j++) {
				keyword *k = &pr->words[j];
				if (key_of[k->entry] != (size_t)-1) {
					k->key = key_of[k->entry];
					continue;
				}
				entry *e = rk->entries[k->entry];
				keys[n].words = e->words;
				keys[n].count = e->count;
				if (e->count == 1) {
					static const char *const langs[2] = { "french", "english" };
					for (int l = 0; rc == CARNET_OK && l < 2; l++) {
						char stem[256];
						rc = carnet_xap_stem(langs[l], e->words[0], stem, sizeof stem, err);
						offs[n][l] = terms.len;
						if (rc == CARNET_OK &&
						    (carnet_buf__printf(&terms, "Z%s", stem) != 0 ||
						     carnet_buf__putc(&terms, '\0') != 0))
							rc = nomem(err);
					}
				}
				key_of[k->entry] = k->key = n++;
			}
		}
		if (rc == CARNET_OK) {
			for (size_t i = 0; i < n; i++)
				if (keys[i].count == 1) {
					keys[i].zterm[0] = terms.data + offs[i][0];
					keys[i].zterm[1] = terms.data + offs[i][1];
				}
			rk->keys = keys;
			rk->keys_count = n;
			rk->key_terms = terms.data; /* owned now */
			terms.data = NULL;
			rc = carnet_xap_keyset_new(&rk->keyset, rk->keys, n, err);
		} else {
			free(keys);
		}
		carnet_buf__free(&terms);
		free(offs);
		free(key_of);
		if (rc)
			return rc;
	}
	*keys_out = rk->keys;
	*count_out = rk->keys_count;
	return CARNET_OK;
}

int carnet_rank__codes(carnet_ranking *rk, const char *stored, carnet_buf *updated)
{
	memset(rk->code_of, 0, sizeof rk->code_of);
	for (size_t i = 0; i < 256; i++)
		rk->profile_of_code[i] = -1;
	size_t code = 0;
	for (const char *p = stored ? stored : ""; *p && code < 255;) {
		size_t n = strcspn(p, ",");
		code++;
		for (size_t i = 0; i < rk->profiles_count && i < 255; i++)
			if (strlen(rk->profiles[i].name) == n &&
			    memcmp(rk->profiles[i].name, p, n) == 0) {
				rk->code_of[i] = (unsigned char)code;
				rk->profile_of_code[code] = (int)i;
			}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!updated)
		return 0;
	/* a writer gives the profiles the stored list lacks the next codes */
	if (stored && carnet_buf__puts(updated, stored) != 0)
		return -1;
	for (size_t i = 0; i < rk->profiles_count && i < 255; i++) {
		if (rk->code_of[i] || code == 255)
			continue;
		code++;
		if ((updated->len && carnet_buf__putc(updated, ',') != 0) ||
		    carnet_buf__puts(updated, rk->profiles[i].name) != 0)
			return -1;
		rk->code_of[i] = (unsigned char)code;
		rk->profile_of_code[code] = (int)i;
	}
	return 0;
}

int carnet_rank__content(const carnet_ranking *rk, const unsigned char *hits,
			 carnet_buf *out)
{
	for (size_t p = 0; p < rk->profiles_count; p++) {
		const profile *pr = &rk->profiles[p];
		double sum = 0;
		for (size_t j = 0; j < pr->words_count; j++)
			if (hits[pr->words[j].key])
				sum += pr->words[j].weight;
		if (sum <= 0 || !rk->code_of[p])
			continue;
		/* two bytes: the profile's code, the sum in 0.05 steps */
		long q = lround(sum * CONTENT_STEPS);
		if (q < 1)
			q = 1;
		if (carnet_buf__putc(out, (char)rk->code_of[p]) != 0 ||
		    carnet_buf__putc(out, (char)(unsigned char)(q > 255 ? 255 : q)) != 0)
			return -1;
	}
	return 0;
}

double carnet_rank__content_of(const carnet_ranking *rk, const carnet_viewer *v,
			       const char *vector, size_t len)
{
	if (v->profile < 0)
		return 0;
	unsigned char code = rk->code_of[v->profile];
	for (size_t i = 0; code && i + 1 < len; i += 2)
		if ((unsigned char)vector[i] == code)
			return (unsigned char)vector[i + 1] / (double)CONTENT_STEPS;
	return 0;
}

size_t carnet_rank__keys_ready(const carnet_ranking *rk, const carnet_xkeyset **set_out)
{
	*set_out = rk->keyset;
	return rk->keyset ? rk->keys_count : 0;
}

/* Does the word sequence e[0..en) occur in w[0..n)? */
static int occurs(const char *const *e, size_t en, const char *const *w, size_t n)
{
	for (size_t i = 0; i + en <= n; i++) {
		size_t j = 0;
		while (j < en && strcmp(e[j], w[i + j]) == 0)
			j++;
		if (j == en)
			return 1;
	}
	return 0;
}

void carnet_rank__topic(const carnet_ranking *rk, carnet_viewer *v,
			const carnet_xalt *seqs, size_t n)
{
	long best = -1;
	double best_sum = 0;
	for (size_t p = 0; p < rk->profiles_count; p++) {
		const profile *pr = &rk->profiles[p];
		double sum = 0;
		for (size_t j = 0; j < pr->words_count; j++) {
			const entry *e = rk->entries[pr->words[j].entry];
			for (size_t s = 0; s < n; s++)
				if (occurs(e->words, e->count, seqs[s].words, seqs[s].count)) {
					sum += pr->words[j].weight;
					break;
				}
		}
		if (sum > best_sum) {
			best_sum = sum;
			best = (long)p;
		}
	}
	if (best >= 0 && best_sum >= rk->p.topic_min && best != v->profile)
		v->topic = (int)best;
}

double carnet_rank__topic_content(const carnet_ranking *rk, const carnet_viewer *v,
				  const char *vector, size_t len)
{
	carnet_viewer t = *v;
	t.profile = v->topic;
	return carnet_rank__content_of(rk, &t, vector, len);
}

int carnet_rank__type_covered(const carnet_ranking *rk, const char *type)
{
	int found;
	rule(rk, 't', "*", type, &found);
	return found;
}
