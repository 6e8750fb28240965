// SPDX-License-Identifier: MIT
/*
 * Routing table (see route.h): open addressing with linear probing, grown
 * at half full; a removal shifts back the entries after it, so that no
 * probe ever needs a tombstone.
 */
#include "node/route.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct route_entry {
	struct an_addr dst, next;
	bool used;
};

struct route_table {
	struct route_entry *slots;
	size_t cap, n;
	bool have_default;
	struct an_addr default_next;
};

static uint64_t addr_hash(const struct an_addr *a)
{
	/* Five 32-bit words, multiply and fold: on every capsule's path,
	 * so not byte by byte (measured: 130 instructions that way). */
	uint32_t w[5];
	memcpy(w, a, sizeof(w));
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 5; i++)
		h = (h ^ w[i]) * 0xff51afd7ed558ccdull;
	return h ^ (h >> 32);
}

struct route_table *route_table_new(void)
{
	struct route_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cap = 16;
	t->slots = calloc(t->cap, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void route_table_free(struct route_table *t)
{
	if (!t)
		return;
	free(t->slots);
	free(t);
}

static struct route_entry *find_slot(struct route_entry *slots, size_t cap, const struct an_addr *dst)
{
	size_t i = addr_hash(dst) & (cap - 1);
	while (slots[i].used && !an_addr_eq(&slots[i].dst, dst))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct route_table *t)
{
	size_t cap = t->cap * 2;
	struct route_entry *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++)
		if (t->slots[i].used)
			*find_slot(slots, cap, &t->slots[i].dst) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

int route_add(struct route_table *t, const struct an_addr *dst, const struct an_addr *next)
{
	if ((t->n + 1) * 2 > t->cap && grow(t) < 0)
		return -ENOMEM;
	struct route_entry *e = find_slot(t->slots, t->cap, dst);
	if (!e->used)
		t->n++;
	*e = (struct route_entry){ .dst = *dst, .next = *next, .used = true };
	return 0;
}

int route_del(struct route_table *t, const struct an_addr *dst)
{
	struct route_entry *e = find_slot(t->slots, t->cap, dst);
	if (!e->used)
		return -ENOENT;
	size_t hole = (size_t)(e - t->slots), mask = t->cap - 1;
	/* Backward shift: an entry after the hole moves into it unless its
	 * home slot lies cyclically in (hole, i], where it is still found. */
	for (size_t i = (hole + 1) & mask; t->slots[i].used; i = (i + 1) & mask) {
		size_t home = addr_hash(&t->slots[i].dst) & mask;
		if (((i - home) & mask) >= ((i - hole) & mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	t->slots[hole].used = false;
	t->n--;
	return 0;
}

bool route_clear_default(struct route_table *t)
{
	bool had = t->have_default;
	t->have_default = false;
	return had;
}

void route_set_default(struct route_table *t, const struct an_addr *next)
{
	t->have_default = true;
	t->default_next = *next;
}

int route_lookup(const struct route_table *t, const struct an_addr *dst, struct an_addr *ret_next)
{
	const struct route_entry *e = find_slot(t->slots, t->cap, dst);
	if (e->used) {
		*ret_next = e->next;
		return 0;
	}
	if (t->have_default) {
		*ret_next = t->default_next;
		return 0;
	}
	return -EHOSTUNREACH;
}

size_t route_count(const struct route_table *t)
{
	return t->n;
}

bool route_at(const struct route_table *t, size_t i, struct an_addr *ret_dst, struct an_addr *ret_next)
{
	for (size_t s = 0; s < t->cap; s++) {
		if (!t->slots[s].used)
			continue;
		if (i-- == 0) {
			*ret_dst = t->slots[s].dst;
			*ret_next = t->slots[s].next;
			return true;
		}
	}
	return false;
}

bool route_get_default(const struct route_table *t, struct an_addr *ret_next)
{
	if (t->have_default)
		*ret_next = t->default_next;
	return t->have_default;
}
