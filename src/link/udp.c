// SPDX-License-Identifier: MIT
/*
 * The UDP overlay link: capsules between nodes as UDP datagrams, received
 * with recvmmsg straight into packet contexts and sent with sendmmsg from
 * them, LINK_BATCH at a time, as PAN's user-space node did with one call per
 * packet. A run of capsules to the same next hop and of one length (the
 * last may be shorter) goes as one UDP GSO message (UDP_SEGMENT): the
 * kernel carries it through its stack once and cuts it into the datagrams
 * at the end, or not at all to a receiver that takes GRO, as this link
 * does (UDP_GRO): such a run arrives as one message, whose first datagram
 * stays in the buffer it came into and whose others are copied out of a
 * slot's overflow area into buffers of their own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef UDP_GRO
#define UDP_GRO 104
#endif

/* Room for a GRO run beyond the first datagram's buffer. */
#define UDP_GRO_OVERFLOW (65536 - AN_PKT_MAX)

#include "core/log.h"
#include "core/loop.h"
#include "link/link.h"

struct link_udp {
	struct link link;
	/* Receive side: buffers are taken from the pool before each call. */
	struct mmsghdr rx_msg[LINK_BATCH];
	struct iovec rx_iov[LINK_BATCH][2]; /* the buffer, then the slot's overflow (GRO) */
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} rx_ctl[LINK_BATCH];
	uint8_t *rx_over; /* LINK_BATCH overflow areas, when the socket takes GRO */
	struct pkt_queue rx_spill; /* datagrams of GRO runs past what recv could return */
	struct sockaddr_in6 rx_sa[LINK_BATCH];
	struct pkt *rx_pkt[LINK_BATCH];
	unsigned rx_ready; /* buffers already taken and set up */
	/* Send side. */
	struct iovec tx_iov[LINK_BATCH];
	struct sockaddr_in6 tx_sa[LINK_BATCH];
	struct pkt *tx_pkt[LINK_BATCH];
	unsigned tx_n;
	/* What flush hands sendmmsg: one message per datagram, or per run
	 * (GSO), and how many datagrams each carries. */
	struct mmsghdr out_msg[LINK_BATCH];
	unsigned out_count[LINK_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} out_ctl[LINK_BATCH];
	/* Runs are only made of datagrams up to this length: a size the
	 * kernel refused to segment (past the path's MTU) is sent one by one. */
	size_t gso_max;
};

/* Datagrams and octets one GSO message may carry (the kernel's
 * UDP_MAX_SEGMENTS is 64 or more; an IP datagram's payload 65507). */
#define UDP_GSO_SEGMENTS 64
#define UDP_GSO_BYTES 65000

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
	u->rx_iov[i][0] = (struct iovec){.iov_base = p->ctx.pkt, .iov_len = AN_PKT_MAX};
	u->rx_msg[i].msg_hdr = (struct msghdr){
	    .msg_name = &u->rx_sa[i],
	    .msg_namelen = sizeof(u->rx_sa[i]),
	    .msg_iov = u->rx_iov[i],
	    .msg_iovlen = 1,
	};
	if (u->rx_over) {
		u->rx_iov[i][1] = (struct iovec){.iov_base = u->rx_over + (size_t)i * UDP_GRO_OVERFLOW,
						 .iov_len = UDP_GRO_OVERFLOW};
		u->rx_msg[i].msg_hdr.msg_iovlen = 2;
		u->rx_msg[i].msg_hdr.msg_control = u->rx_ctl[i].buf;
		u->rx_msg[i].msg_hdr.msg_controllen = sizeof(u->rx_ctl[i].buf);
	}
}

/* The segment size of a GRO run, or 0 for a single datagram. */
static size_t gro_size(const struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR((struct msghdr *)h, c))
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
			int v;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			return v > 0 ? (size_t)v : 0;
		}
	return 0;
}

/* Copy len octets at off of a message received into slot i (its buffer,
 * then its overflow area) to dst. */
static void rx_copy(const struct link_udp *u, unsigned i, size_t off, uint8_t *dst, size_t len)
{
	const uint8_t *first = u->rx_iov[i][0].iov_base, *over = u->rx_iov[i][1].iov_base;
	if (off < AN_PKT_MAX) {
		size_t k = AN_PKT_MAX - off < len ? AN_PKT_MAX - off : len;
		memcpy(dst, first + off, k);
		dst += k;
		len -= k;
		off = AN_PKT_MAX;
	}
	if (len)
		memcpy(dst, over + (off - AN_PKT_MAX), len);
}

static int udp_recv(struct link *l, struct pkt_pool *pool, struct pkt **ret, unsigned max)
{
	struct link_udp *u = (struct link_udp *)l;
	if (max > LINK_BATCH)
		max = LINK_BATCH;
	/* Room for a message's first datagram whatever the runs hold: the
	 * read asks for at most max messages, and what they bring past max
	 * waits in rx_spill for udp_spill. */
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
		size_t len = u->rx_msg[i].msg_len, seg = u->rx_over ? gro_size(&u->rx_msg[i].msg_hdr) : 0;
		if (seg == 0 || seg >= len)
			seg = len;
		/* Too big for a context: handed up marked, so that the node
		 * counts it as received and dropped for its size. */
		p->truncated = (u->rx_msg[i].msg_hdr.msg_flags & MSG_TRUNC) != 0 || seg > AN_PKT_MAX;
		if (p->truncated)
			l->counters.rx_truncated++;
		p->len = (uint16_t)(p->truncated ? AN_PKT_MAX : seg);
		link_addr_from_sa(&u->rx_sa[i], &p->from);
		p->origin = AN_ORIGIN_NET;
		p->meta.ingress = PKT_IN_UDP;
		p->applink = 0;
		p->rx_ns = now;
		l->counters.rx_packets++;
		l->counters.rx_bytes += p->len;
		/* Past max (an earlier GRO run took the room): behind it, in
		 * order, in rx_spill. */
		if (out < max)
			ret[out++] = p;
		else
			pkt_queue_push(&u->rx_spill, p);
		/* The rest of a GRO run: each datagram copied into a buffer of
		 * its own, returned or, past max, spilled for the node's queue. */
		if (seg < len && seg <= AN_PKT_MAX && !p->truncated) {
			l->counters.rx_gro_runs++;
			for (size_t off = seg; off < len; off += seg) {
				struct pkt *q = pkt_get(pool);
				if (!q) {
					l->counters.rx_gro_dropped++;
					continue;
				}
				size_t k = len - off < seg ? len - off : seg;
				rx_copy(u, (unsigned)i, off, q->ctx.pkt, k);
				q->len = (uint16_t)k;
				q->truncated = 0;
				q->from = p->from;
				q->origin = AN_ORIGIN_NET;
				q->meta.ingress = PKT_IN_UDP;
				q->applink = 0;
				q->rx_ns = now;
				l->counters.rx_packets++;
				l->counters.rx_bytes += k;
				if (out < max)
					ret[out++] = q;
				else
					pkt_queue_push(&u->rx_spill, q);
			}
		}
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

static bool same_dest(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_port == b->sin6_port && memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr)) == 0;
}

/* The messages for the queued datagrams: runs as GSO messages. */
static unsigned build_out(struct link_udp *u)
{
	unsigned m = 0;
	for (unsigned i = 0; i < u->tx_n;) {
		size_t seg = u->tx_iov[i].iov_len, total = seg;
		unsigned j = i + 1;
		if (seg <= u->gso_max) {
			while (j < u->tx_n && j - i < UDP_GSO_SEGMENTS && same_dest(&u->tx_sa[j], &u->tx_sa[i]) &&
			       u->tx_iov[j].iov_len <= seg && total + u->tx_iov[j].iov_len <= UDP_GSO_BYTES) {
				total += u->tx_iov[j].iov_len;
				/* A shorter one ends the run (the kernel's last
				 * segment may be short, the others may not). */
				if (u->tx_iov[j++].iov_len < seg)
					break;
			}
		}
		struct msghdr *h = &u->out_msg[m].msg_hdr;
		*h = (struct msghdr){
		    .msg_name = &u->tx_sa[i],
		    .msg_namelen = sizeof(u->tx_sa[i]),
		    .msg_iov = &u->tx_iov[i],
		    .msg_iovlen = j - i,
		};
		if (j - i > 1) {
			h->msg_control = u->out_ctl[m].buf;
			h->msg_controllen = sizeof(u->out_ctl[m].buf);
			struct cmsghdr *c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t gso = (uint16_t)seg;
			memcpy(CMSG_DATA(c), &gso, sizeof(gso));
		}
		u->out_count[m++] = j - i;
		i = j;
	}
	return m;
}

static void udp_flush(struct link *l)
{
	struct link_udp *u = (struct link_udp *)l;
	unsigned n_out = build_out(u), done = 0;
	while (done < n_out) {
		int n = sendmmsg(l->fd, u->out_msg + done, n_out - done, MSG_DONTWAIT);
		if (n <= 0) {
			struct msghdr *h = &u->out_msg[done].msg_hdr;
			if (n < 0 && h->msg_iovlen > 1 && (errno == EINVAL || errno == EIO || errno == EMSGSIZE ||
							   errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				/* The kernel would not segment this run (its size
				 * past the path's MTU, or no GSO): from now on no
				 * runs of this size, and this one one by one. */
				size_t seg = h->msg_iov[0].iov_len;
				u->gso_max = seg - 1;
				log_info("udp: the kernel does not segment %zu-octet datagrams (%s): sending them one by one",
					 seg, strerror(errno));
				for (size_t k = 0; k < h->msg_iovlen; k++) {
					struct msghdr one = {.msg_name = h->msg_name, .msg_namelen = h->msg_namelen,
							     .msg_iov = h->msg_iov + k, .msg_iovlen = 1};
					ssize_t w = sendmsg(l->fd, &one, MSG_DONTWAIT);
					if (w < 0) {
						l->counters.tx_errors++;
					} else {
						l->counters.tx_packets++;
						l->counters.tx_bytes += (uint64_t)w;
					}
				}
				done++;
				continue;
			}
			/* A full socket buffer or an unreachable peer: drop the
			 * one at the head and go on with the rest. */
			if (n < 0)
				log_ratelimited(LOG_DEBUG, "udp send: %s", strerror(errno));
			l->counters.tx_errors += u->out_count[done];
			done++;
			continue;
		}
		for (int i = 0; i < n; i++) {
			l->counters.tx_packets += u->out_count[done + (unsigned)i];
			l->counters.tx_bytes += u->out_msg[done + (unsigned)i].msg_len;
			if (u->out_count[done + (unsigned)i] > 1)
				l->counters.tx_gso_runs++;
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
	if (u->tx_n == LINK_BATCH)
		udp_flush(l);
}

static unsigned udp_spill(struct link *l, struct pkt_queue *q)
{
	struct link_udp *u = (struct link_udp *)l;
	unsigned k = 0;
	for (struct pkt *p; (p = pkt_queue_pop(&u->rx_spill)); k++)
		pkt_queue_push(q, p);
	return k;
}

static void udp_close(struct link *l)
{
	struct link_udp *u = (struct link_udp *)l;
	udp_flush(l);
	for (unsigned i = 0; i < u->rx_ready; i++)
		pkt_put(l->pool, u->rx_pkt[i]);
	for (struct pkt *p; (p = pkt_queue_pop(&u->rx_spill));)
		pkt_put(l->pool, p);
	free(u->rx_over);
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
    .spill = udp_spill,
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
	u->gso_max = UDP_GSO_BYTES;
	/* GRO: runs from a sender that uses GSO (anode's links) come up as
	 * one message each; without it, the kernel cuts them first. */
	int one = 1;
	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0)
		u->rx_over = malloc((size_t)LINK_BATCH * UDP_GRO_OVERFLOW);
	if (u->rx_over == NULL) {
		int zero = 0;
		setsockopt(fd, SOL_UDP, UDP_GRO, &zero, sizeof(zero));
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
