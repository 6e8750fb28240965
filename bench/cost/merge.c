// SPDX-License-Identifier: MIT
/*
 * Calibration (bench/helper_cost.c): a merge specification whose entry
 * points each call one bulk helper over the most samples it takes, so that
 * their time over the units they were charged is what a unit of that
 * helper costs. done is the instruction baseline: straight-line arithmetic
 * on the message, charged one unit per instruction. Built twice: with
 * -DCOST_PCM16 get_tag and merge call an_pcm16_mix and an_pcm16_make
 * (the linear sums merging nodes send each other) instead.
 */
#include "anode/concast.h"

#define CALLS 16

AN_GET_TAG int64_t cost_mix(struct an_merge_ctx *ctx)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < CALLS; i++)
#ifdef COST_PCM16
		an_pcm16_mix(ctx, 0, 0, AN_CONCAST_MSG_MAX / 2, 2);
#else
		an_mulaw_mix(ctx, 0, 0, AN_CONCAST_MSG_MAX);
#endif
	return 0;
}

AN_MERGE int64_t cost_make(struct an_merge_ctx *ctx)
{
#pragma clang loop unroll(full)
	for (int i = 0; i < CALLS; i++)
#ifdef COST_PCM16
		an_pcm16_make(ctx, 0, 0, AN_CONCAST_MSG_MAX / 2, 2);
#else
		an_mulaw_make(ctx, 0, 0, AN_CONCAST_MSG_MAX);
#endif
	return 0;
}

AN_DONE int64_t cost_insns(struct an_merge_ctx *ctx)
{
	uint64_t x = ctx->now_ns;
#pragma clang loop unroll(full)
	for (int i = 0; i < 512; i++)
		x = x * 31 + ctx->msg[i];
	return (int64_t)(x & 1);
}

AN_BUILD int64_t cost_none(struct an_merge_ctx *ctx)
{
	return 0;
}
