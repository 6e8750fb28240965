// SPDX-License-Identifier: MIT
/*
 * The presence probe (watch.h: host_up), for every watched host through one
 * UDP socket opened when the monitors start, so that a router node's child
 * opens no socket once it runs unprivileged: a datagram to port 33434 of
 * the host (nothing listens there), and the host's ICMP port unreachable,
 * which IP_RECVERR queues on the socket's error queue with the datagram's
 * destination, is its answer. No privilege needed; a host that filters
 * ICMP counts as absent.
 */
#include "mon/presence.h"

#include <errno.h>
#include <stdbool.h>
#include <time.h> /* linux/errqueue.h needs struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PRESENCE_PORT 33434
#define PRESENCE_HOSTS 64 /* hosts whose last answer is remembered */

struct presence_host {
	uint32_t host;	      /* network order; 0: free */
	uint64_t answered_ns; /* the last answer, or 0 */
};

struct presence {
	int fd;
	struct presence_host hosts[PRESENCE_HOSTS];
	size_t next; /* the slot to reuse when all are taken */
};

struct presence *presence_open(void)
{
	struct presence *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	int one = 1;
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || setsockopt(p->fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0) {
		int e = errno;
		if (p->fd >= 0)
			close(p->fd);
		free(p);
		errno = e;
		return NULL;
	}
	return p;
}

void presence_close(struct presence *p)
{
	if (!p)
		return;
	close(p->fd);
	free(p);
}

static struct presence_host *host_slot(struct presence *p, uint32_t host, bool add)
{
	for (size_t i = 0; i < PRESENCE_HOSTS; i++)
		if (p->hosts[i].host == host)
			return &p->hosts[i];
	if (!add)
		return NULL;
	for (size_t i = 0; i < PRESENCE_HOSTS; i++)
		if (!p->hosts[i].host) {
			p->hosts[i].host = host;
			return &p->hosts[i];
		}
	struct presence_host *h = &p->hosts[p->next++ % PRESENCE_HOSTS];
	*h = (struct presence_host){.host = host};
	return h;
}

/* Take every error the kernel queued: a port unreachable from a host is
 * its answer, at now_ns. */
static void collect(struct presence *p, uint64_t now_ns)
{
	for (int budget = 256; budget > 0; budget--) {
		struct sockaddr_in to;
		char data[16], control[256];
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr msg = {.msg_name = &to,
				     .msg_namelen = sizeof(to),
				     .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = control,
				     .msg_controllen = sizeof(control)};
		if (recvmsg(p->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ICMP || ee.ee_type != ICMP_DEST_UNREACH ||
			    ee.ee_code != ICMP_PORT_UNREACH || msg.msg_namelen < sizeof(to))
				continue;
			struct presence_host *h = host_slot(p, to.sin_addr.s_addr, false);
			if (h)
				h->answered_ns = now_ns;
		}
	}
}

int presence_probe(struct presence *p, uint32_t host, uint64_t since_ns, uint64_t now_ns)
{
	collect(p, now_ns);
	struct presence_host *h = host_slot(p, host, true);
	int answered = since_ns && h->answered_ns >= since_ns;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PRESENCE_PORT), .sin_addr.s_addr = host};
	char b = 0;
	/* A send refused at once (no route, no neighbour) shows as no answer
	 * next time. */
	(void)!sendto(p->fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa));
	return answered;
}
