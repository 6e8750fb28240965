// SPDX-License-Identifier: MIT
/*
 * The node's kernel path (docs/kernel.md): two TC programs on the ingress
 * of each router interface.
 *
 * an_dispatch reads a UDP datagram to the node's port as the user-space
 * node's capsule room does (ANEP header, options, capsule header), copies
 * it into the per-CPU struct an_ctx, takes a hop, and tail-calls the kernel
 * section of the capsule's code, found by its SHA-256 name in an_kcode.
 * Anything it does not know (not a capsule, code without a kernel section
 * here, an option it cannot read) it leaves untouched to the kernel and so
 * to the user-space node's NFQUEUE rule: the kernel path only ever takes
 * work away from the user node, never refuses what the user node would
 * take.
 *
 * an_verdict (slot 0 of an_kprogs) runs after the code and carries out its
 * verdict: drop, or send on: the capsule written back with the hop limit,
 * copy budget and previous hop the user node would write, the IP
 * destination and UDP port rewritten toward the next hop (IP checksum
 * updated, UDP checksum zero, as the user node's verdict does), and the
 * skb marked so that the NFQUEUE rule lets it pass. The kernel routes it,
 * taking its TTL as for any packet.
 */
#define AN_KERNEL 1
#define AN_KERNEL_NODE 1
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "anode/node.h"
#include "anode/module.h"
#include "kern/kcounters.h"
#include "link/xsk_frame.h"

/* Installed kernel programs, by the first 8 octets of their name (a cheaper
 * hash than all 32), the whole name checked in the value. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, AN_KPROGS_MAX);
	__type(key, __u64);
	__type(value, struct an_kcode_entry);
} an_kcode SEC(".maps");

/* Filters whose packet module runs here, in the order they were installed:
 * the first that matches takes the packet, as the first NFQUEUE rule does. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_KFILTERS_MAX);
	__type(key, __u32);
	__type(value, struct an_kfilter);
} an_kfilters SEC(".maps");

/* The matching engine's filters, by id, for the XDP program that sends
 * what they match up to the node by AF_XDP (an_xdp_up); an_xtop holds one
 * past the highest id in use, so that the walk stops there. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XSK_FILTERS_MAX);
	__type(key, __u32);
	__type(value, struct an_kfilter);
} an_xfilters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} an_xtop SEC(".maps");

/* The node's AF_XDP sockets (the node child puts each in once it is bound;
 * closing one takes it out), at the slot an_xports gives for an interface
 * and receive queue (ifindex << 32 | queue). */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, XSK_PORTS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} an_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XSK_PORTS_MAX);
	__type(key, __u64);
	__type(value, __u32);
} an_xports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, AN_KCPUS_MAX);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct kern_counters);
} an_kcounters SEC(".maps");

#define OPT_SRC 1
#define OPT_DST 2
#define OPT_PREV_HOP 0x100
#define OPT_HOP_LIMIT 0x101
#define OPT_GOAL 0x102
#define OPT_RESULT 0x103
#define OPT_KNOWN(t) ((t) == 3 || (t) == 4 || (t) == 0x104)
#define OPT_MAX 64 /* options read: SRC, DST, PREV_HOP, HOP_LIMIT, 16 goals, 32 results and some */
#define HDR_MASK 1023 /* ANEP headers the kernel path reads: up to 1 KiB */
#define CAPSULE_HDR 56

/* A row per CPU: TC programs on one CPU do not interleave (they run with
 * bottom halves off), so a plain increment is enough. */
static __always_inline void count(enum kern_counter c)
{
	__u32 cpu = bpf_get_smp_processor_id() & (AN_KCPUS_MAX - 1);
	struct kern_counters *row = bpf_map_lookup_elem(&an_kcounters, &cpu);
	if (row)
		row->c[c]++;
}

static __always_inline __u16 be16at(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* An address option's value (type, port, IPv6) as a struct an_addr. */
static __always_inline void addr_at(const __u8 *v, struct an_addr *a)
{
	__builtin_memcpy(&a->port, v + 2, 2);
	__builtin_memcpy(a->ip, v + 4, 16);
	a->zero = 0;
}

static __always_inline int addr_eq(const struct an_addr *a, const struct an_addr *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

/* The FIB question for an IPv4 packet come in by ifindex (ports in
 * network order, 0 when it has none): the TC path's redirect and the XDP
 * program, which passes the answer up with the frame, ask it alike. */
static __always_inline int fib_ask(void *ctx, struct bpf_fib_lookup *fib, const struct iphdr *iph, __u16 sport,
				   __u16 dport, __u32 ifindex)
{
	*fib = (struct bpf_fib_lookup){
	    .family = 2 /* AF_INET */,
	    .l4_protocol = iph->protocol,
	    .sport = sport,
	    .dport = dport,
	    .tot_len = bpf_ntohs(iph->tot_len),
	    .ifindex = ifindex,
	    .tos = iph->tos,
	    .ipv4_src = iph->saddr,
	    .ipv4_dst = iph->daddr,
	};
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0) == BPF_FIB_LKUP_RET_SUCCESS;
}

/*
 * Forward as a router does, without the stack (AN_KNODE_REDIRECT): the
 * kernel's FIB and neighbour table give the next hop, the TTL and its
 * checksum are taken here, and the packet leaves by that interface:
 * TC_ACT_REDIRECT. What the FIB cannot answer at once (no neighbour yet, a
 * local destination, a packet to fragment, a TTL about to run out: ICMP is
 * the stack's) returns -1, for the stack.
 */
static __always_inline long redirect(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *iph = data + ETH_HLEN;
	if ((void *)(iph + 1) > end || iph->ttl <= 1)
		return -1;
	__u16 sport = 0, dport = 0;
	if (iph->protocol == 17 || iph->protocol == 6) {
		struct udphdr *uh = (void *)iph + iph->ihl * 4;
		if ((void *)(uh + 1) > end)
			return -1;
		sport = uh->source;
		dport = uh->dest;
	}
	struct bpf_fib_lookup fib;
	if (!fib_ask(skb, &fib, iph, sport, dport, skb->ingress_ifindex))
		return -1;
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	iph = data + ETH_HLEN;
	if ((void *)(iph + 1) > end)
		return -1;
	/* TTL - 1, and its checksum: the TTL is the high octet of its
	 * 16-bit word (RFC 1624). */
	__u32 c = (__u16)~iph->check + (__u16)~bpf_htons(iph->ttl << 8) + (__u16)bpf_htons((iph->ttl - 1) << 8);
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	iph->check = (__u16)~c;
	iph->ttl--;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	count(KERN_C_redirected);
	return bpf_redirect(fib.ifindex, 0);
}

/* A packet the kernel path is done with goes on: redirected, or through
 * the stack marked, so that anode's NFQUEUE rules let it by. */
static __always_inline int send_on(struct __sk_buff *skb, const struct an_knode *kn)
{
	if (kn->flags & AN_KNODE_REDIRECT) {
		long rc = redirect(skb);
		if (rc >= 0)
			return (int)rc;
	}
	skb->mark |= kn->mark;
	return TC_ACT_OK;
}

/* The filter walk: the packet's fields, and the first filter that matches. */
struct filter_walk {
	__u32 src, dst;
	__u16 sport, dport;
	__u8 proto;
	__s32 hit; /* its index, or -1 */
};

/* Whether filter f (an entry of either table) takes the walk's packet. */
static __always_inline int filter_takes(const struct an_kfilter *f, const struct filter_walk *w)
{
	if (!f || !f->active)
		return 0;
	if ((w->src & f->src_mask) != f->src || (w->dst & f->dst_mask) != f->dst || (f->proto && f->proto != w->proto))
		return 0;
	if ((f->sport_lo || f->sport_hi) && (w->sport < f->sport_lo || w->sport > f->sport_hi))
		return 0;
	if ((f->dport_lo || f->dport_hi) && (w->dport < f->dport_lo || w->dport > f->dport_hi))
		return 0;
	return 1;
}

/* One kernel module's filter against the packet (bpf_loop body). */
static long filter_one(__u32 i, void *arg)
{
	struct filter_walk *w = arg;
	if (!filter_takes(bpf_map_lookup_elem(&an_kfilters, &i), w))
		return 0;
	w->hit = (__s32)i;
	return 1;
}

/* A packet some filter matches, whose module runs here: copied into the
 * per-CPU an_pkt_ctx, then the module's program. Packets longer than a
 * module takes pass without it, as in the user-space node. */
static __always_inline int run_module(struct __sk_buff *skb, struct iphdr *iph, void *end)
{
	struct filter_walk w = {.src = iph->saddr, .dst = iph->daddr, .proto = iph->protocol, .hit = -1};
	if (iph->protocol == 17 || iph->protocol == 6) {
		struct udphdr *uh = (void *)iph + iph->ihl * 4;
		if ((void *)(uh + 1) > end)
			return TC_ACT_OK;
		w.sport = bpf_ntohs(uh->source);
		w.dport = bpf_ntohs(uh->dest);
	}
	bpf_loop(AN_KFILTERS_MAX, filter_one, &w, 0);
	if (w.hit < 0)
		return TC_ACT_OK;
	__u32 hit = (__u32)w.hit, z = 0;
	struct an_kfilter *f = bpf_map_lookup_elem(&an_kfilters, &hit);
	struct an_kpkt *kp = bpf_map_lookup_elem(&an_kpkt, &z);
	if (!f || !kp)
		return TC_ACT_OK;
	__u32 len = bpf_ntohs(iph->tot_len);
	if (len < 20 || len > AN_MODULE_PKT_MAX) {
		count(KERN_C_module_too_big);
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, ETH_HLEN, kp->ctx.pkt, len) < 0)
		return TC_ACT_OK;
	kp->ctx.len = (__u16)len;
	kp->ctx.l4_off = (__u16)(iph->ihl * 4);
	kp->ctx.proto = iph->protocol;
	kp->ctx.reserved[0] = kp->ctx.reserved[1] = kp->ctx.reserved[2] = 0;
	kp->ctx.filter = f->id;
	kp->len = len;
	kp->rc = 0;
	kp->punt = 0;
	kp->findex = hit;
	count(KERN_C_module_runs);
	bpf_tail_call(skb, &an_kprogs, f->slot);
	count(KERN_C_tail_call_failed);
	return TC_ACT_OK;
}

/* The option walk's state, between bpf_loop's calls of opt_one. */
struct opt_walk {
	struct an_kscratch *s;
	struct an_knode *kn;
	__u32 off, hdr, hop_at, prev_at, has_goal, goal_here, bad;
};

/* One ANEP option at w->off: its address into the scratch context, the
 * offsets of the options the verdict rewrites. 1 stops the walk. */
static long opt_one(__u32 i, void *arg)
{
	struct opt_walk *w = arg;
	struct an_knode *kn = w->kn;
	struct an_kscratch *s = w->s;
	if (w->off >= w->hdr)
		return 1;
	__u32 off = w->off & HDR_MASK;
	__u8 *o = s->ctx.pkt + off;
	__u16 type = be16at(o) & 0x3fff;
	__u32 olen = be16at(o + 2) * 4;
	if (olen < 4 || off + olen > w->hdr) {
		w->bad = 1;
		return 1;
	}
	if (type == OPT_SRC || type == OPT_DST || type == OPT_PREV_HOP || type == OPT_GOAL) {
		if (olen != 24 || be16at(o + 4) != 6) {
			w->bad = 1;
			return 1;
		}
		struct an_addr a = {};
		addr_at(o + 4, &a);
		if (type == OPT_SRC) {
			s->ctx.src = a;
		} else if (type == OPT_DST) {
			s->ctx.dst = a;
		} else if (type == OPT_PREV_HOP) {
			s->ctx.prev_hop = a;
			w->prev_at = off + 4;
		} else {
			w->has_goal = 1;
			w->goal_here |= addr_eq(&a, &kn->local);
		}
	} else if (type == OPT_HOP_LIMIT) {
		if (olen != 8 || o[5] != 0) {
			w->bad = 1;
			return 1;
		}
		w->hop_at = off + 4;
	} else if (type != OPT_RESULT && !OPT_KNOWN(type) && (o[0] & 0x80)) {
		w->bad = 1; /* an unknown option flagged must-know */
		return 1;
	}
	w->off = off + olen;
	return 0;
}

SEC("tc") int an_dispatch(struct __sk_buff *skb)
{
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	__u32 z = 0;
	struct an_knode *kn = bpf_map_lookup_elem(&an_knode, &z);
	struct an_kscratch *s = bpf_map_lookup_elem(&an_kscratch, &z);
	if (!kn || !s)
		return TC_ACT_OK;
	/* The headers in place (direct packet access); a packet whose headers
	 * are not in its linear part is left to the user-space node. */
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *iph = data + ETH_HLEN;
	if ((void *)(iph + 1) > end || iph->version != 4 || iph->ihl < 5 || (iph->frag_off & bpf_htons(0x3fff)))
		return TC_ACT_OK;
	if (iph->protocol != 17 /* UDP */)
		return run_module(skb, iph, end);
	__u32 l4 = ETH_HLEN + iph->ihl * 4;
	struct udphdr *uh = data + l4;
	if ((void *)(uh + 1) > end)
		return TC_ACT_OK;
	if (uh->dest != kn->local.port)
		return run_module(skb, iph, end);
	struct udphdr udp = *uh;
	__u32 saddr = iph->saddr;
	count(KERN_C_seen);
	__u32 len = bpf_ntohs(udp.len);
	if (len < 8 + 8 || len > 8 + AN_PKT_MAX) {
		count(KERN_C_not_capsule);
		return TC_ACT_OK;
	}
	len -= 8;
	__u8 *p = s->ctx.pkt;
	if (bpf_skb_load_bytes(skb, l4 + 8, p, len) < 0) {
		count(KERN_C_not_capsule);
		return TC_ACT_OK;
	}
	/* The ANEP header. */
	__u32 hdr = be16at(p + 4) * 4, plen = be16at(p + 6);
	if (p[0] != 1 || be16at(p + 2) != 0x4101 || hdr < 8 || hdr > HDR_MASK || plen < hdr + CAPSULE_HDR ||
	    plen > len) {
		count(KERN_C_not_capsule);
		return TC_ACT_OK;
	}
	/* Its options, as wire_anep_parse reads them (bpf_loop: the verifier
	 * checks the body once); anything odd is the user node's to refuse. */
	struct opt_walk w = {.s = s, .kn = kn, .off = 8, .hdr = hdr};
	__builtin_memset(&s->ctx.src, 0, sizeof(s->ctx.src));
	__builtin_memset(&s->ctx.dst, 0, sizeof(s->ctx.dst));
	bpf_loop(OPT_MAX, opt_one, &w, 0);
	if (w.bad || w.off != hdr || !w.hop_at)
		goto user;
	__u32 hop_at = w.hop_at, prev_at = w.prev_at;
	/* The capsule header. */
	__u8 *cap = p + (hdr & HDR_MASK);
	__u16 flags = be16at(cap + 52), code_len = be16at(cap + 54);
	__u32 data_off = hdr + CAPSULE_HDR + ((code_len + 3u) & ~3u);
	if (flags > 1 || (flags == 1) != (code_len > 0) || cap[50] | cap[51] || data_off > plen)
		goto user;
	__u64 key;
	__builtin_memcpy(&key, cap, 8);
	struct an_kcode_entry *ke = bpf_map_lookup_elem(&an_kcode, &key);
	const __u64 *nm = (const __u64 *)cap;
	if (!ke || ke->name[0] != nm[0] || ke->name[1] != nm[1] || ke->name[2] != nm[2] || ke->name[3] != nm[3]) {
		count(KERN_C_unknown_code);
		return TC_ACT_OK;
	}
	__u32 slot = ke->slot;
	/* The hop limit rule: the arrival takes one hop. */
	hop_at &= HDR_MASK;
	__u8 hops = p[hop_at];
	if (hops == 0) {
		count(KERN_C_drop_hop_limit);
		return TC_ACT_SHOT;
	}
	p[hop_at] = --hops;
	__u16 copies = be16at(p + hop_at + 2);
	if (copies > kn->max_copies)
		copies = (__u16)kn->max_copies;
	/* The context, as the capsule room's fill_ctx writes it. */
	struct an_ctx *ctx = &s->ctx;
	ctx->data_off = (__u16)data_off;
	ctx->data_len = (__u16)(plen - data_off);
	ctx->pkt_len = (__u16)plen;
	s->pkt_len = plen;
	ctx->hop_limit = hops;
	ctx->origin = AN_ORIGIN_NET;
	ctx->applink = 0;
	if (!prev_at) {
		struct an_addr from = {.ip = {[10] = 0xff, [11] = 0xff}, .port = udp.source};
		__builtin_memcpy(from.ip + 12, &saddr, 4);
		ctx->prev_hop = from;
	}
	__builtin_memcpy(ctx->code, cap, 32);
	ctx->copies = copies;
	ctx->reserved = 0;
	ctx->call_op = 0;
	ctx->call_arg = 0;
	s->dst = ctx->dst;
	s->rx_ns = bpf_ktime_get_ns();
	s->rc = 0;
	s->n_sends = 0;
	s->punt = 0;
	s->is_goal = !w.has_goal || w.goal_here;
	s->anep_off = l4 + 8;
	s->prev_hop_at = prev_at;
	s->hop_limit_at = hop_at;
	s->hop_left = hops;
	s->copies = copies;
	count(KERN_C_runs);
	bpf_tail_call(skb, &an_kprogs, slot);
	count(KERN_C_tail_call_failed);
	return TC_ACT_OK;
user:
	count(KERN_C_not_capsule);
	return TC_ACT_OK;
}

SEC("tc") int an_verdict(struct __sk_buff *skb)
{
	__u32 z = 0;
	struct an_knode *kn = bpf_map_lookup_elem(&an_knode, &z);
	struct an_kscratch *s = bpf_map_lookup_elem(&an_kscratch, &z);
	if (!kn || !s)
		return TC_ACT_OK;
	if (s->punt || (s->n_sends && addr_eq(&s->send_to, &kn->local))) {
		/* Untouched: the user-space node runs it from the start. */
		count(KERN_C_punted);
		return TC_ACT_OK;
	}
	if (s->rc < 0) {
		count(KERN_C_drop_code_error);
		return TC_ACT_SHOT;
	}
	if (!s->n_sends) {
		count(KERN_C_consumed);
		return TC_ACT_SHOT;
	}
	__u8 *p = s->ctx.pkt;
	/* node_may_leave: a capsule with no hop left ends here. */
	if (s->hop_left == 0) {
		count(KERN_C_drop_hop_limit);
		return TC_ACT_SHOT;
	}
	__u32 hop_at = s->hop_limit_at & HDR_MASK;
	__u16 copies = (__u16)s->copies;
	p[hop_at + 2] = copies >> 8;
	p[hop_at + 3] = copies & 0xff;
	if (s->prev_hop_at) {
		__u8 *v = p + (s->prev_hop_at & HDR_MASK);
		v[0] = 0;
		v[1] = 6;
		__builtin_memcpy(v + 2, &kn->local.port, 2);
		__builtin_memcpy(v + 4, kn->local.ip, 16);
	}
	__u32 plen = s->pkt_len;
	if (plen < 8 || plen > AN_PKT_MAX)
		return TC_ACT_SHOT;
	if (bpf_skb_store_bytes(skb, s->anep_off, p, plen, 0) < 0)
		return TC_ACT_SHOT;
	/* The headers toward the next hop, in place: the IP destination (its
	 * checksum updated as RFC 1624 says), the UDP port, no UDP checksum
	 * (as the user-space node's verdict). */
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct iphdr *iph = data + ETH_HLEN;
	if ((void *)(iph + 1) > end)
		return TC_ACT_SHOT;
	__u32 l4 = s->anep_off - 8;
	if (l4 > ETH_HLEN + 60) /* what an_dispatch found: at most a full IPv4 header on */
		return TC_ACT_SHOT;
	struct udphdr *uh = data + l4;
	if ((void *)(uh + 1) > end)
		return TC_ACT_SHOT;
	__u32 new_dst;
	__builtin_memcpy(&new_dst, s->send_to.ip + 12, 4);
	__u32 old_dst = iph->daddr;
	if (old_dst != new_dst) {
		__u32 c = (__u16)~iph->check;
		c += (__u16)~old_dst + (__u16)~(old_dst >> 16) + (__u16)new_dst + (__u16)(new_dst >> 16);
		c = (c & 0xffff) + (c >> 16);
		c = (c & 0xffff) + (c >> 16);
		iph->check = (__u16)~c;
		iph->daddr = new_dst;
	}
	uh->dest = s->send_to.port;
	uh->check = 0;
	count(KERN_C_forwarded);
	return send_on(skb, kn);
}

/* ---- a module's rewrite or answer (src/svc/module.c's, in the kernel) ---- */

/* The fields of an IPv4 header a filter names (src/svc/rewrite.c's). */
struct hdr_view {
	__u32 src, dst;
	__u16 sport, dport; /* host order */
	__u8 proto, has_ports, ok;
};

static __always_inline struct hdr_view view_of(const __u8 *p, __u32 len)
{
	struct hdr_view h = {};
	__u32 ihl = (__u32)(p[0] & 15) * 4;
	/* A fragment's ports are not where they seem: refused whole. */
	if (len < 20 || p[0] >> 4 != 4 || ihl < 20 || ihl > len || (p[6] & 0x3f) || p[7])
		return h;
	__builtin_memcpy(&h.src, p + 12, 4);
	__builtin_memcpy(&h.dst, p + 16, 4);
	h.proto = p[9];
	h.has_ports = (h.proto == 17 || h.proto == 6) && len >= ihl + 4;
	if (h.has_ports) {
		const __u8 *l4 = p + (ihl & 63);
		h.sport = be16at(l4);
		h.dport = be16at(l4 + 2);
	}
	h.ok = 1;
	return h;
}

/* svc_rewrite_allowed: a field may change only to a value its filter
 * names (an address inside a prefix it gives, a port inside its range). */
static __always_inline int grant_allows(const struct an_kfilter *f, const struct hdr_view *o, const struct hdr_view *n)
{
	if (!o->ok || !n->ok || n->proto != o->proto || n->has_ports != o->has_ports)
		return 0;
	if (n->src != o->src && !(f->src_mask && (n->src & f->src_mask) == f->src))
		return 0;
	if (n->dst != o->dst && !(f->dst_mask && (n->dst & f->dst_mask) == f->dst))
		return 0;
	if (n->sport != o->sport && !(f->sport_lo && n->sport >= f->sport_lo && n->sport <= f->sport_hi))
		return 0;
	if (n->dport != o->dport && !(f->dport_lo && n->dport >= f->dport_lo && n->dport <= f->dport_hi))
		return 0;
	return 1;
}

static __always_inline __u16 fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

/* The Internet checksum's sum over octets off..end of a module's packet
 * (in the per-CPU map), a 16-bit word per bpf_loop step, each octet's
 * index masked into the buffer: the verifier checks the step once, with
 * no relation to keep between offset and length (an unrolled or
 * bpf_csum_diff version ran past its limits). A rewrite or answer is
 * mostly a small packet (a keep-alive's); a 1400-octet one costs a few
 * microseconds here. */
struct csum_walk {
	const __u8 *pkt;
	__u32 off, end;
	__u64 sum;
};

static long csum_step(__u32 i, void *arg)
{
	struct csum_walk *c = arg;
	__u32 at = c->off + 2 * i;
	if (at >= c->end)
		return 1;
	__u32 hi = c->pkt[at & (AN_MODULE_PKT_MAX - 1)];
	__u32 lo = at + 1 < c->end ? c->pkt[(at + 1) & (AN_MODULE_PKT_MAX - 1)] : 0;
	c->sum += hi << 8 | lo;
	return 0;
}

static __always_inline __u16 csum_range(const __u8 *pkt, __u32 off, __u32 end, __u64 start)
{
	struct csum_walk c = {.pkt = pkt, .off = off, .end = end, .sum = start};
	bpf_loop(AN_MODULE_PKT_MAX / 2, csum_step, &c, 0);
	return fold(c.sum);
}

/* The IPv4 header's length field and checksum, and the UDP or TCP
 * checksum (a UDP checksum of zero, "none", stays zero), as
 * wire_ipv4_fix_checksums does. */
static __always_inline void fix_checksums(__u8 *p, __u32 len)
{
	__u32 ihl = (__u32)(p[0] & 15) * 4;
	if (ihl < 20 || ihl > 60 || len < ihl || len > AN_MODULE_PKT_MAX)
		return;
	p[2] = len >> 8;
	p[3] = len & 0xff;
	p[10] = p[11] = 0;
	__u16 c = ~csum_range(p, 0, ihl, 0);
	p[10] = c >> 8;
	p[11] = c & 0xff;
	__u8 proto = p[9];
	__u32 at = proto == 17 ? 6 : proto == 6 ? 16 : 0;
	if (!at || len < ihl + at + 2)
		return;
	__u8 *ck = p + ((ihl + at) & (AN_MODULE_PKT_MAX - 1));
	if ((void *)(ck + 2) > (void *)(p + AN_MODULE_PKT_MAX))
		return;
	if (proto == 17 && !ck[0] && !ck[1])
		return;
	if (proto == 17) {
		__u8 *l4 = p + (ihl & 63);
		l4[4] = (len - ihl) >> 8;
		l4[5] = (len - ihl) & 0xff;
	}
	ck[0] = ck[1] = 0;
	__u32 l4len = len - ihl;
	__u64 ph = (__u32)be16at(p + 12) + be16at(p + 14) + be16at(p + 16) + be16at(p + 18) + proto + l4len;
	__u16 s = ~csum_range(p, ihl, len, ph);
	if (proto == 17 && s == 0)
		s = 0xffff;
	ck[0] = s >> 8;
	ck[1] = s & 0xff;
}

/* AN_PKT_ANSWER: back where it came from, as if from its destination. */
static __always_inline void answer_swap(__u8 *p, __u32 len)
{
	__u8 t[4];
	__builtin_memcpy(t, p + 12, 4);
	__builtin_memcpy(p + 12, p + 16, 4);
	__builtin_memcpy(p + 16, t, 4);
	p[8] = 64; /* a fresh TTL, as a host's */
	__u32 ihl = (__u32)(p[0] & 15) * 4;
	if ((p[9] == 17 || p[9] == 6) && len >= ihl + 4 && ihl <= 60) {
		__u8 *l4 = p + (ihl & 63);
		__u8 a = l4[0], b = l4[1];
		l4[0] = l4[2];
		l4[1] = l4[3];
		l4[2] = a;
		l4[3] = b;
	}
}

/* A module's rewrite or answer, in the kernel: checked against its
 * filter's grant (else dropped, as the user-space node drops it), written
 * into the packet with its checksums, then sent on (a rewrite) or back out
 * of the interface it came in by, MACs swapped (an answer, the XDP_TX of
 * TC). */
static __always_inline int rewrite_or_answer(struct __sk_buff *skb, struct an_knode *kn, struct an_kpkt *kp)
{
	__u32 fi = kp->findex;
	struct an_kfilter *f = bpf_map_lookup_elem(&an_kfilters, &fi);
	__u32 len = kp->ctx.len;
	if (!f || len < 20 || len > AN_MODULE_PKT_MAX)
		return -1;
	/* The packet as it came, from the skb (its first 64 octets), and as
	 * the module left it. */
	__u8 orig[64] = {};
	__u32 olen = kp->len, head = olen;
	if (head > 64)
		head = 64;
	if (head < 20 || bpf_skb_load_bytes(skb, ETH_HLEN, orig, head) < 0)
		return -1;
	struct hdr_view o = view_of(orig, olen), n = view_of(kp->ctx.pkt, len);
	if (!grant_allows(f, &o, &n)) {
		count(KERN_C_module_refused);
		return TC_ACT_SHOT;
	}
	if (kp->rc == AN_PKT_ANSWER)
		answer_swap(kp->ctx.pkt, len);
	fix_checksums(kp->ctx.pkt, len);
	if (len != olen && bpf_skb_change_tail(skb, ETH_HLEN + len, 0) < 0)
		return -1;
	if (bpf_skb_store_bytes(skb, ETH_HLEN, kp->ctx.pkt, len, 0) < 0)
		return TC_ACT_SHOT;
	if (kp->rc == AN_PKT_MODIFIED) {
		count(KERN_C_module_modified);
		return send_on(skb, kn);
	}
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return TC_ACT_SHOT;
	__u8 mac[ETH_ALEN];
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	count(KERN_C_module_answered);
	return bpf_redirect(skb->ifindex, 0);
}

/* After a packet module's kernel program: accept (marked, so that the
 * module's NFQUEUE rule lets it by), drop, rewrite within the grant or
 * answer here; anything else (hold and release, a helper that went up)
 * goes up untouched to the user-space node, which runs the module's user
 * section on it. */
SEC("tc") int an_pkt_verdict(struct __sk_buff *skb)
{
	__u32 z = 0;
	struct an_knode *kn = bpf_map_lookup_elem(&an_knode, &z);
	struct an_kpkt *kp = bpf_map_lookup_elem(&an_kpkt, &z);
	if (!kn || !kp)
		return TC_ACT_OK;
	if (!kp->punt && (kp->rc == AN_PKT_MODIFIED || kp->rc == AN_PKT_ANSWER)) {
		int r = rewrite_or_answer(skb, kn, kp);
		if (r >= 0)
			return r;
		/* Not something the kernel can write here (a length it cannot
		 * take): the user-space node runs it from the start. */
	}
	if (kp->punt || (kp->rc != AN_PKT_ACCEPT && kp->rc != AN_PKT_DROP)) {
		count(KERN_C_module_punted);
		return TC_ACT_OK;
	}
	if (kp->rc == AN_PKT_DROP) {
		count(KERN_C_module_dropped);
		return TC_ACT_SHOT;
	}
	count(KERN_C_module_accepted);
	return send_on(skb, kn);
}

/* ---- what goes up: AF_XDP (kernel-up afxdp) ---- */

/* One of the engine's filters against the packet (bpf_loop body). */
static long xfilter_one(__u32 i, void *arg)
{
	struct filter_walk *w = arg;
	if (!filter_takes(bpf_map_lookup_elem(&an_xfilters, &i), w))
		return 0;
	w->hit = (__s32)i;
	return 1;
}

/*
 * an_xdp_up, at XDP on the same interfaces: a packet one of the matching
 * engine's filters takes, which the TC programs would not finish (a
 * capsule whose code has no kernel section here; a packet no kernel module
 * takes), goes to the node's AF_XDP socket on its receive queue, with a
 * struct xsk_frame_hdr in front, instead of up the stack to NFQUEUE.
 * Everything else passes: to the TC programs, the stack, and the NFQUEUE
 * rules, which stay in place as the fallback. A packet whose TTL would run
 * out here, or that is fragmented, passes too (ICMP and reassembly are the
 * stack's), and so does everything when no socket is on the queue (the
 * node is gone: fail-open through the rules' --queue-bypass).
 */
SEC("xdp") int an_xdp_up(struct xdp_md *x)
{
	void *data = (void *)(long)x->data, *end = (void *)(long)x->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + ETH_HLEN;
	if ((void *)(iph + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (iph->version != 4 || iph->ihl < 5 || (iph->frag_off & bpf_htons(0x3fff)) || iph->ttl <= 1)
		return XDP_PASS;
	__u32 z = 0;
	struct an_knode *kn = bpf_map_lookup_elem(&an_knode, &z);
	__u32 *top = bpf_map_lookup_elem(&an_xtop, &z);
	if (!kn || !top || *top == 0)
		return XDP_PASS;
	struct filter_walk w = {.src = iph->saddr, .dst = iph->daddr, .proto = iph->protocol, .hit = -1};
	if (iph->protocol == 17 || iph->protocol == 6) {
		struct udphdr *uh = (void *)iph + iph->ihl * 4;
		if ((void *)(uh + 1) > end)
			return XDP_PASS;
		w.sport = bpf_ntohs(uh->source);
		w.dport = bpf_ntohs(uh->dest);
		if (iph->protocol == 17 && uh->dest == kn->local.port) {
			/* A capsule whose code is in the kernel is the TC
			 * dispatcher's: the code's name is right after the
			 * ANEP header, whose length is in its second word. */
			__u8 *anep = (__u8 *)(uh + 1);
			if ((void *)(anep + 8) > end)
				return XDP_PASS;
			__u32 hdr = ((__u32)anep[4] << 8 | anep[5]) * 4;
			if (hdr > HDR_MASK)
				return XDP_PASS;
			__u8 *name = anep + hdr;
			if ((void *)(name + 8) > end)
				return XDP_PASS;
			__u64 key;
			__builtin_memcpy(&key, name, 8);
			if (bpf_map_lookup_elem(&an_kcode, &key))
				return XDP_PASS;
		}
	}
	if (w.proto != 17 || bpf_htons(w.dport) != kn->local.port) {
		/* A kernel module's flow is the TC dispatcher's too. */
		struct filter_walk kw = w;
		bpf_loop(AN_KFILTERS_MAX, filter_one, &kw, 0);
		if (kw.hit >= 0)
			return XDP_PASS;
	}
	__u32 n = *top;
	if (n > XSK_FILTERS_MAX)
		n = XSK_FILTERS_MAX;
	bpf_loop(n, xfilter_one, &w, 0);
	if (w.hit < 0)
		return XDP_PASS;
	/* Where it would go on, if the FIB says at once (forwarding by the
	 * node's own socket then skips the stack's routing, netfilter and
	 * neighbour code, as the TC path's redirect does); otherwise the node
	 * sends it through the stack. */
	struct bpf_fib_lookup fib = {};
	__u8 fwd = (kn->flags & AN_KNODE_REDIRECT) &&
		   fib_ask(x, &fib, iph, bpf_htons(w.sport), bpf_htons(w.dport), x->ingress_ifindex);
	__u64 port = (__u64)x->ingress_ifindex << 32 | x->rx_queue_index;
	__u32 *slot = bpf_map_lookup_elem(&an_xports, &port);
	if (!slot) {
		count(KERN_C_up_no_socket);
		return XDP_PASS;
	}
	__u32 q = *slot;
	if (!bpf_map_lookup_elem(&an_xsks, &q)) {
		count(KERN_C_up_no_socket);
		return XDP_PASS;
	}
	if (bpf_xdp_adjust_head(x, -(int)sizeof(struct xsk_frame_hdr)) < 0) {
		count(KERN_C_up_no_socket);
		return XDP_PASS;
	}
	data = (void *)(long)x->data;
	end = (void *)(long)x->data_end;
	struct xsk_frame_hdr *h = data;
	if ((void *)(h + 1) > end)
		return XDP_PASS;
	h->filter = (__u16)w.hit;
	h->version = XSK_FRAME_VERSION;
	h->flags = fwd ? XSK_FRAME_FORWARD : 0;
	h->ifindex = x->ingress_ifindex;
	h->out_ifindex = fwd ? fib.ifindex : 0;
	__builtin_memcpy(h->dmac, fib.dmac, 6);
	__builtin_memcpy(h->smac, fib.smac, 6);
	long rc = bpf_redirect_map(&an_xsks, q, XDP_PASS);
	if (rc != XDP_REDIRECT) {
		/* The socket went between the two looks: the frame as it
		 * came, to the stack. */
		bpf_xdp_adjust_head(x, (int)sizeof(struct xsk_frame_hdr));
		count(KERN_C_up_no_socket);
		return XDP_PASS;
	}
	count(KERN_C_up_xsk);
	return XDP_REDIRECT;
}

char _license[] SEC("license") = "Dual MIT/GPL";
