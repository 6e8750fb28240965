/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP (docs/kernel.md, "What goes up"): the transport by which packets
 * the kernel path's XDP program takes reach the matching engine without
 * NFQUEUE, and by which the ones the node lets go on leave again.
 *
 * A port is one AF_XDP socket on one receive queue of one interface, with
 * its UMEM. The privileged parent makes the socket and registers the UMEM
 * (a memfd it maps, so that the child's memory-lock limit is not charged),
 * and hands both to the node child, which sizes and maps the rings, fills
 * the fill ring and binds: the rings can only be mapped before the bind, so
 * the child does both. Frames are read in place and their buffers go back
 * to the fill ring as soon as each has its verdict.
 *
 * What goes on leaves by the AF_XDP socket of the interface the XDP
 * program's FIB lookup named (its TX ring: straight to the driver, as the
 * TC path's redirect), or, when the FIB did not answer or the node changed
 * the destination, by a raw IPv4 socket (IP_HDRINCL) the parent made and
 * marked AN_KMARK, so that the node's NFQUEUE rules let it by when it
 * loops back to this host: the kernel routes it. Either way its TTL is
 * taken here as a router's forwarding would.
 */
#ifndef LINK_XSK_H
#define LINK_XSK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XSK_FRAMES 2048	    /* UMEM frames per port: half to receive (the fill ring), half to send */
#define XSK_FRAME_SIZE 4096 /* one page: an MTU-sized frame and XDP's headroom */
#define XSK_BATCH 64	    /* frames per read */

struct xsk_port;

/* Set up the port from the parent's socket fd (UMEM registered, nothing
 * bound) and the memfd behind the UMEM (mem_len octets of frame-sized
 * frames): rings, mappings, fill ring, bind to ifindex and queue. Both
 * descriptors are the port's from here on, whatever happens. 0 and *ret,
 * or a negative errno after logging why. */
int xsk_port_open(int sock, int mem, size_t mem_len, unsigned frame, unsigned ifindex, unsigned queue,
		  struct xsk_port **ret);
void xsk_port_close(struct xsk_port *p);
int xsk_port_fd(const struct xsk_port *p);
unsigned xsk_port_ifindex(const struct xsk_port *p);

/* A frame as read: the XDP program's header (link/xsk_frame.h) checked,
 * data the IPv4 packet, writable in place up to cap octets. */
struct xsk_packet {
	uint16_t filter;
	uint32_t ifindex;
	uint32_t out_ifindex;	    /* 0: the FIB did not say (go on by the raw socket) */
	const uint8_t *dmac, *smac; /* with out_ifindex */
	uint8_t *data;
	size_t len, cap;
};

/* Read up to max frames, calling fn for each (frames whose header is not
 * the XDP program's are counted and skipped); each frame's buffer goes
 * back to the fill ring once fn returns. How many were read. */
unsigned xsk_port_read(struct xsk_port *p, unsigned max, void (*fn)(void *arg, struct xsk_packet *pkt), void *arg);
/* Frames skipped as malformed (not the XDP program's header, or outside
 * the UMEM) since the port opened. */
uint64_t xsk_port_malformed(const struct xsk_port *p);
/* Frames the kernel dropped at this socket because its receive ring was
 * full or its fill ring empty (XDP_STATISTICS): the node did not keep up. */
uint64_t xsk_port_kernel_drops(const struct xsk_port *p);

/* Send an IPv4 packet on by this port's interface, in an Ethernet frame
 * from dmac to smac, its TTL taken and its header checksum updated (a
 * copy: pkt is the caller's). false when the port has no room now, or the
 * packet cannot go (TTL, too big for a frame): the caller sends it the
 * other way. Sent by xsk_port_kick. */
bool xsk_port_send(struct xsk_port *p, const uint8_t *pkt, size_t len, const uint8_t dmac[6], const uint8_t smac[6]);
/* Have the kernel send what xsk_port_send queued (what it cannot take now
 * waits for the next kick); frames it sent come back for reuse. */
void xsk_port_kick(struct xsk_port *p);

/* ---- going on: a raw IPv4 socket ---- */

struct xsk_out;

/* fd: the parent's raw socket (IPPROTO_RAW, marked), owned from here on. */
struct xsk_out *xsk_out_new(int fd);
void xsk_out_free(struct xsk_out *o);
/* Queue a copy of an IPv4 packet to go on, its TTL taken (a forwarded
 * packet's hop) and its header checksum fixed; sent by xsk_out_flush, or
 * at once when the batch is full. false when it cannot be (too short, a
 * TTL of 1 or less, not IPv4): counted as an error. */
bool xsk_out_send(struct xsk_out *o, const uint8_t *pkt, size_t len);
/* How many the kernel refused (lost, as a router's drops) since the last
 * call, those of flushes a full batch made included. */
unsigned xsk_out_flush(struct xsk_out *o);

#endif
