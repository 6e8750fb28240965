/* SPDX-License-Identifier: MIT */
/*
 * What the kernel path's XDP program (src/kern/anode_tc.bpf.c, an_xdp_up)
 * puts in front of each frame it sends up to the node by AF_XDP
 * (link/xsk.h): which of the matching engine's filters took the packet and
 * where it came in. Shared by the BPF program and the node, one host: host
 * byte order.
 */
#ifndef LINK_XSK_FRAME_H
#define LINK_XSK_FRAME_H

#include <linux/types.h>

#define XSK_FRAME_VERSION 2
#define XSK_FILTERS_MAX 256 /* the engine's filters (MATCH_FILTERS_MAX) */
#define XSK_PORTS_MAX 64    /* sockets: interfaces x receive queues */

#define XSK_FRAME_FORWARD 1 /* the FIB knows where it goes on: out_ifindex, dmac, smac */

struct xsk_frame_hdr {
	__u16 filter;	       /* the matching engine's filter id */
	__u8 version;	       /* XSK_FRAME_VERSION */
	__u8 flags;	       /* XSK_FRAME_* */
	__u32 ifindex;	       /* the interface it came in by */
	__u32 out_ifindex;     /* FORWARD: the interface it goes on by */
	__u8 dmac[6], smac[6]; /* FORWARD: its next hop's and that interface's */
};
/* ...then the Ethernet frame as it arrived. */

#endif
