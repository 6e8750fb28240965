// SPDX-License-Identifier: MIT
/* Bad test code object: reads the context at an unmasked computed offset. */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return ctx->pkt[(uint32_t)ctx->data_len * 4];
}
