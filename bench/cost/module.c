// SPDX-License-Identifier: MIT
/*
 * Calibration (bench/helper_cost.c): a packet module calling one packet
 * helper CALLS times on the packet the bench gives it. COST_FIND searches
 * from octet 64 for the pattern the bench writes at the packet's start
 * (its length in pkt[0], its octets from pkt[1]), so that the bench can
 * try the patterns that are worst for the search; COST_FIX puts the
 * checksums of the whole packet right.
 */
#include "anode/module.h"

#define CALLS 16

AN_PACKET int64_t cost_packet(struct an_pkt_ctx *ctx)
{
#ifdef COST_FIND
	struct an_pattern pat;
	pat.len = ctx->pkt[0];
	__builtin_memcpy(pat.b, ctx->pkt + 1, sizeof(pat.b));
#pragma clang loop unroll(full)
	for (int i = 0; i < CALLS; i++)
		an_pkt_find(ctx, 64, &pat);
#else
#pragma clang loop unroll(full)
	for (int i = 0; i < CALLS; i++)
		an_pkt_fix(ctx);
#endif
	return AN_PKT_ACCEPT;
}
