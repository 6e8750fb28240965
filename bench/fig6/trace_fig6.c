// SPDX-License-Identifier: MIT
/*
 * trace_fig6: the smallest active traceroute, for the code distribution
 * benchmark (bench/codeload.sh, seed 002 Figure 6). It speaks the trace
 * protocol of apps/trace.c (struct trace_hdr, then records that start with
 * struct trace_record_head, so that `anode trace --code` reads it) but
 * collects only the two figures Figure 6 is about: the node's processing
 * time (from its receipt of the capsule, parking while the code is fetched
 * included, to the record) and the link delay from the previous node.
 *
 * Figure 6 compares code of 1, 2 and 6 segments. Here a segment is a code
 * chunk of 1024 octets (WIRE_CODE_CHUNK), and the object's ELF size is what
 * is chunked or carried, so the smallest object must fit in 1024 octets
 * whole: ELF header, section headers and all. apps/trace.c is 3.3 KB, and
 * even a one-helper object built the usual way is 1 KB (forward.ao: 1040),
 * because every helper call costs a relocation, a symbol and its name. So
 * this object differs from the shipped ones in three ways, all on purpose
 * and all invisible to the node's behaviour:
 *
 *  - Helpers are called by their index in the node's helper table
 *    (src/ee/helpers.c, ee_xsym), `call N`, as kernel eBPF calls its
 *    helpers. librte_bpf validates such a call exactly like a relocated one
 *    (the index must name a function of the table; the argument checks are
 *    the same), and the object needs no relocations and no symbols: the
 *    build strips them all (llvm-strip --strip-all). bench/codeload.sh
 *    checks the indices below against helpers.c before it measures.
 *  - The destination and the source recognise themselves without
 *    comparing addresses: a node that sends a capsule to itself gets it
 *    back at once with origin AN_ORIGIN_SELF (node.c, send_to). So on the
 *    way out every node sends toward dst; the one that gets it back from
 *    itself is dst and turns it round; on the way back every node sends
 *    toward src, and the one that gets it back from itself is src and
 *    delivers it. (Each such loop is one extra run of this code, a few
 *    hundred ns, after the node's record is written.)
 *  - Helpers write straight into the capsule (node address into the
 *    record, source address into the header): nothing is copied through
 *    the stack.
 *
 * Larger objects are the same code padded with FIG6_PAD octets in a section
 * no entry point references ("pad"): the node loads only the entry point
 * sections (accept, init, fini, call), so the padding changes the object's
 * size, hence the chunks it is fetched in and the octets a carrying capsule
 * holds, and nothing else. bench/meson.build builds it three times.
 */
#include "anode/node.h"
#include "proto.h"

#if defined(FIG6_PAD) && FIG6_PAD > 0
__attribute__((section("pad"), used)) static const char fig6_pad[FIG6_PAD] = { 1 };
#endif

/* Indices in ee_xsym (src/ee/helpers.c). */
#define FIG6_H_AN_SEND 0
#define FIG6_H_AN_DELIVER 2
#define FIG6_H_AN_LOCAL_ADDR 3
#define FIG6_H_AN_TIME_NS 4
#define FIG6_H_AN_RESIZE 8
#define FIG6_H_AN_CALL 9
#define FIG6_H_AN_NODE_INFO 10
#define FIG6_H_AN_ADD_RESULT 12

#define FIG6_BINARY 0xff

#define FIG6_STR_(x) #x
#define FIG6_STR(x) FIG6_STR_(x)
/* `call N` with the eBPF calling convention: arguments in r1-r5, result in
 * r0, r1-r5 clobbered. */
#define HCALL0(i)                                                                                          \
	({                                                                                                 \
		register int64_t r0 asm("r0");                                                             \
		asm volatile("call " FIG6_STR(i) : "=r"(r0) : : "r1", "r2", "r3", "r4", "r5", "memory");  \
		r0;                                                                                        \
	})
#define HCALL1(i, a)                                                                                       \
	({                                                                                                 \
		register int64_t r0 asm("r0");                                                             \
		register uint64_t r1 asm("r1") = (uint64_t)(a);                                            \
		asm volatile("call " FIG6_STR(i) : "=r"(r0), "+r"(r1) : : "r2", "r3", "r4", "r5", "memory"); \
		r0;                                                                                        \
	})
#define HCALL3(i, a, b, c)                                                                                 \
	({                                                                                                 \
		register int64_t r0 asm("r0");                                                             \
		register uint64_t r1 asm("r1") = (uint64_t)(a);                                            \
		register uint64_t r2 asm("r2") = (uint64_t)(b);                                            \
		register uint64_t r3 asm("r3") = (uint64_t)(c);                                            \
		asm volatile("call " FIG6_STR(i) : "=r"(r0), "+r"(r1), "+r"(r2), "+r"(r3) : : "r4", "r5", "memory"); \
		r0;                                                                                        \
	})

/* What bench/codeload.sh reads after the record head. */
struct fig6_record {
	struct trace_record_head head;
	/* FIG6_BINARY: `anode trace --code` prints a record whose octets
	 * all look like text as a string cut at its first NUL, which would
	 * lose the figures whenever they happen to be printable; an octet
	 * that is not text keeps the record in hex. */
	uint64_t binary;
	int64_t processing_ns; /* from this node's receipt of the capsule to the record */
	int64_t delay_ns; /* from the previous node's send to this node's receipt */
};

AN_ACCEPT int64_t fig6_accept(struct an_ctx *ctx)
{
	if (ctx->data_len < sizeof(struct trace_hdr))
		return -EINVAL;
	struct trace_hdr *h = (struct trace_hdr *)an_data(ctx);

	if (ctx->origin == AN_ORIGIN_SELF) {
		if (h->phase == TRACE_BACK) { /* back at src */
			h->phase = TRACE_DONE;
			h->rtt_ns = HCALL0(FIG6_H_AN_TIME_NS) - h->rtt_ns;
			return HCALL1(FIG6_H_AN_DELIVER, HCALL3(FIG6_H_AN_CALL, &h->pm, PM_LOOKUP, h->port));
		}
		h->phase = TRACE_BACK; /* at dst: its record is in */
	} else {
		if (h->phase == TRACE_NEW) {
			HCALL1(FIG6_H_AN_LOCAL_ADDR, &h->src);
			h->record_len = sizeof(struct fig6_record);
			h->t_sent_ns = HCALL1(FIG6_H_AN_NODE_INFO, AN_INFO_RX_NS); /* no link before src */
			h->rtt_ns = HCALL0(FIG6_H_AN_TIME_NS); /* the start, until the capsule is back */
			h->phase = TRACE_OUT;
		}
		if (h->phase == TRACE_OUT) {
			/* Every node collects (the benchmark names no GOAL):
			 * the record goes at the end of the data. */
			uint32_t off = ctx->data_len;
			if (HCALL1(FIG6_H_AN_RESIZE, off + sizeof(struct fig6_record)) < 0) {
				h->truncated++;
			} else {
				struct fig6_record *r =
					(struct fig6_record *)(ctx->pkt + ((ctx->data_off + off) & AN_PKT_MASK));
				int64_t rx = HCALL1(FIG6_H_AN_NODE_INFO, AN_INFO_RX_NS);
				HCALL1(FIG6_H_AN_LOCAL_ADDR, &r->head.node);
				r->head.visit = (uint16_t)HCALL0(FIG6_H_AN_ADD_RESULT);
				r->binary = FIG6_BINARY;
				r->delay_ns = rx - (int64_t)h->t_sent_ns;
				r->processing_ns = HCALL0(FIG6_H_AN_TIME_NS) - rx;
				h->n_records++;
			}
		}
	}
	h->t_sent_ns = HCALL0(FIG6_H_AN_TIME_NS);
	return HCALL1(FIG6_H_AN_SEND, h->phase == TRACE_OUT ? &h->dst : &h->src);
}
