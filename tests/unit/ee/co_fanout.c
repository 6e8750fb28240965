// SPDX-License-Identifier: MIT
/*
 * Hostile test code object: every entry point calls itself FAN times, so a
 * capsule would run FAN^4 calls under the nesting limit (64: 16.7 million).
 * The work budget must end it in a bounded time. It counts its runs in the
 * data so a test can see how far it got.
 */
#include "anode/node.h"

#ifndef FAN
#define FAN 64
#endif

AN_INLINE int64_t fan(struct an_ctx *ctx)
{
	struct an_name self;
	uint8_t *d = an_data(ctx);

	__builtin_memcpy(&self, ctx->code, sizeof(self));
	d[0]++;
	if (d[0] == 0)
		d[1]++;
#pragma clang loop unroll(full)
	for (int i = 0; i < FAN; i++)
		an_call(&self, 0, 0);
	return 0;
}

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	if (ctx->data_len < 2)
		return -EINVAL;
	return fan(ctx);
}

AN_CALL int64_t on_call(struct an_ctx *ctx)
{
	return fan(ctx);
}
