// SPDX-License-Identifier: MIT
/*
 * Test code object: overwrites every field the node filled, then forwards.
 * The node must restore the fields and forward to the destination it decoded.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	ctx->data_off = 4000;
	ctx->data_len = 60000;
	ctx->pkt_len = 1;
	ctx->hop_limit = 0;
	ctx->origin = 77;
	ctx->applink = 12345;
	ctx->prev_hop.port = 1;
	ctx->src.ip[0] = 9;
	ctx->dst.ip[15] = 0xee;
	ctx->dst.port = 2;
	ctx->code[0] ^= 0xff;
	ctx->call_op = 3;
	ctx->call_arg = 4;
	return an_forward();
}
