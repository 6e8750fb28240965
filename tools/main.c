// SPDX-License-Identifier: MIT
/*
 * anode: the command line for anode nodes and labs. One subcommand per
 * file, dispatched from the table below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anode-config.h"
#include "cli.h"

struct subcommand {
	const char *name;
	int (*fn)(const char *node, int argc, char **argv);
	const char *summary;
};

static const struct subcommand subcommands[] = {
	{ "lab", cmd_lab, "start, show or stop a topology of nodes on this machine" },
	{ "ping", cmd_ping, "active ping: round trips measured by capsules" },
	{ "flood", cmd_flood, "active flood: push capsules, count them in soft state" },
	{ "trace", cmd_trace, "active traceroute: collect node resources along a path" },
	{ "code", cmd_code, "build, name, insert, list and remove code objects" },
	{ "stats", cmd_stats, "a node's counters" },
	{ "routes", cmd_routes, "a node's routing table (route show)" },
	{ "route", cmd_route, "show an overlay node's routes; add and remove them while it runs" },
	{ "info", cmd_info, "a node's name, address and sockets" },
	{ "key", cmd_key, "make Ed25519 keys for signing service requests" },
	{ "svc", cmd_svc, "signed requests to a node's services: activate, stop, list ..." },
	{ "signal", cmd_signal, "on-path signalling: probe the anode nodes toward a destination" },
	{ "events", cmd_events, "the events a node's monitors sent to its services" },
	{ "kernel", cmd_kernel, "a router node's kernel path: on or off, and the code it runs" },
	{ "concast", cmd_concast, "merge many senders' messages in the network: listen, join, flows" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fputs("Usage: anode [-n NODE] COMMAND [ARGS...]\n"
	      "\n"
	      "anode is an active network: capsules that name eBPF code objects run at\n"
	      "every node they cross. This command starts labs of nodes and talks to them.\n"
	      "\n"
	      "  -n NODE   the node to act on: a node name of a running lab (set ANODE_LAB\n"
	      "            when several labs are up), or the path of its NAME.app socket\n"
	      "  -h        this text; 'anode COMMAND -h' explains a command\n"
	      "  -V        print the version\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (const struct subcommand *s = subcommands; s->name; s++)
		fprintf(f, "  %-7s %s\n", s->name, s->summary);
	fputs("\n"
	      "Example:\n"
	      "  anode lab up examples/line3.topo\n"
	      "  anode -n a ping c -c 3\n"
	      "  anode -n a flood c -t 2\n"
	      "  anode -n a trace c --json\n"
	      "  anode -n b stats\n"
	      "  anode lab down examples/line3.topo\n"
	      "\n"
	      "Environment: ANODE_RUN_DIR (lab state, default /tmp/anode-UID), ANODE_LAB,\n"
	      "ANODE_CODE_DIR (shipped code objects), ANODED (the anoded to start).\n",
	      f);
}

int main(int argc, char **argv)
{
	const char *node = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
			node = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("anode %s\n", ANODE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "anode: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	for (const struct subcommand *s = subcommands; s->name; s++)
		if (strcmp(s->name, argv[i]) == 0) {
			/* -h or --help anywhere among a command's arguments (up to
			 * a "--", after which they are another program's, as in
			 * lab exec) asks for the command's usage, on stdout, with
			 * exit 0 and nothing else done: no node is asked, no file
			 * read, no lab started. */
			for (int k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
				if (strcmp(argv[k], "-h") == 0 || strcmp(argv[k], "--help") == 0) {
					char *help[] = {argv[i], (char *)"-h", NULL};
					return s->fn(NULL, 2, help);
				}
			return s->fn(node, argc - i, argv + i);
		}
	fprintf(stderr, "anode: unknown command '%s' (see anode -h)\n", argv[i]);
	return 2;
}
