// SPDX-License-Identifier: MIT
/*
 * capgen: the end hosts of the overlay forwarding benchmark (bench/overlay.sh,
 * PAN's sender - middle - receiver of seed 003 §5.1-5.3). It speaks raw UDP
 * and builds capsules with src/wire, so that the same bytes cross the middle
 * whether the middle is an anoded running forward.ao or bench/cforward: the
 * end hosts are not nodes, only the middle is measured.
 *
 *   capgen insert -A APP_SOCKET -c CODE.ao      insert code into a node (libanode)
 *   capgen send   -l LOCAL -m MIDDLE -d DST -c CODE.ao -s SIZE -t SECONDS
 *                 blast capsules of SIZE octets (whole UDP payload) at MIDDLE
 *   capgen send   ... -N COUNT
 *                 send exactly COUNT capsules, one a millisecond (tests)
 *   capgen recv   -l LOCAL [-s SIZE] [-i IDLE_MS] [-w WAIT_S]
 *                 count capsules until IDLE_MS pass without one
 *   capgen echo   -l LOCAL -m MIDDLE -d DST
 *                 answer each capsule with a new capsule toward DST via MIDDLE
 *   capgen ping   -l LOCAL -m MIDDLE -d DST -c CODE.ao -s SIZE -n COUNT [-W WARMUP]
 *                 round trips, one outstanding at a time
 *
 * Results go to stdout as one line of key=value pairs for the driver script.
 * Capsules carry only ANEP destination and hop limit options (no source),
 * which makes them as small as a forwardable capsule can be.
 */
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/udp.h>
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

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

#define BATCH 32 /* as LINK_BATCH: the sender batches like the node does */
#define BUF_LEN 8192
#define SOCK_BUF (4 << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "capgen: %s: %s\n", what, strerror(err));
	exit(1);
}

static void to_sa(const struct an_addr *a, struct sockaddr_in6 *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin6_family = AF_INET6;
	memcpy(&sa->sin6_addr, a->ip, 16);
	sa->sin6_port = a->port;
}

/* A dual-stack UDP socket bound to local, with the node's buffer sizes so
 * that the end hosts drop no earlier than the middle does. */
static int open_sock(const struct an_addr *local)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket", errno);
	int off = 0, buf = SOCK_BUF;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	struct sockaddr_in6 sa;
	to_sa(local, &sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind", errno);
	return fd;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

struct opts {
	const char *mode, *app, *code_path;
	struct an_addr local, middle, dst;
	int have_local, have_middle, have_dst;
	size_t size;
	double secs;
	long count, warmup;
	long exact; /* send: exactly this many, one a millisecond (0: for secs) */
	int gso;    /* send: runs of capsules as one UDP_SEGMENT message, as an anode overlay node sends them */
	int idle_ms, wait_s;
};

/* The capsule the sender and the pinger send: size octets in all, the data
 * filling what the headers leave. Prints the layout once on stderr. */
static size_t build_capsule(const struct opts *o, uint8_t *buf, size_t cap)
{
	void *code;
	size_t code_len;
	uint8_t name[AN_NAME_LEN];
	int r = an_code_read_file(o->code_path, &code, &code_len);
	if (r < 0)
		die(o->code_path, -r);
	an_code_name(code, code_len, name);
	free(code);

	struct wire_capsule_spec spec = { .dst = &o->dst, .name = name };
	size_t hdr;
	r = wire_capsule_build(buf, cap, &spec, &hdr);
	if (r < 0)
		die("wire_capsule_build", -r);
	if (o->size < hdr) {
		fprintf(stderr, "capgen: a capsule is at least %zu octets (ANEP with dst and hop limit options + %d of capsule header)\n",
			hdr, WIRE_CAPSULE_HDR_LEN);
		exit(2);
	}
	static uint8_t data[BUF_LEN];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	spec.data = data;
	spec.data_len = o->size - hdr;
	size_t len;
	r = wire_capsule_build(buf, cap, &spec, &len);
	if (r < 0)
		die("wire_capsule_build", -r);
	fprintf(stderr, "capgen: capsule %zu octets = %zu of headers (ANEP %zu + capsule %d) + %zu of data\n", len,
		hdr, hdr - WIRE_CAPSULE_HDR_LEN, WIRE_CAPSULE_HDR_LEN, spec.data_len);
	return len;
}

static int do_insert(const struct opts *o)
{
	struct an_link *l = an_link_open(o->app);
	if (!l)
		die(o->app, errno);
	void *code;
	size_t len;
	int r = an_code_read_file(o->code_path, &code, &len);
	if (r < 0)
		die(o->code_path, -r);
	uint8_t name[AN_NAME_LEN];
	r = an_code_insert(l, code, len, name);
	if (r < 0)
		die("an_code_insert", -r);
	printf("inserted=");
	for (int i = 0; i < AN_NAME_LEN; i++)
		printf("%02x", name[i]);
	printf(" bytes=%zu\n", len);
	free(code);
	an_link_close(l);
	return 0;
}

static int do_send(const struct opts *o)
{
	static uint8_t pkt[BUF_LEN];
	size_t len = build_capsule(o, pkt, sizeof(pkt));
	int fd = open_sock(&o->local);
	struct sockaddr_in6 mid;
	to_sa(&o->middle, &mid);
	/* Connected: the kernel skips the route lookup per datagram, the
	 * cheapest sender we can write, so that the middle is the bottleneck. */
	if (connect(fd, (struct sockaddr *)&mid, sizeof(mid)) < 0)
		die("connect", errno);
	struct mmsghdr msg[BATCH];
	struct iovec iov = { .iov_base = pkt, .iov_len = len };
	for (int i = 0; i < BATCH; i++)
		msg[i].msg_hdr = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned long long sent = 0, errors = 0;
	double t0 = now_s(), t = t0, end = t0 + o->secs;
	for (long i = 0; i < o->exact; i++) {
		if (send(fd, pkt, len, 0) == (ssize_t)len)
			sent++;
		else
			errors++;
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	if (o->gso) {
		/* Runs: as many capsules as fit 64 KiB (at most 64, the
		 * kernel's segment limit) in one message, cut by the kernel. */
		int seg = (int)len;
		size_t n = 65000 / len;
		if (n > 64)
			n = 64;
		static uint8_t run[65536];
		for (size_t i = 0; i < n; i++)
			memcpy(run + i * len, pkt, len);
		if (n < 2 || setsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg)) < 0)
			die("UDP_SEGMENT", n < 2 ? EMSGSIZE : errno);
		while (!o->exact && t < end) {
			if (send(fd, run, n * len, 0) == (ssize_t)(n * len))
				sent += n;
			else
				errors++;
			t = now_s();
		}
	}
	while (!o->exact && t < end) {
		int k = sendmmsg(fd, msg, BATCH, 0);
		if (k < 0)
			errors++; /* ECONNREFUSED from an earlier ICMP: keep going */
		else
			sent += (unsigned long long)k;
		t = now_s();
	}
	printf("sent=%llu secs=%.3f rate=%.0f errors=%llu size=%zu\n", sent, t - t0, (double)sent / (t - t0), errors,
	       len);
	close(fd);
	return 0;
}

static int do_recv(const struct opts *o)
{
	int fd = open_sock(&o->local);
	set_timeout(fd, 50);
	static uint8_t buf[BATCH][BUF_LEN];
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	unsigned long long n = 0, bad = 0, bytes = 0;
	double first = 0, last = 0, start = now_s();
	for (;;) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = buf[i], .iov_len = BUF_LEN };
			msg[i].msg_hdr = (struct msghdr){ .msg_iov = &iov[i], .msg_iovlen = 1 };
		}
		int k = recvmmsg(fd, msg, BATCH, MSG_WAITFORONE, NULL);
		double t = now_s();
		if (k <= 0) {
			if (n == 0 && t - start > o->wait_s)
				break;
			if (n > 0 && (t - last) * 1000 > o->idle_ms)
				break;
			continue;
		}
		if (n == 0)
			first = t;
		last = t;
		for (int i = 0; i < k; i++) {
			bytes += msg[i].msg_len;
			if (o->size && msg[i].msg_len != o->size)
				bad++;
		}
		n += (unsigned long long)k;
	}
	/* The first batch's time opens the window, so it does not count. */
	double span = last - first;
	printf("received=%llu secs=%.3f rate=%.0f bytes=%llu wrong_size=%llu\n", n, span,
	       span > 0 ? (double)(n > 0 ? n - 1 : 0) / span : 0.0, bytes, bad);
	close(fd);
	return 0;
}

static int do_echo(const struct opts *o)
{
	int fd = open_sock(&o->local);
	struct sockaddr_in6 mid;
	to_sa(&o->middle, &mid);
	static uint8_t in[BUF_LEN], out[BUF_LEN];
	unsigned long long echoed = 0, bad = 0;
	while (!stop) {
		ssize_t len = recv(fd, in, sizeof(in), 0);
		if (len < 0)
			continue; /* EINTR on SIGTERM */
		struct wire_anep a;
		struct wire_capsule c;
		if (wire_anep_parse(in, (size_t)len, &a) < 0 || a.type_id != WIRE_TYPE_CAPSULE ||
		    wire_capsule_parse(in, (size_t)len, &a, &c) < 0) {
			bad++;
			continue;
		}
		/* A new capsule, not the old one turned around: what an
		 * application on the receiving host would send back. */
		struct wire_capsule_spec spec = {
			.dst = &o->dst,
			.name = c.name,
			.home = &c.home,
			.data = in + c.data_off,
			.data_len = c.data_len,
		};
		size_t olen;
		if (wire_capsule_build(out, sizeof(out), &spec, &olen) < 0) {
			bad++;
			continue;
		}
		if (sendto(fd, out, olen, 0, (struct sockaddr *)&mid, sizeof(mid)) == (ssize_t)olen)
			echoed++;
	}
	fprintf(stderr, "capgen echo: echoed %llu, malformed %llu\n", echoed, bad);
	close(fd);
	return 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

static int do_ping(const struct opts *o)
{
	static uint8_t pkt[BUF_LEN], in[BUF_LEN];
	size_t len = build_capsule(o, pkt, sizeof(pkt));
	int fd = open_sock(&o->local);
	struct sockaddr_in6 mid;
	to_sa(&o->middle, &mid);
	if (connect(fd, (struct sockaddr *)&mid, sizeof(mid)) < 0)
		die("connect", errno);
	set_timeout(fd, 200);
	double *rtt = calloc((size_t)o->count, sizeof(*rtt));
	if (!rtt)
		die("calloc", ENOMEM);
	long got = 0, lost = 0;
	for (long i = 0; i < o->warmup + o->count; i++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (send(fd, pkt, len, 0) != (ssize_t)len)
			die("send", errno);
		/* A blocking recv (200 ms timeout): the pinger sleeps in the
		 * kernel like the middle does, one system call per side. */
		if (recv(fd, in, sizeof(in), 0) <= 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			lost++;
			/* A reply that comes late must not answer the next ping:
			 * the capsules carry no sequence number at the small size. */
			while (poll(&p, 1, 100) == 1 && recv(fd, in, sizeof(in), MSG_DONTWAIT) > 0)
				;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (i >= o->warmup)
			rtt[got++] = (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
	}
	if (got == 0) {
		printf("pings=0 lost=%ld\n", lost);
		return 1;
	}
	qsort(rtt, (size_t)got, sizeof(*rtt), cmp_double);
	double sum = 0;
	for (long i = 0; i < got; i++)
		sum += rtt[i];
	long p99 = (long)ceil(0.99 * (double)got) - 1;
	printf("pings=%ld lost=%ld min_us=%.1f median_us=%.1f mean_us=%.1f p99_us=%.1f size=%zu\n", got, lost, rtt[0],
	       rtt[got / 2], sum / (double)got, rtt[p99], len);
	free(rtt);
	close(fd);
	return 0;
}

static void usage(FILE *f)
{
	fputs("Usage: capgen MODE [options]   (addresses a.b.c.d:port)\n"
	      "  insert -A APP_SOCKET -c CODE.ao\n"
	      "  send   -l LOCAL -m MIDDLE -d DST -c CODE.ao -s SIZE (-t SECONDS | -N COUNT, one a ms) [-G]\n"
	      "         -G: runs of up to 64 capsules per UDP_SEGMENT message (an anode node's way)\n"
	      "  recv   -l LOCAL [-s SIZE] [-i IDLE_MS (300)] [-w WAIT_S (10)]\n"
	      "  echo   -l LOCAL -m MIDDLE -d DST          (until SIGTERM)\n"
	      "  ping   -l LOCAL -m MIDDLE -d DST -c CODE.ao -s SIZE -n COUNT [-W WARMUP (500)]\n"
	      "SIZE is the whole UDP payload; the capsule's data fills what the headers leave.\n",
	      f);
}

static void addr_opt(const char *s, struct an_addr *a, int *have)
{
	if (wire_addr_parse(s, a) < 0) {
		fprintf(stderr, "capgen: bad address %s\n", s);
		exit(2);
	}
	*have = 1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	struct opts o = { .mode = argv[1], .size = 0, .secs = 3, .count = 5000, .warmup = 500, .idle_ms = 300, .wait_s = 10 };
	int c;
	optind = 2;
	while ((c = getopt(argc, argv, "A:c:l:m:d:s:t:n:N:W:i:w:G")) != -1) {
		switch (c) {
		case 'A':
			o.app = optarg;
			break;
		case 'c':
			o.code_path = optarg;
			break;
		case 'l':
			addr_opt(optarg, &o.local, &o.have_local);
			break;
		case 'm':
			addr_opt(optarg, &o.middle, &o.have_middle);
			break;
		case 'd':
			addr_opt(optarg, &o.dst, &o.have_dst);
			break;
		case 's':
			o.size = strtoul(optarg, NULL, 10);
			break;
		case 't':
			o.secs = strtod(optarg, NULL);
			break;
		case 'n':
			o.count = strtol(optarg, NULL, 10);
			break;
		case 'N':
			o.exact = strtol(optarg, NULL, 10);
			break;
		case 'W':
			o.warmup = strtol(optarg, NULL, 10);
			break;
		case 'i':
			o.idle_ms = atoi(optarg);
			break;
		case 'w':
			o.wait_s = atoi(optarg);
			break;
		case 'G':
			o.gso = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* No SA_RESTART: echo's blocking recv returns EINTR on SIGTERM. */
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	int need_code = strcmp(o.mode, "send") == 0 || strcmp(o.mode, "ping") == 0 || strcmp(o.mode, "insert") == 0;
	int need_path = strcmp(o.mode, "send") == 0 || strcmp(o.mode, "ping") == 0 || strcmp(o.mode, "echo") == 0;
	int need_size = strcmp(o.mode, "send") == 0 || strcmp(o.mode, "ping") == 0;
	if ((need_code && !o.code_path) || (need_path && (!o.have_local || !o.have_middle || !o.have_dst)) ||
	    (need_size && !o.size) || o.count <= 0 || o.warmup < 0) {
		usage(stderr);
		return 2;
	}
	if (strcmp(o.mode, "insert") == 0)
		return o.app ? do_insert(&o) : (usage(stderr), 2);
	if (strcmp(o.mode, "send") == 0)
		return do_send(&o);
	if (strcmp(o.mode, "recv") == 0)
		return o.have_local ? do_recv(&o) : (usage(stderr), 2);
	if (strcmp(o.mode, "echo") == 0)
		return do_echo(&o);
	if (strcmp(o.mode, "ping") == 0)
		return do_ping(&o);
	usage(stderr);
	return 2;
}
