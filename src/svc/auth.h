/* SPDX-License-Identifier: MIT */
/*
 * Authenticating signed service requests (seed 000 §4.3): the request is
 * for this node, its signer is in the policy, the Ed25519 signature is
 * good, it was signed within AUTH_WINDOW_S of now (either way: clocks
 * differ), and its nonce has not been seen within that window (a replay).
 * Checked in that order; the first failure is the answer.
 */
#ifndef SVC_AUTH_H
#define SVC_AUTH_H

#include <stdint.h>

#include "svc/policy.h"
#include "wire/wire.h"

#define AUTH_WINDOW_S 30
#define AUTH_NONCES_MAX 65536 /* nonces remembered at once: requests per window */

enum auth_result {
	AUTH_OK,
	AUTH_MALFORMED, /* does not parse */
	AUTH_OTHER_NODE, /* signed for another node */
	AUTH_UNKNOWN, /* the signer is not in the policy */
	AUTH_FORGED, /* the signature does not verify with the signer's key */
	AUTH_EXPIRED, /* signed more than AUTH_WINDOW_S ago */
	AUTH_FUTURE, /* signed more than AUTH_WINDOW_S ahead */
	AUTH_REPLAYED, /* its nonce was seen within the window */
	AUTH_BUSY, /* AUTH_NONCES_MAX requests within the window already */
};

struct svc_auth;

struct svc_auth *svc_auth_new(void);
void svc_auth_free(struct svc_auth *a);

/* Check msg (len octets) at time now (seconds since the epoch) for node.
 * AUTH_OK fills *ret and *who and remembers the nonce; anything else
 * leaves them alone. */
enum auth_result svc_auth_check(struct svc_auth *a, const struct policy *p, const char *node, const void *msg,
				size_t len, uint64_t now, struct wire_svc_request *ret,
				const struct policy_principal **who);

/* A short reason, for refusals and logs. */
const char *svc_auth_why(enum auth_result r);

#endif
