// SPDX-License-Identifier: MIT
/*
 * What the control socket shows of the concast room: its counters (a stats
 * section) and its flows (`anode concast flows`).
 */
#include <stdio.h>
#include <string.h>

#include "concast/room_impl.h"

/* ---- what the control socket shows ---- */

/* One section holds both lists and the flows now. */
_Static_assert(1 + STAT_COUNT(CONCAST_COUNTERS) + STAT_COUNT(CC_COUNTERS) <= STAT_ROWS_MAX,
	       "the concast stats section does not hold its counters: split it");

void concast_stats(void *room, struct stat_list *l)
{
	struct concast_room *r = room;
	struct stat_section *sec = stat_list_add(l, "concast", "concast");
	if (!sec)
		return;
	stat_add(sec, "flows", "flow state blocks now", cc_flow_count(r->t));
	STAT_ADD_ALL(sec, &r->c, CONCAST_COUNTERS);
	STAT_ADD_ALL(sec, cc_counters(r->t), CC_COUNTERS);
}

static const char *state_name(const struct cc_flow *f)
{
	switch (f->spec_state) {
	case CC_SPEC_READY:
		return "ready";
	case CC_SPEC_FETCHING:
		return "fetching";
	default:
		return "asking";
	}
}

struct ctl_walk {
	struct ctl_out *o;
	bool json, first;
	uint64_t now;
	struct cc_table *t;
};

static void ctl_flow(void *arg, struct cc_flow *f)
{
	struct ctl_walk *w = arg;
	char g[WIRE_ADDR_STRLEN], rcv[WIRE_ADDR_STRLEN], spec[65], a[WIRE_ADDR_STRLEN];
	wire_addr_format(&f->id.group, g, sizeof(g));
	wire_addr_format(&f->id.receiver, rcv, sizeof(rcv));
	ee_name_hex(f->spec, spec);
	if (f->spec_state != CC_SPEC_READY && f->spec_state != CC_SPEC_FETCHING)
		strcpy(spec, "-");
	/* The group has no port: show its address alone. */
	char *colon = strrchr(g, ':');
	if (colon && strcmp(colon, ":0") == 0)
		*colon = '\0';
	size_t tags = cc_flow_tags(w->t, f);
	if (w->json)
		ctl_printf(w->o,
			   "%s{\"group\":\"%s\",\"receiver\":\"%s\",\"app_id\":%u,\"state\":\"%s\",\"spec\":\"%s\","
			   "\"receiving_here\":%s,\"tags\":%zu,\"messages\":%llu,\"sent\":%llu,",
			   w->first ? "" : ",", g, rcv, f->id.app_id, state_name(f), spec,
			   f->receiver_app ? "true" : "false", tags, (unsigned long long)f->messages,
			   (unsigned long long)f->sent);
	else
		ctl_printf(
		    w->o,
		    "flow %s -> %s app %u: %s, spec %.16s%s, %zu upstream, %zu tags in merge, %llu in, %llu out%s\n", g,
		    rcv, f->id.app_id, state_name(f), spec, spec[1] ? "..." : "", f->n_up, tags,
		    (unsigned long long)f->messages, (unsigned long long)f->sent,
		    f->receiver_app ? ", received here" : "");
	w->first = false;
	/* Whom the receiver admits, as far as this node knows. */
	char pfx[WIRE_ADDR_STRLEN];
	for (size_t i = 0; i < f->n_admit; i++) {
		wire_prefix_format(&f->admit[i], pfx, sizeof(pfx));
		if (w->json)
			ctl_printf(w->o, "%s\"%s\"", i ? "," : "\"admit\":[", pfx);
		else
			ctl_printf(w->o, "%s%s", i ? ", " : "  admits upstream neighbours from ", pfx);
	}
	if (f->n_admit)
		ctl_printf(w->o, w->json ? "]," : "\n");
	if (w->json)
		ctl_printf(w->o, "\"upstream\":[");
	bool first_up = true;
	for (size_t i = 0; i < cc_config(w->t)->max_upstream; i++) {
		const struct cc_upstream *u = &f->up[i];
		if (!u->kind)
			continue;
		if (u->kind == CC_UP_NODE)
			wire_addr_format(&u->addr, a, sizeof(a));
		else
			snprintf(a, sizeof(a), "app:%016llx", (unsigned long long)u->app);
		unsigned long long ago = (unsigned long long)(w->now - u->last_ms);
		if (w->json)
			ctl_printf(
			    w->o,
			    "%s{\"slot\":%zu,\"kind\":\"%s\",\"from\":\"%s\",\"heard_ms_ago\":%llu,\"messages\":%llu,"
			    "\"flagged\":%llu}",
			    first_up ? "" : ",", i, u->kind == CC_UP_NODE ? "node" : "app", a, ago,
			    (unsigned long long)u->messages, (unsigned long long)u->flagged);
		else
			ctl_printf(w->o, "  upstream %zu %s %s, heard %llu ms ago, %llu messages, %llu out of range\n",
				   i, u->kind == CC_UP_NODE ? "node" : "app", a, ago, (unsigned long long)u->messages,
				   (unsigned long long)u->flagged);
		first_up = false;
	}
	if (w->json)
		ctl_printf(w->o, "]}");
}

static int concast_ctl(void *room, int argc, char **argv, struct ctl_out *o)
{
	struct concast_room *r = room;
	struct ctl_walk w = {.o = o,
			     .json = argc > 1 && strcmp(argv[argc - 1], "json") == 0,
			     .first = true,
			     .now = loop_now_ms(),
			     .t = r->t};
	if (w.json)
		ctl_printf(o, "{\"flows\":[");
	cc_flow_each(r->t, ctl_flow, &w);
	if (w.json)
		ctl_printf(o, "]}\n");
	else if (w.first)
		ctl_printf(o, "no concast flows\n");
	return 0;
}

const struct ctl_command concast_commands[] = {
    {"concast", "concast [json]", concast_ctl, NULL, 1},
    {NULL, NULL, NULL, NULL, 0},
};
