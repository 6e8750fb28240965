// SPDX-License-Identifier: MIT
/* Bad test code object: a loop bounded only by the data (a back edge). */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	uint64_t s = 0;
	uint16_t n = ctx->data_len;

#pragma clang loop unroll(disable)
	for (uint16_t i = 0; i < n; i++)
		s += ctx->pkt[i & AN_PKT_MASK];
	return s;
}
