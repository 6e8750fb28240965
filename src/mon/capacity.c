// SPDX-License-Identifier: MIT
/*
 * The real link capacity of a router (mon.h): each interface that is up
 * (loopback aside) has its speed (/sys/class/net/IF/speed, Mb/s) and, where
 * tc shapes it with a token bucket (tbf, as `anode lab` sets up a link of
 * "10mbit"), that rate; the node's capacity is the slowest of them, the
 * bottleneck it sits on. The qdiscs come from the kernel over rtnetlink
 * (libmnl), not from running tc.
 */
#include <errno.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "mon/links.h"
#include "mon/mon.h"

#define CAP_IFS 64

struct cap_if {
	unsigned index;
	uint64_t bps; /* 0: not known */
};

struct cap_walk {
	struct cap_if ifs[CAP_IFS];
	size_t n;
};

static struct cap_if *cap_find(struct cap_walk *w, unsigned index)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->ifs[i].index == index)
			return &w->ifs[i];
	return NULL;
}

static void cap_limit(struct cap_if *c, uint64_t bps)
{
	if (bps && (!c->bps || bps < c->bps))
		c->bps = bps;
}

/* The speed of an interface that is up, in bits/s; 0 when not known (down,
 * or a virtual interface that reports none). */
static uint64_t if_speed_bps(const char *name)
{
	char path[128], buf[64];
	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", name);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	bool up = fgets(buf, sizeof(buf), f) && strncmp(buf, "up", 2) == 0;
	fclose(f);
	if (!up)
		return 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", name);
	f = fopen(path, "re");
	if (!f)
		return 0;
	long mbps = fgets(buf, sizeof(buf), f) ? strtol(buf, NULL, 10) : -1;
	fclose(f);
	return mbps > 0 ? (uint64_t)mbps * 1000000ull : 0;
}

/* One qdisc of the dump: a tbf limits its interface to its rate. */
static int qdisc_msg(const struct nlmsghdr *nlh, void *data)
{
	struct cap_walk *w = data;
	int64_t bps = links_tbf_bps(nlh);
	if (bps <= 0)
		return MNL_CB_OK;
	struct cap_if *c = cap_find(w, (unsigned)((const struct tcmsg *)mnl_nlmsg_get_payload(nlh))->tcm_ifindex);
	if (c)
		cap_limit(c, (uint64_t)bps);
	return MNL_CB_OK;
}

static void walk_qdiscs(struct cap_walk *w)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return;
	char *buf = malloc(MNL_SOCKET_BUFFER_SIZE);
	if (!buf || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETQDISC;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (unsigned)time(NULL);
	struct tcmsg *tc = mnl_nlmsg_put_extra_header(nlh, sizeof(*tc));
	tc->tcm_family = AF_UNSPEC;
	unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, MNL_SOCKET_BUFFER_SIZE);
		if (n <= 0)
			break;
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, qdisc_msg, w);
		if (r <= MNL_CB_STOP)
			break;
	}
out:
	free(buf);
	mnl_socket_close(nl);
}

int64_t mon_capacity_measure(void)
{
	struct cap_walk w = { .n = 0 };
	struct if_nameindex *ifs = if_nameindex();
	if (!ifs)
		return -errno;
	for (struct if_nameindex *i = ifs; i->if_index && w.n < CAP_IFS; i++) {
		if (strcmp(i->if_name, "lo") == 0)
			continue;
		uint64_t speed = if_speed_bps(i->if_name);
		if (!speed)
			continue; /* down, or nothing to say */
		w.ifs[w.n++] = (struct cap_if){ .index = i->if_index, .bps = speed };
	}
	if_freenameindex(ifs);
	if (w.n == 0)
		return -ENOENT;
	walk_qdiscs(&w);
	uint64_t slowest = 0;
	for (size_t i = 0; i < w.n; i++)
		if (w.ifs[i].bps && (!slowest || w.ifs[i].bps < slowest))
			slowest = w.ifs[i].bps;
	return slowest ? (int64_t)slowest : -ENOENT;
}
