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

#include <stdlib.h>

#include "codeload/codeload.h"
#include "codeload/fetch.h"
#include "codeload/relay.h"
#include "core/log.h"
#include "node/room.h"

/* Code requests passed on toward a code home at once. */
#define CODELOAD_RELAYS 128

struct codeload_config {
	size_t park_per_code, park_total, fetch_retry_ms, fetch_timeout_ms;
};

struct codeload {
	struct node *n;
	struct fetcher *fetch;
	struct relay *relay; /* code requests passed on, to relay answers back */
};

/* Send the chunks of code in want to `to`, within allowance octets. */
static void serve_code(struct node *n, const struct wire_code_request *req, const void *code, size_t len,
		       const struct an_addr *to, size_t allowance)
{
	uint16_t count = (uint16_t)((len + WIRE_CODE_CHUNK - 1) / WIRE_CODE_CHUNK);
	struct wire_anep_spec spec = {.src = &n->local, .dst = to};
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
		node_send_link(n, q, to);
	}
}

/* Pass a request for code this node lacks on toward the home it is
 * addressed to, as this node's own request of the same size (so that the
 * next node's allowance is what the first requester paid), and remember
 * whom to relay the chunks to. Consumes p. */
static void pass_code_request(struct codeload *cl, struct pkt *p, struct wire_anep *a,
			      const struct wire_code_request *req, size_t allowance)
{
	struct node *n = cl->n;
	struct an_addr next;
	if (node_next_hop(n, &a->dst, &next) < 0 || an_addr_eq(&next, &n->local))
		return node_drop(n, p, &n->c.drop_no_route, -EHOSTUNREACH);
	if (node_take_hop(p, a) < 0 || !node_may_leave(p, a))
		return node_drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	if (relay_add(cl->relay, req->name, &p->from, req->want, allowance, loop_now_ms()) < 0)
		return node_drop(n, p, &n->c.drop_relay_full, -ENOBUFS);
	struct pkt *q = pkt_get(n->pool);
	if (!q)
		return node_drop(n, p, &n->c.drop_no_buffer, -ENOBUFS);
	struct an_addr home = a->dst;
	struct wire_anep_spec spec = {.src = &n->local, .dst = &home, .hop_limit = a->hop_limit};
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

static void code_request_input(void *room, struct pkt *p, struct wire_anep *a)
{
	struct codeload *cl = room;
	struct node *n = cl->n;
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
		return pass_code_request(cl, p, a, &req, allowance);
	return node_drop(n, p, &n->c.drop_code_not_here, -ENOENT);
}

static void code_response_input(void *room, struct pkt *p, struct wire_anep *a)
{
	struct codeload *cl = room;
	struct node *n = cl->n;
	struct wire_code_chunk c;
	if (p->origin != AN_ORIGIN_NET || wire_code_chunk_parse(p->ctx.pkt, p->len, a, &c) < 0)
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	/* Nodes this one passed a request on for, as far as they paid. */
	struct an_addr to[8];
	size_t k = relay_take(cl->relay, c.name, c.index, p->len, to, 8, loop_now_ms());
	for (size_t i = 0; i < k; i++) {
		struct pkt *q = node_pkt_copy(n, p);
		if (!q) {
			n->c.drop_no_buffer++;
			break;
		}
		wire_anep_set_dst(q->ctx.pkt, a, &to[i]);
		n->c.code_chunks_relayed++;
		node_send_link(n, q, &to[i]);
	}
	bool mine = fetch_chunk(cl->fetch, &c, p->ctx.pkt, &p->from) == 0;
	if (!mine && k == 0)
		n->c.code_chunks_unwanted++;
	pkt_put(n->pool, p);
}

/* ---- what the fetcher asks of the node ---- */

static int fetch_request(void *arg, const uint8_t name[32], uint64_t want, const struct an_addr *to,
			 const struct an_addr *home)
{
	struct codeload *cl = arg;
	struct node *n = cl->n;
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
	struct wire_code_request req = {.want = want};
	memcpy(req.name, name, sizeof(req.name));
	struct wire_anep_spec spec = {.src = &n->local, .dst = to ? to : home};
	/* Padded to pay for the answer (see serve_code). */
	size_t pad_to = wire_code_request_padded_len(wire_anep_hdr_len(&spec), want);
	size_t len;
	int r = wire_code_request_build(q->ctx.pkt, AN_PKT_MAX, &spec, &req, pad_to, &len);
	if (r < 0) {
		pkt_put(n->pool, q);
		return r;
	}
	q->len = (uint16_t)len;
	node_send_link(n, q, &next);
	return 0;
}

static int fetch_install(void *arg, const uint8_t name[32], const void *code, size_t len, const void *kind)
{
	struct codeload *cl = arg;
	struct node *n = cl->n;
	int r = ee_code_insert_named_kind(n->ee, kind, name, code, len);
	if (r == 0)
		n->c.code_fetched++;
	return r;
}

/* Parked capsules run from the node's resume queue, a slice at a time, not
 * all at once when their code arrives (a code object can have 32 parked). */
static void fetch_resume(void *arg, struct pkt *p)
{
	struct codeload *cl = arg;
	node_resume(cl->n, p);
}

static void fetch_expire(void *arg, struct pkt *p, int why)
{
	struct codeload *cl = arg;
	struct node *n = cl->n;
	/* Not only capsules wait for code (a concast MS waits for its merge
	 * specification): the packet's room hears that it will not come. */
	node_parked_expired(n, p, why);
	if (why == -EBADMSG)
		return node_drop(n, p, &n->c.drop_code_mismatch, why);
	if (why == -EINVAL || why == -EPERM)
		return node_drop(n, p, &n->c.drop_code_bad, why);
	node_drop(n, p, &n->c.drop_code_timeout, why);
}

int codeload_park(struct codeload *cl, struct pkt *p, const uint8_t name[32], const struct an_addr *home,
		  const struct ee_kind *kind)
{
	struct node *n = cl->n;
	const struct an_addr *prev = p->origin == AN_ORIGIN_NET ? &p->from : NULL;
	int r = fetch_park(cl->fetch, p, name, prev, home, &n->local, kind);
	if (r < 0)
		return r;
	n->c.parked++;
	/* Router mode: the packet it came in waits with it, so that it leaves
	 * as that packet's verdict, with its original IP source. */
	if (p->queued)
		router_hold(n, p);
	return 0;
}

/* ---- the room ---- */

static int codeload_init(struct node *n, const void *cfg, void **ret_state)
{
	const struct codeload_config *c = cfg;
	struct codeload *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->n = n;
	struct fetch_config fcfg = {
	    .park_per_code = c->park_per_code,
	    .park_total = c->park_total,
	    .retry_ms = (unsigned)c->fetch_retry_ms,
	    .timeout_ms = (unsigned)c->fetch_timeout_ms,
	};
	struct fetch_ops fops = {
	    .arg = cl,
	    .request = fetch_request,
	    .install = fetch_install,
	    .resume = fetch_resume,
	    .expire = fetch_expire,
	};
	cl->fetch = fetch_new(n->loop, &fcfg, &fops);
	cl->relay = relay_new(CODELOAD_RELAYS, (unsigned)c->fetch_timeout_ms);
	*ret_state = cl;
	return cl->fetch && cl->relay ? 0 : -ENOMEM;
}

/* Every directive of the room may change while it runs (fetch_set_limits);
 * the relays keep the timeout they started with. */
static int codeload_reconfigure(void *room, const void *cfg, const struct node_config *nc, bool apply, char *why,
				size_t whylen)
{
	struct codeload *cl = room;
	const struct codeload_config *c = cfg;
	if (apply)
		fetch_set_limits(cl->fetch, c->park_per_code, c->park_total, (unsigned)c->fetch_retry_ms,
				 (unsigned)c->fetch_timeout_ms);
	return 0;
}

static void codeload_done(void *room)
{
	struct codeload *cl = room;
	fetch_free(cl->fetch); /* drops what it parked */
	relay_free(cl->relay);
	free(cl);
}

static void codeload_stats(void *room, struct stat_list *l)
{
	struct codeload *cl = room;
	struct stat_section *sec = stat_list_add(l, "fetch", "code loading");
	if (!sec)
		return;
	stat_add(sec, "active", "code objects being fetched now", fetch_active(cl->fetch));
	stat_add(sec, "parked_now", "packets parked now", fetch_parked(cl->fetch));
	stat_add(sec, "relays_pending", "requests passed on toward a code home, pending", relay_count(cl->relay));
	STAT_ADD_ALL(sec, fetch_counters(cl->fetch), FETCH_COUNTERS);
}

static size_t codeload_queued(void *room)
{
	struct codeload *cl = room;
	return fetch_parked(cl->fetch);
}

static const struct conf_directive codeload_directives[] = {
    CONF_NUM("park-per-code", "N", "packets parked per code object being fetched", struct codeload_config,
	     park_per_code, 1, 1 << 16, FETCH_DEFAULT_PARK_PER_CODE),
    CONF_NUM("park-total", "N", "packets parked in all", struct codeload_config, park_total, 1, 1 << 20,
	     FETCH_DEFAULT_PARK_TOTAL),
    CONF_NUM("fetch-retry-ms", "N", "ask again for missing code chunks after N ms", struct codeload_config,
	     fetch_retry_ms, 1, 60000, FETCH_DEFAULT_RETRY_MS),
    CONF_NUM("fetch-timeout-ms", "N", "drop parked packets after N ms", struct codeload_config, fetch_timeout_ms, 1,
	     600000, FETCH_DEFAULT_TIMEOUT_MS),
    CONF_END,
};

static const struct room_type codeload_types[] = {
    {WIRE_TYPE_CODE_REQUEST, code_request_input, NULL},
    {WIRE_TYPE_CODE_RESPONSE, code_response_input, NULL},
    {0},
};

static const struct room codeload_room = {
    .name = "codeload",
    .rank = 10, /* before the rooms that park packets with it */
    .cfg_size = sizeof(struct codeload_config),
    .directives = codeload_directives,
    .init = codeload_init,
    .done = codeload_done,
    .reconfigure = codeload_reconfigure,
    .types = codeload_types,
    .stats = codeload_stats,
    .queued = codeload_queued,
};
ROOM_REGISTER(codeload_room);
