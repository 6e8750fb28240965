// SPDX-License-Identifier: MIT
/*
 * The node's control commands (anode -n NODE info|stats|code|routes ...):
 * text for people, JSON for programs, over the control socket (src/ctl).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ctl/ctl.h"
#include "link/match.h"
#include "node/fetch.h"
#include "node/node_impl.h"
#include "node/relay.h"
#include "node/route.h"


static bool want_json(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "json") == 0 || strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

static int ctl_info(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	char a[WIRE_ADDR_STRLEN];
	wire_addr_format(&n->local, a, sizeof(a));
	if (want_json(argc, argv))
		ctl_printf(o, "{\"name\":\"%s\",\"address\":\"%s\",\"app_socket\":\"%s\",\"ctl_socket\":\"%s\"}\n",
			   n->cfg.name, a, n->cfg.app_path, n->cfg.ctl_path);
	else
		ctl_printf(o, "name %s\naddress %s\napp-socket %s\nctl-socket %s\n", n->cfg.name, a,
			   n->cfg.app_path, n->cfg.ctl_path);
	return 0;
}

static int ctl_stats(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	struct ee_stats es;
	ee_stats_get(n->ee, &es);
	const struct link_counters *lc = &n->udp->counters;
	const struct applink_counters *ac = applink_counters(n->apps);
	size_t cached = ee_code_list(n->ee, NULL, 0);
	double uptime = (double)(loop_now_ns() - n->started_ns) / 1e9;
	if (want_json(argc, argv)) {
		ctl_printf(o, "{\"node\":\"%s\",\"uptime_s\":%.3f,\"counters\":{", n->cfg.name, uptime);
		const char *sep = "";
#define JSON_COUNTER(name, help)                                                   \
	ctl_printf(o, "%s\"%s\":%llu", sep, #name, (unsigned long long)n->c.name); \
	sep = ",";
		NODE_COUNTERS(JSON_COUNTER)
#undef JSON_COUNTER
		ctl_printf(o,
			   "},\"link\":{\"kind\":\"%s\",\"rx_packets\":%llu,\"rx_bytes\":%llu,\"tx_packets\":%llu,"
			   "\"tx_bytes\":%llu,\"rx_truncated\":%llu,\"tx_errors\":%llu,\"rx_kernel_drops\":%llu,"
			   "\"rx_no_buffer\":%llu}",
			   n->udp->ops->kind, (unsigned long long)lc->rx_packets, (unsigned long long)lc->rx_bytes,
			   (unsigned long long)lc->tx_packets, (unsigned long long)lc->tx_bytes,
			   (unsigned long long)lc->rx_truncated, (unsigned long long)lc->tx_errors,
			   (unsigned long long)lc->rx_kernel_drops, (unsigned long long)lc->rx_no_buffer);
		ctl_printf(o,
			   ",\"code_cache\":{\"objects\":%zu,\"inserted\":%llu,\"evicted\":%llu,"
			   "\"failed_validation\":%llu,\"refused_known_bad\":%llu,\"runs\":%llu,\"run_errors\":%llu,"
			   "\"state_evictions\":%llu,\"over_budget\":%llu,\"copies_refused\":%llu}",
			   cached, (unsigned long long)es.inserted, (unsigned long long)es.evicted,
			   (unsigned long long)es.failed_validation, (unsigned long long)es.refused_known_bad,
			   (unsigned long long)es.runs, (unsigned long long)es.run_errors,
			   (unsigned long long)es.state_evictions, (unsigned long long)es.over_budget,
			   (unsigned long long)es.copies_refused);
		ctl_printf(o,
			   ",\"applinks\":{\"connected\":%zu,\"accepted\":%llu,\"closed\":%llu,\"bad_messages\":%llu,"
			   "\"delivered\":%llu,\"deliver_full\":%llu,\"deliver_gone\":%llu,"
			   "\"refused_user\":%llu,\"refused_full\":%llu}",
			   applink_count(n->apps), (unsigned long long)ac->accepted, (unsigned long long)ac->closed,
			   (unsigned long long)ac->bad_messages, (unsigned long long)ac->delivered,
			   (unsigned long long)ac->deliver_full, (unsigned long long)ac->deliver_gone,
			   (unsigned long long)ac->refused_user, (unsigned long long)ac->refused_full);
		const struct fetch_counters *fc = fetch_counters(n->fetch);
		ctl_printf(o,
			   ",\"fetch\":{\"active\":%zu,\"parked_now\":%zu,\"requests_sent\":%llu,\"retries\":%llu,"
			   "\"chunks_received\":%llu,\"chunks_unexpected\":%llu,\"completed\":%llu,\"timeouts\":%llu,"
			   "\"mismatches\":%llu,\"invalid\":%llu,\"park_overflow\":%llu,\"requests_limited\":%llu,"
			   "\"relays_pending\":%zu}",
			   fetch_active(n->fetch), fetch_parked(n->fetch), (unsigned long long)fc->requests_sent,
			   (unsigned long long)fc->retries, (unsigned long long)fc->chunks_received,
			   (unsigned long long)fc->chunks_unexpected, (unsigned long long)fc->completed,
			   (unsigned long long)fc->timeouts, (unsigned long long)fc->mismatches,
			   (unsigned long long)fc->invalid, (unsigned long long)fc->park_overflow,
			   (unsigned long long)fc->requests_limited, relay_count(n->relay));
		if (n->match) {
			const struct match_counters *mc = match_counters(n->match);
			ctl_printf(o,
				   ",\"queue\":{\"filters\":%zu,\"packets\":%llu,\"accepted\":%llu,\"dropped\":%llu,"
				   "\"modified\":%llu,\"held\":%llu,\"reinjected\":%llu,\"failed_verdicts\":%llu,"
				   "\"queue_drops\":%llu}",
				   match_filter_count(n->match), (unsigned long long)mc->packets,
				   (unsigned long long)mc->accepted, (unsigned long long)mc->dropped,
				   (unsigned long long)mc->modified, (unsigned long long)mc->held,
				   (unsigned long long)mc->reinjected, (unsigned long long)mc->failed_verdicts,
				   (unsigned long long)mc->queue_drops);
		}
		const struct loop_stats *ls = loop_stats(n->loop);
		ctl_printf(o, ",\"loop\":{\"rounds\":%llu,\"max_round_us\":%.1f}", (unsigned long long)ls->rounds,
			   (double)ls->max_round_ns / 1e3);
		ctl_printf(o, ",\"mode\":\"%s\",\"buffers\":{\"total\":%zu,\"free\":%zu}}\n",
			   n->cfg.router ? "router" : "overlay", pkt_pool_size(n->pool), pkt_pool_available(n->pool));
		return 0;
	}
	ctl_printf(o, "node %s, up %.1f s\n", n->cfg.name, uptime);
#define TEXT_COUNTER(name, help)                           \
	if (n->c.name || strncmp(#name, "drop_", 5) != 0)  \
		ctl_printf(o, "  %-24s %12llu  %s\n", #name, (unsigned long long)n->c.name, help);
	NODE_COUNTERS(TEXT_COUNTER)
#undef TEXT_COUNTER
	ctl_printf(o,
		   "link %s: rx %llu packets %llu bytes, tx %llu packets %llu bytes, %llu tx errors, "
		   "%llu dropped by the kernel at the socket (as of the last second), %llu too big, "
		   "%llu reads put off for want of a buffer\n",
		   n->udp->ops->kind, (unsigned long long)lc->rx_packets, (unsigned long long)lc->rx_bytes,
		   (unsigned long long)lc->tx_packets, (unsigned long long)lc->tx_bytes,
		   (unsigned long long)lc->tx_errors, (unsigned long long)lc->rx_kernel_drops,
		   (unsigned long long)lc->rx_truncated, (unsigned long long)lc->rx_no_buffer);
	ctl_printf(o,
		   "code cache: %zu objects, %llu inserted, %llu evicted, %llu failed validation, %llu refused; "
		   "%llu runs, %llu run errors, %llu soft state evictions\n",
		   cached, (unsigned long long)es.inserted, (unsigned long long)es.evicted,
		   (unsigned long long)es.failed_validation, (unsigned long long)es.refused_known_bad,
		   (unsigned long long)es.runs, (unsigned long long)es.run_errors,
		   (unsigned long long)es.state_evictions);
	ctl_printf(o, "bounds: %llu runs over their work budget, %llu copies refused past a copy budget\n",
		   (unsigned long long)es.over_budget, (unsigned long long)es.copies_refused);
	if (n->match) {
		const struct match_counters *mc = match_counters(n->match);
		ctl_printf(o,
			   "router mode: %zu filters; queued %llu packets: %llu accepted, %llu dropped, %llu sent on "
			   "rewritten, %llu held (%llu given a verdict later); %llu failed verdicts, %llu queue "
			   "overflows\n",
			   match_filter_count(n->match), (unsigned long long)mc->packets,
			   (unsigned long long)mc->accepted, (unsigned long long)mc->dropped,
			   (unsigned long long)mc->modified, (unsigned long long)mc->held,
			   (unsigned long long)mc->reinjected, (unsigned long long)mc->failed_verdicts,
			   (unsigned long long)mc->queue_drops);
	}
	ctl_printf(o,
		   "applications: %zu connected (%llu accepted, %llu closed), %llu refused (a user's share full), "
		   "%llu refused (all full), %llu bad messages; %llu deliveries, %llu to a full socket, %llu to "
		   "one gone\n",
		   applink_count(n->apps), (unsigned long long)ac->accepted, (unsigned long long)ac->closed,
		   (unsigned long long)ac->refused_user, (unsigned long long)ac->refused_full,
		   (unsigned long long)ac->bad_messages, (unsigned long long)ac->delivered,
		   (unsigned long long)ac->deliver_full, (unsigned long long)ac->deliver_gone);
	const struct fetch_counters *tfc = fetch_counters(n->fetch);
	ctl_printf(o,
		   "code loading: %zu fetches, %zu parked; %llu requests sent (%llu retries, %llu held back by the "
		   "rate limit), %llu chunks received (%llu unexpected), %llu completed, %llu timed out, %llu "
		   "mismatched, %llu invalid, %llu park overflows; %zu requests passed on, pending\n",
		   fetch_active(n->fetch), fetch_parked(n->fetch), (unsigned long long)tfc->requests_sent,
		   (unsigned long long)tfc->retries, (unsigned long long)tfc->requests_limited,
		   (unsigned long long)tfc->chunks_received, (unsigned long long)tfc->chunks_unexpected,
		   (unsigned long long)tfc->completed, (unsigned long long)tfc->timeouts,
		   (unsigned long long)tfc->mismatches, (unsigned long long)tfc->invalid,
		   (unsigned long long)tfc->park_overflow, relay_count(n->relay));
	ctl_printf(o, "buffers: %zu of %zu free\n", pkt_pool_available(n->pool), pkt_pool_size(n->pool));
	const struct loop_stats *ls = loop_stats(n->loop);
	ctl_printf(o, "loop: %llu rounds, the longest %.1f us\n", (unsigned long long)ls->rounds,
		   (double)ls->max_round_ns / 1e3);
	return 0;
}

static int ctl_code(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	if (argc >= 3 && strcmp(argv[1], "remove") == 0) {
		uint8_t name[EE_NAME_LEN];
		if (ee_name_parse(argv[2], name) < 0) {
			ctl_printf(o, "not a code object name: %s", argv[2]);
			return -EINVAL;
		}
		int r = ee_code_remove(n->ee, name);
		if (r < 0)
			ctl_printf(o, "%s: not in the code cache", argv[2]);
		return r;
	}
	size_t total = ee_code_list(n->ee, NULL, 0);
	struct ee_code_info *info = calloc(total ? total : 1, sizeof(*info));
	if (!info)
		return -ENOMEM;
	size_t k = ee_code_list(n->ee, info, total);
	if (k > total)
		k = total;
	bool json = want_json(argc, argv);
	uint64_t now = loop_now_ns();
	if (json)
		ctl_printf(o, "{\"code\":[");
	for (size_t i = 0; i < k; i++) {
		char hex[65];
		ee_name_hex(info[i].name, hex);
		double idle = info[i].last_used_ns ? (double)(now - info[i].last_used_ns) / 1e9 : 0;
		if (json)
			ctl_printf(o,
				   "%s{\"name\":\"%s\",\"size\":%zu,\"runs\":%llu,\"errors\":%llu,"
				   "\"state_entries\":%zu,\"idle_s\":%.3f}",
				   i ? "," : "", hex, info[i].size, (unsigned long long)info[i].runs,
				   (unsigned long long)info[i].errors, info[i].state_entries, idle);
		else
			ctl_printf(o, "%s  %6zu bytes  %8llu runs  %llu errors  %zu state  idle %.1fs\n", hex,
				   info[i].size, (unsigned long long)info[i].runs, (unsigned long long)info[i].errors,
				   info[i].state_entries, idle);
	}
	if (json)
		ctl_printf(o, "]}\n");
	free(info);
	return 0;
}

static int ctl_routes(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	struct an_addr dst, next;
	char a[WIRE_ADDR_STRLEN], b[WIRE_ADDR_STRLEN];
	for (size_t i = 0; route_at(n->routes, i, &dst, &next); i++)
		ctl_printf(o, "%s via %s\n", wire_addr_format(&dst, a, sizeof(a)), wire_addr_format(&next, b, sizeof(b)));
	if (route_get_default(n->routes, &next))
		ctl_printf(o, "default via %s\n", wire_addr_format(&next, b, sizeof(b)));
	return 0;
}

static int ctl_log_level(void *arg, int argc, char **argv, struct ctl_out *o)
{
	if (argc != 2 || argv[1][0] < '0' || argv[1][0] > '7' || argv[1][1]) {
		ctl_printf(o, "usage: log-level 0-7 (syslog levels; 7 is debug)");
		return -EINVAL;
	}
	log_set_level(argv[1][0] - '0');
	return 0;
}

static int ctl_shutdown(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	loop_stop(n->loop);
	return 0;
}

const struct ctl_command node_ctl_commands[] = {
	{ "info", "info [json]", ctl_info },
	{ "stats", "stats [json]", ctl_stats },
	{ "code", "code [json] | code remove NAME", ctl_code },
	{ "routes", "routes", ctl_routes },
	{ "log-level", "log-level N", ctl_log_level },
	{ "shutdown", "shutdown", ctl_shutdown },
	{ NULL, NULL, NULL },
};

