/* SPDX-License-Identifier: MIT */
/*
 * Links: how packets enter and leave a node. Network links carry ANEP
 * between nodes (UDP overlay now; NFQUEUE in router mode later), each kind
 * behind the same small table of functions; application links carry
 * capsules and code between a node and its applications (AF_UNIX
 * SOCK_SEQPACKET, see applink.h).
 */
#ifndef LINK_H
#define LINK_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "anode/addr.h"
#include "core/pkt.h"

#include "core/stat.h"

#define LINK_BATCH 32 /* packets per recvmmsg/sendmmsg */

struct link;

#define LINK_COUNTERS(X)                                                                                               \
	X(rx_packets, "datagrams received")                                                                            \
	X(rx_bytes, "octets received")                                                                                 \
	X(tx_packets, "datagrams sent")                                                                                \
	X(tx_bytes, "octets sent")                                                                                     \
	X(rx_truncated, "datagrams larger than a context (handed up marked, dropped)")                                 \
	X(rx_malformed, "datagrams the link could not take apart (IP link: headers, no AppID)")                        \
	X(rx_no_buffer, "reads put off for want of a buffer (left in the socket)")                                     \
	X(tx_errors, "datagrams the socket refused")                                                                   \
	X(tx_gso_runs, "runs of datagrams to one next hop sent as one GSO message (UDP_SEGMENT)")                     \
	X(rx_gro_runs, "runs of datagrams received as one GRO message (UDP_GRO) and taken apart")                     \
	X(rx_gro_dropped, "datagrams of GRO runs dropped for want of a buffer")                                       \
	X(rx_icmp_unreachable, "ICMP unreachable or time exceeded for datagrams sent (IP link)")                       \
	X(rx_kernel_drops, "datagrams the kernel dropped at the full socket (as of the last second)")

struct link_counters {
	LINK_COUNTERS(STAT_FIELD)
};

/* The functions every network link kind provides. */
struct link_ops {
	const char *kind;
	const char *stats_key, *title; /* its section of `anode stats` */
	/* Receive up to max packets into buffers from pool; returns how many
	 * (0 when none is waiting) or a negative errno. */
	int (*recv)(struct link *l, struct pkt_pool *pool, struct pkt **ret, unsigned max);
	/* Queue p for next_hop; consumes p. Sent by flush, or at once when
	 * the batch is full. */
	void (*send)(struct link *l, struct pkt *p, const struct an_addr *next_hop);
	/* Send what is queued; buffers go back to the pool. */
	void (*flush)(struct link *l);
	/* Packets recv took in but could not return (past max: the rest of a
	 * GRO run), moved to q in order; how many. May be NULL. Call after
	 * each recv. */
	unsigned (*spill)(struct link *l, struct pkt_queue *q);
	void (*close)(struct link *l);
};

struct link {
	const struct link_ops *ops;
	int fd;
	struct an_addr local;
	struct pkt_pool *pool;
	struct link_counters counters;
	/* Links that send at once (the IP link): the errno of the last send
	 * that failed, 0 after one that went out. A room reads it after its
	 * own send to learn that the kernel has no route any more. */
	int last_tx_errno;
};

/* UDP overlay link on an AF_INET6 (dual-stack) socket: bound to addr, or
 * using an already bound socket fd when fd >= 0 (a lab hands its nodes
 * sockets it bound, so that ports are known before the nodes start). */
struct link *link_udp_open(const struct an_addr *addr, int fd, struct pkt_pool *pool);

/* Refresh counters.rx_kernel_drops from /proc/net/udp6 (the "drops"
 * column of this socket's line): datagrams that never reached the node
 * because its socket buffer was full. Cheap enough for once a second. */
void link_udp_read_kernel_drops(struct link *l);

/* Conversions between node addresses and socket addresses. */
void link_addr_to_sa(const struct an_addr *a, struct sockaddr_in6 *ret);
void link_addr_from_sa(const struct sockaddr_in6 *sa, struct an_addr *ret);

#endif
