// SPDX-License-Identifier: MIT
/*
 * A packet module for tests/lab/test_modules.sh: on UDP packets with a
 * plain 20-octet IP header, it drops those whose payload holds "DROPME",
 * answers a payload that starts with "PING" with "PONG" on behalf of the
 * destination (the node sends it back), and lets the rest go on, counting
 * them in its soft state.
 */
#include "anode/module.h"

AN_PACKET int64_t guard_packet(struct an_pkt_ctx *ctx)
{
	if (ctx->proto != 17 || ctx->l4_off != 20 || ctx->len < 32)
		return AN_PKT_ACCEPT;
	struct an_pattern drop = { .len = 6, .b = { 'D', 'R', 'O', 'P', 'M', 'E' } };
	if (an_pkt_find(ctx, 28, &drop) >= 0)
		return AN_PKT_DROP;
	if (ctx->pkt[28] == 'P' && ctx->pkt[29] == 'I' && ctx->pkt[30] == 'N' && ctx->pkt[31] == 'G') {
		ctx->pkt[29] = 'O';
		return AN_PKT_ANSWER;
	}
	struct an_key k = { { 0 } };
	struct an_val v = { { 0 } };
	an_state_get(&k, &v);
	v.b[0]++;
	an_state_put(&k, &v);
	return AN_PKT_ACCEPT;
}
