/* SPDX-License-Identifier: MIT */
/*
 * What the subcommands of the `anode` CLI share: how a node named on the
 * command line is found (a running lab's node name, or socket paths), where
 * the shipped code objects are, and small output helpers.
 */
#ifndef TOOLS_CLI_H
#define TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "anode/anode.h"

#define CLI_PATH_MAX 108

/* A node of a running lab, or one given by its sockets. */
struct cli_node {
	char name[65];
	char lab[65];
	struct an_addr addr;
	bool have_addr;
	char app_path[CLI_PATH_MAX];
	char ctl_path[CLI_PATH_MAX];
	int pid;
};

/* The directory under which labs keep their state: $ANODE_RUN_DIR, or
 * /tmp/anode-UID. */
const char *cli_run_dir(void);

/* Find a node: a node name of a running lab ($ANODE_LAB picks the lab when
 * several have that name), a node address of a running lab, or the path of
 * an application socket (NAME.app, with NAME.ctl beside it). 0, or -ENOENT
 * after printing why. */
int cli_node_find(const char *spec, struct cli_node *ret);
/* A destination: a node name or address of a running lab, or an address. */
int cli_dest_find(const char *spec, const char *lab, struct an_addr *ret, char *ret_label, size_t label_len);

/* The lab's nodes file, one node per line. */
int cli_lab_read(const char *lab_dir, struct cli_node **ret, size_t *ret_n);

/* Path of a shipped code object (ping.ao, ...): $ANODE_CODE_DIR, the build
 * tree, then the installed data directory. */
int cli_code_path(const char *file, char *ret, size_t len);
/* Read a shipped code object, insert it into the node, return its name. */
int cli_code_insert(struct an_link *l, const char *file, uint8_t ret_name[AN_NAME_LEN], void **ret_code,
		    size_t *ret_len);

/* Connect to the node's application socket, printing why not. */
struct an_link *cli_link_open(const struct cli_node *n);

/* Send a control command; prints the node's error. 0 and *ret_body. */
int cli_ctl(const struct cli_node *n, const char *cmd, char **ret_body);

/* Subcommands. argv[0] is the subcommand's name. */
int cmd_lab(const char *node, int argc, char **argv);
int cmd_ping(const char *node, int argc, char **argv);
int cmd_flood(const char *node, int argc, char **argv);
int cmd_trace(const char *node, int argc, char **argv);
int cmd_code(const char *node, int argc, char **argv);
int cmd_stats(const char *node, int argc, char **argv);
int cmd_routes(const char *node, int argc, char **argv);
int cmd_info(const char *node, int argc, char **argv);

#endif
