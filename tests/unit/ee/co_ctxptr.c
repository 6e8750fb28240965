// SPDX-License-Identifier: MIT
/*
 * Test code object: hands a helper a pointer into the context at a fixed
 * offset (the destination field) instead of a stack buffer.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return an_send(&ctx->dst);
}
