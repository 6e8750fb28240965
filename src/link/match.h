/* SPDX-License-Identifier: MIT */
/*
 * The matching engine (seed 000 §3-4): filters installed and removed while
 * the node runs, each bound to a handler. A filter is one iptables rule in
 * the mangle table's PREROUTING chain that sends matching IPv4 packets to
 * an NFQUEUE queue of its own; everything no filter matches stays in the
 * kernel and is forwarded at full speed. Every packet a handler sees gets
 * exactly one verdict: accept, drop, accept modified, or hold (the handler
 * keeps it and gives the verdict later with match_verdict).
 *
 * Rules carry the comment "anode:TAG:ID" (TAG names the node), so that
 * they are removed on match_remove and match_free, and so that the next
 * start removes what a node killed with SIGKILL left behind.
 */
#ifndef LINK_MATCH_H
#define LINK_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/stat.h"

#define MATCH_TAG_MAX 32

/* What a filter matches; zero fields match anything. Addresses are IPv4 in
 * network byte order with a prefix length. Ports need proto UDP or TCP. */
struct match_filter {
	uint32_t src, dst;
	uint8_t src_prefix, dst_prefix; /* 0..32; 0 = any */
	uint8_t proto; /* IPPROTO_UDP, IPPROTO_TCP, IPPROTO_ICMP, or 0 */
	uint16_t sport_lo, sport_hi; /* host order; 0, 0 = any */
	uint16_t dport_lo, dport_hi;
};

enum match_verdict {
	MATCH_ACCEPT, /* let it go on as it was */
	MATCH_DROP, /* the node consumed it, or refuses it */
	MATCH_MODIFIED, /* let it go on as the handler rewrote it (len may change) */
	MATCH_HOLD, /* the handler keeps it: match_verdict later, exactly once */
};

/* A queued packet: the whole IPv4 packet, which the handler may rewrite in
 * place up to cap bytes (checksums are the handler's business: see
 * match_fix_checksums). */
struct match_pkt {
	uint32_t id; /* the queue's packet id */
	uint16_t queue;
	uint8_t *data;
	size_t len, cap;
	uint32_t indev, outdev; /* interface indexes, 0 when unknown */
	bool via_xsk;		/* came by AF_XDP, not NFQUEUE (the engine's business) */
};

typedef enum match_verdict (*match_handler)(void *arg, struct match_pkt *p);
/* The outcome of match_install: err 0 when the filter's queue is bound and
 * its rule in place, or a negative errno (the filter is gone then, and its
 * id free). Called once, from the loop, never from inside match_install;
 * not called for a filter removed before its outcome came. */
typedef void (*match_ready)(void *arg, unsigned id, int err);

#define MATCH_FILTERS_MAX 256 /* filters per engine: queues first_queue .. +255 */

/* Who binds a filter's queue and installs its rule. NULL to match_new:
 * this process does both (it needs CAP_NET_ADMIN and root's iptables), and
 * removes stale rules of its tag at start. In router mode the node child
 * asks its privileged parent instead (src/priv). install either fails at
 * once (a negative errno) or answers later with match_filter_ready; remove
 * returns what it knows now (0 when the answer comes later). */
struct match_backend {
	int (*install)(void *arg, unsigned id, uint16_t queue, const struct match_filter *f);
	int (*remove)(void *arg, unsigned id, uint16_t queue, const struct match_filter *f);
	void *arg;
};

#define MATCH_COUNTERS(X)                                                                 \
	X(packets, "packets queued to the node")                                          \
	X(accepted, "let go on as they were")                                             \
	X(dropped, "dropped (consumed, delivered or refused by the node)")                \
	X(modified, "sent on rewritten (a capsule leaving as its packet's verdict)")      \
	X(held, "held for a verdict later (a capsule waiting for its code)")              \
	X(reinjected, "held packets given their verdict")                                 \
	X(failed_verdicts, "verdicts the kernel refused")                                 \
	X(queue_drops, "packets the queue overflowed with (let through: fail-open)")                     \
	X(xsk_packets, "of the packets, those that came by AF_XDP rather than NFQUEUE")                 \
	X(xsk_lost, "packets that came by AF_XDP and could not go on (the raw socket refused them)")     \
	X(xsk_direct, "...of those that went on, how many by the AF_XDP socket of their way out")

struct match_counters {
	MATCH_COUNTERS(STAT_FIELD)
};

struct match_engine;

/* tag names the owner in rule comments: letters, digits, - and _. Removes
 * the rules a previous owner of the same tag left behind. */
struct match_engine *match_new(struct loop *loop, const char *tag, uint16_t first_queue,
			       const struct match_backend *be);
/* Remove every rule this engine installed (and give held packets NF_ACCEPT). */
void match_free(struct match_engine *m);

/* Install a filter: a queue of its own, bound, then the iptables rule. The
 * handler runs on the node's loop; ready tells how it went (both get arg).
 * 0 and *ret_id, or a negative errno after logging why (iptables' own
 * message included) when it failed at once. */
int match_install(struct match_engine *m, const struct match_filter *f, match_handler h, match_ready ready,
		  void *arg, unsigned *ret_id);
/* A backend's answer for filter id: its bound and configured queue socket
 * (the engine owns it from here on, whatever happens), or err < 0 and
 * fd -1. Answers for a filter not waiting for one are ignored. */
void match_filter_ready(struct match_engine *m, unsigned id, int fd, int err);
/* 0 when f is a filter the engine can install, -EINVAL otherwise (prefix
 * past 32, ports without UDP or TCP, a range whose high end is below its
 * low end). */
int match_filter_check(const struct match_filter *f);
/* Remove the rule, then the queue. 0, -ENOENT for no such filter, or the
 * error of iptables -D when the backend knows it at once (the filter is
 * removed all the same: its handler is not called again, and a rule left
 * behind is bypassed and removed at the next start). */
int match_remove(struct match_engine *m, unsigned id);

/* The verdict for a packet held earlier (MATCH_HOLD). For MATCH_MODIFIED,
 * data/len are the new packet. 0 or a negative errno. */
int match_verdict(struct match_engine *m, const struct match_pkt *held, enum match_verdict v, const void *data,
		  size_t len);

/* Recompute the IPv4 header checksum and the UDP/TCP checksum of a packet
 * rewritten in place (UDP: a zero checksum is written when asked). */
void match_fix_checksums(uint8_t *ip, size_t len);

/* Remove every rule whose comment starts with "anode:TAG:" (what a node
 * killed with SIGKILL left). Returns how many were removed, or a negative
 * errno. */
int match_cleanup_stale(const char *tag);

/* Packets the kernel path's XDP program sends up by AF_XDP (link/xsk.h)
 * instead of NFQUEUE: the engine reads port from here on, runs each
 * packet's filter's handler as for a queued one, and closes the port when
 * it goes. Packets that go on leave by out (match_xsk_out). 0 or a
 * negative errno (the port is closed then). */
struct xsk_port;
struct xsk_out;
int match_xsk_add(struct match_engine *m, struct xsk_port *port);
/* Where packets that came by AF_XDP go on; the engine owns it. */
void match_xsk_out(struct match_engine *m, struct xsk_out *out);
size_t match_xsk_ports(const struct match_engine *m);
/* Packets the kernel dropped at the AF_XDP sockets (their rings full: the
 * node did not keep up; NFQUEUE would have let them through). */
uint64_t match_xsk_kernel_drops(const struct match_engine *m);
/* Frames skipped at the AF_XDP sockets as not the XDP program's. */
uint64_t match_xsk_malformed(const struct match_engine *m);

const struct match_counters *match_counters(const struct match_engine *m);
size_t match_filter_count(const struct match_engine *m);

#endif
