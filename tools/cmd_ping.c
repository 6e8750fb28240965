// SPDX-License-Identifier: MIT
/*
 * anode ping: active ping (PAN §5.2) from the command line. Inserts the
 * portmapper and ping code objects into the local node, binds a port, and
 * sends ping capsules that time-stamp themselves at the node; prints the
 * round trips as ping(8) does. Other nodes load the code on demand from
 * their previous hop; with --carry it travels in the capsules instead,
 * until the first answer shows that every node on the path has cached it.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "proto.h"

#define PING_SIZE_DEFAULT 56

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void ping_usage(FILE *f)
{
	fputs("Usage: anode -n NODE ping DEST [-c COUNT] [-s SIZE] [-i SECONDS] [-W SECONDS]\n"
	      "                                [-t HOPS] [-q] [--carry] [--json]\n"
	      "\n"
	      "Active ping: send ping capsules from NODE to DEST and back, and print each\n"
	      "round trip, measured on NODE's clock as the capsule leaves and returns.\n"
	      "NODE and DEST are node names of a running lab, or addresses (ADDR:PORT).\n"
	      "\n"
	      "  -c COUNT     stop after COUNT capsules (default: until interrupted)\n"
	      "  -s SIZE      data bytes after the ping header (default 56)\n"
	      "  -i SECONDS   interval between capsules (default 1)\n"
	      "  -W SECONDS   how long to wait for the last answers (default 2)\n"
	      "  -t HOPS      hop limit (default 64)\n"
	      "  -q           print only the summary\n"
	      "  --carry      carry the code in the capsules (until the first answer)\n"
	      "               instead of letting each node load it on demand\n"
	      "  --json       JSON Lines: {\"reply\":{seq, bytes, hops_out, hops_back,\n"
	      "               time_ms, dup}} per answer, {\"dropped\":{node, reason}} per\n"
	      "               capsule a node dropped (unless -q), then {\"summary\":\n"
	      "               {transmitted, received, loss_pct, time_ms, rtt_ms: {min, avg,\n"
	      "               max, mdev} or null}}\n",
	      f);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct ping_run {
	struct an_link *link;
	const char *dest_label;
	char dest_addr[64];
	unsigned sent, received, errors;
	double min, max, sum, sum2;
	bool quiet, warm, json;
	unsigned char *seen; /* per sequence number */
	struct cli_app *app;
	unsigned count_cap;
};

/* Handle one thing the node sent us; false when the link is gone. */
static bool ping_receive(struct ping_run *p, int timeout_ms, const uint8_t ping_name[AN_NAME_LEN])
{
	struct an_delivery d;
	int r = an_recv(p->link, &d, timeout_ms);
	if (r == -ETIMEDOUT || r == -EINTR)
		return true;
	if (r < 0) {
		fprintf(stderr, "anode ping: node link: %s\n", strerror(-r));
		return false;
	}
	if (d.error) {
		p->errors++;
		const char *why = d.error == -ENOENT ? "its code is not in the node's cache" : strerror(-d.error);
		if (!p->quiet && p->json)
			printf("{\"dropped\":{\"node\":\"%s\",\"reason\":\"%s\"}}\n", an_link_node_name(p->link), why);
		else if (!p->quiet)
			printf("From %s: capsule dropped: %s\n", an_link_node_name(p->link), why);
		if (d.error == -ENOENT)
			cli_app_code_gone(p->app, "ping");
		return true;
	}
	if (memcmp(d.code, ping_name, AN_NAME_LEN) != 0 || d.len < sizeof(struct ping_msg))
		return true;
	struct ping_msg m;
	memcpy(&m, d.data, sizeof(m));
	if (m.phase != PING_DONE || m.seq == 0 || m.seq > p->sent)
		return true;
	bool dup = m.seq <= p->count_cap && p->seen[m.seq - 1];
	if (m.seq <= p->count_cap)
		p->seen[m.seq - 1] = 1;
	double ms = (double)m.rtt_ns / 1e6;
	if (!dup) {
		p->received++;
		p->warm = true;
		p->min = p->received == 1 || ms < p->min ? ms : p->min;
		p->max = ms > p->max ? ms : p->max;
		p->sum += ms;
		p->sum2 += ms * ms;
	}
	if (!p->quiet && p->json)
		printf("{\"reply\":{\"seq\":%u,\"bytes\":%zu,\"hops_out\":%u,\"hops_back\":%u,\"time_ms\":%.3f,"
		       "\"dup\":%s}}\n",
		       m.seq, d.len, m.hops_out, m.hops_back, ms, dup ? "true" : "false");
	else if (!p->quiet)
		printf("%zu bytes from %s (%s): seq=%u hops=%u+%u time=%.3f ms%s\n", d.len, p->dest_label, p->dest_addr,
		       m.seq, m.hops_out, m.hops_back, ms, dup ? " (DUP!)" : "");
	fflush(stdout);
	return true;
}

int cmd_ping(const char *node, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "carry", no_argument, NULL, 'C' },
					      { "json", no_argument, NULL, 'J' },
					      { NULL, 0, NULL, 0 } };
	bool carry = false, json = false;
	long count = -1, size = PING_SIZE_DEFAULT, hops = 0;
	double interval = 1.0, wait_last = 2.0;
	bool quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:s:i:W:t:qh", opts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1 || count > 10000000)
				goto bad;
			break;
		case 's':
			size = strtol(optarg, &end, 10);
			if (*end || size < 0 || size > AN_PKT_MAX - 512)
				goto bad;
			break;
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || interval < 0.001 || interval > 3600)
				goto bad;
			break;
		case 'W':
			wait_last = strtod(optarg, &end);
			if (*end || wait_last < 0 || wait_last > 3600)
				goto bad;
			break;
		case 't':
			hops = strtol(optarg, &end, 10);
			if (*end || hops < 1 || hops > 255)
				goto bad;
			break;
		case 'q':
			quiet = true;
			break;
		case 'C':
			carry = true;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			ping_usage(stdout);
			return 0;
		default:
			ping_usage(stderr);
			return 2;
		}
		continue;
bad:
		fprintf(stderr, "anode ping: bad value for -%c: %s\n", c, optarg);
		return 2;
	}
	if (optind != argc - 1) {
		ping_usage(stderr);
		return 2;
	}
	struct cli_app app;
	if (cli_app_open(&app, "ping", node, argv[optind], "ping.ao", false) < 0)
		return 1;
	struct an_link *l = app.link;
	const char *label = app.dst_label;
	struct an_addr dst = app.dst;
	int rc = 1;

	struct ping_run p = { .link = l, .dest_label = label, .quiet = quiet, .json = json, .app = &app };
	snprintf(p.dest_addr, sizeof(p.dest_addr), "%s", app.dst_text);
	p.count_cap = count > 0 ? (unsigned)count : 1000000;
	p.seen = calloc(p.count_cap, 1);
	size_t data_len = sizeof(struct ping_msg) + (size_t)size;
	uint8_t *data = calloc(1, data_len);
	if (!p.seen || !data)
		goto out_free;
	for (size_t i = sizeof(struct ping_msg); i < data_len; i++)
		data[i] = (uint8_t)i; /* a pattern, as ping(8) fills its data */
	if (!json)
		printf("PING %s (%s) from %s: %ld data bytes\n", label, p.dest_addr, app.node.name, size);
	fflush(stdout);

	struct sigaction sa = { .sa_handler = on_sigint };
	sigaction(SIGINT, &sa, NULL);
	double start = now_s();
	bool alive = true;
	for (unsigned seq = 1; alive && !interrupted && (count < 0 || seq <= (unsigned)count); seq++) {
		struct ping_msg m = { .phase = PING_NEW, .seq = seq, .port = app.port, .dst = dst };
		memcpy(m.pm.b, app.pm, AN_NAME_LEN);
		memcpy(data, &m, sizeof(m));
		struct an_capsule cap = {
			.code = app.code,
			.dst = &dst,
			.hop_limit = (uint8_t)hops,
			.carried = carry && !p.warm ? app.code_bytes : NULL,
			.carried_len = app.code_len,
			.data = data,
			.data_len = data_len,
		};
		int r = an_capsule_send(l, &cap);
		if (r < 0) {
			fprintf(stderr, "anode ping: send: %s\n", strerror(-r));
			break;
		}
		p.sent++;
		double next = start + interval * seq;
		bool last = count > 0 && seq == (unsigned)count;
		if (last)
			next = now_s() + wait_last;
		while (alive && !interrupted && now_s() < next && !(last && p.received + p.errors >= p.sent))
			alive = ping_receive(&p, (int)((next - now_s()) * 1000) + 1, app.code);
	}
	double elapsed = now_s() - start;
	double loss = p.sent ? 100.0 * (p.sent - p.received) / p.sent : 0.0;
	double avg = p.received ? p.sum / p.received : 0, var = p.received ? p.sum2 / p.received - avg * avg : 0;
	double mdev = sqrt(var > 0 ? var : 0);
	if (json) {
		printf("{\"summary\":{\"from\":\"%s\",\"to\":\"%s\",\"address\":\"%s\",\"transmitted\":%u,"
		       "\"received\":%u,\"loss_pct\":%.1f,\"time_ms\":%.0f,\"rtt_ms\":",
		       app.node.name, label, p.dest_addr, p.sent, p.received, loss, elapsed * 1000);
		if (p.received)
			printf("{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f,\"mdev\":%.3f}}}\n", p.min, avg, p.max, mdev);
		else
			printf("null}}\n");
	} else {
		printf("\n--- %s active ping statistics ---\n", label);
		printf("%u capsules transmitted, %u received, %.0f%% capsule loss, time %.0fms\n", p.sent, p.received,
		       loss, elapsed * 1000);
		if (p.received)
			printf("rtt min/avg/max/mdev = %.3f/%.3f/%.3f/%.3f ms\n", p.min, avg, p.max, mdev);
	}
	rc = p.received ? 0 : 1;
out_free:
	free(data);
	free(p.seen);
	cli_app_close(&app);
	return rc;
}
