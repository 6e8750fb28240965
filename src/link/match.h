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
};

typedef enum match_verdict (*match_handler)(void *arg, struct match_pkt *p);

#define MATCH_COUNTERS(X)                                                                 \
	X(packets, "packets queued to the node")                                          \
	X(accepted, "let go on as they were")                                             \
	X(dropped, "dropped (consumed, delivered or refused by the node)")                \
	X(modified, "sent on rewritten (a capsule leaving as its packet's verdict)")      \
	X(held, "held for a verdict later (a capsule waiting for its code)")              \
	X(reinjected, "held packets given their verdict")                                 \
	X(failed_verdicts, "verdicts the kernel refused")                                 \
	X(queue_drops, "packets the queue overflowed with (let through: fail-open)")

struct match_counters {
	MATCH_COUNTERS(STAT_FIELD)
};

struct match_engine;

/* tag names the owner in rule comments: letters, digits, - and _. Removes
 * the rules a previous owner of the same tag left behind. */
struct match_engine *match_new(struct loop *loop, const char *tag, uint16_t first_queue);
/* Remove every rule this engine installed (and give held packets NF_ACCEPT). */
void match_free(struct match_engine *m);

/* Install a filter: a queue of its own, bound, then the iptables rule. The
 * handler runs on the node's loop. 0 and *ret_id, or a negative errno after
 * logging why (iptables' own message included). */
int match_install(struct match_engine *m, const struct match_filter *f, match_handler h, void *arg,
		  unsigned *ret_id);
/* Remove the rule, then the queue. 0, -ENOENT for no such filter, or the
 * error of iptables -D (the filter is removed all the same: its handler is
 * not called again, and a rule left behind is bypassed and removed at the
 * next start). */
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

const struct match_counters *match_counters(const struct match_engine *m);
size_t match_filter_count(const struct match_engine *m);

#endif
