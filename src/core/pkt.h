/* SPDX-License-Identifier: MIT */
/*
 * Packet buffers. A packet's bytes live inside the struct an_ctx that code
 * objects run on, so that the node receives straight into the context and
 * sends from it: a capsule that only forwards itself is never copied
 * (DESIGN.md §3). Buffers come from a pool with a fixed number of entries,
 * which bounds the node's memory; a function that consumes a buffer consumes
 * it on every path.
 *
 * Buffers can be charged to an owner (a small number standing for whoever
 * made the packet: a code object's offspring), and no owner may hold more
 * than its share of the pool, so that no one code object can take the
 * buffers every other packet needs (DESIGN §9). A buffer goes back to the
 * pool uncharged.
 */
#ifndef CORE_PKT_H
#define CORE_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "anode/node.h"

/* How a packet came into the node. */
enum pkt_ingress {
	PKT_IN_NONE = 0,
	PKT_IN_UDP,   /* the overlay UDP link */
	PKT_IN_QUEUE, /* router mode: an NFQUEUE'd IP packet */
	PKT_IN_RAW,   /* router mode: the Router Alert raw socket */
	PKT_IN_APP,   /* an application link (INJECT) */
	PKT_IN_SELF,  /* sent by code to this node itself */
};

/* What the ingress learned of a packet beyond its bytes (Linux's skb->cb,
 * DPDK's mbuf dynamic fields): it travels with the buffer, through parking
 * and resuming, so that no room keeps "the packet now" in its own fields.
 * Cleared by pkt_get. */
struct pkt_meta {
	uint8_t ingress;    /* enum pkt_ingress */
	uint8_t has_app_id; /* app_id came with the packet (IP option, seed 001 §3) */
	uint8_t router_alert; /* the IP header has (or, sent on the IP link, gets) Router Alert */
	uint32_t app_id;
	uint32_t ip_src, ip_dst; /* IPv4, network order; 0 when it came in no IP header the node saw */
	uint32_t ifindex;	 /* interface it came in on, 0 when unknown */
};

struct pkt {
	struct pkt *next;    /* free list and queues */
	struct an_addr from; /* the link-level sender (UDP source) */
	uint16_t len;	     /* bytes in ctx.pkt */
	uint8_t origin;	     /* AN_ORIGIN_* */
	uint8_t resumed;     /* parked while its code was fetched, and now run */
	uint8_t hop_taken;   /* this node took its hop already (cleared when it is sent) */
	uint8_t truncated;   /* larger than a buffer: the link kept only AN_PKT_MAX bytes */
	uint16_t owner;	     /* charged to this owner, 0: nobody */
	uint8_t work_set;    /* work_left holds the work budget its sender left it */
	uint32_t work_left;  /* a capsule sent by code to its own node goes on with this */
	void *held;	     /* router mode: the queued packet it came in, held while it waits */
	void *queued;	     /* router mode: the queued packet it came in, while that one waits for its verdict */
	uint64_t applink;    /* inserting application link, or 0 */
	uint64_t rx_ns;	     /* monotonic time the node received it */
	struct pkt_meta meta;
	struct an_ctx ctx;
};

struct pkt_pool;

struct pkt_pool *pkt_pool_new(size_t n);
void pkt_pool_free(struct pkt_pool *pool);
/* NULL when the pool is empty: the caller counts a drop. */
struct pkt *pkt_get(struct pkt_pool *pool);
void pkt_put(struct pkt_pool *pool, struct pkt *p);
size_t pkt_pool_available(const struct pkt_pool *pool);
size_t pkt_pool_size(const struct pkt_pool *pool);

/* Owners are 1..PKT_OWNERS-1. */
#define PKT_OWNERS 1024
/* Buffers one owner may hold at once (default: the whole pool). */
void pkt_pool_set_share(struct pkt_pool *pool, size_t max_per_owner);
/* Charge p to owner (moving it from the owner it had). 0, or -ENOBUFS when
 * the owner holds its share already (p is left as it was). */
int pkt_charge(struct pkt_pool *pool, struct pkt *p, uint16_t owner);
size_t pkt_owner_held(const struct pkt_pool *pool, uint16_t owner);

/* A FIFO of packets linked through pkt.next. */
struct pkt_queue {
	struct pkt *head, *tail;
	size_t len;
};
void pkt_queue_push(struct pkt_queue *q, struct pkt *p);
struct pkt *pkt_queue_pop(struct pkt_queue *q);

#endif
