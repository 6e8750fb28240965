// SPDX-License-Identifier: MIT
/*
 * The concast room's EE kind: merge specifications (seed 001 Figure 1,
 * include/anode/concast.h), whose get_tag, merge, done and build entry
 * points run on a struct an_merge_ctx with the EE's common helpers and the
 * mu-law helpers below. The CLI validates code against it too.
 */
#include "concast/kind.h"

#include <string.h>

#include "anode/concast.h"
#include "core/g711.h"
#include "ee/helper.h"

/* Units per sample, from bench/helper_cost.c (about 1 ns per unit; the
 * figures are in docs/code-objects.md). Charged, with EE_COST_SIMPLE for
 * the call, before any sample is touched. */
#define MULAW_MIX_UNITS_PER_SAMPLE 2
#define MULAW_MAKE_UNITS_PER_SAMPLE 2
#define PCM16_UNITS_PER_SAMPLE 2
#define PCM16_SHIFT_MAX 15

/* Whether [off, off + n) lies inside a buffer of size octets. */
static bool in_bounds(uint64_t off, uint64_t n, size_t size)
{
	return off <= size && n <= size - off;
}

/* n samples at msg[moff] and n 32-bit sums at state[soff], inside ctx. */
static bool mulaw_in_bounds(const struct an_merge_ctx *ctx, uint64_t moff, uint64_t soff, uint64_t n)
{
	return in_bounds(moff, n, sizeof(ctx->msg)) && n <= sizeof(ctx->state) / 4 &&
	       in_bounds(soff, n * 4, sizeof(ctx->state));
}

/* Add v to the 32-bit sum at p (unaligned, host order). Sums persist
 * across messages: they saturate, never overflow. */
static inline void sum_add(uint8_t *p, int64_t v)
{
	int32_t sum;
	memcpy(&sum, p, 4);
	int64_t s = (int64_t)sum + v;
	sum = s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
	memcpy(p, &sum, 4);
}

EE_HELPER(concast_h_mulaw_mix)
{
	struct an_merge_ctx *ctx = (struct an_merge_ctx *)(uintptr_t)a1;
	uint64_t soff = a2, moff = a3, n = a4;
	EE_CHARGE(EE_COST_SIMPLE);
	if (!mulaw_in_bounds(ctx, moff, soff, n))
		return EE_RET(-EINVAL);
	EE_CHARGE(n * MULAW_MIX_UNITS_PER_SAMPLE);
	for (uint64_t i = 0; i < n; i++) {
		sum_add(ctx->state + soff + 4 * i, g711_ulaw_decode(ctx->msg[moff + i]));
	}
	return 0;
}

EE_HELPER(concast_h_mulaw_make)
{
	struct an_merge_ctx *ctx = (struct an_merge_ctx *)(uintptr_t)a1;
	uint64_t moff = a2, soff = a3, n = a4;
	EE_CHARGE(EE_COST_SIMPLE);
	if (!mulaw_in_bounds(ctx, moff, soff, n))
		return EE_RET(-EINVAL);
	EE_CHARGE(n * MULAW_MAKE_UNITS_PER_SAMPLE);
	for (uint64_t i = 0; i < n; i++) {
		int32_t sum;
		memcpy(&sum, ctx->state + soff + 4 * i, 4);
		ctx->msg[moff + i] = g711_ulaw_encode(sum);
	}
	return 0;
}

/* n 16-bit samples at msg[moff] and n 32-bit sums at state[soff]. */
static bool pcm16_in_bounds(const struct an_merge_ctx *ctx, uint64_t moff, uint64_t soff, uint64_t n)
{
	return n <= sizeof(ctx->msg) / 2 && in_bounds(moff, n * 2, sizeof(ctx->msg)) &&
	       in_bounds(soff, n * 4, sizeof(ctx->state));
}

/* Linear partial sums between merging nodes (issue 18: a cascade adds
 * what the nodes before it added, exactly, and only the receiver's node
 * encodes μ-law). Big-endian on the wire, like every number in a message. */
EE_HELPER(concast_h_pcm16_mix)
{
	struct an_merge_ctx *ctx = (struct an_merge_ctx *)(uintptr_t)a1;
	uint64_t soff = a2, moff = a3, n = a4, shift = a5;
	EE_CHARGE(EE_COST_SIMPLE);
	if (!pcm16_in_bounds(ctx, moff, soff, n) || shift > PCM16_SHIFT_MAX)
		return EE_RET(-EINVAL);
	EE_CHARGE(n * PCM16_UNITS_PER_SAMPLE);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *p = ctx->msg + moff + 2 * i;
		sum_add(ctx->state + soff + 4 * i, (int64_t)(int16_t)(p[0] << 8 | p[1]) * ((int64_t)1 << shift));
	}
	return 0;
}

EE_HELPER(concast_h_pcm16_make)
{
	struct an_merge_ctx *ctx = (struct an_merge_ctx *)(uintptr_t)a1;
	uint64_t moff = a2, soff = a3, n = a4, shift = a5;
	EE_CHARGE(EE_COST_SIMPLE);
	if (!pcm16_in_bounds(ctx, moff, soff, n) || shift > PCM16_SHIFT_MAX)
		return EE_RET(-EINVAL);
	EE_CHARGE(n * PCM16_UNITS_PER_SAMPLE);
	uint64_t clamped = 0;
	for (uint64_t i = 0; i < n; i++) {
		int32_t sum;
		memcpy(&sum, ctx->state + soff + 4 * i, 4);
		int32_t v = sum >> shift; /* arithmetic: gcc and clang, and C23 */
		if (v > INT16_MAX || v < INT16_MIN) {
			v = v > 0 ? INT16_MAX : INT16_MIN;
			clamped++;
		}
		ctx->msg[moff + 2 * i] = (uint8_t)((uint16_t)v >> 8);
		ctx->msg[moff + 2 * i + 1] = (uint8_t)v;
	}
	return clamped;
}

static const struct rte_bpf_xsym merge_xsym[] = {
    EE_XSYM_COMMON,
    EE_FUNC("an_mulaw_mix", concast_h_mulaw_mix, 4, EE_ARG_PTR(struct an_merge_ctx), EE_ARG_RAW, EE_ARG_RAW,
	    EE_ARG_RAW),
    EE_FUNC("an_mulaw_make", concast_h_mulaw_make, 4, EE_ARG_PTR(struct an_merge_ctx), EE_ARG_RAW, EE_ARG_RAW,
	    EE_ARG_RAW),
    EE_FUNC("an_pcm16_mix", concast_h_pcm16_mix, 5, EE_ARG_PTR(struct an_merge_ctx), EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW,
	    EE_ARG_RAW),
    EE_FUNC("an_pcm16_make", concast_h_pcm16_make, 5, EE_ARG_PTR(struct an_merge_ctx), EE_ARG_RAW, EE_ARG_RAW,
	    EE_ARG_RAW, EE_ARG_RAW),
};

/* Figure 1 of seed 001: every entry point is required. */
static const char *const merge_sections[] = {"get_tag", "merge", "done", "build"};

const struct ee_kind concast_kind_merge = {
    .name = "merge",
    .sections = merge_sections,
    .n_sections = 4,
    .required = 0xf,
    .main = CONCAST_MERGE_GET_TAG,
    .init = -1,
    .fini = -1,
    .call = -1,
    .ctx_size = sizeof(struct an_merge_ctx),
    .xsym = merge_xsym,
    .n_xsym = sizeof(merge_xsym) / sizeof(merge_xsym[0]),
};
