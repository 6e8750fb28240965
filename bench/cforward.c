// SPDX-License-Identifier: MIT
/*
 * cforward: the passive baseline of the overlay forwarding benchmark
 * (bench/overlay.sh), PAN's "C forwarder" (seed 003 §5.1). A UDP relay
 * between two fixed peers that never looks inside a datagram: whatever comes
 * from B goes to A, everything else goes to B. It batches exactly as the UDP
 * overlay link does (src/link/udp.c): recvmmsg/sendmmsg, 32 datagrams per
 * call, 8 KiB receive buffers, 4 MiB socket buffers, dual-stack AF_INET6.
 *
 * Two loop shapes:
 *   default  blocking recvmmsg(MSG_WAITFORONE) then sendmmsg: the cheapest
 *            honest forwarder (2 system calls per wakeup), the baseline.
 *   -e       the node's shape: epoll_wait, then up to 8 rounds of
 *            non-blocking recvmmsg + sendmmsg until EAGAIN (4 system calls
 *            for a lone datagram). It tells how much of anode's cost is the
 *            event loop rather than the capsule path.
 *
 * Usage: cforward [-e] -l LISTEN -a ADDR_A -b ADDR_B   (addresses a.b.c.d:port)
 * Prints its counters to stderr on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32 /* LINK_BATCH */
#define BUF_LEN 8192 /* AN_PKT_MAX: the node receives into buffers this big */
#define RX_ROUNDS 8 /* NODE_RX_ROUNDS */
#define SOCK_BUF (4 << 20) /* what link_udp_open asks for */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* "a.b.c.d:port" or "[v6]:port" into a v4-mapped / v6 sockaddr_in6. */
static int parse_addr(const char *s, struct sockaddr_in6 *ret)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *h = host;
	if (h[0] == '[') {
		size_t n = strlen(h);
		if (n < 2 || h[n - 1] != ']')
			return -1;
		h[n - 1] = '\0';
		h++;
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	memset(ret, 0, sizeof(*ret));
	ret->sin6_family = AF_INET6;
	ret->sin6_port = htons((uint16_t)port);
	struct in_addr v4;
	if (inet_pton(AF_INET, h, &v4) == 1) {
		ret->sin6_addr.s6_addr[10] = 0xff;
		ret->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&ret->sin6_addr.s6_addr[12], &v4, 4);
		return 0;
	}
	return inet_pton(AF_INET6, h, &ret->sin6_addr) == 1 ? 0 : -1;
}

static int same_peer(const struct sockaddr_in6 *x, const struct sockaddr_in6 *y)
{
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static struct {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in6 sa[BATCH];
	uint8_t buf[BATCH][BUF_LEN];
} rx;
static struct mmsghdr tx_msg[BATCH];
static struct iovec tx_iov[BATCH];
static uint64_t n_rx, n_tx, n_tx_err, n_calls_rx, n_calls_tx;

/* Receive one batch (flags: MSG_WAITFORONE or MSG_DONTWAIT) and send it on.
 * Returns the number forwarded, 0 on EAGAIN, -1 on EINTR. */
static int forward_batch(int fd, int flags, const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	for (unsigned i = 0; i < BATCH; i++) {
		rx.iov[i] = (struct iovec){ .iov_base = rx.buf[i], .iov_len = BUF_LEN };
		rx.msg[i].msg_hdr = (struct msghdr){
			.msg_name = &rx.sa[i],
			.msg_namelen = sizeof(rx.sa[i]),
			.msg_iov = &rx.iov[i],
			.msg_iovlen = 1,
		};
	}
	int n = recvmmsg(fd, rx.msg, BATCH, flags, NULL);
	n_calls_rx++;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			return -1;
		perror("cforward: recvmmsg");
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		/* The relay's only decision: which side it came from. */
		const struct sockaddr_in6 *to = same_peer(&rx.sa[i], b) ? a : b;
		tx_iov[i] = (struct iovec){ .iov_base = rx.buf[i], .iov_len = rx.msg[i].msg_len };
		tx_msg[i].msg_hdr = (struct msghdr){
			.msg_name = (void *)to,
			.msg_namelen = sizeof(*to),
			.msg_iov = &tx_iov[i],
			.msg_iovlen = 1,
		};
	}
	n_rx += (uint64_t)n;
	/* As udp_flush: a datagram the kernel refuses is dropped, the rest go. */
	int done = 0;
	while (done < n) {
		int k = sendmmsg(fd, tx_msg + done, (unsigned)(n - done), MSG_DONTWAIT);
		n_calls_tx++;
		if (k <= 0) {
			n_tx_err++;
			done++;
			continue;
		}
		n_tx += (uint64_t)k;
		done += k;
	}
	return n;
}

static void usage(FILE *f)
{
	fputs("Usage: cforward [-e] -l LISTEN -a ADDR_A -b ADDR_B\n"
	      "Relay UDP datagrams: from ADDR_B to ADDR_A, from anyone else to ADDR_B.\n"
	      "  -e  epoll + non-blocking rounds, the shape of anoded's loop\n",
	      f);
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 listen_sa, a, b;
	int have = 0, use_epoll = 0, c;
	while ((c = getopt(argc, argv, "el:a:b:h")) != -1) {
		switch (c) {
		case 'e':
			use_epoll = 1;
			break;
		case 'l':
		case 'a':
		case 'b': {
			struct sockaddr_in6 *dst = c == 'l' ? &listen_sa : c == 'a' ? &a : &b;
			if (parse_addr(optarg, dst) < 0) {
				fprintf(stderr, "cforward: bad address %s\n", optarg);
				return 2;
			}
			have |= c == 'l' ? 1 : c == 'a' ? 2 : 4;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (have != 7 || optind != argc) {
		usage(stderr);
		return 2;
	}
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | (use_epoll ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0) {
		perror("cforward: socket");
		return 1;
	}
	int off = 0, buf = SOCK_BUF;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&listen_sa, sizeof(listen_sa)) < 0) {
		perror("cforward: bind");
		return 1;
	}
	/* No SA_RESTART: a blocked recvmmsg or epoll_wait returns EINTR. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	if (!use_epoll) {
		while (!stop)
			forward_batch(fd, MSG_WAITFORONE, &a, &b);
	} else {
		int ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("cforward: epoll");
			return 1;
		}
		while (!stop) {
			struct epoll_event out[64];
			int n = epoll_wait(ep, out, 64, -1);
			if (n <= 0)
				continue;
			for (int round = 0; round < RX_ROUNDS; round++)
				if (forward_batch(fd, MSG_DONTWAIT, &a, &b) <= 0)
					break;
		}
		close(ep);
	}
	fprintf(stderr, "cforward: rx %llu tx %llu tx_errors %llu recvmmsg %llu sendmmsg %llu\n",
		(unsigned long long)n_rx, (unsigned long long)n_tx, (unsigned long long)n_tx_err,
		(unsigned long long)n_calls_rx, (unsigned long long)n_calls_tx);
	close(fd);
	return 0;
}
