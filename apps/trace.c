// SPDX-License-Identifier: MIT
/*
 * trace: the active traceroute of seed 002 (§3, Figure 4). Goes from the
 * application's node to dst and back; on the way out every goal node
 * appends a struct trace_record of its figures (link, memory, load, queue,
 * processing time, link delay), read by the node from the system, and is
 * marked as a result node. Back at the source the round trip is added and
 * the capsule is delivered through the portmapper. Another code object may
 * collect other figures in another layout: see struct trace_hdr.
 */
#include "anode/node.h"
#include "proto.h"

/* Figures are stored as the node gives them, a negative errno when it has
 * none: code objects are validated path by path, each branch doubles the
 * paths, and clamping them here would cost a branch per figure (clang turns
 * even branch-free clamps into branches). The reader interprets them. */
AN_INLINE int64_t info(uint64_t what)
{
	return an_node_info(what);
}

/* Append this node's record; 0, or a negative errno when there is no room
 * (the capsule goes on, and says it left records out). */
AN_INLINE int64_t collect(struct an_ctx *ctx, struct trace_hdr *h, const struct an_addr *here)
{
	uint32_t off = sizeof(struct trace_hdr) + (uint32_t)h->n_records * sizeof(struct trace_record);
	if (off != ctx->data_len || an_resize(off + sizeof(struct trace_record)) < 0) {
		h->truncated++;
		return 0;
	}
	int64_t visit = an_add_result();
	/* The offset is masked into the context so that the validator can
	 * bound the writes; an_resize already made it the real one. */
	struct trace_record *r = (struct trace_record *)(ctx->pkt + ((ctx->data_off + off) & AN_PKT_MASK));
	int64_t rx = info(AN_INFO_RX_NS);
	int64_t now = (int64_t)an_time_ns();
	r->head.node = *here;
	r->head.visit = (uint16_t)visit;
	r->head.zero = 0;
	r->link_capacity_bps = info(AN_INFO_LINK_CAPACITY_BPS);
	r->link_rx_bytes = info(AN_INFO_LINK_RX_BYTES);
	r->link_tx_bytes = info(AN_INFO_LINK_TX_BYTES);
	r->link_used_bps = info(AN_INFO_LINK_USED_BPS);
	r->mem_total_kb = info(AN_INFO_MEM_TOTAL_KB);
	r->mem_used_kb = info(AN_INFO_MEM_USED_KB);
	r->mem_avail_kb = info(AN_INFO_MEM_AVAIL_KB);
	r->load_milli = info(AN_INFO_LOAD_MILLI);
	r->queue_len = info(AN_INFO_QUEUE_LEN);
	r->processing_ns = now - rx;
	r->delay_ns = rx - (int64_t)h->t_sent_ns;
	h->n_records++;
	return 0;
}

AN_ACCEPT int64_t trace_accept(struct an_ctx *ctx)
{
	if (ctx->data_len < sizeof(struct trace_hdr))
		return -EINVAL;
	struct trace_hdr *h = (struct trace_hdr *)an_data(ctx);
	struct an_addr here = { 0 }, to;
	an_local_addr(&here);

	if (h->phase == TRACE_NEW) {
		if (ctx->origin != AN_ORIGIN_APP)
			return -1; /* EPERM */
		h->src = here;
		h->record_len = sizeof(struct trace_record);
		h->n_records = 0;
		h->truncated = 0;
		h->t_sent_ns = (uint64_t)info(AN_INFO_RX_NS); /* no link before the first node */
		h->rtt_ns = an_time_ns(); /* the start, until the capsule is back */
		h->phase = TRACE_OUT;
	}
	if (h->phase == TRACE_OUT) {
		if (an_is_goal() > 0)
			collect(ctx, h, &here);
		if (an_addr_eq(&here, &h->dst))
			h->phase = TRACE_BACK;
	} else if (h->phase != TRACE_BACK) {
		return -EINVAL;
	}
	if (h->phase == TRACE_BACK && an_addr_eq(&here, &h->src)) {
		h->phase = TRACE_DONE;
		h->rtt_ns = an_time_ns() - h->rtt_ns;
		int64_t hnd = an_call(&h->pm, PM_LOOKUP, h->port);
		if (hnd < 0)
			return hnd;
		return an_deliver((uint64_t)hnd);
	}
	h->t_sent_ns = an_time_ns();
	/* One send per branch, not a pointer chosen between the two fields:
	 * the kernel's verifier refuses that choice in a kernel section
	 * (docs/kernel.md). */
	if (h->phase == TRACE_OUT) {
		to = h->dst;
		return an_send(&to);
	}
	to = h->src;
	return an_send(&to);
}
