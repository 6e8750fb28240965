// SPDX-License-Identifier: MIT
/*
 * The capsule room (PAN, seed 003; information collection, seed 002): a
 * capsule's code is found (or carried, or fetched by the code loading room),
 * run by the EE with what the node works out of its header beforehand
 * (goal, visit, receive time, work and copy budgets), and what the run asked
 * for is carried out: a RESULT option, deliveries to applications, sends
 * (the first one the capsule itself, the others copies paid from its copy
 * budget), or the end of the capsule.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "capsule/capsule.h"
#include "codeload/codeload.h"
#include "core/log.h"
#include "node/room.h"

#define CAPSULE_DEFAULT_MAX_COPIES 16

struct capsule_config {
	size_t max_copies;
};

struct capsule_room {
	struct node *n;
	struct codeload *codeload; /* where capsules wait for their code */
	size_t max_copies;
	uint8_t owner_key[crypto_shorthash_KEYBYTES]; /* code name -> buffer owner */
};

size_t capsule_room_max_copies(const void *room)
{
	return ((const struct capsule_room *)room)->max_copies;
}

/* The buffer owner that stands for a code object's offspring: a keyed hash
 * of its name, so that nobody can aim at the share of another's code. */
static uint16_t code_owner(const struct capsule_room *cr, const uint8_t name[32])
{
	uint8_t h[crypto_shorthash_BYTES];
	crypto_shorthash(h, name, 32, cr->owner_key);
	uint32_t v;
	memcpy(&v, h, sizeof(v));
	return (uint16_t)(1 + v % (PKT_OWNERS - 1));
}

/* Cache code that travels in the capsule, on first sight (seed 002's
 * "associated" distribution). NULL, or the drop counter to charge. */
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

/* Information collection (seed 002 §3), from the parsed header: whether
 * this node is a goal (every node is, when the capsule names none), and
 * the visit number a RESULT option added here would carry. */
static int goal_here(const struct node *n, const struct wire_anep *a)
{
	if (a->n_goals == 0)
		return 1;
	for (unsigned i = 0; i < a->n_goals; i++)
		if (an_addr_eq(&a->goals[i], &n->local))
			return 1;
	return 0;
}

static int visit_here(const struct node *n, const struct wire_anep *a)
{
	if (a->n_results >= WIRE_MAX_RESULTS)
		return -ENOSPC;
	int visit = 1;
	for (unsigned i = 0; i < a->n_results; i++)
		if (an_addr_eq(&a->results[i].node, &n->local))
			visit++;
	return visit;
}

static void fill_ctx(struct pkt *p, const struct wire_anep *a, const struct wire_capsule *cap, uint16_t copies)
{
	struct an_ctx *ctx = &p->ctx;
	ctx->data_off = cap->data_off;
	ctx->data_len = cap->data_len;
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
	memcpy(ctx->code, cap->name, sizeof(ctx->code));
	ctx->copies = copies;
	ctx->reserved = 0;
	ctx->call_op = 0;
	ctx->call_arg = 0;
}

/* Carry out the sends of a run (consumes p): copies spend the copy budget
 * (the EE allowed no more than there is) and the rest is shared out among
 * the capsules sent, the first ones taking the remainder, so that one
 * capsule's offspring never number more than its budget + 1; what is left
 * of the work budget is shared among the sends to this node itself (a
 * capsule sent to another node starts afresh there). The first send takes
 * the buffer as it is: a capsule that only forwards itself is never
 * copied. */
static void send_all(struct capsule_room *cr, struct pkt *p, struct wire_anep *a, const struct ee_verdict *v,
		     const uint8_t name[32], uint16_t copies, uint64_t budget)
{
	struct node *n = cr->n;
	unsigned k = v->n_sends;
	unsigned left = copies - (k - 1);
	unsigned k_self = 0;
	for (unsigned i = 0; i < k; i++)
		k_self += an_addr_eq(&v->send_next[i], &n->local);
	/* Buffers are charged only for copies and self-sends: a capsule that
	 * just goes on costs no hash. */
	uint16_t owner = k > 1 || k_self ? code_owner(cr, name) : 0;
	uint64_t work_left = v->work < budget ? budget - v->work : 0;
	uint32_t work_share = (uint32_t)(k_self ? work_left / k_self : 0);
	for (unsigned i = 1; i < k; i++) {
		wire_anep_set_copies(p->ctx.pkt, a, (uint16_t)(left / k + (i < left % k)));
		struct pkt *q = node_pkt_copy(n, p);
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
		node_send(n, q, &v->send_next[i], owner);
	}
	wire_anep_set_copies(p->ctx.pkt, a, (uint16_t)(left / k + (0 < left % k)));
	p->work_set = 1;
	p->work_left = work_share;
	node_send(n, p, &v->send_next[0], owner);
}

static void capsule_input(void *room, struct pkt *p, struct wire_anep *a)
{
	struct capsule_room *cr = room;
	struct node *n = cr->n;
	struct wire_capsule cap;
	if (wire_capsule_parse(p->ctx.pkt, p->len, a, &cap) < 0 || !(a->present & WIRE_HAS_HOP_LIMIT))
		return node_drop(n, p, &n->c.drop_malformed, -EBADMSG);
	/* The node it came from. In overlay mode that is the UDP source, which
	 * a sender cannot choose and still hear the answer; in router mode the
	 * IP source is the original sender, so the option its previous node
	 * wrote says. */
	if (n->cfg.router && (a->present & WIRE_HAS_PREV_HOP) && p->origin == AN_ORIGIN_NET && !p->hop_taken)
		p->from = a->prev_hop;
	if (node_take_hop(p, a) < 0)
		return node_drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	/* What one capsule may still become here: bounded by this node's
	 * maximum, whatever the sender wrote. */
	uint16_t copies = a->copies < cr->max_copies ? a->copies : (uint16_t)cr->max_copies;

	int why = 0;
	uint64_t *bad = cache_carried_code(n, p, &cap, &why);
	if (bad)
		return node_drop(n, p, bad, why);
	fill_ctx(p, a, &cap, copies);
	p->len = a->pkt_len; /* bytes past the ANEP packet length are not ours */

	/* A capsule that code here sent to this node goes on with the work its
	 * sender left: one budget covers everything a capsule runs while it
	 * stays at a node, self-sent copies and loops included. */
	struct ee_run_in in = {
	    .budget = p->work_set ? p->work_left : n->cfg.run_budget,
	    .is_goal = goal_here(n, a),
	    .visit = visit_here(n, a),
	    .rx_ns = (int64_t)p->rx_ns,
	};
	struct ee_verdict v;
	int r = ee_run_with(n->ee, &p->ctx, &in, &v);
	if (r == -ENOENT && !p->resumed) {
		/* Park it and load the code on demand. */
		r = codeload_park(cr->codeload, p, cap.name, &cap.home, &ee_kind_capsule);
		if (r == 0)
			return;
		if (r == -ENOBUFS)
			return node_drop(n, p, &n->c.drop_park_full, r);
		return node_drop(n, p, &n->c.drop_code_missing, -ENOENT);
	}
	n->c.runs++;
	if (r == -ENOENT)
		return node_drop(n, p, &n->c.drop_code_missing, -ENOENT);
	if (r < 0)
		return node_drop(n, p, &n->c.drop_code_bad, r);
	if (v.over_budget) {
		log_ratelimited(LOG_INFO, "capsule used up its work budget (%llu units)", (unsigned long long)v.work);
		return node_drop(n, p, &n->c.drop_work_budget, -EDQUOT);
	}
	if (v.rc < 0) {
		log_ratelimited(LOG_DEBUG, "code returned %lld", (long long)v.rc);
		/* Code that ends with a failed delivery returns its -ENOTCONN:
		 * the application went away, the code did nothing wrong. */
		return node_drop(n, p, v.rc == -ENOTCONN ? &n->c.drop_applink_gone : &n->c.drop_code_error,
				 v.rc < INT32_MIN ? -EINVAL : (int)v.rc);
	}

	if (v.data_len != cap.data_len) {
		p->len = (uint16_t)(cap.data_off + v.data_len);
		wire_anep_set_pkt_len(p->ctx.pkt, p->len);
	}
	if (v.visit > 0) {
		/* The RESULT option goes in after the last option: the payload
		 * moves on, the options before it (previous hop) stay put. */
		struct wire_anep cur = *a;
		cur.pkt_len = p->len;
		if (wire_anep_add_result(p->ctx.pkt, AN_PKT_MAX, &cur, &n->local, (uint16_t)v.visit) == 0) {
			p->len = cur.pkt_len;
			cap.data_off += WIRE_RESULT_OPT_LEN;
		} else {
			log_ratelimited(LOG_INFO, "no room for a result option; capsule goes on without it");
		}
	}
	if (v.n_sends && (a->present & WIRE_HAS_PREV_HOP))
		wire_anep_set_prev_hop(p->ctx.pkt, a, &n->local);
	for (unsigned i = 0; i < v.n_delivers; i++) {
		int d = node_app_deliver(n, v.deliver_to[i], cap.name, p->ctx.pkt + cap.data_off, v.data_len);
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
	if (!node_may_leave(p, a))
		return node_drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	send_all(cr, p, a, &v, cap.name, copies, in.budget);
}

/* ---- the room ---- */

static int capsule_init(struct node *n, const void *cfg, void **ret_state)
{
	const struct capsule_config *c = cfg;
	struct capsule_room *cr = calloc(1, sizeof(*cr));
	if (!cr)
		return -ENOMEM;
	cr->n = n;
	cr->max_copies = c->max_copies;
	randombytes_buf(cr->owner_key, sizeof(cr->owner_key));
	*ret_state = cr;
	cr->codeload = node_room_state(n, "codeload");
	if (!cr->codeload) {
		log_err("capsules need the code loading room (codeload), which this node has not");
		return -ENOENT;
	}
	return 0;
}

/* max-copies may change while the node runs. */
static int capsule_reconfigure(void *room, const void *cfg, const struct node_config *nc, bool apply, char *why,
			       size_t whylen)
{
	struct capsule_room *cr = room;
	const struct capsule_config *c = cfg;
	if (apply)
		cr->max_copies = c->max_copies;
	return 0;
}

static void capsule_done(void *room)
{
	free(room);
}

static const struct conf_directive capsule_directives[] = {
    CONF_NUM("max-copies", "N",
	     "largest copy budget a capsule keeps here: how many capsules one can become over its life, minus one",
	     struct capsule_config, max_copies, 0, 65535, CAPSULE_DEFAULT_MAX_COPIES),
    CONF_END,
};

static const struct room_type capsule_types[] = {
    {WIRE_TYPE_CAPSULE, capsule_input, NULL},
    {0},
};

static const struct room capsule_room = {
    .name = "capsule",
    .rank = 20,
    .cfg_size = sizeof(struct capsule_config),
    .directives = capsule_directives,
    .init = capsule_init,
    .done = capsule_done,
    .reconfigure = capsule_reconfigure,
    .types = capsule_types,
};
ROOM_REGISTER(capsule_room);
