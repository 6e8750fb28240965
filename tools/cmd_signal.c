// SPDX-License-Identifier: MIT
/*
 * anode signal: on-path signalling from the command line (NetServ, seed
 * 004 §4; docs/signalling.md), through libanode's an_sig_request. Prints
 * the response's stack, nearest node first, as text or JSON.
 */
#include <errno.h>
#include <pwd.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anode/signal.h"
#include "cli.h"

static const char signal_usage[] = "Usage: anode [-n NODE] signal probe DEST [options]\n"
				   "\n"
				   "Send one signed request toward DEST; every anode node on the path checks\n"
				   "it against its policy (your key, the signature, the time, the nonce),\n"
				   "acts on it and passes it on, and the last one answers. The answer comes\n"
				   "back through the same nodes, each adding its entry: its address, what it\n"
				   "runs, free memory, load, and what it did. Plain routers on the path just\n"
				   "forward the request (router mode: UDP to DEST port 3322 with IP Router\n"
				   "Alert). The request is sent again after 0.5, 1, 2, 4 s ... until an\n"
				   "answer comes or --timeout ends.\n"
				   "\n"
				   "  probe   each node's state\n"
				   "\n"
				   "DEST is a node of a running lab (by name), or ADDR[:PORT] (default port\n"
				   "3322): in a namespace lab, the end host toward which the path goes.\n"
				   "\n"
				   "Options:\n"
				   "  --via NODE|ADDR:PORT  send to this node first: in an overlay lab the\n"
				   "                node where the request enters (default: -n NODE; without\n"
				   "                either, DEST itself, as in router mode)\n"
				   "  --key FILE    your key (default $ANODE_KEY, else ~/.config/anode/key)\n"
				   "  --user NAME   your name in the nodes' policy (default $ANODE_USER, else\n"
				   "                your login name)\n"
				   "  --timeout S   give up after S seconds (default 10)\n"
				   "  --hop-limit N links the request may cross (default 64)\n"
				   "  --json        one JSON object\n"
				   "\n"
				   "Exit status: 0 when an answer came and every node took the request, 1\n"
				   "when a node refused it (its entry says why), 3 when no answer came.\n"
				   "\n"
				   "Example (the lab of README.md's signalling section):\n"
				   "  anode lab exec sig h1 -- anode signal probe 10.200.0.18 --user alice\n";

static const char *status_word(const struct an_sig_entry *e)
{
	return !e->has_result ? "-" : e->status == 0 ? "ok" : "refused";
}

static void print_kinds(FILE *f, uint16_t k)
{
	static const char *names[] = {"capsule", "packet", "probe", "merge", "process"};
	bool any = false;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (k & (1u << i)) {
			fprintf(f, "%s%s", any ? "," : "", names[i]);
			any = true;
		}
	if (!any)
		fputs("-", f);
}

static void print_text(const struct an_sig_spec *s, const struct an_sig_answer *a, const char *dest_label)
{
	char buf[64];
	printf("%s toward %s: answered in %.1f ms after %u send%s, %zu anode node%s on the path%s\n",
	       an_sig_kind_name(s->kind), dest_label, (double)a->rtt_us / 1000.0, a->attempts,
	       a->attempts == 1 ? "" : "s", a->n_entries, a->n_entries == 1 ? "" : "s",
	       a->truncated ? " (stack full: more nodes left no entry)" : "");
	/* The stack holds the last node first: print from the nearest. */
	for (size_t k = a->n_entries; k-- > 0;) {
		const struct an_sig_entry *e = &a->entries[k];
		printf("  %zu  %-21s %-7s", a->n_entries - k, an_addr_format(&e->address, buf, sizeof(buf)),
		       status_word(e));
		if (e->has_caps) {
			fputs(" runs ", stdout);
			print_kinds(stdout, e->ee_kinds);
			printf(" sandboxes %s free %llu MiB", e->sandbox_kinds ? "bwrap" : "-",
			       (unsigned long long)(e->free_memory_kb / 1024));
		}
		if (e->has_load)
			printf(" load %.2f", e->load_milli / 1000.0);
		if (e->has_result && e->status)
			printf(" (%s)", strerror(-e->status));
		if (e->why[0])
			printf(": %s", e->why);
		putchar('\n');
		for (size_t i = 0; i < e->n_installed; i++)
			printf("       module %s %s, %u s left\n", e->installed[i].name, e->installed[i].version,
			       e->installed[i].remaining_s);
	}
}

static void print_json(const struct an_sig_spec *s, const struct an_sig_answer *a, int rc, const char *dest_label)
{
	char buf[64];
	printf("{\"kind\":\"%s\",\"dest\":", an_sig_kind_name(s->kind));
	cli_json_string(stdout, dest_label);
	printf(",\"id\":\"%016llx\",\"answered\":%s,\"attempts\":%u,\"heard\":%s", (unsigned long long)a->id,
	       rc == 0 ? "true" : "false", a->attempts, a->heard ? "true" : "false");
	if (rc == 0)
		printf(",\"rtt_ms\":%.3f,\"truncated\":%s", (double)a->rtt_us / 1000.0,
		       a->truncated ? "true" : "false");
	fputs(",\"nodes\":[", stdout);
	for (size_t k = a->n_entries; k-- > 0;) {
		const struct an_sig_entry *e = &a->entries[k];
		printf("%s{\"address\":\"%s\"", k + 1 == a->n_entries ? "" : ",",
		       an_addr_format(&e->address, buf, sizeof(buf)));
		if (e->has_caps)
			printf(",\"ee_kinds\":%u,\"sandbox_kinds\":%u,\"free_modules\":%u,\"free_memory_kb\":%llu",
			       e->ee_kinds, e->sandbox_kinds, e->free_modules, (unsigned long long)e->free_memory_kb);
		if (e->has_load)
			printf(",\"load\":%.3f", e->load_milli / 1000.0);
		if (e->has_result) {
			printf(",\"status\":%d,\"why\":", (int)e->status);
			cli_json_string(stdout, e->why);
		}
		fputs(",\"installed\":[", stdout);
		for (size_t i = 0; i < e->n_installed; i++) {
			printf("%s{\"name\":", i ? "," : "");
			cli_json_string(stdout, e->installed[i].name);
			fputs(",\"version\":", stdout);
			cli_json_string(stdout, e->installed[i].version);
			printf(",\"remaining_s\":%u}", e->installed[i].remaining_s);
		}
		fputs("]}", stdout);
	}
	fputs("]}\n", stdout);
}

/* ADDR[:PORT] with 3322 by default, or a lab's node. */
static int dest_of(const char *spec, struct an_addr *ret, char *label, size_t len)
{
	if (!strchr(spec, ':') && strchr(spec, '.')) {
		char with[80];
		snprintf(with, sizeof(with), "%s:3322", spec);
		if (an_addr_parse(with, ret) == 0) {
			snprintf(label, len, "%s", spec);
			return 0;
		}
	}
	return cli_dest_find(spec, getenv("ANODE_LAB"), ret, label, len);
}

int cmd_signal(const char *node, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(signal_usage, stdout);
			return 0;
		}
	if (argc < 3 || strcmp(argv[1], "probe") != 0) {
		fputs(signal_usage, stderr);
		return 2;
	}
	struct an_sig_spec s = {.kind = AN_SIG_PROBE, .hop_limit = 64};
	char defkey[4096], dest_label[80];
	const char *key = cli_key_default_path(defkey, sizeof(defkey)), *via = NULL;
	s.user = getenv("ANODE_USER");
	bool json = false;
	if (dest_of(argv[2], &s.dest, dest_label, sizeof(dest_label)) < 0)
		return 2;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (!strcmp(a, "--json"))
			json = true;
		else if (!strcmp(a, "--via") && more)
			via = argv[++i];
		else if (!strcmp(a, "--key") && more)
			key = argv[++i];
		else if (!strcmp(a, "--user") && more)
			s.user = argv[++i];
		else if (!strcmp(a, "--timeout") && more) {
			char *end;
			double t = strtod(argv[++i], &end);
			if (*end || t <= 0 || t > 3600) {
				fprintf(stderr,
					"anode signal: --timeout takes seconds, more than 0 and at most 3600\n");
				return 2;
			}
			s.timeout_ms = (unsigned)(t * 1000);
		} else if (!strcmp(a, "--hop-limit") && more) {
			char *end;
			long h = strtol(argv[++i], &end, 10);
			if (*end || h < 1 || h > 255) {
				fprintf(stderr, "anode signal: --hop-limit takes 1..255\n");
				return 2;
			}
			s.hop_limit = (uint8_t)h;
		} else {
			fprintf(stderr, "anode signal: unexpected '%s' (see anode signal -h)\n", a);
			return 2;
		}
	}
	if (!s.user) {
		struct passwd *pw = getpwuid(getuid());
		s.user = pw ? pw->pw_name : "";
	}
	if (!via && node)
		via = node;
	if (via) {
		struct cli_node n;
		if (an_addr_parse(via, &s.via) < 0) {
			if (cli_node_find(via, &n) < 0)
				return 2;
			if (!n.have_addr) {
				fprintf(stderr, "anode signal: node %s has no known address: give --via ADDR:PORT\n",
					via);
				return 2;
			}
			s.via = n.addr;
		}
	} else {
		s.router_alert = true;
	}
	uint8_t sk[64];
	if (cli_key_load(key, sk) < 0)
		return 2;
	s.secret_key = sk;
	static struct an_sig_answer a;
	int rc = an_sig_request(&s, &a);
	if (rc < 0 && rc != -ETIMEDOUT) {
		fprintf(stderr, "anode signal: %s\n",
			rc == -EINVAL ? "a name outside [A-Za-z0-9._-] or too long" : strerror(-rc));
		return 2;
	}
	if (json)
		print_json(&s, &a, rc, dest_label);
	else if (rc == 0)
		print_text(&s, &a, dest_label);
	if (rc < 0) {
		if (!json)
			fprintf(stderr, "anode signal: no answer from %s after %u sends in %.1f s%s\n", dest_label,
				a.attempts, (s.timeout_ms ? s.timeout_ms : 10000) / 1000.0,
				a.heard ? " (a node said it took the request: the path beyond it is silent)"
					: " (no anode node said it took the request: is one on the path?)");
		return 3;
	}
	for (size_t k = 0; k < a.n_entries; k++)
		if (a.entries[k].has_result && a.entries[k].status)
			return 1;
	return 0;
}
