/* SPDX-License-Identifier: MIT */
/*
 * Capsule data layouts of the code objects shipped with anode, shared by
 * the code objects (compiled for BPF) and the programs that send and read
 * their capsules (libanode, the CLI). Fields are in host byte order: these
 * capsules only travel between nodes of one architecture family (x86-64,
 * where librte_bpf JITs); a multi-architecture network would fix an order.
 */
#ifndef ANODE_APPS_PROTO_H
#define ANODE_APPS_PROTO_H

#include <stdint.h>

#include "anode/addr.h"
#include "anode/node.h"

/* ---- portmapper: port numbers bound to application links ---- */

#include "anode/portmap.h" /* libanode speaks it too: the protocol is public */

/* ---- active ping (PAN §5.2) ---- */

#define PING_NEW 0 /* as sent by the application */
#define PING_OUT 1 /* on its way to dst */
#define PING_BACK 2 /* on its way back to src */
#define PING_DONE 3 /* as delivered to the application */

struct ping_msg {
	uint32_t phase;
	uint32_t seq;
	uint32_t port; /* the application's portmapper port at src */
	uint8_t hops_out; /* links crossed on the way out */
	uint8_t hops_back;
	uint8_t hop_limit_at_dst; /* what was left when it reached dst */
	uint8_t zero;
	uint64_t t_sent_ns; /* src node clock, when the application sent it */
	uint64_t t_dst_ns; /* dst node clock (not comparable to src's) */
	uint64_t rtt_ns; /* computed at src */
	struct an_addr src;
	struct an_addr dst;
	struct an_name pm; /* the portmapper to deliver through at src */
};

/* ---- active flood (PAN §5.3) ---- */

#define FLOOD_START 1 /* starts a flow at the receiver */
#define FLOOD_DATA 2
#define FLOOD_END 3 /* asks for the final status */
#define FLOOD_STATUS 4 /* periodic status, receiver -> source */
#define FLOOD_FINAL 5 /* final status, receiver -> source */

struct flood_msg {
	uint32_t kind;
	uint32_t port; /* the application's portmapper port at src */
	uint32_t interval_ms; /* status interval, from FLOOD_START */
	uint32_t zero;
	uint64_t flow; /* random id chosen by the application */
	uint64_t seq;
	struct an_addr src;
	struct an_addr dst;
	struct an_name pm;
	/* Filled in status capsules by the receiver. */
	uint64_t count; /* data capsules received in this flow */
	uint64_t bytes; /* their capsule data bytes */
	uint64_t elapsed_ns; /* receiver time since the first capsule of the flow */
	uint64_t max_seq;
};

/* The flow's soft state at the receiver (fits struct an_val). */
struct flood_state {
	uint64_t start_ns;
	uint64_t last_status_ns;
	uint64_t count;
	uint64_t bytes;
	uint64_t max_seq;
	uint32_t interval_ms;
	uint32_t zero;
};

/* ---- active traceroute (seed 002 §3) ----
 *
 * A trace capsule goes to dst and back. On the way out, every goal node
 * (every node when the capsule names no GOAL option) appends one record to
 * the capsule's data and marks itself as a result node. The layout of the
 * records belongs to the trace code object, not to the node: the only
 * convention is that every record starts with struct trace_record_head, so
 * that a program reading someone else's records can still say where each
 * was collected. record_len is set by the code object. */

#define TRACE_NEW 0
#define TRACE_OUT 1
#define TRACE_BACK 2
#define TRACE_DONE 3

struct trace_hdr {
	uint32_t phase;
	uint32_t port; /* the application's portmapper port at src */
	struct an_addr src;
	struct an_addr dst;
	struct an_name pm;
	uint64_t t_sent_ns; /* an_time_ns() at the node that last sent it on */
	uint64_t rtt_ns; /* start time at src, then the round trip once back there */
	uint16_t n_records;
	uint16_t record_len; /* octets per record, set by the code object */
	uint16_t truncated; /* records left out for lack of room */
	uint16_t zero;
};

struct trace_record_head {
	struct an_addr node;
	uint16_t visit; /* the RESULT option's visit number */
	uint16_t zero;
};

/* The record apps/trace.c writes: the node figures seed 002 collects, as
 * an_node_info gives them (a negative errno where the node has none). */
struct trace_record {
	struct trace_record_head head;
	int64_t link_capacity_bps;
	int64_t link_rx_bytes, link_tx_bytes;
	int64_t link_used_bps; /* over the last second */
	int64_t mem_total_kb, mem_used_kb, mem_avail_kb;
	int64_t load_milli;
	int64_t queue_len;
	int64_t processing_ns; /* from this node's receipt of the capsule to the record */
	int64_t delay_ns; /* from the previous node's send to this node's receipt */
};

#endif
