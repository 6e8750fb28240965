/* SPDX-License-Identifier: MIT */
/*
 * Packet buffers. A packet's bytes live inside the struct an_ctx that code
 * objects run on, so that the node receives straight into the context and
 * sends from it: a capsule that only forwards itself is never copied
 * (DESIGN.md §3). Buffers come from a pool with a fixed number of entries,
 * which bounds the node's memory; a function that consumes a buffer consumes
 * it on every path.
 */
#ifndef CORE_PKT_H
#define CORE_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "anode/node.h"

struct pkt {
	struct pkt *next; /* free list and queues */
	struct an_addr from; /* the link-level sender (UDP source) */
	uint16_t len; /* bytes in ctx.pkt */
	uint8_t origin; /* AN_ORIGIN_* */
	uint8_t resumed; /* parked while its code was fetched, and now run */
	uint64_t applink; /* inserting application link, or 0 */
	uint64_t rx_ns; /* monotonic time the node received it */
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

/* A FIFO of packets linked through pkt.next. */
struct pkt_queue {
	struct pkt *head, *tail;
	size_t len;
};
void pkt_queue_push(struct pkt_queue *q, struct pkt *p);
struct pkt *pkt_queue_pop(struct pkt_queue *q);

#endif
