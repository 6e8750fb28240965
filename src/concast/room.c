// SPDX-License-Identifier: MIT
/*
 * The concast room (seed 001 §2.2, §4): the Concast Signaling Protocol,
 * concast data, the keep-alive period. Flow state and the merge itself
 * are flow.c's; the applications that send (JOIN) and receive (SET_MERGE)
 * are apps.c's, concast on IP is ip.c's, what the control socket shows is
 * show.c's. This file moves messages between the network and the table.
 *
 *   sender app --JOIN--> its node: flow state, RMS toward R ──► each concast
 *   node on the way: flow state, the sender's node in its UNL, RMS on in its
 *   own name ──► a node that has the specification (at worst R's) answers MS
 *   ──► each node fetches the code from the one that answered (code loading,
 *   as kind "merge"), validates it, passes MS on to its UNL ──► the sender's
 *   node tells the application (STATUS 0).
 *
 * Data follows the same path toward R; a node with one upstream neighbour
 * passes it on, one with more merges. Every period each node sends
 * KEEPALIVE downstream per flow; an upstream neighbour silent for
 * CONCAST_PRUNE_PERIODS periods is pruned, and a flow whose UNL empties is
 * freed. ERROR travels upstream and frees the flows it crosses.
 *
 * Transport. In overlay mode concast messages are ANEP packets on the UDP
 * links. In router mode they travel on IP as seed 001 §3 has it
 * (wire_ipv4_concast_*): protocol 253, IP Router Alert on data, RMS and
 * KEEPALIVE, the AppID option holding A, and G as the IP source of data.
 * The room reads them from a raw socket with IP_ROUTER_ALERT, which the
 * kernel hands every datagram with Router Alert it would forward (and then
 * does not forward it), and every datagram of protocol 253 for this host;
 * a router without anode forwards them like any other. The socket is
 * opened while the node child is still root (it needs CAP_NET_RAW); the
 * child keeps it after dropping privileges. ANEP over UDP 3322 (what the
 * matching engine intercepts) is still understood in router mode.
 *
 * An upstream neighbour is named by where its messages come from: the UDP
 * source in overlay mode (a node sends from its listening socket); in
 * router mode, the IP source of signalling, and for data (whose IP source
 * is G) the PREV_HOP option every node writes, as capsules do in router
 * mode; never by an address the body of a message names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <unistd.h>

#include "codeload/codeload.h"
#include "concast/room_impl.h"
#include "core/log.h"
#include "link/ip.h"

/* ---- sending ---- */

/* Send a concast packet toward `to` (a neighbour, or the receiver): on the
 * UDP link, or in router mode on the IP link, whose header takes the
 * flow's AppID, src as its source (G for data, this node for signalling)
 * and Router Alert when every concast router on the way must see it.
 * Consumes q. */
static void send_pkt(struct concast_room *r, struct pkt *q, const struct an_addr *to, const struct an_flow *flow,
		     const struct an_addr *src, bool router_alert)
{
	if (!r->ip)
		return node_send(r->n, q, to, 0);
	memset(&q->meta, 0, sizeof(q->meta));
	memcpy(&q->meta.ip_src, src->ip + 12, 4);
	q->meta.has_app_id = 1;
	q->meta.app_id = flow->app_id;
	q->meta.router_alert = router_alert;
	node_send_on(r->n, r->ip, q, to);
}

void concast_send_csp(struct concast_room *r, uint8_t type, uint8_t code, const struct an_flow *flow,
		      const struct an_addr *dst, const struct cc_flow *f, const char *text, const uint8_t *nonce,
		      const uint8_t *cookie)
{
	struct node *n = r->n;
	struct an_addr next;
	/* RMS and KEEPALIVE go toward the receiver by route; MS and ERROR
	 * straight to the upstream neighbour they answer. */
	if (type == WIRE_CSP_RMS || type == WIRE_CSP_KEEPALIVE) {
		if (node_next_hop(n, dst, &next) < 0 || an_addr_eq(&next, &n->local))
			return;
	} else {
		next = *dst;
	}
	struct pkt *q = pkt_get(n->pool);
	if (!q) {
		n->c.drop_no_buffer++;
		return;
	}
	struct wire_anep_spec spec = {.src = &n->local, .dst = dst};
	/* PATH says lost or restored where the others have their code. */
	struct wire_csp_spec c = {.type = type,
				  .code = type == WIRE_CSP_PATH ? 0 : code,
				  .path = type == WIRE_CSP_PATH ? code : 0,
				  .flow = flow,
				  .nonce = nonce,
				  .cookie = cookie,
				  .text = text,
				  .text_len = text ? strnlen(text, WIRE_CSP_TEXT_MAX) : 0};
	if (f) {
		c.spec = f->spec;
		c.spec_len = (uint32_t)f->spec_len;
		c.admit = f->admit;
		c.n_admit = f->n_admit;
	}
	size_t len;
	if (wire_csp_build(q->ctx.pkt, AN_PKT_MAX, &spec, &c, &len) < 0) {
		pkt_put(n->pool, q);
		return;
	}
	q->len = (uint16_t)len;
	switch (type) {
	case WIRE_CSP_RMS:
		r->c.rms_sent++;
		break;
	case WIRE_CSP_MS:
		r->c.spec_msgs_sent++;
		break;
	case WIRE_CSP_KEEPALIVE:
		r->c.keepalives_sent++;
		break;
	case WIRE_CSP_CHALLENGE:
		r->c.challenges_sent++;
		break;
	case WIRE_CSP_PATH:
		break;
	default:
		r->c.errors_sent++;
		break;
	}
	send_pkt(r, q, &next, flow, &n->local, type == WIRE_CSP_RMS || type == WIRE_CSP_KEEPALIVE);
}

/* Tell an application what became of its request or of its flow. */
void concast_tell_app(struct concast_room *r, uint64_t app, int status, const struct an_flow *flow, const uint8_t *spec,
		      const char *text)
{
	uint8_t body[WIRE_FLOW_LEN + 32 + WIRE_APPLINK_REASON_MAX];
	size_t tlen = text ? strnlen(text, WIRE_APPLINK_REASON_MAX) : 0;
	wire_flow_write(body, sizeof(body), flow);
	if (spec)
		memcpy(body + WIRE_FLOW_LEN, spec, 32);
	else
		memset(body + WIRE_FLOW_LEN, 0, 32);
	memcpy(body + WIRE_FLOW_LEN + 32, text ? text : "", tlen);
	node_app_send(r->n, app, WIRE_APP_CONCAST_STATUS, status, body, WIRE_FLOW_LEN + 32 + tlen);
}

static int csp_errno(uint8_t code)
{
	switch (code) {
	case WIRE_CSP_ERR_NO_SPEC:
		return -ENOENT;
	case WIRE_CSP_ERR_UNREACHABLE:
		return -EHOSTUNREACH;
	case WIRE_CSP_ERR_SPEC_REFUSED:
		return -EINVAL;
	case WIRE_CSP_ERR_NO_ROOM:
		return -ENOSPC;
	case WIRE_CSP_ERR_NOT_ADMITTED:
		return -EACCES;
	default:
		return -ECONNRESET;
	}
}

void concast_path_notify(struct concast_room *r, struct cc_flow *f, uint8_t state, const char *text)
{
	uint8_t body[WIRE_FLOW_LEN + 1 + WIRE_APPLINK_REASON_MAX];
	size_t tlen = text ? strnlen(text, WIRE_APPLINK_REASON_MAX) : 0;
	wire_flow_write(body, sizeof(body), &f->id);
	body[WIRE_FLOW_LEN] = state;
	memcpy(body + WIRE_FLOW_LEN + 1, text ? text : "", tlen);
	for (size_t i = 0; i < cc_config(r->t)->max_upstream; i++) {
		struct cc_upstream *u = &f->up[i];
		if (u->kind == CC_UP_NODE)
			concast_send_csp(r, WIRE_CSP_PATH, state, &f->id, &u->addr, NULL, NULL, u->nonce, NULL);
		else if (u->kind == CC_UP_APP)
			node_app_send(r->n, u->app, WIRE_APP_CONCAST_PATH, 0, body, WIRE_FLOW_LEN + 1 + tlen);
	}
}

/* Send ERROR to every upstream node, tell every sending application, and
 * free the flow (§2.2: errors travel upstream to the senders). */
void concast_flow_fail(struct concast_room *r, struct cc_flow *f, uint8_t code, const char *text)
{
	const struct an_flow id = f->id;
	for (size_t i = 0; i < cc_config(r->t)->max_upstream; i++) {
		struct cc_upstream *u = &f->up[i];
		if (u->kind == CC_UP_NODE)
			concast_send_csp(r, WIRE_CSP_ERROR, code, &id, &u->addr, NULL, text, u->nonce, NULL);
		else if (u->kind == CC_UP_APP)
			concast_tell_app(r, u->app, csp_errno(code), &id, NULL, text ? text : wire_csp_error_str(code));
	}
	r->c.flows_freed++;
	cc_flow_del(r->t, f);
}

bool concast_admits(const struct cc_flow *f, const struct an_addr *addr)
{
	if (!f->n_admit)
		return true;
	for (size_t i = 0; i < f->n_admit; i++)
		if (wire_prefix_contains(&f->admit[i], addr->ip))
			return true;
	return false;
}

/* The receiver's admission, now known here: an upstream node outside it
 * hears ERROR (and frees the flow, telling its own senders); a sender on
 * this node is refused when the node's own address is outside it. */
static void admit_upstream(struct concast_room *r, struct cc_flow *f)
{
	if (!f->n_admit)
		return;
	bool here = concast_admits(f, &r->n->local);
	for (size_t i = 0; i < cc_config(r->t)->max_upstream; i++) {
		struct cc_upstream *u = &f->up[i];
		if (u->kind == CC_UP_NODE && !concast_admits(f, &u->addr)) {
			r->c.refused_admission++;
			concast_send_csp(r, WIRE_CSP_ERROR, WIRE_CSP_ERR_NOT_ADMITTED, &f->id, &u->addr, NULL,
					 "the receiver admits no upstream neighbour from this address", u->nonce, NULL);
			cc_up_del(f, (int)i);
		} else if (u->kind == CC_UP_APP && !here) {
			r->c.refused_admission++;
			concast_tell_app(r, u->app, -EACCES, &f->id, NULL,
					 "the receiver admits no sender from this node's address");
			cc_up_del(f, (int)i);
		}
	}
}

void concast_flow_ready(struct concast_room *r, struct cc_flow *f)
{
	admit_upstream(r, f);
	if (f->n_up == 0 && !f->receiver_app) {
		r->c.flows_freed++;
		cc_flow_del(r->t, f);
		return;
	}
	for (size_t i = 0; i < cc_config(r->t)->max_upstream; i++) {
		struct cc_upstream *u = &f->up[i];
		if (!u->kind || u->told)
			continue;
		u->told = true;
		if (u->kind == CC_UP_NODE)
			concast_send_csp(r, WIRE_CSP_MS, 0, &f->id, &u->addr, f, NULL, u->nonce, NULL);
		else
			concast_tell_app(r, u->app, 0, &f->id, f->spec, NULL);
	}
}

/* Where merged messages go: the receiving application here, or on toward
 * the receiver. */
static void emit(void *arg, struct cc_flow *f, const uint8_t *msg, size_t len)
{
	struct concast_room *r = arg;
	struct node *n = r->n;
	if (f->receiver_app) {
		uint8_t body[WIRE_FLOW_LEN + AN_CONCAST_MSG_MAX];
		wire_flow_write(body, sizeof(body), &f->id);
		memcpy(body + WIRE_FLOW_LEN, msg, len);
		if (node_app_send(n, f->receiver_app, WIRE_APP_CONCAST_DELIVER, 0, body, WIRE_FLOW_LEN + len) < 0) {
			r->c.deliver_failed++;
			return;
		}
		r->c.delivered++;
		return;
	}
	struct an_addr next;
	if (node_next_hop(n, &f->id.receiver, &next) < 0 || an_addr_eq(&next, &n->local)) {
		r->c.no_route++;
		return;
	}
	struct pkt *q = pkt_get(n->pool);
	if (!q) {
		n->c.drop_no_buffer++;
		return;
	}
	/* PREV_HOP names this node to the next one in router mode, where the
	 * IP source is the group. */
	struct wire_anep_spec spec = {.prev_hop = r->ip ? &n->local : NULL};
	size_t plen;
	if (wire_concast_data_build(q->ctx.pkt, AN_PKT_MAX, &spec, &f->id, msg, len, &plen) < 0) {
		pkt_put(n->pool, q);
		return;
	}
	q->len = (uint16_t)plen;
	r->c.data_sent++;
	send_pkt(r, q, &next, &f->id, &f->id.group, true);
}

static void merge_timer_fired(void *arg);

/* Keep one timer at the earliest deadline of the table. */
static void merge_timer_arm(struct concast_room *r)
{
	uint64_t d = cc_next_deadline(r->t);
	if (d == UINT64_MAX || (r->merge_timer && d >= r->merge_at))
		return;
	if (r->merge_timer)
		loop_timer_cancel(r->n->loop, r->merge_timer);
	uint64_t now = loop_now_ms();
	r->merge_at = d;
	r->merge_timer = loop_timer_add(r->n->loop, d > now ? d - now : 0, merge_timer_fired, r);
}

static bool slice_spent(void *arg)
{
	struct concast_room *r = arg;
	return loop_slice_spent(r->n->loop);
}

static void merge_timer_fired(void *arg)
{
	struct concast_room *r = arg;
	r->merge_timer = NULL;
	cc_expire(r->t, loop_now_ms());
	merge_timer_arm(r);
}

/* ---- signalling from the network ---- */

/* The cookie for a neighbour claiming address `from` on a flow, in time
 * window `window`: a keyed hash, so that nothing is kept until it comes
 * back (a SYN cookie's idea). */
static void cookie_make(const struct concast_room *r, const struct an_addr *from, const struct an_flow *flow,
			uint64_t window, uint8_t out[WIRE_CSP_COOKIE_LEN])
{
	uint8_t in[sizeof(from->ip) + 2 + WIRE_FLOW_LEN + 8];
	memcpy(in, from->ip, sizeof(from->ip));
	memcpy(in + sizeof(from->ip), &from->port, 2);
	wire_flow_write(in + sizeof(from->ip) + 2, WIRE_FLOW_LEN, flow);
	for (int i = 0; i < 8; i++)
		in[sizeof(from->ip) + 2 + WIRE_FLOW_LEN + i] = (uint8_t)(window >> (8 * i));
	crypto_shorthash(out, in, sizeof(in), r->cookie_key);
}

/* Whether c echoes a cookie this node made for `from` lately. */
static bool cookie_ok(const struct concast_room *r, const struct wire_csp *c, const struct an_addr *from)
{
	uint64_t w = loop_now_ms() / CONCAST_COOKIE_MS;
	uint8_t want[WIRE_CSP_COOKIE_LEN];
	for (uint64_t k = 0; k < 2 && k <= w; k++) {
		cookie_make(r, from, &c->flow, w - k, want);
		if (sodium_memcmp(want, c->cookie, sizeof(want)) == 0)
			return true;
	}
	return false;
}

/* Flows still waiting for their receivers' answer, asked for from one IP
 * address (its port left aside: one host is one asker). */
struct pending_count {
	const struct an_addr *ip;
	size_t n;
};

static void pending_count(void *arg, struct cc_flow *f)
{
	struct pending_count *pc = arg;
	if (f->spec_state == CC_SPEC_NONE && !f->receiver_app &&
	    memcmp(f->asked_by.ip, pc->ip->ip, sizeof(f->asked_by.ip)) == 0)
		pc->n++;
}

#define CONCAST_STR_(x) #x
#define CONCAST_PENDING_STR CONCAST_STR_(CONCAST_PENDING_PER_ADDR)

static void csp_rms(struct concast_room *r, const struct wire_csp *c, const struct an_addr *from)
{
	struct node *n = r->n;
	uint64_t now = loop_now_ms();
	struct cc_flow *f = cc_flow_find(r->t, &c->flow);
	/* Every answer echoes the nonce of the request it answers. */
	const uint8_t *nonce = c->nonce;
	/* Return routability before state: a neighbour that is not one of
	 * the flow's upstream nodes yet must first echo a cookie sent to the
	 * address it claims (a host that forges it never gets the cookie).
	 * The CHALLENGE echoes its nonce, so no one else can answer for it. */
	if ((!f || cc_up_find(f, CC_UP_NODE, from, 0) < 0) && !cookie_ok(r, c, from)) {
		uint8_t cookie[WIRE_CSP_COOKIE_LEN];
		cookie_make(r, from, &c->flow, now / CONCAST_COOKIE_MS, cookie);
		return concast_send_csp(r, WIRE_CSP_CHALLENGE, 0, &c->flow, from, NULL, NULL, nonce, cookie);
	}
	if (!f) {
		struct an_addr next;
		if (an_addr_eq(&c->flow.receiver, &n->local))
			return concast_send_csp(r, WIRE_CSP_ERROR, WIRE_CSP_ERR_NO_SPEC, &c->flow, from, NULL, NULL,
						nonce, NULL);
		if (node_next_hop(n, &c->flow.receiver, &next) < 0)
			return concast_send_csp(r, WIRE_CSP_ERROR, WIRE_CSP_ERR_UNREACHABLE, &c->flow, from, NULL, NULL,
						nonce, NULL);
		/* Flows for receivers that have not answered yet are bounded
		 * per asking address (and fail after CONCAST_ASKS periods), so
		 * that one host asking for receivers that never answer cannot
		 * hold the flow table. */
		struct pending_count pc = {.ip = from};
		cc_flow_each(r->t, pending_count, &pc);
		if (pc.n >= CONCAST_PENDING_PER_ADDR) {
			r->c.refused_pending++;
			return concast_send_csp(
			    r, WIRE_CSP_ERROR, WIRE_CSP_ERR_NO_ROOM, &c->flow, from, NULL,
			    "this address has " CONCAST_PENDING_STR " flows waiting for their receivers", nonce, NULL);
		}
		if (cc_flow_add(r->t, &c->flow, now, &f) < 0) {
			r->c.refused_flows++;
			return concast_send_csp(r, WIRE_CSP_ERROR, WIRE_CSP_ERR_NO_ROOM, &c->flow, from, NULL,
						"no room for another flow", nonce, NULL);
		}
		f->asked_by = *from;
		r->c.flows_created++;
		int slot = cc_up_add(r->t, f, CC_UP_NODE, from, 0, now);
		if (slot >= 0)
			memcpy(f->up[slot].nonce, nonce, sizeof(f->up[slot].nonce));
		f->asked_ms = now;
		f->asks = 1;
		/* On toward the receiver, in this node's name, with its nonce. */
		return concast_send_csp(r, WIRE_CSP_RMS, 0, &c->flow, &c->flow.receiver, NULL, NULL, f->nonce,
					f->cookie);
	}
	/* The receiver's admission, once the MS brought it here. */
	if (f->spec_state == CC_SPEC_READY && !concast_admits(f, from)) {
		r->c.refused_admission++;
		return concast_send_csp(r, WIRE_CSP_ERROR, WIRE_CSP_ERR_NOT_ADMITTED, &c->flow, from, NULL,
					"the receiver admits no upstream neighbour from this address", nonce, NULL);
	}
	int slot = cc_up_add(r->t, f, CC_UP_NODE, from, 0, now);
	if (slot == -EMLINK) {
		r->c.refused_per_address++;
		return concast_send_csp(r, WIRE_CSP_ERROR, WIRE_CSP_ERR_NO_ROOM, &c->flow, from, NULL,
					"this address has as many upstream neighbours in the flow as it may", nonce,
					NULL);
	}
	if (slot < 0) {
		r->c.refused_upstream++;
		return concast_send_csp(r, WIRE_CSP_ERROR, WIRE_CSP_ERR_NO_ROOM, &c->flow, from, NULL,
					"no room for another upstream neighbour", nonce, NULL);
	}
	memcpy(f->up[slot].nonce, nonce, sizeof(f->up[slot].nonce));
	/* Grafted where its path meets the tree. */
	if (f->spec_state == CC_SPEC_READY) {
		f->up[slot].told = true;
		concast_send_csp(r, WIRE_CSP_MS, 0, &f->id, from, f, NULL, nonce, NULL);
	}
}

/* Whether what answers this node's requests for f echoes its nonce, in
 * constant time. */
static bool nonce_ok(struct concast_room *r, const struct cc_flow *f, const struct wire_csp *c)
{
	if (sodium_memcmp(f->nonce, c->nonce, sizeof(f->nonce)) == 0)
		return true;
	r->c.bad_nonce++;
	return false;
}

/* Whether an MS or ERROR for f may come from `from`: its downstream node.
 * In overlay mode that is the next hop toward the receiver; in router mode
 * (where any router on the way may be the next concast node) the node that
 * answered the flow's request, once one has; before that, anyone. */
static bool from_downstream(struct concast_room *r, const struct cc_flow *f, const struct an_addr *from)
{
	struct an_addr next;
	if (!r->n->cfg.router)
		return node_next_hop(r->n, &f->id.receiver, &next) == 0 && an_addr_eq(&next, from);
	return !f->has_downstream || an_addr_eq(&f->downstream, from);
}

/* MS: the specification, named; fetched from the node that sent it when
 * it is not here. Consumes p when it parks it (returns true). */
static bool csp_ms(struct concast_room *r, struct pkt *p, const struct wire_csp *c, const struct an_addr *from)
{
	struct node *n = r->n;
	struct cc_flow *f = cc_flow_find(r->t, &c->flow);
	if (!f || f->spec_state == CC_SPEC_READY) {
		r->c.spec_msgs_unexpected++;
		return false;
	}
	/* Only an answer to this node's own request: a host off its path
	 * toward the receiver never saw the nonce. */
	if (!nonce_ok(r, f, c))
		return false;
	/* The answer must come from downstream (from_downstream); in router
	 * mode the first to answer becomes the flow's downstream node. */
	if (!from_downstream(r, f, from)) {
		r->c.spec_msgs_unexpected++;
		return false;
	}
	f->downstream = *from;
	f->has_downstream = true;
	/* What this node merges goes straight to R's node: the last hop
	 * (ctx->to_receiver 2: a specification may encode compactly). */
	f->downstream_is_receiver = an_addr_eq(from, &f->id.receiver);
	const struct ee_kind *k = ee_code_kind(n->ee, c->spec);
	if (k == &concast_kind_merge) {
		const void *elf;
		size_t len;
		if (ee_code_get(n->ee, c->spec, &elf, &len) < 0 || cc_flow_set_spec(r->t, f, c->spec, elf, len) < 0)
			return false;
		/* The receiver's admission comes with its specification. */
		f->n_admit = c->n_admit;
		memcpy(f->admit, c->admit, sizeof(f->admit));
		r->c.specs_installed++;
		concast_flow_ready(r, f);
		return false;
	}
	if (k || ee_code_status(n->ee, c->spec) == EE_CODE_FAILED || p->resumed) {
		r->c.specs_refused++;
		concast_flow_fail(r, f, WIRE_CSP_ERR_SPEC_REFUSED, NULL);
		return false;
	}
	if (codeload_park(r->codeload, p, c->spec, &f->id.receiver, &concast_kind_merge) < 0)
		return false; /* the RMS is asked again next period */
	f->spec_state = CC_SPEC_FETCHING;
	r->c.specs_fetched++;
	return true;
}

static void csp_error(struct concast_room *r, const struct wire_csp *c, const struct pkt *p)
{
	struct cc_flow *f = cc_flow_find(r->t, &c->flow);
	/* Only the flow's downstream node may end it: an ERROR from anyone
	 * else would let any host tear down flows it is not on. */
	if (!f || f->receiver_app || !from_downstream(r, f, &p->from)) {
		r->c.errors_unexpected++;
		return;
	}
	if (!nonce_ok(r, f, c))
		return;
	char text[WIRE_CSP_TEXT_MAX + 1];
	memcpy(text, p->ctx.pkt + c->text_off, c->text_len);
	text[c->text_len] = '\0';
	/* Only printable text goes on (and to the applications). */
	for (size_t i = 0; i < c->text_len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			text[i] = '?';
	log_info("concast: flow app %u: error from downstream: %s%s%s", c->flow.app_id, wire_csp_error_str(c->code),
		 c->text_len ? ": " : "", text);
	concast_flow_fail(r, f, c->code, c->text_len ? text : NULL);
}

/* PATH from the flow's downstream node, answering this node's requests
 * (its nonce): a node further on lost its route toward the receiver, or
 * got it back. Passed on upstream, to the senders' applications; the
 * flow goes on. */
static void csp_path(struct concast_room *r, const struct wire_csp *c, const struct an_addr *from)
{
	struct cc_flow *f = cc_flow_find(r->t, &c->flow);
	if (!f || f->receiver_app || !from_downstream(r, f, from)) {
		r->c.errors_unexpected++;
		return;
	}
	if (!nonce_ok(r, f, c))
		return;
	r->c.path_notices++;
	concast_path_notify(r, f, c->path,
			    c->path == WIRE_CSP_PATH_LOST ? "no route toward the receiver from a node on the way"
							  : "the path toward the receiver is back");
}

/* A downstream node's CHALLENGE to one of this node's requests (its nonce
 * echoed): keep the cookie, and ask again with it at once. */
static void csp_challenge(struct concast_room *r, const struct wire_csp *c)
{
	struct cc_flow *f = cc_flow_find(r->t, &c->flow);
	if (!f || f->receiver_app) {
		r->c.challenges_unexpected++;
		return;
	}
	if (!nonce_ok(r, f, c))
		return;
	r->c.challenges_answered++;
	memcpy(f->cookie, c->cookie, sizeof(f->cookie));
	concast_send_csp(r, f->spec_state == CC_SPEC_READY ? WIRE_CSP_KEEPALIVE : WIRE_CSP_RMS, 0, &f->id,
			 &f->id.receiver, NULL, NULL, f->nonce, f->cookie);
}

static void signal_input(void *room, struct pkt *p, struct wire_anep *a)
{
	struct concast_room *r = room;
	struct node *n = r->n;
	struct wire_csp c;
	if (p->origin != AN_ORIGIN_NET || wire_csp_parse(p->ctx.pkt, p->len, a, &c) < 0 ||
	    !concast_app_id_ok(p, &c.flow)) {
		r->c.malformed++;
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	}
	/* MS and ERROR are for the upstream node they name; a router on the
	 * way passes them on. */
	if ((c.type == WIRE_CSP_MS || c.type == WIRE_CSP_ERROR || c.type == WIRE_CSP_CHALLENGE ||
	     c.type == WIRE_CSP_PATH) &&
	    !an_addr_eq(&a->dst, &n->local))
		return node_forward_by_route(n, p, a, &n->c.passed_unknown);
	if (node_take_hop(p, a) < 0)
		return node_drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	const struct an_addr from = p->from;
	uint64_t now = loop_now_ms();
	struct cc_flow *f;
	int slot;
	switch (c.type) {
	case WIRE_CSP_RMS:
		r->c.rms_received++;
		csp_rms(r, &c, &from);
		break;
	case WIRE_CSP_KEEPALIVE:
		r->c.keepalives_received++;
		f = cc_flow_find(r->t, &c.flow);
		slot = f ? cc_up_find(f, CC_UP_NODE, &from, 0) : -ENOENT;
		if (slot >= 0) {
			f->up[slot].last_ms = now;
			memcpy(f->up[slot].nonce, c.nonce, sizeof(c.nonce));
		} else
			csp_rms(r, &c, &from); /* after a prune or a restart: joins again */
		break;
	case WIRE_CSP_MS:
		if (!p->resumed) /* a parked one comes back once its code came */
			r->c.spec_msgs_received++;
		if (csp_ms(r, p, &c, &from)) {
			merge_timer_arm(r);
			return; /* parked while the code comes */
		}
		break;
	case WIRE_CSP_ERROR:
		r->c.errors_received++;
		csp_error(r, &c, p);
		break;
	case WIRE_CSP_CHALLENGE:
		csp_challenge(r, &c);
		break;
	case WIRE_CSP_PATH:
		csp_path(r, &c, &from);
		break;
	}
	n->c.consumed++;
	pkt_put(n->pool, p);
}

/* ---- data ---- */

void concast_input_result(struct concast_room *r, int e)
{
	if (e == -EDQUOT)
		r->c.refused_tags++;
	merge_timer_arm(r);
}

static void data_input(void *room, struct pkt *p, struct wire_anep *a)
{
	struct concast_room *r = room;
	struct node *n = r->n;
	struct wire_concast_data d;
	if (p->origin != AN_ORIGIN_NET || wire_concast_data_parse(p->ctx.pkt, p->len, a, &d) < 0 ||
	    !concast_app_id_ok(p, &d.flow)) {
		r->c.malformed++;
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	}
	if (node_take_hop(p, a) < 0)
		return node_drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	struct cc_flow *f = cc_flow_find(r->t, &d.flow);
	if (!f || f->spec_state != CC_SPEC_READY) {
		r->c.data_no_flow++;
		return node_drop(n, p, &n->c.drop_concast, -ENOENT);
	}
	/* Router mode: the IP source is the group; the previous concast node
	 * wrote itself in PREV_HOP. */
	const struct an_addr *from = n->cfg.router && (a->present & WIRE_HAS_PREV_HOP) ? &a->prev_hop : &p->from;
	int slot = cc_up_find(f, CC_UP_NODE, from, 0);
	if (slot < 0) {
		r->c.data_not_member++;
		return node_drop(n, p, &n->c.drop_concast, -EPERM);
	}
	int e = cc_input(r->t, f, slot, p->ctx.pkt + d.msg_off, d.msg_len, loop_now_ms());
	concast_input_result(r, e);
	if (e < 0)
		return node_drop(n, p, &n->c.drop_concast, e);
	n->c.consumed++;
	pkt_put(n->pool, p);
}

/* ---- every period: keep-alives, prunes, requests asked again ---- */

/* After a keep-alive toward the receiver (e: the IP link's send error, or
 * the errno of an ICMP unreachable a router further on sent lately; why:
 * which, for people). On IP the kernel routes: a keep-alive it has no route for means the
 * path toward the receiver is gone (a link down, a route withdrawn). The
 * senders hear "path lost" within a period instead of sending into
 * nothing, and the flow waits: when a keep-alive leaves again (the route
 * is back, maybe through another node), they hear "path restored" and the
 * node asks anew, so that whichever node answers on the new path becomes
 * the downstream one (its challenge, then the graft). After
 * CONCAST_PATH_WAIT_PERIODS without a route the flow ends (issue 18).
 * While the path is lost, messages from upstream are still merged and
 * sent into nothing: a lost path is not a reason to stop the senders. */
static void path_check(struct concast_room *r, struct cc_flow *f, int e, const char *why, uint64_t now)
{
	bool unroutable = e == ENETUNREACH || e == EHOSTUNREACH;
	if (unroutable && !f->path_lost) {
		f->path_lost = true;
		f->lost_ms = now;
		r->c.paths_lost++;
		log_info("concast: flow app %u: %s: waiting", f->id.app_id, why);
		return concast_path_notify(r, f, WIRE_CSP_PATH_LOST, why);
	}
	if (unroutable && now - f->lost_ms >= (uint64_t)CONCAST_PATH_WAIT_PERIODS * r->period_ms) {
		r->c.paths_given_up++;
		return concast_flow_fail(r, f, WIRE_CSP_ERR_UNREACHABLE, "no route toward the receiver any more");
	}
	if (!unroutable && f->path_lost) {
		f->path_lost = false;
		f->has_downstream = false;
		r->c.paths_restored++;
		log_info("concast: flow app %u: the path toward the receiver is back", f->id.app_id);
		concast_path_notify(r, f, WIRE_CSP_PATH_RESTORED, "the path toward the receiver is back");
	}
}

static void period_flow(void *arg, struct cc_flow *f)
{
	struct concast_room *r = arg;
	uint64_t now = loop_now_ms();
	uint64_t silent = (uint64_t)CONCAST_PRUNE_PERIODS * r->period_ms;
	/* While the path toward the receiver is lost nothing is pruned: on IP
	 * the upstream nodes' keep-alives cannot reach this node (Router
	 * Alert delivers only what the kernel would forward, and it has no
	 * route), and the flow must be whole when the route returns. */
	for (size_t i = 0; i < cc_config(r->t)->max_upstream && !f->path_lost; i++)
		if (f->up[i].kind == CC_UP_NODE && now - f->up[i].last_ms > silent) {
			cc_up_del(f, (int)i);
			r->c.pruned++;
		}
	if (f->n_up == 0 && !f->receiver_app) {
		r->c.flows_freed++;
		return cc_flow_del(r->t, f);
	}
	if (f->receiver_app)
		return;
	if (f->spec_state == CC_SPEC_NONE && now - f->asked_ms >= r->period_ms) {
		if (f->asks >= CONCAST_ASKS)
			return concast_flow_fail(r, f, WIRE_CSP_ERR_UNREACHABLE, "the receiver's node does not answer");
		f->asks++;
		f->asked_ms = now;
		return concast_send_csp(r, WIRE_CSP_RMS, 0, &f->id, &f->id.receiver, NULL, NULL, f->nonce, f->cookie);
	}
	if (f->spec_state == CC_SPEC_READY) {
		if (r->ip)
			r->ip->last_tx_errno = 0;
		concast_send_csp(r, WIRE_CSP_KEEPALIVE, 0, &f->id, &f->id.receiver, NULL, NULL, f->nonce, f->cookie);
		/* No route here, or a router further on said so (ICMP) in the
		 * last two periods (its ICMP is rate-limited). */
		int e = r->ip ? r->ip->last_tx_errno : 0;
		const char *why = "no route toward the receiver any more";
		if (!e && r->ip) {
			e = link_ip_unreachable(r->ip, &f->id.receiver,
						now > 2 * r->period_ms ? now - 2 * r->period_ms : 0);
			why = "a router on the way has no route toward the receiver (ICMP)";
		}
		path_check(r, f, e, why, now);
	}
}

static void period(void *arg)
{
	struct concast_room *r = arg;
	cc_flow_each(r->t, period_flow, r);
	r->tick = loop_timer_add(r->n->loop, r->period_ms, period, r);
}

/* ---- the room ---- */

/* A parked MS whose specification's fetch failed (why: the fetch's errno);
 * p stays the caller's. */
static void ms_expired(void *room, struct pkt *p, int why)
{
	struct concast_room *r = room;
	struct wire_anep a;
	struct wire_csp c;
	if (wire_anep_parse(p->ctx.pkt, p->len, &a) == 0 && wire_csp_parse(p->ctx.pkt, p->len, &a, &c) == 0) {
		struct cc_flow *f = cc_flow_find(r->t, &c.flow);
		if (f && f->spec_state == CC_SPEC_FETCHING) {
			r->c.specs_refused++;
			concast_flow_fail(
			    r, f, WIRE_CSP_ERR_SPEC_REFUSED,
			    why == -ETIMEDOUT || why == -ECANCELED ? "the merge specification did not come" : NULL);
		}
	}
}

static int concast_init(struct node *n, const void *cfg, void **ret_state)
{
	const struct concast_config *c = cfg;
	struct concast_room *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	struct cc_config ccfg = {
	    .max_flows = c->flows,
	    .max_upstream = c->upstream,
	    .max_upstream_per_ip = c->upstream_per_ip,
	    .max_tags = c->tags,
	};
	*ret_state = r;
	r->n = n;
	r->period_ms = (unsigned)c->keepalive_ms;
	r->codeload = node_room_state(n, "codeload");
	if (!r->codeload) {
		log_err("concast needs the code loading room (codeload), which this node has not");
		return -ENOENT;
	}
	randombytes_buf(r->cookie_key, sizeof(r->cookie_key));
	r->t = cc_table_new(&ccfg, n->ee, emit, r);
	r->tick = loop_timer_add(n->loop, r->period_ms, period, r);
	if (!r->t || !r->tick)
		return -ENOMEM;
	cc_set_slice(r->t, slice_spent, r);
	if (n->cfg.router && c->ip) {
		/* Opened while the node child is still root (CAP_NET_RAW); the
		 * node reads it into the Type ID demux and owns it. */
		r->ip = link_ip_open(&n->local, n->pool);
		if (!r->ip) {
			int e = -errno;
			log_err("concast: cannot open the IP link for concast on IP (protocol %d, IP_ROUTER_ALERT): %s",
				WIRE_IPPROTO_CONCAST, strerror(-e));
			return e;
		}
		int e = node_link_add(n, r->ip);
		if (e < 0) {
			r->ip = NULL;
			return e;
		}
	}
	return 0;
}

/* A reloaded configuration: the flow limit, the bound per address (for
 * upstream neighbours that join next) and the keep-alive period (the next
 * period has the new length) change while the room runs; the sizes of
 * each flow's tables, and concast on IP, need a restart. */
static int concast_reconfigure(void *room, const void *cfg, const struct node_config *nc, bool apply, char *why,
			       size_t whylen)
{
	struct concast_room *r = room;
	const struct concast_config *c = cfg;
	const struct cc_config *now = cc_config(r->t);
	if (c->upstream != now->max_upstream || c->tags != now->max_tags) {
		snprintf(why, whylen, "concast-upstream and concast-tags size every flow's tables: restart the node");
		return -EBUSY;
	}
	if (nc->router && c->ip != (r->ip != NULL)) {
		snprintf(why, whylen, "concast-ip opens or closes the IP link: restart the node");
		return -EBUSY;
	}
	if (apply) {
		cc_set_max_flows(r->t, c->flows);
		cc_set_upstream_per_ip(r->t, c->upstream_per_ip);
		r->period_ms = (unsigned)c->keepalive_ms;
	}
	return 0;
}

static void concast_done(void *room)
{
	struct concast_room *r = room;
	struct node *n = r->n;
	if (r->tick)
		loop_timer_cancel(n->loop, r->tick);
	if (r->merge_timer)
		loop_timer_cancel(n->loop, r->merge_timer);
	cc_table_free(r->t);
	free(r);
}

static const struct conf_directive concast_directives[] = {
    CONF_NUM("concast-flows", "N",
	     "concast flows this node keeps state for; more are refused with an error to their senders",
	     struct concast_config, flows, 1, 1 << 16, CC_DEFAULT_FLOWS),
    CONF_NUM("concast-upstream", "N", "upstream neighbours per concast flow, at most 1024", struct concast_config,
	     upstream, 1, CC_UPSTREAM_LIMIT, CC_DEFAULT_UPSTREAM),
    CONF_NUM("concast-upstream-per-address", "N",
	     "upstream neighbours of one concast flow at one IP address (any port; loopback exempt)",
	     struct concast_config, upstream_per_ip, 1, CC_UPSTREAM_LIMIT, CC_DEFAULT_UPSTREAM_PER_IP),
    CONF_NUM("concast-tags", "N", "tags in merge at once per concast flow", struct concast_config, tags, 1, 256,
	     CC_DEFAULT_TAGS),
    CONF_NUM("concast-keepalive-ms", "N",
	     "keep-alive period of concast flows; an upstream neighbour silent for three is pruned",
	     struct concast_config, keepalive_ms, 50, 60000, 1000),
    CONF_YESNO("concast-ip",
	       "router mode: concast on IP (protocol 253, Router Alert, AppID option), else ANEP over UDP",
	       struct concast_config, ip, 1),
    CONF_END,
};

static const struct room_type concast_types[] = {
    {WIRE_TYPE_CONCAST_DATA, data_input, NULL},
    {WIRE_TYPE_CONCAST_SIGNAL, signal_input, ms_expired},
    {0},
};

static const struct room concast_room = {
    .name = "concast",
    .rank = 40,
    .cfg_size = sizeof(struct concast_config),
    .directives = concast_directives,
    .init = concast_init,
    .done = concast_done,
    .reconfigure = concast_reconfigure,
    .types = concast_types,
    .commands = concast_commands,
    .stats = concast_stats,
    .app_msgs = concast_app_msgs,
    .app_closed = concast_app_closed,
};
ROOM_REGISTER(concast_room);
