/* SPDX-License-Identifier: MIT */
/*
 * NFQUEUE queue sockets: one netlink socket bound to one queue number and
 * configured the way the matching engine reads it (whole packets, bounded
 * queue, fail-open). Opening one needs CAP_NET_ADMIN: in router mode the
 * privileged parent opens it and hands it to the node child (src/priv).
 */
#ifndef LINK_NFQ_H
#define LINK_NFQ_H

#include <stdint.h>

#define NFQ_QUEUE_MAXLEN 4096 /* packets the kernel queues before failing open */
#define NFQ_RCVBUF (16 * 1024 * 1024)

/* Open a netlink socket, bind it to queue and configure it (copy whole
 * packets, at most NFQ_QUEUE_MAXLEN queued, NFQA_CFG_F_FAIL_OPEN, a large
 * receive buffer). Returns the socket (blocking, close-on-exec), or a
 * negative errno: -EBUSY when another socket has the queue, -EPERM without
 * CAP_NET_ADMIN. */
int nfq_queue_open(uint16_t queue);

#endif
