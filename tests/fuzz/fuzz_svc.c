/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_svc_parse, which the control module runs on
 * every request before it knows who sent it. A request that parses is
 * built again with the builder (and a fixed test key) and must parse back
 * to the same fields and the same signed octets; its signature then
 * verifies with the test key's public half.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[64];
	static int ready;
	struct wire_svc_request q, q2;
	uint8_t out[WIRE_SVC_REQUEST_MAX];

	if (!ready) {
		uint8_t seed[32] = { 1 };
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(pk, sk, seed);
		ready = 1;
	}
	if (wire_svc_parse(data, size, &q) < 0)
		return 0;
	if (q.signed_len + WIRE_SVC_SIG_LEN != size || size > WIRE_SVC_REQUEST_MAX)
		abort();
	ssize_t n = wire_svc_build(out, sizeof(out), &q, sk);
	if (n != (ssize_t)size || memcmp(out, data, q.signed_len))
		abort();
	if (wire_svc_parse(out, (size_t)n, &q2) < 0 || !wire_svc_verify(out, &q2, pk))
		abort();
	if (q2.op != q.op || q2.time != q.time || memcmp(q2.nonce, q.nonce, 16) || strcmp(q2.node, q.node) ||
	    strcmp(q2.user, q.user) || strcmp(q2.service, q.service) || strcmp(q2.params, q.params))
		abort();
	return 0;
}
