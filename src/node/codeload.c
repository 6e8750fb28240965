// SPDX-License-Identifier: MIT
/*
 * The code loading room (PAN §4.5.3, seed 002 §2.2): code requests and
 * chunks (Type IDs CODE_REQUEST and CODE_RESPONSE), and the fetches of code
 * that parked capsules wait for (fetch.c), with the requests this node
 * passed on toward a code home (relay.c).
 *
 * Code answers are the one thing a node sends in bulk to whoever asks, so
 * they obey QUIC's anti-amplification rule (RFC 9000 §8): they go only to
 * the real sender of the request (the UDP source in overlay mode, the IP
 * source in router mode, never an address the packet merely names), and
 * they hold at most WIRE_CODE_AMPLIFICATION times the octets of the
 * request. Requesters pad their requests to pay for the chunks they ask
 * (fetch_request). A node without the code passes the request on toward
 * the code home in its own name and relays the chunks that come back, so
 * that every hop answers its own real sender.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "node/fetch.h"
#include "node/node_impl.h"
#include "node/relay.h"

/* Code requests passed on toward a code home at once. */
#define CODELOAD_RELAYS 128

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
	if (node_next_hop(n, &a->dst, &next) < 0 || an_addr_eq(&next, &n->local))
		return node_drop(n, p, &n->c.drop_no_route, -EHOSTUNREACH);
	if (node_take_hop(p, a) < 0 || !node_may_leave(p, a))
		return node_drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	if (relay_add(n->relay, req->name, &p->from, req->want, allowance, loop_now_ms()) < 0)
		return node_drop(n, p, &n->c.drop_relay_full, -ENOBUFS);
	struct pkt *q = pkt_get(n->pool);
	if (!q)
		return node_drop(n, p, &n->c.drop_no_buffer, -ENOBUFS);
	struct an_addr home = a->dst;
	struct wire_anep_spec spec = { .src = &n->local, .dst = &home, .hop_limit = a->hop_limit };
	size_t len;
	if (wire_code_request_build(q->ctx.pkt, AN_PKT_MAX, &spec, req, p->len, &len) < 0) {
		pkt_put(n->pool, q);
		return node_drop(n, p, &n->c.drop_malformed, -EMSGSIZE);
	}
	pkt_put(n->pool, p);
	q->len = (uint16_t)len;
	n->c.code_requests_forwarded++;
	node_send(n, q, &next, 0);
}

static void code_request_input(struct node *n, struct pkt *p, struct wire_anep *a)
{
	struct wire_code_request req;
	/* Only nodes ask for code: an answer to this node itself or to an
	 * application would go nowhere. */
	if (p->origin != AN_ORIGIN_NET || wire_code_request_parse(p->ctx.pkt, p->len, a, &req) < 0)
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
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
	return node_drop(n, p, &n->c.drop_code_not_here, -ENOENT);
}

static void code_response_input(struct node *n, struct pkt *p, struct wire_anep *a)
{
	struct wire_code_chunk c;
	if (p->origin != AN_ORIGIN_NET || wire_code_chunk_parse(p->ctx.pkt, p->len, a, &c) < 0)
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	/* Nodes this one passed a request on for, as far as they paid. */
	struct an_addr to[8];
	size_t k = relay_take(n->relay, c.name, c.index, p->len, to, 8, loop_now_ms());
	for (size_t i = 0; i < k; i++) {
		struct pkt *q = node_pkt_copy(n, p);
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

/* ---- what the fetcher asks of the node ---- */

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
	else if (node_next_hop(n, home, &next) < 0)
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

static int fetch_install(void *arg, const uint8_t name[32], const void *code, size_t len, const void *kind)
{
	struct node *n = arg;
	int r = ee_code_insert_named_kind(n->ee, kind, name, code, len);
	if (r == 0)
		n->c.code_fetched++;
	return r;
}

/* Parked capsules run from the node's resume queue, a slice at a time, not
 * all at once when their code arrives (a code object can have 32 parked). */
static void fetch_resume(void *arg, struct pkt *p)
{
	struct node *n = arg;
	pkt_queue_push(&n->resume_q, p);
}

static void fetch_expire(void *arg, struct pkt *p, int why)
{
	struct node *n = arg;
	/* Not only capsules wait for code (a concast MS waits for its merge
	 * specification): the packet's room hears that it will not come. */
	node_parked_expired(n, p, why);
	if (why == -EBADMSG)
		return node_drop(n, p, &n->c.drop_code_mismatch, why);
	if (why == -EINVAL || why == -EPERM)
		return node_drop(n, p, &n->c.drop_code_bad, why);
	node_drop(n, p, &n->c.drop_code_timeout, why);
}

int codeload_park(struct node *n, struct pkt *p, const struct wire_capsule *cap)
{
	const struct an_addr *prev = p->origin == AN_ORIGIN_NET ? &p->from : NULL;
	int r = fetch_park(n->fetch, p, cap->name, prev, &cap->home, &n->local, &ee_kind_capsule);
	if (r < 0)
		return r;
	n->c.parked++;
	/* Router mode: the packet it came in waits with it, so that it leaves
	 * as that packet's verdict, with its original IP source. */
	if (p->queued)
		router_hold(n, p);
	return 0;
}

int codeload_room_init(struct node *n)
{
	struct fetch_config fcfg = {
		.park_per_code = n->cfg.park_per_code,
		.park_total = n->cfg.park_total,
		.retry_ms = (unsigned)n->cfg.fetch_retry_ms,
		.timeout_ms = (unsigned)n->cfg.fetch_timeout_ms,
	};
	struct fetch_ops fops = {
		.arg = n,
		.request = fetch_request,
		.install = fetch_install,
		.resume = fetch_resume,
		.expire = fetch_expire,
	};
	n->fetch = fetch_new(n->loop, &fcfg, &fops);
	n->relay = relay_new(CODELOAD_RELAYS, (unsigned)n->cfg.fetch_timeout_ms);
	if (!n->fetch || !n->relay)
		return -ENOMEM;
	int r = node_type_register(n, WIRE_TYPE_CODE_REQUEST, "codeload", code_request_input);
	if (r == 0)
		r = node_type_register(n, WIRE_TYPE_CODE_RESPONSE, "codeload", code_response_input);
	return r;
}

void codeload_room_done(struct node *n)
{
	fetch_free(n->fetch); /* drops what it parked */
	n->fetch = NULL;
	relay_free(n->relay);
	n->relay = NULL;
}
