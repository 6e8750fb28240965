/* SPDX-License-Identifier: MIT */
/*
 * Inside one node: what its rooms share. The node (node.c) owns the links,
 * the buffers, the loop and the table of ANEP Type IDs; each room owns the
 * Type IDs it registers and handles their packets (capsule.c: capsules and
 * their code; codeload.c: code requests and chunks; later signalling,
 * concast, services), and sends through the small transmit API below.
 * router.c is the glue to the matching engine in router mode, control.c the
 * control socket's commands, figures.c the node's sampled figures.
 *
 * Adding a Type ID: write a room with an init function that calls
 * node_type_register() for it, and add one line to node_rooms[] (node.c).
 */
#ifndef NODE_IMPL_H
#define NODE_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#include "core/loop.h"
#include "core/pkt.h"
#include "ctl/ctl.h"
#include "ee/ee.h"
#include "link/applink.h"
#include "link/link.h"
#include "node/config.h"
#include "node/counters.h"
#include "node/node.h"
#include "node/svc_module.h"
#include "wire/wire.h"

struct route_table;
struct fetcher;
struct relay;
struct match_engine;
struct mon;
struct concast_room;

/* Handles a packet of a registered Type ID whose ANEP header parsed; it
 * consumes p on every path (sends, delivers, keeps or drops it). */
typedef void (*node_input_fn)(struct node *n, struct pkt *p, struct wire_anep *a);

/* A room: set up after the node's links (0 or a negative errno after
 * logging why), torn down before them (may be NULL). */
struct node_room {
	const char *name;
	int (*init)(struct node *n);
	void (*done)(struct node *n);
};

/* A packet of the room's that waited for code (parked in the code loader)
 * will not run: the code did not come, or failed (why). The packet is
 * still the caller's, who drops it. */
typedef void (*node_expired_fn)(struct node *n, struct pkt *p, int why);

struct node_type {
	uint16_t type_id;
	const char *room;
	node_input_fn input;
	node_expired_fn expired; /* may be NULL */
};
#define NODE_TYPES_MAX 16


struct node {
	struct node_config cfg;
	struct loop *loop;
	struct pkt_pool *pool;
	struct link *udp;
	struct applink_server *apps;
	struct ctl_server *ctl;
	struct ee *ee;
	struct route_table *routes;
	struct node_type types[NODE_TYPES_MAX];
	size_t n_types;
	/* The code loading room (codeload.c). */
	struct fetcher *fetch;
	struct relay *relay; /* code requests passed on, to relay answers back */
	/* Router mode (router.c): capsules come from the matching engine's
	 * queue, and the first send of a queued packet is its verdict. */
	struct match_engine *match;
	struct priv_chan *priv; /* to the privileged parent, when there is one */
	/* The control module (services.c, src/svc); NULL without a policy. */
	struct svc *svc;
	struct svc_api_state *svcapi; /* running services' filters, packets, events (svc_api.c) */
	int fatal; /* a negative errno that stopped the node, or 0 */
	uint8_t *q_scratch; /* where a held packet's verdict is built */
	struct node_counters c;
	struct pkt_queue self_q; /* capsules code here sent to this node */
	struct pkt_queue resume_q; /* parked capsules whose code came, to run */
	struct an_addr local;
	uint8_t owner_key[crypto_shorthash_KEYBYTES]; /* code name -> buffer owner */
	uint64_t started_ns;
	struct mon *mon; /* the node's figures, sampled (src/mon) */
	struct concast_room *concast; /* the concast room (src/concast/room.c) */
	struct svc_module_counters mod_c; /* packet modules and probes (svc_module.c) */
};

/* ---- node.c: the Type ID table and the transmit API ---- */

/* Register the input function of a Type ID for a room. 0, -EEXIST when
 * another room has it, -ENOSPC past NODE_TYPES_MAX. */
int node_type_register(struct node *n, uint16_t type_id, const char *room, node_input_fn input);
/* Tell the room of a Type ID when its parked packets expire (the room's
 * own Type ID, registered before). 0 or -ENOENT. */
int node_type_on_expired(struct node *n, uint16_t type_id, node_expired_fn expired);
/* A parked packet will not run: its room hears why (the caller drops p). */
void node_parked_expired(struct node *n, struct pkt *p, int why);
/* Run a packet through the node: ANEP parse, then its Type ID's room, or
 * the ANEP flag for a Type ID no room handles. Consumes p. */
void node_input(struct node *n, struct pkt *p);

/* Count a drop and return the buffer; an application whose own capsule
 * was dropped at its node hears why. */
void node_drop(struct node *n, struct pkt *p, uint64_t *counter, int why);
/* The next hop toward dst: the routing table in overlay mode, dst itself in
 * router mode (the kernel routes). 0 or -EHOSTUNREACH. */
int node_next_hop(const struct node *n, const struct an_addr *dst, struct an_addr *ret_next);
/* Send p toward next (consumes p); the hop limit was checked. A packet for
 * this node itself waits in the self queue, charged to owner (0: nobody). */
void node_send(struct node *n, struct pkt *p, const struct an_addr *next, uint16_t owner);
/* Send p on toward its ANEP destination by default routing, taking a hop;
 * counter counts it when it leaves. */
void node_forward_by_route(struct node *n, struct pkt *p, struct wire_anep *a, uint64_t *counter);
/* A copy of p in a new buffer (NULL when the pool is empty). */
struct pkt *node_pkt_copy(struct node *n, const struct pkt *p);

/* The hop limit rule, on every path through the node: an arrival takes one
 * hop, once (0 or -ETIMEDOUT); a packet left with none may not be sent on. */
int node_take_hop(struct pkt *p, struct wire_anep *a);
bool node_may_leave(const struct pkt *p, const struct wire_anep *a);

/* ---- the rooms ---- */
int capsule_room_init(struct node *n);
int codeload_room_init(struct node *n);
void codeload_room_done(struct node *n);
int services_room_init(struct node *n);
void services_room_done(struct node *n);
int services_ctl(void *arg, int argc, char **argv, struct ctl_out *o);
void services_stats(struct node *n, struct stat_section *sec);
int services_events_ctl(void *arg, int argc, char **argv, struct ctl_out *o);
void services_reload(struct node *n);
void services_module_stats(struct node *n, struct stat_section *sec);
/* Where a capsule whose code is missing waits while it is fetched: 0
 * (consumed), or a negative errno and p is still the caller's. */
int codeload_park(struct node *n, struct pkt *p, const struct wire_capsule *cap);

/* ---- router.c ---- */
int router_start(struct node *n);
/* Send p as the verdict of the queued packet it came in, if it came in one
 * and that is still possible: true when it was (p consumed). */
bool router_send_as_verdict(struct node *n, struct pkt *p, const struct an_addr *next);
/* p is parked: hold its queued packet until it runs again. */
void router_hold(struct node *n, struct pkt *p);
/* Run a resumed capsule whose queued packet is held; its first send is the
 * held packet's verdict. Consumes p. */
void router_run_held(struct node *n, struct pkt *p);
/* Drop the held packet of a capsule that will not run (p->held cleared). */
void router_release_held(struct node *n, struct pkt *p);

/* ---- control.c, figures.c ---- */
extern const struct ctl_command node_ctl_commands[];
int figures_start(struct node *n);
void figures_stop(struct node *n);
int64_t figures_node_info(void *node, uint64_t what);

#endif
