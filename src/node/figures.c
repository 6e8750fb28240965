// SPDX-License-Identifier: MIT
/*
 * The node's figures for code objects (an_node_info) and stats, read from
 * the monitors room (src/mon), which samples them on its timer: the node
 * tells it where its link counters and queues are.
 */
#include <errno.h>

#include "mon/mon.h"
#include "priv/priv.h"
#include "node/room.h"

static void link_bytes(void *arg, uint64_t *ret_rx, uint64_t *ret_tx)
{
	struct node *n = arg;
	*ret_rx = n->udp->counters.rx_bytes;
	*ret_tx = n->udp->counters.tx_bytes;
}

static uint64_t queue_len(void *arg)
{
	struct node *n = arg;
	/* Packets waiting here: sent by code to this node, resumed and
	 * waiting to run, or held by a room (parked for code). */
	uint64_t len = n->self_q.len + n->resume_q.len;
	for (size_t i = 0; i < rooms_count(); i++)
		if (n->room_up[i] && rooms_at(i)->queued)
			len += rooms_at(i)->queued(n->room_state[i]);
	return len;
}

static void tick(void *arg)
{
	struct node *n = arg;
	link_udp_read_kernel_drops(n->udp);
	/* The rooms' work of the second, with the figures just sampled
	 * (services: custom probes run, then subscriptions are sampled). */
	for (size_t i = 0; i < rooms_count(); i++)
		if (n->room_up[i] && rooms_at(i)->tick)
			rooms_at(i)->tick(n->room_state[i]);
}

static void capacity_from_parent(void *arg, int64_t bps)
{
	struct node *n = arg;
	mon_set_capacity(n->mon, bps);
}

int figures_start(struct node *n)
{
	struct mon_config mc = {
	    .capacity_bps = n->cfg.link_capacity_bps,
	    /* A router's links are real interfaces: their capacity is
	     * measured; an overlay node's link is what it is configured. */
	    .measure_capacity = n->cfg.router && !n->priv,
	};
	struct mon_ops ops = {.arg = n, .link_bytes = link_bytes, .queue_len = queue_len, .tick = tick};
	n->mon = mon_new(n->loop, &mc, &ops);
	if (!n->mon)
		return -ENOMEM;
	/* With a privileged parent, the capacity comes from it: reading
	 * rtnetlink takes a socket the child may no longer open. */
	if (n->priv)
		priv_chan_set_capacity_handler(n->priv, capacity_from_parent, n);
	return 0;
}

void figures_stop(struct node *n)
{
	mon_free(n->mon);
	n->mon = NULL;
}

int64_t figures_node_info(void *arg, uint64_t what)
{
	struct node *n = arg;
	const struct mon *m = n->mon;
	switch (what) {
	case AN_INFO_LINK_CAPACITY_BPS:
		return mon_get(m, MON_link_capacity_bps);
	/* The link's counters are the node's own memory: read as they are
	 * now, not as last sampled. */
	case AN_INFO_LINK_RX_BYTES:
		return (int64_t)n->udp->counters.rx_bytes;
	case AN_INFO_LINK_TX_BYTES:
		return (int64_t)n->udp->counters.tx_bytes;
	case AN_INFO_LINK_USED_BPS:
		return mon_get(m, MON_link_used_bps);
	case AN_INFO_MEM_USED_KB: {
		int64_t total = mon_get(m, MON_mem_total_kb), avail = mon_get(m, MON_mem_avail_kb);
		return total < 0 || avail < 0 ? -EIO : total - avail;
	}
	case AN_INFO_MEM_TOTAL_KB:
		return mon_get(m, MON_mem_total_kb);
	case AN_INFO_MEM_AVAIL_KB:
		return mon_get(m, MON_mem_avail_kb);
	case AN_INFO_LOAD_MILLI:
		return mon_get(m, MON_load_milli);
	case AN_INFO_CAPSULES_RX:
		return (int64_t)(n->c.received + n->c.injected);
	case AN_INFO_QUEUE_LEN:
		return mon_get(m, MON_queue_len);
	case AN_INFO_CODE_CACHED:
		return (int64_t)ee_code_list(n->ee, NULL, 0);
	default:
		return -EINVAL;
	}
}
