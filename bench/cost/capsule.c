// SPDX-License-Identifier: MIT
/*
 * Calibration (bench/helper_cost.c): a capsule whose accept entry point
 * calls one of the EE's helpers CALLS times, chosen at build time
 * (-DCOST_STATE, -DCOST_TIME, -DCOST_RESIZE, -DCOST_INFO, -DCOST_SEND,
 * -DCOST_LOG), or does straight-line arithmetic (-DCOST_INSNS: the
 * instruction baseline, charged one unit per instruction).
 */
#include "anode/node.h"

#define CALLS 64

AN_ACCEPT int64_t cost_accept(struct an_ctx *ctx)
{
#ifdef COST_INSNS
	uint64_t x = ctx->data_len;
#pragma clang loop unroll(full)
	for (int i = 0; i < 512; i++)
		x = x * 31 + ctx->pkt[i];
	return (int64_t)(x & 1);
#else
	struct an_key k __attribute__((unused)) = {0};
	struct an_val v __attribute__((unused)) = {0};
	struct an_addr dst __attribute__((unused)) = ctx->dst;
#pragma clang loop unroll(full)
	for (int i = 0; i < CALLS; i++) {
#if defined(COST_STATE)
		/* A new key each time (the bench counts runs in pkt[0..1]):
		 * inserts up to the quota, then evictions. */
		k.b[0] = (uint8_t)i;
		k.b[1] = ctx->pkt[0];
		k.b[2] = ctx->pkt[1];
		an_state_put(&k, &v);
#elif defined(COST_TIME)
		an_time_ns();
#elif defined(COST_RESIZE)
		an_resize((uint64_t)(i & 1) * 8000);
#elif defined(COST_INFO)
		an_node_info(AN_INFO_MEM_USED_KB);
#elif defined(COST_SEND)
		an_send(&dst);
#elif defined(COST_LOG)
		an_log(7, 1, 2, 3);
#endif
	}
	return 0;
#endif
}
