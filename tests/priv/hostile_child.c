// SPDX-License-Identifier: MIT
/*
 * A build-time hook for tests (tests/priv/test_hostile_child.sh): linked
 * into anoded-hostile only, it plays a node child taken over by hostile
 * input. A second after the child dropped its privileges (its queue socket
 * is there by then), it tries what ANODE_HOSTILE_ATTACK names with what a
 * compromised child has: CAP_NET_ADMIN, its system call allow-list, the
 * sockets it holds. Each attempt says on stderr that it starts, and what
 * came of it if the child lives on:
 *
 *   route      add a route (a new rtnetlink socket)
 *   addr       add an address to lo (a new rtnetlink socket)
 *   rule-exec  run iptables to add a firewall rule
 *   rule-raw   open the raw socket iptables-legacy's setsockopt needs
 *   rule-nfq   add an nftables table through the NFQUEUE socket it holds
 *   rule-sockopt  iptables-legacy's replace command (IPT_SO_SET_REPLACE)
 *              on an IPv4 or IPv6 socket it holds
 *   kern-up    ask the parent for AF_XDP sockets again and again (each
 *              answer would pin new memory): a request it may make
 */
#include <errno.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "core/loop.h"
#include "node/node.h"
#include "node/room.h" /* struct node: its channel to the parent */
#include "priv/priv.h"
#include "priv_hostile.h"

/* NFPROTO_INET (linux/netfilter.h clashes with netinet/in.h) */
#ifndef NFPROTO_INET
#define NFPROTO_INET 1
#endif

#define HOSTILE_NET 0x0adede00 /* 10.222.222.0 */

static void say(const char *attack, const char *what, int err)
{
	fprintf(stderr, "hostile: %s: %s%s%s\n", attack, what, err ? ": " : "", err ? strerror(err) : "");
}

/* One rtnetlink request on a new socket: the route or the address. */
static void rtnl(const char *attack, bool addr)
{
	say(attack, "trying", 0);
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return say(attack, "no rtnetlink socket", errno);
	char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
	uint32_t a = htonl(HOSTILE_NET | (addr ? 1 : 0));
	if (addr) {
		nlh->nlmsg_type = RTM_NEWADDR;
		struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_INET;
		ifa->ifa_prefixlen = 32;
		ifa->ifa_index = 1; /* lo */
		mnl_attr_put_u32(nlh, IFA_LOCAL, a);
		mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
	} else {
		nlh->nlmsg_type = RTM_NEWROUTE;
		struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
		rt->rtm_family = AF_INET;
		rt->rtm_dst_len = 24;
		rt->rtm_table = RT_TABLE_MAIN;
		rt->rtm_protocol = RTPROT_STATIC;
		rt->rtm_scope = RT_SCOPE_LINK;
		rt->rtm_type = RTN_UNICAST;
		mnl_attr_put_u32(nlh, RTA_DST, a);
		mnl_attr_put_u32(nlh, RTA_OIF, 1);
	}
	int r = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ? errno : 0;
	if (!r && mnl_socket_recvfrom(nl, buf, sizeof(buf)) > 0) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload((struct nlmsghdr *)buf);
		r = -e->error;
	}
	mnl_socket_close(nl);
	say(attack, r ? "NOT STOPPED by the allow-list, refused by the kernel" : "NOT STOPPED: done", r);
}

/* A NETLINK_NETFILTER socket the child holds (a queue's). */
static int netfilter_fd(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		int proto;
		socklen_t len = sizeof(proto);
		if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) == 0 && proto == NETLINK_NETFILTER)
			return fd;
	}
	return -1;
}

static struct nlmsghdr *batch_mark(char *at, uint16_t type, uint32_t seq)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(at);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	return nlh;
}

/* An nftables batch adding table inet anode_hostile, on the queue socket. */
static void nfq_table(const char *attack)
{
	say(attack, "trying", 0);
	int fd = netfilter_fd();
	if (fd < 0)
		return say(attack, "no NETLINK_NETFILTER socket held", 0);
	char buf[1024];
	uint32_t seq = (uint32_t)time(NULL);
	char *p = buf;
	struct nlmsghdr *b = batch_mark(p, NFNL_MSG_BATCH_BEGIN, seq);
	p += b->nlmsg_len;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(p);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK;
	nlh->nlmsg_seq = seq + 1;
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_INET;
	g->version = NFNETLINK_V0;
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, "anode_hostile");
	p += nlh->nlmsg_len;
	struct nlmsghdr *e = batch_mark(p, NFNL_MSG_BATCH_END, seq + 2);
	p += e->nlmsg_len;
	struct sockaddr_nl to = {.nl_family = AF_NETLINK};
	if (sendto(fd, buf, (size_t)(p - buf), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		return say(attack, "the kernel took no batch", errno);
	/* The answer shares the socket with queued packets: look for ours. */
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; mnl_nlmsg_ok(h, (int)n);
		     h = mnl_nlmsg_next(h, (int *)&n))
			if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq + 1) {
				const struct nlmsgerr *err = mnl_nlmsg_get_payload(h);
				return say(attack, err->error ? "refused by the kernel" : "NOT STOPPED: done",
					   -err->error);
			}
	}
	say(attack, "sent; no answer seen", 0);
}

/* A socket of family fam the child holds. */
static int inet_fd(int fam)
{
	for (int fd = 3; fd < 1024; fd++) {
		int d;
		socklen_t len = sizeof(d);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &d, &len) == 0 && d == fam)
			return fd;
	}
	return -1;
}

/* What iptables-legacy sends: the kernel reads the table name and sizes
 * first, and checks CAP_NET_ADMIN before anything. A zeroed replace names
 * no table, so that even a kernel that took it changes nothing. */
static void sockopt_replace(const char *attack)
{
	say(attack, "trying", 0);
	int fd = inet_fd(AF_INET);
	if (fd < 0)
		fd = inet_fd(AF_INET6);
	if (fd < 0)
		return say(attack, "no IPv4 or IPv6 socket held", 0);
	char repl[512] = {0};
	int r = setsockopt(fd, IPPROTO_IP, 64 /* IPT_SO_SET_REPLACE */, repl, sizeof(repl)) < 0 ? errno : 0;
	say(attack, r ? "NOT STOPPED by the allow-list, refused by the kernel" : "NOT STOPPED: done", r);
}

static void attack(void *arg)
{
	const char *what = getenv("ANODE_HOSTILE_ATTACK");
	if (!what)
		return;
	if (!strcmp(what, "route")) {
		rtnl(what, false);
	} else if (!strcmp(what, "addr")) {
		rtnl(what, true);
	} else if (!strcmp(what, "rule-exec")) {
		say(what, "trying", 0);
		char *argv[] = {"iptables",   "-w",	"-t",	   "mangle",	"-A",
				"PREROUTING", "-m",	"comment", "--comment", "anode-hostile",
				"-j",	      "ACCEPT", NULL};
		execv("/usr/sbin/iptables", argv);
		say(what, "NOT STOPPED by the allow-list, exec failed", errno);
	} else if (!strcmp(what, "rule-raw")) {
		say(what, "trying", 0);
		int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
		say(what, fd >= 0 ? "NOT STOPPED: a raw socket" : "NOT STOPPED by the allow-list, refused",
		    fd < 0 ? errno : 0);
	} else if (!strcmp(what, "rule-nfq")) {
		nfq_table(what);
	} else if (!strcmp(what, "rule-sockopt")) {
		sockopt_replace(what);
	} else if (!strcmp(what, "kern-up")) {
		struct node *n = arg;
		say(what, "trying", 0);
		int sent = 0;
		for (int i = 0; i < 20; i++)
			sent += n->priv && priv_chan_kern_up(n->priv) == 0;
		fprintf(stderr, "hostile: kern-up: %d requests sent\n", sent);
	}
}

void priv_hostile_arm(struct node *n)
{
	loop_timer_add(node_loop(n), 1000, attack, n);
}
