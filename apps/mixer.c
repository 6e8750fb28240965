// SPDX-License-Identifier: MIT
/*
 * The audio mixer of seed 001 §5, as a concast merge specification: each
 * message is a 4-octet big-endian sequence number (the 60 ms interval it
 * belongs to) and up to 960 μ-law samples (480 in the paper: 60 ms at
 * 8000 samples/s). Messages of one interval merge: the samples are summed
 * in 16-bit linear (an_mulaw_mix) and the sum is coded back to μ-law,
 * clipped (an_mulaw_make), which is what `sox -D -m -v 1 ...` does.
 *
 * Per flow it keeps the next interval it expects (late messages are
 * dropped; early ones wait in their own tag until their interval is sent)
 * and, per upstream neighbour (up to 16), an offset and a count of
 * consecutive messages off by one: a stream that runs one interval behind
 * or ahead MIXER_DRIFT_RUN times in a row is re-aligned (§5: "n_i is set to
 * p_i"). An interval is sent when every upstream neighbour has given to it,
 * or MIXER_WAIT_MS after its first message.
 */
#include <anode/concast.h>
#include <anode/node.h>

#define MIXER_SAMPLES_MAX 960
#define MIXER_WAIT_MS 60
#define MIXER_DRIFT_RUN 4
#define MIXER_UPSTREAMS 16

/* ctx->flow: next (8), then per upstream slot: offset (int32), run (int32). */
#define FLOW_NEXT 0
#define FLOW_SLOT(i) (8 + 8 * ((i) & (MIXER_UPSTREAMS - 1)))
/* ctx->state: who gave (bitmap, 4), samples (4), then the sums (4 each). */
#define ST_GAVE 0
#define ST_SAMPLES 4
#define ST_SUMS 16

static inline __attribute__((always_inline)) uint64_t rd64(const uint8_t *p)
{
	return *(const uint64_t *)p;
}

static inline __attribute__((always_inline)) void wr64(uint8_t *p, uint64_t v)
{
	*(uint64_t *)p = v;
}

static inline __attribute__((always_inline)) int32_t rd32(const uint8_t *p)
{
	return *(const int32_t *)p;
}

static inline __attribute__((always_inline)) void wr32(uint8_t *p, int32_t v)
{
	*(int32_t *)p = v;
}

AN_GET_TAG int64_t tag_of(struct an_merge_ctx *ctx)
{
	if (ctx->len < 5)
		return -74; /* -EBADMSG */
	uint64_t seq = (uint64_t)ctx->msg[0] << 24 | (uint64_t)ctx->msg[1] << 16 | (uint64_t)ctx->msg[2] << 8 |
		       ctx->msg[3];
	uint8_t *slot = ctx->flow;
	AN_PTR_ADD(slot, FLOW_SLOT(ctx->upstream));
	if (ctx->joined) {
		wr32(slot, 0);
		wr32(slot + 4, 0);
	}
	int64_t tag = (int64_t)seq + rd32(slot);
	int64_t next = (int64_t)rd64(ctx->flow + FLOW_NEXT);
	if (next == 0) {
		next = tag;
		wr64(ctx->flow + FLOW_NEXT, (uint64_t)next);
	}
	int32_t run = rd32(slot + 4);
	if (tag == next - 1) {
		/* Behind by one: late, unless it has been for a while. */
		run = run < 0 ? run - 1 : -1;
		if (run > -MIXER_DRIFT_RUN) {
			wr32(slot + 4, run);
			return -62; /* -ETIME: late */
		}
		wr32(slot, rd32(slot) + 1);
		wr32(slot + 4, 0);
		return tag + 1;
	}
	if (tag == next + 1) {
		run = run > 0 ? run + 1 : 1;
		if (run >= MIXER_DRIFT_RUN) {
			wr32(slot, rd32(slot) - 1);
			wr32(slot + 4, 0);
			return tag - 1;
		}
		wr32(slot + 4, run);
		return tag;
	}
	wr32(slot + 4, 0);
	if (tag < next)
		return -62; /* late: its interval was sent */
	return tag;
}

AN_MERGE int64_t merge_in(struct an_merge_ctx *ctx)
{
	uint32_t bit = 1u << (ctx->upstream & 31);
	uint32_t gave = (uint32_t)rd32(ctx->state + ST_GAVE);
	if (gave & bit)
		return -17; /* -EEXIST: this neighbour gave to this interval already */
	uint64_t n = ctx->len - 4;
	if (n > MIXER_SAMPLES_MAX)
		n = MIXER_SAMPLES_MAX;
	if (an_mulaw_mix(ctx, ST_SUMS, 4, n) < 0)
		return -22;
	wr32(ctx->state + ST_GAVE, (int32_t)(gave | bit));
	if ((int32_t)n > rd32(ctx->state + ST_SAMPLES))
		wr32(ctx->state + ST_SAMPLES, (int32_t)n);
	return 0;
}

AN_DONE int64_t is_done(struct an_merge_ctx *ctx)
{
	uint64_t next = rd64(ctx->flow + FLOW_NEXT);
	if (ctx->tag < next)
		return AN_MERGE_DISCARD; /* a later interval went first */
	if (ctx->timed_out || ctx->merged >= ctx->n_upstream)
		return AN_MERGE_SEND;
	ctx->timeout_ms = MIXER_WAIT_MS;
	return AN_MERGE_WAIT;
}

AN_BUILD int64_t build_out(struct an_merge_ctx *ctx)
{
	uint64_t n = (uint64_t)rd32(ctx->state + ST_SAMPLES);
	if (n > MIXER_SAMPLES_MAX)
		n = MIXER_SAMPLES_MAX;
	uint64_t t = ctx->tag;
	ctx->msg[0] = (uint8_t)(t >> 24);
	ctx->msg[1] = (uint8_t)(t >> 16);
	ctx->msg[2] = (uint8_t)(t >> 8);
	ctx->msg[3] = (uint8_t)t;
	if (an_mulaw_make(ctx, 4, ST_SUMS, n) < 0)
		return -22;
	ctx->len = (uint16_t)(4 + n);
	wr64(ctx->flow + FLOW_NEXT, t + 1);
	return 0;
}
