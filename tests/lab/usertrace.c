// SPDX-License-Identifier: MIT
/*
 * A user's own trace code object, for the trace tests: it keeps the trace
 * protocol (struct trace_hdr, records that start with struct
 * trace_record_head) but collects its own figure in its own format, a
 * short text: "port=NNNNN" of each goal node. The node has no say in it.
 */
#include "anode/node.h"
#include "proto.h"

#define REC_LEN (sizeof(struct trace_record_head) + 12)

AN_ACCEPT int64_t usertrace_accept(struct an_ctx *ctx)
{
	if (ctx->data_len < sizeof(struct trace_hdr))
		return -EINVAL;
	struct trace_hdr *h = (struct trace_hdr *)an_data(ctx);
	struct an_addr here = { 0 }, to;
	an_local_addr(&here);
	if (h->phase == TRACE_NEW) {
		h->src = here;
		h->record_len = REC_LEN;
		h->n_records = 0;
		h->rtt_ns = an_time_ns();
		h->phase = TRACE_OUT;
	}
	if (h->phase == TRACE_OUT && an_is_goal() > 0) {
		uint32_t off = sizeof(struct trace_hdr) + (uint32_t)h->n_records * REC_LEN;
		if (off == ctx->data_len && an_resize(off + REC_LEN) == 0) {
			uint8_t *r = ctx->pkt + ((ctx->data_off + off) & AN_PKT_MASK);
			struct trace_record_head *head = (struct trace_record_head *)r;
			head->node = here;
			head->visit = (uint16_t)an_add_result();
			head->zero = 0;
			uint32_t port = (uint32_t)((here.port >> 8) | ((here.port & 0xff) << 8));
			uint8_t *t = r + sizeof(*head);
			t[0] = 'p', t[1] = 'o', t[2] = 'r', t[3] = 't', t[4] = '=';
			t[5] = (uint8_t)('0' + port / 10000 % 10);
			t[6] = (uint8_t)('0' + port / 1000 % 10);
			t[7] = (uint8_t)('0' + port / 100 % 10);
			t[8] = (uint8_t)('0' + port / 10 % 10);
			t[9] = (uint8_t)('0' + port % 10);
			t[10] = 0, t[11] = 0;
			h->n_records++;
		}
	}
	if (h->phase == TRACE_OUT && an_addr_eq(&here, &h->dst))
		h->phase = TRACE_BACK;
	if (h->phase == TRACE_BACK && an_addr_eq(&here, &h->src)) {
		h->phase = TRACE_DONE;
		h->rtt_ns = an_time_ns() - h->rtt_ns;
		int64_t hnd = an_call(&h->pm, PM_LOOKUP, h->port);
		if (hnd < 0)
			return hnd;
		return an_deliver((uint64_t)hnd);
	}
	to = h->phase == TRACE_OUT ? h->dst : h->src;
	return an_send(&to);
}
