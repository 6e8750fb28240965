// SPDX-License-Identifier: MIT
/*
 * A packet module that holds (tests/lab/test_modules.sh): UDP payloads that
 * start with "HOLD" are kept, one that starts with "FLUSH" lets them all go
 * on before itself, in order; others pass. A small cache of the kind of
 * seed 000 §3.2 (hold while the receiver is away, release when it is back).
 */
#include "anode/module.h"

AN_PACKET int64_t hold_packet(struct an_pkt_ctx *ctx)
{
	if (ctx->proto != 17 || ctx->l4_off != 20 || ctx->len < 33)
		return AN_PKT_ACCEPT;
	if (ctx->pkt[28] == 'H' && ctx->pkt[29] == 'O' && ctx->pkt[30] == 'L' && ctx->pkt[31] == 'D')
		return AN_PKT_HOLD;
	if (ctx->pkt[28] == 'F' && ctx->pkt[29] == 'L' && ctx->pkt[30] == 'U' && ctx->pkt[31] == 'S' &&
	    ctx->pkt[32] == 'H')
		return AN_PKT_RELEASE;
	return AN_PKT_ACCEPT;
}
