// SPDX-License-Identifier: MIT
/*
 * Authenticating signed requests (auth.h). The nonces seen are kept
 * (nonces.h) until their request would be too old to be accepted anyway
 * (signed time + AUTH_WINDOW_S).
 */
#include "svc/auth.h"
#include "svc/nonces.h"

#include <stdlib.h>
#include <string.h>

struct svc_auth {
	struct nonce_cache *nonces;
};

struct svc_auth *svc_auth_new(void)
{
	struct svc_auth *a = calloc(1, sizeof(*a));
	if (a && !(a->nonces = nonce_cache_new(AUTH_NONCES_MAX))) {
		free(a);
		return NULL;
	}
	return a;
}

void svc_auth_free(struct svc_auth *a)
{
	if (!a)
		return;
	nonce_cache_free(a->nonces);
	free(a);
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
	/* Any request again with a nonce seen is a replay here (no tag). */
	static const uint8_t no_tag[16];
	enum nonce_seen seen = nonce_cache_remember(a->nonces, q.nonce, no_tag, q.time + AUTH_WINDOW_S, now);
	if (seen == NONCE_FULL)
		return AUTH_BUSY;
	if (seen != NONCE_NEW)
		return AUTH_REPLAYED;
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
