// SPDX-License-Identifier: MIT
/*
 * ping: active ping (PAN §5.2). The capsule time-stamps itself at the
 * sender's node, goes to dst, turns around, and on arriving back at the
 * sender's node computes the round trip on that node's clock and delivers
 * itself to the application through the portmapper. Each node on the way
 * counts itself in the capsule, so the application sees the hop counts.
 */
#include "anode/node.h"
#include "proto.h"

AN_ACCEPT int64_t ping_accept(struct an_ctx *ctx)
{
	if (ctx->data_len < sizeof(struct ping_msg))
		return -EINVAL;
	struct ping_msg *m = (struct ping_msg *)an_data(ctx);
	struct an_addr here = { 0 }, to;
	an_local_addr(&here);

	if (m->phase == PING_NEW) {
		if (ctx->origin != AN_ORIGIN_APP)
			return -1; /* EPERM: only an application starts a ping */
		m->t_sent_ns = an_time_ns();
		m->src = here;
		m->phase = PING_OUT;
	} else if (m->phase == PING_OUT) {
		m->hops_out++;
	} else if (m->phase == PING_BACK) {
		m->hops_back++;
	} else {
		return -EINVAL;
	}

	if (m->phase == PING_OUT && an_addr_eq(&here, &m->dst)) {
		m->t_dst_ns = an_time_ns();
		m->hop_limit_at_dst = ctx->hop_limit;
		m->phase = PING_BACK;
	}
	if (m->phase == PING_BACK && an_addr_eq(&here, &m->src)) {
		m->rtt_ns = an_time_ns() - m->t_sent_ns;
		m->phase = PING_DONE;
		int64_t h = an_call(&m->pm, PM_LOOKUP, m->port);
		if (h < 0)
			return h;
		return an_deliver((uint64_t)h);
	}
	/* One send per branch, not a pointer chosen between the two fields:
	 * the kernel's verifier refuses that choice in a kernel section
	 * (docs/kernel.md). */
	if (m->phase == PING_OUT) {
		to = m->dst;
		return an_send(&to);
	}
	to = m->src;
	return an_send(&to);
}
