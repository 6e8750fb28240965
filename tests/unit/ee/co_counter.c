// SPDX-License-Identifier: MIT
/*
 * Test code object: soft state. Counts capsules per key, the key being the
 * first two bytes of the capsule data, and returns the new count, so that the
 * test sees what survived the quota.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	uint8_t *d = an_data(ctx);
	struct an_key k = {0};
	struct an_val v = {0};
	uint64_t n;

	if (ctx->data_len < 2)
		return -EINVAL;
	k.b[0] = d[0];
	k.b[1] = d[1];
	an_state_get(&k, &v);
	__builtin_memcpy(&n, v.b, sizeof(n));
	n++;
	__builtin_memcpy(v.b, &n, sizeof(n));
	int64_t rc = an_state_put(&k, &v);
	if (rc < 0)
		return rc;
	if (d[2] == 1) /* asked to forget the key */
		an_state_del(&k);
	return n;
}
