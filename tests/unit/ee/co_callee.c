// SPDX-License-Identifier: MIT
/*
 * Test code object called by others through an_call. It counts its calls in
 * its own soft state and returns (first byte of ctx->code) << 40 | count << 24
 * | op << 8 | arg, so the test sees whose name and state were active.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return 0;
}

AN_CALL int64_t on_call(struct an_ctx *ctx)
{
	struct an_key k = {0};
	struct an_val v = {0};
	uint64_t n;

	an_state_get(&k, &v);
	__builtin_memcpy(&n, v.b, sizeof(n));
	n++;
	__builtin_memcpy(v.b, &n, sizeof(n));
	an_state_put(&k, &v);
	return (int64_t)((uint64_t)ctx->code[0] << 40 | (n & 0xffff) << 24 | (ctx->call_op & 0xffff) << 8 |
			 (ctx->call_arg & 0xff));
}
