/* SPDX-License-Identifier: MIT */
/*
 * On a SOCK_SEQPACKET socket a read of nothing is either a record of no
 * octets or the peer's end closed; only the hang-up tells them apart. The
 * control socket, application links and service sockets all ask this
 * after a recv() returned 0: a record of no octets is malformed input to
 * answer, not the end of the peer.
 */
#ifndef CORE_SEQPACKET_H
#define CORE_SEQPACKET_H

#include <poll.h>
#include <stdbool.h>

/* The peer of fd has closed its end (or the socket failed). */
static inline bool seqpacket_peer_gone(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR));
}

#endif
