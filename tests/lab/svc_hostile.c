// SPDX-License-Identifier: MIT
/*
 * A hostile service for tests/lab/test_hostile_users.sh (issue 17): a user
 * with a legitimate grant who tries to get out of their lane through the
 * service API. Parameters: mode=MODE dst=A.B.C.D/LEN port=PORT [...]:
 *   churn secs=S: install its quota of filters, then for S seconds remove
 *     each as soon as it is in and ask for it again, and remove guessed
 *     handles 1-255 besides (other users' filters, it hopes); reports what
 *     it got: "churn: installed=N busy=N refused=N"; then (or at once with
 *     secs=0) it holds its quota quietly, asking again for what was
 *     refused for now;
 *   spoof victim=A.B.C.D: filter its flow, and answer every packet with a
 *     MODIFIED packet from 192.0.2.66:53 to victim:9999 (a reflection the
 *     process cannot send itself: no raw sockets); reports what the node
 *     said: "spoof: told ...";
 *   zero: send a record of no octets on its socket, then publish
 *     "zero 1": the node must go on hearing it;
 *   rate n=N: not hostile, the victim's side of bench/lanes.sh: install
 *     its filter and remove it again, N times one after the other (past
 *     its share, it waits 250 ms and asks again), and report the median
 *     time from request to result:
 *     "rate: installs=N median_ms=X".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "anode/service.h"

#define say(...) (fprintf(stderr, "hostile: " __VA_ARGS__), fputc('\n', stderr))

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t csum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* UDP from 192.0.2.66:53 to victim:9999, "SPOOF". */
static size_t forged(uint8_t *b, uint32_t victim)
{
	memset(b, 0, 33);
	b[0] = 0x45, b[3] = 33, b[8] = 64, b[9] = 17;
	uint32_t src = htonl(0xc0000242);
	memcpy(b + 12, &src, 4);
	memcpy(b + 16, &victim, 4);
	uint16_t c = csum(b, 20);
	b[10] = (uint8_t)(c >> 8), b[11] = (uint8_t)c;
	b[20] = 0, b[21] = 53, b[22] = 9999 >> 8, b[23] = 9999 & 0xff, b[25] = 13;
	memcpy(b + 28, "SPOOF", 5);
	return 33;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Install and remove f n times, one after the other; the median time from
 * a request to its result. */
static int rate(struct an_service *s, const struct an_filter *f, int n)
{
	double t[64];
	int k = 0;
	if (n > 64)
		n = 64;
	while (k < n) {
		double t0 = now_s();
		uint32_t tag;
		if (an_service_filter_add(s, f, &tag) < 0)
			return 1;
		struct an_service_msg m;
		int r;
		while ((r = an_service_recv(s, &m, 5000)) == 0 && (m.kind != AN_SVC_FILTER || m.tag != tag))
			;
		if (r == 0 && m.status == -EAGAIN) {
			/* Past its share: a service that behaves waits a while. */
			struct timespec pause = {.tv_nsec = 250 * 1000 * 1000};
			nanosleep(&pause, NULL);
			continue;
		}
		if (r < 0 || m.status) {
			say("rate: install %d: %s", k, r < 0 ? strerror(-r) : strerror(-m.status));
			return 1;
		}
		t[k++] = (now_s() - t0) * 1000;
		an_service_filter_del(s, m.handle);
	}
	qsort(t, (size_t)k, sizeof(t[0]), cmp_double);
	say("rate: installs=%d median_ms=%.2f", k, t[k / 2]);
	for (;;) {
		struct an_service_msg m;
		if (an_service_recv(s, &m, -1) == -EPIPE)
			return 0;
	}
}

int main(void)
{
	struct an_service *s = an_service_open();
	if (!s) {
		say("no socket to the node: %s", strerror(errno));
		return 1;
	}
	char mode[16] = "", dst[32] = "", port[16] = "0", secs[16] = "5", victim[32] = "";
	an_service_param(s, "mode", mode, sizeof(mode));
	an_service_param(s, "dst", dst, sizeof(dst));
	an_service_param(s, "port", port, sizeof(port));
	an_service_param(s, "secs", secs, sizeof(secs));
	an_service_param(s, "victim", victim, sizeof(victim));
	struct an_filter f = {.proto = 17};
	char *slash = strchr(dst, '/');
	if (slash) {
		*slash = 0;
		inet_pton(AF_INET, dst, &f.dst);
		f.dst_prefix = (uint8_t)atoi(slash + 1);
	}
	f.dport_lo = f.dport_hi = (uint16_t)atoi(port);
	uint32_t victim_ip = 0;
	inet_pton(AF_INET, victim, &victim_ip);

	if (!strcmp(mode, "zero")) {
		if (send(an_service_fd(s), "", 0, 0) < 0)
			say("zero: %s", strerror(errno));
		an_service_publish(s, "zero", 1);
		say("zero: sent an empty record, then published zero=1");
	} else if (!strcmp(mode, "spoof")) {
		an_service_filter_add(s, &f, NULL);
	} else if (!strcmp(mode, "churn")) {
		for (int i = 0; i < 8; i++)
			an_service_filter_add(s, &f, NULL);
	} else if (!strcmp(mode, "rate")) {
		char n_s[16] = "10";
		an_service_param(s, "n", n_s, sizeof(n_s));
		return rate(s, &f, atoi(n_s));
	} else {
		say("mode=churn|spoof|zero|rate");
		return 2;
	}
	double end = now_s() + atof(secs);
	unsigned long installed = 0, busy = 0, refused = 0, told = 0;
	for (;;) {
		struct an_service_msg m;
		int r = an_service_recv(s, &m, 200);
		if (r == -EPIPE)
			break;
		if (!strcmp(mode, "churn") && end > 0 && now_s() > end) {
			say("churn: installed=%lu busy=%lu refused=%lu", installed, busy, refused);
			end = 0;
		}
		if (r < 0)
			continue;
		switch (m.kind) {
		case AN_SVC_FILTER:
			if (strcmp(mode, "churn") != 0)
				break;
			if (m.status == -EAGAIN)
				busy++;
			else if (m.status)
				refused++;
			else
				installed++;
			if (end > 0) {
				if (m.status == 0)
					an_service_filter_del(s, m.handle);
				for (uint32_t h = 1; h < 256; h++)
					an_service_filter_del(s, h);
				an_service_filter_add(s, &f, NULL);
			} else if (m.status == -EAGAIN) {
				/* Churn over (or secs=0: hold the quota quietly):
				 * ask again when the share allows. */
				struct timespec pause = {.tv_nsec = 250 * 1000 * 1000};
				nanosleep(&pause, NULL);
				an_service_filter_add(s, &f, NULL);
			}
			break;
		case AN_SVC_PACKET:
			if (!strcmp(mode, "spoof")) {
				uint8_t b[64];
				an_service_verdict(s, m.packet_id, AN_MODIFIED, b, forged(b, victim_ip));
			} else {
				an_service_verdict(s, m.packet_id, AN_ACCEPT, NULL, 0);
			}
			break;
		case AN_SVC_EVENT:
			if (m.handle == 0 && told++ < 3)
				say("spoof: told %.*s", (int)m.len, (const char *)m.data);
			break;
		default:
			break;
		}
	}
	an_service_close(s);
	return 0;
}
