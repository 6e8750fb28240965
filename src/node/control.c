// SPDX-License-Identifier: MIT
/*
 * The node's control commands (anode -n NODE info|stats|code|routes ...):
 * text for people, JSON for programs, over the control socket (src/ctl).
 * Rooms add their own (struct room: commands, stats).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "ctl/ctl.h"
#include "link/match.h"
#include "mon/mon.h"
#include "node/room.h"
#include "priv/priv.h"
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
	if (!want_json(argc, argv)) {
		ctl_printf(o, "name %s\naddress %s\napp-socket %s\nctl-socket %s\n", n->cfg.name, a, n->cfg.app_path,
			   n->cfg.ctl_path);
		return 0;
	}
	/* Paths come from the configuration: escaped. */
	ctl_printf(o, "{\"name\":\"%s\",\"address\":\"%s\",\"app_socket\":", n->cfg.name, a);
	ctl_json_string(o, n->cfg.app_path);
	ctl_printf(o, ",\"ctl_socket\":");
	ctl_json_string(o, n->cfg.ctl_path);
	ctl_printf(o, "}\n");
	return 0;
}

/* Every figure of the node, by section: the node's, then each room's;
 * each module's counters from its own list (core/stat.h); the one writer
 * prints text or JSON. */
int node_stats(struct node *n, enum ctl_format format, struct ctl_out *o)
{
	struct stat_list l = {0};
	struct stat_section *sec;
	int r = -ENOMEM;

	if (!(sec =
		  stat_list_add(&l, "counters", "packets (each ends forwarded, delivered, consumed or in one drop_*)")))
		goto out;
	STAT_ADD_ALL(sec, &n->c, NODE_COUNTERS);

	/* The network link, then the links rooms added (the IP link), each
	 * a section named by its kind. */
	for (size_t i = 0; i <= n->n_links; i++) {
		const struct link *lk = i == 0 ? n->udp : n->links[i - 1];
		if (!(sec = stat_list_add(&l, lk->ops->stats_key, lk->ops->title)))
			goto out;
		STAT_ADD_ALL(sec, &lk->counters, LINK_COUNTERS);
	}

	struct ee_stats es;
	ee_stats_get(n->ee, &es);
	if (!(sec = stat_list_add(&l, "code_cache", "code cache and runs")))
		goto out;
	stat_add(sec, "objects", "code objects cached now", ee_code_list(n->ee, NULL, 0));
	STAT_ADD_ALL(sec, &es, EE_STATS);

	if (!(sec = stat_list_add(&l, "applinks", "application links")))
		goto out;
	stat_add(sec, "connected", "applications connected now", applink_count(n->apps));
	STAT_ADD_ALL(sec, applink_counters(n->apps), APPLINK_COUNTERS);

	if (n->match) {
		if (!(sec = stat_list_add(&l, "queue", "router mode queue")))
			goto out;
		stat_add(sec, "filters", "filters installed", match_filter_count(n->match));
		if (n->priv) {
			size_t now, most;
			priv_chan_queue(n->priv, &now, &most);
			stat_add(sec, "parent_queue", "requests to the privileged parent waiting to be sent", now);
			stat_add(sec, "parent_queue_max", "...the most that ever waited (none is dropped)", most);
		}
		STAT_ADD_ALL(sec, match_counters(n->match), MATCH_COUNTERS);
		if (match_xsk_ports(n->match)) {
			stat_add_counter(sec, "xsk_kernel_drops",
					 "packets the kernel dropped at the AF_XDP sockets, their rings full (not fail-open)",
					 match_xsk_kernel_drops(n->match));
			stat_add_counter(sec, "xsk_malformed",
					 "frames at the AF_XDP sockets without the XDP program's header: skipped",
					 match_xsk_malformed(n->match));
		}
	}

	for (size_t i = 0; i < rooms_count(); i++)
		if (n->room_up[i] && rooms_at(i)->stats)
			rooms_at(i)->stats(n->room_state[i], &l);

	if (n->ctl) {
		if (!(sec = stat_list_add(&l, "control", "control socket")))
			goto out;
		STAT_ADD_ALL(sec, ctl_server_counters(n->ctl), CTL_COUNTERS);
	}

	const struct loop_stats *ls = loop_stats(n->loop);
	if (!(sec = stat_list_add(&l, "loop", "event loop")))
		goto out;
	stat_add_real(sec, "uptime_s", "seconds since the node started", (double)(loop_now_ns() - n->started_ns) / 1e9);
	stat_add_counter(sec, "rounds", "rounds of events", ls->rounds);
	stat_add_real(sec, "max_round_us", "the longest round: the longest time the node served nothing new",
		      (double)ls->max_round_ns / 1e3);
	stat_add_real(sec, "recent_max_round_us", "the longest round in this second and the last",
		      (double)ls->recent_max_round_ns / 1e3);
	stat_add_real(sec, "max_round_cpu_us",
		      "the longest round on the node's own CPU time (without what the "
		      "kernel or other processes took)",
		      (double)ls->max_round_cpu_ns / 1e3);
	stat_add_real(sec, "recent_max_round_cpu_us", "...in this second and the last",
		      (double)ls->recent_max_round_cpu_ns / 1e3);
	stat_add(sec, "rx_queue", "packets received and waiting for the next round (a slice ran out)", n->rx_q.len);
	stat_add(sec, "self_queue", "capsules code here sent to this node, waiting now", n->self_q.len);
	stat_add(sec, "resume_queue", "parked packets whose code came, waiting to run now", n->resume_q.len);

	if (!(sec = stat_list_add(&l, "monitors", "node figures (sampled once a second)")))
		goto out;
	mon_stat_rows(n->mon, sec);

	if (!(sec = stat_list_add(&l, "buffers", "packet buffers")))
		goto out;
	stat_add(sec, "pool", "buffers in the pool", pkt_pool_size(n->pool));
	stat_add(sec, "free", "buffers free now", pkt_pool_available(n->pool));

	const struct ctl_string strings[] = {
	    {"node", n->cfg.name},
	    {"mode", n->cfg.router ? "router" : "overlay"},
	    {"link_kind", n->udp->ops->kind},
	};
	ctl_print_stats(o, format, strings, sizeof(strings) / sizeof(strings[0]), l.v, l.n);
	r = 0;
out:
	free(l.v);
	return r;
}

static int ctl_stats(void *arg, int argc, char **argv, struct ctl_out *o)
{
	enum ctl_format format = want_json(argc, argv) ? CTL_JSON : CTL_TEXT;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "prometheus") == 0)
			format = CTL_PROMETHEUS;
	return node_stats(arg, format, o);
}

static int ctl_code(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	if (argc >= 3 && strcmp(argv[1], "remove") == 0) {
		if (!o->may_change)
			return ctl_refuse_change(o);
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
		/* Labels are [A-Za-z0-9._-] (ee_elf_label): no escaping. */
		if (json)
			ctl_printf(o,
				   "%s{\"name\":\"%s\",\"label\":%s%s%s,\"size\":%zu,\"runs\":%llu,\"errors\":%llu,"
				   "\"state_entries\":%zu,\"idle_s\":%.3f}",
				   i ? "," : "", hex, info[i].label[0] ? "\"" : "",
				   info[i].label[0] ? info[i].label : "null", info[i].label[0] ? "\"" : "", info[i].size,
				   (unsigned long long)info[i].runs, (unsigned long long)info[i].errors,
				   info[i].state_entries, idle);
		else
			ctl_printf(o, "%s  %-12s %6zu bytes  %8llu runs  %llu errors  %zu state  idle %.1fs\n", hex,
				   info[i].label[0] ? info[i].label : "-", info[i].size,
				   (unsigned long long)info[i].runs, (unsigned long long)info[i].errors,
				   info[i].state_entries, idle);
	}
	if (json)
		ctl_printf(o, "]}\n");
	free(info);
	return 0;
}

/* The routing table: "DEST via NEXT" lines, or with json one object,
 * {"routes":[{"destination":..,"via":..}],"default":NEXT or null}. */
static int ctl_routes(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	struct an_addr dst, next;
	char a[WIRE_ADDR_STRLEN], b[WIRE_ADDR_STRLEN];
	bool json = want_json(argc, argv);
	if (n->cfg.router) {
		/* node_next_hop: the destination itself, for the kernel to route. */
		ctl_printf(o, json ? "{\"mode\":\"router\",\"routes\":[],\"default\":null}\n"
				   : "router mode: capsules follow the kernel's routes (ip route; a routing daemon "
				     "such as FRR keeps them)\n");
		return 0;
	}
	if (json)
		ctl_printf(o, "{\"routes\":[");
	for (size_t i = 0; route_at(n->routes, i, &dst, &next); i++) {
		wire_addr_format(&dst, a, sizeof(a));
		wire_addr_format(&next, b, sizeof(b));
		if (json)
			ctl_printf(o, "%s{\"destination\":\"%s\",\"via\":\"%s\"}", i ? "," : "", a, b);
		else
			ctl_printf(o, "%s via %s\n", a, b);
	}
	bool dflt = route_get_default(n->routes, &next);
	if (dflt)
		wire_addr_format(&next, b, sizeof(b));
	if (json && dflt)
		ctl_printf(o, "],\"default\":\"%s\"}\n", b);
	else if (json)
		ctl_printf(o, "],\"default\":null}\n");
	else if (dflt)
		ctl_printf(o, "default via %s\n", b);
	return 0;
}

/* route add DEST NEXT | route del DEST (DEST: an address, or "default").
 * The running table only: a reload of the configuration rebuilds it from
 * the configuration's routes (node_reconfigure says so in the log). */
static int ctl_route(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	bool add = argc == 4 && strcmp(argv[1], "add") == 0, del = argc == 3 && strcmp(argv[1], "del") == 0;
	struct an_addr dst, next = {0};
	if (argc >= 2 && (strcmp(argv[1], "show") == 0 || strcmp(argv[1], "json") == 0))
		return ctl_routes(arg, argc, argv, o);
	if (!add && !del) {
		ctl_printf(o, "usage: route add DEST|default NEXT | route del DEST|default | route show [json]");
		return -EINVAL;
	}
	if (!o->may_change)
		return ctl_refuse_change(o);
	if (n->cfg.router) {
		ctl_printf(o, "router mode: capsules follow the kernel's routes; change those (ip route, or a "
			      "routing daemon such as FRR)");
		return -EOPNOTSUPP;
	}
	bool dflt = strcmp(argv[2], "default") == 0;
	if (!dflt && wire_addr_parse(argv[2], &dst) < 0) {
		ctl_printf(o, "'%s' is not a destination: ADDR:PORT or default", argv[2]);
		return -EINVAL;
	}
	if (add && wire_addr_parse(argv[3], &next) < 0) {
		ctl_printf(o, "'%s' is not a next hop: ADDR:PORT", argv[3]);
		return -EINVAL;
	}
	if (add && an_addr_eq(&next, &n->local)) {
		ctl_printf(o, "the next hop %s is this node itself", argv[3]);
		return -EINVAL;
	}
	int r = 0;
	if (add && dflt)
		route_set_default(n->routes, &next);
	else if (add)
		r = route_add(n->routes, &dst, &next);
	else if (dflt)
		r = route_clear_default(n->routes) ? 0 : -ENOENT;
	else
		r = route_del(n->routes, &dst);
	if (r == -ENOENT) {
		ctl_printf(o, "no route to %s", argv[2]);
		return r;
	}
	if (r < 0) {
		ctl_printf(o, "cannot add the route: %s", strerror(-r));
		return r;
	}
	n->routes_changed++;
	log_info("route %s %s%s%s (by the control socket)", argv[1], argv[2], add ? " via " : "", add ? argv[3] : "");
	return 0;
}

static int ctl_log_level(void *arg, int argc, char **argv, struct ctl_out *o)
{
	if (!o->may_change)
		return ctl_refuse_change(o);
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
	if (!o->may_change)
		return ctl_refuse_change(o);
	loop_stop(n->loop);
	return 0;
}

const struct ctl_command node_ctl_commands[] = {
    {"info", "info [json]", ctl_info, NULL, 1},
    {"stats", "stats [json|prometheus]", ctl_stats, NULL, 1},
    {"code", "code [json] | code remove NAME", ctl_code, NULL, 2},
    {"routes", "routes [json]", ctl_routes, NULL, 1},
    {"route", "route add DEST NEXT | route del DEST | route show [json]", ctl_route, NULL, 4},
    {"log-level", "log-level N", ctl_log_level, NULL, 1},
    {"shutdown", "shutdown", ctl_shutdown, NULL, 0},
    {NULL, NULL, NULL, NULL, 0},
};
