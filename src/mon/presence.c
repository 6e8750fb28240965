// SPDX-License-Identifier: MIT
/*
 * The presence of watched hosts (presence.h).
 *
 * The probe: a UDP datagram to port 33434 of the host (nothing listens
 * there), and the host's ICMP port unreachable, which IP_RECVERR queues on
 * the socket's error queue with the datagram's destination, is its answer.
 * No privilege needed; a host that filters ICMP counts as absent. The
 * socket is in the node's loop, so an answer is taken when it comes.
 *
 * The carrier: the monitors hear every interface's state change over
 * rtnetlink (links.h: a veth whose peer went down, a station that left
 * the access point) and tell presence_carrier; the interface a host's
 * route leaves by comes from /proc/net/route (core/kroute.h), which the
 * node child may read.
 */
#include "mon/presence.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <time.h> /* linux/errqueue.h needs struct timespec */
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/kroute.h"

#define PRESENCE_PORT 33434
#define PRESENCE_HOSTS 64 /* hosts watched at once */

struct presence_host {
	uint32_t host;	      /* network order; 0: free */
	uint64_t wanted_ns;   /* the last presence_get */
	uint64_t probed_ns;   /* the last probe sent, or 0 */
	uint64_t answered_ns; /* the last answer, or 0 */
	bool link_down;	      /* its interface lost carrier */
	int8_t value;	      /* 1, 0, or -1: not known yet */
};

struct presence {
	struct loop *loop;
	int fd;
	void (*changed)(void *arg);
	void *arg;
	struct presence_host hosts[PRESENCE_HOSTS];
	struct presence_counters c;
};

static void probe(struct presence *p, struct presence_host *h, uint64_t now_ns)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(PRESENCE_PORT), .sin_addr.s_addr = h->host};
	char b = 0;
	/* A send refused at once (no route, no neighbour) is a probe not
	 * answered. */
	(void)!sendto(p->fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa));
	h->probed_ns = now_ns;
	p->c.probes++;
}

static bool set_value(struct presence *p, struct presence_host *h, int8_t v)
{
	if (h->value == v)
		return false;
	h->value = v;
	p->c.changes++;
	return true;
}

static struct presence_host *host_find(struct presence *p, uint32_t host)
{
	for (size_t i = 0; i < PRESENCE_HOSTS; i++)
		if (p->hosts[i].host == host)
			return &p->hosts[i];
	return NULL;
}

static bool host_live(const struct presence_host *h, uint64_t now_ns)
{
	return h->host && now_ns - h->wanted_ns < PRESENCE_FORGET_MS * 1000000ull;
}

/* Take every error the kernel queued: a port unreachable from a host is
 * its answer. */
static void answers_readable(void *arg, int fd, uint32_t events)
{
	(void)events;
	struct presence *p = arg;
	uint64_t now = loop_now_ns();
	bool changed = false;
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
		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ICMP || ee.ee_type != ICMP_DEST_UNREACH ||
			    ee.ee_code != ICMP_PORT_UNREACH || msg.msg_namelen < sizeof(to))
				continue;
			struct presence_host *h = host_find(p, to.sin_addr.s_addr);
			if (!h)
				continue;
			h->answered_ns = now;
			p->c.answers++;
			if (!h->link_down)
				changed |= set_value(p, h, 1);
		}
	}
	/* Nothing but errors is ever queued for reading; drop any datagram. */
	char b;
	while (recv(fd, &b, 1, MSG_DONTWAIT) >= 0)
		;
	if (changed && p->changed)
		p->changed(p->arg);
}

void presence_carrier(struct presence *p, const char *name, bool running, uint64_t now_ns)
{
	bool changed = false;
	p->c.link_events++;
	for (size_t i = 0; i < PRESENCE_HOSTS; i++) {
		struct presence_host *h = &p->hosts[i];
		if (!host_live(h, now_ns) || h->link_down == !running)
			continue;
		char dev[KROUTE_DEV_MAX] = "";
		FILE *f = fopen("/proc/net/route", "re");
		if (f) {
			kroute_lookup(f, h->host, dev);
			fclose(f);
		}
		/* Going down, the route is still there (marked linkdown). An
		 * interface deleted takes its routes: the probes will say. */
		if (!dev[0] || strcmp(dev, name) != 0)
			continue;
		h->link_down = !running;
		if (h->link_down)
			changed |= set_value(p, h, 0);
		else
			probe(p, h, now_ns); /* back: its answer makes it present */
	}
	if (changed && p->changed)
		p->changed(p->arg);
}

struct presence *presence_open(struct loop *loop, void (*fn)(void *arg), void *arg)
{
	struct presence *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->loop = loop;
	p->changed = fn;
	p->arg = arg;
	int one = 1;
	p->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (p->fd < 0 || setsockopt(p->fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0 ||
	    loop_fd_add(loop, p->fd, EPOLLIN | EPOLLERR, answers_readable, p) < 0) {
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
	loop_fd_del(p->loop, p->fd);
	close(p->fd);
	free(p);
}

int presence_get(struct presence *p, uint32_t host, uint64_t now_ns)
{
	struct presence_host *h = host_find(p, host);
	if (!h) {
		/* A free slot, else the one asked about least lately. */
		struct presence_host *oldest = &p->hosts[0];
		for (size_t i = 0; i < PRESENCE_HOSTS && !h; i++) {
			if (!host_live(&p->hosts[i], now_ns))
				h = &p->hosts[i];
			else if (p->hosts[i].wanted_ns < oldest->wanted_ns)
				oldest = &p->hosts[i];
		}
		if (!h)
			h = oldest;
		*h = (struct presence_host){.host = host, .value = -1};
		h->wanted_ns = now_ns;
		probe(p, h, now_ns);
	}
	h->wanted_ns = now_ns;
	return h->value < 0 ? -EAGAIN : h->value;
}

void presence_tick(struct presence *p, uint64_t now_ns)
{
	for (size_t i = 0; i < PRESENCE_HOSTS; i++) {
		struct presence_host *h = &p->hosts[i];
		if (!host_live(h, now_ns))
			continue;
		/* The probe of a period ago went unanswered: absent. (One sent
		 * moments ago, when its carrier came back, has had no time:
		 * its answer will say.) */
		bool answered = h->answered_ns >= h->probed_ns;
		if (!answered && now_ns - h->probed_ns >= 100000000ull)
			set_value(p, h, 0);
		else if (answered && !h->link_down)
			set_value(p, h, 1);
		probe(p, h, now_ns);
	}
}

void presence_counters(const struct presence *p, struct presence_counters *ret)
{
	*ret = p->c;
}
