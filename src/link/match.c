// SPDX-License-Identifier: MIT
/*
 * The matching engine (match.h, seed 000 §4.1): one iptables rule and one
 * NFQUEUE queue per filter. This file owns the filters, their handlers, the
 * packets handlers hold, and which verdict each packet gets; the NFQUEUE
 * transport (reading batches, sending verdicts) is nfq.c's, and binding a
 * queue (nfq.c) and its rule (rules.c) are a backend's, which in anoded is
 * the privileged parent.
 *
 * Choices, and why:
 * - One netlink socket per queue, not one socket bound to every queue. The
 *   seed delivers each flow straight to the process that wants it, without
 *   a multiplexer; a socket per queue is what later lets the node hand one
 *   filter's socket to a service process, and it makes a queue's overflow
 *   (ENOBUFS) and its removal (close) its own business. It costs one fd per
 *   filter, and filters are few.
 * - Packets are read in batches into slots shared by all queues, and the
 *   verdicts of a batch go back in one send (nfq.h). An ACCEPT or DROP
 *   never copies the packet; a MODIFIED verdict copies it once, into the
 *   verdict message.
 * - The copy range is the whole packet (0xffff), without NFQA_CFG_F_GSO, so
 *   that the kernel segments GSO packets and fills in offloaded checksums
 *   before queueing: handlers see ordinary IPv4 packets.
 * - NFQA_CFG_F_FAIL_OPEN: when a queue is full (NFQ_QUEUE_MAXLEN) or our
 *   socket buffer overflows, the kernel lets the packet through instead of
 *   dropping it. A router that is slow should degrade into a plain router,
 *   not into a black hole; the node counts such packets (queue_drops) when
 *   the socket reports ENOBUFS. Rules use --queue-bypass for the same
 *   reason: with no node bound (the node died), the flow is forwarded.
 * - HOLD: the engine keeps the very struct match_pkt the handler got (its
 *   address stays valid) and moves its data into a malloc'ed copy of len
 *   bytes (cap = len), both owned by the engine until match_verdict. The
 *   kernel keeps the packet queued meanwhile, so NFQ_QUEUE_MAXLEN also
 *   bounds what handlers can hold.
 * - Removal: the rule goes first, so no new packet is queued; the queue then
 *   stays bound for MATCH_REMOVE_GRACE_MS (packets still being queued on
 *   another CPU, or sitting in the socket, are accepted without the
 *   handler) and until its held packets have their verdicts; only then is
 *   the socket closed, which unbinds the queue.
 * - Who binds a queue and installs its rule is the backend's business
 *   (struct match_backend): by default this process does both at once
 *   (nfq.c, rules.c; iptables waits at most 2 s for the xtables lock); in
 *   router mode the node child asks its privileged parent, which answers
 *   later with the bound socket (src/priv). Either way a filter is pending
 *   until match_filter_ready, and its owner hears the outcome from a timer,
 *   never from inside match_install.
 *
 * IPv4 only for now (iptables, AF_INET); ip6tables would follow the same
 * path.
 */
#include "link/match.h"

#include <netinet/in.h> /* before linux/netfilter.h, which would bring linux/in.h */
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "link/nfq.h"
#include "link/rules.h"
#include "link/xsk.h"
#include "wire/wire.h"

#define MATCH_REMOVE_GRACE_MS 100
#define MATCH_HELD_BUCKETS 1024
#define MATCH_XSK_MAX 64 /* AF_XDP ports: interfaces x receive queues */

struct match_filter_st {
	struct match_engine *m;
	unsigned id;
	uint16_t queue;
	struct match_filter f;
	match_handler h;
	void *arg;
	match_ready ready; /* told once: bound and in place, or failed */
	int fd;		   /* the queue's socket; -1 while pending */
	bool removing;
	int ready_err;
	struct loop_timer *ready_t; /* set while the outcome waits to be told */
	struct loop_timer *grace;   /* set while the removal waits */
	size_t held;
	uint64_t pkt_ns; /* what one of its packets took lately (its handler may run code) */
};

/* A packet a handler holds: pkt is what the handler got, at the same address. */
struct match_held {
	struct match_pkt pkt;
	struct match_filter_st *f;
	struct match_held *hnext;
};

struct match_engine {
	struct loop *loop;
	struct match_backend be;
	bool local; /* be is this file's own: queues and rules made here */
	char tag[MATCH_TAG_MAX + 1];
	uint16_t first_queue;
	struct match_filter_st **filters; /* indexed by id */
	size_t n_filters;		  /* slots in filters[] */
	struct match_counters counters;
	struct nfq_io *io;		   /* receive slots and verdicts, shared by every queue */
	struct match_held *rec[NFQ_BATCH]; /* what the handler sees per slot */
	struct match_held *held[MATCH_HELD_BUCKETS];
	/* AF_XDP (kernel-up afxdp): the ports read, where packets go on, and
	 * the record the handler sees for the frame being read. */
	struct match_xsk *xsk[MATCH_XSK_MAX];
	size_t n_xsk;
	struct xsk_out *out;
	struct match_held *xrec;
	uint64_t xsk_pkt_ns;
	/* The frame being handled: where the XDP program's FIB lookup says
	 * it goes on, and its destination as it came. */
	const struct xsk_packet *cur;
	uint32_t cur_daddr;
};

struct match_xsk {
	struct match_engine *m;
	struct xsk_port *port;
};

int match_filter_check(const struct match_filter *f)
{
	if (f->src_prefix > 32 || f->dst_prefix > 32)
		return -EINVAL;
	bool ports = f->sport_lo || f->sport_hi || f->dport_lo || f->dport_hi;
	if (ports && f->proto != IPPROTO_UDP && f->proto != IPPROTO_TCP)
		return -EINVAL;
	if ((f->sport_hi && f->sport_hi < f->sport_lo) || (f->dport_hi && f->dport_hi < f->dport_lo))
		return -EINVAL;
	return 0;
}

/* A packet that came by AF_XDP: what goes on leaves by the raw socket. */
static void xsk_verdict(struct match_engine *m, const struct match_pkt *p, enum match_verdict v, const void *data,
			size_t len)
{
	if (v == MATCH_DROP) {
		m->counters.dropped++;
		return;
	}
	if (v == MATCH_MODIFIED) {
		m->counters.modified++;
	} else {
		m->counters.accepted++;
		data = p->data;
		len = p->len;
	}
	/* The frame being handled, going on to where it came for: by the
	 * socket of its way out, past the stack, when the FIB said. */
	if (m->cur && m->xrec && p == &m->xrec->pkt && m->cur->out_ifindex && len >= 20 &&
	    memcmp((const uint8_t *)data + 16, &m->cur_daddr, 4) == 0) {
		for (size_t i = 0; i < m->n_xsk; i++)
			if (xsk_port_ifindex(m->xsk[i]->port) == m->cur->out_ifindex) {
				if (xsk_port_send(m->xsk[i]->port, data, len, m->cur->dmac, m->cur->smac)) {
					m->counters.xsk_direct++;
					return;
				}
				break;
			}
	}
	if (!m->out || !xsk_out_send(m->out, data, len))
		m->counters.xsk_lost++;
}

/* Account and queue the verdict for one packet. */
static void verdict(struct match_engine *m, struct match_filter_st *f, const struct match_pkt *p, enum match_verdict v,
		    const void *data, size_t len)
{
	if (p->via_xsk) {
		xsk_verdict(m, p, v, data, len);
		return;
	}
	switch (v) {
	case MATCH_DROP:
		m->counters.dropped++;
		nfq_verdict(m->io, f->fd, f->queue, p->id, NF_DROP, NULL, 0);
		break;
	case MATCH_MODIFIED:
		m->counters.modified++;
		nfq_verdict(m->io, f->fd, f->queue, p->id, NF_ACCEPT, data, len);
		break;
	default:
		m->counters.accepted++;
		nfq_verdict(m->io, f->fd, f->queue, p->id, NF_ACCEPT, NULL, 0);
		break;
	}
}

/* ---- held packets ---- */

static size_t held_bucket(const struct match_pkt *p)
{
	uintptr_t x = (uintptr_t)p;
	return (size_t)((x >> 4) ^ (x >> 14)) % MATCH_HELD_BUCKETS;
}

static struct match_held **held_find(struct match_engine *m, const struct match_pkt *p)
{
	struct match_held **pp = &m->held[held_bucket(p)];
	while (*pp && &(*pp)->pkt != p)
		pp = &(*pp)->hnext;
	return pp;
}

static void filter_finish(void *arg);

static void filter_reap_later(struct match_filter_st *f)
{
	/* Only from a timer: the packet batch being dispatched may still
	 * refer to this filter. */
	if (!f->grace)
		f->grace = loop_timer_add(f->m->loop, 0, filter_finish, f);
}

int match_verdict(struct match_engine *m, const struct match_pkt *held, enum match_verdict v, const void *data,
		  size_t len)
{
	if (v == MATCH_HOLD)
		return -EINVAL;
	struct match_held **pp = held_find(m, held);
	struct match_held *h = *pp;
	if (!h)
		return -ENOENT;
	if (v == MATCH_MODIFIED) {
		if (!data) {
			data = h->pkt.data;
			len = h->pkt.len;
		}
		if (len > 0xffff)
			return -EMSGSIZE;
	}
	*pp = h->hnext;
	struct match_filter_st *f = h->f;
	m->counters.reinjected++;
	verdict(m, f, &h->pkt, v, data, len);
	/* Sent now: a held packet's verdict does not wait for the next batch. */
	nfq_flush(m->io);
	if (m->out)
		m->counters.xsk_lost += xsk_out_flush(m->out);
	free(h->pkt.data);
	free(h);
	if (--f->held == 0 && f->removing)
		filter_reap_later(f);
	return 0;
}

/* ---- receiving ---- */

/* The handler's turn for packet p in record *slot (a receive slot's, or
 * the AF_XDP frame's); a held packet takes its record with it. */
static void dispatch(struct match_engine *m, struct match_filter_st *f, struct match_held **slot)
{
	struct match_held *rec = *slot;
	struct match_pkt *p = &rec->pkt;
	enum match_verdict v = f->h(f->arg, p);
	if (v == MATCH_MODIFIED && p->len > p->cap) {
		log_ratelimited(LOG_DEBUG, "match: queue %u: handler wrote past the buffer", f->queue);
		v = MATCH_DROP;
	}
	if (v != MATCH_HOLD) {
		verdict(m, f, p, v, p->data, p->len);
		return;
	}
	uint8_t *copy = malloc(p->len ? p->len : 1);
	if (!copy) {
		/* The handler's pointer is not in the held table, so a later
		 * match_verdict on it fails with -ENOENT instead of hitting
		 * another packet. */
		log_ratelimited(LOG_DEBUG, "match: queue %u: no memory to hold a packet", f->queue);
		verdict(m, f, p, MATCH_ACCEPT, NULL, 0);
		return;
	}
	memcpy(copy, p->data, p->len);
	p->data = copy;
	p->cap = p->len;
	rec->f = f;
	struct match_held **head = &m->held[held_bucket(p)];
	rec->hnext = *head;
	*head = rec;
	*slot = NULL; /* the next packet in this slot gets a new record */
	f->held++;
	m->counters.held++;
}

static void handle_packet(void *arg, struct nfq_packet *np)
{
	struct match_filter_st *f = arg;
	struct match_engine *m = f->m;
	m->counters.packets++;

	struct match_held *rec = m->rec[np->slot];
	if (!rec) {
		rec = m->rec[np->slot] = malloc(sizeof(*rec));
		if (!rec) {
			verdict(m, f, &(struct match_pkt){.id = np->id}, MATCH_ACCEPT, NULL, 0);
			return;
		}
	}
	struct match_pkt *p = &rec->pkt;
	*p = (struct match_pkt){
	    .id = np->id,
	    .queue = f->queue,
	    .data = np->data,
	    .len = np->len,
	    .cap = np->cap,
	    .indev = np->indev,
	    .outdev = np->outdev,
	};
	if (f->removing || !np->whole) {
		/* A removed filter's stragglers, or a packet we do not have
		 * whole: it goes on untouched, the handler never sees it. */
		verdict(m, f, p, MATCH_ACCEPT, NULL, 0);
		return;
	}
	dispatch(m, f, &m->rec[np->slot]);
}

/* Read and answer what the socket holds, a batch at a time: stop after
 * max_batches or when the round's slice is spent (each packet may run a
 * module), so that one busy queue does not hold the loop; the socket,
 * still readable, wakes the next round. */
static void filter_read(struct match_filter_st *f, unsigned max_batches)
{
	struct match_engine *m = f->m;
	for (unsigned b = 0; b < max_batches; b++) {
		/* A batch sized to what is left of the slice at what its
		 * packets took lately, one at least: every queue gets a turn
		 * each round, and the round overruns by about one packet. */
		uint64_t left = loop_slice_left(m->loop), t0 = loop_now_ns(), p0 = m->counters.packets;
		uint64_t fit = f->pkt_ns ? left / f->pkt_ns : NFQ_BATCH;
		unsigned batch = fit < 1 ? 1 : fit > NFQ_BATCH ? NFQ_BATCH : (unsigned)fit;
		bool more = nfq_read(m->io, f->fd, f->queue, 1, batch, handle_packet, f);
		uint64_t k = m->counters.packets - p0;
		if (k) {
			/* Quick to rise, slow to fall: a burst of costly packets
			 * is not forgotten at the first cheap one. */
			uint64_t per = (loop_now_ns() - t0) / k;
			f->pkt_ns = per > f->pkt_ns ? per : f->pkt_ns - f->pkt_ns / 8 + per / 8;
		}
		if (!more || left == 0)
			break;
	}
}

/* Until the socket is empty: a queue going away answers everything. */
static void filter_read_all(struct match_filter_st *f)
{
	nfq_read(f->m->io, f->fd, f->queue, 64, NFQ_BATCH, handle_packet, f);
}

static void filter_readable(void *arg, int fd, uint32_t events)
{
	filter_read(arg, 8);
}

/* ---- AF_XDP ---- */

static void handle_frame(void *arg, struct xsk_packet *xp)
{
	struct match_engine *m = arg;
	m->counters.packets++;
	m->counters.xsk_packets++;
	struct match_filter_st *f = xp->filter < m->n_filters ? m->filters[xp->filter] : NULL;
	struct match_pkt tmp, *p = &tmp;
	if (!m->xrec)
		m->xrec = malloc(sizeof(*m->xrec));
	if (m->xrec)
		p = &m->xrec->pkt;
	*p = (struct match_pkt){
	    .queue = f ? f->queue : 0,
	    .data = xp->data,
	    .len = xp->len,
	    .cap = xp->cap > 0xffff ? 0xffff : xp->cap,
	    .indev = xp->ifindex,
	    .via_xsk = true,
	};
	m->cur = xp;
	memcpy(&m->cur_daddr, xp->data + 16, 4);
	if (!f || f->fd < 0 || f->removing || f->ready_err < 0 || !m->xrec) {
		/* A filter not (or no longer) installed: the packet goes on
		 * untouched, as NFQUEUE's stragglers do. */
		verdict(m, f, p, MATCH_ACCEPT, NULL, 0);
	} else {
		dispatch(m, f, &m->xrec);
	}
	m->cur = NULL;
}

/* As filter_read: batches sized to what is left of the loop's slice. */
/* What was decided goes: the raw socket's batch, the ports' TX rings,
 * NFQUEUE verdicts of held packets released meanwhile. */
static void xsk_flush_all(struct match_engine *m)
{
	if (m->out)
		m->counters.xsk_lost += xsk_out_flush(m->out);
	for (size_t i = 0; i < m->n_xsk; i++)
		xsk_port_kick(m->xsk[i]->port);
	nfq_flush(m->io);
}

/* As filter_read: batches sized to what is left of the loop's slice. A
 * short batch does not end the turn: the ring is looked at again (a load,
 * no system call) until it is empty, because going back to epoll for
 * every few frames costs more than the frames (the sender's CPU fills the
 * ring while this one empties it). */
static void xsk_readable(void *arg, int fd, uint32_t events)
{
	struct match_xsk *x = arg;
	struct match_engine *m = x->m;
	for (unsigned b = 0; b < 64; b++) {
		uint64_t left = loop_slice_left(m->loop), t0 = loop_now_ns();
		uint64_t fit = m->xsk_pkt_ns ? left / m->xsk_pkt_ns : XSK_BATCH;
		unsigned batch = fit < 1 ? 1 : fit > XSK_BATCH ? XSK_BATCH : (unsigned)fit;
		unsigned k = xsk_port_read(x->port, batch, handle_frame, m);
		if (k) {
			uint64_t per = (loop_now_ns() - t0) / k;
			m->xsk_pkt_ns = per > m->xsk_pkt_ns ? per : m->xsk_pkt_ns - m->xsk_pkt_ns / 8 + per / 8;
		}
		xsk_flush_all(m);
		if (k == 0 || left == 0)
			break;
	}
}

int match_xsk_add(struct match_engine *m, struct xsk_port *port)
{
	struct match_xsk *x = m->n_xsk < MATCH_XSK_MAX ? calloc(1, sizeof(*x)) : NULL;
	if (!x) {
		xsk_port_close(port);
		return m->n_xsk < MATCH_XSK_MAX ? -ENOMEM : -ENOSPC;
	}
	x->m = m;
	x->port = port;
	int r = loop_fd_add(m->loop, xsk_port_fd(port), EPOLLIN, xsk_readable, x);
	if (r < 0) {
		xsk_port_close(port);
		free(x);
		return r;
	}
	m->xsk[m->n_xsk++] = x;
	return 0;
}

void match_xsk_out(struct match_engine *m, struct xsk_out *out)
{
	xsk_out_free(m->out);
	m->out = out;
}

size_t match_xsk_ports(const struct match_engine *m)
{
	return m->n_xsk;
}

uint64_t match_xsk_malformed(const struct match_engine *m)
{
	uint64_t n = 0;
	for (size_t i = 0; i < m->n_xsk; i++)
		n += xsk_port_malformed(m->xsk[i]->port);
	return n;
}

uint64_t match_xsk_kernel_drops(const struct match_engine *m)
{
	uint64_t n = 0;
	for (size_t i = 0; i < m->n_xsk; i++)
		n += xsk_port_kernel_drops(m->xsk[i]->port);
	return n;
}

/* ---- queues ---- */

/* Take the bound queue socket fd (the backend's answer) and watch it. */
static int filter_attach(struct match_filter_st *f, int fd)
{
	f->fd = fd;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return loop_fd_add(f->m->loop, fd, EPOLLIN, filter_readable, f);
}

/* Close the socket, which unbinds the queue, and forget the filter. */
static void filter_destroy(struct match_filter_st *f)
{
	struct match_engine *m = f->m;
	if (f->fd >= 0)
		nfq_forget(m->io, f->fd);
	if (f->grace)
		loop_timer_cancel(m->loop, f->grace);
	if (f->ready_t)
		loop_timer_cancel(m->loop, f->ready_t);
	if (f->fd >= 0) {
		loop_fd_del(m->loop, f->fd);
		close(f->fd);
	}
	if (m->filters[f->id] == f)
		m->filters[f->id] = NULL;
	free(f);
}

static void filter_finish(void *arg)
{
	struct match_filter_st *f = arg;
	f->grace = NULL;
	/* Whatever the socket still holds is accepted, not dropped by the
	 * unbind. */
	filter_read_all(f);
	if (f->held == 0)
		filter_destroy(f);
}

/* ---- the local backend: this process binds queues and runs iptables ---- */

static int local_install(void *arg, unsigned id, uint16_t queue, const struct match_filter *f)
{
	struct match_engine *m = arg;
	int fd = nfq_queue_open(queue);
	if (fd < 0)
		return log_errno_ret(-fd, "match: queue %u: %s%s", queue, strerror(-fd),
				     fd == -EBUSY ? " (bound by another process)" : "");
	int r = rules_add(m->tag, id, queue, f);
	if (r < 0) {
		close(fd);
		return r;
	}
	match_filter_ready(m, id, fd, 0);
	return 0;
}

static int local_remove(void *arg, unsigned id, uint16_t queue, const struct match_filter *f)
{
	struct match_engine *m = arg;
	return rules_del(m->tag, id, queue, f);
}

/* ---- the engine ---- */

struct match_engine *match_new(struct loop *loop, const char *tag, uint16_t first_queue, const struct match_backend *be)
{
	if (!rules_tag_ok(tag)) {
		log_err("match: bad tag '%s' (letters, digits, - and _, at most %d)", tag, MATCH_TAG_MAX);
		return NULL;
	}
	struct match_engine *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->loop = loop;
	m->local = !be;
	m->be = be ? *be : (struct match_backend){.install = local_install, .remove = local_remove, .arg = m};
	snprintf(m->tag, sizeof(m->tag), "%s", tag);
	m->first_queue = first_queue;
	m->io = nfq_io_new(&(struct nfq_counters){.failed_verdicts = &m->counters.failed_verdicts,
						  .overflows = &m->counters.queue_drops});
	if (!m->io)
		goto fail;
	/* A remote backend's owner does this itself. */
	if (m->local && match_cleanup_stale(tag) < 0)
		log_warn("match: stale rules of %s may remain", tag);
	return m;
fail:
	match_free(m);
	return NULL;
}

void match_free(struct match_engine *m)
{
	if (!m)
		return;
	/* Rules first, so that nothing new is queued. */
	for (size_t i = 0; i < m->n_filters; i++) {
		struct match_filter_st *f = m->filters[i];
		if (f && !f->removing) {
			m->be.remove(m->be.arg, f->id, f->queue, &f->f);
			f->removing = true;
		}
	}
	for (size_t b = 0; b < MATCH_HELD_BUCKETS; b++) {
		while (m->held[b]) {
			struct match_held *h = m->held[b];
			m->held[b] = h->hnext;
			m->counters.reinjected++;
			verdict(m, h->f, &h->pkt, MATCH_ACCEPT, NULL, 0);
			h->f->held--;
			free(h->pkt.data);
			free(h);
		}
	}
	if (m->io)
		nfq_flush(m->io);
	for (size_t i = 0; i < m->n_filters; i++) {
		struct match_filter_st *f = m->filters[i];
		if (f) {
			if (f->fd >= 0 && m->io)
				filter_read_all(f);
			filter_destroy(f);
		}
	}
	for (size_t i = 0; i < m->n_xsk; i++) {
		loop_fd_del(m->loop, xsk_port_fd(m->xsk[i]->port));
		xsk_port_close(m->xsk[i]->port);
		free(m->xsk[i]);
	}
	xsk_out_free(m->out);
	free(m->xrec);
	for (unsigned i = 0; i < NFQ_BATCH; i++)
		free(m->rec[i]);
	free(m->filters);
	nfq_io_free(m->io);
	free(m);
}

int match_install(struct match_engine *m, const struct match_filter *flt, match_handler h, match_ready ready, void *arg,
		  unsigned *ret_id)
{
	int r = match_filter_check(flt);
	if (r < 0)
		return log_errno_ret(EINVAL, "match: bad filter (prefix > 32, ports without UDP/TCP, or lo > hi)");
	if (!h || !ready)
		return -EINVAL;
	/* The lowest free id, so that queue numbers stay in a small range. */
	unsigned id = 0;
	while (id < m->n_filters && m->filters[id])
		id++;
	if (id >= MATCH_FILTERS_MAX || (unsigned)m->first_queue + id > 0xffff)
		return log_errno_ret(ENOSPC, "match: no filter left (at most %u, queues from %u)", MATCH_FILTERS_MAX,
				     m->first_queue);
	if (id == m->n_filters) {
		size_t n = m->n_filters ? 2 * m->n_filters : 8;
		struct match_filter_st **nf = realloc(m->filters, n * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		memset(nf + m->n_filters, 0, (n - m->n_filters) * sizeof(*nf));
		m->filters = nf;
		m->n_filters = n;
	}
	struct match_filter_st *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->m = m;
	f->id = id;
	f->queue = (uint16_t)(m->first_queue + id);
	f->f = *flt;
	f->h = h;
	f->ready = ready;
	f->arg = arg;
	f->fd = -1;
	m->filters[id] = f;
	r = m->be.install(m->be.arg, id, f->queue, flt);
	if (r < 0) {
		filter_destroy(f);
		return r;
	}
	*ret_id = id;
	return 0;
}

static void filter_tell(void *arg)
{
	struct match_filter_st *f = arg;
	f->ready_t = NULL;
	int err = f->ready_err;
	unsigned id = f->id;
	match_ready ready = f->ready;
	void *rarg = f->arg;
	if (err < 0)
		filter_destroy(f);
	else
		log_debug("match: filter %u on queue %u installed", id, f->queue);
	ready(rarg, id, err);
}

void match_filter_ready(struct match_engine *m, unsigned id, int fd, int err)
{
	struct match_filter_st *f = id < m->n_filters ? m->filters[id] : NULL;
	if (!f || f->fd >= 0 || f->ready_t) {
		/* Not waiting for an answer: not ours to keep. */
		if (fd >= 0)
			close(fd);
		return;
	}
	if (f->removing) {
		/* Removed while pending: its rule is being deleted already. */
		if (fd >= 0)
			close(fd);
		filter_destroy(f);
		return;
	}
	if (err == 0 && fd < 0)
		err = -EBADF;
	if (err == 0) {
		err = filter_attach(f, fd);
		if (err < 0) {
			log_err("match: queue %u: cannot use its socket: %s", f->queue, strerror(-err));
			if (f->fd < 0)
				close(fd);
			m->be.remove(m->be.arg, f->id, f->queue, &f->f);
		}
	}
	f->ready_err = err;
	f->ready_t = loop_timer_add(m->loop, 0, filter_tell, f);
	if (!f->ready_t) /* no memory: tell at once rather than never */
		filter_tell(f);
}

int match_remove(struct match_engine *m, unsigned id)
{
	struct match_filter_st *f = id < m->n_filters ? m->filters[id] : NULL;
	/* Its outcome not told yet: the owner removing it will not hear it
	 * (it may be gone by then). A failed one is simply forgotten. */
	if (f && f->ready_t) {
		loop_timer_cancel(m->loop, f->ready_t);
		f->ready_t = NULL;
		if (f->ready_err < 0) {
			filter_destroy(f);
			return 0;
		}
	}
	if (!f || f->removing || f->ready_err < 0)
		return -ENOENT;
	int r = m->be.remove(m->be.arg, f->id, f->queue, &f->f);
	if (f->fd < 0) {
		/* Still pending: the backend's answer finds it removing. */
		f->removing = true;
		return r < 0 ? r : 0;
	}
	/* Even if iptables failed, the handler is done with: a rule left
	 * behind bypasses an unbound queue (--queue-bypass), and the next
	 * start removes it. The caller hears that it failed. */
	f->removing = true;
	f->grace = loop_timer_add(m->loop, MATCH_REMOVE_GRACE_MS, filter_finish, f);
	if (!f->grace)
		log_warn("match: queue %u stays bound until match_free", f->queue);
	return r < 0 ? r : 0;
}

const struct match_counters *match_counters(const struct match_engine *m)
{
	return &m->counters;
}

size_t match_filter_count(const struct match_engine *m)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_filters; i++)
		if (m->filters[i] && m->filters[i]->fd >= 0 && !m->filters[i]->removing && !m->filters[i]->ready_err)
			n++;
	return n;
}

/* ---- checksums ---- */

void match_fix_checksums(uint8_t *ip, size_t len)
{
	wire_ipv4_fix_checksums(ip, len);
}

int match_cleanup_stale(const char *tag)
{
	return rules_cleanup_stale(tag);
}
