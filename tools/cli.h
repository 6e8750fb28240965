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
#include <stdint.h>
#include <stdio.h>

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

/* s as a JSON string on f: quotes, backslashes and control characters
 * escaped (paths come from the environment). */
void cli_json_string(FILE *f, const char *s);

/* The lab's nodes file, one node per line. */
int cli_lab_read(const char *lab_dir, struct cli_node **ret, size_t *ret_n);

/*
 * anode lab: a parsed topology file, shared by the overlay lab (cmd_lab.c)
 * and the namespace lab (lab_netns.c). Hosts exist only in namespace labs;
 * they are vertices of the graph too, but leaves, so no shortest path
 * between two routers crosses one.
 */
#define LAB_MAX_NODES 64
#define LAB_NAME_MAX 64
#define LAB_MAX_LINKS (LAB_MAX_NODES * (LAB_MAX_NODES - 1) / 2)

#define LAB_NODE_SETS 8
#define LAB_SET_LEN 128

struct lab_node {
	char name[LAB_NAME_MAX + 1];
	/* Configuration lines `set NODE KEY VALUE` adds to its anoded.conf. */
	char sets[LAB_NODE_SETS][LAB_SET_LEN];
	size_t n_sets;
	struct an_addr addr; /* overlay address; in a namespace lab, node address and port 3322 */
	bool fixed_addr;
	bool is_host;
	bool is_plain; /* a router without anoded (namespace labs): kernel forwarding only */
	int fd;
	int pid;
};

struct lab_link {
	int a, b;	  /* indices into nodes, in the order the file names them */
	uint64_t rate_bps; /* 0: not limited */
};

struct lab_topo {
	struct lab_node nodes[LAB_MAX_NODES];
	size_t n;
	bool adj[LAB_MAX_NODES][LAB_MAX_NODES];
	struct lab_link links[LAB_MAX_LINKS];
	size_t n_links;
	uint32_t subnet; /* namespace labs' address space, host byte order */
	unsigned subnet_len;
};

/* Breadth-first search from s: ret_first_hop[d] is the neighbour of s on a
 * shortest path to d (-1: s itself or unreachable); ret_dist[d] the number
 * of links (-1: unreachable). ret_dist may be NULL. */
void lab_shortest_paths(const struct lab_topo *t, size_t s, int *ret_first_hop, int *ret_dist);
/* The anoded to start: $ANODED, the build tree, the installed one, PATH. */
const char *lab_anoded_path(void);

/* Namespace labs (lab_netns.c). lab_netns_up builds the network (and, with
 * start_nodes, writes configurations and starts anoded in each router's
 * namespace, setting pid) and records every namespace it creates in
 * DIR/netns as it goes, so that lab_netns_remove can undo a partial lab.
 * 0, or negative after printing why. */
int lab_netns_up(struct lab_topo *t, const char *file, const char *lab, const char *dir, bool start_nodes,
		 bool ospf);
/* Whether a namespace the lab in DIR recorded still exists. */
bool lab_netns_present(const char *dir);
/* Delete the namespaces the lab in DIR recorded (which deletes their veths
 * and qdiscs): how many it deleted, or negative if one is left. */
int lab_netns_remove(const char *dir);
void lab_netns_status(const char *dir);
/* The same as members of a JSON object: ,"routing":..,"namespaces":[..],
 * "links":[..] (nothing for an overlay lab). */
void lab_netns_status_json(const char *dir, FILE *f);
/* Routing daemons in a namespace lab (lab_ospf.c): FRR's zebra and ospfd
 * per router, in /run/frr/NS. */
struct lab_ospf_router {
	const char *name, *ns;
	uint32_t addr; /* node address, host byte order */
	struct {
		const char *name;
		bool to_host;
	} ifs[LAB_MAX_NODES];
	size_t n_ifs;
};
/* Whether FRR is installed; says why not. */
int lab_ospf_check(void);
int lab_ospf_start(const struct lab_ospf_router *r);
/* Wait until every router has a route to every other router's node
 * address: the milliseconds it took, or -ETIMEDOUT after saying so. */
int lab_ospf_wait(const struct lab_ospf_router *r, size_t n, int timeout_ms);
/* Stop a router's daemons (by their PID files) and remove their
 * directory: how many daemons it stopped. */
int lab_ospf_stop(const char *ns);
/* Run argv in the namespace of a router or host of the lab in DIR; returns
 * only on failure. */
int lab_netns_exec(const char *dir, const char *lab, const char *name, char **argv);

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

/* What ping, flood and trace share (tools/app.c): the node, the
 * destination, a link with the portmapper and the command's code inserted,
 * and a port bound for the answers. */
struct cli_app {
	struct cli_node node;
	struct an_addr dst;
	char dst_label[65]; /* the destination's node name, or its address */
	char dst_text[64]; /* its address */
	struct an_link *link;
	uint8_t pm[AN_NAME_LEN]; /* the portmapper's name */
	uint8_t code[AN_NAME_LEN]; /* the command's code object */
	void *code_bytes;
	size_t code_len;
	uint32_t port;
};

/* code: a shipped code object's file name, or a path when user_path. 0, or
 * a negative errno after printing why (nothing left open). */
int cli_app_open(struct cli_app *a, const char *cmd, const char *node, const char *dest, const char *code,
		 bool user_path);
/* Release the port, close the link. */
void cli_app_close(struct cli_app *a);
/* The node dropped one of our capsules because it no longer has our code
 * (its cache evicted it): say so, insert the portmapper and our code again
 * and bind our port again. 0, or a negative errno after printing why. At
 * most a few times a second, so that a node that keeps refusing is not
 * flooded with inserts. */
int cli_app_code_gone(struct cli_app *a, const char *cmd);

/* Subcommands. argv[0] is the subcommand's name. */
int cmd_lab(const char *node, int argc, char **argv);
int cmd_ping(const char *node, int argc, char **argv);
int cmd_flood(const char *node, int argc, char **argv);
int cmd_trace(const char *node, int argc, char **argv);
int cmd_code(const char *node, int argc, char **argv);
int cmd_stats(const char *node, int argc, char **argv);
int cmd_routes(const char *node, int argc, char **argv);
int cmd_route(const char *node, int argc, char **argv);
int cmd_info(const char *node, int argc, char **argv);
int cmd_key(const char *node, int argc, char **argv);
/* The key file to sign with when none is named: $ANODE_KEY, else
 * ~/.config/anode/key (written into buf). */
const char *cli_key_default_path(char *buf, size_t len);
/* The Ed25519 secret key (libsodium layout) of a key file. 0, or a
 * negative errno after saying why. */
int cli_key_load(const char *path, uint8_t sk[64]);
int cmd_svc(const char *node, int argc, char **argv);
int cmd_signal(const char *node, int argc, char **argv);
int cmd_events(const char *node, int argc, char **argv);
int cmd_kernel(const char *node, int argc, char **argv);
int cmd_concast(const char *node, int argc, char **argv);

#endif
