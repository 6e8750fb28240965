/* SPDX-License-Identifier: MIT */
/*
 * Packet modules (docs/services.md): eBPF code objects that a node runs on
 * every packet one filter matches, in the node itself. A module is a
 * deployed service (`service NAME module FILE` in the policy) that a user
 * activates with the filter it wants (inside the user's grants); its entry
 * point returns what becomes of the packet. Bulk work on the packet goes
 * through helpers, since eBPF has no loops here.
 *
 *   #include <anode/module.h>
 *   AN_PACKET int64_t packet(struct an_pkt_ctx *ctx) { ... return AN_PKT_ACCEPT; }
 *
 * Built like capsule code: `anode code build module.c -o module.ao`.
 */
#ifndef ANODE_MODULE_H
#define ANODE_MODULE_H

#include <stdint.h>

#include "node.h"

#define AN_MODULE_PKT_MAX 2048 /* longer packets pass without the module */

/* The packet being run on: the whole IPv4 packet in pkt[], len octets of
 * it. The module may rewrite pkt[] and len (up to AN_MODULE_PKT_MAX) for
 * AN_PKT_MODIFIED and AN_PKT_ANSWER; an_pkt_fix() puts the checksums right
 * afterwards. */
struct an_pkt_ctx {
	uint16_t len; /* octets of the packet */
	uint16_t l4_off; /* where its transport header starts (the IP header's length) */
	uint8_t proto; /* its IP protocol */
	uint8_t reserved[3];
	uint32_t filter; /* the filter that matched */
	uint8_t pkt[AN_MODULE_PKT_MAX];
};

/* What a module returns. */
enum an_pkt_verdict {
	AN_PKT_ACCEPT = 0, /* let it go on as it came */
	AN_PKT_DROP = 1, /* it goes no further */
	AN_PKT_MODIFIED = 2, /* let it go on as rewritten in ctx */
	AN_PKT_ANSWER = 3, /* send ctx's packet back where it came from (on behalf of its destination):
			    * the node swaps its addresses (and UDP/TCP ports) and fixes its checksums */
	AN_PKT_HOLD = 4, /* keep it, unchanged, until a later AN_PKT_RELEASE (at most 64 packets and
			  * AN_MODULE_HOLD_MS: then they go on, in order) */
	AN_PKT_RELEASE = 5, /* let every packet held go on, in order, then this one */
};

#define AN_MODULE_HOLD_MAX 64
#define AN_MODULE_HOLD_MS 2000

/* Custom probes (docs/services.md): a code object whose probe entry point
 * the node runs once a second; what it returns (when not negative) is the
 * probe's reading, published as USER.SERVICE for services to subscribe to
 * ("custom name=USER.SERVICE ..."). It may read the node's figures
 * (an_node_info), keep soft state, and log. */
struct an_probe_ctx {
	uint64_t now_ns; /* an_time_ns() when this run started */
	uint64_t runs; /* how many runs before this one */
};

/* A pattern to search for: its first len octets (at most 32). */
struct an_pattern {
	uint8_t len;
	uint8_t b[32];
};

/* The kernel path's run of a packet module (docs/kernel.md): the node's
 * program copies the matched packet here, per CPU. */
struct an_kpkt {
	struct an_pkt_ctx ctx;
	int64_t rc;	  /* the packet entry's return value */
	uint32_t len;	  /* the packet's length as it came */
	uint32_t punt;	  /* the run went up (a helper the kernel does not offer) */
	uint32_t findex;  /* the node's: the entry of its filter table that matched */
};

#if defined(__bpf__) && defined(AN_KERNEL)
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, uint32_t);
	__type(value, struct an_kpkt);
} an_kpkt SEC(".maps");

#define AN_PACKET static inline __attribute__((always_inline))
#define AN_PROBE static inline __attribute__((always_inline, unused))

#ifndef AN_KERNEL_NODE
/* Searching and checksums go up for now: a module that calls them runs
 * in user space for that packet. */
AN_KHELPER int64_t an_pkt_find(const struct an_pkt_ctx *ctx, uint64_t off, const struct an_pattern *pat)
{
	return an_kpunt(AN_KPUNT_CALL);
}
AN_KHELPER int64_t an_pkt_fix(struct an_pkt_ctx *ctx)
{
	return an_kpunt(AN_KPUNT_CALL);
}

/* The kernel program of a packet module: runs its packet entry on the
 * packet the node's program copied, then the node's module verdict. */
#define AN_KERNEL_MODULE_ENTRY(packet)                                                                                 \
	SEC("tc") int an_kernel_packet(struct __sk_buff *skb)                                                          \
	{                                                                                                              \
		uint32_t z = 0;                                                                                        \
		struct an_kpkt *kp = bpf_map_lookup_elem(&an_kpkt, &z);                                                \
		struct an_kscratch *s = an_k();                                                                        \
		if (!kp || !s)                                                                                         \
			return TC_ACT_OK;                                                                              \
		s->punt = 0;                                                                                           \
		kp->rc = packet(&kp->ctx);                                                                             \
		kp->punt = s->punt;                                                                                    \
		bpf_tail_call(skb, &an_kprogs, AN_KSLOT_PKT_VERDICT);                                                  \
		kp->punt = 0xff;                                                                                       \
		return TC_ACT_OK;                                                                                      \
	}                                                                                                              \
	char _license[] SEC("license") = "Dual MIT/GPL"
#endif
#elif defined(__bpf__)
#define AN_PACKET __attribute__((section("packet"), used))
#define AN_PROBE __attribute__((section("probe"), used))

/* The offset in ctx->pkt of the first match of pat at or after off and
 * before ctx->len, or -ENOENT. Costs 16 + 8 work units per octet searched
 * (1 for a two-octet pattern, 1/16 for one octet; docs/code-objects.md). */
extern int64_t an_pkt_find(const struct an_pkt_ctx *ctx, uint64_t off, const struct an_pattern *pat);
/* Recompute the IPv4 header checksum and the UDP or TCP checksum of
 * ctx->pkt (the IP length field from ctx->len). */
extern int64_t an_pkt_fix(struct an_pkt_ctx *ctx);
/* Also offered to modules, as in node.h: an_time_ns, an_state_get,
 * an_state_put, an_state_del (the module's own soft state), an_log. */
#endif

#endif
