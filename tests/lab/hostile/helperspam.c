// SPDX-License-Identifier: MIT
/*
 * Hostile code: as many costly helper calls as one entry point can hold
 * (soft state writes, node figures, resizes), then the same again through
 * an_call at every nesting level: the worst work per capsule we could write
 * for the budget to bound.
 */
#include "anode/node.h"

AN_INLINE int64_t spam(struct an_ctx *ctx)
{
	struct an_name self;
	struct an_key k = { 0 };
	struct an_val v = { 0 };

	__builtin_memcpy(&self, ctx->code, sizeof(self));
#pragma clang loop unroll(full)
	for (int i = 0; i < 96; i++) {
		k.b[0] = (uint8_t)i;
		k.b[1] = (uint8_t)an_time_ns();
		an_state_put(&k, &v);
		an_node_info(AN_INFO_MEM_USED_KB);
		an_resize((uint64_t)(i & 1) * 8000);
	}
	an_call(&self, 0, 0);
	an_call(&self, 0, 0);
	return 0;
}

AN_ACCEPT int64_t spam_accept(struct an_ctx *ctx)
{
	return spam(ctx);
}

AN_CALL int64_t spam_call(struct an_ctx *ctx)
{
	return spam(ctx);
}
