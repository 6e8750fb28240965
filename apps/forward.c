// SPDX-License-Identifier: MIT
/*
 * forward: the smallest useful code object. The capsule goes toward its
 * ANEP destination, hop by hop, and is delivered to nobody: the base case
 * PAN measured, and what bench/ compares with a plain C forwarder.
 */
#include "anode/node.h"

AN_ACCEPT int64_t forward_accept(struct an_ctx *ctx)
{
	struct an_addr here = { 0 };
	an_local_addr(&here);
	if (an_addr_eq(&here, &ctx->dst))
		return 0; /* arrived: consumed */
	return an_forward();
}
