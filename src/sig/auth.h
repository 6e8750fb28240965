/* SPDX-License-Identifier: MIT */
/*
 * Authenticating on-path signalling requests (NetServ, seed 004 §5.2;
 * docs/wire.md §10) against the node's policy, in the scheme of service
 * requests (src/svc/auth.h): the signer is in the policy, the Ed25519
 * signature is good, it was signed within SIG_AUTH_WINDOW_S of now (either
 * way), and its nonce is new. One difference: a requester retransmits a
 * request until it is answered, so the same request again (the same nonce
 * and the same signature, which Ed25519 makes the same for the same
 * octets) is a repeat, for the node to act on as before (idempotently),
 * and only a different request with a nonce already seen is a replay.
 * Then the policy's grants: a filter the request asks for must lie inside
 * the signer's (policy_may_filter), IPv4 only for now.
 */
#ifndef SIG_AUTH_H
#define SIG_AUTH_H

#include <stdint.h>

#include "svc/policy.h"
#include "wire/sig.h"

#define SIG_AUTH_WINDOW_S 30
#define SIG_AUTH_NONCES_MAX 16384 /* requests remembered at once: per window */

enum sig_auth_result {
	SIG_AUTH_OK,
	SIG_AUTH_REPEATED, /* this request again: a retransmission */
	SIG_AUTH_MALFORMED,
	SIG_AUTH_UNKNOWN,  /* the signer is not in the policy */
	SIG_AUTH_FORGED,   /* the signature is not the signer's */
	SIG_AUTH_EXPIRED,  /* signed more than the window ago */
	SIG_AUTH_FUTURE,   /* signed more than the window ahead */
	SIG_AUTH_REPLAYED, /* another request with a nonce seen within the window */
	SIG_AUTH_BUSY,	   /* SIG_AUTH_NONCES_MAX requests within the window already */
	SIG_AUTH_FILTER,   /* a filter outside the signer's grants */
};

struct sig_auth;

struct sig_auth *sig_auth_new(void);
void sig_auth_free(struct sig_auth *a);

/* Check msg (len octets) at time now (seconds since the epoch). OK and
 * REPEATED fill *ret and *who; OK remembers the request. A TRIGGER's
 * enclosed request is checked on its own when the last node sends it. */
enum sig_auth_result sig_auth_check(struct sig_auth *a, const struct policy *p, const void *msg, size_t len,
				    uint64_t now, struct wire_sig_request *ret, const struct policy_principal **who);

/* A short reason, for the response's RESULT and the log. */
const char *sig_auth_why(enum sig_auth_result r);

#endif
