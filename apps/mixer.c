// SPDX-License-Identifier: MIT
/*
 * The audio mixer of seed 001 §5, as a concast merge specification: each
 * message is a 4-octet big-endian sequence number (the 60 ms interval it
 * belongs to, 31 bits) and up to 960 μ-law samples (480 in the paper: 60 ms
 * at 8000 samples/s). Messages of one interval merge: the samples are
 * summed in linear (an_mulaw_mix) and, at the receiver's node, the sum is
 * coded back to μ-law, clipped (an_mulaw_make), which is what
 * `sox -D -m -v 1 ...` does.
 *
 * Cascades stay exact (issue 18): a merging node whose output goes to
 * another merging node (ctx->to_receiver = 0) sends the interval's linear
 * sum, not μ-law: the sequence number with its top bit set, then one
 * big-endian 16-bit sample per sample in units of 4 (every μ-law value is
 * a multiple of 4 on the 16-bit scale, so the sum divides exactly; a
 * partial sum holds up to ±131068, four voices at full scale, and is
 * clamped past that). The next merge adds it as it is (an_pcm16_mix). The
 * last hop, to R's node (to_receiver = 2), and R's node itself (1) send
 * μ-law, so the link into R carries what the paper's did: the receiver's
 * mix equals sox's with any number of merging nodes, as long as R's node
 * has one upstream neighbour (with more, each one's sum is rounded to
 * μ-law once). Intervals longer than 510 samples do not fit a linear
 * message and travel as μ-law.
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
#define MIXER_LINEAR 0x80000000u /* in the sequence number: linear partial sums follow */
#define MIXER_LINEAR_MAX 510	 /* (AN_CONCAST_MSG_MAX - 4) / 2 */
#define MIXER_LINEAR_SHIFT 2	 /* linear samples are in units of 4 */

/* ctx->flow: next (8), then per upstream slot: offset (int32), run (int32). */
#define FLOW_NEXT 0
#define FLOW_SLOT(i) (8 + 8 * ((i) & (MIXER_UPSTREAMS - 1)))
/* ctx->state: who gave (bitmap, 4), samples (4), then the sums (4 each). */
#define ST_GAVE 0
#define ST_SAMPLES 4
#define ST_SUMS 16

static inline __attribute__((always_inline)) uint32_t seq_of(const struct an_merge_ctx *ctx)
{
	return (uint32_t)ctx->msg[0] << 24 | (uint32_t)ctx->msg[1] << 16 | (uint32_t)ctx->msg[2] << 8 | ctx->msg[3];
}

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
	uint32_t raw = seq_of(ctx);
	if ((raw & MIXER_LINEAR) && (ctx->len < 6 || (ctx->len & 1)))
		return -74;
	uint64_t seq = raw & ~MIXER_LINEAR;
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
	if (seq_of(ctx) & MIXER_LINEAR) {
		n /= 2;
		if (n > MIXER_LINEAR_MAX)
			n = MIXER_LINEAR_MAX;
		if (an_pcm16_mix(ctx, ST_SUMS, 4, n, MIXER_LINEAR_SHIFT) < 0)
			return -22;
	} else {
		if (n > MIXER_SAMPLES_MAX)
			n = MIXER_SAMPLES_MAX;
		if (an_mulaw_mix(ctx, ST_SUMS, 4, n) < 0)
			return -22;
	}
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
	/* Linear toward the next merge; μ-law for the receiving application. */
	uint32_t seq = (uint32_t)t & ~MIXER_LINEAR;
	int linear = !ctx->to_receiver && n <= MIXER_LINEAR_MAX;
	if (linear)
		seq |= MIXER_LINEAR;
	ctx->msg[0] = (uint8_t)(seq >> 24);
	ctx->msg[1] = (uint8_t)(seq >> 16);
	ctx->msg[2] = (uint8_t)(seq >> 8);
	ctx->msg[3] = (uint8_t)seq;
	if (linear) {
		if (an_pcm16_make(ctx, 4, ST_SUMS, n, MIXER_LINEAR_SHIFT) < 0)
			return -22;
		ctx->len = (uint16_t)(4 + 2 * n);
	} else {
		if (an_mulaw_make(ctx, 4, ST_SUMS, n) < 0)
			return -22;
		ctx->len = (uint16_t)(4 + n);
	}
	wr64(ctx->flow + FLOW_NEXT, t + 1);
	return 0;
}
