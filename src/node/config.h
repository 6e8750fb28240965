/* SPDX-License-Identifier: MIT */
/*
 * A node's configuration file: one directive per line, '#' comments. The
 * node's own directives are the table in config.c; every room adds its
 * own (struct room: directives, cfg_size), kept in room_cfg by the room's
 * registry index. `anoded -h` writes the help of all of them, `anoded -n`
 * prints them back, anoded.conf(5) is made from the help.
 */
#ifndef NODE_CONFIG_H
#define NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "anode/addr.h"
#include "core/conf.h"

#define NODE_NAME_MAX 32 /* the matching engine tags its rules with it */

/* The node's own defaults (the EE's are its own). */
#define NODE_DEFAULT_BUFFERS 1024
#define NODE_DEFAULT_LINK_CAPACITY 1000000000ull
#define NODE_DEFAULT_QUEUE 3322
#define NODE_DEFAULT_BUFFER_SHARE 25
#define NODE_DEFAULT_USER "nobody"
#define NODE_DEFAULT_SOCKET_GROUP "anode" /* when it exists (the Debian package makes it) */
#define NODE_USER_MAX 32
#define NODE_PATH_MAX CONF_PATH_MAX
#define NODE_ROOMS_MAX 16

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
	char socket_group[NODE_USER_MAX + 1]; /* the group the sockets are given to (may look and use) */
	char admin_group[NODE_USER_MAX + 1];  /* the group that may also change the node */
	/* The control module's policy: principals, their keys and grants,
	 * read by every room that authenticates requests; empty: none. */
	char policy_path[NODE_PATH_MAX];
	/* The policy's text, as read when the configuration was (by the
	 * privileged parent, in router mode): the one copy every room parses;
	 * NULL without a policy. */
	char *policy_text;
	size_t policy_len;
	char config_path[NODE_PATH_MAX * 2]; /* where this configuration came from (for errors) */
	size_t cache_objects, cache_bytes, state_entries, buffers;
	size_t run_budget, code_buffer_share;
	size_t link_capacity_bps;
	struct node_route *routes;
	size_t n_routes;
	/* Each room's own configuration, by registry index (malloc'ed). */
	void *room_cfg[NODE_ROOMS_MAX];
};

/* Whether a node name is 1 to NODE_NAME_MAX letters, digits, '-' or '_':
 * safe in JSON, logs and rule comments. */
bool node_name_ok(const char *name);

/* 0, or -EINVAL with a message naming the file and line in err. The
 * policy's text is not read (node_config_read_policy). */
int node_config_load(const char *path, struct node_config *ret, char *err, size_t errlen);
/* The same from text in memory, named name in errors. */
int node_config_parse(const char *text, size_t len, const char *name, struct node_config *ret, char *err,
		      size_t errlen);
/* Read the file policy_path names into policy_text (none: NULL). 0, or a
 * negative errno with why in err. */
int node_config_read_policy(struct node_config *c, char *err, size_t errlen);
/* A whole file (at most 1 MiB) into a malloc'ed, NUL-ended buffer. */
int node_file_read(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen);
/* A deep copy: 0 or -ENOMEM. */
int node_config_copy(const struct node_config *src, struct node_config *ret);
void node_config_print(const struct node_config *c, FILE *f);
/* The help of every directive, the node's then each room's. */
void node_config_help(FILE *f);
void node_config_done(struct node_config *c);

#endif
