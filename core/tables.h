/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tables.h - the ranking tables in memory (struct carnet_ranking), as
 * tables.c reads them from ranking.conf, affinity.tsv and synonyms.tsv;
 * rank.c scores with them and vectors.c turns them into content vectors.
 * Internal to those three: the rest of the library uses rank.h. */
#ifndef CARNET_CORE_TABLES_H
#define CARNET_CORE_TABLES_H

#include <stddef.h>

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
	carnet_strmap half_lives; /* "c:CLASS" or "t:TYPE" -> days (0: never) */
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
	carnet_arena mem;  /* keys and entries */
	unsigned char code_of[256];   /* a profile's code in the index, 0: none */
	int profile_of_code[256];
	carnet_xkey *keys; /* the distinct keywords, for the indexer */
	carnet_xkeyset *keyset; /* and made ready for matching */
	size_t keys_count;
	char *key_terms;   /* their stem terms */
};

#endif
