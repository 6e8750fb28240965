// SPDX-License-Identifier: MIT
/*
 * anode concast: receive a flow with a merge specification (listen), send
 * on one (join), and show a node's flows (flows). Seed 001; docs/concast.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char concast_usage[] =
	"Usage: anode -n NODE concast listen GROUP APPID SPEC.ao [--admit PREFIX]... [--count N]\n"
	"                                   [--seconds S] [--out FILE [--skip N]] [--json]\n"
	"       anode -n NODE concast join GROUP RECEIVER APPID [--message TEXT | --tags N | --audio FILE]\n"
	"                                   [--count N] [--interval MS] [--wait MS] [--after MS] [--json]\n"
	"       anode -n NODE concast flows [--json]\n"
	"\n"
	"Concast (seed 001): many senders, one merged message. A flow is (GROUP,\n"
	"RECEIVER, APPID): GROUP an address that stands for the senders (no port),\n"
	"RECEIVER the node the receiving application is attached to, APPID a number\n"
	"the application chose. Nodes on the way merge the senders' messages with the\n"
	"merge specification the receiver set. In router mode (concast on IP) GROUP\n"
	"is the IP source of the data: it must be a unicast address (the examples use\n"
	"198.18.0.0/15). docs/concast.md explains flows, specifications and signalling.\n"
	"\n"
	"listen  receive the flow (GROUP, NODE, APPID): set SPEC.ao (built with\n"
	"        `anode code build --merge`) as its merge specification at NODE and\n"
	"        print each merged message as it comes: its length and octets in hex,\n"
	"        or with --json one object per line {\"len\":..,\"hex\":\"..\"}. --out\n"
	"        appends the messages to FILE instead, each without its first --skip\n"
	"        octets (--skip 4 writes the audio mixer's samples: a raw μ-law file).\n"
	"        Stops after --count messages or --seconds (default: when interrupted).\n"
	"        --admit PREFIX (up to 8, e.g. 10.200.0.0/16): admit upstream neighbours\n"
	"        only from these prefixes; every node of the flow refuses the others,\n"
	"        and their senders hear 'not admitted' (list the senders' nodes and the\n"
	"        merging nodes between them and NODE). Default: anyone.\n"
	"join    send on the flow from NODE: the nodes pull the merge specification\n"
	"        from the receiver toward NODE (waiting up to --wait ms, default 5000),\n"
	"        then --count messages (default 1; --audio: the whole file) every\n"
	"        --interval ms (default 60):\n"
	"          --message TEXT  the text, as it is\n"
	"          --tags N        the counting merge's message: tag i (8 octets) and a\n"
	"                          count of 1 (4 octets), for i = 0..N-1 (--count N)\n"
	"          --audio FILE    a raw μ-law file (8000 samples/s), 480 samples per\n"
	"                          message after a 4-octet sequence number counted on\n"
	"                          the sample clock: the first is the 60 ms interval of\n"
	"                          the wall clock that starts next (modulo 2^31), then\n"
	"                          +1 a message (seed 001 §5)\n"
	"        --after MS waits that long after joining before the first message:\n"
	"        time for the other senders to join, so that the merging nodes wait\n"
	"        for them from the first tag on (a tag done before a sender joins is\n"
	"        done without it).\n"
	"        Errors that end the flow later (the receiver left) are printed, and\n"
	"        so is news of its path toward the receiver: lost (a node on the way\n"
	"        has no route; the flow waits up to 30 keep-alive periods, and what is\n"
	"        sent meanwhile is lost) and restored; --json adds {\"path\":..}.\n"
	"        --json prints {\"joined\":true,\"join_ms\":..} and {\"sent\":..} (with\n"
	"        --audio also \"first_seq\", the first message's sequence number).\n"
	"flows   the flows NODE keeps state for: specification, state, upstream\n"
	"        neighbours (and when each was last heard), tags in merge, messages.\n"
	"\n"
	"Example (a lab of examples/concast.topo; build/apps in a build tree):\n"
	"  anode -n r1 concast listen 198.18.0.1 7 /usr/lib/anode/count.ao --json\n"
	"  anode -n s1 concast join 198.18.0.1 r1 7 --tags 100 --interval 50\n"
	"  anode -n g1 concast flows\n"
	"\n"
	"Exit status: 0; 1 when the node refused or a flow failed; 2 for bad usage.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_u32(const char *s, uint32_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v > UINT32_MAX)
		return -EINVAL;
	*ret = (uint32_t)v;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int listen_cmd(const char *node, int argc, char **argv)
{
	const char *out = NULL;
	long count = -1, seconds = -1, skip = 0;
	bool json = false;
	const char *pos[3];
	int n_pos = 0;
	struct an_prefix admit[AN_CONCAST_ADMIT_MAX];
	size_t n_admit = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--admit") == 0 && i + 1 < argc) {
			if (n_admit == AN_CONCAST_ADMIT_MAX) {
				fprintf(stderr, "anode: at most %d --admit prefixes\n", AN_CONCAST_ADMIT_MAX);
				return 2;
			}
			if (an_prefix_parse(argv[++i], &admit[n_admit]) < 0) {
				fprintf(stderr,
					"anode: bad prefix '%s' (a.b.c.d/n or v6/n, no bits set past the length)\n",
					argv[i]);
				return 2;
			}
			n_admit++;
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = atol(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
			seconds = atol(argv[++i]);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--skip") == 0 && i + 1 < argc)
			skip = atol(argv[++i]);
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (argv[i][0] != '-' && n_pos < 3)
			pos[n_pos++] = argv[i];
		else {
			fputs(concast_usage, stderr);
			return 2;
		}
	}
	uint32_t app;
	if (n_pos != 3 || parse_u32(pos[1], &app) < 0 || skip < 0) {
		fputs(concast_usage, stderr);
		return 2;
	}
	struct cli_node n;
	if (cli_node_find(node, &n) < 0)
		return 1;
	void *spec;
	size_t spec_len;
	int r = an_code_read_file(pos[2], &spec, &spec_len);
	if (r < 0) {
		fprintf(stderr, "anode: cannot read %s: %s\n", pos[2], strerror(-r));
		return 1;
	}
	struct an_link *l = cli_link_open(&n);
	if (!l) {
		free(spec);
		return 1;
	}
	char recv_text[64];
	an_addr_format(an_link_node_addr(l), recv_text, sizeof(recv_text));
	struct an_flow flow;
	if (an_flow_parse(pos[0], recv_text, app, &flow) < 0) {
		fprintf(stderr, "anode: bad group address '%s'\n", pos[0]);
		an_link_close(l);
		free(spec);
		return 2;
	}
	uint8_t name[AN_NAME_LEN];
	r = an_concast_set_merge_admit(l, &flow, spec, spec_len, admit, n_admit, name);
	free(spec);
	if (r < 0) {
		fprintf(stderr, "anode: %s refused the merge specification: %s%s%s\n", n.name, strerror(-r),
			an_link_refusal(l)[0] ? ": " : "", an_link_refusal(l));
		an_link_close(l);
		return 1;
	}
	FILE *f = NULL;
	if (out && !(f = fopen(out, "ab"))) {
		fprintf(stderr, "anode: cannot open %s: %s\n", out, strerror(errno));
		an_link_close(l);
		return 1;
	}
	if (!json && !f) {
		printf("receiving flow %s -> %s app %u, merge specification %02x%02x%02x%02x...\n", pos[0], recv_text,
		       app, name[0], name[1], name[2], name[3]);
		fflush(stdout);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	int64_t end = seconds >= 0 ? now_ms() + seconds * 1000 : -1;
	long got = 0;
	int rc = 0;
	while (!stop && (count < 0 || got < count)) {
		int wait = 200;
		if (end >= 0) {
			int64_t left = end - now_ms();
			if (left <= 0)
				break;
			if (left < wait)
				wait = (int)left;
		}
		struct an_delivery d;
		r = an_recv(l, &d, wait);
		if (r == -ETIMEDOUT || r == -EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "anode: node %s: %s\n", n.name, strerror(-r));
			rc = 1;
			break;
		}
		if (!d.concast || d.error)
			continue;
		got++;
		if (f) {
			if ((size_t)skip < d.len)
				fwrite(d.data + skip, 1, d.len - (size_t)skip, f);
			continue;
		}
		printf(json ? "{\"len\":%zu,\"hex\":\"" : "%zu octets: ", d.len);
		for (size_t i = 0; i < d.len && (json || i < 32); i++)
			printf("%02x", d.data[i]);
		printf(json ? "\"}\n" : "%s\n", !json && d.len > 32 ? "..." : "");
		fflush(stdout);
	}
	if (f)
		fclose(f);
	an_concast_leave(l, &flow);
	an_link_close(l);
	return rc;
}

enum source { SRC_MESSAGE, SRC_TAGS, SRC_AUDIO };

static int join_cmd(const char *node, int argc, char **argv)
{
	const char *message = "hello", *audio = NULL;
	long count = -1, interval = 60, wait = 5000, after = 0; /* count: default 1, or the whole --audio file */
	bool json = false;
	enum source src = SRC_MESSAGE;
	const char *pos[3];
	int n_pos = 0;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--message") == 0 && i + 1 < argc) {
			message = argv[++i];
			src = SRC_MESSAGE;
		} else if (strcmp(argv[i], "--tags") == 0 && i + 1 < argc) {
			count = atol(argv[++i]);
			src = SRC_TAGS;
		} else if (strcmp(argv[i], "--audio") == 0 && i + 1 < argc) {
			audio = argv[++i];
			src = SRC_AUDIO;
		} else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc)
			count = atol(argv[++i]);
		else if (strcmp(argv[i], "--interval") == 0 && i + 1 < argc)
			interval = atol(argv[++i]);
		else if (strcmp(argv[i], "--wait") == 0 && i + 1 < argc)
			wait = atol(argv[++i]);
		else if (strcmp(argv[i], "--after") == 0 && i + 1 < argc)
			after = atol(argv[++i]);
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (argv[i][0] != '-' && n_pos < 3)
			pos[n_pos++] = argv[i];
		else {
			fputs(concast_usage, stderr);
			return 2;
		}
	}
	uint32_t app;
	struct an_flow flow;
	if (count < 0 && src != SRC_AUDIO)
		count = 1;
	if (n_pos != 3 || parse_u32(pos[2], &app) < 0 || interval < 0 || after < 0 || after > 600000 ||
	    strlen(message) > AN_CONCAST_MSG_MAX) {
		fputs(concast_usage, stderr);
		return 2;
	}
	struct cli_node n;
	if (cli_node_find(node, &n) < 0)
		return 1;
	/* The receiver may be named like any destination: a lab node's name. */
	struct an_addr rcv;
	char label[65];
	if (cli_dest_find(pos[1], n.lab, &rcv, label, sizeof(label)) < 0)
		return 1;
	char rcv_text[64];
	an_addr_format(&rcv, rcv_text, sizeof(rcv_text));
	if (an_flow_parse(pos[0], rcv_text, app, &flow) < 0) {
		fprintf(stderr, "anode: bad group address '%s'\n", pos[0]);
		return 2;
	}
	FILE *af = NULL;
	if (audio && !(af = fopen(audio, "rb"))) {
		fprintf(stderr, "anode: cannot open %s: %s\n", audio, strerror(errno));
		return 1;
	}
	struct an_link *l = cli_link_open(&n);
	if (!l) {
		if (af)
			fclose(af);
		return 1;
	}
	int64_t t0 = now_ms();
	int r = an_concast_join(l, &flow, (int)wait);
	int rc = 0;
	uint32_t seq0 = 0; /* audio: the first message's number */
	if (r < 0) {
		fprintf(stderr, "anode: cannot join flow %s -> %s app %u: %s%s%s\n", pos[0], rcv_text, app,
			strerror(-r), an_link_refusal(l)[0] ? ": " : "", an_link_refusal(l));
		rc = 1;
		goto out;
	}
	if (json)
		printf("{\"joined\":true,\"join_ms\":%" PRId64 "}\n", now_ms() - t0);
	else
		printf("joined flow %s -> %s app %u in %" PRId64 " ms\n", pos[0], rcv_text, app, now_ms() - t0);
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* --after: time for the other senders to join first, so that the
	 * nodes wait for them from the first tag on (a merging node counts a
	 * neighbour from its join; a tag done before one joins is done
	 * without it). */
	if (after > 0) {
		struct timespec pause = {.tv_sec = after / 1000, .tv_nsec = (after % 1000) * 1000000L};
		while (!stop && nanosleep(&pause, &pause) < 0 && errno == EINTR)
			;
	}
	/* Audio is numbered by the sample clock, RTP's way: the first
	 * message takes the 60 ms interval of the wall clock that starts
	 * next (senders on different hosts agree on it as far as their
	 * clocks do), sent when it starts, and each further one is +1, 480
	 * samples on, whatever the scheduler does to when it is sent: no
	 * number is repeated or skipped (issue 18). */
	if (src == SRC_AUDIO) {
		int64_t w = wall_ms();
		seq0 = (uint32_t)(w / 60 + 1) & 0x7fffffffu; /* 31 bits: the top one marks linear sums */
		struct timespec pause = {.tv_nsec = (long)(((int64_t)seq0 * 60 - w) * 1000000)};
		nanosleep(&pause, NULL);
	}
	int64_t next = now_ms();
	long sent = 0;
	for (long i = 0; !stop && (src == SRC_AUDIO || i < count); i++) {
		uint8_t msg[AN_CONCAST_MSG_MAX];
		size_t len;
		if (src == SRC_TAGS) {
			uint64_t tag = (uint64_t)i;
			for (int k = 0; k < 8; k++)
				msg[k] = (uint8_t)(tag >> (56 - 8 * k));
			msg[8] = msg[9] = msg[10] = 0;
			msg[11] = 1;
			len = 12;
		} else if (src == SRC_AUDIO) {
			if (count >= 0 && i >= count)
				break;
			size_t k = fread(msg + 4, 1, 480, af);
			if (k == 0)
				break;
			uint32_t seq = (seq0 + (uint32_t)i) & 0x7fffffffu;
			msg[0] = (uint8_t)(seq >> 24);
			msg[1] = (uint8_t)(seq >> 16);
			msg[2] = (uint8_t)(seq >> 8);
			msg[3] = (uint8_t)seq;
			len = 4 + k;
		} else {
			len = strlen(message);
			memcpy(msg, message, len);
		}
		r = an_concast_send(l, &flow, msg, len);
		if (r < 0) {
			fprintf(stderr, "anode: send: %s\n", strerror(-r));
			rc = 1;
			break;
		}
		sent++;
		/* Errors that end the flow come between sends. */
		next += interval;
		for (;;) {
			int64_t left = next - now_ms();
			struct an_delivery d;
			r = an_recv(l, &d, left > 0 ? (int)left : 0);
			if (r == -ETIMEDOUT || r == -EINTR)
				break;
			if (r < 0) {
				fprintf(stderr, "anode: node %s: %s\n", n.name, strerror(-r));
				rc = 1;
				goto out;
			}
			if (d.concast && d.error) {
				fprintf(stderr, "anode: flow ended: %s: %.*s\n", strerror(-d.error), (int)d.len,
					(const char *)d.data);
				rc = 1;
				goto out;
			}
			/* The path toward the receiver: lost (the flow waits; what
			 * is sent meanwhile is lost) or back. Said, and sending
			 * goes on. */
			if (d.concast && d.path) {
				const char *what = d.path == AN_PATH_LOST ? "lost" : "restored";
				if (json)
					printf("{\"path\":\"%s\",\"ms\":%" PRId64 "}\n", what, now_ms() - t0);
				fprintf(stderr, "anode: path toward the receiver %s: %.*s\n", what, (int)d.len,
					(const char *)d.data);
				fflush(stdout);
			}
		}
	}
out:
	/* Audio says where its numbers started, so a receiver can line the
	 * senders up (tests/lab/test_concast.sh compares the mix with sox). */
	if (json && rc == 0 && src == SRC_AUDIO)
		printf("{\"sent\":%ld,\"first_seq\":%" PRIu32 "}\n", sent, seq0);
	else if (json && rc == 0)
		printf("{\"sent\":%ld}\n", sent);
	else if (rc == 0 && src == SRC_AUDIO)
		printf("sent %ld messages, numbered from %" PRIu32 "\n", sent, seq0);
	else if (rc == 0)
		printf("sent %ld messages\n", sent);
	if (af)
		fclose(af);
	an_concast_leave(l, &flow);
	an_link_close(l);
	return rc;
}

static int flows_cmd(const char *node, int argc, char **argv)
{
	bool json = false;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = true;
		else {
			fputs(concast_usage, stderr);
			return 2;
		}
	}
	struct cli_node n;
	if (cli_node_find(node, &n) < 0)
		return 1;
	char *body;
	if (cli_ctl(&n, json ? "concast json" : "concast", &body) < 0)
		return 1;
	fputs(body, stdout);
	free(body);
	return 0;
}

int cmd_concast(const char *node, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(concast_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!node) {
		fputs("anode concast: which node? (-n NODE)\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "listen") == 0)
		return listen_cmd(node, argc, argv);
	if (strcmp(argv[1], "join") == 0)
		return join_cmd(node, argc, argv);
	if (strcmp(argv[1], "flows") == 0)
		return flows_cmd(node, argc, argv);
	fputs(concast_usage, stderr);
	return 2;
}
