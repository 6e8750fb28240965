// SPDX-License-Identifier: MIT
/*
 * NFQUEUE (nfq.h): opening and configuring a queue socket, and the
 * transport over it (batched reads, batched verdicts). A socket is used by
 * whoever it is handed to (the matching engine, match.c): its binding
 * belongs to the socket, not to the process that made it, and the queue
 * unbinds when the last descriptor to it closes.
 */
#include "link/nfq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

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

/* ---- the transport ---- */

/* A whole IPv4 packet plus the netlink and nfqueue headers in front of it. */
#define NFQ_SLOT_SIZE (0xffff + 4096)
/* Verdicts of one batch, or one rewritten packet with its headers. */
#define NFQ_TX_SIZE (2 * 0xffff)

struct nfq_io {
	struct nfq_counters c;
	uint8_t *slot[NFQ_BATCH];
	struct iovec iov[NFQ_BATCH];
	struct mmsghdr msg[NFQ_BATCH];
	/* Pending verdicts, all for one socket. */
	uint8_t *tx;
	size_t tx_len;
	int tx_fd;
	uint16_t tx_queue;
};

struct nfq_io *nfq_io_new(const struct nfq_counters *c)
{
	struct nfq_io *io = calloc(1, sizeof(*io));
	if (!io)
		return NULL;
	io->c = *c;
	io->tx_fd = -1;
	io->tx = malloc(NFQ_TX_SIZE);
	if (!io->tx)
		goto fail;
	for (unsigned i = 0; i < NFQ_BATCH; i++) {
		io->slot[i] = malloc(NFQ_SLOT_SIZE);
		if (!io->slot[i])
			goto fail;
		io->iov[i] = (struct iovec){.iov_base = io->slot[i], .iov_len = NFQ_SLOT_SIZE};
		io->msg[i].msg_hdr = (struct msghdr){.msg_iov = &io->iov[i], .msg_iovlen = 1};
	}
	return io;
fail:
	nfq_io_free(io);
	return NULL;
}

void nfq_io_free(struct nfq_io *io)
{
	if (!io)
		return;
	nfq_flush(io);
	for (unsigned i = 0; i < NFQ_BATCH; i++)
		free(io->slot[i]);
	free(io->tx);
	free(io);
}

void nfq_flush(struct nfq_io *io)
{
	if (!io->tx_len)
		return;
	struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	if (sendto(io->tx_fd, io->tx, io->tx_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		/* The packets stay queued in the kernel until the queue goes;
		 * nothing better can be done for them here. */
		unsigned n = 0;
		for (size_t off = 0; off < io->tx_len;) {
			const struct nlmsghdr *nlh = (const struct nlmsghdr *)(io->tx + off);
			off += NLMSG_ALIGN(nlh->nlmsg_len);
			n++;
		}
		*io->c.failed_verdicts += n;
		log_ratelimited(LOG_DEBUG, "nfq: queue %u: sending %u verdict(s): %s", io->tx_queue, n,
				strerror(errno));
	}
	io->tx_len = 0;
	io->tx_fd = -1;
}

void nfq_forget(struct nfq_io *io, int fd)
{
	if (io->tx_fd == fd)
		nfq_flush(io);
}

void nfq_verdict(struct nfq_io *io, int fd, uint16_t queue, uint32_t id, int verdict, const void *data, size_t len)
{
	size_t need = NLMSG_ALIGN(sizeof(struct nlmsghdr)) + NLMSG_ALIGN(sizeof(struct nfgenmsg)) +
		      2 * MNL_ALIGN(sizeof(struct nlattr) + sizeof(struct nfqnl_msg_verdict_hdr)) +
		      (data ? MNL_ALIGN(sizeof(struct nlattr) + len) : 0);
	if (io->tx_fd != fd || io->tx_len + need > NFQ_TX_SIZE)
		nfq_flush(io);
	io->tx_fd = fd;
	io->tx_queue = queue;
	struct nlmsghdr *nlh = nfq_nlmsg_put((char *)io->tx + io->tx_len, NFQNL_MSG_VERDICT, queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	if (data)
		nfq_nlmsg_verdict_put_pkt(nlh, data, (uint32_t)len);
	io->tx_len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void read_packet(struct nfq_io *io, unsigned slot, struct nlmsghdr *nlh, uint16_t queue,
			void (*packet)(void *arg, struct nfq_packet *p), void *arg)
{
	struct nlattr *attr[NFQA_MAX + 1] = {0};
	if (nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR]) {
		log_ratelimited(LOG_DEBUG, "nfq: queue %u: unparsable packet message", queue);
		return;
	}
	const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	uint8_t *data = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload(attr[NFQA_PAYLOAD]) : NULL;
	size_t len = attr[NFQA_PAYLOAD] ? mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]) : 0;
	bool truncated = attr[NFQA_CAP_LEN] && ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN])) > len;
	struct nfq_packet p = {
	    .id = ntohl(ph->packet_id),
	    .data = data,
	    .len = len,
	    /* Everything after the payload in the slot has been parsed
	     * already: the handler may grow the packet into it. */
	    .cap = data ? (size_t)(io->slot[slot] + NFQ_SLOT_SIZE - data) : 0,
	    .indev = attr[NFQA_IFINDEX_INDEV] ? ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV])) : 0,
	    .outdev = attr[NFQA_IFINDEX_OUTDEV] ? ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV])) : 0,
	    .whole = data && !truncated,
	    .slot = slot,
	};
	packet(arg, &p);
}

static void read_datagram(struct nfq_io *io, unsigned slot, size_t n, uint16_t queue,
			  void (*packet)(void *arg, struct nfq_packet *p), void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)io->slot[slot];
	int left = (int)n;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error) {
				/* Verdicts go without NLM_F_ACK: only failures answer. */
				(*io->c.failed_verdicts)++;
				log_ratelimited(LOG_DEBUG, "nfq: queue %u: verdict refused: %s", queue,
						strerror(-e->error));
			}
			continue;
		}
		if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_QUEUE &&
		    NFNL_MSG_TYPE(nlh->nlmsg_type) == NFQNL_MSG_PACKET)
			read_packet(io, slot, nlh, queue, packet, arg);
	}
}

bool nfq_read(struct nfq_io *io, int fd, uint16_t queue, unsigned max_batches, unsigned batch,
	      void (*packet)(void *arg, struct nfq_packet *p), void *arg)
{
	bool full = false;
	if (batch < 1 || batch > NFQ_BATCH)
		batch = NFQ_BATCH;
	for (unsigned b = 0; b < max_batches; b++) {
		full = false;
		int n = recvmmsg(fd, io->msg, batch, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Packets the kernel could not queue to us; fail-open
				 * let them through. Not fatal: read on. */
				(*io->c.overflows)++;
				log_ratelimited(LOG_DEBUG, "nfq: queue %u: socket overflow, packets bypassed", queue);
				continue;
			}
			if (errno != EAGAIN && errno != EINTR)
				log_ratelimited(LOG_DEBUG, "nfq: queue %u: %s", queue, strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (io->msg[i].msg_hdr.msg_flags & MSG_TRUNC)
				log_ratelimited(LOG_DEBUG, "nfq: queue %u: truncated message", queue);
			else
				read_datagram(io, (unsigned)i, io->msg[i].msg_len, queue, packet, arg);
			io->msg[i].msg_hdr.msg_flags = 0;
		}
		nfq_flush(io);
		if ((unsigned)n < batch)
			break;
		full = true;
	}
	nfq_flush(io);
	return full;
}
