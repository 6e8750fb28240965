/* SPDX-License-Identifier: MIT */
/*
 * The node interface: everything a code object sees of the node it runs on.
 *
 * A code object is restricted C compiled with `anode code build` to an eBPF
 * ELF object (see docs/code-objects.md). Its sections are entry points:
 *
 *   AN_ACCEPT  run for every capsule that names the code object (required)
 *   AN_INIT    run once when the node caches the code object
 *   AN_FINI    run once before the node evicts it
 *   AN_CALL    run when another code object calls this one with an_call()
 *
 * Each entry point receives a struct an_ctx and returns 0 (or a value for
 * AN_CALL) on success, a negative errno to have the node drop the capsule and
 * count it as a code error. Everything else goes through the helper functions
 * below; they act on the capsule being run, so none of them take the context.
 *
 * The validator (DPDK librte_bpf) refuses loops, calls between functions of
 * the object (use AN_INLINE), string literals and global variables: keep data
 * on the stack and in soft state. It also refuses reads of stack bytes it has
 * not seen written, and it does not know that a helper fills a buffer: zero
 * every buffer a helper writes into before the call
 * (`struct an_addr here = { 0 }; an_local_addr(&here);`).
 */
#ifndef ANODE_NODE_H
#define ANODE_NODE_H

#include <stdint.h>
#include "addr.h"

/* Capsule bytes a context can hold (a power of two, so that code can mask
 * offsets into range), plus slack so that a structure of up to AN_PKT_SLACK
 * bytes may be read at any masked offset. */
#define AN_PKT_MAX 8192
#define AN_PKT_MASK (AN_PKT_MAX - 1)
#define AN_PKT_SLACK 256

/* Where the capsule came from. */
#define AN_ORIGIN_NET 0 /* from a network link */
#define AN_ORIGIN_APP 1 /* inserted by an application on this node */
#define AN_ORIGIN_SELF 2 /* sent by a code object on this node to this node */

/*
 * The context of one run. The node fills it before each run; what the code
 * writes to the fields before pkt[] is ignored (the node keeps its own copy),
 * so they are a read-only view. pkt[] holds the whole capsule as received,
 * ANEP header first; the capsule's data starts at data_off. Code may change
 * the data in place and resize it with an_resize().
 */
struct an_ctx {
	uint16_t data_off; /* offset of the capsule data in pkt[] */
	uint16_t data_len; /* bytes of capsule data */
	uint16_t pkt_len; /* bytes of the whole capsule in pkt[] */
	uint8_t hop_limit; /* hops left, after this node's decrement */
	uint8_t origin; /* AN_ORIGIN_* */
	uint64_t applink; /* handle of the app link that inserted it, or 0 */
	struct an_addr prev_hop; /* the node it came from (or this node) */
	struct an_addr src; /* ANEP source option, zero if absent */
	struct an_addr dst; /* ANEP destination option, zero if absent */
	uint8_t code[32]; /* the running code object's name */
	uint16_t copies; /* extra copies this capsule may still make (its copy budget) */
	uint16_t reserved;
	uint64_t call_op; /* for AN_CALL: the caller's operation */
	uint64_t call_arg; /* for AN_CALL: the caller's argument */
	uint8_t pkt[AN_PKT_MAX + AN_PKT_SLACK];
};

/* Soft state keys and values have a fixed size, so that the validator can
 * check every pointer the code passes. Unused bytes should be zero. */
struct an_key {
	uint8_t b[16];
};
struct an_val {
	uint8_t b[64];
};

/* A code object's name: the SHA-256 of its bytes. */
struct an_name {
	uint8_t b[32];
};

/* Node figures for an_node_info() (information collection). */
enum an_info {
	AN_INFO_MEM_TOTAL_KB = 1, /* /proc/meminfo MemTotal */
	AN_INFO_MEM_AVAIL_KB = 2, /* /proc/meminfo MemAvailable */
	AN_INFO_LOAD_MILLI = 3, /* 1-minute load average x 1000 */
	AN_INFO_CAPSULES_RX = 4, /* capsules received by this node */
	AN_INFO_QUEUE_LEN = 5, /* capsules waiting at this node */
	AN_INFO_CODE_CACHED = 6, /* code objects in the cache */
	AN_INFO_LINK_CAPACITY_BPS = 7, /* the node's link capacity, bits/s (configured, or the interface's speed) */
	AN_INFO_LINK_RX_BYTES = 8, /* bytes received on the node's network link */
	AN_INFO_LINK_TX_BYTES = 9, /* bytes sent on it */
	AN_INFO_LINK_USED_BPS = 10, /* bits/s received and sent, over the last second */
	AN_INFO_MEM_USED_KB = 11, /* MemTotal - MemAvailable */
	AN_INFO_RX_NS = 12, /* an_time_ns() clock when this node received the capsule */
};

/* Log levels for an_log(). */
#define AN_LOG_ERR 3
#define AN_LOG_WARN 4
#define AN_LOG_INFO 6
#define AN_LOG_DEBUG 7

#ifdef __bpf__
/* Linux errno values the helpers return (code objects have no libc). */
#ifndef ENOENT
#define ENOENT 2
#define EINVAL 22
#define ENOSPC 28
#define EDQUOT 122
#define ELOOP 40
#define EMSGSIZE 90
#define ENOTCONN 107
#define EHOSTUNREACH 113
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif

#ifdef AN_KERNEL
/* Compiled for the kernel path: the helpers are inline code on BPF maps. */
#include "kernel.h"
#else
#define AN_ACCEPT __attribute__((section("accept"), used))
#define AN_INIT __attribute__((section("init"), used))
#define AN_FINI __attribute__((section("fini"), used))
#define AN_CALL __attribute__((section("call"), used))
#define AN_INLINE static inline __attribute__((always_inline))

/* Send this capsule toward dst: to the next hop on the route, where it runs
 * again. 0, or -EHOSTUNREACH when there is no route. The capsule leaves when
 * the run ends; at most four sends per run. The first send is the capsule
 * itself; every further one is a copy and needs one unit of the capsule's
 * copy budget (ctx->copies): past it, -EDQUOT. What is left of the budget is
 * shared out among the capsules sent. */
extern int64_t an_send(const struct an_addr *dst);
/* Send this capsule toward its ANEP destination option. */
extern int64_t an_forward(void);
/* Deliver the capsule's data to an application link. 0, or -ENOTCONN when
 * the application has gone. */
extern int64_t an_deliver(uint64_t applink);
/* This node's address. */
extern int64_t an_local_addr(struct an_addr *ret);
/* Monotonic time in nanoseconds. */
extern uint64_t an_time_ns(void);
/* Soft state of the running code object. get: 0 and *ret filled, or
 * -ENOENT. put: 0, or -ENOSPC when over quota and nothing can be evicted.
 * del: 0 or -ENOENT. State may vanish at any time. */
extern int64_t an_state_get(const struct an_key *key, struct an_val *ret);
extern int64_t an_state_put(const struct an_key *key, const struct an_val *val);
extern int64_t an_state_del(const struct an_key *key);
/* Set the length of the capsule data; bytes added are zero. 0 or -EMSGSIZE. */
extern int64_t an_resize(uint64_t data_len);
/* Run the AN_CALL entry of another cached code object with (op, arg) and
 * return what it returns; it runs on this capsule with its own soft state.
 * -ENOENT if it is not cached, -ELOOP past the nesting limit.
 *
 * Every run has a work budget shared by everything the capsule runs at a
 * node (its accept entry, the calls it makes, the calls they make): each
 * entry point costs its longest path in instructions, each helper call a
 * fixed amount. A helper called when the budget is spent does nothing and
 * returns -EDQUOT, and the node drops the capsule (drop_work_budget). */
extern int64_t an_call(const struct an_name *code, uint64_t op, uint64_t arg);
/* A node figure (enum an_info), or -EINVAL. */
extern int64_t an_node_info(uint64_t what);
/* Information collection (seed 002 §3). Whether this node is one of the
 * capsule's goal nodes (ANEP GOAL options): 1, or 0; a capsule that names
 * no goal has every node as a goal. */
extern int64_t an_is_goal(void);
/* Record this node as a result node of the capsule (an ANEP RESULT option,
 * added when the run ends); returns the visit number: 1 the first time the
 * capsule collects here, 2 the second, ... */
extern int64_t an_add_result(void);
/* Log three numbers under the code object's name at a level. */
extern int64_t an_log(uint64_t level, uint64_t a, uint64_t b, uint64_t c);
#endif /* AN_KERNEL */

/* A pointer to the capsule data. Reads and writes of up to AN_PKT_SLACK bytes
 * from it are always inside the context; check data_len before trusting. */
AN_INLINE uint8_t *an_data(struct an_ctx *ctx)
{
	return ctx->pkt + (ctx->data_off & AN_PKT_MASK);
}
#endif

#endif
