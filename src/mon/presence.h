/* SPDX-License-Identifier: MIT */
/*
 * The presence of watched hosts (presence.c; seed 000 §3.2: the caching
 * service's presence monitor). One UDP probe socket for all of them,
 * opened when the monitors start (a router node's child opens no socket
 * once it runs); interfaces' carrier from the monitors' rtnetlink socket
 * (links.h), through presence_carrier.
 *
 * A host is present while it answers the probes (once a period) and the
 * interface its route leaves by has carrier. Both ways are heard as they
 * happen, not at the next period: an answer from a host thought absent
 * makes it present at once, and the carrier of its interface going makes
 * it absent at once (and coming back probes it at once). Each change is
 * told through the callback, so that subscribers hear it within
 * milliseconds.
 */
#ifndef MON_PRESENCE_H
#define MON_PRESENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

struct presence;

struct presence_counters {
	uint64_t probes, answers, link_events, changes;
};

/* fn(arg) is called when a host's presence changed between periods. NULL
 * with errno set when the probe socket cannot open. */
struct presence *presence_open(struct loop *loop, void (*fn)(void *arg), void *arg);
void presence_close(struct presence *p);

/* host (IPv4, network order): 1 present, 0 absent, -EAGAIN while nothing
 * is known yet. Asking keeps the host probed (the first ask probes it at
 * once); a host nobody asked about for PRESENCE_FORGET_MS is no longer
 * probed. */
#define PRESENCE_FORGET_MS 5000
int presence_get(struct presence *p, uint32_t host, uint64_t now_ns);

/* Once a period: each host's presence from the answer to the last probe,
 * then the next probe. */
void presence_tick(struct presence *p, uint64_t now_ns);

/* The interface name lost (running false) or got back its carrier: the
 * hosts routed through it are absent at once, or probed at once. */
void presence_carrier(struct presence *p, const char *name, bool running, uint64_t now_ns);

void presence_counters(const struct presence *p, struct presence_counters *ret);

#endif
