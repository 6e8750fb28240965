// SPDX-License-Identifier: MIT
/*
 * The monitors room (mon.h): one timer samples every figure each period;
 * the link capacity is measured less often, as it changes only when an
 * operator changes it.
 */
#include "mon/mon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon/links.h"
#include "mon/presence.h"

struct mon {
	struct loop *loop;
	struct mon_config cfg;
	struct mon_ops ops;
	struct loop_timer *timer;
	int64_t fig[MON_N];
	uint64_t last_bytes, last_ns, last_capacity_ns;
	struct presence *presence; /* host_up's probe socket, opened at start */
	struct links *links;	   /* rtnetlink: carrier and shaping, opened at start */
	bool ticking;		   /* past the first sample: the node's tick runs */
	struct {
		void (*fn)(void *arg, const char *resource);
		void *arg;
	} listeners[MON_LISTENERS];
};

/* One "Key: value kB" figure of /proc/meminfo, or -EIO. */
static int64_t meminfo_kb(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return -EIO;
	char line[256];
	int64_t v = -EIO;
	size_t klen = strlen(key);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtoll(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int64_t load_milli(void)
{
	FILE *f = fopen("/proc/loadavg", "re");
	if (!f)
		return -EIO;
	double l1;
	int ok = fscanf(f, "%lf", &l1);
	fclose(f);
	return ok == 1 ? (int64_t)(l1 * 1000.0) : -EIO;
}

static void sample(void *arg)
{
	struct mon *m = arg;
	uint64_t now = loop_now_ns();
	uint64_t rx = 0, tx = 0;
	m->ops.link_bytes(m->ops.arg, &rx, &tx);
	if (m->last_ns && now > m->last_ns && rx + tx >= m->last_bytes)
		m->fig[MON_link_used_bps] =
		    (int64_t)((rx + tx - m->last_bytes) * 8ull * 1000000000ull / (now - m->last_ns));
	m->last_bytes = rx + tx;
	m->last_ns = now;
	m->fig[MON_link_rx_bytes] = (int64_t)rx;
	m->fig[MON_link_tx_bytes] = (int64_t)tx;
	m->fig[MON_mem_total_kb] = meminfo_kb("MemTotal");
	m->fig[MON_mem_avail_kb] = meminfo_kb("MemAvailable");
	m->fig[MON_load_milli] = load_milli();
	m->fig[MON_queue_len] = (int64_t)m->ops.queue_len(m->ops.arg);
	if (m->presence)
		presence_tick(m->presence, now);
	if (m->cfg.measure_capacity &&
	    (!m->last_capacity_ns || now - m->last_capacity_ns >= m->cfg.capacity_period_ms * 1000000ull)) {
		int64_t c = mon_capacity_measure();
		/* Nothing measurable (no interface up yet): the configured figure. */
		m->fig[MON_link_capacity_bps] = c > 0 ? c : (int64_t)m->cfg.capacity_bps;
		m->last_capacity_ns = now;
	}
	/* Not on the first sample, taken in mon_new: the node is not set up
	 * yet (it has no monitors to give its rooms). */
	if (m->ops.tick && m->ticking)
		m->ops.tick(m->ops.arg);
	m->ticking = true;
	m->timer = loop_timer_add(m->loop, m->cfg.period_ms, sample, m);
}

static void tell(struct mon *m, const char *resource)
{
	for (size_t i = 0; i < MON_LISTENERS; i++)
		if (m->listeners[i].fn)
			m->listeners[i].fn(m->listeners[i].arg, resource);
}

/* A host's presence changed between samples: whoever watches hears it now. */
static void presence_changed(void *arg)
{
	tell(arg, "host_up");
}

static void carrier_changed(void *arg, const char *name, bool running)
{
	struct mon *m = arg;
	if (m->presence)
		presence_carrier(m->presence, name, running, loop_now_ns());
	tell(m, "iface_capacity_bps"); /* an interface down has no capacity to speak of */
}

static void shaping_changed(void *arg, const char *name)
{
	(void)name;
	tell(arg, "iface_capacity_bps");
}

int mon_listen(struct mon *m, void (*fn)(void *arg, const char *resource), void *arg)
{
	for (size_t i = 0; i < MON_LISTENERS; i++)
		if (!m->listeners[i].fn) {
			m->listeners[i].fn = fn;
			m->listeners[i].arg = arg;
			return 0;
		}
	return -ENOSPC;
}

void mon_unlisten(struct mon *m, void (*fn)(void *arg, const char *resource), void *arg)
{
	for (size_t i = 0; i < MON_LISTENERS; i++)
		if (m->listeners[i].fn == fn && m->listeners[i].arg == arg)
			m->listeners[i].fn = NULL;
}

struct mon *mon_new(struct loop *loop, const struct mon_config *cfg, const struct mon_ops *ops)
{
	if (!ops || !ops->link_bytes || !ops->queue_len) {
		errno = EINVAL;
		return NULL;
	}
	struct mon *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->loop = loop;
	m->cfg = *cfg;
	if (!m->cfg.period_ms)
		m->cfg.period_ms = 1000;
	if (!m->cfg.capacity_period_ms)
		m->cfg.capacity_period_ms = 5000;
	m->ops = *ops;
	for (size_t i = 0; i < MON_N; i++)
		m->fig[i] = -EAGAIN; /* not sampled yet */
	m->fig[MON_link_used_bps] = 0;
	m->fig[MON_link_capacity_bps] = (int64_t)m->cfg.capacity_bps;
	/* Opened now: a router node's child opens no socket once it runs. */
	m->presence = presence_open(loop, presence_changed, m);
	struct links_ops lo = {.arg = m, .carrier = carrier_changed, .shaping = shaping_changed};
	m->links = links_open(loop, &lo); /* without: presence follows the probes alone */
	sample(m);
	return m;
}

void mon_free(struct mon *m)
{
	if (!m)
		return;
	loop_timer_cancel(m->loop, m->timer);
	presence_close(m->presence);
	links_close(m->links);
	free(m);
}

struct presence *mon_presence(struct mon *m)
{
	return m->presence;
}

int64_t mon_iface_capacity(const struct mon *m, const char *dev)
{
	return m->links ? links_capacity(m->links, dev) : -EOPNOTSUPP;
}

void mon_set_capacity(struct mon *m, int64_t bps)
{
	m->fig[MON_link_capacity_bps] = bps > 0 ? bps : (int64_t)m->cfg.capacity_bps;
}

int64_t mon_get(const struct mon *m, enum mon_figure f)
{
	return f < MON_N ? m->fig[f] : -EINVAL;
}

void mon_stat_rows(const struct mon *m, struct stat_section *sec)
{
#define MON_ROW(name, help) stat_add(sec, #name, help, (uint64_t)(m->fig[MON_##name] < 0 ? 0 : m->fig[MON_##name]));
	MON_FIGURES(MON_ROW)
#undef MON_ROW
	struct presence_counters pc = {0};
	if (m->presence)
		presence_counters(m->presence, &pc);
	stat_add_counter(sec, "presence_probes", "host_up probes sent", pc.probes);
	stat_add_counter(sec, "presence_answers", "host_up probes answered", pc.answers);
	stat_add_counter(sec, "presence_link_events", "carrier changes told to the presence probe", pc.link_events);
	stat_add_counter(sec, "rtnetlink_messages", "link and qdisc messages heard (rtnetlink)",
			 m->links ? links_events(m->links) : 0);
	stat_add_counter(sec, "presence_changes", "hosts found present or absent", pc.changes);
}
