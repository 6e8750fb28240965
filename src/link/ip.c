// SPDX-License-Identifier: MIT
/*
 * The IP link (router mode): ANEP carried straight in IPv4, protocol 253,
 * with IP Router Alert and the AppID option (seed 001 §3; docs/wire.md
 * §9), through one raw socket with IP_ROUTER_ALERT. The kernel hands it
 * every datagram with Router Alert it would forward (and then does not
 * forward it) and every datagram of protocol 253 for this host; a router
 * without anode forwards them like any other. What arrives goes through
 * the node's Type ID demux like any packet, with what the IP header said
 * in the packet's metadata (source, destination, AppID); what is sent
 * takes its IP header from the metadata too (the source, for concast data
 * the group; the AppID; Router Alert or not).
 *
 * The socket needs CAP_NET_RAW: it is opened while the node child is
 * still root, and kept after it drops privileges.
 */
#include "link/ip.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/loop.h"
#include "wire/wire.h"

#define IP_LINK_BUF (WIRE_IPV4_CONCAST_HDR_MAX + AN_PKT_MAX)
#define IP_UNREACH_SLOTS 8   /* destinations whose last ICMP error is kept */
#define IP_ERRQUEUE_BATCH 64 /* errors read per call: the rest next time */

/* The last ICMP error about one destination. */
struct ip_unreach {
	uint32_t dst; /* network order; 0: the slot is free */
	int err;
	uint64_t ms;
};

struct ip_link {
	struct link link;
	uint8_t buf[IP_LINK_BUF]; /* one datagram in or out */
	struct ip_unreach unreach[IP_UNREACH_SLOTS];
	unsigned unreach_next; /* the slot a new destination takes */
};

static void note_unreach(struct ip_link *il, uint32_t dst, int err)
{
	struct ip_unreach *u = NULL;
	for (unsigned i = 0; i < IP_UNREACH_SLOTS && !u; i++)
		if (il->unreach[i].dst == dst)
			u = &il->unreach[i];
	if (!u)
		u = &il->unreach[il->unreach_next++ % IP_UNREACH_SLOTS];
	*u = (struct ip_unreach){.dst = dst, .err = err, .ms = loop_now_ms()};
}

/* ICMP errors about what this link sent (IP_RECVERR): a router further on
 * that has no route toward a destination says so. Each one queued also
 * makes the next recv on an empty queue fail with its errno, so the error
 * queue is read then, not on every receive. */
static void drain_errors(struct ip_link *il)
{
	for (unsigned k = 0; k < IP_ERRQUEUE_BATCH; k++) {
		uint8_t data[64];
		union {
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in))];
			struct cmsghdr align;
		} ctl;
		struct sockaddr_in dst;
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr m = {.msg_name = &dst,
				   .msg_namelen = sizeof(dst),
				   .msg_iov = &iov,
				   .msg_iovlen = 1,
				   .msg_control = ctl.buf,
				   .msg_controllen = sizeof(ctl.buf)};
		if (recvmsg(il->link.fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
				continue;
			struct sock_extended_err e;
			memcpy(&e, CMSG_DATA(c), sizeof(e));
			/* msg_name is where the datagram that failed was going. */
			if (e.ee_origin == SO_EE_ORIGIN_ICMP &&
			    (e.ee_type == ICMP_DEST_UNREACH || e.ee_type == ICMP_TIME_EXCEEDED) &&
			    m.msg_namelen >= sizeof(dst) && dst.sin_family == AF_INET) {
				il->link.counters.rx_icmp_unreachable++;
				note_unreach(il, dst.sin_addr.s_addr, (int)e.ee_errno);
			}
		}
	}
}

int link_ip_unreachable(const struct link *l, const struct an_addr *dst, uint64_t since_ms)
{
	const struct ip_link *il = (const struct ip_link *)l;
	uint32_t a;
	memcpy(&a, dst->ip + 12, 4);
	for (unsigned i = 0; i < IP_UNREACH_SLOTS; i++)
		if (il->unreach[i].dst == a && a && il->unreach[i].ms >= since_ms)
			return il->unreach[i].err;
	return 0;
}

static int ip_recv(struct link *l, struct pkt_pool *pool, struct pkt **ret, unsigned max)
{
	struct ip_link *il = (struct ip_link *)l;
	unsigned k = 0;
	while (k < max) {
		ssize_t n = recv(l->fd, il->buf, sizeof(il->buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				drain_errors(il);
			break;
		}
		l->counters.rx_packets++;
		l->counters.rx_bytes += (uint64_t)n;
		struct wire_ipv4_concast ip;
		/* ANEP on IP always names its AppID (seed 001 §3): without
		 * one, or malformed, it is not ours. */
		if ((size_t)n > sizeof(il->buf) || wire_ipv4_concast_parse(il->buf, (size_t)n, &ip) < 0 ||
		    ip.payload_len > AN_PKT_MAX || !ip.has_app_id) {
			l->counters.rx_malformed++;
			continue;
		}
		struct pkt *p = pkt_get(pool);
		if (!p) {
			l->counters.rx_no_buffer++;
			continue; /* the datagram is gone: counted */
		}
		memcpy(p->ctx.pkt, il->buf + ip.payload_off, ip.payload_len);
		p->len = ip.payload_len;
		p->origin = AN_ORIGIN_NET;
		p->rx_ns = loop_now_ns();
		/* The node at the IP source, on the port every router node
		 * listens on (a router node's address). */
		memset(&p->from, 0, sizeof(p->from));
		p->from.ip[10] = p->from.ip[11] = 0xff;
		memcpy(p->from.ip + 12, &ip.src, 4);
		p->from.port = l->local.port;
		p->meta.ingress = PKT_IN_RAW;
		p->meta.ip_src = ip.src;
		p->meta.ip_dst = ip.dst;
		p->meta.has_app_id = 1;
		p->meta.app_id = ip.app_id;
		p->meta.router_alert = ip.router_alert;
		ret[k++] = p;
	}
	return (int)k;
}

static void ip_send(struct link *l, struct pkt *p, const struct an_addr *next_hop)
{
	struct ip_link *il = (struct ip_link *)l;
	uint32_t src = p->meta.ip_src, dst;
	if (!src)
		memcpy(&src, l->local.ip + 12, 4);
	memcpy(&dst, next_hop->ip + 12, 4);
	size_t hl;
	if (!(next_hop->ip[10] == 0xff && next_hop->ip[11] == 0xff) ||
	    wire_ipv4_concast_build(il->buf, sizeof(il->buf), src, dst, p->meta.app_id, p->meta.router_alert, p->len,
				    &hl) < 0) {
		l->counters.tx_errors++;
		pkt_put(l->pool, p);
		return;
	}
	memcpy(il->buf + hl, p->ctx.pkt, p->len);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = dst};
	if (sendto(l->fd, il->buf, hl + p->len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		l->counters.tx_errors++;
		l->last_tx_errno = errno;
	} else {
		l->last_tx_errno = 0;
		l->counters.tx_packets++;
		l->counters.tx_bytes += hl + p->len;
	}
	pkt_put(l->pool, p);
}

static void ip_flush(struct link *l)
{
}

static void ip_close(struct link *l)
{
	close(l->fd);
	free(l);
}

static const struct link_ops ip_ops = {
    .kind = "ip",
    .stats_key = "link_ip",
    .title = "IP link (ANEP in IP protocol 253 with Router Alert)",
    .recv = ip_recv,
    .send = ip_send,
    .flush = ip_flush,
    .close = ip_close,
};

struct link *link_ip_open(const struct an_addr *local, struct pkt_pool *pool)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, WIRE_IPPROTO_CONCAST);
	if (fd < 0)
		return NULL;
	if (setsockopt(fd, IPPROTO_IP, IP_ROUTER_ALERT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	struct ip_link *il = calloc(1, sizeof(*il));
	if (!il) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	il->link.ops = &ip_ops;
	il->link.fd = fd;
	il->link.local = *local;
	il->link.pool = pool;
	return &il->link;
}
