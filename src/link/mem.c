// SPDX-License-Identifier: MIT
/*
 * The memory link: a network link kind with no socket, for running a node
 * in a test or a fuzzer. What the test pushes is received, in order, as if
 * from the address it names; what the node sends is kept (a bounded
 * number, the oldest dropped first) for the test to read, never put on a
 * network. An eventfd stands for the socket, so the node's loop wakes for
 * pushed packets as it would for datagrams.
 */
#include "link/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/loop.h"

struct mem_frame {
	struct an_addr peer; /* from (received) or to (sent) */
	uint16_t len;
	uint8_t bytes[AN_PKT_MAX];
};

struct mem_ring {
	struct mem_frame *f;
	size_t cap, head, n;
};

struct mem_link {
	struct link link;
	struct mem_ring rx, tx;
	uint64_t sent_total;
};

static int ring_init(struct mem_ring *r, size_t cap)
{
	r->f = calloc(cap, sizeof(*r->f));
	r->cap = cap;
	return r->f ? 0 : -ENOMEM;
}

/* The next free frame; the oldest goes when the ring is full and
 * overwrite is set, else NULL. */
static struct mem_frame *ring_push(struct mem_ring *r, bool overwrite)
{
	if (r->n == r->cap) {
		if (!overwrite)
			return NULL;
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
	return &r->f[(r->head + r->n++) % r->cap];
}

static struct mem_frame *ring_pop(struct mem_ring *r)
{
	if (!r->n)
		return NULL;
	struct mem_frame *f = &r->f[r->head];
	r->head = (r->head + 1) % r->cap;
	r->n--;
	return f;
}

/* The eventfd stays readable while packets wait (epoll is level
 * triggered), and is read empty when the last one is taken. */
static void wake_clear(struct mem_link *m)
{
	uint64_t v;
	if (m->rx.n == 0 && read(m->link.fd, &v, sizeof(v)) < 0)
		return; /* nothing was pushed since: already clear */
}

static int mem_recv(struct link *l, struct pkt_pool *pool, struct pkt **ret, unsigned max)
{
	struct mem_link *m = (struct mem_link *)l;
	unsigned k = 0;
	while (k < max && m->rx.n) {
		struct pkt *p = pkt_get(pool);
		if (!p) {
			l->counters.rx_no_buffer++;
			break;
		}
		struct mem_frame *f = ring_pop(&m->rx);
		memcpy(p->ctx.pkt, f->bytes, f->len);
		p->len = f->len;
		p->from = f->peer;
		p->origin = AN_ORIGIN_NET;
		p->meta.ingress = PKT_IN_UDP;
		p->rx_ns = loop_now_ns();
		l->counters.rx_packets++;
		l->counters.rx_bytes += f->len;
		ret[k++] = p;
	}
	wake_clear(m);
	return (int)k;
}

static void mem_send(struct link *l, struct pkt *p, const struct an_addr *next_hop)
{
	struct mem_link *m = (struct mem_link *)l;
	struct mem_frame *f = ring_push(&m->tx, true);
	f->peer = *next_hop;
	f->len = p->len;
	memcpy(f->bytes, p->ctx.pkt, p->len);
	m->sent_total++;
	l->counters.tx_packets++;
	l->counters.tx_bytes += p->len;
	pkt_put(l->pool, p);
}

static void mem_flush(struct link *l)
{
}

static void mem_close(struct link *l)
{
	struct mem_link *m = (struct mem_link *)l;
	close(l->fd);
	free(m->rx.f);
	free(m->tx.f);
	free(m);
}

static const struct link_ops mem_ops = {
    .kind = "mem",
    .stats_key = "link",
    .title = "network link (in memory)",
    .recv = mem_recv,
    .send = mem_send,
    .flush = mem_flush,
    .close = mem_close,
};

struct link *link_mem_open(const struct an_addr *local, struct pkt_pool *pool, size_t keep)
{
	struct mem_link *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->link.ops = &mem_ops;
	m->link.local = *local;
	m->link.pool = pool;
	m->link.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->link.fd < 0 || ring_init(&m->rx, keep) < 0 || ring_init(&m->tx, keep) < 0) {
		if (m->link.fd >= 0)
			close(m->link.fd);
		free(m->rx.f);
		free(m->tx.f);
		free(m);
		return NULL;
	}
	return &m->link;
}

int link_mem_push(struct link *l, const void *bytes, size_t len, const struct an_addr *from)
{
	struct mem_link *m = (struct mem_link *)l;
	if (len > AN_PKT_MAX)
		return -EMSGSIZE;
	struct mem_frame *f = ring_push(&m->rx, false);
	if (!f)
		return -ENOBUFS;
	f->peer = *from;
	f->len = (uint16_t)len;
	if (len)
		memcpy(f->bytes, bytes, len);
	uint64_t one = 1;
	if (write(l->fd, &one, sizeof(one)) < 0)
		return -errno;
	return 0;
}

int link_mem_sent(struct link *l, void *buf, size_t cap, struct an_addr *ret_to)
{
	struct mem_link *m = (struct mem_link *)l;
	struct mem_frame *f = ring_pop(&m->tx);
	if (!f)
		return -ENOENT;
	if (f->len > cap)
		return -EMSGSIZE;
	memcpy(buf, f->bytes, f->len);
	if (ret_to)
		*ret_to = f->peer;
	return f->len;
}

uint64_t link_mem_sent_total(const struct link *l)
{
	return ((const struct mem_link *)l)->sent_total;
}
