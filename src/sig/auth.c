// SPDX-License-Identifier: MIT
/*
 * Authenticating signalling requests (auth.h). The requests seen are kept
 * by nonce (src/svc/nonces.h), tagged with the first 16 octets of their
 * signature, until they would be too old to be accepted anyway.
 */
#include "sig/auth.h"
#include "svc/nonces.h"

#include <stdlib.h>
#include <string.h>

struct sig_auth {
	struct nonce_cache *nonces;
};

struct sig_auth *sig_auth_new(void)
{
	struct sig_auth *a = calloc(1, sizeof(*a));
	if (a && !(a->nonces = nonce_cache_new(SIG_AUTH_NONCES_MAX))) {
		free(a);
		return NULL;
	}
	return a;
}

void sig_auth_free(struct sig_auth *a)
{
	if (!a)
		return;
	nonce_cache_free(a->nonces);
	free(a);
}

/* Every filter inside who's grants: IPv4, by its destination prefix (else
 * its source's), protocol and destination ports (else source ports). */
static bool filters_granted(const struct policy_principal *who, const struct wire_sig_request *q)
{
	for (size_t i = 0; i < q->n_filters; i++) {
		const struct wire_sig_filter *f = &q->filters[i];
		bool by_dst = f->dst_len > 0 || f->src_len == 0;
		const uint8_t *ip = by_dst ? f->dst : f->src;
		uint8_t len = by_dst ? f->dst_len : f->src_len;
		if (!an_ip_is_v4(ip) && len > 0)
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
	/* Tagged with the signature's first octets: the same request again
	 * (Ed25519 signs the same octets the same) is a repeat. */
	enum nonce_seen seen = nonce_cache_remember(a->nonces, q.nonce, q.signature, q.time + SIG_AUTH_WINDOW_S, now);
	if (seen == NONCE_FULL)
		return SIG_AUTH_BUSY;
	if (seen == NONCE_OTHER)
		return SIG_AUTH_REPLAYED;
	*ret = q;
	*who = pr;
	return seen == NONCE_SAME ? SIG_AUTH_REPEATED : SIG_AUTH_OK;
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
