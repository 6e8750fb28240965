/* SPDX-License-Identifier: MIT */
/*
 * Subscriptions to monitored resources (seed 000 §3.1, §4.4): a resource,
 * its parameters, and its states, each a range of values; every sample
 * that moves the value into another state is an event. Resources are the
 * node's figures (mon.h: mem_avail_kb, load_milli, link_used_bps, ...), an
 * interface's rates (iface_rx_bps, iface_tx_bps with dev=NAME, read from
 * /sys/class/net on the monitors' timer, never on the packet path), and
 * the presence of a host (host_up with host=A.B.C.D: 1 when it answered
 * the last probe, 0 when not; seed 000 §3.2's presence monitor), and
 * custom probes (custom with name=USER.KEY: the last value a service of
 * USER published under KEY).
 *
 * The presence probe is a UDP datagram to port 33434 of the host (the
 * traceroute port: nothing listens there), once a sample, from the
 * monitors' one probe socket (presence.h): the host's ICMP port
 * unreachable is its answer, which the next sample reads. No privilege
 * needed, no socket opened after start, and a host that filters ICMP
 * counts as absent.
 *
 * A spec is one line of text:
 *   RESOURCE [dev=NAME] STATE=LO-HI [STATE=LO-HI ...]
 * e.g. "iface_tx_bps dev=eth1 idle=0-5000000 congested=5000000-" (an
 * open upper end: no limit). A value in no state's range is state "none".
 */
#ifndef MON_WATCH_H
#define MON_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mon/mon.h"

#define WATCH_STATES_MAX 8
#define WATCH_NAME_MAX 23
#define WATCH_DEV_MAX 15 /* IFNAMSIZ - 1 */

struct watch_state {
	char name[WATCH_NAME_MAX + 1];
	int64_t lo, hi; /* lo <= value < hi */
};

struct watch_spec {
	char resource[WATCH_NAME_MAX + 1];
	char dev[WATCH_DEV_MAX + 1];	   /* iface_*: the interface */
	uint32_t host;			   /* host_up: the host (network order) */
	char name[2 * WATCH_NAME_MAX + 2]; /* custom: USER.KEY */
	size_t n_states;
	struct watch_state states[WATCH_STATES_MAX];
};

struct watch {
	struct watch_spec spec;
	int state;		      /* index, or -1: none yet / in no range */
	bool sampled;		      /* a first value has been seen */
	uint64_t last_bytes, last_ns; /* iface_*: the previous reading */
	int64_t value;		      /* the last value */
};

/* Parse a spec. 0, or -EINVAL with err saying why. */
int watch_spec_parse(const char *text, struct watch_spec *ret, char *err, size_t errlen);

void watch_init(struct watch *w, const struct watch_spec *spec);

/* Where samples come from: the node's figures, and the custom probes'
 * values (0 and *ret, or -ENOENT while nothing is published). */
struct presence;
struct watch_env {
	const struct mon *mon;
	struct presence *presence; /* host_up's probe (may be NULL: host_up cannot be read) */
	int (*custom)(void *arg, const char *name, int64_t *ret);
	void *arg;
};

/* Take a sample at now_ns. Returns 1 when the state changed (an event:
 * w->state and w->value are the new ones, *ret_prev the old state), 0 when
 * not, or a negative errno when the resource cannot be read. */
int watch_sample(struct watch *w, const struct watch_env *env, uint64_t now_ns, int *ret_prev);

/* The name of state i of w ("none" for -1). */
const char *watch_state_name(const struct watch *w, int i);

#endif
