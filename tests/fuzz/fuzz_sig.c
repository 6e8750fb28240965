// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the on-path signalling messages (src/wire/sig.c),
 * which every anode node on a path parses before it knows who signed them.
 * A request that parses is built again with a fixed test key and must
 * parse back to the same fields and verify with the key's public half; a
 * response that parses takes one more entry and parses back with one more
 * entry, or marked truncated.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "wire/sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const uint8_t *data, size_t size)
{
	static uint8_t pk[32], sk[64];
	static int ready;
	static struct wire_sig_request q, q2;
	static uint8_t out[WIRE_SIG_MSG_MAX];
	if (!ready) {
		uint8_t seed[32] = {1};
		if (sodium_init() < 0)
			abort();
		crypto_sign_seed_keypair(pk, sk, seed);
		ready = 1;
	}
	if (wire_sig_parse(data, size, &q) < 0)
		return;
	if (!q.signature || q.signed_len + 4 + WIRE_SIG_SIG_LEN != size)
		abort();
	ssize_t n = wire_sig_build(out, sizeof(out), &q, sk);
	if (n < 0) {
		/* Only a message at the size limit may not fit once rebuilt in
		 * the builder's order (no field grows). */
		if (n != -EMSGSIZE)
			abort();
		return;
	}
	if (wire_sig_parse(out, (size_t)n, &q2) < 0 || !wire_sig_verify(out, &q2, pk))
		abort();
	if (q2.kind != q.kind || q2.id != q.id || q2.time != q.time || memcmp(q2.nonce, q.nonce, 16) ||
	    strcmp(q2.user, q.user) || strcmp(q2.module, q.module) || strcmp(q2.version, q.version) ||
	    q2.n_deps != q.n_deps || q2.n_filters != q.n_filters || q2.n_props != q.n_props ||
	    q2.lifetime != q.lifetime || strcmp(q2.url, q.url) || q2.size != q.size || q2.mod_kind != q.mod_kind ||
	    !an_addr_eq(&q2.origin, &q.origin) || q2.inner_len != q.inner_len ||
	    (q.inner_len && memcmp(q2.inner, q.inner, q.inner_len)))
		abort();
}

static void response(const uint8_t *data, size_t size)
{
	static struct wire_sig_response r, r2;
	static uint8_t buf[WIRE_SIG_MSG_MAX];
	if (wire_sig_response_parse(data, size, &r) < 0)
		return;
	if (r.n_entries > WIRE_SIG_ENTRIES_MAX || size > sizeof(buf))
		abort();
	memcpy(buf, data, size);
	struct wire_sig_entry e = {.has_result = true, .status = -1};
	e.address.port = 1;
	ssize_t n = wire_sig_response_push(buf, sizeof(buf), size, &e);
	if (n < 0 || wire_sig_response_parse(buf, (size_t)n, &r2) < 0)
		abort();
	if (r2.n_entries != r.n_entries + 1 && !((size_t)n == size && (r2.flags & WIRE_SIG_F_TRUNCATED)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	request(data, size);
	response(data, size);
	return 0;
}
