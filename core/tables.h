/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tables.h - the ranking tables in memory (struct carnet_ranking), as
 * tables.c reads them from ranking.conf, affinity.tsv and synonyms.tsv;
 * rank.c scores with them and vectors.c turns them into content vectors.
 * Internal to those three: the rest of the library uses rank.h. */
#ifndef CARNET_CORE_TABLES_H
#define CARNET_CORE_TABLES_H

#include <stddef.h>
#include <stdint.h>

#include "rank.h"
#include "strmap.h"

#define NAME_MAX_LEN 64
#define ENTRY_WORDS_MAX 8

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
	size_t key;       /* its index in carnet_ranking.keys (numbered by loading) */
} keyword;

typedef struct profile {
	char name[NAME_MAX_LEN];
	keyword *words;             /* its content keywords */
	size_t words_count, words_cap;
} profile;

typedef struct params {
	double w_text, w_spec, w_rec, w_results;
	double rec_series;          /* weight.recency's factor when the words name analytes */
	double memory, memory_half_life; /* recency's long memory: share, days */
	double series_half_life;    /* results.series_half_life, days (0: newest only) */
	double a_type, a_author, a_content, saturation;
	double topic, topic_min;
	double type_default, author_default, author_unknown;
	double k1, b;
	double half_life_default;
} params;

struct carnet_ranking {
	params p;
	carnet_strmap half_lives; /* "c:CLASS" or "t:TYPE" -> days (0: never);
				     "r:TYPE" -> what the content part of
				     affinity counts (0..1, 1 if absent) */
	carnet_strmap rules;      /* "s:CODE" -> profile; "t:PROFILE:TYPE" and
				     "a:PROFILE:AUTHOR_PROFILE" -> affinity;
				     "P:NAME" -> profile index */
	profile *profiles;
	size_t profiles_count, profiles_cap;
	entry **entries;   /* keyword and synonym word lists */
	size_t entries_count, entries_cap;
	carnet_strmap synonyms; /* joined words -> entry index */
	size_t longest;    /* most words in a synonym entry */
	int synonyms_loaded; /* the default synonyms are in */
	carnet_arena mem;  /* entries */
	/* Loaded from the compiled-in defaults (frozen_tables): the maps and
	 * the keywords are theirs, shared, never changed or freed (but the
	 * half-lives, copied before a change); the rest is rk's own, made
	 * from them at load. */
	int frozen, own_half_lives;
	const char **frozen_words;  /* the entries' words */
	entry *frozen_entries;      /* what entries point to */
	carnet_xalt *frozen_alts;   /* their partners */
	unsigned char code_of[256];   /* a profile's code in the index, 0: none */
	int profile_of_code[256];
	size_t distinct_keys; /* entries used as keywords */
	uint64_t *key_first;  /* per distinct keyword, the hash of its first
				 word (carnet__hash_str): what the words of a
				 request are about is looked up by it */
	carnet_xkey *keys; /* the distinct keywords, for the indexer */
	carnet_xkeyset *keyset; /* and made ready for matching */
	size_t keys_count;
	char *key_terms;   /* their stem terms */
};

/* The default tables as loaded, compiled in as constant data without a
 * pointer to relocate but to each array (tools/gen-tables.c prints them,
 * tables.c turns them into a carnet_ranking). */
typedef struct frozen_map {
	const carnet_strmap_slot *slots;
	size_t cap, count;
	const char *pool;
	size_t pool_len;
} frozen_map;

typedef struct frozen_entry {
	uint32_t word, count; /* its words: word_off[word ... word + count) */
	uint32_t alt, alts;   /* its partners: alts[alt ... alt + alts) */
} frozen_entry;

typedef struct frozen_profile {
	char name[NAME_MAX_LEN];
	uint32_t keyword, count; /* its keywords: keywords[keyword ... + count) */
} frozen_profile;

typedef struct frozen_tables {
	params p;
	frozen_map half_lives, rules, synonyms;
	const char *words;         /* every word, NUL after each */
	const uint32_t *word_off;  /* a word's start in words */
	size_t words_count;
	const frozen_entry *entries;
	size_t entries_count;
	const uint32_t *alts;      /* partner entries */
	size_t alts_count;
	const keyword *keywords;
	const frozen_profile *profiles;
	size_t profiles_count;
	size_t longest, distinct_keys;
} frozen_tables;

#endif
