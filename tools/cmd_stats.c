// SPDX-License-Identifier: MIT
/*
 * anode stats / routes / info: a running node's counters, routing table and
 * identity, read over its control socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int ctl_print(const char *node, const char *cmd, const char *usage, int argc, char **argv)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else {
			fputs(usage, stderr);
			return 2;
		}
	}
	struct cli_node n;
	if (cli_node_find(node, &n) < 0)
		return 1;
	char line[64], *body;
	snprintf(line, sizeof(line), "%s%s", cmd, json ? " json" : "");
	if (cli_ctl(&n, line, &body) < 0)
		return 1;
	fputs(body, stdout);
	free(body);
	return 0;
}

int cmd_stats(const char *node, int argc, char **argv)
{
	return ctl_print(node, "stats",
			 "Usage: anode -n NODE stats [--json]\n\n"
			 "NODE's counters: capsules received, injected by applications, run,\n"
			 "forwarded, delivered, consumed, and dropped by reason; its link, code\n"
			 "cache, application links and packet buffers.\n",
			 argc, argv);
}

int cmd_routes(const char *node, int argc, char **argv)
{
	return ctl_print(node, "routes", "Usage: anode -n NODE routes\n\nNODE's routing table: next hop per destination.\n",
			 argc, argv);
}

int cmd_info(const char *node, int argc, char **argv)
{
	return ctl_print(node, "info", "Usage: anode -n NODE info [--json]\n\nNODE's name, address and sockets.\n",
			 argc, argv);
}
