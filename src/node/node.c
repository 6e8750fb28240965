// SPDX-License-Identifier: MIT
/*
 * One anode node: the links, the buffers and the loop; the rooms of the
 * registry (room.h), started in its order, with the table of the ANEP Type
 * IDs they declare and the demux that hands each packet to its room; and
 * the small transmit API the rooms send through. Everything runs to completion on one event loop;
 * a packet buffer is consumed exactly once on every path (sent, kept by a
 * room, or put back to the pool after being counted).
 */
#include "node/node.h"

#include <endian.h>
#include <errno.h>
#include <grp.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/notify.h"
#include "ctl/ctl.h"
#include "link/match.h"
#include "priv/priv.h"
#include "node/room.h"
#include "node/route.h"

/* How many receive batches one wakeup handles before yielding to the other
 * file descriptors (application links, control). */
#define NODE_RX_ROUNDS 8
/* Capsules that code sends to this node itself, handled per round. */
#define NODE_SELF_BUDGET 256
/* Packets are taken one at a time against the loop's slice
 * (LOOP_SLICE_NS): with the work budget of each run, what bounds how long
 * the node serves nothing new. What a slice leaves waits in rx_q. */

/* ---- the rooms and their Type IDs ---- */

void *node_room_state(struct node *n, const char *name)
{
	int i = rooms_index(name);
	return i >= 0 && n->room_up[i] ? n->room_state[i] : NULL;
}

static int type_register(struct node *n, const struct room *room, void *state, const struct room_type *t)
{
	for (size_t i = 0; i < n->n_types; i++)
		if (n->types[i].type_id == t->type_id) {
			log_err("Type ID 0x%04x: room %s has it already, %s wants it", t->type_id,
				n->types[i].room->name, room->name);
			return -EEXIST;
		}
	if (n->n_types == NODE_TYPES_MAX) {
		log_err("Type ID 0x%04x of room %s: the table holds %d", t->type_id, room->name, NODE_TYPES_MAX);
		return -ENOSPC;
	}
	n->types[n->n_types++] = (struct node_type){.type_id = t->type_id, .room = room, .state = state, .t = t};
	return 0;
}

static const struct node_type *type_find(const struct node *n, uint16_t type_id)
{
	for (size_t i = 0; i < n->n_types; i++)
		if (n->types[i].type_id == type_id)
			return &n->types[i];
	return NULL;
}

void node_parked_expired(struct node *n, struct pkt *p, int why)
{
	struct wire_anep a;
	if (wire_anep_parse(p->ctx.pkt, p->len, &a) < 0)
		return;
	const struct node_type *t = type_find(n, a.type_id);
	if (t && t->t->expired)
		t->t->expired(t->state, p, why);
}

void node_resume(struct node *n, struct pkt *p)
{
	pkt_queue_push(&n->resume_q, p);
}

/* A Type ID no room of this node handles, whether anode numbers it or not
 * (DESIGN §1): the ANEP flag decides, so that a node on a path never
 * swallows messages of a system it does not run. */
static void unhandled_input(struct node *n, struct pkt *p, struct wire_anep *a)
{
	if (a->flags & WIRE_ANEP_FLAG_DROP_UNKNOWN)
		return node_drop(n, p, &n->c.drop_unknown_type, -EPROTONOSUPPORT);
	node_forward_by_route(n, p, a, &n->c.passed_unknown);
}

void node_input(struct node *n, struct pkt *p)
{
	struct wire_anep a;
	if (p->truncated)
		return node_drop(n, p, &n->c.drop_too_big, -EMSGSIZE);
	int r = wire_anep_parse(p->ctx.pkt, p->len, &a);
	if (r == -EPROTONOSUPPORT)
		return node_drop(n, p, &n->c.drop_version, r);
	if (r == -EOPNOTSUPP)
		return node_drop(n, p, &n->c.drop_option, r);
	if (r < 0) {
		log_ratelimited(LOG_INFO, "malformed ANEP packet (%u bytes)", p->len);
		return node_drop(n, p, &n->c.drop_malformed, r);
	}
	const struct node_type *t = type_find(n, a.type_id);
	if (!t)
		return unhandled_input(n, p, &a);
	t->t->input(t->state, p, &a);
}

/* ---- the transmit API ---- */

void node_drop(struct node *n, struct pkt *p, uint64_t *counter, int why)
{
	(*counter)++;
	if (p->origin == AN_ORIGIN_APP) {
		const char *text = strerror(-why);
		applink_reply(n->apps, p->applink, WIRE_APP_ERROR, why, text, strlen(text));
	}
	if (p->held)
		router_release_held(n, p);
	pkt_put(n->pool, p);
}

/* Overlay: the routing table. Router mode: dst itself, since the kernel
 * routes IP and every anode router on the way intercepts the capsule. */
int node_next_hop(const struct node *n, const struct an_addr *dst, struct an_addr *ret_next)
{
	if (an_addr_eq(dst, &n->local) || n->cfg.router) {
		*ret_next = *dst;
		return 0;
	}
	return route_lookup(n->routes, dst, ret_next);
}

void node_send(struct node *n, struct pkt *p, const struct an_addr *next, uint16_t owner)
{
	p->hop_taken = 0; /* the next node, or this one again, takes a hop */
	if (an_addr_eq(next, &n->local)) {
		if (owner && pkt_charge(n->pool, p, owner) < 0)
			return node_drop(n, p, &n->c.drop_buffer_share, -ENOBUFS);
		p->origin = AN_ORIGIN_SELF;
		p->from = n->local;
		p->applink = 0;
		memset(&p->meta, 0, sizeof(p->meta));
		p->meta.ingress = PKT_IN_SELF;
		p->queued = NULL; /* it runs again later: no verdict to give */
		pkt_queue_push(&n->self_q, p);
		n->c.looped++;
		return;
	}
	p->work_set = 0;
	n->c.forwarded++;
	if (p->queued && router_send_as_verdict(n, p, next))
		return;
	n->udp->ops->send(n->udp, p, next);
}

void node_send_link(struct node *n, struct pkt *p, const struct an_addr *to)
{
	n->udp->ops->send(n->udp, p, to);
}

int node_app_deliver(struct node *n, uint64_t app, const uint8_t code[32], const void *data, size_t len)
{
	return applink_deliver(n->apps, app, code, data, len);
}

int node_app_send(struct node *n, uint64_t app, uint8_t type, int32_t status, const void *body, size_t len)
{
	return applink_reply(n->apps, app, type, status, body, len);
}

void node_forward_by_route(struct node *n, struct pkt *p, struct wire_anep *a, uint64_t *counter)
{
	struct an_addr next;
	if (!(a->present & WIRE_HAS_DST) || node_next_hop(n, &a->dst, &next) < 0 || an_addr_eq(&next, &n->local))
		return node_drop(n, p, &n->c.drop_no_route, -EHOSTUNREACH);
	if (node_take_hop(p, a) < 0 || !node_may_leave(p, a))
		return node_drop(n, p, &n->c.drop_hop_limit, -ETIMEDOUT);
	p->len = a->pkt_len;
	(*counter)++;
	node_send(n, p, &next, 0);
}

struct pkt *node_pkt_copy(struct node *n, const struct pkt *p)
{
	struct pkt *q = pkt_get(n->pool);
	if (!q)
		return NULL;
	memcpy(q->ctx.pkt, p->ctx.pkt, p->len);
	q->len = p->len;
	q->from = p->from;
	q->origin = p->origin;
	q->applink = p->applink;
	q->meta = p->meta;
	return q;
}

/*
 * The hop limit rule, in one place, for every packet that carries the
 * option and on every path through the node: each arrival takes one hop,
 * once, whether the packet came from a link or from code on this node
 * sending to the node itself (hop_taken survives parking, so a capsule
 * resumed after its code arrived is not charged twice, and is cleared by
 * every send). A capsule an application inserted here has crossed no link
 * and takes none. A packet that arrives with none left is dropped; one
 * left with none may still be delivered or consumed here, never sent on.
 */
int node_take_hop(struct pkt *p, struct wire_anep *a)
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

bool node_may_leave(const struct pkt *p, const struct wire_anep *a)
{
	return !(a->present & WIRE_HAS_HOP_LIMIT) || a->hop_limit > 0 || p->origin == AN_ORIGIN_APP;
}

/* ---- the node's own queues, links and applications ---- */

/* Received packets a spent slice left (in order, before anything newer),
 * then resumed, then self-sent capsules: a bounded number at a time, each
 * against the round's slice, so that the links and the control socket get
 * their turn; true when some are still waiting. */
static bool drain_self(struct node *n)
{
	/* One at least, so that each call makes progress however the round
	 * went before it. */
	for (int budget = NODE_SELF_BUDGET; budget > 0; budget--) {
		if (budget < NODE_SELF_BUDGET && loop_slice_spent(n->loop))
			break;
		struct pkt *p = pkt_queue_pop(&n->rx_q);
		if (!p)
			p = pkt_queue_pop(&n->resume_q);
		if (p && p->held && n->match)
			router_run_held(n, p);
		else if (p)
			node_input(n, p);
		else if ((p = pkt_queue_pop(&n->self_q)))
			node_input(n, p);
		else
			return false;
	}
	return n->rx_q.len + n->self_q.len + n->resume_q.len > 0;
}

/* Run received packets through the node while the slice lasts (the
 * first one whatever): the rest wait in rx_q for the next round. */
static void input_batch(struct node *n, struct pkt **batch, int k)
{
	int i = 0;
	for (; i < k && (i == 0 || !loop_slice_spent(n->loop)); i++)
		node_input(n, batch[i]);
	for (; i < k; i++)
		pkt_queue_push(&n->rx_q, batch[i]);
}

static void udp_readable(void *arg, int fd, uint32_t events)
{
	struct node *n = arg;
	struct pkt *batch[LINK_BATCH];
	/* What an earlier round left goes first; nothing new is read (the
	 * socket keeps it) until it has. */
	if (drain_self(n) && n->rx_q.len) {
		n->udp->ops->flush(n->udp);
		return;
	}
	for (int round = 0; round < NODE_RX_ROUNDS; round++) {
		/* Past the slice, one packet: the link gets a turn each round
		 * however busy the others are, and the round overruns by one
		 * run at most. */
		bool spent = loop_slice_spent(n->loop);
		int k = n->udp->ops->recv(n->udp, n->pool, batch, spent ? 1 : LINK_BATCH);
		if (k <= 0)
			break;
		n->c.received += (uint64_t)k;
		input_batch(n, batch, k);
		/* The rest of GRO runs: behind the batch, in order. */
		if (n->udp->ops->spill)
			n->c.received += n->udp->ops->spill(n->udp, &n->rx_q);
		drain_self(n);
		n->udp->ops->flush(n->udp);
		/* A short batch emptied the socket: epoll (level-triggered)
		 * wakes us for what comes next, without an empty recvmmsg. */
		if (k < LINK_BATCH || spent)
			break;
	}
	n->udp->ops->flush(n->udp);
}

/* A link a room added (node_link_add): a bounded number of packets per
 * wakeup, each through the demux. */
static void extra_link_readable(void *arg, int fd, uint32_t events)
{
	struct node *n = arg;
	struct link *l = NULL;
	for (size_t i = 0; i < n->n_links; i++)
		if (n->links[i]->fd == fd)
			l = n->links[i];
	if (!l)
		return;
	struct pkt *batch[LINK_BATCH];
	if (drain_self(n) && n->rx_q.len) {
		n->udp->ops->flush(n->udp);
		return;
	}
	int k = l->ops->recv(l, n->pool, batch, loop_slice_spent(n->loop) ? 1 : LINK_BATCH);
	if (k > 0) {
		n->c.received += (uint64_t)k;
		input_batch(n, batch, k);
	}
	drain_self(n);
	n->udp->ops->flush(n->udp);
}

int node_link_add(struct node *n, struct link *l)
{
	if (n->n_links == NODE_LINKS_MAX || loop_fd_add(n->loop, l->fd, EPOLLIN, extra_link_readable, n) < 0) {
		l->ops->close(l);
		return -ENOSPC;
	}
	n->links[n->n_links++] = l;
	return 0;
}

void node_send_on(struct node *n, struct link *l, struct pkt *p, const struct an_addr *next)
{
	p->hop_taken = 0;
	n->c.forwarded++;
	l->ops->send(l, p, next);
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
	if (len) /* an empty INJECT: no bytes, and memcpy may not take NULL */
		memcpy(p->ctx.pkt, bytes, len);
	p->len = (uint16_t)len;
	p->origin = AN_ORIGIN_APP;
	p->meta.ingress = PKT_IN_APP;
	p->applink = handle;
	p->from = n->local;
	p->rx_ns = loop_now_ns();
	node_input(n, p);
}

static void app_code_insert(void *arg, uint64_t handle, const void *elf, size_t len)
{
	struct node *n = arg;
	uint8_t name[EE_NAME_LEN] = {0};
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

/* An application link message of a type some room serves. */
static int app_message(void *arg, uint64_t handle, const struct wire_applink *m)
{
	struct node *n = arg;
	for (size_t i = 0; i < rooms_count(); i++) {
		const struct room *room = rooms_at(i);
		for (const struct room_app_msg *am = room->app_msgs; n->room_up[i] && am && am->type; am++)
			if (am->type == m->type) {
				am->fn(n->room_state[i], handle, m);
				return 0;
			}
	}
	return -EOPNOTSUPP;
}

static void app_closed(void *arg, uint64_t handle)
{
	struct node *n = arg;
	for (size_t i = 0; i < rooms_count(); i++)
		if (n->room_up[i] && rooms_at(i)->app_closed)
			rooms_at(i)->app_closed(n->room_state[i], handle);
}

/* ---- what the EE asks of the node ---- */

static int env_route(void *arg, const struct an_addr *dst, struct an_addr *ret_next)
{
	return node_next_hop(arg, dst, ret_next);
}

/* The cache changed: the rooms that keep code elsewhere hear of it. */
static void env_cached(void *arg, const uint8_t name[EE_NAME_LEN], const struct ee_kind *kind, const void *elf,
		       size_t len)
{
	struct node *n = arg;
	for (size_t i = 0; i < rooms_count(); i++)
		if (rooms_at(i)->code_cached && n->room_up[i])
			rooms_at(i)->code_cached(n->room_state[i], name, kind, elf, len);
}

static void env_uncached(void *arg, const uint8_t name[EE_NAME_LEN])
{
	struct node *n = arg;
	for (size_t i = 0; i < rooms_count(); i++)
		if (rooms_at(i)->code_gone && n->room_up[i])
			rooms_at(i)->code_gone(n->room_state[i], name);
}

static bool env_applink_alive(void *arg, uint64_t handle)
{
	struct node *n = arg;
	return applink_alive(n->apps, handle);
}

/* ---- life cycle ---- */

/* A configuration the privileged parent read and checked (router mode):
 * in force as a whole, or refused with the reason logged; the parent
 * hears which. */
static int config_from_parent(void *arg, const char *cfg, size_t cfg_len, const char *policy, size_t policy_len)
{
	struct node *n = arg;
	char why[512];
	struct node_config nc = {0};
	int r = node_config_parse(cfg, cfg_len, n->cfg.config_path, &nc, why, sizeof(why));
	bool parsed = r == 0;
	if (r == 0 && nc.policy_path[0]) {
		nc.policy_text = malloc(policy_len + 1);
		if (!nc.policy_text) {
			r = -ENOMEM;
			snprintf(why, sizeof(why), "out of memory");
		} else {
			memcpy(nc.policy_text, policy, policy_len);
			nc.policy_text[policy_len] = '\0';
			nc.policy_len = policy_len;
		}
	}
	if (r == 0)
		r = node_reconfigure(n, &nc, why, sizeof(why));
	if (r < 0)
		log_err("reload refused: %s: the configuration in force stays", why);
	else
		log_info("reload: the configuration the parent read is in force");
	if (parsed)
		node_config_done(&nc);
	return r;
}

static void parent_gone(void *arg)
{
	struct node *n = arg;
	/* Without the privileged parent no filter or service can change and
	 * no one would restart us: stop, and let the rules go with us. */
	n->fatal = -EPIPE;
	loop_stop(n->loop);
}

/* Start every room, in the registry's order, and take its Type IDs. */
static int rooms_start(struct node *n)
{
	for (size_t i = 0; i < rooms_count(); i++) {
		const struct room *room = rooms_at(i);
		void *state = NULL;
		if (room->init(n, n->cfg.room_cfg[i], &state) < 0) {
			log_err("cannot start the %s room", room->name);
			if (state && room->done)
				room->done(state);
			return -1;
		}
		n->room_state[i] = state;
		n->room_up[i] = true;
		for (const struct room_type *t = room->types; t && t->type_id; t++)
			if (type_register(n, room, state, t) < 0)
				return -1;
	}
	return 0;
}

/* Last one first: a room may use the ones started before it. Its Type IDs
 * go first, so that nothing reaches a room that has gone (a fetch the
 * code loader cancels tells no room whose packets it dropped). */
static void rooms_stop(struct node *n)
{
	for (size_t i = rooms_count(); i-- > 0;) {
		if (!n->room_up[i])
			continue;
		for (size_t k = 0; k < n->n_types;)
			if (n->types[k].state == n->room_state[i] && n->types[k].room == rooms_at(i))
				n->types[k] = n->types[--n->n_types];
			else
				k++;
		n->room_up[i] = false;
		if (rooms_at(i)->done)
			rooms_at(i)->done(n->room_state[i]);
		n->room_state[i] = NULL;
	}
}

/* A group by name or number: 0 and *gid, or -ENOENT. */
static int group_id(const char *name, gid_t *gid)
{
	char *end;
	unsigned long v = strtoul(name, &end, 10);
	if (*name && !*end) {
		*gid = (gid_t)v;
		return 0;
	}
	struct group g, *found = NULL;
	char buf[4096];
	if (getgrnam_r(name, &g, buf, sizeof(buf), &found) != 0 || !found)
		return -ENOENT;
	*gid = found->gr_gid;
	return 0;
}

/* Operators without root (issue 19): the sockets go to socket-group
 * (members may look and use: each socket is 0660), and admin-group's
 * members may also change the node by its control socket. The default
 * socket group, anode, may not exist (a lab on a developer's machine):
 * then the sockets keep the node's group. */
static int sockets_share(struct node *n, const struct node_config *cfg)
{
	gid_t gid;
	if (group_id(cfg->socket_group, &gid) < 0) {
		if (strcmp(cfg->socket_group, NODE_DEFAULT_SOCKET_GROUP) != 0) {
			log_err("socket-group %s: no such group", cfg->socket_group);
			return -ENOENT;
		}
	} else {
		/* The default group on a machine where the node's user is not
		 * in it (a lab started by a user): the sockets keep the
		 * node's group, said once. A group the configuration names
		 * must be given. */
		bool dflt = strcmp(cfg->socket_group, NODE_DEFAULT_SOCKET_GROUP) == 0;
		const char *paths[] = {cfg->app_path, cfg->ctl_path};
		for (size_t i = 0; i < 2; i++)
			if (chown(paths[i], (uid_t)-1, gid) < 0) {
				int e = errno;
				if (dflt) {
					log_info("sockets keep the node's group: its user is not in group %s",
						 cfg->socket_group);
					break;
				}
				log_err("cannot give %s to group %s: %s (the node must be in the group)", paths[i],
					cfg->socket_group, strerror(e));
				return -e;
			}
	}
	if (group_id(cfg->admin_group, &gid) < 0) {
		log_warn("admin-group %s: no such group: only root and the node's own user may change it",
			 cfg->admin_group);
		ctl_server_set_admin(n->ctl, 0, NULL);
	} else {
		ctl_server_set_admin(n->ctl, gid, cfg->admin_group);
	}
	return 0;
}

/* The control commands: the node's, then each room's, with its state. */
static struct ctl_command *commands_merge(struct node *n)
{
	size_t k = 0;
	for (const struct ctl_command *c = node_ctl_commands; c->name; c++)
		k++;
	for (size_t i = 0; i < rooms_count(); i++)
		for (const struct ctl_command *c = rooms_at(i)->commands; c && c->name; c++)
			k++;
	struct ctl_command *v = calloc(k + 1, sizeof(*v));
	if (!v)
		return NULL;
	k = 0;
	for (const struct ctl_command *c = node_ctl_commands; c->name; c++)
		v[k++] = *c;
	for (size_t i = 0; i < rooms_count(); i++)
		for (const struct ctl_command *c = rooms_at(i)->commands; c && c->name; c++) {
			for (size_t j = 0; j < k; j++)
				if (strcmp(v[j].name, c->name) == 0) {
					log_err("control command %s of room %s: taken already", c->name,
						rooms_at(i)->name);
					free(v);
					return NULL;
				}
			v[k] = *c;
			v[k++].arg = n->room_state[i];
		}
	return v;
}

static struct node *node_create(const struct node_config *cfg, node_link_open_fn open_link, void *link_arg, int udp_fd,
				int priv_fd)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;

	/* The node's own copy: a reload replaces it as a whole. */
	if (node_config_copy(cfg, &n->cfg) < 0) {
		free(n);
		return NULL;
	}
	n->started_ns = loop_now_ns();
	n->loop = loop_new();
	n->pool = pkt_pool_new(cfg->buffers);
	n->routes = route_table_new();
	if (!n->loop || !n->pool || !n->routes)
		goto fail;
	pkt_pool_set_share(n->pool, cfg->buffers * cfg->code_buffer_share / 100);
	if (sodium_init() < 0)
		goto fail;
	for (size_t i = 0; i < cfg->n_routes; i++) {
		if (cfg->routes[i].is_default)
			route_set_default(n->routes, &cfg->routes[i].next);
		else if (route_add(n->routes, &cfg->routes[i].dst, &cfg->routes[i].next) < 0)
			goto fail;
	}
	n->udp = open_link ? open_link(&cfg->listen, n->pool, link_arg) : link_udp_open(&cfg->listen, udp_fd, n->pool);
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
	    .node_info = figures_node_info,
	    .local = n->local,
	    .cached = env_cached,
	    .uncached = env_uncached,
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
	if (priv_fd >= 0) {
		/* Before the rooms: they ask the parent for what needs root. */
		n->priv = priv_chan_open(n->loop, priv_fd, parent_gone, n);
		if (!n->priv)
			goto fail;
		priv_chan_set_config_handler(n->priv, config_from_parent, n);
	}
	if (rooms_start(n) < 0)
		goto fail;
	struct applink_handler h = {
	    .arg = n,
	    .inject = app_inject,
	    .code_insert = app_code_insert,
	    .message = app_message,
	    .closed = app_closed,
	};
	n->apps = applink_server_open(cfg->app_path, n->loop, &n->local, cfg->name, &h);
	if (!n->apps) {
		log_err("cannot open application socket %s: %s", cfg->app_path, strerror(errno));
		goto fail;
	}
	n->commands = commands_merge(n);
	if (!n->commands)
		goto fail;
	n->ctl = ctl_server_open(cfg->ctl_path, n->loop, n->commands, n);
	if (!n->ctl) {
		log_err("cannot open control socket %s: %s", cfg->ctl_path, strerror(errno));
		goto fail;
	}
	if (sockets_share(n, cfg) < 0)
		goto fail;
	if (loop_fd_add(n->loop, n->udp->fd, EPOLLIN, udp_readable, n) < 0)
		goto fail;
	if (cfg->router && router_start(n) < 0) {
		log_err("cannot intercept capsules (router mode needs root and iptables)");
		goto fail;
	}
	loop_set_idle(n->loop, loop_idle, n);
	if (figures_start(n) < 0)
		goto fail;
	return n;
fail:
	node_free(n);
	return NULL;
}

struct node *node_new(const struct node_config *cfg, int udp_fd, int priv_fd)
{
	return node_create(cfg, NULL, NULL, udp_fd, priv_fd);
}

struct node *node_new_with_link(const struct node_config *cfg, node_link_open_fn open_link, void *arg)
{
	return node_create(cfg, open_link, arg, -1, -1);
}

struct link *node_link(struct node *n)
{
	return n->udp;
}

struct pkt_pool *node_pool(struct node *n)
{
	return n->pool;
}

/* What a running node cannot take without a restart: its identity, its
 * sockets and the sizes of what it allocated at start. NULL when nc
 * differs from the configuration in force only in what it can take. */
static const char *needs_restart(const struct node_config *old, const struct node_config *nc)
{
	if (strcmp(old->name, nc->name))
		return "name";
	if (old->router != nc->router)
		return "mode";
	if (old->queue != nc->queue)
		return "queue";
	if (strcmp(old->user, nc->user))
		return "user";
	if (old->have_listen != nc->have_listen || (nc->have_listen && !an_addr_eq(&old->listen, &nc->listen)))
		return "listen";
	if (strcmp(old->app_path, nc->app_path))
		return "app-socket";
	if (strcmp(old->ctl_path, nc->ctl_path))
		return "ctl-socket";
	if (strcmp(old->socket_group, nc->socket_group))
		return "socket-group";
	if (strcmp(old->admin_group, nc->admin_group))
		return "admin-group";
	if (old->buffers != nc->buffers)
		return "buffers";
	if (old->cache_objects != nc->cache_objects)
		return "cache-objects";
	if (old->cache_bytes != nc->cache_bytes)
		return "cache-bytes";
	if (old->state_entries != nc->state_entries)
		return "state-entries";
	if (old->link_capacity_bps != nc->link_capacity_bps)
		return "link-capacity";
	return NULL;
}

static struct route_table *routes_from(const struct node_config *nc)
{
	struct route_table *t = route_table_new();
	for (size_t i = 0; t && i < nc->n_routes; i++) {
		if (nc->routes[i].is_default) {
			route_set_default(t, &nc->routes[i].next);
		} else if (route_add(t, &nc->routes[i].dst, &nc->routes[i].next) < 0) {
			route_table_free(t);
			return NULL;
		}
	}
	return t;
}

int node_reconfigure(struct node *n, const struct node_config *nc, char *why, size_t whylen)
{
	const char *fixed = needs_restart(&n->cfg, nc);
	if (fixed) {
		snprintf(why, whylen, "'%s' cannot change while the node runs (restart it)", fixed);
		return -EBUSY;
	}
	/* Everything that can fail, before anything changes. */
	for (size_t i = 0; i < rooms_count(); i++) {
		const struct room *room = rooms_at(i);
		if (!n->room_up[i])
			continue;
		if (!room->reconfigure) {
			if (room->cfg_size && memcmp(n->cfg.room_cfg[i], nc->room_cfg[i], room->cfg_size)) {
				snprintf(why, whylen,
					 "the %s room's directives cannot change while the node runs (restart it)",
					 room->name);
				return -EBUSY;
			}
			continue;
		}
		char rwhy[256] = "";
		int r = room->reconfigure(n->room_state[i], nc->room_cfg[i], nc, false, rwhy, sizeof(rwhy));
		if (r < 0) {
			snprintf(why, whylen, "%s: %s", room->name, rwhy[0] ? rwhy : strerror(-r));
			return r;
		}
	}
	struct node_config copy;
	struct route_table *routes = routes_from(nc);
	if (!routes || node_config_copy(nc, &copy) < 0) {
		route_table_free(routes);
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	/* Then all of it, at once (run to completion: no packet sees half). */
	if (n->routes_changed)
		log_info("the configuration's %zu routes replace the table that %u 'anode route' changes made",
			 route_count(routes), n->routes_changed);
	n->routes_changed = 0;
	route_table_free(n->routes);
	n->routes = routes;
	pkt_pool_set_share(n->pool, nc->buffers * nc->code_buffer_share / 100);
	ee_set_run_budget(n->ee, nc->run_budget);
	for (size_t i = 0; i < rooms_count(); i++)
		if (n->room_up[i] && rooms_at(i)->reconfigure)
			rooms_at(i)->reconfigure(n->room_state[i], nc->room_cfg[i], nc, true, why, whylen);
	node_config_done(&n->cfg);
	n->cfg = copy;
	why[0] = '\0';
	return 0;
}

void node_reload(struct node *n)
{
	char why[512];
	if (n->priv) {
		/* A router node's child reads no file: its parent sends what it
		 * read (SIGHUP goes to the parent, or systemctl reload). */
		log_info("reload: a router node reloads through its privileged parent (SIGHUP to it)");
		return;
	}
	struct node_config nc = {0};
	notify_state("RELOADING=1");
	if (node_config_load(n->cfg.config_path, &nc, why, sizeof(why)) < 0 ||
	    node_config_read_policy(&nc, why, sizeof(why)) < 0) {
		log_err("reload refused: %s: the configuration in force stays", why);
		notify_state("READY=1\nSTATUS=reload refused: %s", why);
		node_config_done(&nc);
		return;
	}
	if (node_reconfigure(n, &nc, why, sizeof(why)) < 0) {
		log_err("reload refused: %s: the configuration in force stays", why);
		notify_state("READY=1\nSTATUS=reload refused: %s", why);
	} else {
		log_info("reload: %s in force", nc.config_path);
		notify_state("READY=1\nSTATUS=reloaded %s", nc.config_path);
	}
	node_config_done(&nc);
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
	int r = loop_run(n->loop);
	return r < 0 ? r : n->fatal;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	/* The rooms first, last one first: they drop what they keep (parked
	 * capsules need the pool, the application links and held packets). */
	rooms_stop(n);
	for (size_t i = 0; i < n->n_links; i++) {
		loop_fd_del(n->loop, n->links[i]->fd);
		n->links[i]->ops->close(n->links[i]);
	}
	n->n_links = 0;
	while (n->resume_q.head)
		node_drop(n, pkt_queue_pop(&n->resume_q), &n->c.drop_code_timeout, -ECANCELED);
	figures_stop(n);
	match_free(n->match); /* its rules: traffic goes on without us */
	n->match = NULL;
	priv_chan_close(n->priv);
	n->priv = NULL;
	ctl_server_close(n->ctl);
	free(n->commands);
	applink_server_close(n->apps);
	ee_free(n->ee);
	while (n->self_q.head)
		pkt_put(n->pool, pkt_queue_pop(&n->self_q));
	while (n->rx_q.head)
		pkt_put(n->pool, pkt_queue_pop(&n->rx_q));
	if (n->udp)
		n->udp->ops->close(n->udp);
	route_table_free(n->routes);
	node_config_done(&n->cfg);
	pkt_pool_free(n->pool);
	loop_free(n->loop);
	free(n->q_scratch);
	free(n);
}
