// SPDX-License-Identifier: MIT
/*
 * Opening and configuring an NFQUEUE queue socket (nfq.h). The socket is
 * used by whoever it is handed to (the matching engine, match.c): its
 * binding belongs to the socket, not to the process that made it, and the
 * queue unbinds when the last descriptor to it closes.
 */
#include "link/nfq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

/* Send one config message and wait for the kernel's answer. */
static int queue_config(struct mnl_socket *nl, struct nlmsghdr *nlh, uint32_t seq)
{
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	char buf[8192];
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0)
			return -errno;
		int c = mnl_cb_run(buf, (size_t)r, seq, mnl_socket_get_portid(nl), NULL, NULL);
		if (c < 0)
			return -errno;
		if (c == MNL_CB_STOP)
			return 0;
	}
}

static int queue_setup(struct mnl_socket *nl, uint16_t queue)
{
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	int fd = mnl_socket_get_fd(nl);
	int sz = NFQ_RCVBUF;
	/* FORCE passes rmem_max for a privileged opener; otherwise take what
	 * the system allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	char buf[512];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	int r = queue_config(nl, nlh, 1);
	if (r < 0)
		return r;
	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, queue);
	/* Whole packets, without NFQA_CFG_F_GSO, so that the kernel segments
	 * GSO packets and fills in offloaded checksums before queueing. A
	 * full queue lets packets through rather than dropping them. */
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, NFQ_QUEUE_MAXLEN);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	return queue_config(nl, nlh, 2);
}

int nfq_queue_open(uint16_t queue)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	int r = queue_setup(nl, queue);
	/* libmnl has no way to give up its socket without closing it: keep a
	 * duplicate, which is the same socket. */
	int fd = r;
	if (r == 0) {
		fd = fcntl(mnl_socket_get_fd(nl), F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			fd = -errno;
	}
	mnl_socket_close(nl);
	return fd;
}
