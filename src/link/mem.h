/* SPDX-License-Identifier: MIT */
/*
 * The memory link (mem.c): a network link with no socket, for tests and
 * fuzzers that run a whole node in their own process. Nothing it is given
 * to send leaves the process.
 */
#ifndef LINK_MEM_H
#define LINK_MEM_H

#include "link/link.h"

/* A link whose address is local, keeping up to keep packets each way. */
struct link *link_mem_open(const struct an_addr *local, struct pkt_pool *pool, size_t keep);
/* A datagram arrives from `from` (received on the node's next round). 0,
 * -EMSGSIZE past AN_PKT_MAX, -ENOBUFS when keep are waiting already. */
int link_mem_push(struct link *l, const void *bytes, size_t len, const struct an_addr *from);
/* The oldest packet the node sent and the test has not read: its length
 * (copied into buf) and where it went; -ENOENT when none; -EMSGSIZE when
 * buf is too small (the packet is gone). */
int link_mem_sent(struct link *l, void *buf, size_t cap, struct an_addr *ret_to);
/* Packets sent since the link opened, read or not. */
uint64_t link_mem_sent_total(const struct link *l);

#endif
