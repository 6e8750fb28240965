/* SPDX-License-Identifier: MIT */
/*
 * AF_XDP's privileged half (docs/kernel.md, "What goes up"), in the
 * parent: the sockets and the UMEM behind each, made here and handed to the
 * node child (link/xsk.h), which binds and reads them.
 */
#ifndef KERN_KXSK_H
#define KERN_KXSK_H

#include <stddef.h>
#include <stdint.h>

/* Receive queues of interface ifindex (ethtool's channel count; 1 when the
 * driver does not say). */
unsigned kxsk_queues(unsigned ifindex);
/* An AF_XDP socket with a UMEM of len octets in frames of frame octets
 * registered: the UMEM lives in a memfd (*ret_mem), so that the child maps
 * the same pages, and is registered here, where CAP_IPC_LOCK spares the
 * child's memory-lock limit. 0, or a negative errno. */
int kxsk_socket(size_t len, unsigned frame, int *ret_sock, int *ret_mem);
/* The raw IPv4 socket packets that came up by AF_XDP go on by
 * (IP_HDRINCL), its packets marked mark: an fd, or a negative errno. */
int kxsk_raw_socket(uint32_t mark);

#endif
