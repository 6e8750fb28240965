// SPDX-License-Identifier: MIT
/*
 * Pending code requests (see relay.h): a small array, searched by name;
 * expired and finished entries are reused.
 */
#include "codeload/relay.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct relay_entry {
	uint8_t name[32];
	struct an_addr to;
	uint64_t want;
	size_t credit;
	uint64_t expires_ms; /* 0: free */
};

struct relay {
	struct relay_entry *e;
	size_t max;
	unsigned ttl_ms;
};

struct relay *relay_new(size_t max_entries, unsigned ttl_ms)
{
	struct relay *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->e = calloc(max_entries, sizeof(*r->e));
	if (!r->e) {
		free(r);
		return NULL;
	}
	r->max = max_entries;
	r->ttl_ms = ttl_ms;
	return r;
}

void relay_free(struct relay *r)
{
	if (!r)
		return;
	free(r->e);
	free(r);
}

static bool live(const struct relay_entry *e, uint64_t now_ms)
{
	return e->expires_ms > now_ms && e->want;
}

int relay_add(struct relay *r, const uint8_t name[32], const struct an_addr *to, uint64_t want, size_t credit,
	      uint64_t now_ms)
{
	struct relay_entry *slot = NULL;
	for (size_t i = 0; i < r->max; i++) {
		struct relay_entry *e = &r->e[i];
		if (!live(e, now_ms)) {
			if (!slot)
				slot = e;
			continue;
		}
		/* The same requester asking again (a retry): one entry, what
		 * it asks now, and the credit of this request. */
		if (memcmp(e->name, name, 32) == 0 && an_addr_eq(&e->to, to)) {
			slot = e;
			break;
		}
	}
	if (!slot)
		return -ENOBUFS;
	memcpy(slot->name, name, 32);
	slot->to = *to;
	slot->want = want;
	slot->credit = credit;
	slot->expires_ms = now_ms + r->ttl_ms;
	return 0;
}

size_t relay_take(struct relay *r, const uint8_t name[32], uint16_t index, size_t len, struct an_addr *ret_to,
		  size_t max, uint64_t now_ms)
{
	size_t k = 0;
	uint64_t bit = index < 64 ? 1ull << index : 0;
	for (size_t i = 0; i < r->max && k < max; i++) {
		struct relay_entry *e = &r->e[i];
		if (!live(e, now_ms) || !(e->want & bit) || memcmp(e->name, name, 32) != 0)
			continue;
		e->want &= ~bit;
		if (e->credit < len)
			continue; /* paid for no more: dropped, not sent */
		e->credit -= len;
		ret_to[k++] = e->to;
	}
	return k;
}

size_t relay_count(const struct relay *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->max; i++)
		n += r->e[i].expires_ms != 0 && r->e[i].want != 0;
	return n;
}
