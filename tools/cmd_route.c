// SPDX-License-Identifier: MIT
/*
 * anode route / routes: show a node's routing table with the names of the
 * lab's nodes beside their addresses, and change an overlay node's table
 * while it runs. The node answers in text ("DEST via NEXT" lines); this
 * file adds the names and writes text or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char route_usage[] =
    "Usage: anode -n NODE route show [--json]\n"
    "       anode -n NODE route add DEST [via] NEXT\n"
    "       anode -n NODE route del DEST\n"
    "       anode -n NODE routes [--json]           (the same as route show)\n"
    "\n"
    "An overlay node's routing table: the next hop (a neighbour node, ADDR:PORT)\n"
    "for each destination node, and an optional default. DEST and NEXT are node\n"
    "names of NODE's lab or addresses; DEST may be 'default'.\n"
    "\n"
    "  show    one line per route, 'DEST via NEXT', with the lab's name for each\n"
    "          address beside it, then the default; --json prints\n"
    "          {\"node\":..,\"mode\":..,\"routes\":[{\"destination\":..,\"destination_name\":..,\n"
    "          \"via\":..,\"via_name\":..}],\"default\":{\"via\":..,\"via_name\":..} or null}\n"
    "          (a name is null where the lab has none)\n"
    "  add     add the route, or replace the next hop of DEST's route\n"
    "  del     remove DEST's route (an error if it has none)\n"
    "\n"
    "add and del change the running table at once, for capsules that arrive next;\n"
    "they need root, the node's own user or the node's admin group (anoded(8):\n"
    "admin-group), and are logged. A reload of the configuration (SIGHUP)\n"
    "rebuilds the table from the configuration's 'route' lines and drops them:\n"
    "put lasting routes in the configuration.\n"
    "\n"
    "Router mode has no table: capsules follow the kernel's routes, which 'ip\n"
    "route' or a routing daemon (anode lab up --netns --routing ospf runs FRR)\n"
    "keeps; route show says so, add and del are refused.\n"
    "\n"
    "Examples (examples/line3.topo: a - b - c):\n"
    "  anode -n a route show\n"
    "  anode -n a route del c          # capsules from a to c now drop: no route\n"
    "  anode -n a route add c via b\n";

/* The lab's name for an address, or NULL. */
static const char *name_of(const struct cli_node *nodes, size_t n, const struct an_addr *a)
{
	for (size_t i = 0; i < n; i++)
		if (nodes[i].have_addr && an_addr_eq(&nodes[i].addr, a))
			return nodes[i].name;
	return NULL;
}

static void json_name(const char *name)
{
	/* Lab names are letters, digits, - and _ (cmd_lab.c): no escaping. */
	if (name)
		printf("\"%s\"", name);
	else
		printf("null");
}

static int route_show(const struct cli_node *node, bool json)
{
	char *body;
	if (cli_ctl(node, "routes", &body) < 0)
		return 1;
	struct cli_node *labn = NULL;
	size_t n_labn = 0;
	if (node->lab[0]) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), node->lab);
		if (cli_lab_read(dir, &labn, &n_labn) < 0)
			n_labn = 0;
	}
	bool router = strncmp(body, "router mode", 11) == 0, first = true, dflt = false;
	if (json)
		printf("{\"node\":\"%s\",\"mode\":\"%s\",\"routes\":[", node->name, router ? "router" : "overlay");
	else if (router)
		fputs(body, stdout);
	char *save = NULL;
	for (char *line = router ? NULL : strtok_r(body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dst[80], via[80];
		struct an_addr d = {0}, v;
		if (sscanf(line, "%79s via %79s", dst, via) != 2 || an_addr_parse(via, &v) < 0 ||
		    (strcmp(dst, "default") != 0 && an_addr_parse(dst, &d) < 0)) {
			fprintf(stderr, "anode: node %s answered a line that is not a route: %s\n", node->name, line);
			continue;
		}
		bool is_default = strcmp(dst, "default") == 0;
		const char *dn = is_default ? NULL : name_of(labn, n_labn, &d), *vn = name_of(labn, n_labn, &v);
		if (!json) {
			char left[100];
			snprintf(left, sizeof(left), "%s%s%s%s", dst, dn ? " (" : "", dn ? dn : "", dn ? ")" : "");
			printf("%-32s via %s%s%s%s\n", left, via, vn ? " (" : "", vn ? vn : "", vn ? ")" : "");
		} else if (is_default) {
			printf("],\"default\":{\"via\":\"%s\",\"via_name\":", via);
			json_name(vn);
			printf("}");
			dflt = true;
		} else {
			printf("%s{\"destination\":\"%s\",\"destination_name\":", first ? "" : ",", dst);
			json_name(dn);
			printf(",\"via\":\"%s\",\"via_name\":", via);
			json_name(vn);
			printf("}");
			first = false;
		}
	}
	if (json)
		printf("%s}\n", dflt ? "" : "],\"default\":null");
	free(body);
	free(labn);
	return 0;
}

/* A node name of the lab or an address, as the node takes it. */
static int to_addr(const struct cli_node *node, const char *spec, char *buf, size_t len)
{
	struct an_addr a;
	char label[80];
	if (strcmp(spec, "default") == 0) {
		snprintf(buf, len, "default");
		return 0;
	}
	if (cli_dest_find(spec, node->lab[0] ? node->lab : NULL, &a, label, sizeof(label)) < 0)
		return -ENOENT;
	an_addr_format(&a, buf, len);
	return 0;
}

int cmd_route(const char *node_spec, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(route_usage, stdout);
			return 0;
		}
	const char *verb = argc > 1 ? argv[1] : "show";
	bool json = false;
	if (strcmp(verb, "show") == 0) {
		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--json") != 0) {
				fprintf(stderr, "anode route: unexpected '%s' (see anode route -h)\n", argv[i]);
				return 2;
			}
			json = true;
		}
	} else {
		bool via = argc == 5 && strcmp(argv[3], "via") == 0;
		if (!((strcmp(verb, "add") == 0 && (argc == 4 || via)) || (strcmp(verb, "del") == 0 && argc == 3))) {
			fputs(route_usage, stderr);
			return 2;
		}
	}
	struct cli_node node;
	if (cli_node_find(node_spec, &node) < 0)
		return 1;
	if (strcmp(verb, "show") == 0)
		return route_show(&node, json);
	char dst[80], next[80] = "", cmd[200], *body;
	if (to_addr(&node, argv[2], dst, sizeof(dst)) < 0 ||
	    (strcmp(verb, "add") == 0 && to_addr(&node, argv[argc - 1], next, sizeof(next)) < 0))
		return 1;
	snprintf(cmd, sizeof(cmd), "route %s %s%s%s", verb, dst, next[0] ? " " : "", next);
	if (cli_ctl(&node, cmd, &body) < 0)
		return 1;
	free(body);
	return 0;
}

int cmd_routes(const char *node_spec, int argc, char **argv)
{
	/* "routes ARGS" is "route show ARGS": the same checks, one place. */
	char **show = calloc((size_t)argc + 2, sizeof(*show));
	if (!show)
		return 1;
	show[0] = argv[0];
	show[1] = "show";
	memcpy(show + 2, argv + 1, (size_t)(argc - 1) * sizeof(*show));
	int r = cmd_route(node_spec, argc + 1, show);
	free(show);
	return r;
}
