/* SPDX-License-Identifier: MIT */
/*
 * The node interface in the kernel: what include/anode/node.h's helpers are
 * when a code object is compiled for the kernel path (docs/kernel.md).
 *
 * `anode code build` compiles a capsule's C source twice: once for the
 * user-space EE, and once with AN_KERNEL defined, when this header replaces
 * the helper calls with inline code on BPF maps, and the build adds a TC
 * program that runs the accept entry on the capsule the node's kernel program
 * copied into a per-CPU struct an_ctx, exactly as the user node lays it out.
 * The kernel object goes into the .ao as its section "anode.kernel", so one
 * file and one SHA-256 name serve both nodes, as PAN's code objects did.
 *
 * The kernel path does what the kernel can do at line rate: one send (the
 * capsule itself, rewritten toward its next hop and forwarded by the kernel),
 * drop, soft state (a BPF LRU hash per code object), the node's address and
 * figures, time, goals. A run that needs the rest (a second send, a
 * delivery to an application, an_call, an_resize, a RESULT option, a send to
 * this node itself) is handed, untouched, to the user-space node, which runs
 * the code's user section from the start: the kernel run's soft state writes
 * before that point stay in the kernel's own state (the two paths keep their
 * state apart).
 *
 * Everything here is the ABI between the node's kernel program
 * (src/kern/anode_tc.bpf.c) and every code object's kernel section: the map
 * names, their layouts and the slot numbers. AN_KERNEL_ABI changes with it.
 */
#ifndef ANODE_KERNEL_H
#define ANODE_KERNEL_H

#include <stdint.h>
#include "node.h"

#define AN_KERNEL_ABI 1

#define AN_KERNEL_SECTION "anode.kernel" /* the kernel object inside a .ao */
#define AN_KPROGS_MAX 64		 /* slots of installed kernel programs */
#define AN_KSLOT_VERDICT 0		 /* slot 0: the node's verdict program for capsules */
#define AN_KSLOT_PKT_VERDICT 1		 /* slot 1: ... for packet modules */
#define AN_KSLOT_FIRST_CODE 2		 /* code objects from here on */
#define AN_KFILTERS_MAX 16		 /* filters whose module runs in the kernel */
#define AN_KSTATE_MAX 4096		 /* soft state entries per code object (the node may set fewer) */
#define AN_KINFO_MAX 16			 /* node figures, by enum an_info */
#define AN_KCPUS_MAX 64			 /* counter rows (CPU number & (AN_KCPUS_MAX - 1)) */
/* The skb mark bit the kernel path sets on a capsule it sent on: anode's
 * NFQUEUE rules skip packets that carry it (src/link/rules.c). */
#define AN_KMARK 0x00800000u
#define ANODE_KMARK_TEXT "0x800000/0x800000"

/* Why a run went up to the user-space node (an_kscratch.punt). */
#define AN_KPUNT_SECOND_SEND 1
#define AN_KPUNT_DELIVER 2
#define AN_KPUNT_CALL 3
#define AN_KPUNT_RESIZE 4
#define AN_KPUNT_RESULT 5
#define AN_KPUNT_NOT_V4 6

/* The node's figures and address, written by the user-space node. */
struct an_knode {
	struct an_addr local; /* the node's address (IPv4 as ::ffff:a.b.c.d, its UDP port) */
	uint32_t mark;	      /* AN_KMARK (the parent sets it) */
	uint32_t max_copies;  /* the node's max-copies */
	int64_t info[AN_KINFO_MAX]; /* an_node_info() figures, refreshed once a second */
	uint32_t flags;		    /* AN_KNODE_*: how the node's programs forward (not for code) */
	uint32_t reserved;
};
#define AN_KNODE_REDIRECT 1 /* forward by FIB lookup and redirect, past the stack */

/* A filter whose packet module runs in the kernel (an_kfilters): what the
 * user-space node's matching engine matches (link/match.h), addresses and
 * masks in network order, ports in host order, 0 = any. */
struct an_kfilter {
	uint32_t src, src_mask, dst, dst_mask;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto, active;
	uint16_t reserved;
	uint32_t slot; /* the module's program in an_kprogs */
	uint32_t id;   /* the filter, as the module sees it (an_pkt_ctx.filter) */
};

/* The node's table of loaded kernel programs (an_kcode, keyed by the first
 * 8 octets of the name). */
struct an_kcode_entry {
	uint64_t name[4]; /* the whole name */
	uint32_t slot;	  /* in an_kprogs */
	uint32_t reserved;
};

/* One run, per CPU: the context the code sees and what it asked for. */
struct an_kscratch {
	struct an_ctx ctx;
	struct an_addr dst;	 /* the destination as the node decoded it (an_forward) */
	struct an_addr send_to;	 /* the one send */
	uint64_t rx_ns;		 /* when the kernel path took the packet */
	int64_t rc;		 /* the accept entry's return value */
	uint32_t n_sends;	 /* 0 or 1 */
	uint32_t punt;		 /* AN_KPUNT_*: 0 when the kernel can finish the run */
	uint32_t is_goal;	 /* an_is_goal() */
	uint32_t anep_off;	 /* the ANEP header (UDP payload), in the skb */
	uint32_t prev_hop_at;	 /* the PREV_HOP option's value in pkt[], 0: none */
	uint32_t hop_limit_at;	 /* the HOP_LIMIT option's value in pkt[] */
	uint32_t hop_left;	 /* the hop limit after this node's decrement (the code cannot change it) */
	uint32_t copies;	 /* the copy budget, bounded by the node's max-copies */
	uint32_t pkt_len;	 /* the capsule's length */
	uint32_t reserved;
};

#if defined(__bpf__) && defined(AN_KERNEL)
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, uint32_t);
	__type(value, struct an_kscratch);
} an_kscratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, uint32_t);
	__type(value, struct an_knode);
} an_knode SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, AN_KPROGS_MAX);
	__type(key, uint32_t);
	__type(value, uint32_t);
} an_kprogs SEC(".maps");

#define AN_INLINE static inline __attribute__((always_inline))
/* The helpers are functions of their own (BPF-to-BPF calls), once per
 * object rather than inlined at every call: a kernel section the size of the
 * user section or so, which matters to code that travels in capsules. */
#define AN_KHELPER static __attribute__((noinline, unused))

#ifndef AN_KERNEL_NODE /* the node's own program has none of what follows */
/* The code object's own soft state: one map per code object. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, AN_KSTATE_MAX);
	__type(key, struct an_key);
	__type(value, struct an_val);
} an_kstate SEC(".maps");

/* The entry points: accept is the one the kernel runs; the others are
 * compiled as plain functions nobody calls. */
#define AN_ACCEPT static inline __attribute__((always_inline))
#define AN_INIT static inline __attribute__((always_inline, unused))
#define AN_FINI static inline __attribute__((always_inline, unused))
#define AN_CALL static inline __attribute__((always_inline, unused))

AN_INLINE struct an_kscratch *an_k(void)
{
	uint32_t z = 0;
	return bpf_map_lookup_elem(&an_kscratch, &z);
}

AN_INLINE struct an_knode *an_kn(void)
{
	uint32_t z = 0;
	return bpf_map_lookup_elem(&an_knode, &z);
}

AN_KHELPER int64_t an_kpunt(uint32_t why)
{
	struct an_kscratch *s = an_k();
	if (s && !s->punt)
		s->punt = why;
	return -EAGAIN;
}

AN_KHELPER int64_t an_send(const struct an_addr *dst)
{
	struct an_kscratch *s = an_k();
	if (!s)
		return -EINVAL;
	if (s->n_sends)
		return an_kpunt(AN_KPUNT_SECOND_SEND);
	const uint32_t *w = (const uint32_t *)dst->ip;
	if (w[0] | w[1] || w[2] != 0xffff0000u) /* ::ffff:a.b.c.d, as little-endian words */
		return an_kpunt(AN_KPUNT_NOT_V4);
	s->send_to = *dst;
	s->n_sends = 1;
	return 0;
}

AN_KHELPER int64_t an_forward(void)
{
	struct an_kscratch *s = an_k();
	if (!s)
		return -EINVAL;
	struct an_addr d = s->dst;
	const uint32_t *w = (const uint32_t *)&d;
	if (!(w[0] | w[1] | w[2] | w[3] | w[4]))
		return -EHOSTUNREACH;
	return an_send(&d);
}

AN_KHELPER int64_t an_deliver(uint64_t applink)
{
	return an_kpunt(AN_KPUNT_DELIVER);
}

AN_KHELPER int64_t an_local_addr(struct an_addr *ret)
{
	struct an_knode *kn = an_kn();
	if (!kn)
		return -EINVAL;
	*ret = kn->local;
	return 0;
}

AN_INLINE uint64_t an_time_ns(void)
{
	return bpf_ktime_get_ns();
}

AN_KHELPER int64_t an_state_get(const struct an_key *key, struct an_val *ret)
{
	struct an_val *v = bpf_map_lookup_elem(&an_kstate, key);
	if (!v)
		return -ENOENT;
	*ret = *v;
	return 0;
}

AN_KHELPER int64_t an_state_put(const struct an_key *key, const struct an_val *val)
{
	return bpf_map_update_elem(&an_kstate, key, val, BPF_ANY) == 0 ? 0 : -ENOSPC;
}

AN_KHELPER int64_t an_state_del(const struct an_key *key)
{
	return bpf_map_delete_elem(&an_kstate, key) == 0 ? 0 : -ENOENT;
}

AN_KHELPER int64_t an_resize(uint64_t data_len)
{
	return an_kpunt(AN_KPUNT_RESIZE);
}

AN_KHELPER int64_t an_call(const struct an_name *code, uint64_t op, uint64_t arg)
{
	return an_kpunt(AN_KPUNT_CALL);
}

AN_KHELPER int64_t an_node_info(uint64_t what)
{
	struct an_kscratch *s = an_k();
	struct an_knode *kn = an_kn();
	if (!s || !kn)
		return -EINVAL;
	if (what == AN_INFO_RX_NS)
		return (int64_t)s->rx_ns;
	if (what == 0 || what >= AN_KINFO_MAX)
		return -EINVAL;
	return kn->info[what];
}

AN_INLINE int64_t an_is_goal(void)
{
	struct an_kscratch *s = an_k();
	return s ? s->is_goal : 0;
}

AN_KHELPER int64_t an_add_result(void)
{
	return an_kpunt(AN_KPUNT_RESULT);
}

AN_INLINE int64_t an_log(uint64_t level, uint64_t a, uint64_t b, uint64_t c)
{
	return 0; /* the kernel path keeps no log */
}

/*
 * The kernel program of a code object: `anode code build` compiles the
 * source followed by AN_KERNEL_ENTRY(the accept function). It runs the
 * accept entry on the context the node's program filled, then hands the
 * packet to the node's verdict program, which carries out what the run
 * asked for (or, when the tail call cannot be made, leaves the packet to
 * the user-space node).
 */
#define AN_KERNEL_ENTRY(accept)                                                                                        \
	SEC("tc") int an_kernel_accept(struct __sk_buff *skb)                                                          \
	{                                                                                                              \
		struct an_kscratch *s = an_k();                                                                        \
		if (!s)                                                                                                \
			return TC_ACT_OK;                                                                              \
		s->rc = accept(&s->ctx);                                                                               \
		bpf_tail_call(skb, &an_kprogs, AN_KSLOT_VERDICT);                                                      \
		s->punt = s->punt ? s->punt : 0xff;                                                                    \
		return TC_ACT_OK;                                                                                      \
	}                                                                                                              \
	char _license[] SEC("license") = "Dual MIT/GPL"
#endif /* AN_KERNEL_NODE */
#endif

#endif
