// SPDX-License-Identifier: MIT
/*
 * The baseline of the router-mode benchmark (issue 4): a plain C NFQUEUE
 * pass-through that binds one queue and accepts every packet unmodified,
 * with the same choices as src/link/match.c (libmnl, whole-packet copy,
 * fail-open, queue length 4096, 16 MiB receive buffer, recvmmsg batches of
 * 16 and one sendto for a batch's verdicts), but no event loop and no
 * handler. What anoded costs above this is the node's own overhead.
 *
 *   nfq_pass QUEUE      (SIGINT/SIGTERM: print the packet count and exit)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 16
#define SLOT (0xffff + 4096)
#define TX (BATCH * 64)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int config(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	static unsigned seq;
	char buf[8192];
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = ++seq;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (r < 0)
			return -1;
		int c = mnl_cb_run(buf, (size_t)r, nlh->nlmsg_seq, mnl_socket_get_portid(nl), NULL, NULL);
		if (c <= MNL_CB_STOP)
			return c;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nfq_pass QUEUE\n");
		return 2;
	}
	uint16_t queue = (uint16_t)atoi(argv[1]);
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("nfq_pass: netlink");
		return 1;
	}
	int fd = mnl_socket_get_fd(nl);
	int sz = 16 * 1024 * 1024;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	char cbuf[8192];
	struct nlmsghdr *nlh = nfq_nlmsg_put(cbuf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND);
	if (config(nl, nlh) < 0) {
		fprintf(stderr, "nfq_pass: bind queue %u: %s\n", queue, strerror(errno));
		return 1;
	}
	nlh = nfq_nlmsg_put(cbuf, NFQNL_MSG_CONFIG, queue);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, 4096);
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(NFQA_CFG_F_FAIL_OPEN));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(NFQA_CFG_F_FAIL_OPEN));
	if (config(nl, nlh) < 0) {
		fprintf(stderr, "nfq_pass: configure queue %u: %s\n", queue, strerror(errno));
		return 1;
	}
	/* No SA_RESTART: a signal must end the blocking recvmmsg. */
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	static uint8_t slot[BATCH][SLOT];
	static uint8_t tx[TX];
	struct iovec iov[BATCH];
	struct mmsghdr msg[BATCH];
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){.iov_base = slot[i], .iov_len = SLOT};
		msg[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	unsigned long long packets = 0, overflows = 0, failed = 0;
	while (!stop) {
		int n = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == ENOBUFS)
				overflows++;
			else if (errno != EINTR)
				perror("nfq_pass: recvmmsg");
			continue;
		}
		size_t tx_len = 0;
		for (int i = 0; i < n; i++) {
			int left = (int)msg[i].msg_len;
			for (struct nlmsghdr *h = (struct nlmsghdr *)slot[i]; mnl_nlmsg_ok(h, left);
			     h = mnl_nlmsg_next(h, &left)) {
				if (h->nlmsg_type == NLMSG_ERROR) {
					failed++;
					continue;
				}
				struct nlattr *attr[NFQA_MAX + 1] = {0};
				if (nfq_nlmsg_parse(h, attr) < 0 || !attr[NFQA_PACKET_HDR])
					continue;
				const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
				if (tx_len + 64 > TX) {
					mnl_socket_sendto(nl, tx, tx_len);
					tx_len = 0;
				}
				struct nlmsghdr *v = nfq_nlmsg_put((char *)tx + tx_len, NFQNL_MSG_VERDICT, queue);
				nfq_nlmsg_verdict_put(v, (int)ntohl(ph->packet_id), NF_ACCEPT);
				tx_len += NLMSG_ALIGN(v->nlmsg_len);
				packets++;
			}
		}
		if (tx_len && mnl_socket_sendto(nl, tx, tx_len) < 0)
			perror("nfq_pass: verdicts");
	}
	printf("packets=%llu overflows=%llu failed_verdicts=%llu\n", packets, overflows, failed);
	mnl_socket_close(nl);
	return 0;
}
