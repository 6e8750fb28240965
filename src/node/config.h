/* SPDX-License-Identifier: MIT */
/*
 * A node's configuration file: one directive per line, '#' comments.
 *
 *   name a                       node name (for people and logs)
 *   mode overlay                 overlay (UDP links between nodes) or router
 *                                (capsules in IP, intercepted with NFQUEUE)
 *   queue 3322                   router mode: the first NFQUEUE number to use
 *   user nobody                  router mode: who the node child runs as
 *   listen 127.0.0.1:3322        UDP overlay address (unless a socket is inherited)
 *   app-socket /run/anode/a.app  application link socket
 *   ctl-socket /run/anode/a.ctl  control socket
 *   policy /etc/anode/policy     the control module's policy (services; none
 *                                when absent: every service request refused)
 *   cache-objects 64             code cache: objects kept
 *   cache-bytes 4194304          code cache: bytes of code kept
 *   state-entries 4096           soft state entries per code object
 *   buffers 1024                 packet buffers (bounds memory and queues)
 *   link-capacity 1000000000     bits/s reported as the link's capacity
 *   park-per-code 32             capsules parked per code object being fetched
 *   park-total 256               capsules parked in all
 *   fetch-retry-ms 100           ask again for missing code chunks after
 *   fetch-timeout-ms 3000        drop parked capsules after
 *   run-budget 100000            work units one capsule may use at this node
 *   max-copies 16                largest copy budget a capsule keeps here
 *   code-buffer-share 25         percent of the buffers one code object's
 *                                capsules may hold
 *   route DEST NEXT-HOP          next hop toward a node address
 *   route default NEXT-HOP       next hop for every other address
 */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "anode/addr.h"

#define NODE_NAME_MAX 32 /* the matching engine tags its rules with it */

/* The node's own defaults (the EE's and the fetcher's are theirs). */
#define NODE_DEFAULT_BUFFERS 1024
#define NODE_DEFAULT_LINK_CAPACITY 1000000000ull
#define NODE_DEFAULT_QUEUE 3322
#define NODE_DEFAULT_MAX_COPIES 16
#define NODE_DEFAULT_BUFFER_SHARE 25
#define NODE_DEFAULT_USER "nobody"
#define NODE_USER_MAX 32
#define NODE_PATH_MAX 108 /* sun_path */

struct node_route {
	struct an_addr dst, next;
	bool is_default;
};

struct node_config {
	char name[NODE_NAME_MAX + 1];
	bool router; /* mode router */
	size_t queue;
	char user[NODE_USER_MAX + 1]; /* router mode: the node child's user */
	bool have_listen;
	struct an_addr listen;
	char app_path[NODE_PATH_MAX];
	char ctl_path[NODE_PATH_MAX];
	char policy_path[NODE_PATH_MAX]; /* empty: no services */
	size_t cache_objects, cache_bytes, state_entries, buffers;
	size_t park_per_code, park_total, fetch_retry_ms, fetch_timeout_ms;
	size_t run_budget, max_copies, code_buffer_share;
	size_t link_capacity_bps;
	/* Concast (src/concast): flows, upstream neighbours per flow, tags in
	 * merge per flow, keep-alive period. */
	size_t concast_flows, concast_upstream, concast_tags, concast_keepalive_ms;
	bool concast_ip; /* router mode: concast on IP with Router Alert (default), else ANEP over UDP */
	struct node_route *routes;
	size_t n_routes;
};

/* Whether a node name is 1 to NODE_NAME_MAX letters, digits, '-' or '_':
 * safe in JSON, logs and rule comments. */
bool node_name_ok(const char *name);

/* 0, or -EINVAL with a message naming the file and line in err. */
int node_config_load(const char *path, struct node_config *ret, char *err, size_t errlen);
void node_config_print(const struct node_config *c, FILE *f);
void node_config_done(struct node_config *c);

#endif
