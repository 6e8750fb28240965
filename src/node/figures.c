// SPDX-License-Identifier: MIT
/*
 * The node's figures for information collection (an_node_info): link use
 * over the last second and the host's memory and load, sampled once a
 * second by a timer, never read on the packet path (a run must cost what
 * its budget says). The monitors room (src/mon) will own these.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/fetch.h"
#include "node/node_impl.h"

#define FIGURES_PERIOD_MS 1000

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
	struct node *n = arg;
	struct node_figures *f = &n->fig;
	uint64_t now = loop_now_ns();
	uint64_t bytes = n->udp->counters.rx_bytes + n->udp->counters.tx_bytes;
	if (f->rate_last_ns && now > f->rate_last_ns)
		f->link_used_bps = (bytes - f->rate_last_bytes) * 8ull * 1000000000ull / (now - f->rate_last_ns);
	f->rate_last_bytes = bytes;
	f->rate_last_ns = now;
	link_udp_read_kernel_drops(n->udp);
	f->mem_total_kb = meminfo_kb("MemTotal");
	f->mem_avail_kb = meminfo_kb("MemAvailable");
	f->load_milli = load_milli();
	loop_timer_add(n->loop, FIGURES_PERIOD_MS, sample, n);
}

void figures_start(struct node *n)
{
	sample(n);
}

/* The figures for an_node_info() (the EE asks for the capsule's own receive
 * time itself, from what the node gave the run). */
int64_t figures_node_info(void *arg, uint64_t what)
{
	struct node *n = arg;
	const struct node_figures *f = &n->fig;
	switch (what) {
	case AN_INFO_LINK_CAPACITY_BPS:
		return (int64_t)n->cfg.link_capacity_bps;
	case AN_INFO_LINK_RX_BYTES:
		return (int64_t)n->udp->counters.rx_bytes;
	case AN_INFO_LINK_TX_BYTES:
		return (int64_t)n->udp->counters.tx_bytes;
	case AN_INFO_LINK_USED_BPS:
		return (int64_t)f->link_used_bps;
	case AN_INFO_MEM_USED_KB:
		return f->mem_total_kb < 0 || f->mem_avail_kb < 0 ? -EIO : f->mem_total_kb - f->mem_avail_kb;
	case AN_INFO_MEM_TOTAL_KB:
		return f->mem_total_kb;
	case AN_INFO_MEM_AVAIL_KB:
		return f->mem_avail_kb;
	case AN_INFO_LOAD_MILLI:
		return f->load_milli;
	case AN_INFO_CAPSULES_RX:
		return (int64_t)(n->c.received + n->c.injected);
	case AN_INFO_QUEUE_LEN:
		/* Capsules waiting here: parked for code, or looped to this node. */
		return (int64_t)(fetch_parked(n->fetch) + n->self_q.len + n->resume_q.len);
	case AN_INFO_CODE_CACHED:
		return (int64_t)ee_code_list(n->ee, NULL, 0);
	default:
		return -EINVAL;
	}
}

