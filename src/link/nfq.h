/* SPDX-License-Identifier: MIT */
/*
 * NFQUEUE queue sockets: one netlink socket bound to one queue number and
 * configured the way the matching engine reads it (whole packets, bounded
 * queue, fail-open). Opening one needs CAP_NET_ADMIN: in router mode the
 * privileged parent opens it and hands it to the node child (src/priv).
 */
#ifndef LINK_NFQ_H
#define LINK_NFQ_H

#include <stdbool.h>
#include <stddef.h>
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

/* ---- the transport: reading queued packets and answering them ----
 *
 * One struct nfq_io per loop, shared by all its queues (run to
 * completion): receive slots for a batch of datagrams, each large enough
 * for a whole 64 KiB packet, and a buffer of verdicts that goes to the
 * kernel in one send (the kernel walks every netlink message of a
 * datagram). An ACCEPT or DROP never copies the packet; a verdict with a
 * rewritten packet copies it once, into the verdict message. */

#define NFQ_BATCH 16

/* A queued packet, in the reader's slot: the handler may rewrite it in
 * place and grow it up to cap (what follows it in the slot is parsed). */
struct nfq_packet {
	uint32_t id; /* the queue's packet id */
	uint8_t *data;
	size_t len, cap;
	uint32_t indev, outdev; /* interface indexes, 0 when unknown */
	bool whole;		/* false: no payload, or cut by the copy range */
	unsigned slot;		/* which receive slot holds it (0 .. NFQ_BATCH-1) */
};

/* What the transport counts for its owner. */
struct nfq_counters {
	uint64_t *failed_verdicts; /* verdicts the kernel refused, or that could not be sent */
	uint64_t *overflows;	   /* times the socket overflowed (ENOBUFS): those packets failed open */
};

struct nfq_io;

struct nfq_io *nfq_io_new(const struct nfq_counters *c);
void nfq_io_free(struct nfq_io *io);

/* Read what queue's socket fd holds, up to max_batches batches of at most
 * batch datagrams (0: NFQ_BATCH), calling packet for each packet; verdicts
 * queued meanwhile go out after each batch. Stops early when the socket is
 * empty; true when the last batch was full (more may be waiting). */
bool nfq_read(struct nfq_io *io, int fd, uint16_t queue, unsigned max_batches, unsigned batch,
	      void (*packet)(void *arg, struct nfq_packet *p), void *arg);

/* Queue the verdict (NF_ACCEPT or NF_DROP) for packet id of queue on fd,
 * with data (len octets) as the packet's new content when not NULL. */
void nfq_verdict(struct nfq_io *io, int fd, uint16_t queue, uint32_t id, int verdict, const void *data, size_t len);
/* Send the queued verdicts now. */
void nfq_flush(struct nfq_io *io);
/* Forget fd: flush its verdicts if they are queued (before it closes). */
void nfq_forget(struct nfq_io *io, int fd);
