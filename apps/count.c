// SPDX-License-Identifier: MIT
/*
 * A counting merge (concast's simplest use: feedback implosion, seed 001
 * §1): each message is a tag (8 octets, big-endian) and a count (4); the
 * messages of one tag merge into one whose count is their sum. A tag is
 * sent when every upstream neighbour has given to it, or COUNT_WAIT_MS
 * after its first message: so the receiver learns how many senders sent
 * each tag, in one message per tag.
 *
 * A count is bounded: a sender counts 1, a merging node at most the
 * senders behind it. One message counts at most COUNT_MAX (64, the node's
 * default upstream limit; build with `-D COUNT_MAX=N` for deeper trees);
 * a larger count is clamped to it and flagged (ctx->flagged), which the
 * node counts for the upstream neighbour that sent it (`concast flows`),
 * so one sender cannot make a tag's sum whatever it likes unseen.
 */
#include <anode/concast.h>
#include <anode/node.h>

#define COUNT_WAIT_MS 200
#ifndef COUNT_MAX
#define COUNT_MAX 64
#endif

static inline __attribute__((always_inline)) uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;
#pragma unroll
	for (int i = 0; i < 8; i++)
		if (i < n)
			v = v << 8 | p[i];
	return v;
}

AN_GET_TAG int64_t tag_of(struct an_merge_ctx *ctx)
{
	if (ctx->len != 12)
		return -74; /* -EBADMSG */
	return (int64_t)(be(ctx->msg, 8) & 0x7fffffffffffffffull);
}

AN_MERGE int64_t merge_in(struct an_merge_ctx *ctx)
{
	uint64_t *sum = (uint64_t *)ctx->state;
	uint64_t n = be(ctx->msg + 8, 4);
	if (n > COUNT_MAX) {
		n = COUNT_MAX;
		ctx->flagged = 1;
	}
	*sum += n;
	return 0;
}

AN_DONE int64_t is_done(struct an_merge_ctx *ctx)
{
	if (ctx->timed_out || ctx->merged >= ctx->n_upstream)
		return AN_MERGE_SEND;
	ctx->timeout_ms = COUNT_WAIT_MS;
	return AN_MERGE_WAIT;
}

AN_BUILD int64_t build_out(struct an_merge_ctx *ctx)
{
	uint64_t t = ctx->tag, s = *(uint64_t *)ctx->state;
#pragma unroll
	for (int i = 0; i < 8; i++)
		ctx->msg[i] = (uint8_t)(t >> (56 - 8 * i));
	if (s > 0xffffffffu)
		s = 0xffffffffu;
	ctx->msg[8] = (uint8_t)(s >> 24);
	ctx->msg[9] = (uint8_t)(s >> 16);
	ctx->msg[10] = (uint8_t)(s >> 8);
	ctx->msg[11] = (uint8_t)s;
	ctx->len = 12;
	return 0;
}
