// SPDX-License-Identifier: MIT
/*
 * ccgen: N concast upstream neighbours in one process, for bench/concast_rate.sh.
 * Each neighbour is a UDP socket on LOCAL's address (ports LOCAL+0..N-1): it
 * asks NODE for the flow (RMS, as a concast node would), keeps itself in the
 * flow's upstream list with KEEPALIVEs, and then all of them send the counting
 * merge's messages, tag after tag (each neighbour one message per tag), as
 * fast as NODE takes them. The messages are built with src/wire, so they are
 * the bytes a concast node sends.
 *
 *   ccgen -l 127.0.0.1:PORT -m NODE -g GROUP -r RECEIVER -a APPID -n N -t SECONDS
 *
 * Prints one line: sent=... tags=... seconds=...
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "anode/anode.h"
#include "wire/wire.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void to_sin(const struct an_addr *a, struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, a->ip + 12, 4);
	sin->sin_port = a->port;
}

/* The node's cookie for each upstream port (its CHALLENGE), echoed in
 * every RMS and KEEPALIVE (docs/concast.md, return routability). */
#define MAX_N 4096 /* ccgen -n at most */
static uint8_t cookies[MAX_N][WIRE_CSP_COOKIE_LEN];

static int csp(int fd, const struct an_addr *self, const struct an_addr *node, const struct an_flow *flow,
	       uint8_t type, const uint8_t *cookie)
{
	uint8_t buf[256];
	size_t len;
	struct wire_anep_spec spec = { .src = self, .dst = &flow->receiver };
	struct wire_csp_spec c = { .type = type, .flow = flow, .cookie = cookie };
	if (wire_csp_build(buf, sizeof(buf), &spec, &c, &len) < 0)
		return -EINVAL;
	struct sockaddr_in sin;
	to_sin(node, &sin);
	return sendto(fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0 ? -errno : 0;
}

/* Read what the node sent; a CHALLENGE is answered with an RMS echoing
 * its cookie. */
static void drain(const int *fds, int n, const struct an_addr *self, const struct an_addr *node,
		  const struct an_flow *flow)
{
	uint8_t buf[2048];
	for (int i = 0; i < n; i++) {
		ssize_t k;
		while ((k = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
			struct wire_anep a;
			struct wire_csp c;
			if (wire_anep_parse(buf, (size_t)k, &a) < 0 || wire_csp_parse(buf, (size_t)k, &a, &c) < 0 ||
			    c.type != WIRE_CSP_CHALLENGE)
				continue;
			memcpy(cookies[i], c.cookie, sizeof(cookies[i]));
			csp(fds[i], &self[i], node, flow, WIRE_CSP_RMS, cookies[i]);
		}
	}
}

int main(int argc, char **argv)
{
	const char *local = NULL, *node_s = NULL, *group = NULL, *rcv = NULL;
	int n = 1;
	double secs = 3;
	uint32_t app = 1;
	int opt;
	while ((opt = getopt(argc, argv, "l:m:g:r:a:n:t:")) != -1) {
		switch (opt) {
		case 'l': local = optarg; break;
		case 'm': node_s = optarg; break;
		case 'g': group = optarg; break;
		case 'r': rcv = optarg; break;
		case 'a': app = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'n': n = atoi(optarg); break;
		case 't': secs = atof(optarg); break;
		default: goto usage;
		}
	}
	struct an_addr base, node;
	struct an_flow flow;
	if (!local || !node_s || !group || !rcv || n < 1 || n > 4096 || an_addr_parse(local, &base) < 0 ||
	    an_addr_parse(node_s, &node) < 0 || an_flow_parse(group, rcv, app, &flow) < 0)
		goto usage;
	int *fds = calloc((size_t)n, sizeof(int));
	struct an_addr *self = calloc((size_t)n, sizeof(*self));
	for (int i = 0; i < n; i++) {
		self[i] = base;
		self[i].port = htons((uint16_t)(ntohs(base.port) + i));
		struct sockaddr_in sin;
		to_sin(&self[i], &sin);
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		int buf = 1 << 20;
		setsockopt(fds[i], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sin, sizeof(sin)) < 0) {
			perror("ccgen: bind");
			return 1;
		}
		if (csp(fds[i], &self[i], &node, &flow, WIRE_CSP_RMS, cookies[i]) < 0) {
			perror("ccgen: send RMS");
			return 1;
		}
	}
	/* Time for the node to fetch the specification and answer every one. */
	double t_join = now_s();
	while (now_s() - t_join < 1.0) {
		drain(fds, n, self, &node, &flow);
		usleep(10000);
	}
	uint8_t pkt[256];
	struct wire_anep_spec spec = { 0 };
	struct sockaddr_in to;
	to_sin(&node, &to);
	uint64_t sent = 0, tag = 0;
	double t0 = now_s(), last_ka = t0;
	while (now_s() - t0 < secs) {
		uint8_t msg[12] = { 0 };
		for (int k = 0; k < 8; k++)
			msg[k] = (uint8_t)(tag >> (56 - 8 * k));
		msg[11] = 1;
		size_t len;
		if (wire_concast_data_build(pkt, sizeof(pkt), &spec, &flow, msg, sizeof(msg), &len) < 0)
			return 1;
		for (int i = 0; i < n; i++) {
			/* A full socket buffer means the node is behind: wait for it
			 * rather than count messages the kernel dropped as sent. */
			while (sendto(fds[i], pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
				if (errno != ENOBUFS && errno != EAGAIN)
					return 1;
				usleep(50);
			}
			sent++;
		}
		tag++;
		if (now_s() - last_ka > 0.3) {
			last_ka = now_s();
			for (int i = 0; i < n; i++)
				csp(fds[i], &self[i], &node, &flow, WIRE_CSP_KEEPALIVE, cookies[i]);
			drain(fds, n, self, &node, &flow);
		}
	}
	printf("sent=%llu tags=%llu seconds=%.3f\n", (unsigned long long)sent, (unsigned long long)tag, now_s() - t0);
	return 0;
usage:
	fprintf(stderr, "Usage: ccgen -l ADDR:PORT -m NODE -g GROUP -r RECEIVER -a APPID -n N -t SECONDS\n");
	return 2;
}
