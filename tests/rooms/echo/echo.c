// SPDX-License-Identifier: MIT
/*
 * A sample room, and the proof that a room is a plug-in: this folder and
 * the one line that adds it to the build (tests/rooms/meson.build) give a
 * node a Type ID, a configuration directive, counters and a control
 * command, with no edit to src/node. It answers every ANEP packet of its
 * Type ID that comes from the network by sending it back to its sender,
 * unless its payload is longer than `echo-max`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "node/room.h"

#define ECHO_TYPE_ID 0x4fee /* not one of anode's: a test's own */

struct echo_config {
	size_t max;
};

#define ECHO_COUNTERS(X)                                                                                               \
	X(echoed, "packets sent back to their sender")                                                                 \
	X(too_long, "packets whose payload passed echo-max")                                                           \
	X(not_from_network, "packets that came from no network neighbour")

struct echo_counters {
	ECHO_COUNTERS(STAT_FIELD)
};

struct echo_room {
	struct node *n;
	size_t max;
	struct echo_counters c;
};

static void echo_input(void *room, struct pkt *p, struct wire_anep *a)
{
	struct echo_room *e = room;
	if (p->origin != AN_ORIGIN_NET)
		return node_drop(e->n, p, &e->c.not_from_network, -EINVAL);
	if ((size_t)(a->pkt_len - a->hdr_len) > e->max)
		return node_drop(e->n, p, &e->c.too_long, -EMSGSIZE);
	e->c.echoed++;
	node_send_link(e->n, p, &p->from);
}

static int echo_init(struct node *n, const void *cfg, void **ret_state)
{
	const struct echo_config *c = cfg;
	struct echo_room *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->n = n;
	e->max = c->max;
	*ret_state = e;
	return 0;
}

static void echo_done(void *room)
{
	free(room);
}

static void echo_stats(void *room, struct stat_list *l)
{
	struct echo_room *e = room;
	struct stat_section *sec = stat_list_add(l, "echo", "the sample echo room");
	if (sec)
		STAT_ADD_ALL(sec, &e->c, ECHO_COUNTERS);
}

/* "echo [json]": what the room did. */
static int echo_ctl(void *room, int argc, char **argv, struct ctl_out *o)
{
	struct echo_room *e = room;
	if (argc > 1 && strcmp(argv[1], "json") == 0)
		ctl_printf(o, "{\"echoed\":%llu,\"max\":%zu}\n", (unsigned long long)e->c.echoed, e->max);
	else
		ctl_printf(o, "echoed %llu packets of at most %zu octets\n", (unsigned long long)e->c.echoed, e->max);
	return 0;
}

static const struct conf_directive echo_directives[] = {
    CONF_NUM("echo-max", "N", "the sample echo room: longest payload sent back, in octets", struct echo_config, max, 0,
	     65535, 512),
    CONF_END,
};

static const struct room_type echo_types[] = {
    {ECHO_TYPE_ID, echo_input, NULL},
    {0},
};

static const struct ctl_command echo_commands[] = {
    {"echo", "echo [json]", echo_ctl, NULL, 1},
    {NULL, NULL, NULL, NULL, 0},
};

static const struct room echo_room = {
    .name = "echo",
    .rank = 90,
    .cfg_size = sizeof(struct echo_config),
    .directives = echo_directives,
    .init = echo_init,
    .done = echo_done,
    .types = echo_types,
    .commands = echo_commands,
    .stats = echo_stats,
};
ROOM_REGISTER(echo_room);
