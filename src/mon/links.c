// SPDX-License-Identifier: MIT
/*
 * The host's interfaces as rtnetlink tells them (links.h). The dumps at
 * open come on the socket before it joins the groups, so that a reply is
 * never mistaken for an event; a change between the two is missed, once.
 */
#include "mon/links.h"

#include <errno.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#define LINKS_MAX 256

struct link {
	unsigned index; /* 0: free */
	char name[IF_NAMESIZE];
	bool running;
	uint64_t tbf_bps; /* 0: no tbf */
};

struct links {
	struct loop *loop;
	struct mnl_socket *nl;
	struct links_ops ops;
	struct link l[LINKS_MAX];
	uint64_t events;
	bool started; /* past the dumps: changes are told */
};

static struct link *link_find(struct links *ls, unsigned index, bool add)
{
	struct link *free_slot = NULL;
	for (size_t i = 0; i < LINKS_MAX; i++) {
		if (ls->l[i].index == index)
			return &ls->l[i];
		if (!ls->l[i].index && !free_slot)
			free_slot = &ls->l[i];
	}
	if (!add || !free_slot)
		return NULL;
	*free_slot = (struct link){.index = index};
	return free_slot;
}

static int name_attr(const struct nlattr *a, void *data)
{
	const char **name = data;
	if (mnl_attr_get_type(a) == IFLA_IFNAME && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		*name = mnl_attr_get_str(a);
	return MNL_CB_OK;
}

static void link_msg(struct links *ls, const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
		return;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	if (nlh->nlmsg_type == RTM_DELLINK) {
		struct link *k = link_find(ls, (unsigned)ifi->ifi_index, false);
		if (k && k->running && ls->started && ls->ops.carrier)
			ls->ops.carrier(ls->ops.arg, k->name, false);
		if (k)
			k->index = 0;
		return;
	}
	const char *name = NULL;
	mnl_attr_parse(nlh, sizeof(*ifi), name_attr, &name);
	struct link *k = link_find(ls, (unsigned)ifi->ifi_index, true);
	if (!k)
		return;
	if (name)
		snprintf(k->name, sizeof(k->name), "%s", name);
	bool running = (ifi->ifi_flags & IFF_RUNNING) != 0;
	if (running == k->running)
		return;
	k->running = running;
	if (ls->started && ls->ops.carrier && k->name[0])
		ls->ops.carrier(ls->ops.arg, k->name, running);
}

struct qdisc_attrs {
	const char *kind;
	const struct nlattr *options;
};

static int qdisc_attr(const struct nlattr *a, void *data)
{
	struct qdisc_attrs *q = data;
	if (mnl_attr_get_type(a) == TCA_KIND && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		q->kind = mnl_attr_get_str(a);
	else if (mnl_attr_get_type(a) == TCA_OPTIONS)
		q->options = a;
	return MNL_CB_OK;
}

struct tbf_attrs {
	const struct nlattr *parms, *rate64;
};

static int tbf_attr(const struct nlattr *a, void *data)
{
	struct tbf_attrs *t = data;
	if (mnl_attr_get_type(a) == TCA_TBF_PARMS && mnl_attr_get_payload_len(a) >= sizeof(struct tc_tbf_qopt))
		t->parms = a;
	else if (mnl_attr_get_type(a) == TCA_TBF_RATE64 && mnl_attr_validate(a, MNL_TYPE_U64) >= 0)
		t->rate64 = a;
	return MNL_CB_OK;
}

int64_t links_tbf_bps(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct tcmsg)))
		return -EBADMSG;
	const struct tcmsg *tc = mnl_nlmsg_get_payload(nlh);
	struct qdisc_attrs q = {0};
	if (mnl_attr_parse(nlh, sizeof(*tc), qdisc_attr, &q) < 0 || !q.kind || strcmp(q.kind, "tbf") != 0)
		return -ENOENT;
	if (!q.options)
		return 0;
	struct tbf_attrs t = {0};
	mnl_attr_parse_nested(q.options, tbf_attr, &t);
	if (t.rate64)
		return (int64_t)(mnl_attr_get_u64(t.rate64) * 8);
	if (t.parms)
		return (int64_t)((const struct tc_tbf_qopt *)mnl_attr_get_payload(t.parms))->rate.rate * 8;
	return 0;
}

/* A tbf added or changed limits its interface to its rate; one deleted
 * no longer does. Other qdiscs say nothing of capacity. */
static void qdisc_msg(struct links *ls, const struct nlmsghdr *nlh)
{
	int64_t bps = links_tbf_bps(nlh);
	if (bps < 0)
		return;
	const struct tcmsg *tc = mnl_nlmsg_get_payload(nlh);
	struct link *k = link_find(ls, (unsigned)tc->tcm_ifindex, false);
	if (!k)
		return;
	if (nlh->nlmsg_type == RTM_DELQDISC)
		bps = 0;
	if ((uint64_t)bps == k->tbf_bps)
		return;
	k->tbf_bps = (uint64_t)bps;
	if (ls->started && ls->ops.shaping && k->name[0])
		ls->ops.shaping(ls->ops.arg, k->name);
}

static int msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct links *ls = data;
	ls->events++;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
	case RTM_DELLINK:
		link_msg(ls, nlh);
		break;
	case RTM_NEWQDISC:
	case RTM_DELQDISC:
		qdisc_msg(ls, nlh);
		break;
	}
	return MNL_CB_OK;
}

static void readable(void *arg, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	struct links *ls = arg;
	char buf[16384];
	for (int budget = 64; budget > 0; budget--) {
		ssize_t n = recv(mnl_socket_get_fd(ls->nl), buf, sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			break; /* ENOBUFS (events lost) included: the next ones still come */
		mnl_cb_run(buf, (size_t)n, 0, 0, msg_cb, ls);
	}
}

static int dump(struct links *ls, uint16_t type, size_t extra)
{
	char buf[16384];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (unsigned)time(NULL) + type;
	mnl_nlmsg_put_extra_header(nlh, extra); /* zeroed: every family, every interface */
	unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(ls->nl);
	if (mnl_socket_sendto(ls->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(ls->nl, buf, sizeof(buf));
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		int r = mnl_cb_run(buf, (size_t)n, seq, portid, msg_cb, ls);
		if (r <= MNL_CB_STOP)
			return r < 0 ? -errno : 0;
	}
}

struct links *links_open(struct loop *loop, const struct links_ops *ops)
{
	struct links *ls = calloc(1, sizeof(*ls));
	if (!ls)
		return NULL;
	ls->loop = loop;
	ls->ops = *ops;
	int groups[] = {RTNLGRP_LINK, RTNLGRP_TC};
	ls->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!ls->nl || mnl_socket_bind(ls->nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    dump(ls, RTM_GETLINK, sizeof(struct ifinfomsg)) < 0 || dump(ls, RTM_GETQDISC, sizeof(struct tcmsg)) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(ls->nl, NETLINK_ADD_MEMBERSHIP, &groups[i], sizeof(groups[i])) < 0)
			goto fail;
	if (loop_fd_add(loop, mnl_socket_get_fd(ls->nl), EPOLLIN, readable, ls) < 0)
		goto fail;
	ls->started = true;
	return ls;
fail:;
	int e = errno;
	if (ls->nl)
		mnl_socket_close(ls->nl);
	free(ls);
	errno = e;
	return NULL;
}

void links_close(struct links *l)
{
	if (!l)
		return;
	loop_fd_del(l->loop, mnl_socket_get_fd(l->nl));
	mnl_socket_close(l->nl);
	free(l);
}

int64_t links_capacity(const struct links *l, const char *name)
{
	const struct link *k = NULL;
	for (size_t i = 0; i < LINKS_MAX && !k; i++)
		if (l->l[i].index && !strcmp(l->l[i].name, name))
			k = &l->l[i];
	if (!k)
		return -ENOENT;
	if (k->tbf_bps)
		return (int64_t)k->tbf_bps;
	char path[96], buf[32];
	snprintf(path, sizeof(path), "/sys/class/net/%s/speed", k->name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -ENODATA;
	long mbps = fgets(buf, sizeof(buf), f) ? strtol(buf, NULL, 10) : -1;
	fclose(f);
	return mbps > 0 ? (int64_t)mbps * 1000000 : -ENODATA;
}

uint64_t links_events(const struct links *l)
{
	return l->events;
}
