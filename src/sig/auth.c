// SPDX-License-Identifier: MIT
/*
 * Authenticating signalling requests (auth.h). The requests seen are kept,
 * by nonce, with the first 16 octets of their signature, until they would
 * be too old to be accepted anyway (signed time + the window): at most one
 * window's requests. A bucket is swept when visited, the whole table when
 * it is full.
 */
#include "sig/auth.h"

#include <stdlib.h>
#include <string.h>

#define SIG_AUTH_BUCKETS 2048

struct seen {
	uint8_t nonce[16], sig[16];
	uint64_t expires;
	struct seen *next;
};

struct sig_auth {
	struct seen *b[SIG_AUTH_BUCKETS];
	size_t n;
};

struct sig_auth *sig_auth_new(void)
{
	return calloc(1, sizeof(struct sig_auth));
}

void sig_auth_free(struct sig_auth *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < SIG_AUTH_BUCKETS; i++)
		while (a->b[i]) {
			struct seen *x = a->b[i];
			a->b[i] = x->next;
			free(x);
		}
	free(a);
}

static size_t bucket(const uint8_t nonce[16])
{
	/* Nonces are the signer's random octets: any 32 bits spread; a
	 * signer who picks them badly collides only with itself. */
	uint32_t h;
	memcpy(&h, nonce, 4);
	return h % SIG_AUTH_BUCKETS;
}

static void sweep(struct sig_auth *a, size_t i, uint64_t now)
{
	for (struct seen **pp = &a->b[i]; *pp;) {
		if ((*pp)->expires < now) {
			struct seen *x = *pp;
			*pp = x->next;
			free(x);
			a->n--;
		} else {
			pp = &(*pp)->next;
		}
	}
}

static enum sig_auth_result remember(struct sig_auth *a, const struct wire_sig_request *q, uint64_t now)
{
	size_t i = bucket(q->nonce);
	sweep(a, i, now);
	for (struct seen *x = a->b[i]; x; x = x->next)
		if (!memcmp(x->nonce, q->nonce, 16))
			return memcmp(x->sig, q->signature, 16) ? SIG_AUTH_REPLAYED : SIG_AUTH_REPEATED;
	if (a->n >= SIG_AUTH_NONCES_MAX)
		for (size_t j = 0; j < SIG_AUTH_BUCKETS; j++)
			sweep(a, j, now);
	if (a->n >= SIG_AUTH_NONCES_MAX)
		return SIG_AUTH_BUSY;
	struct seen *x = malloc(sizeof(*x));
	if (!x)
		return SIG_AUTH_BUSY;
	memcpy(x->nonce, q->nonce, 16);
	memcpy(x->sig, q->signature, 16);
	x->expires = q->time + SIG_AUTH_WINDOW_S;
	x->next = a->b[i];
	a->b[i] = x;
	a->n++;
	return SIG_AUTH_OK;
}

/* Every filter inside who's grants: IPv4, by its destination prefix (else
 * its source's), protocol and destination ports (else source ports). */
static bool filters_granted(const struct policy_principal *who, const struct wire_sig_request *q)
{
	static const uint8_t mapped[12] = {[10] = 0xff, [11] = 0xff};
	for (size_t i = 0; i < q->n_filters; i++) {
		const struct wire_sig_filter *f = &q->filters[i];
		bool by_dst = f->dst_len > 0 || f->src_len == 0;
		const uint8_t *ip = by_dst ? f->dst : f->src;
		uint8_t len = by_dst ? f->dst_len : f->src_len;
		if (memcmp(ip, mapped, sizeof(mapped)) != 0 && len > 0)
			return false; /* IPv6: no grant names one yet */
		uint32_t addr;
		memcpy(&addr, ip + 12, 4);
		bool ports_dst = f->dport_lo || f->dport_hi;
		uint16_t lo = ports_dst ? f->dport_lo : f->sport_lo, hi = ports_dst ? f->dport_hi : f->sport_hi;
		if (!policy_may_filter(who, len ? addr : 0, len, f->proto, lo, hi))
			return false;
	}
	return true;
}

enum sig_auth_result sig_auth_check(struct sig_auth *a, const struct policy *p, const void *msg, size_t len,
				    uint64_t now, struct wire_sig_request *ret, const struct policy_principal **who)
{
	/* Large (4 KiB), and the node runs one request at a time. */
	static struct wire_sig_request q;
	if (wire_sig_parse(msg, len, &q) < 0)
		return SIG_AUTH_MALFORMED;
	const struct policy_principal *pr = policy_principal(p, q.user);
	if (!pr)
		return SIG_AUTH_UNKNOWN;
	if (!wire_sig_verify(msg, &q, pr->pk))
		return SIG_AUTH_FORGED;
	if (q.time + SIG_AUTH_WINDOW_S < now)
		return SIG_AUTH_EXPIRED;
	if (q.time > now + SIG_AUTH_WINDOW_S)
		return SIG_AUTH_FUTURE;
	/* Grants before the nonce is spent: a refused request may be fixed
	 * and signed anew, and a refusal costs no table entry. */
	if (!filters_granted(pr, &q))
		return SIG_AUTH_FILTER;
	enum sig_auth_result r = remember(a, &q, now);
	if (r != SIG_AUTH_OK && r != SIG_AUTH_REPEATED)
		return r;
	*ret = q;
	*who = pr;
	return r;
}

const char *sig_auth_why(enum sig_auth_result r)
{
	switch (r) {
	case SIG_AUTH_OK:
		return "ok";
	case SIG_AUTH_REPEATED:
		return "a retransmission of a request taken already";
	case SIG_AUTH_MALFORMED:
		return "malformed request";
	case SIG_AUTH_UNKNOWN:
		return "unknown user";
	case SIG_AUTH_FORGED:
		return "bad signature";
	case SIG_AUTH_EXPIRED:
		return "expired (signed more than 30 s ago)";
	case SIG_AUTH_FUTURE:
		return "signed in the future (more than 30 s ahead: check the clocks)";
	case SIG_AUTH_REPLAYED:
		return "replayed (another request with a nonce seen already)";
	case SIG_AUTH_BUSY:
		return "too many requests within 30 s";
	case SIG_AUTH_FILTER:
		return "a filter outside the user's granted prefixes, protocols or ports";
	}
	return "?";
}
