// SPDX-License-Identifier: MIT
/*
 * udpblast: the sender of the router-mode benchmark's flows that no filter
 * matches (bench/router.sh). Plain UDP datagrams of any size (capgen's
 * capsules cannot be smaller than 96 octets), blasted for a while with
 * sendmmsg on a connected socket, batched as capgen does.
 *
 *   udpblast -l LOCAL -d DST -s SIZE -t SECONDS [-r PPS]   (addresses a.b.c.d:port)
 *   udpblast -k -l LOCAL
 *
 * The first prints one line of key=value pairs: sent= secs= rate= errors=
 * size=. -r paces it to PPS datagrams a second (batches of 32, each sent
 * when its time comes), for a load below what the path under test takes,
 * where its cost per packet is the figure. With -k it is the receiver's sink instead: a socket bound to LOCAL
 * with the smallest receive buffer, never read, until a signal. Datagrams
 * reach the receiver's UDP layer and are dropped there at once (counted in
 * the namespace's Udp InErrors), so that the receiver costs no process and
 * next to no CPU, and the router.sh counts arrivals from /proc/net/snmp.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAX_SIZE 65507

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_addr(const char *s, struct sockaddr_in *sa)
{
	char ip[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');
	if (!colon || (size_t)(colon - s) >= sizeof(ip))
		return -1;
	memcpy(ip, s, (size_t)(colon - s));
	ip[colon - s] = 0;
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, ip, &sa->sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in local, dst;
	int have_local = 0, have_dst = 0, sink = 0, c;
	size_t size = 0;
	double secs = 2, pps = 0;
	while ((c = getopt(argc, argv, "kl:d:s:t:r:")) != -1) {
		switch (c) {
		case 'k':
			sink = 1;
			break;
		case 'l':
			have_local = parse_addr(optarg, &local) == 0;
			break;
		case 'd':
			have_dst = parse_addr(optarg, &dst) == 0;
			break;
		case 's':
			size = strtoul(optarg, NULL, 10);
			break;
		case 't':
			secs = strtod(optarg, NULL);
			break;
		case 'r':
			pps = strtod(optarg, NULL);
			break;
		default:
			goto usage;
		}
	}
	if (sink && have_local) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int zero = 0;
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &zero, sizeof(zero));
		if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
			fprintf(stderr, "udpblast: %s\n", strerror(errno));
			return 1;
		}
		pause(); /* the default action of SIGTERM ends it */
		return 0;
	}
	if (!have_local || !have_dst || size == 0 || size > MAX_SIZE || secs <= 0 || pps < 0)
		goto usage;

	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		fprintf(stderr, "udpblast: %s\n", strerror(errno));
		return 1;
	}
	static unsigned char pkt[MAX_SIZE];
	for (size_t i = 0; i < size; i++)
		pkt[i] = (unsigned char)i;
	struct iovec iov = { .iov_base = pkt, .iov_len = size };
	struct mmsghdr msg[BATCH];
	for (int i = 0; i < BATCH; i++)
		msg[i].msg_hdr = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned long long sent = 0, errors = 0;
	double t0 = now_s(), t = t0, end = t0 + secs;
	while (t < end) {
		if (pps > 0 && t < t0 + (double)sent / pps) {
			/* Ahead of the pace: sleep until this batch's time. */
			double due = t0 + (double)sent / pps;
			struct timespec ts = { .tv_sec = (time_t)due, .tv_nsec = (long)((due - (double)(time_t)due) * 1e9) };
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		int k = sendmmsg(fd, msg, BATCH, 0);
		if (k < 0)
			errors++; /* ECONNREFUSED from an earlier ICMP: keep going */
		else
			sent += (unsigned long long)k;
		t = now_s();
	}
	printf("sent=%llu secs=%.3f rate=%.0f errors=%llu size=%zu\n", sent, t - t0, (double)sent / (t - t0), errors,
	       size);
	close(fd);
	return 0;
usage:
	fputs("Usage: udpblast -l LOCAL -d DST -s SIZE -t SECONDS [-r PPS]   (addresses a.b.c.d:port)\n"
	      "       udpblast -k -l LOCAL                           (a sink: bound, never read)\n",
	      stderr);
	return 2;
}
