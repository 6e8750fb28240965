/* SPDX-License-Identifier: MIT */
/*
 * Rooms: what a part of the node that handles a kind of traffic declares,
 * and what the node gives it. The node (node.c) owns the links, the
 * buffers, the loop, the table of ANEP Type IDs and the transmit API below;
 * everything else is a room, one folder each (src/capsule, src/codeload,
 * src/svc, src/concast, ...), with one descriptor:
 *
 *   static const struct room echo_room = {
 *           .name = "echo", .types = echo_types, .init = echo_init, ...
 *   };
 *   ROOM_REGISTER(echo_room);
 *
 * ROOM_REGISTER puts a pointer to the descriptor in the linker section
 * anode_rooms; the node walks that section (registry.c) for the Type ID
 * demux, the configuration directives and their help, the control
 * commands, the stats, the application link messages, the once-a-second
 * tick and reloads (SIGHUP). It never names a room. Adding one is a folder whose
 * meson.build adds its library to `room_libs`, and one `subdir()` line in
 * the top meson.build (anoded links room_libs whole, so that no
 * registration is left out by the linker).
 *
 * A room's state is its own: init returns it, every callback gets it back,
 * and struct node holds none of it. A room that uses another's service
 * (capsules and concast park packets with the code loader) finds its state
 * by name with node_room_state().
 */
#ifndef NODE_ROOM_H
#define NODE_ROOM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <sodium.h>

#include "core/conf.h"
#include "core/loop.h"
#include "core/pkt.h"
#include "core/stat.h"
#include "ctl/ctl.h"
#include "ee/ee.h"
#include "link/applink.h"
#include "link/link.h"
#include "node/config.h"
#include "node/counters.h"
#include "node/node.h"
#include "wire/wire.h"

struct route_table;
struct match_engine;
struct mon;
struct room;

/* ---- what a room declares ---- */

/* One ANEP Type ID a room handles. input consumes p on every path (sends,
 * delivers, keeps or drops it). expired (may be NULL): a packet of this
 * Type ID that waited for code (parked by the code loader) will not run,
 * for reason why; p stays the caller's, who drops it. */
struct room_type {
	uint16_t type_id; /* 0 ends a table */
	void (*input)(void *room, struct pkt *p, struct wire_anep *a);
	void (*expired)(void *room, struct pkt *p, int why);
};

/* An application link message type (src/wire/applink.c parses its body)
 * that a room serves. */
struct room_app_msg {
	uint8_t type; /* 0 ends a table */
	void (*fn)(void *room, uint64_t handle, const struct wire_applink *m);
};

struct room {
	const char *name;
	/* Start order, lower first (done in the reverse order); rooms that
	 * others use come first. */
	int rank;
	/* Configuration: the room's own struct of cfg_size octets, filled
	 * from its directives (core/conf.h) and handed to init. */
	size_t cfg_size;
	const struct conf_directive *directives;
	/* 0 with *ret_state set, or a negative errno after logging why; a
	 * state set before the failure is handed to done, which must take
	 * one half made. */
	int (*init)(struct node *n, const void *cfg, void **ret_state);
	void (*done)(void *room);      /* may be NULL */
	const struct room_type *types; /* may be NULL */
	/* Control commands: fn's argument is the room's state. */
	const struct ctl_command *commands; /* may be NULL */
	/* Stats: add sections with stat_list_add (may be NULL). */
	void (*stats)(void *room, struct stat_list *l);
	const struct room_app_msg *app_msgs;		 /* may be NULL */
	void (*app_closed)(void *room, uint64_t handle); /* may be NULL */
	/* Once a second, on the monitors' timer (may be NULL). */
	void (*tick)(void *room);
	/* A new configuration (SIGHUP, systemctl reload) is put in force as a
	 * whole or not at all: first every room is asked (apply false) whether
	 * it can take cfg, its new directives, and nc, the node's new
	 * configuration (with the policy's text); 0, or a negative errno with
	 * why filled, and nothing changes anywhere. Then (apply true) every
	 * room takes it and may not fail. NULL: the room's directives cannot
	 * change while it runs (a reload that changes them is refused). */
	int (*reconfigure)(void *room, const void *cfg, const struct node_config *nc, bool apply, char *why,
			   size_t whylen);
	/* Packets the room holds now, counted in the node's queue length. */
	size_t (*queued)(void *room);
	/* anoded -n: check what the room will read besides its directives
	 * and print it back (may be NULL): 0, or a negative errno with why in
	 * err. */
	int (*check)(const struct node_config *nc, const void *cfg, FILE *f, char *err, size_t errlen);
	/* A code object entered the node's code cache (its bytes, valid
	 * during the call) or left it (may be NULL): for a room that keeps
	 * code elsewhere in step with the cache (the kernel path). */
	void (*code_cached)(void *room, const uint8_t name[32], const struct ee_kind *kind, const void *elf,
			    size_t len);
	void (*code_gone)(void *room, const uint8_t name[32]);
};

#define ROOM_REGISTER(r)                                                                                               \
	static const struct room *const room_registration_##r                                                          \
	    __attribute__((used, section("anode_rooms"), aligned(sizeof(void *)))) = &(r)

/* ---- the registry (registry.c) ---- */

#define ROOMS_MAX NODE_ROOMS_MAX

/* Every room linked in, by rank then name. */
size_t rooms_count(void);
const struct room *rooms_at(size_t i);
/* The index of the room named name, or -1. */
int rooms_index(const char *name);

/* ---- the node, as the rooms see it ---- */

struct node_type {
	uint16_t type_id;
	const struct room *room;
	void *state;
	const struct room_type *t;
};
#define NODE_TYPES_MAX 32
#define NODE_LINKS_MAX 4

struct node {
	struct node_config cfg;
	struct loop *loop;
	struct pkt_pool *pool;
	struct link *udp;
	struct applink_server *apps;
	struct ctl_server *ctl;
	struct ctl_command *commands; /* the node's and the rooms' */
	struct ee *ee;
	struct route_table *routes;
	unsigned routes_changed; /* by 'route add|del' since the configuration was read */
	/* Links besides the network link that rooms added (node_link_add):
	 * the node reads them into node_input, shows their counters, and
	 * closes them. */
	struct link *links[NODE_LINKS_MAX];
	size_t n_links;
	struct node_type types[NODE_TYPES_MAX];
	size_t n_types;
	void *room_state[ROOMS_MAX]; /* by registry index; NULL when not (or no longer) running */
	bool room_up[ROOMS_MAX];
	/* Router mode (router.c): capsules come from the matching engine's
	 * queue, and the first send of a queued packet is its verdict. */
	struct match_engine *match;
	struct priv_chan *priv; /* to the privileged parent, when there is one */
	int fatal;		/* a negative errno that stopped the node, or 0 */
	uint8_t *q_scratch;	/* where a held packet's verdict is built */
	struct node_counters c;
	struct pkt_queue rx_q;	   /* received, left for the next round when a slice ran out */
	struct pkt_queue self_q;   /* capsules code here sent to this node */
	struct pkt_queue resume_q; /* parked packets whose code came, to run */
	struct an_addr local;
	uint64_t started_ns;
	struct mon *mon; /* the node's figures, sampled (src/mon) */
};

/* Put nc in force as a whole: routes, limits, every room's directives and
 * the policy (each room's reconfigure), or nothing, with why (what cannot
 * change without a restart, or what a room refused). 0 or a negative
 * errno. */
int node_reconfigure(struct node *n, const struct node_config *nc, char *why, size_t whylen);

/* The state of the running room named name, or NULL. */
void *node_room_state(struct node *n, const char *name);

/* A parked packet will not run: its room hears why (the caller drops p). */
void node_parked_expired(struct node *n, struct pkt *p, int why);
/* A parked packet whose code came: it runs again from the resume queue, a
 * slice at a time (consumes p). */
void node_resume(struct node *n, struct pkt *p);
/* Run a packet through the node: ANEP parse, then its Type ID's room, or
 * the ANEP flag for a Type ID no room handles. Consumes p. */
void node_input(struct node *n, struct pkt *p);

/* ---- the transmit API ---- */

/* Count a drop and return the buffer; an application whose own capsule
 * was dropped at its node hears why. */
void node_drop(struct node *n, struct pkt *p, uint64_t *counter, int why);
/* The next hop toward dst: the routing table in overlay mode, dst itself in
 * router mode (the kernel routes). 0 or -EHOSTUNREACH. */
int node_next_hop(const struct node *n, const struct an_addr *dst, struct an_addr *ret_next);
/* Send p toward next (consumes p); the hop limit was checked. A packet for
 * this node itself waits in the self queue, charged to owner (0: nobody).
 * In router mode the first send of a queued packet is its verdict. */
void node_send(struct node *n, struct pkt *p, const struct an_addr *next, uint16_t owner);
/* Send p straight to a neighbour on the network link, never as a verdict
 * or to the self queue (answers to whoever asked: code chunks). Consumes
 * p. */
void node_send_link(struct node *n, struct pkt *p, const struct an_addr *to);
/* Add an ingress and egress link a room opened (the IP link: link/ip.h):
 * what it receives goes through node_input like any packet; the node
 * owns it from now on (closed with the node, whatever the return). 0 or
 * -ENOSPC. */
int node_link_add(struct node *n, struct link *l);
/* Send p on link l toward next (consumes p): its metadata says what the
 * link needs beyond the bytes (the IP link: source, AppID, Router Alert). */
void node_send_on(struct node *n, struct link *l, struct pkt *p, const struct an_addr *next);
/* Send p on toward its ANEP destination by default routing, taking a hop;
 * counter counts it when it leaves. */
void node_forward_by_route(struct node *n, struct pkt *p, struct wire_anep *a, uint64_t *counter);
/* Deliver a capsule's data from code object `code` to an application, or
 * send it a message of the application link (a reply, a room's delivery):
 * 0, -ENOTCONN (gone) or -EAGAIN (it does not keep up). */
int node_app_deliver(struct node *n, uint64_t app, const uint8_t code[32], const void *data, size_t len);
int node_app_send(struct node *n, uint64_t app, uint8_t type, int32_t status, const void *body, size_t len);
/* A copy of p in a new buffer (NULL when the pool is empty). */
struct pkt *node_pkt_copy(struct node *n, const struct pkt *p);

/* The hop limit rule, on every path through the node: an arrival takes one
 * hop, once (0 or -ETIMEDOUT); a packet left with none may not be sent on. */
int node_take_hop(struct pkt *p, struct wire_anep *a);
/* Every figure of the node and its rooms, as `anode stats` prints them, in
 * format, appended to o (whose buffer the caller frees): 0 or -ENOMEM. */
int node_stats(struct node *n, enum ctl_format format, struct ctl_out *o);
bool node_may_leave(const struct pkt *p, const struct wire_anep *a);

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
