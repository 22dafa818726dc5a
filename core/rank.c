/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rank.c - the score of a document for a viewer, from the ranking tables
 * (tables.c reads them): who the viewer is, what a document type and an
 * author are worth to them, how fast a document fades, and what the words
 * of a request are about. */
#include "tables.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codes.h"
#include "schema.h"
#include "strmap.h"
#include "util.h"

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
	carnet_strmap__key(key, sizeof key, 's', code, NULL);
	carnet_strmap_slot *s = carnet_strmap__find(&rk->rules, key);
	if (!s && !strchr(code, '/') && strncmp(code, "G15_", 4) != 0) {
		char full[CARNET_ID_MAX + 8];
		memcpy(full, "G15_10/", 8);
		strcat(full, code);
		carnet_strmap__key(key, sizeof key, 's', full, NULL);
		s = carnet_strmap__find(&rk->rules, key);
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

const char *carnet_rank__profile_name(const carnet_ranking *rk, int which)
{
	return which >= 0 && (size_t)which < rk->profiles_count ? rk->profiles[which].name : NULL;
}

static double rule(const carnet_ranking *rk, char kind, const char *who,
		   const char *code, int *found)
{
	char key[CARNET_ID_MAX + 2 * NAME_MAX_LEN + 8];
	carnet_strmap__key(key, sizeof key, kind, who, code);
	carnet_strmap_slot *s = carnet_strmap__find(&rk->rules, key);
	*found = s != NULL;
	return s ? s->num : 0;
}

/* The half-life of a type: its own, else its class's, else the default.
 * superseded: "never" does not count (an older summary or vaccination
 * history than the newest one fades like the rest). */
/* The per-code value of ranking.conf for "KIND:code" (code at most
 * CARNET_ID_MAX bytes), or NULL. */
static const carnet_strmap_slot *per_code(const carnet_ranking *rk, char kind, const char *code)
{
	char key[CARNET_ID_MAX + 4];
	carnet_strmap__key(key, sizeof key, kind, code, NULL);
	return carnet_strmap__find(&rk->half_lives, key);
}

static double half_life(const carnet_ranking *rk, const char *type, int superseded)
{
	if (!type || !*type || strlen(type) > CARNET_ID_MAX)
		return rk->p.half_life_default;
	const carnet_strmap_slot *s = per_code(rk, 't', type);
	if (s && (s->num > 0 || !superseded))
		return s->num;
	const char *cls = carnet_codes__type_class(type);
	if (cls && (s = per_code(rk, 'c', cls)) != NULL && (s->num > 0 || !superseded))
		return s->num;
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
	const carnet_strmap_slot *s =
		type && *type && strlen(type) <= CARNET_ID_MAX ? per_code(rk, 'r', type) : NULL;
	out->content = s ? s->num : 1;
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
			    double results, carnet_parts *parts)
{
	const params *p = &rk->p;
	/* a record-wide document (the medical summary) names every field's
	 * keywords: they do not say it is about the viewer's */
	content *= t->content;
	content_topic *= t->content;
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
	double recency = 1.0;
	if (half > 0) {
		/* its kind's pace, and the record's longer memory */
		recency = exp2(-age / half);
		if (p->memory > 0 && p->memory_half_life > 0)
			recency = (1 - p->memory) * recency +
				  p->memory * exp2(-age / p->memory_half_life);
	}

	double a_content = content / p->saturation;
	parts->v[CARNET_PART_TEXT] = p->w_text * text_norm;
	parts->v[CARNET_PART_SPECIALTY] = p->w_spec * affinity;
	parts->v[CARNET_PART_RECENCY] = p->w_rec * (v->series ? p->rec_series : 1) * recency;
	parts->v[CARNET_PART_TEXT_RAW] = text_norm;
	parts->v[CARNET_PART_AFFINITY] = affinity;
	parts->v[CARNET_PART_AFFINITY_TYPE] = t->affinity[0];
	parts->v[CARNET_PART_AFFINITY_AUTHOR] = au->affinity[0];
	parts->v[CARNET_PART_AFFINITY_CONTENT] = a_content > 1 ? 1 : a_content;
	parts->v[CARNET_PART_RECENCY_RAW] = recency;
	parts->v[CARNET_PART_AGE_DAYS] = age;
	parts->v[CARNET_PART_HALF_LIFE_DAYS] = half;
	parts->v[CARNET_PART_AFFINITY_TOPIC] = topic;
	parts->v[CARNET_PART_RESULTS] = p->w_results * results;
	return parts->v[CARNET_PART_TEXT] + parts->v[CARNET_PART_SPECIALTY] +
	       parts->v[CARNET_PART_RECENCY] + parts->v[CARNET_PART_RESULTS];
}

double carnet_rank__series(const carnet_ranking *rk, long gap)
{
	if (gap <= 0)
		return 1;
	double half = rk->p.series_half_life;
	return half > 0 ? exp2(-(double)gap / half) : 0;
}

void carnet_rank__bm25(const carnet_ranking *rk, double *k1, double *b)
{
	*k1 = rk->p.k1;
	*b = rk->p.b;
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

/* Does an entry whose first word hashes to h occur in one of seqs[0..n)?
 * h is looked up among the hashes of their words (qh[0..qn), a bloom of
 * 64 bits first) before the words are compared. */
static int occurs_any(const entry *e, uint64_t h, const uint64_t *qh, size_t qn,
		      uint64_t bloom, const carnet_xalt *seqs, size_t n)
{
	if (qh) {
		if (!(bloom & (1ull << (h & 63))))
			return 0;
		size_t i = 0;
		while (i < qn && qh[i] != h)
			i++;
		if (i == qn)
			return 0;
	}
	for (size_t s = 0; s < n; s++)
		if (occurs(e->words, e->count, seqs[s].words, seqs[s].count))
			return 1;
	return 0;
}

void carnet_rank__topic(const carnet_ranking *rk, carnet_viewer *v,
			const carnet_xalt *seqs, size_t n)
{
	/* the hashes of the request's words: most keywords are told apart
	 * by their first word's hash, without comparing words */
	uint64_t qh[64], bloom = 0;
	size_t qn = 0;
	int hashed = rk->key_first != NULL;
	for (size_t s = 0; s < n && hashed; s++)
		for (size_t i = 0; i < seqs[s].count; i++) {
			if (qn == sizeof qh / sizeof qh[0]) {
				hashed = 0; /* too many words: compare them all */
				break;
			}
			qh[qn] = carnet__hash_str(seqs[s].words[i]);
			bloom |= 1ull << (qh[qn++] & 63);
		}
	/* each distinct keyword looked for once (0: not yet, 1: absent,
	 * 2: there), however many profiles name it */
	unsigned char stack[1024];
	size_t nk = rk->distinct_keys;
	unsigned char *seen = nk <= sizeof stack ? stack : calloc(nk, 1);
	if (seen == stack)
		memset(stack, 0, nk);
	long best = -1;
	double best_sum = 0;
	for (size_t p = 0; p < rk->profiles_count; p++) {
		const profile *pr = &rk->profiles[p];
		double sum = 0;
		for (size_t j = 0; j < pr->words_count; j++) {
			const keyword *k = &pr->words[j];
			const entry *e = rk->entries[k->entry];
			int there;
			if (seen && k->key < nk && seen[k->key]) {
				there = seen[k->key] == 2;
			} else {
				int by_hash = hashed && k->key < nk && e->count;
				there = occurs_any(e, by_hash ? rk->key_first[k->key] : 0,
						   by_hash ? qh : NULL, qn, bloom, seqs, n);
				if (seen && k->key < nk)
					seen[k->key] = there ? 2 : 1;
			}
			if (there)
				sum += k->weight;
		}
		if (sum > best_sum) {
			best_sum = sum;
			best = (long)p;
		}
	}
	if (seen != stack)
		free(seen);
	if (best >= 0 && best_sum >= rk->p.topic_min && best != v->profile)
		v->topic = (int)best;
}

int carnet_rank__type_covered(const carnet_ranking *rk, const char *type)
{
	int found;
	rule(rk, 't', "*", type, &found);
	return found;
}
