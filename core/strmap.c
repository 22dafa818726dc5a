/* SPDX-License-Identifier: GPL-2.0-or-later */
/* strmap.c - the string-keyed hash map and its arena (see strmap.h). */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void *carnet_arena__alloc(carnet_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > 64 * 1024 ? n : 64 * 1024;
		carnet_arena_chunk *c = malloc(sizeof *c + cap);
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

void carnet_arena__free(carnet_arena *a)
{
	while (a->head) {
		carnet_arena_chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

carnet_strmap_slot *carnet_strmap__find(const carnet_strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	uint64_t h = carnet__hash_str(key);
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].key)
			return NULL;
		if (m->slots[i].h == h && strcmp(carnet_strmap__key_of(m, &m->slots[i]), key) == 0)
			return &m->slots[i];
	}
}

/* Double the slots (from 1024), keeping every key; -1 on no memory. */
static int rehash(carnet_strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 1024;
	carnet_strmap_slot *n = calloc(cap, sizeof *n);
	if (!n)
		return -1;
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
	return 0;
}

carnet_strmap_slot *carnet_strmap__put(carnet_strmap *m, const char *key)
{
	carnet_strmap_slot *s = carnet_strmap__find(m, key);
	if (s)
		return s;
	size_t n = strlen(key) + 1;
	if ((m->count + 1) * 2 > m->cap && rehash(m) != 0)
		return NULL;
	if (m->pool_len + n > m->pool_cap &&
	    CARNET_GROW(m->pool, m->pool_cap, m->pool_len + n) != 0)
		return NULL;
	uint64_t h = carnet__hash_str(key);
	size_t i = h & (m->cap - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	memcpy(m->pool + m->pool_len, key, n);
	m->slots[i].key = m->pool_len + 1;
	m->pool_len += n;
	m->slots[i].h = h;
	m->count++;
	return &m->slots[i];
}

void carnet_strmap__free(carnet_strmap *m)
{
	free(m->slots);
	free(m->pool);
	memset(m, 0, sizeof *m);
}

/* Faster than snprintf, which loading calls a few thousand times. */
void carnet_strmap__key(char *key, size_t size, char kind, const char *a,
			const char *b)
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

size_t carnet_strmap__join(char *key, size_t size, const char *const *w, size_t n)
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
