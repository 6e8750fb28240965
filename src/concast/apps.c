// SPDX-License-Identifier: MIT
/*
 * The concast room's applications (seed 001 §4.1): senders JOIN flows and
 * SEND on them, receivers SET_MERGE, both LEAVE (or close their link). An
 * application on this node is an upstream neighbour of its flow like a
 * node, named by its link.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "concast/room_impl.h"
#include "core/log.h"

/* ---- applications ---- */

/* On IP the group is the source of data: Linux routers drop packets from
 * multicast, broadcast, loopback or zero sources as martians, so such a
 * group cannot work in router mode. */
static bool group_ok(const struct concast_room *r, const struct an_flow *flow)
{
	const uint8_t *g = flow->group.ip + 12;
	if (!r->ip)
		return true;
	return g[0] != 0 && g[0] != 127 && g[0] < 224;
}

static void app_join(struct concast_room *r, uint64_t app, const struct an_flow *flow)
{
	struct node *n = r->n;
	uint64_t now = loop_now_ms();
	struct cc_flow *f = cc_flow_find(r->t, flow);
	struct an_addr next;
	if (!group_ok(r, flow))
		return concast_tell_app(r, app, -EINVAL, flow, NULL,
					"on IP the group is the source of data: it must be unicast");
	if (!f) {
		if (an_addr_eq(&flow->receiver, &n->local))
			return concast_tell_app(r, app, -ENOENT, flow, NULL, wire_csp_error_str(WIRE_CSP_ERR_NO_SPEC));
		if (node_next_hop(n, &flow->receiver, &next) < 0)
			return concast_tell_app(r, app, -EHOSTUNREACH, flow, NULL, "no route to the receiver");
		if (cc_flow_add(r->t, flow, now, &f) < 0) {
			r->c.refused_flows++;
			return concast_tell_app(r, app, -ENOSPC, flow, NULL, "no room for another flow at this node");
		}
		r->c.flows_created++;
		f->asked_ms = now;
		f->asks = 1;
		cc_up_add(r->t, f, CC_UP_APP, NULL, app, now);
		return concast_send_csp(r, WIRE_CSP_RMS, 0, flow, &flow->receiver, NULL, NULL, f->nonce, f->cookie);
	}
	if (f->spec_state == CC_SPEC_READY && !concast_admits(f, &n->local)) {
		r->c.refused_admission++;
		return concast_tell_app(r, app, -EACCES, flow, NULL,
					"the receiver admits no sender from this node's address");
	}
	int slot = cc_up_add(r->t, f, CC_UP_APP, NULL, app, now);
	if (slot < 0) {
		r->c.refused_upstream++;
		return concast_tell_app(r, app, -ENOSPC, flow, NULL, "no room for another sender on this flow");
	}
	if (f->spec_state == CC_SPEC_READY) {
		f->up[slot].told = true;
		concast_tell_app(r, app, 0, flow, f->spec, NULL);
	}
}

static void app_set_merge(struct concast_room *r, uint64_t app, const struct an_flow *flow, const uint8_t *elf,
			  size_t len, const struct an_prefix *admit, uint8_t n_admit)
{
	struct node *n = r->n;
	uint8_t name[32];
	if (!an_addr_eq(&flow->receiver, &n->local))
		return concast_tell_app(r, app, -EADDRNOTAVAIL, flow, NULL,
					"the receiver of a flow is the node it is set at");
	if (!group_ok(r, flow))
		return concast_tell_app(r, app, -EINVAL, flow, NULL,
					"on IP the group is the source of data: it must be unicast");
	int e = ee_code_insert_kind(n->ee, &concast_kind_merge, elf, len, name);
	if (e < 0) {
		r->c.specs_refused++;
		const char *why = ee_last_refusal(n->ee);
		return concast_tell_app(r, app, e, flow, NULL,
					e == -EEXIST ? "this code is cached as another kind"
					: why[0]     ? why
						     : strerror(-e));
	}
	struct cc_flow *f = cc_flow_find(r->t, flow);
	if (f && f->receiver_app && f->receiver_app != app)
		return concast_tell_app(r, app, -EADDRINUSE, flow, NULL, "another application receives this flow");
	if (!f && cc_flow_add(r->t, flow, loop_now_ms(), &f) < 0) {
		r->c.refused_flows++;
		return concast_tell_app(r, app, -ENOSPC, flow, NULL, "no room for another flow at this node");
	}
	if (cc_flow_set_spec(r->t, f, name, elf, len) < 0)
		return concast_tell_app(r, app, -ENOMEM, flow, NULL, NULL);
	f->receiver_app = app;
	f->n_admit = n_admit;
	memcpy(f->admit, admit, n_admit * sizeof(*admit));
	r->c.specs_installed++;
	concast_tell_app(r, app, 0, flow, name, NULL);
	concast_flow_ready(r, f);
}

/* An application stops sending (or receiving) on a flow. */
static void app_leave(struct concast_room *r, struct cc_flow *f, uint64_t app)
{
	if (f->receiver_app == app) {
		f->receiver_app = 0;
		r->c.receivers_left++;
		return concast_flow_fail(r, f, WIRE_CSP_ERR_RECEIVER_LEFT, NULL);
	}
	int slot = cc_up_find(f, CC_UP_APP, NULL, app);
	if (slot < 0)
		return;
	cc_up_del(f, slot);
	/* The nodes downstream prune this one when its keep-alives stop. */
	if (f->n_up == 0 && !f->receiver_app) {
		r->c.flows_freed++;
		cc_flow_del(r->t, f);
	}
}

static void app_send(struct concast_room *r, uint64_t app, const struct an_flow *flow, const uint8_t *msg, size_t len)
{
	struct node *n = r->n;
	struct cc_flow *f = cc_flow_find(r->t, flow);
	int slot = f ? cc_up_find(f, CC_UP_APP, NULL, app) : -ENOENT;
	if (slot < 0 || f->spec_state != CC_SPEC_READY) {
		r->c.data_no_flow++;
		n->c.drop_concast++;
		node_app_send(n, app, WIRE_APP_ERROR, slot < 0 ? -ENOTCONN : -EAGAIN, NULL, 0);
		return;
	}
	concast_input_result(r, cc_input(r->t, f, slot, msg, len, loop_now_ms()));
}

static void app_msg_join(void *room, uint64_t app, const struct wire_applink *m)
{
	struct concast_room *r = room;
	r->c.app_joins++;
	app_join(r, app, &m->flow);
}

static void app_msg_set_merge(void *room, uint64_t app, const struct wire_applink *m)
{
	struct concast_room *r = room;
	r->c.app_set_merges++;
	app_set_merge(r, app, &m->flow, m->elf, m->elf_len, m->admit, m->n_admit);
}

static void app_msg_send(void *room, uint64_t app, const struct wire_applink *m)
{
	app_send(room, app, &m->flow, m->body + WIRE_FLOW_LEN, m->body_len - WIRE_FLOW_LEN);
}

static void app_msg_leave(void *room, uint64_t app, const struct wire_applink *m)
{
	struct concast_room *r = room;
	struct cc_flow *f = cc_flow_find(r->t, &m->flow);
	if (f)
		app_leave(r, f, app);
	concast_tell_app(r, app, f ? 0 : -ENOENT, &m->flow, NULL, f ? NULL : "no such flow here");
}

const struct room_app_msg concast_app_msgs[] = {
    {WIRE_APP_CONCAST_JOIN, app_msg_join},
    {WIRE_APP_CONCAST_SET_MERGE, app_msg_set_merge},
    {WIRE_APP_CONCAST_SEND, app_msg_send},
    {WIRE_APP_CONCAST_LEAVE, app_msg_leave},
    {0, NULL},
};

struct leave_all {
	struct concast_room *r;
	uint64_t app;
};

static void leave_one(void *arg, struct cc_flow *f)
{
	struct leave_all *l = arg;
	app_leave(l->r, f, l->app);
}

void concast_app_closed(void *room, uint64_t app)
{
	struct leave_all l = {.r = room, .app = app};
	cc_flow_each(l.r->t, leave_one, &l);
}
