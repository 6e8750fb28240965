// SPDX-License-Identifier: MIT
/*
 * Hostile code: every entry point calls itself 64 times, so one capsule
 * would make 64^4 = 16.7 million calls under the nesting limit (100 s of
 * one node's time, measured before the work budget), and each call does
 * costly helper work (soft state writes, growing the capsule). The work
 * budget must end it within milliseconds.
 */
#include "anode/node.h"

AN_INLINE int64_t work(struct an_ctx *ctx)
{
	struct an_name self;
	struct an_key k = { 0 };
	struct an_val v = { 0 };

	__builtin_memcpy(&self, ctx->code, sizeof(self));
	k.b[0] = (uint8_t)an_time_ns();
	an_state_put(&k, &v);
	an_resize(0);
	an_resize(4096);
#pragma clang loop unroll(full)
	for (int i = 0; i < 64; i++)
		an_call(&self, 0, 0);
	return 0;
}

AN_ACCEPT int64_t fanout_accept(struct an_ctx *ctx)
{
	return work(ctx);
}

AN_CALL int64_t fanout_call(struct an_ctx *ctx)
{
	return work(ctx);
}
