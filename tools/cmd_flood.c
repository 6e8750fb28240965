// SPDX-License-Identifier: MIT
/*
 * anode flood: active flood (PAN §5.3) from the command line. Sends a flow
 * of flood capsules from NODE to DEST for a while; DEST counts them in soft
 * state and sends status capsules back, which are printed as they come. The
 * flow starts with a capsule that is answered at once, so every node on the
 * path has the code (loaded on demand, or carried with --carry) before the
 * flood begins.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cli.h"
#include "proto.h"

#define FLOOD_SIZE_DEFAULT 1000
#define FLOOD_TRIES 3
#define FLOOD_ANSWER_MS 1000

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void flood_usage(FILE *f)
{
	fputs("Usage: anode -n NODE flood DEST [-t SECONDS] [-s SIZE] [-r RATE] [-I MS] [--carry] [--json]\n"
	      "\n"
	      "Active flood: push capsules from NODE to DEST as fast as NODE takes them\n"
	      "(or at RATE per second). DEST counts them in soft state and reports every\n"
	      "MS milliseconds with a status capsule; a final status gives the exact count.\n"
	      "NODE and DEST are node names of a running lab, or addresses (ADDR:PORT).\n"
	      "\n"
	      "  -t SECONDS   how long to send (default 2)\n"
	      "  -s SIZE      capsule data bytes after the flood header (default 1000)\n"
	      "  -r RATE      capsules per second (default 0: as fast as the node takes them)\n"
	      "  -I MS        status interval at DEST (default 500)\n"
	      "  --carry      carry the code in the start capsule instead of letting\n"
	      "               each node load it on demand\n"
	      "  --json       JSON Lines: {\"status\":{at_s, final, received, per_s,\n"
	      "               mbit_s}} per report from DEST, then {\"summary\":{sent,\n"
	      "               sent_s, received, loss_pct, per_s, mbit_s}}\n",
	      f);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct flood_run {
	struct an_link *link;
	uint8_t code[AN_NAME_LEN];
	uint64_t flow;
	struct flood_msg last; /* the newest status */
	bool have_status, have_final;
	unsigned dropped_reports;
	struct cli_app *app;
	double start;
	size_t capsule_bytes;
	bool json;
};

static void print_status(const struct flood_run *fr, const struct flood_msg *m)
{
	double secs = (double)m->elapsed_ns / 1e9;
	double rate = secs > 0 ? (double)m->count / secs : 0;
	double mbit = secs > 0 ? (double)m->bytes * 8 / secs / 1e6 : 0;
	if (fr->json)
		printf("{\"status\":{\"at_s\":%.2f,\"final\":%s,\"received\":%llu,\"per_s\":%.0f,\"mbit_s\":%.1f}}\n",
		       now_s() - fr->start, m->kind == FLOOD_FINAL ? "true" : "false", (unsigned long long)m->count, rate,
		       mbit);
	else
		printf("  %6.2f s  %s: %llu capsules received (%.0f/s, %.1f Mbit/s of capsule data)\n", now_s() - fr->start,
		       m->kind == FLOOD_FINAL ? "final " : "status", (unsigned long long)m->count, rate, mbit);
	fflush(stdout);
}

/* Take what the node has for us; false when the link is gone. */
static bool flood_receive(struct flood_run *fr, int timeout_ms, bool print)
{
	struct an_delivery d;
	int r = an_recv(fr->link, &d, timeout_ms);
	if (r == -ETIMEDOUT || r == -EINTR)
		return true;
	if (r < 0) {
		fprintf(stderr, "anode flood: node link: %s\n", strerror(-r));
		return false;
	}
	if (d.error) {
		fr->dropped_reports++;
		if (d.error == -ENOENT)
			cli_app_code_gone(fr->app, "flood");
		return true;
	}
	if (memcmp(d.code, fr->code, AN_NAME_LEN) != 0 || d.len < sizeof(struct flood_msg))
		return true;
	struct flood_msg m;
	memcpy(&m, d.data, sizeof(m));
	if (m.flow != fr->flow || (m.kind != FLOOD_STATUS && m.kind != FLOOD_FINAL))
		return true;
	if (m.kind == FLOOD_FINAL || !fr->have_final) {
		fr->last = m;
		fr->have_status = true;
	}
	if (m.kind == FLOOD_FINAL)
		fr->have_final = true;
	if (print && m.count > 0)
		print_status(fr, &m);
	return true;
}

/* Send a control capsule (START or END) until DEST answers. */
static int flood_handshake(struct flood_run *fr, struct an_capsule *cap, struct flood_msg *m, uint32_t kind)
{
	m->kind = kind;
	for (int t = 0; t < FLOOD_TRIES && !interrupted; t++) {
		fr->have_status = false;
		int r = an_capsule_send(fr->link, cap);
		if (r < 0)
			return r;
		double until = now_s() + FLOOD_ANSWER_MS / 1000.0;
		while (now_s() < until && !(kind == FLOOD_END ? fr->have_final : fr->have_status))
			if (!flood_receive(fr, (int)((until - now_s()) * 1000) + 1, false))
				return -ENOTCONN;
		if (kind == FLOOD_END ? fr->have_final : fr->have_status)
			return 0;
	}
	return -ETIMEDOUT;
}

int cmd_flood(const char *node, int argc, char **argv)
{
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "carry", no_argument, NULL, 'C' },
					      { "json", no_argument, NULL, 'J' },
					      { NULL, 0, NULL, 0 } };
	bool carry = false, json = false;
	double seconds = 2, rate = 0;
	long size = FLOOD_SIZE_DEFAULT, interval_ms = 500;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:s:r:I:h", opts, NULL)) != -1) {
		char *end = NULL;
		switch (c) {
		case 't':
			seconds = strtod(optarg, &end);
			if (*end || seconds <= 0 || seconds > 86400)
				goto bad;
			break;
		case 's':
			size = strtol(optarg, &end, 10);
			if (*end || size < 0 || size > AN_PKT_MAX - 512)
				goto bad;
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (*end || rate < 0 || rate > 1e8)
				goto bad;
			break;
		case 'I':
			interval_ms = strtol(optarg, &end, 10);
			if (*end || interval_ms < 10 || interval_ms > 60000)
				goto bad;
			break;
		case 'C':
			carry = true;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			flood_usage(stdout);
			return 0;
		default:
			flood_usage(stderr);
			return 2;
		}
		continue;
bad:
		fprintf(stderr, "anode flood: bad value for -%c: %s\n", c, optarg);
		return 2;
	}
	if (optind != argc - 1) {
		flood_usage(stderr);
		return 2;
	}
	struct cli_app app;
	if (cli_app_open(&app, "flood", node, argv[optind], "flood.ao", false) < 0)
		return 1;
	struct an_link *l = app.link;
	const char *label = app.dst_label;
	struct an_addr dst = app.dst;
	struct flood_run fr = { .link = l, .app = &app, .json = json };
	memcpy(fr.code, app.code, AN_NAME_LEN);
	uint8_t *data = NULL;
	int rc = 1, r;
	if (getrandom(&fr.flow, sizeof(fr.flow), 0) != sizeof(fr.flow))
		goto out;
	size_t data_len = sizeof(struct flood_msg) + (size_t)size;
	data = calloc(1, data_len);
	if (!data)
		goto out;
	struct flood_msg *m = (struct flood_msg *)data;
	*m = (struct flood_msg){ .port = app.port, .interval_ms = (uint32_t)interval_ms, .flow = fr.flow, .dst = dst };
	memcpy(m->pm.b, app.pm, AN_NAME_LEN);
	struct an_capsule cap = {
		.code = fr.code, .dst = &dst, .carried = carry ? app.code_bytes : NULL, .carried_len = app.code_len, .data = data,
		.data_len = sizeof(struct flood_msg),
	};
	struct sigaction sa = { .sa_handler = on_sigint };
	sigaction(SIGINT, &sa, NULL);
	if (!fr.json)
		printf("FLOOD %s (%s) from %s: %ld data bytes per capsule, %.1f s%s\n", label, app.dst_text, app.node.name,
		       size, seconds, rate > 0 ? "" : ", as fast as the node takes them");
	fflush(stdout);
	fr.start = now_s();
	r = flood_handshake(&fr, &cap, m, FLOOD_START);
	if (r < 0) {
		fprintf(stderr, "anode flood: %s did not answer the start of the flow: %s\n", label, strerror(-r));
		goto out;
	}

	/* The flood itself: code is cached along the path now. */
	cap.carried = NULL;
	cap.data_len = data_len;
	m->kind = FLOOD_DATA;
	uint64_t sent = 0;
	double t0 = now_s(), end = t0 + seconds;
	bool alive = true;
	while (alive && !interrupted) {
		double now = now_s();
		if (now >= end)
			break;
		if (rate > 0 && (double)sent >= (now - t0) * rate) {
			alive = flood_receive(&fr, 1, true);
			continue;
		}
		m->seq = ++sent;
		r = an_capsule_send(l, &cap);
		if (r < 0) {
			fprintf(stderr, "anode flood: send: %s\n", strerror(-r));
			break;
		}
		if ((sent & 255) == 0)
			alive = flood_receive(&fr, 0, true);
	}
	double sent_secs = now_s() - t0;

	m->seq = 0;
	cap.data_len = sizeof(struct flood_msg);
	r = flood_handshake(&fr, &cap, m, FLOOD_END);
	if (!fr.json) {
		printf("--- %s active flood statistics ---\n", label);
		printf("sent %llu capsules in %.2f s (%.0f/s)\n", (unsigned long long)sent, sent_secs,
		       sent_secs > 0 ? (double)sent / sent_secs : 0);
	}
	if (r < 0) {
		fprintf(stderr, "anode flood: no final status from %s: %s\n", label, strerror(-r));
		goto out;
	}
	print_status(&fr, &fr.last);
	double secs = (double)fr.last.elapsed_ns / 1e9;
	double loss = sent ? 100.0 * (double)(sent - (fr.last.count < sent ? fr.last.count : sent)) / (double)sent : 0.0;
	double per_s = secs > 0 ? (double)fr.last.count / secs : 0, mbit = secs > 0 ? (double)fr.last.bytes * 8 / secs / 1e6 : 0;
	if (fr.json)
		printf("{\"summary\":{\"from\":\"%s\",\"to\":\"%s\",\"sent\":%llu,\"sent_s\":%.2f,\"received\":%llu,"
		       "\"loss_pct\":%.1f,\"per_s\":%.0f,\"mbit_s\":%.1f}}\n",
		       app.node.name, label, (unsigned long long)sent, sent_secs, (unsigned long long)fr.last.count, loss,
		       per_s, mbit);
	else
		printf("%s received %llu of %llu capsules (%.1f%% loss): %.0f capsules/s, %.1f Mbit/s of capsule data\n",
		       label, (unsigned long long)fr.last.count, (unsigned long long)sent, loss, per_s, mbit);
	rc = fr.last.count > 0 ? 0 : 1;
out:
	free(data);
	cli_app_close(&app);
	return rc;
}
