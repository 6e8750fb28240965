// SPDX-License-Identifier: MIT
/*
 * Test code object: calls itself through an_call until the node says -ELOOP;
 * every level adds one, so accept returns the nesting limit.
 */
#include "anode/node.h"

AN_INLINE int64_t again(struct an_ctx *ctx)
{
	struct an_name self;

	__builtin_memcpy(&self, ctx->code, sizeof(self));
	int64_t rc = an_call(&self, 0, 0);
	if (rc == -ELOOP)
		return 1;
	if (rc < 0)
		return rc;
	return rc + 1;
}

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return again(ctx) - 1;
}

AN_CALL int64_t on_call(struct an_ctx *ctx)
{
	return again(ctx);
}
