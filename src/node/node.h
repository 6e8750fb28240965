/* SPDX-License-Identifier: MIT */
/*
 * One anode node (overlay mode): links, ANEP demux, capsule EE, routes,
 * application links, control socket and counters, on one event loop.
 */
#ifndef NODE_NODE_H
#define NODE_NODE_H

#include "core/loop.h"
#include "node/config.h"
#include "node/counters.h"

struct node;

/* A node as configured; udp_fd >= 0 is an already bound UDP socket to use
 * instead of binding cfg->listen. In router mode, priv_fd >= 0 is the
 * node child's end of the socket pair with its privileged parent, which
 * binds queues and installs rules (src/priv); with -1 the node does both
 * itself (it must be root). NULL after logging why. */
struct node *node_new(const struct node_config *cfg, int udp_fd, int priv_fd);
/* SIGHUP: read the configuration file and the policy again and put them in
 * force as a whole, or keep the ones in force and log why (overlay mode;
 * a router node's child takes them from its parent). */
void node_reload(struct node *n);
int node_run(struct node *n); /* until loop_stop(node_loop(n)) */
struct loop *node_loop(struct node *n);
const struct an_addr *node_addr(const struct node *n);
void node_free(struct node *n);

/* For tests and fuzzers that run a node in their own process: its network
 * link is what open_link makes (a memory link, link/mem.h) at cfg->listen
 * with the node's pool, instead of a UDP socket; no privileged parent. The
 * application and control sockets are opened as configured. */
struct link;
struct pkt_pool;
typedef struct link *(*node_link_open_fn)(const struct an_addr *local, struct pkt_pool *pool, void *arg);
struct node *node_new_with_link(const struct node_config *cfg, node_link_open_fn open_link, void *arg);
struct link *node_link(struct node *n);
struct pkt_pool *node_pool(struct node *n);

#endif
