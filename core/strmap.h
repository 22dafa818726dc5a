/* SPDX-License-Identifier: GPL-2.0-or-later */
/* strmap.h - a string-keyed hash map (open addressing) whose keys live in a
 * pool of its own, and an arena: many small allocations freed all at once.
 * The ranking tables keep their rules, half-lives and synonyms in maps,
 * their entries in an arena. */
#ifndef CARNET_CORE_STRMAP_H
#define CARNET_CORE_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/* Many small allocations that live as long as the tables: keys, entries. */
typedef struct carnet_arena_chunk {
	struct carnet_arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
} carnet_arena_chunk;

typedef struct carnet_arena {
	carnet_arena_chunk *head;
} carnet_arena;

/* n bytes, aligned for any type, that live until carnet_arena__free;
 * NULL on no memory. */
void *carnet_arena__alloc(carnet_arena *a, size_t n);
void carnet_arena__free(carnet_arena *a);

/* A slot holds no pointer: a map can be compiled in as constant data
 * (tools/gen-tables.c), with nothing for the loader to relocate. */
typedef struct carnet_strmap_slot {
	uint64_t h;   /* hash of the key */
	double num;   /* a value, or */
	size_t idx;   /* an index into another table */
	size_t key;   /* where the key starts in the map's pool, plus one; 0: empty */
} carnet_strmap_slot;

typedef struct carnet_strmap {
	carnet_strmap_slot *slots;
	size_t cap, count;  /* cap is a power of two */
	char *pool;         /* the keys, each followed by a NUL */
	size_t pool_len, pool_cap;
} carnet_strmap;

/* The key of a slot in use. */
static inline const char *carnet_strmap__key_of(const carnet_strmap *m,
						const carnet_strmap_slot *s)
{
	return m->pool + s->key - 1;
}

/* The slot of key, or NULL. */
carnet_strmap_slot *carnet_strmap__find(const carnet_strmap *m, const char *key);

/* The slot of key, added (num 0, idx 0) if missing; NULL on no memory. */
carnet_strmap_slot *carnet_strmap__put(carnet_strmap *m, const char *key);

/* Free the slots and the keys. */
void carnet_strmap__free(carnet_strmap *m);

/* key = kind ":" a [":" b], cut to size (keys are short; codes are
 * checked to fit before). */
void carnet_strmap__key(char *key, size_t size, char kind, const char *a,
			const char *b);

/* The words of w[0..n) joined by spaces into key; 0 if it does not fit. */
size_t carnet_strmap__join(char *key, size_t size, const char *const *w, size_t n);

#endif
