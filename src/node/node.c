// SPDX-License-Identifier: MIT
/*
 * One anode node: the packet path from links through the ANEP demux to the
 * capsule EE and back out, the counters, and the glue between the links,
 * the EE, the routing table and the control socket. Everything runs to
 * completion on one event loop; a packet buffer is consumed exactly once on
 * every path (sent, or put back to the pool after being counted).
 */
#include "node/node.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/log.h"
#include "ctl/ctl.h"
#include "ee/ee.h"
#include "link/applink.h"
#include "link/link.h"
#include "link/match.h"
#include "node/fetch.h"
#include "node/relay.h"
#include "node/route.h"
#include "wire/wire.h"

/* How many receive batches one wakeup handles before yielding to the other
 * file descriptors (application links, control). */
#define NODE_RX_ROUNDS 8
/* Capsules that code sends to this node itself, handled per round. */
#define NODE_SELF_BUDGET 256
/* Work on one source of packets stops after this long in a round, so that
 * the others (and the control socket) get their turn: with the work budget
 * of each capsule, what bounds how long the node serves nothing new. */
#define NODE_SLICE_NS (2 * 1000 * 1000)
/* Room to rewrite a held IPv4 packet: headers and the largest capsule. */
#define NODE_Q_SCRATCH (60 + 8 + AN_PKT_MAX)
/* Code requests passed on toward a code home at once. */
#define NODE_RELAYS 128

struct node {
	struct node_config cfg;
	struct loop *loop;
	struct pkt_pool *pool;
	struct link *udp;
	struct applink_server *apps;
	struct ctl_server *ctl;
	struct ee *ee;
	struct route_table *routes;
	struct fetcher *fetch;
	struct relay *relay; /* code requests passed on, to relay answers back */
	/* Router mode: capsules come from the matching engine's queue, and
	 * the first send of the queued packet is its verdict (the kernel
	 * forwards the rewritten packet). */
	struct match_engine *match;
	struct match_pkt *cur_q; /* the queued packet being handled */
	struct pkt *cur_qpkt; /* its capsule */
	enum match_verdict q_verdict;
	/* A held packet's verdict is built here: the engine's copy of it has
	 * no room to grow. */
	uint8_t *q_scratch;
	size_t q_len;
	struct node_counters c;
	struct pkt_queue self_q;
	struct pkt_queue resume_q; /* parked capsules whose code came, to run */
	struct an_addr local;
	uint8_t owner_key[crypto_shorthash_KEYBYTES]; /* code name -> buffer owner */
	uint64_t started_ns;
	/* The capsule being run, for the information-collection helpers. */
	struct pkt *cur;
	const struct wire_anep *cur_anep;
	int cur_visit; /* > 0: the run asked to be recorded as a result here */
	/* Link use over the last second and the host's figures, sampled by a
	 * timer: code reads them through helpers, and nothing on the packet
	 * path opens a /proc file (a run's cost must stay what its budget
	 * says). */
	uint64_t rate_last_bytes, rate_last_ns, link_used_bps;
	int64_t mem_total_kb, mem_avail_kb, load_milli;
};

#define NODE_RATE_MS 1000

/* ---- drops ---- */

/* Count a drop and return the buffer. An application whose own capsule
 * was dropped at its node hears why. */
static void drop(struct node *n, struct pkt *p, uint64_t *counter, int why)
{
	(*counter)++;
	if (p->origin == AN_ORIGIN_APP) {
		const char *text = strerror(-why);
		applink_reply(n->apps, p->applink, WIRE_APP_ERROR, why, text, strlen(text));
	}
	pkt_put(n->pool, p);
}

/* ---- sending ---- */

/* The next hop toward dst. Overlay: the routing table. Router mode: dst
 * itself, since the kernel routes IP and every anode router on the way
 * intercepts the capsule. */
static int next_hop(const struct node *n, const struct an_addr *dst, struct an_addr *ret_next)
{
	if (an_addr_eq(dst, &n->local) || n->cfg.router) {
		*ret_next = *dst;
		return 0;
	}
	return route_lookup(n->routes, dst, ret_next);
}

/* Router mode: send the capsule on by rewriting the queued packet it came
 * in, for the kernel to forward. true when that was possible. */
static bool send_as_verdict(struct node *n, struct pkt *p, const struct an_addr *next)
{
	struct match_pkt *q = n->cur_q;
	if (!q || p != n->cur_qpkt || n->q_verdict != MATCH_DROP || !(next->ip[10] == 0xff && next->ip[11] == 0xff))
		return false;
	uint32_t dst;
	memcpy(&dst, next->ip + 12, 4);
	uint8_t *buf = q->data;
	size_t cap = q->cap, len;
	if (p->held == q) {
		memcpy(n->q_scratch, q->data, q->len);
		buf = n->q_scratch;
		cap = NODE_Q_SCRATCH;
	}
	if (wire_ipv4_udp_rewrite(buf, cap, dst, next->port, p->ctx.pkt, p->len, &len) < 0)
		return false;
	if (p->held == q)
		n->q_len = len;
	else
		q->len = len;
	n->q_verdict = MATCH_MODIFIED;
	pkt_put(n->pool, p);
	return true;
}

/* The buffer owner that stands for a code object's offspring: a keyed hash
 * of its name, so that nobody can aim at the share of another's code. */
static uint16_t code_owner(const struct node *n, const uint8_t name[32])
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, name, 32, n->owner_key);
	uint32_t v;
	memcpy(&v, h, sizeof(v));
	return (uint16_t)(1 + v % (PKT_OWNERS - 1));
}

/* Send p toward next (consumes p). The hop limit was already checked.
 * A capsule this node sends to itself waits in the self queue, charged to
 * owner (its code object) so that no code's offspring take every buffer. */
static void send_to(struct node *n, struct pkt *p, const struct an_addr *next, uint16_t owner)
{
	p->hop_taken = 0; /* the next node, or this one again, takes a hop */
	if (an_addr_eq(next, &n->local)) {
		if (!p->work_set) { /* passed on by Type ID: nothing ran */
			p->work_set = 1;
			p->work_left = (uint32_t)n->cfg.run_budget;
		}
		if (owner && pkt_charge(n->pool, p, owner) < 0)
			return drop(n, p, &n->c.drop_buffer_share, -ENOBUFS);
		p->origin = AN_ORIGIN_SELF;
		p->from = n->local;
		p->applink = 0;
		pkt_queue_push(&n->self_q, p);
		n->c.looped++;
		return;
	}
	p->work_set = 0;
	n->c.forwarded++;
	if (send_as_verdict(n, p, next))
		return;
	n->udp->ops->send(n->udp, p, next);
}

static struct pkt *pkt_copy(struct node *n, const struct pkt *p)
{
	struct pkt *q = pkt_get(n->pool);
	if (!q)
		return NULL;
	memcpy(q->ctx.pkt, p->ctx.pkt, p->len);
	q->len = p->len;
	q->from = p->from;
	q->origin = p->origin;
	q->applink = p->applink;
	return q;
}

/* ---- the hop limit ---- */

/*
 * The hop limit rule, in one place, for every packet that carries the
 * option and on every path through the node: each arrival takes one hop,
 * once, whether the packet came from a link or from code on this node
 * sending to the node itself (hop_taken survives parking, so a capsule
 * resumed after its code arrived is not charged twice, and is cleared by
 * every send). A capsule an application inserted here has crossed no link
 * and takes none. A packet that arrives with none left is dropped; one
 * left with none may still be delivered or consumed here, never sent on
 * (may_leave). 0, or -ETIMEDOUT.
 */
static int take_hop(struct pkt *p, struct wire_anep *a)
{
	if (!(a->present & WIRE_HAS_HOP_LIMIT) || p->origin == AN_ORIGIN_APP || p->hop_taken)
		return 0;
	if (a->hop_limit == 0)
		return -ETIMEDOUT;
	a->hop_limit--;
	wire_anep_set_hop_limit(p->ctx.pkt, a, a->hop_limit);
	p->hop_taken = 1;
	return 0;
}

static bool may_leave(const struct pkt *p, const struct wire_anep *a)
{
	return !(a->present & WIRE_HAS_HOP_LIMIT) || a->hop_limit > 0 || p->origin == AN_ORIGIN_APP;
}

/* ---- capsules ---- */

/* Cache code that travels in the capsule, on first sight (seed 002's
 * "associated" distribution). 0, or the drop counter to charge. */
static uint64_t *cache_carried_code(struct node *n, struct pkt *p, const struct wire_capsule *cap, int *ret_why)
{
	if (!(cap->flags & WIRE_CAPSULE_CARRIED) || ee_code_status(n->ee, cap->name) == EE_CODE_READY)
		return NULL;
	int r = ee_code_insert_named(n->ee, cap->name, p->ctx.pkt + cap->code_off, cap->code_len);
	if (r == 0) {
		n->c.code_carried++;
		return NULL;
	}
	*ret_why = r;
	if (r == -EBADMSG) {
		log_ratelimited(LOG_WARNING, "carried code does not hash to the capsule's code name");
		return &n->c.drop_malformed;
	}
	return &n->c.drop_code_bad;
}

static void capsule_input(struct node *n, struct pkt *p, struct wire_anep *a)
{
	struct wire_capsule cap;
	if (wire_capsule_parse(p->ctx.pkt, p->len, a, &cap) < 0 || !(a->present & WIRE_HAS_HOP_LIMIT))
		return drop(n, p, &n->c.drop_malformed, -EBADMSG);
	/* The node it came from. In overlay mode that is the UDP source, which
	 * a sender cannot choose and still hear the answer; in router mode the
	 * IP source is the original sender, so the option its previous node
	 * wrote says. */
	if (n->cfg.router && (a->present & WIRE_HAS_PREV_HOP) && p->origin == AN_ORIGIN_NET && !p->hop_taken)
		p->from = a->prev_hop;
	if (take_hop(p, a) < 0)
		return drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	/* What one capsule may still become here: bounded by this node's
	 * maximum, whatever the sender wrote. */
	uint16_t copies = a->copies < n->cfg.max_copies ? a->copies : (uint16_t)n->cfg.max_copies;

	int why = 0;
	uint64_t *bad = cache_carried_code(n, p, &cap, &why);
	if (bad)
		return drop(n, p, bad, why);

	struct an_ctx *ctx = &p->ctx;
	ctx->data_off = cap.data_off;
	ctx->data_len = cap.data_len;
	ctx->pkt_len = a->pkt_len;
	ctx->hop_limit = a->hop_limit;
	ctx->origin = p->origin;
	ctx->applink = p->applink;
	ctx->prev_hop = p->from;
	memset(&ctx->src, 0, sizeof(ctx->src));
	memset(&ctx->dst, 0, sizeof(ctx->dst));
	if (a->present & WIRE_HAS_SRC)
		ctx->src = a->src;
	if (a->present & WIRE_HAS_DST)
		ctx->dst = a->dst;
	memcpy(ctx->code, cap.name, sizeof(ctx->code));
	ctx->copies = copies;
	ctx->reserved = 0;
	ctx->call_op = 0;
	ctx->call_arg = 0;
	p->len = a->pkt_len; /* bytes past the ANEP packet length are not ours */

	struct ee_verdict v;
	n->cur = p;
	n->cur_anep = a;
	n->cur_visit = 0;
	/* A capsule that code here sent to this node goes on with the work its
	 * sender left: one budget covers everything a capsule runs while it
	 * stays at a node, self-sent copies and loops included. */
	uint64_t budget = p->work_set ? p->work_left : n->cfg.run_budget;
	int r = ee_run_budget(n->ee, ctx, budget, &v);
	n->cur = NULL;
	n->cur_anep = NULL;
	if (r == -ENOENT && !p->resumed) {
		/* Park it and load the code on demand. */
		const struct an_addr *prev = p->origin == AN_ORIGIN_NET ? &p->from : NULL;
		r = fetch_park(n->fetch, p, cap.name, prev, &cap.home, &n->local);
		if (r == 0) {
			n->c.parked++;
			/* Router mode: the packet it came in waits with it, so
			 * that it leaves as that packet's verdict, with its
			 * original IP source, when its code has come. */
			if (n->cur_q && n->cur_qpkt == p) {
				p->held = n->cur_q;
				n->q_verdict = MATCH_HOLD;
			}
			return;
		}
		if (r == -ENOBUFS)
			return drop(n, p, &n->c.drop_park_full, r);
		return drop(n, p, &n->c.drop_code_missing, -ENOENT);
	}
	n->c.runs++;
	if (r == -ENOENT)
		return drop(n, p, &n->c.drop_code_missing, -ENOENT);
	if (r < 0)
		return drop(n, p, &n->c.drop_code_bad, r);
	if (v.over_budget) {
		log_ratelimited(LOG_INFO, "capsule used up its work budget (%llu units)", (unsigned long long)v.work);
		return drop(n, p, &n->c.drop_work_budget, -EDQUOT);
	}
	if (v.rc < 0) {
		log_ratelimited(LOG_DEBUG, "code returned %lld", (long long)v.rc);
		/* Code that ends with a failed delivery returns its -ENOTCONN:
		 * the application went away, the code did nothing wrong. */
		return drop(n, p, v.rc == -ENOTCONN ? &n->c.drop_applink_gone : &n->c.drop_code_error,
			    v.rc < INT32_MIN ? -EINVAL : (int)v.rc);
	}

	if (v.data_len != cap.data_len) {
		p->len = (uint16_t)(cap.data_off + v.data_len);
		wire_anep_set_pkt_len(p->ctx.pkt, p->len);
	}
	if (n->cur_visit > 0) {
		/* The RESULT option goes in after the last option: the payload
		 * moves on, the options before it (previous hop) stay put. */
		struct wire_anep cur = *a;
		cur.pkt_len = p->len;
		if (wire_anep_add_result(p->ctx.pkt, AN_PKT_MAX, &cur, &n->local, (uint16_t)n->cur_visit) == 0) {
			p->len = cur.pkt_len;
			cap.data_off += WIRE_RESULT_OPT_LEN;
		} else {
			log_ratelimited(LOG_INFO, "no room for a result option; capsule goes on without it");
		}
	}
	if (v.n_sends && (a->present & WIRE_HAS_PREV_HOP))
		wire_anep_set_prev_hop(p->ctx.pkt, a, &n->local);
	for (unsigned i = 0; i < v.n_delivers; i++) {
		int d = applink_deliver(n->apps, v.deliver_to[i], cap.name, p->ctx.pkt + cap.data_off, v.data_len);
		if (d == 0)
			n->c.delivered++;
		else if (d == -EAGAIN)
			n->c.drop_applink_full++;
		else
			n->c.drop_applink_gone++;
	}
	if (v.n_sends == 0) {
		if (v.n_delivers == 0)
			n->c.consumed++;
		pkt_put(n->pool, p);
		return;
	}
	if (!may_leave(p, a))
		return drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	/* Copies spend the copy budget (the EE allowed no more than there
	 * is); the rest is shared out among the capsules sent, the first ones
	 * taking the remainder, so that the offspring of one capsule can never
	 * number more than its budget + 1. */
	unsigned k = v.n_sends;
	unsigned left = copies - (k - 1);
	uint16_t owner = code_owner(n, cap.name);
	/* What is left of the work budget is shared among the sends to this
	 * node itself; a capsule sent to another node starts afresh there. */
	unsigned k_self = 0;
	for (unsigned i = 0; i < k; i++)
		k_self += an_addr_eq(&v.send_next[i], &n->local);
	uint64_t work_left = v.work < budget ? budget - v.work : 0;
	uint32_t work_share = (uint32_t)(k_self ? work_left / k_self : 0);
	/* The first send takes the buffer as it is: a capsule that only
	 * forwards itself is never copied. */
	for (unsigned i = 1; i < k; i++) {
		wire_anep_set_copies(p->ctx.pkt, a, (uint16_t)(left / k + (i < left % k)));
		struct pkt *q = pkt_copy(n, p);
		if (!q) {
			n->c.drop_no_buffer++;
			continue;
		}
		if (pkt_charge(n->pool, q, owner) < 0) {
			n->c.drop_buffer_share++;
			pkt_put(n->pool, q);
			continue;
		}
		n->c.copied++;
		q->work_set = 1;
		q->work_left = work_share;
		send_to(n, q, &v.send_next[i], owner);
	}
	wire_anep_set_copies(p->ctx.pkt, a, (uint16_t)(left / k + (0 < left % k)));
	p->work_set = 1;
	p->work_left = work_share;
	send_to(n, p, &v.send_next[0], owner);
}

/* Send a packet on toward its ANEP destination by the routing table,
 * taking one from its hop limit option when it has one. */
static void forward_by_route(struct node *n, struct pkt *p, struct wire_anep *a, uint64_t *counter)
{
	struct an_addr next;
	if (!(a->present & WIRE_HAS_DST) || next_hop(n, &a->dst, &next) < 0 || an_addr_eq(&next, &n->local))
		return drop(n, p, &n->c.drop_no_route, -EHOSTUNREACH);
	if (take_hop(p, a) < 0 || !may_leave(p, a))
		return drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	p->len = a->pkt_len;
	(*counter)++;
	send_to(n, p, &next, 0);
}

/* A Type ID this node does not know: the ANEP flag decides. */
static void unknown_input(struct node *n, struct pkt *p, struct wire_anep *a)
{
	if (a->flags & WIRE_ANEP_FLAG_DROP_UNKNOWN)
		return drop(n, p, &n->c.drop_unknown_type, -EPROTONOSUPPORT);
	forward_by_route(n, p, a, &n->c.passed_unknown);
}

/* ---- code loading ---- */

/*
 * Code answers are the one thing a node sends in bulk to whoever asks, so
 * they obey QUIC's anti-amplification rule (RFC 9000 §8): they go only to
 * the real sender of the request (the UDP source in overlay mode, the IP
 * source in router mode, never an address the packet merely names), and
 * they hold at most WIRE_CODE_AMPLIFICATION times the octets of the
 * request. Requesters pad their requests to pay for the chunks they ask
 * (fetch_request). A node without the code passes the request on toward
 * the code home in its own name and relays the chunks that come back
 * (relay.c), so that every hop answers its own real sender.
 */

/* Send the chunks of code in want to `to`, within allowance octets. */
static void serve_code(struct node *n, const struct wire_code_request *req, const void *code, size_t len,
		       const struct an_addr *to, size_t allowance)
{
	uint16_t count = (uint16_t)((len + WIRE_CODE_CHUNK - 1) / WIRE_CODE_CHUNK);
	struct wire_anep_spec spec = { .src = &n->local, .dst = to };
	size_t sent = 0;
	n->c.code_requests_served++;
	for (uint16_t i = 0; i < count; i++) {
		if (!(req->want & (1ull << i)))
			continue;
		struct pkt *q = pkt_get(n->pool);
		if (!q) {
			n->c.drop_no_buffer++;
			return;
		}
		size_t qlen;
		if (wire_code_chunk_build(q->ctx.pkt, AN_PKT_MAX, &spec, req->name, code, len, i, &qlen) < 0) {
			pkt_put(n->pool, q);
			return;
		}
		if (sent + qlen > allowance) {
			n->c.code_answers_capped++;
			pkt_put(n->pool, q);
			return;
		}
		sent += qlen;
		q->len = (uint16_t)qlen;
		n->c.code_chunks_served++;
		n->udp->ops->send(n->udp, q, to);
	}
}

/* Pass a request for code this node lacks on toward the home it is
 * addressed to, as this node's own request of the same size (so that the
 * next node's allowance is what the first requester paid), and remember
 * whom to relay the chunks to. Consumes p. */
static void pass_code_request(struct node *n, struct pkt *p, struct wire_anep *a, const struct wire_code_request *req,
			      size_t allowance)
{
	struct an_addr next;
	if (next_hop(n, &a->dst, &next) < 0 || an_addr_eq(&next, &n->local))
		return drop(n, p, &n->c.drop_no_route, -EHOSTUNREACH);
	if (take_hop(p, a) < 0 || !may_leave(p, a))
		return drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	if (relay_add(n->relay, req->name, &p->from, req->want, allowance, loop_now_ms()) < 0)
		return drop(n, p, &n->c.drop_relay_full, -ENOBUFS);
	struct pkt *q = pkt_get(n->pool);
	if (!q)
		return drop(n, p, &n->c.drop_no_buffer, -ENOBUFS);
	struct an_addr home = a->dst;
	struct wire_anep_spec spec = { .src = &n->local, .dst = &home, .hop_limit = a->hop_limit };
	size_t len;
	if (wire_code_request_build(q->ctx.pkt, AN_PKT_MAX, &spec, req, p->len, &len) < 0) {
		pkt_put(n->pool, q);
		return drop(n, p, &n->c.drop_malformed, -EMSGSIZE);
	}
	pkt_put(n->pool, p);
	q->len = (uint16_t)len;
	n->c.code_requests_forwarded++;
	send_to(n, q, &next, 0);
}

static void code_request_input(struct node *n, struct pkt *p, struct wire_anep *a)
{
	struct wire_code_request req;
	/* Only nodes ask for code: an answer to this node itself or to an
	 * application would go nowhere. */
	if (p->origin != AN_ORIGIN_NET || wire_code_request_parse(p->ctx.pkt, p->len, a, &req) < 0)
		return drop(n, p, &n->c.drop_malformed, -EBADMSG);
	/* What the answer may cost: a multiple of what its sender sent. */
	size_t allowance = (size_t)WIRE_CODE_AMPLIFICATION * a->pkt_len;
	const void *code;
	size_t len;
	if (ee_code_get(n->ee, req.name, &code, &len) == 0) {
		struct an_addr to = p->from;
		pkt_put(n->pool, p);
		return serve_code(n, &req, code, len, &to, allowance);
	}
	if ((a->present & WIRE_HAS_DST) && !an_addr_eq(&a->dst, &n->local))
		return pass_code_request(n, p, a, &req, allowance);
	return drop(n, p, &n->c.drop_code_not_here, -ENOENT);
}

static void code_response_input(struct node *n, struct pkt *p, struct wire_anep *a)
{
	struct wire_code_chunk c;
	if (p->origin != AN_ORIGIN_NET || wire_code_chunk_parse(p->ctx.pkt, p->len, a, &c) < 0)
		return drop(n, p, &n->c.drop_malformed, -EBADMSG);
	/* Nodes this one passed a request on for, as far as they paid. */
	struct an_addr to[8];
	size_t k = relay_take(n->relay, c.name, c.index, p->len, to, 8, loop_now_ms());
	for (size_t i = 0; i < k; i++) {
		struct pkt *q = pkt_copy(n, p);
		if (!q) {
			n->c.drop_no_buffer++;
			break;
		}
		wire_anep_set_dst(q->ctx.pkt, a, &to[i]);
		n->c.code_chunks_relayed++;
		n->udp->ops->send(n->udp, q, &to[i]);
	}
	bool mine = fetch_chunk(n->fetch, &c, p->ctx.pkt, &p->from) == 0;
	if (!mine && k == 0)
		n->c.code_chunks_unwanted++;
	pkt_put(n->pool, p);
}

static int fetch_request(void *arg, const uint8_t name[32], uint64_t want, const struct an_addr *to,
			 const struct an_addr *home)
{
	struct node *n = arg;
	struct an_addr next;
	/* The home only by route: in overlay mode, an address the routing
	 * table does not know is not a node of this network, whatever a
	 * capsule says (router mode routes everything through the kernel). */
	if (to)
		next = *to;
	else if (next_hop(n, home, &next) < 0)
		return -EHOSTUNREACH;
	struct pkt *q = pkt_get(n->pool);
	if (!q)
		return -ENOBUFS;
	struct wire_code_request req = { .want = want };
	memcpy(req.name, name, sizeof(req.name));
	struct wire_anep_spec spec = { .src = &n->local, .dst = to ? to : home };
	/* Padded to pay for the answer (see serve_code). */
	size_t pad_to = wire_code_request_padded_len(wire_anep_hdr_len(&spec), want);
	size_t len;
	int r = wire_code_request_build(q->ctx.pkt, AN_PKT_MAX, &spec, &req, pad_to, &len);
	if (r < 0) {
		pkt_put(n->pool, q);
		return r;
	}
	q->len = (uint16_t)len;
	n->udp->ops->send(n->udp, q, &next);
	return 0;
}

static int fetch_install(void *arg, const uint8_t name[32], const void *code, size_t len)
{
	struct node *n = arg;
	int r = ee_code_insert_named(n->ee, name, code, len);
	if (r == 0)
		n->c.code_fetched++;
	return r;
}

static void node_input(struct node *n, struct pkt *p);

/* A parked capsule that came in a held queued packet runs as that packet
 * did: its first send is the packet's verdict. */
static void run_held(struct node *n, struct pkt *p)
{
	struct match_pkt *q = p->held;
	n->cur_q = q;
	n->cur_qpkt = p;
	n->q_verdict = MATCH_DROP;
	node_input(n, p); /* consumes p */
	n->cur_q = NULL;
	n->cur_qpkt = NULL;
	if (n->q_verdict == MATCH_HOLD) /* cannot happen: resumed capsules do not park */
		n->q_verdict = MATCH_DROP;
	if (match_verdict(n->match, q, n->q_verdict, n->q_scratch, n->q_len) < 0)
		log_ratelimited(LOG_INFO, "no verdict for a held capsule");
}

/* Parked capsules run from the resume queue, a slice at a time, not all
 * at once when their code arrives (a code object can have 32 parked). */
static void fetch_resume(void *arg, struct pkt *p)
{
	struct node *n = arg;
	pkt_queue_push(&n->resume_q, p);
}

static void fetch_expire(void *arg, struct pkt *p, int why)
{
	struct node *n = arg;
	if (p->held && n->match)
		match_verdict(n->match, p->held, MATCH_DROP, NULL, 0);
	p->held = NULL;
	if (why == -EBADMSG)
		return drop(n, p, &n->c.drop_code_mismatch, why);
	if (why == -EINVAL || why == -EPERM)
		return drop(n, p, &n->c.drop_code_bad, why);
	drop(n, p, &n->c.drop_code_timeout, why);
}

static void node_input(struct node *n, struct pkt *p)
{
	struct wire_anep a;
	if (p->truncated)
		return drop(n, p, &n->c.drop_too_big, -EMSGSIZE);
	int r = wire_anep_parse(p->ctx.pkt, p->len, &a);
	if (r == -EPROTONOSUPPORT)
		return drop(n, p, &n->c.drop_version, r);
	if (r == -EOPNOTSUPP)
		return drop(n, p, &n->c.drop_option, r);
	if (r < 0) {
		log_ratelimited(LOG_INFO, "malformed ANEP packet (%u bytes)", p->len);
		return drop(n, p, &n->c.drop_malformed, r);
	}
	switch (a.type_id) {
	case WIRE_TYPE_CAPSULE:
		return capsule_input(n, p, &a);
	case WIRE_TYPE_CODE_REQUEST:
		return code_request_input(n, p, &a);
	case WIRE_TYPE_CODE_RESPONSE:
		return code_response_input(n, p, &a);
	case WIRE_TYPE_SIGNAL:
	case WIRE_TYPE_CONCAST_DATA:
	case WIRE_TYPE_CONCAST_SIGNAL:
		return drop(n, p, &n->c.drop_unsupported, -EOPNOTSUPP);
	default:
		return unknown_input(n, p, &a);
	}
}

/* Resumed, then self-sent capsules: a bounded number and a time slice at
 * a time, so that the links and the control socket get their turn; true
 * when some are still waiting. */
static bool drain_self(struct node *n)
{
	uint64_t start = loop_now_ns();
	for (int budget = NODE_SELF_BUDGET; budget > 0; budget--) {
		struct pkt *p = pkt_queue_pop(&n->resume_q);
		if (p && p->held && n->match)
			run_held(n, p);
		else if (p)
			node_input(n, p);
		else if ((p = pkt_queue_pop(&n->self_q)))
			node_input(n, p);
		else
			return false;
		if ((budget & 15) == 0 && loop_now_ns() - start > NODE_SLICE_NS)
			break;
	}
	return n->self_q.len + n->resume_q.len > 0;
}

/* ---- link and loop callbacks ---- */

static void udp_readable(void *arg, int fd, uint32_t events)
{
	struct node *n = arg;
	struct pkt *batch[LINK_BATCH];
	uint64_t start = loop_now_ns();
	for (int round = 0; round < NODE_RX_ROUNDS; round++) {
		int k = n->udp->ops->recv(n->udp, n->pool, batch, LINK_BATCH);
		if (k <= 0)
			break;
		n->c.received += (uint64_t)k;
		for (int i = 0; i < k; i++)
			node_input(n, batch[i]);
		drain_self(n);
		n->udp->ops->flush(n->udp);
		/* A short batch emptied the socket: epoll (level-triggered)
		 * wakes us for what comes next, without an empty recvmmsg. */
		if (k < LINK_BATCH || loop_now_ns() - start > NODE_SLICE_NS)
			break;
	}
}

static bool loop_idle(void *arg)
{
	struct node *n = arg;
	bool more = drain_self(n);
	n->udp->ops->flush(n->udp);
	return more;
}

static void app_inject(void *arg, uint64_t handle, const void *bytes, size_t len)
{
	struct node *n = arg;
	n->c.injected++;
	if (len > AN_PKT_MAX) {
		n->c.drop_too_big++;
		applink_reply(n->apps, handle, WIRE_APP_ERROR, -EMSGSIZE, NULL, 0);
		return;
	}
	struct pkt *p = pkt_get(n->pool);
	if (!p) {
		n->c.drop_no_buffer++;
		applink_reply(n->apps, handle, WIRE_APP_ERROR, -ENOBUFS, NULL, 0);
		return;
	}
	memcpy(p->ctx.pkt, bytes, len);
	p->len = (uint16_t)len;
	p->origin = AN_ORIGIN_APP;
	p->applink = handle;
	p->from = n->local;
	p->rx_ns = loop_now_ns();
	node_input(n, p);
}

static void app_code_insert(void *arg, uint64_t handle, const void *elf, size_t len)
{
	struct node *n = arg;
	uint8_t name[EE_NAME_LEN] = { 0 };
	int r = ee_code_insert(n->ee, elf, len, name);
	if (r == 0)
		n->c.code_inserted++;
	char hex[65];
	ee_name_hex(name, hex);
	/* A refusal says why, to the person who inserted the code. */
	uint8_t body[EE_NAME_LEN + WIRE_APPLINK_REASON_MAX];
	size_t blen = sizeof(name);
	memcpy(body, name, sizeof(name));
	if (r < 0) {
		const char *why = ee_last_refusal(n->ee);
		size_t wlen = strnlen(why, WIRE_APPLINK_REASON_MAX);
		memcpy(body + blen, why, wlen);
		blen += wlen;
		log_info("code insert refused: %s", wlen ? why : strerror(-r));
	} else {
		log_info("code insert %s: ok", hex);
	}
	applink_reply(n->apps, handle, WIRE_APP_CODE_RESULT, r, body, blen);
}

/* ---- what the EE asks of the node ---- */

static int env_route(void *arg, const struct an_addr *dst, struct an_addr *ret_next)
{
	return next_hop(arg, dst, ret_next);
}

static bool env_applink_alive(void *arg, uint64_t handle)
{
	struct node *n = arg;
	return applink_alive(n->apps, handle);
}

/* One "Key: value kB" figure of /proc/meminfo, or -EIO. */
static int64_t meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return -EIO;
	char line[256];
	int64_t v = -EIO;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int64_t load_milli(void)
{
	FILE *f = fopen("/proc/loadavg", "re");
	if (!f)
		return -EIO;
	double l1;
	int ok = fscanf(f, "%lf", &l1);
	fclose(f);
	return ok == 1 ? (int64_t)(l1 * 1000.0) : -EIO;
}

static int env_is_goal(void *arg)
{
	struct node *n = arg;
	const struct wire_anep *a = n->cur_anep;
	if (!a || a->n_goals == 0)
		return 1;
	for (unsigned i = 0; i < a->n_goals; i++)
		if (an_addr_eq(&a->goals[i], &n->local))
			return 1;
	return 0;
}

static int env_add_result(void *arg)
{
	struct node *n = arg;
	const struct wire_anep *a = n->cur_anep;
	if (!a)
		return -EINVAL;
	if (n->cur_visit == 0) {
		if (a->n_results >= WIRE_MAX_RESULTS)
			return -ENOSPC;
		int visit = 1;
		for (unsigned i = 0; i < a->n_results; i++)
			if (an_addr_eq(&a->results[i].node, &n->local))
				visit++;
		n->cur_visit = visit;
	}
	return n->cur_visit;
}

static void sample_link_rate(void *arg)
{
	struct node *n = arg;
	uint64_t now = loop_now_ns();
	uint64_t bytes = n->udp->counters.rx_bytes + n->udp->counters.tx_bytes;
	if (n->rate_last_ns && now > n->rate_last_ns)
		n->link_used_bps = (bytes - n->rate_last_bytes) * 8ull * 1000000000ull / (now - n->rate_last_ns);
	n->rate_last_bytes = bytes;
	n->rate_last_ns = now;
	link_udp_read_kernel_drops(n->udp);
	n->mem_total_kb = meminfo_kb("MemTotal");
	n->mem_avail_kb = meminfo_kb("MemAvailable");
	n->load_milli = load_milli();
	loop_timer_add(n->loop, NODE_RATE_MS, sample_link_rate, n);
}

static int64_t env_node_info(void *arg, uint64_t what)
{
	struct node *n = arg;
	switch (what) {
	case AN_INFO_LINK_CAPACITY_BPS:
		return (int64_t)n->cfg.link_capacity_bps;
	case AN_INFO_LINK_RX_BYTES:
		return (int64_t)n->udp->counters.rx_bytes;
	case AN_INFO_LINK_TX_BYTES:
		return (int64_t)n->udp->counters.tx_bytes;
	case AN_INFO_LINK_USED_BPS:
		return (int64_t)n->link_used_bps;
	case AN_INFO_MEM_USED_KB:
		return n->mem_total_kb < 0 || n->mem_avail_kb < 0 ? -EIO : n->mem_total_kb - n->mem_avail_kb;
	case AN_INFO_RX_NS:
		return n->cur ? (int64_t)n->cur->rx_ns : -EINVAL;
	case AN_INFO_MEM_TOTAL_KB:
		return n->mem_total_kb;
	case AN_INFO_MEM_AVAIL_KB:
		return n->mem_avail_kb;
	case AN_INFO_LOAD_MILLI:
		return n->load_milli;
	case AN_INFO_CAPSULES_RX:
		return (int64_t)(n->c.received + n->c.injected);
	case AN_INFO_QUEUE_LEN:
		/* Capsules waiting here: parked for code, or looped to this node. */
		return (int64_t)(fetch_parked(n->fetch) + n->self_q.len + n->resume_q.len);
	case AN_INFO_CODE_CACHED:
		return (int64_t)ee_code_list(n->ee, NULL, 0);
	default:
		return -EINVAL;
	}
}

/* ---- control commands ---- */

static bool want_json(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "json") == 0 || strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

static int ctl_info(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	char a[WIRE_ADDR_STRLEN];
	wire_addr_format(&n->local, a, sizeof(a));
	if (want_json(argc, argv))
		ctl_printf(o, "{\"name\":\"%s\",\"address\":\"%s\",\"app_socket\":\"%s\",\"ctl_socket\":\"%s\"}\n",
			   n->cfg.name, a, n->cfg.app_path, n->cfg.ctl_path);
	else
		ctl_printf(o, "name %s\naddress %s\napp-socket %s\nctl-socket %s\n", n->cfg.name, a,
			   n->cfg.app_path, n->cfg.ctl_path);
	return 0;
}

static int ctl_stats(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	struct ee_stats es;
	ee_stats_get(n->ee, &es);
	const struct link_counters *lc = &n->udp->counters;
	const struct applink_counters *ac = applink_counters(n->apps);
	size_t cached = ee_code_list(n->ee, NULL, 0);
	double uptime = (double)(loop_now_ns() - n->started_ns) / 1e9;
	if (want_json(argc, argv)) {
		ctl_printf(o, "{\"node\":\"%s\",\"uptime_s\":%.3f,\"counters\":{", n->cfg.name, uptime);
		const char *sep = "";
#define JSON_COUNTER(name, help)                                                   \
	ctl_printf(o, "%s\"%s\":%llu", sep, #name, (unsigned long long)n->c.name); \
	sep = ",";
		NODE_COUNTERS(JSON_COUNTER)
#undef JSON_COUNTER
		ctl_printf(o,
			   "},\"link\":{\"kind\":\"%s\",\"rx_packets\":%llu,\"rx_bytes\":%llu,\"tx_packets\":%llu,"
			   "\"tx_bytes\":%llu,\"rx_truncated\":%llu,\"tx_errors\":%llu,\"rx_kernel_drops\":%llu,"
			   "\"rx_no_buffer\":%llu}",
			   n->udp->ops->kind, (unsigned long long)lc->rx_packets, (unsigned long long)lc->rx_bytes,
			   (unsigned long long)lc->tx_packets, (unsigned long long)lc->tx_bytes,
			   (unsigned long long)lc->rx_truncated, (unsigned long long)lc->tx_errors,
			   (unsigned long long)lc->rx_kernel_drops, (unsigned long long)lc->rx_no_buffer);
		ctl_printf(o,
			   ",\"code_cache\":{\"objects\":%zu,\"inserted\":%llu,\"evicted\":%llu,"
			   "\"failed_validation\":%llu,\"refused_known_bad\":%llu,\"runs\":%llu,\"run_errors\":%llu,"
			   "\"state_evictions\":%llu,\"over_budget\":%llu,\"copies_refused\":%llu}",
			   cached, (unsigned long long)es.inserted, (unsigned long long)es.evicted,
			   (unsigned long long)es.failed_validation, (unsigned long long)es.refused_known_bad,
			   (unsigned long long)es.runs, (unsigned long long)es.run_errors,
			   (unsigned long long)es.state_evictions, (unsigned long long)es.over_budget,
			   (unsigned long long)es.copies_refused);
		ctl_printf(o,
			   ",\"applinks\":{\"connected\":%zu,\"accepted\":%llu,\"closed\":%llu,\"bad_messages\":%llu,"
			   "\"delivered\":%llu,\"deliver_full\":%llu,\"deliver_gone\":%llu,"
			   "\"refused_user\":%llu,\"refused_full\":%llu}",
			   applink_count(n->apps), (unsigned long long)ac->accepted, (unsigned long long)ac->closed,
			   (unsigned long long)ac->bad_messages, (unsigned long long)ac->delivered,
			   (unsigned long long)ac->deliver_full, (unsigned long long)ac->deliver_gone,
			   (unsigned long long)ac->refused_user, (unsigned long long)ac->refused_full);
		const struct fetch_counters *fc = fetch_counters(n->fetch);
		ctl_printf(o,
			   ",\"fetch\":{\"active\":%zu,\"parked_now\":%zu,\"requests_sent\":%llu,\"retries\":%llu,"
			   "\"chunks_received\":%llu,\"chunks_unexpected\":%llu,\"completed\":%llu,\"timeouts\":%llu,"
			   "\"mismatches\":%llu,\"invalid\":%llu,\"park_overflow\":%llu,\"requests_limited\":%llu,"
			   "\"relays_pending\":%zu}",
			   fetch_active(n->fetch), fetch_parked(n->fetch), (unsigned long long)fc->requests_sent,
			   (unsigned long long)fc->retries, (unsigned long long)fc->chunks_received,
			   (unsigned long long)fc->chunks_unexpected, (unsigned long long)fc->completed,
			   (unsigned long long)fc->timeouts, (unsigned long long)fc->mismatches,
			   (unsigned long long)fc->invalid, (unsigned long long)fc->park_overflow,
			   (unsigned long long)fc->requests_limited, relay_count(n->relay));
		if (n->match) {
			const struct match_counters *mc = match_counters(n->match);
			ctl_printf(o,
				   ",\"queue\":{\"filters\":%zu,\"packets\":%llu,\"accepted\":%llu,\"dropped\":%llu,"
				   "\"modified\":%llu,\"held\":%llu,\"reinjected\":%llu,\"failed_verdicts\":%llu,"
				   "\"queue_drops\":%llu}",
				   match_filter_count(n->match), (unsigned long long)mc->packets,
				   (unsigned long long)mc->accepted, (unsigned long long)mc->dropped,
				   (unsigned long long)mc->modified, (unsigned long long)mc->held,
				   (unsigned long long)mc->reinjected, (unsigned long long)mc->failed_verdicts,
				   (unsigned long long)mc->queue_drops);
		}
		const struct loop_stats *ls = loop_stats(n->loop);
		ctl_printf(o, ",\"loop\":{\"rounds\":%llu,\"max_round_us\":%.1f}", (unsigned long long)ls->rounds,
			   (double)ls->max_round_ns / 1e3);
		ctl_printf(o, ",\"mode\":\"%s\",\"buffers\":{\"total\":%zu,\"free\":%zu}}\n",
			   n->cfg.router ? "router" : "overlay", pkt_pool_size(n->pool), pkt_pool_available(n->pool));
		return 0;
	}
	ctl_printf(o, "node %s, up %.1f s\n", n->cfg.name, uptime);
#define TEXT_COUNTER(name, help)                           \
	if (n->c.name || strncmp(#name, "drop_", 5) != 0)  \
		ctl_printf(o, "  %-24s %12llu  %s\n", #name, (unsigned long long)n->c.name, help);
	NODE_COUNTERS(TEXT_COUNTER)
#undef TEXT_COUNTER
	ctl_printf(o,
		   "link %s: rx %llu packets %llu bytes, tx %llu packets %llu bytes, %llu tx errors, "
		   "%llu dropped by the kernel at the socket (as of the last second), %llu too big, "
		   "%llu reads put off for want of a buffer\n",
		   n->udp->ops->kind, (unsigned long long)lc->rx_packets, (unsigned long long)lc->rx_bytes,
		   (unsigned long long)lc->tx_packets, (unsigned long long)lc->tx_bytes,
		   (unsigned long long)lc->tx_errors, (unsigned long long)lc->rx_kernel_drops,
		   (unsigned long long)lc->rx_truncated, (unsigned long long)lc->rx_no_buffer);
	ctl_printf(o,
		   "code cache: %zu objects, %llu inserted, %llu evicted, %llu failed validation, %llu refused; "
		   "%llu runs, %llu run errors, %llu soft state evictions\n",
		   cached, (unsigned long long)es.inserted, (unsigned long long)es.evicted,
		   (unsigned long long)es.failed_validation, (unsigned long long)es.refused_known_bad,
		   (unsigned long long)es.runs, (unsigned long long)es.run_errors,
		   (unsigned long long)es.state_evictions);
	ctl_printf(o, "bounds: %llu runs over their work budget, %llu copies refused past a copy budget\n",
		   (unsigned long long)es.over_budget, (unsigned long long)es.copies_refused);
	if (n->match) {
		const struct match_counters *mc = match_counters(n->match);
		ctl_printf(o,
			   "router mode: %zu filters; queued %llu packets: %llu accepted, %llu dropped, %llu sent on "
			   "rewritten, %llu held (%llu given a verdict later); %llu failed verdicts, %llu queue "
			   "overflows\n",
			   match_filter_count(n->match), (unsigned long long)mc->packets,
			   (unsigned long long)mc->accepted, (unsigned long long)mc->dropped,
			   (unsigned long long)mc->modified, (unsigned long long)mc->held,
			   (unsigned long long)mc->reinjected, (unsigned long long)mc->failed_verdicts,
			   (unsigned long long)mc->queue_drops);
	}
	ctl_printf(o,
		   "applications: %zu connected (%llu accepted, %llu closed), %llu refused (a user's share full), "
		   "%llu refused (all full), %llu bad messages; %llu deliveries, %llu to a full socket, %llu to "
		   "one gone\n",
		   applink_count(n->apps), (unsigned long long)ac->accepted, (unsigned long long)ac->closed,
		   (unsigned long long)ac->refused_user, (unsigned long long)ac->refused_full,
		   (unsigned long long)ac->bad_messages, (unsigned long long)ac->delivered,
		   (unsigned long long)ac->deliver_full, (unsigned long long)ac->deliver_gone);
	const struct fetch_counters *tfc = fetch_counters(n->fetch);
	ctl_printf(o,
		   "code loading: %zu fetches, %zu parked; %llu requests sent (%llu retries, %llu held back by the "
		   "rate limit), %llu chunks received (%llu unexpected), %llu completed, %llu timed out, %llu "
		   "mismatched, %llu invalid, %llu park overflows; %zu requests passed on, pending\n",
		   fetch_active(n->fetch), fetch_parked(n->fetch), (unsigned long long)tfc->requests_sent,
		   (unsigned long long)tfc->retries, (unsigned long long)tfc->requests_limited,
		   (unsigned long long)tfc->chunks_received, (unsigned long long)tfc->chunks_unexpected,
		   (unsigned long long)tfc->completed, (unsigned long long)tfc->timeouts,
		   (unsigned long long)tfc->mismatches, (unsigned long long)tfc->invalid,
		   (unsigned long long)tfc->park_overflow, relay_count(n->relay));
	ctl_printf(o, "buffers: %zu of %zu free\n", pkt_pool_available(n->pool), pkt_pool_size(n->pool));
	const struct loop_stats *ls = loop_stats(n->loop);
	ctl_printf(o, "loop: %llu rounds, the longest %.1f us\n", (unsigned long long)ls->rounds,
		   (double)ls->max_round_ns / 1e3);
	return 0;
}

static int ctl_code(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	if (argc >= 3 && strcmp(argv[1], "remove") == 0) {
		uint8_t name[EE_NAME_LEN];
		if (ee_name_parse(argv[2], name) < 0) {
			ctl_printf(o, "not a code object name: %s", argv[2]);
			return -EINVAL;
		}
		int r = ee_code_remove(n->ee, name);
		if (r < 0)
			ctl_printf(o, "%s: not in the code cache", argv[2]);
		return r;
	}
	size_t total = ee_code_list(n->ee, NULL, 0);
	struct ee_code_info *info = calloc(total ? total : 1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	size_t k = ee_code_list(n->ee, info, total);
	if (k > total)
		k = total;
	bool json = want_json(argc, argv);
	uint64_t now = loop_now_ns();
	if (json)
		ctl_printf(o, "{\"code\":[");
	for (size_t i = 0; i < k; i++) {
		char hex[65];
		ee_name_hex(info[i].name, hex);
		double idle = info[i].last_used_ns ? (double)(now - info[i].last_used_ns) / 1e9 : 0;
		if (json)
			ctl_printf(o,
				   "%s{\"name\":\"%s\",\"size\":%zu,\"runs\":%llu,\"errors\":%llu,"
				   "\"state_entries\":%zu,\"idle_s\":%.3f}",
				   i ? "," : "", hex, info[i].size, (unsigned long long)info[i].runs,
				   (unsigned long long)info[i].errors, info[i].state_entries, idle);
		else
			ctl_printf(o, "%s  %6zu bytes  %8llu runs  %llu errors  %zu state  idle %.1fs\n", hex,
				   info[i].size, (unsigned long long)info[i].runs, (unsigned long long)info[i].errors,
				   info[i].state_entries, idle);
	}
	if (json)
		ctl_printf(o, "]}\n");
	free(info);
	return 0;
}

static int ctl_routes(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	struct an_addr dst, next;
	char a[WIRE_ADDR_STRLEN], b[WIRE_ADDR_STRLEN];
	for (size_t i = 0; route_at(n->routes, i, &dst, &next); i++)
		ctl_printf(o, "%s via %s\n", wire_addr_format(&dst, a, sizeof(a)), wire_addr_format(&next, b, sizeof(b)));
	if (route_get_default(n->routes, &next))
		ctl_printf(o, "default via %s\n", wire_addr_format(&next, b, sizeof(b)));
	return 0;
}

static int ctl_log_level(void *arg, int argc, char **argv, struct ctl_out *o)
{
	if (argc != 2 || argv[1][0] < '0' || argv[1][0] > '7' || argv[1][1]) {
		ctl_printf(o, "usage: log-level 0-7 (syslog levels; 7 is debug)");
		return -EINVAL;
	}
	log_set_level(argv[1][0] - '0');
	return 0;
}

static int ctl_shutdown(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	loop_stop(n->loop);
	return 0;
}

static const struct ctl_command ctl_table[] = {
	{ "info", "info [json]", ctl_info },
	{ "stats", "stats [json]", ctl_stats },
	{ "code", "code [json] | code remove NAME", ctl_code },
	{ "routes", "routes", ctl_routes },
	{ "log-level", "log-level N", ctl_log_level },
	{ "shutdown", "shutdown", ctl_shutdown },
	{ NULL, NULL, NULL },
};

/* ---- router mode ---- */

/* A packet to the node's UDP port that crossed this router (or is addressed to it),
 * from the matching engine's queue: its capsule runs here, and the packet
 * gets its verdict from what the capsule did. */
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
	n->cur_q = q;
	n->cur_qpkt = p;
	n->q_verdict = MATCH_DROP; /* unless the capsule is sent on as this packet */
	node_input(n, p);
	n->cur_q = NULL;
	n->cur_qpkt = NULL;
	return n->q_verdict;
}

static int router_start(struct node *n)
{
	n->match = match_new(n->loop, n->cfg.name, (uint16_t)n->cfg.queue);
	if (!n->match)
		return -errno;
	/* Capsules travel to the node's own UDP port (3322 unless configured
	 * otherwise), so that is the port every router intercepts. */
	uint16_t port = be16toh(n->local.port);
	struct match_filter f = { .proto = 17, .dport_lo = port, .dport_hi = port };
	unsigned id;
	return match_install(n->match, &f, queue_handler, n, &id);
}

/* ---- life cycle ---- */

struct node *node_new(const struct node_config *cfg, int udp_fd)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->cfg = *cfg;
	n->cfg.routes = NULL; /* the table below owns the routes */
	n->cfg.n_routes = 0;
	n->started_ns = loop_now_ns();
	n->loop = loop_new();
	n->pool = pkt_pool_new(cfg->buffers);
	n->routes = route_table_new();
	n->q_scratch = malloc(NODE_Q_SCRATCH);
	if (!n->loop || !n->pool || !n->routes || !n->q_scratch)
		goto fail;
	pkt_pool_set_share(n->pool, cfg->buffers * cfg->code_buffer_share / 100);
	if (sodium_init() < 0)
		goto fail;
	randombytes_buf(n->owner_key, sizeof(n->owner_key));
	for (size_t i = 0; i < cfg->n_routes; i++) {
		if (cfg->routes[i].is_default)
			route_set_default(n->routes, &cfg->routes[i].next);
		else if (route_add(n->routes, &cfg->routes[i].dst, &cfg->routes[i].next) < 0)
			goto fail;
	}
	n->udp = link_udp_open(&cfg->listen, udp_fd, n->pool);
	if (!n->udp) {
		char a[WIRE_ADDR_STRLEN];
		log_err("cannot open UDP link on %s: %s", wire_addr_format(&cfg->listen, a, sizeof(a)),
			strerror(errno));
		goto fail;
	}
	n->local = n->udp->local;
	struct ee_env env = {
		.node = n,
		.route = env_route,
		.applink_alive = env_applink_alive,
		.node_info = env_node_info,
		.local = n->local,
		.is_goal = env_is_goal,
		.add_result = env_add_result,
	};
	struct ee_config ecfg = {
		.cache_objects = cfg->cache_objects,
		.cache_bytes = cfg->cache_bytes,
		.state_entries = cfg->state_entries,
		.run_budget = cfg->run_budget,
	};
	n->ee = ee_new(&ecfg, &env);
	if (!n->ee) {
		log_err("cannot start the execution environment");
		goto fail;
	}
	struct fetch_config fcfg = {
		.park_per_code = cfg->park_per_code,
		.park_total = cfg->park_total,
		.retry_ms = cfg->fetch_retry_ms,
		.timeout_ms = cfg->fetch_timeout_ms,
	};
	struct fetch_ops fops = {
		.arg = n,
		.request = fetch_request,
		.install = fetch_install,
		.resume = fetch_resume,
		.expire = fetch_expire,
	};
	n->fetch = fetch_new(n->loop, &fcfg, &fops);
	n->relay = relay_new(NODE_RELAYS, (unsigned)cfg->fetch_timeout_ms);
	if (!n->fetch || !n->relay)
		goto fail;
	struct applink_handler h = { .arg = n, .inject = app_inject, .code_insert = app_code_insert };
	n->apps = applink_server_open(cfg->app_path, n->loop, &n->local, cfg->name, &h);
	if (!n->apps) {
		log_err("cannot open application socket %s: %s", cfg->app_path, strerror(errno));
		goto fail;
	}
	n->ctl = ctl_server_open(cfg->ctl_path, n->loop, ctl_table, n);
	if (!n->ctl) {
		log_err("cannot open control socket %s: %s", cfg->ctl_path, strerror(errno));
		goto fail;
	}
	if (loop_fd_add(n->loop, n->udp->fd, EPOLLIN, udp_readable, n) < 0)
		goto fail;
	if (cfg->router && router_start(n) < 0) {
		log_err("cannot intercept capsules (router mode needs root and iptables)");
		goto fail;
	}
	loop_set_idle(n->loop, loop_idle, n);
	sample_link_rate(n);
	return n;
fail:
	node_free(n);
	return NULL;
}

struct loop *node_loop(struct node *n)
{
	return n->loop;
}

const struct an_addr *node_addr(const struct node *n)
{
	return &n->local;
}

int node_run(struct node *n)
{
	char a[WIRE_ADDR_STRLEN];
	log_info("node %s on %s, applications on %s, control on %s", n->cfg.name,
		 wire_addr_format(&n->local, a, sizeof(a)), n->cfg.app_path, n->cfg.ctl_path);
	return loop_run(n->loop);
}

void node_free(struct node *n)
{
	if (!n)
		return;
	fetch_free(n->fetch); /* drops what it parked: needs the pool, app links and held packets */
	match_free(n->match); /* its rules: traffic goes on without us */
	n->match = NULL;
	relay_free(n->relay);
	ctl_server_close(n->ctl);
	applink_server_close(n->apps);
	ee_free(n->ee);
	while (n->self_q.head)
		pkt_put(n->pool, pkt_queue_pop(&n->self_q));
	while (n->resume_q.head) {
		struct pkt *p = pkt_queue_pop(&n->resume_q);
		p->held = NULL; /* the engine is gone, and with it the held packet */
		pkt_put(n->pool, p);
	}
	if (n->udp)
		n->udp->ops->close(n->udp);
	route_table_free(n->routes);
	pkt_pool_free(n->pool);
	loop_free(n->loop);
	free(n->q_scratch);
	free(n);
}
