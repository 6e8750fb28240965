// SPDX-License-Identifier: MIT
/*
 * anode stats / info: a running node's counters and identity, read over
 * its control socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static int ctl_print(const char *node, const char *cmd, const char *usage, int argc, char **argv)
{
	const char *format = "";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			format = " json";
		} else if (strcmp(cmd, "stats") == 0 &&
			   (strcmp(argv[i], "--prometheus") == 0 || strcmp(argv[i], "--openmetrics") == 0)) {
			format = " prometheus";
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
	snprintf(line, sizeof(line), "%s%s", cmd, format);
	if (cli_ctl(&n, line, &body) < 0)
		return 1;
	fputs(body, stdout);
	free(body);
	return 0;
}

int cmd_stats(const char *node, int argc, char **argv)
{
	return ctl_print(node, "stats",
			 "Usage: anode -n NODE stats [--json | --prometheus]\n\n"
			 "NODE's counters: capsules received, injected by applications, run,\n"
			 "forwarded, delivered, consumed, and dropped by reason; its link, code\n"
			 "cache, application links and packet buffers; each room's.\n"
			 "  --json        one JSON object: the node's name, mode and link kind, then\n"
			 "                an object per section of its counters and figures\n"
			 "  --prometheus  the Prometheus text format (0.0.4), for node_exporter's\n"
			 "                textfile collector or a push: anode_SECTION_NAME, counters\n"
			 "                with _total, each with its help; every sample is labelled\n"
			 "                node, mode and link_kind (--openmetrics is the same)\n"
			 "Example, every 15 s from a timer (written aside, then renamed, so that the\n"
			 "collector never reads half a file):\n"
			 "  f=/var/lib/prometheus/node-exporter/anode-r1.prom\n"
			 "  anode -n r1 stats --prometheus > $f.new && mv $f.new $f\n",
			 argc, argv);
}

int cmd_info(const char *node, int argc, char **argv)
{
	return ctl_print(node, "info", "Usage: anode -n NODE info [--json]\n\nNODE's name, address and sockets.\n",
			 argc, argv);
}

static const char events_usage[] =
	"Usage: anode -n NODE events [--follow] [--json]\n"
	"\n"
	"The events NODE's monitors sent to its services (seed 000 §3.1), oldest\n"
	"first, one per line: sequence number, time (UTC; with --json, seconds since\n"
	"the epoch), and the event: the service and user it went to, the resource,\n"
	"its new and previous state and the value that moved it. The node keeps the\n"
	"last 256.\n"
	"--follow keeps printing new ones as they come (until interrupted);\n"
	"--json prints one JSON object per line.\n";

/* The sequence number of the last line of an events answer. */
static unsigned long long last_seq(const char *body, bool json, unsigned long long prev)
{
	unsigned long long seq = prev;
	for (const char *l = body; *l;) {
		const char *p = json ? strstr(l, "\"seq\":") : l;
		if (p && (!json || p < l + strcspn(l, "\n")))
			seq = strtoull(p + (json ? 6 : 0), NULL, 10);
		l += strcspn(l, "\n");
		if (*l)
			l++;
	}
	return seq;
}

int cmd_events(const char *node, int argc, char **argv)
{
	bool json = false, follow = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--follow") || !strcmp(argv[i], "-f")) {
			follow = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(events_usage, stdout);
			return 0;
		} else {
			fputs(events_usage, stderr);
			return 2;
		}
	}
	struct cli_node n;
	if (cli_node_find(node, &n) < 0)
		return 1;
	unsigned long long after = 0;
	for (;;) {
		char line[64], *body;
		snprintf(line, sizeof(line), "events %llu%s", after, json ? " json" : "");
		if (cli_ctl(&n, line, &body) < 0)
			return 1;
		fputs(body, stdout);
		fflush(stdout);
		after = last_seq(body, json, after);
		free(body);
		if (!follow)
			return 0;
		struct timespec ts = { 0, 250 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static const char kernel_usage[] =
	"Usage: anode -n NODE kernel [--json]\n"
	"\n"
	"Show NODE's kernel path (PAN's kernel node, docs/kernel.md): whether it runs\n"
	"(off, starting, on, or failed and why) on which interfaces, and one line per\n"
	"code object with a kernel section: its name, where its capsules run\n"
	"(kernel; refused, with the kernel verifier's or the checker's words; loading;\n"
	"pending), so that an author sees why code stays in user space. Its counters\n"
	"are in `anode stats` (kernel_path).\n"
	"  --json   {\"kernel_path\": \"on\", \"interfaces\", \"why\", \"code\": [{name, state, why}]}\n";

int cmd_kernel(const char *node, int argc, char **argv)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(kernel_usage, stdout);
			return 0;
		} else {
			fputs(kernel_usage, stderr);
			return 2;
		}
	}
	struct cli_node n;
	if (cli_node_find(node, &n) < 0)
		return 1;
	char *body;
	if (cli_ctl(&n, json ? "kernel json" : "kernel", &body) < 0)
		return 1;
	fputs(body, stdout);
	free(body);
	return 0;
}
