/* SPDX-License-Identifier: MIT */
/*
 * The IP link (ip.c), router mode: ANEP in IPv4 protocol 253 with IP
 * Router Alert and the AppID option, through a raw socket. The packet's
 * metadata carries what the IP header says, both ways.
 */
#ifndef LINK_IP_H
#define LINK_IP_H

#include "link/link.h"

/* Open the raw socket (needs CAP_NET_RAW); local is the node's address.
 * NULL with errno set. */
struct link *link_ip_open(const struct an_addr *local, struct pkt_pool *pool);

/* Whether an ICMP destination unreachable (or time exceeded) came for a
 * datagram this link sent toward dst's IPv4 address at or after since_ms
 * (loop time): the errno the kernel gave it (ENETUNREACH, EHOSTUNREACH,
 * ...), or 0. The link keeps the latest of a few destinations (IP_RECVERR:
 * what a router further on says about the path). */
int link_ip_unreachable(const struct link *l, const struct an_addr *dst, uint64_t since_ms);

#endif
