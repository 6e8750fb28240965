// SPDX-License-Identifier: MIT
/*
 * flood: active flood (PAN §5.3). Capsules go from the application's node
 * to dst as fast as the application sends them. At dst each one updates the
 * flow's soft-state counters (keyed by the flow id the application chose);
 * every interval_ms one of them turns into a status capsule carrying the
 * counts back to the sender, where the portmapper delivers it. FLOOD_START
 * is answered at once (the path has the code then), and FLOOD_END with a
 * final status, so the application learns the exact count even if periodic
 * ones were lost.
 */
#include "anode/node.h"
#include "proto.h"

AN_INLINE void flow_key(struct an_key *k, const struct flood_msg *m)
{
	__builtin_memset(k, 0, sizeof(*k));
	*(uint64_t *)k->b = m->flow;
	*(uint32_t *)(k->b + 8) = *(const uint32_t *)(m->src.ip + 12);
	*(uint16_t *)(k->b + 12) = m->src.port;
}

/* Turn this capsule into a status capsule for the sender. */
AN_INLINE int64_t send_status(struct flood_msg *m, const struct flood_state *s, uint64_t now, uint32_t kind)
{
	m->kind = kind;
	m->count = s->count;
	m->bytes = s->bytes;
	m->max_seq = s->max_seq;
	m->elapsed_ns = now - s->start_ns;
	struct an_addr to = m->src;
	return an_send(&to);
}

AN_INLINE int64_t at_receiver(struct an_ctx *ctx, struct flood_msg *m)
{
	struct an_key k;
	struct an_val v = { 0 };
	struct flood_state *s = (struct flood_state *)v.b;
	uint64_t now = an_time_ns();
	flow_key(&k, m);
	if (m->kind == FLOOD_START || an_state_get(&k, &v) < 0) {
		/* A new flow, or soft state that vanished: start counting. */
		__builtin_memset(&v, 0, sizeof(v));
		s->start_ns = now;
		s->last_status_ns = now;
		s->interval_ms = m->interval_ms ? m->interval_ms : 1000;
	}
	if (m->kind == FLOOD_DATA) {
		s->count++;
		s->bytes += ctx->data_len;
		if (m->seq > s->max_seq)
			s->max_seq = m->seq;
	}
	if (m->kind == FLOOD_START) {
		/* Answer at once: the sender learns that the path has the code. */
		an_state_put(&k, &v);
		return send_status(m, s, now, FLOOD_STATUS);
	}
	if (m->kind == FLOOD_END) {
		/* The state stays (soft state: the LRU ends it), so that an END
		 * sent again because a final status was lost gets the same count. */
		an_state_put(&k, &v);
		an_resize(sizeof(struct flood_msg)); /* status needs no payload */
		return send_status(m, s, now, FLOOD_FINAL);
	}
	int due = now - s->last_status_ns >= (uint64_t)s->interval_ms * 1000000ull;
	if (due)
		s->last_status_ns = now;
	an_state_put(&k, &v);
	if (!due)
		return 0; /* counted: the capsule ends here */
	an_resize(sizeof(struct flood_msg));
	return send_status(m, s, now, FLOOD_STATUS);
}

AN_ACCEPT int64_t flood_accept(struct an_ctx *ctx)
{
	if (ctx->data_len < sizeof(struct flood_msg))
		return -EINVAL;
	struct flood_msg *m = (struct flood_msg *)an_data(ctx);
	struct an_addr here = { 0 }, to;
	an_local_addr(&here);
	if (ctx->origin == AN_ORIGIN_APP) {
		if (m->kind != FLOOD_START && m->kind != FLOOD_DATA && m->kind != FLOOD_END)
			return -EINVAL;
		m->src = here;
	}
	if (m->kind == FLOOD_STATUS || m->kind == FLOOD_FINAL) {
		if (!an_addr_eq(&here, &m->src)) {
			to = m->src;
			return an_send(&to);
		}
		int64_t h = an_call(&m->pm, PM_LOOKUP, m->port);
		if (h < 0)
			return h;
		return an_deliver((uint64_t)h);
	}
	if (an_addr_eq(&here, &m->dst))
		return at_receiver(ctx, m);
	to = m->dst;
	return an_send(&to);
}
