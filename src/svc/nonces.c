// SPDX-License-Identifier: MIT
/* The nonces of signed requests seen lately (nonces.h). */
#include "svc/nonces.h"

#include <stdlib.h>
#include <string.h>

#define NONCE_BUCKETS 4096

struct nonce {
	uint8_t nonce[16], tag[16];
	uint64_t expires;
	struct nonce *next;
};

struct nonce_cache {
	struct nonce *b[NONCE_BUCKETS];
	size_t n, max;
};

struct nonce_cache *nonce_cache_new(size_t max)
{
	struct nonce_cache *c = calloc(1, sizeof(*c));
	if (c)
		c->max = max;
	return c;
}

void nonce_cache_free(struct nonce_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < NONCE_BUCKETS; i++)
		while (c->b[i]) {
			struct nonce *x = c->b[i];
			c->b[i] = x->next;
			free(x);
		}
	free(c);
}

static size_t bucket(const uint8_t nonce[16])
{
	/* Nonces are random (the signer's getrandom): any 32 bits of them
	 * spread well; a signer who picks them badly only collides with
	 * itself. */
	uint32_t h;
	memcpy(&h, nonce, 4);
	return h % NONCE_BUCKETS;
}

/* Drop the expired entries of one bucket. */
static void sweep(struct nonce_cache *c, size_t i, uint64_t now)
{
	for (struct nonce **pp = &c->b[i]; *pp;) {
		if ((*pp)->expires < now) {
			struct nonce *x = *pp;
			*pp = x->next;
			free(x);
			c->n--;
		} else {
			pp = &(*pp)->next;
		}
	}
}

enum nonce_seen nonce_cache_remember(struct nonce_cache *c, const uint8_t nonce[16], const uint8_t tag[16],
				     uint64_t expires, uint64_t now)
{
	size_t i = bucket(nonce);
	sweep(c, i, now);
	for (struct nonce *x = c->b[i]; x; x = x->next)
		if (!memcmp(x->nonce, nonce, 16))
			return memcmp(x->tag, tag, 16) ? NONCE_OTHER : NONCE_SAME;
	if (c->n >= c->max)
		for (size_t j = 0; j < NONCE_BUCKETS; j++)
			sweep(c, j, now);
	if (c->n >= c->max)
		return NONCE_FULL;
	struct nonce *x = malloc(sizeof(*x));
	if (!x)
		return NONCE_FULL;
	memcpy(x->nonce, nonce, 16);
	memcpy(x->tag, tag, 16);
	x->expires = expires;
	x->next = c->b[i];
	c->b[i] = x;
	c->n++;
	return NONCE_NEW;
}
