// SPDX-License-Identifier: MIT
/*
 * Authenticating signed requests (auth.h). The nonces seen are kept in a
 * hash table until their request would be too old to be accepted anyway
 * (signed time + AUTH_WINDOW_S), so the table holds at most one window's
 * requests; expired entries are swept when a bucket is visited and, when
 * the table is full, all at once.
 */
#include "svc/auth.h"

#include <stdlib.h>
#include <string.h>

#define AUTH_BUCKETS 4096

struct auth_nonce {
	uint8_t nonce[16];
	uint64_t expires;
	struct auth_nonce *next;
};

struct svc_auth {
	struct auth_nonce *b[AUTH_BUCKETS];
	size_t n;
};

struct svc_auth *svc_auth_new(void)
{
	return calloc(1, sizeof(struct svc_auth));
}

void svc_auth_free(struct svc_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < AUTH_BUCKETS; i++)
		while (a->b[i]) {
			struct auth_nonce *x = a->b[i];
			a->b[i] = x->next;
			free(x);
		}
	free(a);
}

static size_t bucket(const uint8_t nonce[16])
{
	/* Nonces are random (the signer's getrandom): any 32 bits of them
	 * spread well; a signer who picks them badly only collides with
	 * itself. */
	uint32_t h;
	memcpy(&h, nonce, 4);
	return h % AUTH_BUCKETS;
}

/* Drop the expired entries of one bucket. */
static void sweep(struct svc_auth *a, size_t i, uint64_t now)
{
	struct auth_nonce **pp = &a->b[i];
	while (*pp) {
		if ((*pp)->expires < now) {
			struct auth_nonce *x = *pp;
			*pp = x->next;
			free(x);
			a->n--;
		} else {
			pp = &(*pp)->next;
		}
	}
}

/* AUTH_OK and remembered, AUTH_REPLAYED, or AUTH_BUSY. */
static enum auth_result remember(struct svc_auth *a, const uint8_t nonce[16], uint64_t expires, uint64_t now)
{
	size_t i = bucket(nonce);
	sweep(a, i, now);
	for (struct auth_nonce *x = a->b[i]; x; x = x->next)
		if (!memcmp(x->nonce, nonce, 16))
			return AUTH_REPLAYED;
	if (a->n >= AUTH_NONCES_MAX)
		for (size_t j = 0; j < AUTH_BUCKETS; j++)
			sweep(a, j, now);
	if (a->n >= AUTH_NONCES_MAX)
		return AUTH_BUSY;
	struct auth_nonce *x = malloc(sizeof(*x));
	if (!x)
		return AUTH_BUSY;
	memcpy(x->nonce, nonce, 16);
	x->expires = expires;
	x->next = a->b[i];
	a->b[i] = x;
	a->n++;
	return AUTH_OK;
}

enum auth_result svc_auth_check(struct svc_auth *a, const struct policy *p, const char *node, const void *msg,
				size_t len, uint64_t now, struct wire_svc_request *ret,
				const struct policy_principal **who)
{
	struct wire_svc_request q;
	if (wire_svc_parse(msg, len, &q) < 0)
		return AUTH_MALFORMED;
	if (strcmp(q.node, node) != 0)
		return AUTH_OTHER_NODE;
	const struct policy_principal *pr = policy_principal(p, q.user);
	if (!pr)
		return AUTH_UNKNOWN;
	if (!wire_svc_verify(msg, &q, pr->pk))
		return AUTH_FORGED;
	if (q.time + AUTH_WINDOW_S < now)
		return AUTH_EXPIRED;
	if (q.time > now + AUTH_WINDOW_S)
		return AUTH_FUTURE;
	enum auth_result r = remember(a, q.nonce, q.time + AUTH_WINDOW_S, now);
	if (r != AUTH_OK)
		return r;
	*ret = q;
	*who = pr;
	return AUTH_OK;
}

const char *svc_auth_why(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "ok";
	case AUTH_MALFORMED:
		return "malformed request";
	case AUTH_OTHER_NODE:
		return "signed for another node";
	case AUTH_UNKNOWN:
		return "unknown user";
	case AUTH_FORGED:
		return "bad signature";
	case AUTH_EXPIRED:
		return "expired (signed more than 30 s ago)";
	case AUTH_FUTURE:
		return "signed in the future (more than 30 s ahead: check the clocks)";
	case AUTH_REPLAYED:
		return "replayed (this nonce was seen already)";
	case AUTH_BUSY:
		return "too many requests within 30 s";
	}
	return "?";
}
