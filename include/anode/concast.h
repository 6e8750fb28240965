/* SPDX-License-Identifier: MIT */
/*
 * Concast (seed 001, docs/concast.md): many senders, one merged message.
 *
 * A flow is (G, R, A): a concast group address G that stands for the
 * senders, the receiver's node R, and an application id A. The receiver
 * supplies a merge specification, an eBPF code object of its own kind with
 * four entry points; the nodes on the way from the senders to R keep a flow
 * state block per flow and merge the senders' messages with it:
 *
 *   tag = get_tag(ctx)   which messages merge together (equal tags do);
 *                        negative: drop the message (late, malformed)
 *   merge(ctx)           fold ctx->msg into ctx->state, the tag's merge state
 *   done(ctx)            AN_MERGE_WAIT, AN_MERGE_SEND or AN_MERGE_DISCARD;
 *                        may set ctx->timeout_ms so that done runs again
 *                        (ctx->timed_out = 1) if stragglers do not come
 *   build(ctx)           write the merged message into ctx->msg, ctx->len
 *
 * Written in restricted C and built with `anode code build --merge`. No
 * loops: bulk work on samples goes through helpers (an_mulaw_mix,
 * an_mulaw_make); the policy (tags, timing, what to keep) is the code's.
 *
 *   #include <anode/concast.h>
 *   AN_GET_TAG int64_t tag_of(struct an_merge_ctx *ctx) { ... }
 *
 * (an entry function may not share its section's name: tag_of, not get_tag).
 *
 * Applications use libanode (an_concast_join for senders,
 * an_concast_set_merge for receivers) on their application link.
 */
#ifndef ANODE_CONCAST_H
#define ANODE_CONCAST_H

#include <stdint.h>

#include "addr.h"

#define AN_CONCAST_MSG_MAX 1024 /* octets of one concast message */
#define AN_MERGE_STATE_MAX 4096 /* octets of merge state per tag */
#define AN_MERGE_FLOW_MAX 256 /* octets of state per flow */
#define AN_CONCAST_UPSTREAM_MAX 16 /* upstream neighbours of one flow at one node */
#define AN_CONCAST_ADMIT_MAX 8 /* prefixes a receiver may admit senders from */

/* An address prefix: the first len bits of ip, 16 octets of IPv6 with IPv4
 * mapped as ::ffff:a.b.c.d, so an IPv4 /24 has len 120. Bits past len are
 * zero. */
struct an_prefix {
	uint8_t ip[16];
	uint8_t len;
};

/* A concast flow: group, receiver, application id. The group is an
 * address (IPv4 as ::ffff:a.b.c.d) with port 0; the receiver is the node
 * the receiving application is attached to. */
struct an_flow {
	struct an_addr group;
	struct an_addr receiver;
	uint32_t app_id;
};

/* What the merge entry points run on. msg is the message in (get_tag,
 * merge) and what build writes out; state is the tag's merge state (zero
 * when the tag is new); flow is the flow's own memory (zero when the flow
 * is new), kept across every run of every tag. */
struct an_merge_ctx {
	uint64_t now_ns; /* an_time_ns() when the run started */
	uint64_t tag; /* get_tag's result (merge, done, build) */
	uint32_t app_id; /* A of the flow */
	uint16_t upstream; /* the slot (0..AN_CONCAST_UPSTREAM_MAX-1) of the upstream neighbour the
			    * message came from (get_tag, merge) */
	uint16_t n_upstream; /* upstream neighbours the flow has now */
	uint16_t len; /* octets of msg: in for get_tag and merge, out for build */
	uint16_t timeout_ms; /* done: run done again after this many ms (0: no timeout) */
	uint8_t timed_out; /* done: this run is the timeout done armed */
	uint8_t fresh; /* merge: the first message of this tag (state is zero) */
	uint8_t joined; /* get_tag, merge: the first message from this upstream slot since it joined */
	uint8_t merged; /* done, build: messages merged into this tag's state so far */
	uint8_t to_receiver; /* every entry point: where what build writes goes. 1: to the receiving
			      * application (this is R's node: the last merge, encode for it); 2: to
			      * R's node, the last hop (which merges it again only with its other
			      * upstream neighbours, if any: encode compactly); 0: to another merging
			      * node (keep what the next merge needs exact) */
	uint8_t flagged; /* get_tag, merge: set it to say the message held values out of range that the
			  * specification clamped; counted per upstream neighbour (the message is kept) */
	uint8_t reserved[2];
	uint8_t flow[AN_MERGE_FLOW_MAX];
	uint8_t state[AN_MERGE_STATE_MAX];
	uint8_t msg[AN_CONCAST_MSG_MAX];
};

/* What done returns. */
enum an_merge_done {
	AN_MERGE_WAIT = 0, /* keep the state; more messages (or the timeout) will come */
	AN_MERGE_SEND = 1, /* build the message now and send it toward the receiver */
	AN_MERGE_DISCARD = 2, /* forget the tag's state, send nothing */
};

#ifdef __bpf__
#define AN_GET_TAG __attribute__((section("get_tag"), used))
#define AN_MERGE __attribute__((section("merge"), used))
#define AN_DONE __attribute__((section("done"), used))
#define AN_BUILD __attribute__((section("build"), used))

/* p += off, as pointer += scalar. librte_bpf's validator follows a pointer
 * only through pointer += scalar, and clang may emit the addition the other
 * way round (scalar += pointer: "destination is not a pointer"); mask off
 * into range first. */
#define AN_PTR_ADD(p, off) asm volatile("%0 += %1" : "+r"(p) : "r"((uint64_t)(off)))

/* Decode n μ-law octets (G.711) at ctx->msg[msg_off] and add them to n
 * 32-bit linear sums (16-bit scale, host order, saturating) at
 * ctx->state[state_off].
 * Costs 16 + 2n work units (each call, an_mulaw_make too). 0 or -EINVAL
 * when out of bounds. */
extern int64_t an_mulaw_mix(struct an_merge_ctx *ctx, uint64_t state_off, uint64_t msg_off, uint64_t n);
/* Encode n 32-bit linear sums at ctx->state[state_off], clipped to 16
 * bits, as μ-law octets at ctx->msg[msg_off]. 0 or -EINVAL. */
extern int64_t an_mulaw_make(struct an_merge_ctx *ctx, uint64_t msg_off, uint64_t state_off, uint64_t n);
/* Add n big-endian 16-bit samples at ctx->msg[msg_off], each shifted left
 * by `shift` (0..15), to n 32-bit sums at ctx->state[state_off] (saturating):
 * linear partial sums between merging nodes. 16 + 2n units. 0 or -EINVAL. */
extern int64_t an_pcm16_mix(struct an_merge_ctx *ctx, uint64_t state_off, uint64_t msg_off, uint64_t n,
			    uint64_t shift);
/* Write n 32-bit sums at ctx->state[state_off], shifted right by `shift`
 * (arithmetic) and clamped to 16 bits, as big-endian samples at
 * ctx->msg[msg_off]. The number of samples clamped (>= 0), or -EINVAL. */
extern int64_t an_pcm16_make(struct an_merge_ctx *ctx, uint64_t msg_off, uint64_t state_off, uint64_t n,
			     uint64_t shift);
/* Also offered, as in node.h: an_time_ns, an_state_get, an_state_put,
 * an_state_del (the specification's own soft state), an_log. */
#endif

#endif
