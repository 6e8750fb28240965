// SPDX-License-Identifier: MIT
/*
 * The UDP overlay link: capsules between nodes as UDP datagrams, received
 * with recvmmsg straight into packet contexts and sent with sendmmsg from
 * them, LINK_BATCH at a time, as PAN's user-space node did with one call per
 * packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "link/link.h"

struct link_udp {
	struct link link;
	/* Receive side: buffers are taken from the pool before each call. */
	struct mmsghdr rx_msg[LINK_BATCH];
	struct iovec rx_iov[LINK_BATCH];
	struct sockaddr_in6 rx_sa[LINK_BATCH];
	struct pkt *rx_pkt[LINK_BATCH];
	unsigned rx_ready; /* buffers already taken and set up */
	/* Send side. */
	struct mmsghdr tx_msg[LINK_BATCH];
	struct iovec tx_iov[LINK_BATCH];
	struct sockaddr_in6 tx_sa[LINK_BATCH];
	struct pkt *tx_pkt[LINK_BATCH];
	unsigned tx_n;
};

void link_addr_to_sa(const struct an_addr *a, struct sockaddr_in6 *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->sin6_family = AF_INET6;
	memcpy(&ret->sin6_addr, a->ip, 16);
	ret->sin6_port = a->port;
}

void link_addr_from_sa(const struct sockaddr_in6 *sa, struct an_addr *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->ip, &sa->sin6_addr, 16);
	ret->port = sa->sin6_port;
}

/* Slots 0..rx_ready-1 always hold a buffer and a message header ready for
 * recvmmsg, so that a call only re-prepares the slots it consumed. */
static void rx_slot_set(struct link_udp *u, unsigned i, struct pkt *p)
{
	u->rx_pkt[i] = p;
	u->rx_iov[i] = (struct iovec){.iov_base = p->ctx.pkt, .iov_len = AN_PKT_MAX};
	u->rx_msg[i].msg_hdr = (struct msghdr){
	    .msg_name = &u->rx_sa[i],
	    .msg_namelen = sizeof(u->rx_sa[i]),
	    .msg_iov = &u->rx_iov[i],
	    .msg_iovlen = 1,
	};
}

static int udp_recv(struct link *l, struct pkt_pool *pool, struct pkt **ret, unsigned max)
{
	struct link_udp *u = (struct link_udp *)l;
	if (max > LINK_BATCH)
		max = LINK_BATCH;
	while (u->rx_ready < max) {
		struct pkt *p = pkt_get(pool);
		if (!p)
			break;
		rx_slot_set(u, u->rx_ready++, p);
	}
	if (u->rx_ready == 0) {
		l->counters.rx_no_buffer++;
		return 0;
	}
	int n = recvmmsg(l->fd, u->rx_msg, u->rx_ready < max ? u->rx_ready : max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	unsigned out = 0;
	uint64_t now = loop_now_ns();
	for (int i = 0; i < n; i++) {
		struct pkt *p = u->rx_pkt[i];
		/* Too big for a context: handed up marked, so that the node
		 * counts it as received and dropped for its size. */
		p->truncated = (u->rx_msg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
		if (p->truncated)
			l->counters.rx_truncated++;
		p->len = (uint16_t)(p->truncated ? AN_PKT_MAX : u->rx_msg[i].msg_len);
		link_addr_from_sa(&u->rx_sa[i], &p->from);
		p->origin = AN_ORIGIN_NET;
		p->meta.ingress = PKT_IN_UDP;
		p->applink = 0;
		p->rx_ns = now;
		l->counters.rx_packets++;
		l->counters.rx_bytes += p->len;
		ret[out++] = p;
		/* Refill the slot in place; when the pool is dry, the slot
		 * is left empty and the ready slots are packed below. */
		struct pkt *q = pkt_get(pool);
		if (q)
			rx_slot_set(u, (unsigned)i, q);
		else
			u->rx_pkt[i] = NULL;
	}
	unsigned keep = 0;
	for (unsigned i = 0; i < u->rx_ready; i++) {
		struct pkt *p = u->rx_pkt[i];
		if (!p)
			continue;
		if (keep != i)
			rx_slot_set(u, keep, p);
		keep++;
	}
	u->rx_ready = keep;
	return (int)out;
}

static void udp_flush(struct link *l)
{
	struct link_udp *u = (struct link_udp *)l;
	unsigned done = 0;
	while (done < u->tx_n) {
		int n = sendmmsg(l->fd, u->tx_msg + done, u->tx_n - done, MSG_DONTWAIT);
		if (n <= 0) {
			/* A full socket buffer or an unreachable peer: drop the
			 * one at the head and go on with the rest. */
			if (n < 0)
				log_ratelimited(LOG_DEBUG, "udp send: %s", strerror(errno));
			l->counters.tx_errors++;
			done++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			l->counters.tx_packets++;
			l->counters.tx_bytes += u->tx_msg[done + (unsigned)i].msg_len;
		}
		done += (unsigned)n;
	}
	for (unsigned i = 0; i < u->tx_n; i++)
		pkt_put(l->pool, u->tx_pkt[i]);
	u->tx_n = 0;
}

static void udp_send(struct link *l, struct pkt *p, const struct an_addr *next_hop)
{
	struct link_udp *u = (struct link_udp *)l;
	unsigned i = u->tx_n++;
	u->tx_pkt[i] = p;
	link_addr_to_sa(next_hop, &u->tx_sa[i]);
	u->tx_iov[i] = (struct iovec){.iov_base = p->ctx.pkt, .iov_len = p->len};
	u->tx_msg[i].msg_hdr = (struct msghdr){
	    .msg_name = &u->tx_sa[i],
	    .msg_namelen = sizeof(u->tx_sa[i]),
	    .msg_iov = &u->tx_iov[i],
	    .msg_iovlen = 1,
	};
	if (u->tx_n == LINK_BATCH)
		udp_flush(l);
}

static void udp_close(struct link *l)
{
	struct link_udp *u = (struct link_udp *)l;
	udp_flush(l);
	for (unsigned i = 0; i < u->rx_ready; i++)
		pkt_put(l->pool, u->rx_pkt[i]);
	close(l->fd);
	free(u);
}

void link_udp_read_kernel_drops(struct link *l)
{
	struct stat st;
	if (fstat(l->fd, &st) < 0)
		return;
	FILE *f = fopen("/proc/net/udp6", "re");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		/* sl local rem st tx:rx tr:when retr uid timeout inode ref pointer drops */
		unsigned long long inode, drops;
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %llu %*s %*s %llu", &inode, &drops) == 2 &&
		    inode == (unsigned long long)st.st_ino) {
			l->counters.rx_kernel_drops = drops;
			break;
		}
	}
	fclose(f);
}

static const struct link_ops udp_ops = {
    .kind = "udp",
    .stats_key = "link",
    .title = "network link",
    .recv = udp_recv,
    .send = udp_send,
    .flush = udp_flush,
    .close = udp_close,
};

struct link *link_udp_open(const struct an_addr *addr, int fd, struct pkt_pool *pool)
{
	struct link_udp *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	if (fd < 0) {
		fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			goto fail;
		int off = 0;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		struct sockaddr_in6 sa;
		link_addr_to_sa(addr, &sa);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int e = errno;
			close(fd);
			errno = e;
			goto fail;
		}
	}
	/* Room for bursts: the kernel default drops at a few hundred packets. */
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	struct sockaddr_in6 bound;
	socklen_t blen = sizeof(bound);
	if (getsockname(fd, (struct sockaddr *)&bound, &blen) < 0 || bound.sin6_family != AF_INET6) {
		close(fd);
		errno = EAFNOSUPPORT;
		goto fail;
	}
	u->link.ops = &udp_ops;
	u->link.fd = fd;
	u->link.pool = pool;
	link_addr_from_sa(&bound, &u->link.local);
	return &u->link;
fail:
	free(u);
	return NULL;
}
