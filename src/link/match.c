// SPDX-License-Identifier: MIT
/*
 * The matching engine (match.h, seed 000 §4.1): one iptables rule and one
 * NFQUEUE queue per filter. This file owns the queues' netlink sockets, the
 * packets handlers hold, and the verdicts; binding a queue (nfq.c) and its
 * rule (rules.c) are a backend's, which in anoded is the privileged parent.
 *
 * Choices, and why:
 * - One netlink socket per queue, not one socket bound to every queue. The
 *   seed delivers each flow straight to the process that wants it, without
 *   a multiplexer; a socket per queue is what later lets the node hand one
 *   filter's socket to a service process, and it makes a queue's overflow
 *   (ENOBUFS) and its removal (close) its own business. It costs one fd per
 *   filter, and filters are few.
 * - Packets are read in batches: recvmmsg into slots shared by all
 *   queues (one loop, run to completion), each slot large enough for a whole
 *   64 KiB packet, and the verdicts of a batch go back in one sendto (the
 *   kernel walks every netlink message of a datagram). An ACCEPT or DROP
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

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "link/nfq.h"
#include "link/rules.h"
#include "wire/wire.h"

#define MATCH_BATCH 16
/* A whole IPv4 packet plus the netlink and nfqueue headers in front of it. */
#define MATCH_SLOT_SIZE (0xffff + 4096)
/* Verdicts of one batch, or one modified packet with its headers. */
#define MATCH_TX_SIZE (2 * 0xffff)
#define MATCH_REMOVE_GRACE_MS 100
#define MATCH_HELD_BUCKETS 1024

struct match_filter_st {
	struct match_engine *m;
	unsigned id;
	uint16_t queue;
	struct match_filter f;
	match_handler h;
	void *arg;
	match_ready ready; /* told once: bound and in place, or failed */
	struct mnl_socket *nl; /* NULL while pending */
	int fd;
	bool removing;
	int ready_err;
	struct loop_timer *ready_t; /* set while the outcome waits to be told */
	struct loop_timer *grace; /* set while the removal waits */
	size_t held;
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
	/* Receive slots, shared by every queue. */
	uint8_t *slot[MATCH_BATCH];
	struct iovec iov[MATCH_BATCH];
	struct mmsghdr msg[MATCH_BATCH];
	struct match_held *rec[MATCH_BATCH]; /* what the handler sees per slot */
	/* Pending verdicts, all for one socket (tx_f). */
	uint8_t *tx;
	size_t tx_len;
	struct match_filter_st *tx_f;
	struct match_held *held[MATCH_HELD_BUCKETS];
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

static void tx_flush(struct match_engine *m)
{
	if (!m->tx_len)
		return;
	ssize_t r = mnl_socket_sendto(m->tx_f->nl, m->tx, m->tx_len);
	if (r < 0) {
		/* The packets stay queued in the kernel until the queue goes;
		 * nothing better can be done for them here. */
		unsigned n = 0;
		for (size_t off = 0; off < m->tx_len;) {
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)(m->tx + off);
			off += NLMSG_ALIGN(nlh->nlmsg_len);
			n++;
		}
		m->counters.failed_verdicts += n;
		log_ratelimited(LOG_DEBUG, "match: queue %u: sending %u verdict(s): %s", m->tx_f->queue, n,
				strerror(errno));
	}
	m->tx_len = 0;
	m->tx_f = NULL;
}

static void tx_verdict(struct match_engine *m, struct match_filter_st *f, uint32_t id, int verdict, const void *data,
		       size_t len)
{
	size_t need = NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct nfgenmsg)) +
		      2 * MNL_ALIGN(sizeof(struct nlattr) + sizeof(struct nfqnl_msg_verdict_hdr)) +
		      (data ? MNL_ALIGN(sizeof(struct nlattr) + len) : 0);
	if (m->tx_f != f || m->tx_len + need > MATCH_TX_SIZE)
		tx_flush(m);
	m->tx_f = f;
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)m->tx + m->tx_len, NFQNL_MSG_VERDICT, f->queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (data)
		nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	m->tx_len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Account and queue the verdict for one packet. */
static void verdict(struct match_engine *m, struct match_filter_st *f, const struct match_pkt *p, enum match_verdict v,
		    const void *data, size_t len)
{
	switch (v) {
	case MATCH_DROP:
		m->counters.dropped++;
		tx_verdict(m, f, p->id, NF_DROP, NULL, 0);
		break;
	case MATCH_MODIFIED:
		m->counters.modified++;
		tx_verdict(m, f, p->id, NF_ACCEPT, data, len);
		break;
	default:
		m->counters.accepted++;
		tx_verdict(m, f, p->id, NF_ACCEPT, NULL, 0);
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
	tx_flush(m);
	free(h->pkt.data);
	free(h);
	if (--f->held == 0 && f->removing)
		filter_reap_later(f);
	return 0;
}

/* ---- receiving ---- */

static void handle_packet(struct match_engine *m, struct match_filter_st *f, unsigned slot, struct nlmsghdr *nlh)
{
	struct nlattr *attr[NFQA_MAX + 1] = {0};
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) {
		log_ratelimited(LOG_DEBUG, "match: queue %u: unparsable packet message", f->queue);
		return;
	}
	const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	uint8_t *data = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload(attr[NFQA_PAYLOAD]) : NULL;
	size_t len = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;
	m->counters.packets++;

	struct match_held *rec = m->rec[slot];
	if (!rec) {
		rec = m->rec[slot] = malloc(sizeof(*rec));
		if (!rec) {
			verdict(m, f, &(struct match_pkt){.id = ntohl(ph->packet_id)}, MATCH_ACCEPT, NULL, 0);
			return;
		}
	}
	struct match_pkt *p = &rec->pkt;
	*p = (struct match_pkt){
	    .id = ntohl(ph->packet_id),
	    .queue = f->queue,
	    .data = data,
	    .len = len,
	    /* Everything after the payload in the slot has been parsed
	     * already: the handler may grow the packet into it. */
	    .cap = data ? (size_t)(m->slot[slot] + MATCH_SLOT_SIZE - data) : 0,
	    .indev = attr[NFQA_IFINDEX_INDEV] ? ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV])) : 0,
	    .outdev = attr[NFQA_IFINDEX_OUTDEV] ? ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV])) : 0,
	};
	bool truncated = attr[NFQA_CAP_LEN] && ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) > len;
	if (f->removing || !data || truncated) {
		/* A removed filter's stragglers, or a packet we do not have
		 * whole: it goes on untouched, the handler never sees it. */
		verdict(m, f, p, MATCH_ACCEPT, NULL, 0);
		return;
	}
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
	m->rec[slot] = NULL; /* the next packet in this slot gets a new record */
	f->held++;
	m->counters.held++;
}

static void handle_datagram(struct match_engine *m, struct match_filter_st *f, unsigned slot, size_t n)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)m->slot[slot];
	int left = (int)n;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error) {
				/* Verdicts go without NLM_F_ACK: only failures answer. */
				m->counters.failed_verdicts++;
				log_ratelimited(LOG_DEBUG, "match: queue %u: verdict refused: %s", f->queue,
						strerror(-e->error));
			}
			continue;
		}
		if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_QUEUE &&
		    NFNL_MSG_TYPE(nlh->nlmsg_type) == NFQNL_MSG_PACKET)
			handle_packet(m, f, slot, nlh);
	}
}

/* Read and answer what the socket holds, a batch at a time; stop after a
 * few batches so that one busy queue does not starve the loop. */
static void filter_read(struct match_engine *m, struct match_filter_st *f, unsigned max_batches)
{
	for (unsigned b = 0; b < max_batches; b++) {
		int n = recvmmsg(f->fd, m->msg, MATCH_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Packets the kernel could not queue to us; fail-open
				 * let them through. Not fatal: read on. */
				m->counters.queue_drops++;
				log_ratelimited(LOG_DEBUG, "match: queue %u: socket overflow, packets bypassed",
						f->queue);
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				log_ratelimited(LOG_DEBUG, "match: queue %u: %s", f->queue, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (m->msg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				log_ratelimited(LOG_DEBUG, "match: queue %u: truncated message", f->queue);
				continue;
			}
			handle_datagram(m, f, (unsigned)i, m->msg[i].msg_len);
			m->msg[i].msg_hdr.msg_flags = 0;
		}
		tx_flush(m);
		if (n < MATCH_BATCH)
			break;
	}
	tx_flush(m);
}

static void filter_readable(void *arg, int fd, uint32_t events)
{
	struct match_filter_st *f = arg;
	filter_read(f->m, f, 8);
}

/* ---- queues ---- */

/* Take the bound queue socket fd (the backend's answer) and watch it. */
static int filter_attach(struct match_filter_st *f, int fd)
{
	f->nl = mnl_socket_fdopen(fd);
	if (!f->nl)
		return -errno;
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
	if (m->tx_f == f)
		tx_flush(m);
	if (f->grace)
		loop_timer_cancel(m->loop, f->grace);
	if (f->ready_t)
		loop_timer_cancel(m->loop, f->ready_t);
	if (f->nl) {
		loop_fd_del(m->loop, f->fd);
		mnl_socket_close(f->nl);
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
	filter_read(f->m, f, 64);
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

struct match_engine *match_new(struct loop *loop, const char *tag, uint16_t first_queue,
			       const struct match_backend *be)
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
	m->be = be ? *be : (struct match_backend){ .install = local_install, .remove = local_remove, .arg = m };
	snprintf(m->tag, sizeof(m->tag), "%s", tag);
	m->first_queue = first_queue;
	m->tx = malloc(MATCH_TX_SIZE);
	if (!m->tx)
		goto fail;
	for (unsigned i = 0; i < MATCH_BATCH; i++) {
		m->slot[i] = malloc(MATCH_SLOT_SIZE);
		if (!m->slot[i])
			goto fail;
		m->iov[i] = (struct iovec){.iov_base = m->slot[i], .iov_len = MATCH_SLOT_SIZE};
		m->msg[i].msg_hdr = (struct msghdr){.msg_iov = &m->iov[i], .msg_iovlen = 1};
	}
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
	tx_flush(m);
	for (size_t i = 0; i < m->n_filters; i++) {
		struct match_filter_st *f = m->filters[i];
		if (f) {
			if (f->nl)
				filter_read(m, f, 64);
			filter_destroy(f);
		}
	}
	for (unsigned i = 0; i < MATCH_BATCH; i++) {
		free(m->slot[i]);
		free(m->rec[i]);
	}
	free(m->filters);
	free(m->tx);
	free(m);
}

int match_install(struct match_engine *m, const struct match_filter *flt, match_handler h, match_ready ready,
		  void *arg, unsigned *ret_id)
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
	if (!f || f->nl || f->ready_t) {
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
			if (!f->nl)
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
	if (id >= m->n_filters || !m->filters[id] || m->filters[id]->removing || m->filters[id]->ready_err < 0)
		return -ENOENT;
	struct match_filter_st *f = m->filters[id];
	int r = m->be.remove(m->be.arg, f->id, f->queue, &f->f);
	if (!f->nl) {
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
		if (m->filters[i] && m->filters[i]->nl && !m->filters[i]->removing && !m->filters[i]->ready_err)
			n++;
	return n;
}

/* ---- checksums ---- */

void match_fix_checksums(uint8_t *ip, size_t len)
{
	if (len < 20 || (ip[0] >> 4) != 4)
		return;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len || len > 0xffff)
		return;
	/* The handler's length is the packet's length. */
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	ip[10] = ip[11] = 0;
	uint16_t c = (uint16_t)~wire_csum_fold(wire_csum_add(0, ip, ihl));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	/* A fragment's transport checksum covers the whole datagram. */
	if ((ip[6] & 0x3f) || ip[7])
		return;
	uint8_t *l4 = ip + ihl;
	size_t l4len = len - ihl;
	size_t at;
	if (ip[9] == IPPROTO_UDP && l4len >= 8) {
		at = 6;
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
		/* Zero means "no checksum" (the sender's choice, or the
		 * handler's): keep it. */
		if (!l4[6] && !l4[7])
			return;
	} else if (ip[9] == IPPROTO_TCP && l4len >= 20) {
		at = 16;
	} else {
		return;
	}
	l4[at] = l4[at + 1] = 0;
	uint32_t s = wire_csum_add(0, ip + 12, 8); /* pseudo-header: addresses, protocol, length */
	s += ip[9];
	s += (uint32_t)l4len;
	c = (uint16_t)~wire_csum_fold(wire_csum_add(s, l4, l4len));
	if (c == 0 && ip[9] == IPPROTO_UDP)
		c = 0xffff;
	l4[at] = (uint8_t)(c >> 8);
	l4[at + 1] = (uint8_t)c;
}

int match_cleanup_stale(const char *tag)
{
	return rules_cleanup_stale(tag);
}
