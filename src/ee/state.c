// SPDX-License-Identifier: MIT
/*
 * Soft state: the keyed table each code object owns (PAN §4.5), reached by
 * code through an_state_get/put/del. Fixed-size keys and values, a quota of
 * entries per object, least-recently-used eviction when the quota is reached
 * (state may vanish at any time, so eviction is always allowed), everything
 * freed with the object. A chained hash keyed with SipHash, because the keys
 * are chosen by code we do not trust, plus an LRU list: O(1) per operation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ee/ee_impl.h"

struct ee_sent {
	struct an_key key;
	struct an_val val;
	struct ee_sent *hnext;
	struct ee_list lru; /* most recent first */
};

struct ee_state {
	size_t cap, n;
	size_t mask; /* buckets - 1; tab is allocated on the first put */
	struct ee_sent **tab;
	struct ee_list lru;
	uint64_t *evictions; /* the EE's counter */
	uint8_t key[crypto_shorthash_KEYBYTES];
	/* Kept elsewhere (the kernel path's map, ee_state_external): the
	 * table above is empty and unused. */
	const struct ee_state_ops *ops;
	void *ops_arg;
};

struct ee_state *ee_state_new(size_t cap, const uint8_t key[16], uint64_t *evictions)
{
	struct ee_state *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = cap ? cap : 1;
	ee_list_init(&s->lru);
	s->evictions = evictions;
	memcpy(s->key, key, sizeof(s->key));
	return s;
}

static void ee_state_clear(struct ee_state *s);

void ee_state_free(struct ee_state *s)
{
	if (!s)
		return;
	ee_state_clear(s);
	free(s);
}

size_t ee_state_count(const struct ee_state *s)
{
	if (s && s->ops)
		return s->ops->count(s->ops_arg);
	return s ? s->n : 0;
}

/* Drop every entry of the table (not counted as evictions). */
static void ee_state_clear(struct ee_state *s)
{
	while (s->lru.next != &s->lru) {
		struct ee_sent *e = ee_container_of(s->lru.next, struct ee_sent, lru);
		ee_list_del(&e->lru);
		free(e);
	}
	free(s->tab);
	s->tab = NULL;
	s->n = 0;
}

void ee_state_external(struct ee_state *s, const struct ee_state_ops *ops, void *arg)
{
	if (ops) {
		/* Oldest first, so that the store's own LRU order matches. */
		for (const struct ee_list *l = s->lru.prev; l != &s->lru; l = l->prev) {
			const struct ee_sent *e = ee_container_of(l, struct ee_sent, lru);
			ops->put(arg, &e->key, &e->val);
		}
	}
	ee_state_clear(s);
	s->ops = ops;
	s->ops_arg = arg;
}

size_t ee_state_each(const struct ee_state *s, size_t max,
		     void (*fn)(void *arg, const struct an_key *key, const struct an_val *val), void *arg)
{
	if (s && s->ops)
		return s->ops->each(s->ops_arg, max, fn, arg);
	size_t k = 0;
	/* Most recently used first; reading does not touch the order. */
	for (const struct ee_list *l = s ? s->lru.next : NULL; l && l != &s->lru && k < max; l = l->next, k++) {
		const struct ee_sent *e = ee_container_of(l, struct ee_sent, lru);
		fn(arg, &e->key, &e->val);
	}
	return k;
}

static size_t ee_state_bucket(const struct ee_state *s, const struct an_key *key)
{
	uint64_t h;
	crypto_shorthash((unsigned char *)&h, key->b, sizeof(key->b), s->key);
	return h & s->mask;
}

/* The link that points at the entry for key (or the chain's terminating NULL). */
static struct ee_sent **ee_state_find(struct ee_state *s, const struct an_key *key)
{
	struct ee_sent **pp = &s->tab[ee_state_bucket(s, key)];
	while (*pp && memcmp((*pp)->key.b, key->b, sizeof(key->b)) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

int ee_state_get(struct ee_state *s, const struct an_key *key, struct an_val *ret)
{
	if (s->ops)
		return s->ops->get(s->ops_arg, key, ret);
	if (!s->tab)
		return -ENOENT;
	struct ee_sent *e = *ee_state_find(s, key);
	if (!e)
		return -ENOENT;
	ee_list_move_head(&s->lru, &e->lru);
	memcpy(ret, &e->val, sizeof(*ret));
	return 0;
}

static int ee_state_alloc_tab(struct ee_state *s)
{
	size_t n = 16;
	while (n < s->cap && n < ((size_t)1 << 24))
		n <<= 1;
	s->tab = calloc(n, sizeof(*s->tab));
	if (!s->tab)
		return -ENOMEM;
	s->mask = n - 1;
	return 0;
}

int ee_state_put(struct ee_state *s, const struct an_key *key, const struct an_val *val)
{
	if (s->ops)
		return s->ops->put(s->ops_arg, key, val);
	if (!s->tab && ee_state_alloc_tab(s) < 0)
		return -ENOSPC;

	struct ee_sent **pp = ee_state_find(s, key);
	struct ee_sent *e = *pp;
	if (e) {
		memcpy(&e->val, val, sizeof(*val));
		ee_list_move_head(&s->lru, &e->lru);
		return 0;
	}

	if (s->n >= s->cap) {
		/* Reuse the least recently used entry: unlink it from its chain. */
		e = ee_container_of(s->lru.prev, struct ee_sent, lru);
		struct ee_sent **vp = ee_state_find(s, &e->key);
		*vp = e->hnext;
		ee_list_del(&e->lru);
		s->n--;
		(*s->evictions)++;
		/* The chain we are about to add to may have changed. */
		pp = ee_state_find(s, key);
	} else {
		e = malloc(sizeof(*e));
		if (!e)
			return -ENOSPC;
	}
	memcpy(&e->key, key, sizeof(*key));
	memcpy(&e->val, val, sizeof(*val));
	e->hnext = NULL;
	*pp = e;
	ee_list_add_head(&s->lru, &e->lru);
	s->n++;
	return 0;
}

int ee_state_del(struct ee_state *s, const struct an_key *key)
{
	if (s->ops)
		return s->ops->del(s->ops_arg, key);
	if (!s->tab)
		return -ENOENT;
	struct ee_sent **pp = ee_state_find(s, key);
	struct ee_sent *e = *pp;
	if (!e)
		return -ENOENT;
	*pp = e->hnext;
	ee_list_del(&e->lru);
	free(e);
	s->n--;
	return 0;
}

size_t ee_state_cap(const struct ee_state *s)
{
	return s->cap;
}

void ee_state_set_cap(struct ee_state *s, size_t cap)
{
	s->cap = cap ? cap : 1;
	if (s->ops)
		return; /* the store keeps its own bound */
	/* Down to the new bound now, least recently used first. */
	while (s->n > s->cap) {
		struct ee_sent *e = ee_container_of(s->lru.prev, struct ee_sent, lru);
		struct ee_sent **vp = ee_state_find(s, &e->key);
		*vp = e->hnext;
		ee_list_del(&e->lru);
		free(e);
		s->n--;
		(*s->evictions)++;
	}
}
