// SPDX-License-Identifier: MIT
/*
 * The signalling room (NetServ, seed 004 §4.1-4.2, Figure 5; docs/signalling.md):
 * on-path requests, ANEP Type ID 0x4104 (src/wire/sig.h).
 *
 *   requester ──request──► first anode node ──► ... ──► last anode node
 *        ▲          │HERE◄──────┘ │HERE◄───────────────────┘   │ its entry
 *        └────────── response ◄─── push entry ◄── response ◄──┘
 *
 * A request travels toward its destination: in overlay mode hop by hop by
 * the node's routes, in router mode as any datagram to UDP 3322 that the
 * matching engine intercepts, so a router without anode forwards it like
 * any other. Each anode node authenticates it (auth.c: the signer in the
 * policy, signature, time, nonce, filters inside the signer's grants),
 * acts on it, tells the node it came from that it took it (HERE), and
 * passes it on unchanged but for the previous-hop option, which names
 * this node from then on. It keeps, per message id, where the response
 * goes (path.c). The last anode node on the path answers: the one the
 * request is addressed to, the one with no route further (overlay), the
 * one on the destination's own subnet (router mode), or the one that
 * heard no HERE from further on within `sig-here-ms`. The response
 * travels back through the nodes the request crossed, each pushing its
 * entry (address, what it offers, load, its result) on the response's
 * stack; the first node sends it to the requester.
 *
 * A request a node cannot take (unknown signer, bad signature, stale,
 * replayed, a filter outside the grants, no policy here) goes no further:
 * the node answers it alone, at once, with its refusal, to whoever sent
 * it, in a response no larger than the request (nothing to amplify), and
 * keeps nothing. Only authenticated requests take state or make the node
 * send on, so a host without a key in the policy can neither fill the
 * table nor aim responses at anyone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "node/room.h"
#include "anode-config.h"
#include "sig/auth.h"
#include "sig/fetch.h"
#include "core/kroute.h"
#include "sig/modules.h"
#include "sig/path.h"
#include "svc/room.h"
#include "wire/fetch.h"
#include "wire/sig.h"

#define SIG_COUNTERS(X)                                                                                                \
	X(requests_received, "signalling requests received")                                                           \
	X(requests_malformed, "signalling messages that did not parse (dropped, unanswered)")                          \
	X(requests_refused, "requests refused and answered alone (authentication, policy, table full)")                \
	X(requests_repeated, "retransmissions of a request taken already (passed on again)")                           \
	X(requests_passed_on, "requests passed on toward their destination")                                           \
	X(requests_last, "requests this node answered as the last anode node on the path")                             \
	X(here_sent, "HERE sent to the node a request came from")                                                      \
	X(here_received, "HERE received from a node further on")                                                       \
	X(here_unexpected, "HERE for no request waiting, or not from where the request went")                          \
	X(responses_received, "responses received from further on")                                                    \
	X(responses_sent, "responses sent back toward a requester")                                                    \
	X(responses_unexpected, "responses for no request in flight, or not from the node further on")                 \
	X(responses_alone, "requests answered alone after the node further on said HERE and did not answer")           \
	X(responses_truncated, "responses whose stack was full: this node's entry not pushed")                         \
	X(passed_through, "responses and HERE addressed to another node, passed on (router mode)")                     \
	X(triggered, "TRIGGERs whose enclosed request this node started back toward the requester")

/* The fetcher's cgroup memory: libcurl and TLS, plus the module being
 * fetched (twice: the body and a chunk in flight). */
#define SIG_FETCHER_MEMORY (48u << 20)

struct sig_counters {
	SIG_COUNTERS(STAT_FIELD)
};

struct sig_config {
	size_t requests; /* in flight at once */
	size_t here_ms;
	size_t response_ms;
	size_t modules, modules_per_user, module_max, fetch_timeout_ms;
	char fetcher[NODE_PATH_MAX];
	char fetch_ca[NODE_PATH_MAX];
};

struct sig_room {
	struct node *n;
	struct sig_config cfg;
	struct sig_auth *auth;
	struct sig_paths *paths;
	struct sig_modules *modules;
	struct sig_fetcher *fetcher;
	struct loop_timer *timer;
	uint64_t timer_at;
	struct sig_counters c;
	struct wire_sig_request q;	   /* the request being handled */
	uint8_t scratch[WIRE_SIG_MSG_MAX]; /* a response being built */
};

/* ---- sending ---- */

/* Send payload (a signalling message) to `to` in an ANEP packet of its
 * own from this node, straight on the network link: responses and HERE
 * go to whoever the node heard from, never by route. */
static void send_msg(struct sig_room *r, const struct an_addr *to, const void *payload, size_t len)
{
	struct node *n = r->n;
	struct pkt *q = pkt_get(n->pool);
	if (!q) {
		n->c.drop_no_buffer++;
		return;
	}
	struct wire_anep_spec spec = {.type_id = WIRE_TYPE_SIGNAL, .src = &n->local, .dst = to};
	size_t hl;
	if (wire_anep_build(q->ctx.pkt, AN_PKT_MAX, &spec, len, &hl) < 0) {
		pkt_put(n->pool, q);
		return;
	}
	memcpy(q->ctx.pkt + hl, payload, len);
	q->len = (uint16_t)(hl + len);
	node_send_link(n, q, to);
}

static void send_here(struct sig_room *r, const struct an_addr *to, uint64_t id)
{
	if (an_addr_eq(to, &r->n->local))
		return; /* this node started it (a TRIGGER's) */
	uint8_t h[WIRE_SIG_HDR_LEN];
	if (wire_sig_here_build(h, sizeof(h), id) < 0)
		return;
	send_msg(r, to, h, sizeof(h));
	r->c.here_sent++;
}

/* ---- this node's entry ---- */

/* What this node offers: the EE kinds it runs and the sandboxes it has
 * (wire/sig.h), memory, load. */
static void own_entry(struct sig_room *r, const struct sig_path *sp, const char *why, struct wire_sig_entry *e)
{
	struct node *n = r->n;
	memset(e, 0, sizeof(*e));
	e->address = n->local;
	e->has_caps = true;
	e->ee_kinds = WIRE_SIG_EE_CAPSULE;
	if (node_room_state(n, "concast"))
		e->ee_kinds |= WIRE_SIG_EE_MERGE;
	if (services_policy(n)) {
		e->ee_kinds |= WIRE_SIG_EE_PACKET | WIRE_SIG_EE_PROBE | WIRE_SIG_EE_PROCESS;
		e->sandbox_kinds = WIRE_SIG_SANDBOX_BWRAP;
	}
	int64_t mem = figures_node_info(n, AN_INFO_MEM_AVAIL_KB);
	e->free_memory_kb = mem > 0 ? (uint64_t)mem : 0;
	e->has_load = true;
	int64_t load = figures_node_info(n, AN_INFO_LOAD_MILLI);
	e->load_milli = load > 0 ? (uint32_t)load : 0;
	e->free_modules = sig_modules_free_slots(r->modules);
	/* A probe reports every module here; a SETUP or REMOVE the one it
	 * names (Figure 5). */
	e->n_installed = sig_modules_list(r->modules, sp->kind == WIRE_SIG_PROBE ? NULL : sp->module, e->installed,
					  WIRE_SIG_INSTALLED_MAX);
	e->has_result = true;
	e->status = sp->status;
	size_t wn = why ? strnlen(why, WIRE_SIG_WHY_MAX) : 0;
	memcpy(e->why, why ? why : "", wn);
	e->why[wn] = '\0';
}

/* ---- answering ---- */

/* Send sp's response back: the one that came from further on (resp, len)
 * with this node's entry pushed, or, with resp NULL, a new one that starts
 * here. note (may be NULL) is said in this node's entry after its own
 * result. */
static void answer(struct sig_room *r, struct sig_path *sp, const uint8_t *resp, size_t len, const char *note)
{
	if (sp->responses >= SIG_PATH_RESPONSES_MAX)
		return;
	if (sp->pending) {
		/* This node's own action is under way (a fetch): its entry,
		 * and so the response, waits for it (module_done). */
		free(sp->held);
		sp->held = NULL;
		sp->held_len = 0;
		if (resp && (sp->held = malloc(len))) {
			memcpy(sp->held, resp, len);
			sp->held_len = len;
		}
		snprintf(sp->note, sizeof(sp->note), "%s", note ? note : "");
		sp->answer_due = true;
		sp->state = SIG_PATH_ANSWERED;
		return;
	}
	ssize_t m;
	if (resp) {
		memcpy(r->scratch, resp, len);
		m = (ssize_t)len;
	} else {
		m = wire_sig_response_start(r->scratch, sizeof(r->scratch), sp->id);
		if (m < 0)
			return;
	}
	struct wire_sig_entry e;
	char why[2 * WIRE_SIG_WHY_MAX + 3];
	if (note && sp->why[0])
		snprintf(why, sizeof(why), "%s; %s", sp->why, note);
	else
		snprintf(why, sizeof(why), "%s", note ? note : sp->why);
	why[WIRE_SIG_WHY_MAX] = '\0';
	own_entry(r, sp, why, &e);
	ssize_t pushed = wire_sig_response_push(r->scratch, sizeof(r->scratch), (size_t)m, &e);
	if (pushed < 0)
		return;
	if (pushed == m)
		r->c.responses_truncated++;
	/* The first node of a TRIGGER's reverse path answers the requester. */
	send_msg(r, an_addr_eq(&sp->prev, &r->n->local) ? &sp->origin : &sp->prev, r->scratch, (size_t)pushed);
	sp->state = SIG_PATH_ANSWERED;
	sp->responses++;
	r->c.responses_sent++;
}

/* A request this node will not take: answered alone, with this node's
 * address and why only, no larger than the request that came (whose sender
 * may not be who it claims), and forgotten. */
static void refuse(struct sig_room *r, const struct an_addr *to, uint64_t id, int32_t status, const char *why,
		   size_t request_len)
{
	r->c.requests_refused++;
	ssize_t m = wire_sig_response_start(r->scratch, sizeof(r->scratch), id);
	if (m < 0)
		return;
	struct wire_sig_entry e = {.address = r->n->local, .has_result = true, .status = status};
	/* header, entry's field header, address field, result field (status) */
	size_t fixed = (size_t)m + 4 + (4 + 20) + (4 + 4);
	size_t room = request_len > fixed ? request_len - fixed : 0;
	if (room > WIRE_SIG_WHY_MAX)
		room = WIRE_SIG_WHY_MAX;
	snprintf(e.why, room + 1, "%s", why);
	ssize_t pushed = wire_sig_response_push(r->scratch, sizeof(r->scratch), (size_t)m, &e);
	if (pushed <= m || (size_t)pushed > request_len)
		return;
	send_msg(r, to, r->scratch, (size_t)pushed);
	r->c.responses_sent++;
}

/* ---- timers ---- */

static void timer_fired(void *arg);

/* One timer at the earliest deadline of the requests waiting. */
static void timer_arm(struct sig_room *r)
{
	uint64_t d = sig_paths_next_deadline(r->paths), now = loop_now_ms();
	if (d == UINT64_MAX || (r->timer && d >= r->timer_at))
		return;
	if (r->timer)
		loop_timer_cancel(r->n->loop, r->timer);
	r->timer_at = d;
	r->timer = loop_timer_add(r->n->loop, d > now ? d - now : 0, timer_fired, r);
}

static void request_in(struct sig_room *r, struct pkt *p, struct wire_anep *a, const uint8_t *msg, size_t len,
		       uint64_t id);

/* A TRIGGER's last node (seed 004 §8): the enclosed request starts here,
 * as if it had come from this node, toward the requester; in router mode
 * to its address on the nodes' port, so that every anode router on the
 * reverse path takes it. This node is its first node: it takes it, and
 * answers the requester when the reverse path's response comes back. */
static void trigger_fire(struct sig_room *r, const uint8_t *inner, size_t len, const struct an_addr *origin)
{
	struct node *n = r->n;
	uint8_t kind;
	uint64_t id;
	struct pkt *p = wire_sig_peek(inner, len, &kind, &id) == 0 ? pkt_get(n->pool) : NULL;
	if (!p) {
		n->c.drop_no_buffer++;
		return;
	}
	struct an_addr dst = *origin;
	if (n->cfg.router)
		dst.port = n->local.port;
	struct wire_anep_spec spec = {
	    .type_id = WIRE_TYPE_SIGNAL, .src = &n->local, .dst = &dst, .prev_hop = &n->local};
	size_t hl;
	struct wire_anep a;
	if (wire_anep_build(p->ctx.pkt, AN_PKT_MAX, &spec, len, &hl) < 0) {
		pkt_put(n->pool, p);
		return;
	}
	memcpy(p->ctx.pkt + hl, inner, len);
	p->len = (uint16_t)(hl + len);
	p->from = n->local;
	p->origin = AN_ORIGIN_NET;
	p->rx_ns = loop_now_ns();
	memset(&p->meta, 0, sizeof(p->meta));
	if (wire_anep_parse(p->ctx.pkt, p->len, &a) < 0) {
		pkt_put(n->pool, p);
		return;
	}
	r->c.triggered++;
	request_in(r, p, &a, p->ctx.pkt + a.hdr_len, len, id);
}

/* This node is the last anode node for sp: it answers, and a TRIGGER's
 * enclosed request starts back from here. */
static void last(struct sig_room *r, struct sig_path *sp, const char *note)
{
	/* Copied out: sp may move once the enclosed request takes an entry
	 * of its own. A retransmitted TRIGGER starts it again (a repeat
	 * along the reverse path, answered again). */
	static uint8_t inner[WIRE_SIG_MSG_MAX];
	size_t inner_len = sp->inner && sp->inner_len <= sizeof(inner) ? sp->inner_len : 0;
	struct an_addr origin = sp->origin;
	r->c.requests_last++;
	if (inner_len) {
		char a[64];
		memcpy(inner, sp->inner, inner_len);
		snprintf(sp->why, sizeof(sp->why), "started the enclosed request back toward %s",
			 wire_addr_format(&origin, a, sizeof(a)));
	}
	answer(r, sp, NULL, 0, note);
	if (inner_len)
		trigger_fire(r, inner, inner_len, &origin);
}

static void due(void *arg, struct sig_path *sp)
{
	struct sig_room *r = arg;
	char note[96];
	if (sp->state == SIG_PATH_WAIT_HERE) {
		/* Nobody further on took it: this node is the last, and says
		 * how it knows (a request lost further on looks the same). */
		snprintf(note, sizeof(note), "nothing further on said it took the request within %zu ms",
			 r->cfg.here_ms);
		return last(r, sp, note);
	}
	char a[64];
	snprintf(note, sizeof(note), "%s took the request and did not answer within %zu ms",
		 wire_addr_format(&sp->next, a, sizeof(a)), r->cfg.response_ms);
	r->c.responses_alone++;
	answer(r, sp, NULL, 0, note);
	sp->state = SIG_PATH_ANSWERED;
}

static void timer_fired(void *arg)
{
	struct sig_room *r = arg;
	r->timer = NULL;
	sig_paths_due(r->paths, loop_now_ms(), due, r);
	timer_arm(r);
}

/* ---- requests ---- */

/* Whether this node is the last anode node toward dst that the request
 * can meet: dst is this node; in overlay mode, no route leads further; in
 * router mode, the kernel's route toward dst has no gateway (no router
 * lies between; read from /proc: the node child opens no sockets). */
static bool last_on_path(struct sig_room *r, const struct an_addr *dst, struct an_addr *ret_next)
{
	struct node *n = r->n;
	if (an_addr_eq(dst, &n->local))
		return true;
	if (node_next_hop(n, dst, ret_next) < 0 || an_addr_eq(ret_next, &n->local))
		return true;
	if (!n->cfg.router || !an_ip_is_v4(dst->ip))
		return false;
	uint32_t d;
	memcpy(&d, dst->ip + 12, 4);
	FILE *f = fopen("/proc/net/route", "re");
	if (!f)
		return false;
	enum kroute_kind k = kroute_lookup(f, d, NULL);
	fclose(f);
	return k == KROUTE_DIRECT;
}

/* What this node does for a request it took: its result, for its entry,
 * now or (pending) when its module action ends (module_done). */
static void act(struct sig_room *r, const struct wire_sig_request *q, const struct policy_principal *who,
		struct sig_path *sp)
{
	snprintf(sp->module, sizeof(sp->module), "%s", q->module);
	sp->status = 0;
	sp->why[0] = '\0';
	switch (q->kind) {
	case WIRE_SIG_PROBE:
		break;
	case WIRE_SIG_SETUP:
	case WIRE_SIG_REMOVE:
		sp->pending = true;
		if (sig_modules_act(r->modules, q, who, sp->id, &sp->status, sp->why, sizeof(sp->why)) == 0)
			sp->pending = false;
		break;
	default:
		/* TRIGGER: nothing here but passing it on; its last node
		 * starts the enclosed request (last()). */
		break;
	}
}

/* A module action a request waited on ended: its entry can go back. */
static void module_done(void *room, uint64_t id, int32_t status, const char *why)
{
	struct sig_room *r = room;
	struct sig_path *sp = sig_path_find(r->paths, id);
	if (!sp || !sp->pending)
		return;
	sp->pending = false;
	sp->status = status;
	snprintf(sp->why, sizeof(sp->why), "%s", why);
	if (!sp->answer_due)
		return;
	sp->answer_due = false;
	uint8_t *held = sp->held;
	sp->held = NULL;
	answer(r, sp, held, sp->held_len, sp->note[0] ? sp->note : NULL);
	free(held);
}

static int32_t auth_errno(enum sig_auth_result a)
{
	switch (a) {
	case SIG_AUTH_UNKNOWN:
	case SIG_AUTH_FILTER:
		return -EACCES;
	case SIG_AUTH_FORGED:
		return -EPERM;
	case SIG_AUTH_EXPIRED:
	case SIG_AUTH_FUTURE:
		return -ETIME;
	case SIG_AUTH_REPLAYED:
		return -EALREADY;
	case SIG_AUTH_BUSY:
		return -EBUSY;
	default:
		return -EBADMSG;
	}
}

/* Where a request came from: the node that passed it on, or its requester.
 * Overlay mode: the UDP source (a node sends from its listening socket).
 * Router mode: the previous-hop option every node rewrites (the IP source
 * stays the requester's), else the IP source. */
static struct an_addr came_from(const struct node *n, const struct pkt *p, const struct wire_anep *a)
{
	if (n->cfg.router && (a->present & WIRE_HAS_PREV_HOP))
		return a->prev_hop;
	return p->from;
}

/* Consumes p. */
static void request_in(struct sig_room *r, struct pkt *p, struct wire_anep *a, const uint8_t *msg, size_t len,
		       uint64_t id)
{
	struct node *n = r->n;
	r->c.requests_received++;
	const struct an_addr from = came_from(n, p, a);
	if (!(a->present & WIRE_HAS_DST)) {
		r->c.requests_malformed++;
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	}
	/* A request this node started (a TRIGGER's) is answered to its
	 * requester, even when refused. */
	struct an_addr to = from;
	if (an_addr_eq(&from, &n->local) && wire_sig_parse(msg, len, &r->q) == 0)
		to = r->q.origin;
	const struct policy *pol = services_policy(n);
	const struct policy_principal *who = NULL;
	enum sig_auth_result ar = SIG_AUTH_MALFORMED;
	if (pol)
		ar = sig_auth_check(r->auth, pol, msg, len, (uint64_t)time(NULL), &r->q, &who);
	if (ar == SIG_AUTH_MALFORMED && pol) {
		r->c.requests_malformed++;
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	}
	if (!pol || (ar != SIG_AUTH_OK && ar != SIG_AUTH_REPEATED)) {
		if (!pol)
			refuse(r, &to, id, -EOPNOTSUPP, "this node has no policy: it takes no signalling requests",
			       len);
		else
			refuse(r, &to, id, auth_errno(ar), sig_auth_why(ar), len);
		n->c.consumed++;
		pkt_put(n->pool, p);
		return;
	}
	const struct wire_sig_request *q = &r->q;
	uint64_t now = loop_now_ms();
	struct sig_path *sp = sig_path_find(r->paths, id);
	if (sp && memcmp(sp->tag, q->signature, sizeof(sp->tag)) != 0) {
		refuse(r, &to, id, -EEXIST, "another request in flight has this message id", len);
		n->c.consumed++;
		pkt_put(n->pool, p);
		return;
	}
	if (sp) {
		/* The requester asked again: its answer was lost somewhere.
		 * The same request goes on again, and whoever is last answers
		 * again; where the response goes does not change. */
		r->c.requests_repeated++;
	} else {
		sp = sig_path_add(r->paths, id, now);
		if (!sp) {
			refuse(r, &to, id, -EBUSY, "too many requests in flight at this node", len);
			n->c.consumed++;
			pkt_put(n->pool, p);
			return;
		}
		sp->kind = q->kind;
		memcpy(sp->tag, q->signature, sizeof(sp->tag));
		sp->prev = from;
		sp->origin = q->origin;
		if (q->kind == WIRE_SIG_TRIGGER && (sp->inner = malloc(q->inner_len))) {
			memcpy(sp->inner, q->inner, q->inner_len);
			sp->inner_len = q->inner_len;
		}
		/* Forgotten when it could no longer be taken anyway. */
		sp->expires_ms = now + 2000ull * SIG_AUTH_WINDOW_S + r->cfg.response_ms;
		act(r, q, who, sp);
	}
	send_here(r, &sp->prev, id);
	if (node_take_hop(p, a) < 0 || !node_may_leave(p, a)) {
		n->c.consumed++;
		pkt_put(n->pool, p);
		return last(r, sp, "the hop limit ends here");
	}
	struct an_addr next;
	if (last_on_path(r, &a->dst, &next)) {
		n->c.consumed++;
		pkt_put(n->pool, p);
		return last(r, sp, NULL);
	}
	if (sp->state != SIG_PATH_WAIT_RESPONSE) {
		sp->state = SIG_PATH_WAIT_HERE;
		sp->deadline_ms = now + r->cfg.here_ms;
	}
	if (!n->cfg.router)
		sp->next = next; /* the only node whose HERE and response count */
	/* The payload goes on unchanged (it is signed); the previous hop
	 * names this node from here on. */
	if (a->present & WIRE_HAS_PREV_HOP)
		wire_anep_set_prev_hop(p->ctx.pkt, a, &n->local);
	r->c.requests_passed_on++;
	node_send(n, p, &next, 0);
	timer_arm(r);
}

/* ---- HERE and responses ---- */

/* Whether a HERE or response for sp may come from `from`: in overlay mode
 * only the next hop the request went to; in router mode (any router on the
 * way may be the next anode node) the first that said HERE, and before
 * one did, anyone (its HERE may have been lost). */
static bool from_next(const struct sig_room *r, const struct sig_path *sp, const struct an_addr *from)
{
	if (!r->n->cfg.router)
		return an_addr_eq(&sp->next, from);
	return !sp->has_next || an_addr_eq(&sp->next, from);
}

static void here_in(struct sig_room *r, uint64_t id, const struct an_addr *from)
{
	struct sig_path *sp = sig_path_find(r->paths, id);
	if (!sp || !from_next(r, sp, from)) {
		r->c.here_unexpected++;
		return;
	}
	r->c.here_received++;
	sp->next = *from;
	sp->has_next = true;
	if (sp->state == SIG_PATH_WAIT_HERE) {
		sp->state = SIG_PATH_WAIT_RESPONSE;
		sp->deadline_ms = loop_now_ms() + r->cfg.response_ms;
		timer_arm(r);
	}
}

static void response_in(struct sig_room *r, const uint8_t *msg, size_t len, uint64_t id, const struct an_addr *from)
{
	static struct wire_sig_response resp; /* 6 KiB; one at a time */
	struct sig_path *sp = sig_path_find(r->paths, id);
	if (wire_sig_response_parse(msg, len, &resp) < 0) {
		r->c.requests_malformed++;
		return;
	}
	if (!sp || !from_next(r, sp, from) || sp->responses >= SIG_PATH_RESPONSES_MAX) {
		r->c.responses_unexpected++;
		return;
	}
	r->c.responses_received++;
	sp->next = *from;
	sp->has_next = true;
	answer(r, sp, msg, len, NULL);
}

static void sig_input(void *room, struct pkt *p, struct wire_anep *a)
{
	struct sig_room *r = room;
	struct node *n = r->n;
	const uint8_t *msg = p->ctx.pkt + a->hdr_len;
	size_t len = (size_t)(a->pkt_len - a->hdr_len);
	uint8_t kind;
	uint64_t id;
	if (p->origin != AN_ORIGIN_NET || wire_sig_peek(msg, len, &kind, &id) < 0) {
		r->c.requests_malformed++;
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	}
	if (kind != WIRE_SIG_RESPONSE && kind != WIRE_SIG_HERE)
		return request_in(r, p, a, msg, len, id);
	/* Responses and HERE go to one node; crossing another (router mode:
	 * every router intercepts UDP 3322) they go on by route. */
	if ((a->present & WIRE_HAS_DST) && !an_addr_eq(&a->dst, &n->local)) {
		r->c.passed_through++;
		return node_forward_by_route(n, p, a, &n->c.passed_unknown);
	}
	const struct an_addr from = p->from;
	if (kind == WIRE_SIG_HERE)
		here_in(r, id, &from);
	else
		response_in(r, msg, len, id, &from);
	n->c.consumed++;
	pkt_put(n->pool, p);
}

/* ---- the room ---- */

static void path_gone(void *arg, struct sig_path *sp)
{
	struct sig_room *r = arg;
	sig_modules_forget(r->modules, sp->id);
}

static void sig_tick(void *room)
{
	struct sig_room *r = room;
	sig_paths_expire(r->paths, loop_now_ms(), path_gone, r);
	sig_modules_tick(r->modules);
	if (r->fetcher)
		sig_fetcher_tick(r->fetcher);
}

/* The fetcher: the configured one, else the build tree's for a build tree's
 * anoded, else the installed one. */
static const char *fetcher_path(const struct sig_config *c, char *buf, size_t len)
{
	if (c->fetcher[0])
		return c->fetcher;
	ssize_t k = readlink("/proc/self/exe", buf, len - 1);
	if (k > 0) {
		buf[k] = '\0';
		if (!strcmp(buf, ANODE_BUILD_ANODED))
			return ANODE_BUILD_FETCHER;
	}
	return ANODE_INSTALL_FETCHER;
}

/* sig-fetch-ca: read now (the node child may still open any file) and
 * handed to the fetcher. */
static int fetch_ca(struct sig_room *r)
{
	static uint8_t pem[WIRE_FETCH_CHUNK_MAX + 1];
	FILE *f = fopen(r->cfg.fetch_ca, "re");
	size_t n = f ? fread(pem, 1, sizeof(pem), f) : 0;
	if (f)
		fclose(f);
	if (!f || n == 0 || n > WIRE_FETCH_CHUNK_MAX) {
		log_err("sig: sig-fetch-ca %s: %s", r->cfg.fetch_ca,
			!f	 ? strerror(errno)
			: n == 0 ? "empty"
				 : "larger than 32768 octets");
		return -EINVAL;
	}
	int e = sig_fetcher_set_ca(r->fetcher, pem, n);
	if (e < 0)
		log_err("sig: cannot give the fetcher its CAs: %s", strerror(-e));
	return e;
}

static struct sig_modules_config modules_config(const struct sig_config *c)
{
	return (struct sig_modules_config){.max = c->modules,
					   .per_user = c->modules_per_user,
					   .module_max = c->module_max,
					   .fetch_timeout_ms = c->fetch_timeout_ms};
}

static int sig_init(struct node *n, const void *cfg, void **ret_state)
{
	struct sig_room *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*ret_state = r;
	r->n = n;
	r->cfg = *(const struct sig_config *)cfg;
	r->auth = sig_auth_new();
	r->paths = sig_paths_new(r->cfg.requests);
	if (!r->auth || !r->paths)
		return -ENOMEM;
	/* Router mode (where packet modules run): the fetcher, started now,
	 * while the node child is still root and may exec. */
	char why[256] = "the node is not a router (packet modules run on router nodes only)", exe[NODE_PATH_MAX];
	if (n->cfg.router) {
		const char *path = fetcher_path(&r->cfg, exe, sizeof(exe));
		r->fetcher = sig_fetcher_start(n, path, SIG_FETCHER_MEMORY + 2 * r->cfg.module_max, why, sizeof(why));
		if (r->fetcher)
			log_info("sig: module fetcher %s started in its sandbox", path);
		else
			log_warn("sig: no module fetcher (%s): SETUPs with a URL are refused", why);
		if (r->fetcher && r->cfg.fetch_ca[0]) {
			int e = fetch_ca(r);
			if (e < 0)
				return e;
		}
	}
	struct sig_modules_config mc = modules_config(&r->cfg);
	r->modules = sig_modules_new(n, &mc, r->fetcher, why, module_done, r);
	return r->modules ? 0 : -ENOMEM;
}

static void sig_done(void *room)
{
	struct sig_room *r = room;
	if (r->timer)
		loop_timer_cancel(r->n->loop, r->timer);
	sig_modules_free(r->modules);
	sig_fetcher_stop(r->fetcher);
	sig_auth_free(r->auth);
	sig_paths_free(r->paths);
	free(r);
}

/* The waits change at once; the table's size needs a restart. */
static int sig_reconfigure(void *room, const void *cfg, const struct node_config *nc, bool apply, char *why,
			   size_t whylen)
{
	struct sig_room *r = room;
	const struct sig_config *c = cfg;
	(void)nc;
	if (c->requests != r->cfg.requests || c->modules != r->cfg.modules || strcmp(c->fetcher, r->cfg.fetcher) ||
	    strcmp(c->fetch_ca, r->cfg.fetch_ca) || c->module_max != r->cfg.module_max) {
		snprintf(
		    why, whylen,
		    "sig-requests, sig-modules, sig-module-max and sig-fetcher size tables or the fetcher: restart "
		    "the node");
		return -EBUSY;
	}
	if (apply) {
		r->cfg = *c;
		struct sig_modules_config mc = modules_config(c);
		sig_modules_reconfigure(r->modules, &mc);
	}
	return 0;
}

static void sig_stats(void *room, struct stat_list *l)
{
	struct sig_room *r = room;
	struct stat_section *sec = stat_list_add(l, "sig", "on-path signalling");
	if (!sec)
		return;
	stat_add(sec, "requests_in_flight", "requests passed on and remembered now", sig_paths_count(r->paths));
	STAT_ADD_ALL(sec, &r->c, SIG_COUNTERS);
	if ((sec = stat_list_add(l, "sig_modules", "modules installed by signalling"))) {
		stat_add(sec, "free_slots", "modules this node can still take", sig_modules_free_slots(r->modules));
		STAT_ADD_ALL(sec, sig_modules_counters(r->modules), SIG_MODULE_COUNTERS);
	}
	if (r->fetcher && (sec = stat_list_add(l, "sig_fetch", "the module fetcher"))) {
		stat_add(sec, "active", "fetches under way now", sig_fetcher_active(r->fetcher));
		STAT_ADD_ALL(sec, sig_fetcher_counters(r->fetcher), SIG_FETCH_COUNTERS);
	}
}

/* "sig [json]": the modules signalling installed here. */
static int sig_ctl(void *room, int argc, char **argv, struct ctl_out *o)
{
	struct sig_room *r = room;
	bool json = argc > 1 && (!strcmp(argv[1], "json") || !strcmp(argv[1], "--json"));
	if (argc > 1 && !json) {
		ctl_printf(o, "usage: sig [json]\n");
		return -EINVAL;
	}
	sig_modules_print(r->modules, json, o);
	return 0;
}

static const struct ctl_command sig_commands[] = {
    {"sig", "sig [json] (the modules signalling installed here)", sig_ctl, NULL, 1},
    {NULL, NULL, NULL, NULL, 0},
};

static const struct conf_directive sig_directives[] = {
    CONF_NUM("sig-requests", "N",
	     "signalling requests remembered at once (passed on, waiting for their response); more are refused",
	     struct sig_config, requests, 1, 1 << 16, 1024),
    CONF_NUM("sig-here-ms", "MS",
	     "how long a node that passed a request on waits for a node further on to say it took it; "
	     "after that it answers as the last anode node on the path",
	     struct sig_config, here_ms, 10, 10000, 200),
    CONF_NUM("sig-response-ms", "MS",
	     "how long a node waits for the response once a node further on took the request; "
	     "after that it answers alone, saying so",
	     struct sig_config, response_ms, 100, 120000, 15000),
    CONF_NUM("sig-modules", "N", "modules signalling may install at once", struct sig_config, modules, 1, 1024, 32),
    CONF_NUM("sig-modules-per-user", "N",
	     "modules one user may have installed or under way at once (the others' room stays theirs)",
	     struct sig_config, modules_per_user, 1, 1024, 8),
    CONF_NUM("sig-module-max", "OCTETS", "the largest module this node fetches and installs", struct sig_config,
	     module_max, 1024, WIRE_SIG_MODULE_MAX, 1 << 20),
    CONF_NUM("sig-fetch-timeout-ms", "MS", "how long one module fetch may take", struct sig_config, fetch_timeout_ms,
	     100, 120000, 10000),
    CONF_FILE("sig-fetch-ca", "FILE",
	      "PEM certificates (at most 32 KiB) that HTTPS module servers are checked against instead of the system's",
	      struct sig_config, fetch_ca),
    CONF_FILE("sig-fetcher", "PATH",
	      "the module fetcher (default: the build tree's for a build tree's anoded, else the installed one)",
	      struct sig_config, fetcher),
    CONF_END,
};

static const struct room_type sig_types[] = {
    {WIRE_TYPE_SIGNAL, sig_input, NULL},
    {0},
};

static const struct room sig_room = {
    .name = "sig",
    .rank = 50,
    .cfg_size = sizeof(struct sig_config),
    .directives = sig_directives,
    .init = sig_init,
    .done = sig_done,
    .reconfigure = sig_reconfigure,
    .types = sig_types,
    .commands = sig_commands,
    .stats = sig_stats,
    .tick = sig_tick,
};
ROOM_REGISTER(sig_room);
