// SPDX-License-Identifier: MIT
/*
 * Router mode (DESIGN §4): the node sees capsules through the matching
 * engine's queue, and a capsule's first send leaves as the verdict of the
 * queued packet it came in (rewritten toward where the code sends it, for
 * the kernel to forward), so that its IP source stays the original sender.
 * The queued packet travels with the capsule (pkt.queued) while its verdict
 * is open, and is held (pkt.held) while the capsule waits for its code.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "link/match.h"
#include "priv/priv.h"
#include "node/room.h"

/* Room to rewrite a held IPv4 packet: headers and the largest capsule. */
#define ROUTER_SCRATCH (60 + 8 + AN_PKT_MAX)

/* One queued packet whose verdict is open, on the stack of the code that
 * runs its capsule (queue_handler or router_run_held). */
struct router_q {
	struct match_pkt *q;
	enum match_verdict v;
	bool held; /* q is held: its verdict is built in the node's scratch */
	size_t len; /* ... of this length */
};

bool router_send_as_verdict(struct node *n, struct pkt *p, const struct an_addr *next)
{
	struct router_q *rq = p->queued;
	if (!rq || rq->v != MATCH_DROP || !(next->ip[10] == 0xff && next->ip[11] == 0xff))
		return false;
	struct match_pkt *q = rq->q;
	uint32_t dst;
	memcpy(&dst, next->ip + 12, 4);
	uint8_t *buf = q->data;
	size_t cap = q->cap, len;
	if (rq->held) {
		/* The engine's copy of a held packet has no room to grow. */
		memcpy(n->q_scratch, q->data, q->len);
		buf = n->q_scratch;
		cap = ROUTER_SCRATCH;
	}
	if (wire_ipv4_udp_rewrite(buf, cap, dst, next->port, p->ctx.pkt, p->len, &len) < 0)
		return false;
	if (rq->held)
		rq->len = len;
	else
		q->len = len;
	rq->v = MATCH_MODIFIED;
	p->queued = NULL;
	pkt_put(n->pool, p);
	return true;
}

void router_hold(struct node *n, struct pkt *p)
{
	struct router_q *rq = p->queued;
	p->held = rq->q;
	p->queued = NULL;
	rq->v = MATCH_HOLD;
}

void router_run_held(struct node *n, struct pkt *p)
{
	struct router_q rq = { .q = p->held, .v = MATCH_DROP, .held = true };
	p->held = NULL;
	p->queued = &rq;
	node_input(n, p); /* consumes p; its first send may set the verdict */
	if (rq.v == MATCH_HOLD) /* cannot happen: resumed capsules do not park */
		rq.v = MATCH_DROP;
	if (match_verdict(n->match, rq.q, rq.v, n->q_scratch, rq.len) < 0)
		log_ratelimited(LOG_INFO, "no verdict for a held capsule");
}

void router_release_held(struct node *n, struct pkt *p)
{
	if (n->match)
		match_verdict(n->match, p->held, MATCH_DROP, NULL, 0);
	p->held = NULL;
}

/* A packet to the node's UDP port that crossed this router (or is addressed
 * to it), from the matching engine's queue: its capsule runs here, and the
 * packet gets its verdict from what the capsule did. */
static enum match_verdict queue_handler(void *arg, struct match_pkt *q)
{
	struct node *n = arg;
	struct wire_ipv4_udp iu;
	if (wire_ipv4_udp_parse(q->data, q->len, &iu) < 0)
		return MATCH_ACCEPT; /* not a capsule in UDP: the kernel's business */
	n->c.received++;
	if (iu.payload_len > AN_PKT_MAX) {
		n->c.drop_too_big++;
		return MATCH_DROP;
	}
	struct pkt *p = pkt_get(n->pool);
	if (!p) {
		n->c.drop_no_buffer++;
		return MATCH_DROP;
	}
	memcpy(p->ctx.pkt, q->data + iu.payload_off, iu.payload_len);
	p->len = iu.payload_len;
	memset(&p->from, 0, sizeof(p->from));
	p->from.ip[10] = p->from.ip[11] = 0xff;
	memcpy(p->from.ip + 12, &iu.src, 4);
	p->from.port = iu.sport;
	p->origin = AN_ORIGIN_NET;
	p->rx_ns = loop_now_ns();
	p->meta.ingress = PKT_IN_QUEUE;
	p->meta.ip_src = iu.src;
	p->meta.ip_dst = iu.dst;
	/* Dropped unless the capsule is sent on as this packet, or held. */
	struct router_q rq = { .q = q, .v = MATCH_DROP };
	p->queued = &rq;
	node_input(n, p);
	return rq.v;
}

static void filter_ready(void *arg, unsigned id, int err)
{
	struct node *n = arg;
	uint16_t port = be16toh(n->local.port);
	if (err == 0) {
		log_info("router mode: intercepting UDP port %u (NFQUEUE %u)", port, (unsigned)n->cfg.queue + id);
		return;
	}
	log_err("router mode: cannot intercept UDP port %u: %s", port, strerror(-err));
	n->fatal = err;
	loop_stop(n->loop);
}

int router_start(struct node *n)
{
	n->q_scratch = malloc(ROUTER_SCRATCH);
	if (!n->q_scratch)
		return -ENOMEM;
	struct match_backend be;
	if (n->priv)
		be = priv_chan_match_backend(n->priv);
	n->match = match_new(n->loop, n->cfg.name, (uint16_t)n->cfg.queue, n->priv ? &be : NULL);
	if (!n->match)
		return -errno;
	if (n->priv)
		priv_chan_set_engine(n->priv, n->match);
	/* Capsules travel to the node's own UDP port (3322 unless configured
	 * otherwise), so that is the port every router intercepts. */
	uint16_t port = be16toh(n->local.port);
	struct match_filter f = { .proto = 17, .dport_lo = port, .dport_hi = port };
	unsigned id;
	return match_install(n->match, &f, queue_handler, filter_ready, n, &id);
}
