/* SPDX-License-Identifier: MIT */
/*
 * The monitors room (seed 000 §3.1, §4.4): the node's figures, sampled on
 * timers in one place and read from here by the helpers code objects call,
 * by the active traceroute and by `anode stats`; nothing reads /proc or the
 * kernel on the packet path. Probes: memory and load (/proc), the link's
 * octets and use over the last period (from the node's link counters), the
 * node's queues, and the link capacity: configured in overlay mode, or, in
 * router mode, the real one, the slowest of the node's interfaces by their
 * speed and any tc rate limit on them (tbf), read over netlink. Services
 * (issue 9) will subscribe to these figures and get events when they
 * change state.
 */
#ifndef MON_H
#define MON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"
#include "core/stat.h"

#define MON_FIGURES(X)                                                                                                 \
	X(mem_total_kb, "memory in all (/proc/meminfo MemTotal), kB")                                                  \
	X(mem_avail_kb, "memory available (MemAvailable), kB")                                                         \
	X(load_milli, "1-minute load average x 1000")                                                                  \
	X(link_rx_bytes, "octets received on the node's link")                                                         \
	X(link_tx_bytes, "octets sent on it")                                                                          \
	X(link_used_bps, "bits/s received and sent over the last second")                                              \
	X(link_capacity_bps, "link capacity, bits/s (configured, or the slowest interface)")                           \
	X(queue_len, "capsules waiting at the node (parked, self-sent, resumed)")

enum mon_figure {
#define MON_ENUM(name, help) MON_##name,
	MON_FIGURES(MON_ENUM)
#undef MON_ENUM
	    MON_N
};

/* What the monitors ask of the node. */
struct mon_ops {
	void *arg;
	void (*link_bytes)(void *arg, uint64_t *ret_rx, uint64_t *ret_tx);
	uint64_t (*queue_len)(void *arg);
	void (*tick)(void *arg); /* once a period, for the node's own slow reads (may be NULL) */
};

struct mon_config {
	unsigned period_ms;    /* 1000 */
	uint64_t capacity_bps; /* the configured link capacity */
	/* Router mode without a privileged parent: the interfaces' speed and
	 * tc rates instead, measured here (with a parent, it measures and
	 * tells: mon_set_capacity). */
	bool measure_capacity;
	unsigned capacity_period_ms; /* 5000 */
};

struct mon;

struct mon *mon_new(struct loop *loop, const struct mon_config *cfg, const struct mon_ops *ops);
void mon_free(struct mon *m);

/* The figure as last sampled, or a negative errno when it is not known. */
int64_t mon_get(const struct mon *m, enum mon_figure f);

/* Every figure as rows of a stats section (0 for one not known). */
void mon_stat_rows(const struct mon *m, struct stat_section *sec);

/* Up to MON_LISTENERS rooms hear fn(arg, resource) when a resource
 * changed between samples, to sample their subscriptions to it at once
 * rather than at the next period: "host_up" when a watched host's
 * presence changed (presence.h), "iface_capacity_bps" when an interface's
 * carrier or shaping did (links.h). -ENOSPC when full. */
#define MON_LISTENERS 4
int mon_listen(struct mon *m, void (*fn)(void *arg, const char *resource), void *arg);
void mon_unlisten(struct mon *m, void (*fn)(void *arg, const char *resource), void *arg);

/* The capacity of interface dev in bits/s, as rtnetlink last told it
 * (links.h: its tbf's rate, else its speed), or a negative errno. */
int64_t mon_iface_capacity(const struct mon *m, const char *dev);

/* The presence probe's socket (presence.h), or NULL when it did not open. */
struct presence *mon_presence(struct mon *m);
/* The link capacity as someone else measured it (a router node's parent,
 * which reads rtnetlink for its child): bits/s; 0 or less, the configured
 * figure. */
void mon_set_capacity(struct mon *m, int64_t bps);

/* The slowest capacity of this host's (network namespace's) interfaces that
 * are up, in bits/s: each interface's speed, or its tbf rate where one
 * limits it. -ENOENT when none is known (capacity.c). */
int64_t mon_capacity_measure(void);

#endif
