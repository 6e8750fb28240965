// SPDX-License-Identifier: MIT
/*
 * The matching engine's test driver (tests/netns/test_match.sh runs it
 * inside the router namespace): installs one UDP filter with the handler
 * the mode names, and reports what the handler saw in a status file that
 * the script polls. SIGUSR1 removes the filter while running; SIGTERM ends
 * cleanly (match_free).
 *
 *   match_test --tag T --queue Q --dport P [--extra N] --mode count|drop|modify|hold --status FILE
 *
 * --extra N installs N more filters with the same handler, on ports P+1..P+N.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "link/match.h"

enum mode { MODE_COUNT, MODE_DROP, MODE_MODIFY, MODE_HOLD };

struct test {
	struct loop *loop;
	struct match_engine *m;
	enum mode mode;
	uint16_t dport;
	unsigned extra;
	const char *status;
	unsigned id;
	bool removed, exited;
	unsigned ready; /* filters whose outcome came, all of them good */
	int failed; /* the first failed outcome */
	int remove_rc; /* what match_remove returned */
	uint64_t handled, wrong, verdict_errors;
};

struct hold {
	struct test *t;
	struct match_pkt *p;
};

static void status_write(struct test *t)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", t->status);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return;
	const struct match_counters *c = match_counters(t->m);
	fprintf(f,
		"ready=%d handled=%llu wrong=%llu removed=%d remove_rc=%d exited=%d filters=%zu packets=%llu accepted=%llu "
		"dropped=%llu modified=%llu held=%llu reinjected=%llu failed=%llu queue_drops=%llu verr=%llu\n",
		t->ready == 1 + t->extra, (unsigned long long)t->handled, (unsigned long long)t->wrong, t->removed, t->remove_rc, t->exited,
		match_filter_count(t->m), (unsigned long long)c->packets, (unsigned long long)c->accepted,
		(unsigned long long)c->dropped, (unsigned long long)c->modified, (unsigned long long)c->held,
		(unsigned long long)c->reinjected, (unsigned long long)c->failed_verdicts,
		(unsigned long long)c->queue_drops, (unsigned long long)t->verdict_errors);
	fclose(f);
	rename(tmp, t->status);
}

/* The UDP destination port of an unfragmented IPv4 packet, or 0. */
static uint16_t udp_dport(const struct match_pkt *p, size_t *ret_payload)
{
	if (p->len < 20)
		return 0;
	size_t ihl = (size_t)(p->data[0] & 0x0f) * 4;
	if (p->data[9] != IPPROTO_UDP || p->len < ihl + 8)
		return 0;
	*ret_payload = ihl + 8;
	return (uint16_t)(p->data[ihl + 2] << 8 | p->data[ihl + 3]);
}

/* After each loop round, so that the engine's counters include the
 * verdicts of the round. */
static bool status_idle(void *arg)
{
	status_write(arg);
	return false;
}

static void release(void *arg)
{
	struct hold *h = arg;
	if (match_verdict(h->t->m, h->p, MATCH_ACCEPT, NULL, 0) < 0)
		h->t->verdict_errors++;
	status_write(h->t);
	free(h);
}

static enum match_verdict handler(void *arg, struct match_pkt *p)
{
	struct test *t = arg;
	size_t off = 0;
	t->handled++;
	uint16_t port = udp_dport(p, &off);
	if (port < t->dport || port > t->dport + t->extra)
		t->wrong++;
	enum match_verdict v = MATCH_ACCEPT;
	switch (t->mode) {
	case MODE_COUNT:
		break;
	case MODE_DROP:
		v = MATCH_DROP;
		break;
	case MODE_MODIFY:
		/* First payload byte becomes 'X' and one byte '+' is appended,
		 * so that both the contents and the length change. */
		if (off && off < p->len && p->len < p->cap) {
			p->data[off] = 'X';
			p->data[p->len++] = '+';
			match_fix_checksums(p->data, p->len);
			v = MATCH_MODIFIED;
		}
		break;
	case MODE_HOLD: {
		struct hold *h = malloc(sizeof(*h));
		if (!h)
			break;
		*h = (struct hold){.t = t, .p = p};
		if (!loop_timer_add(t->loop, 200, release, h)) {
			free(h);
			break;
		}
		v = MATCH_HOLD;
		break;
	}
	}
	return v;
}

/* The engine's word on each filter: the status file says "ready" only
 * when every filter is bound and in place. */
static void on_ready(void *arg, unsigned id, int err)
{
	struct test *t = arg;
	if (err < 0) {
		fprintf(stderr, "match_test: filter %u: %s\n", id, strerror(-err));
		t->failed = err;
		loop_stop(t->loop);
		return;
	}
	t->ready++;
	status_write(t);
}

static void on_signal(void *arg, int fd, uint32_t events)
{
	struct test *t = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1 && !t->removed) {
			int r = match_remove(t->m, t->id);
			if (r < 0)
				fprintf(stderr, "match_test: match_remove: %s\n", strerror(-r));
			t->remove_rc = r;
			t->removed = true;
			status_write(t);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			loop_stop(t->loop);
		}
	}
}

int main(int argc, char **argv)
{
	struct test t = {.mode = MODE_COUNT};
	const char *tag = "test";
	unsigned queue = 100;
	static const struct option opts[] = {
	    {"tag", required_argument, NULL, 't'},
	    {"queue", required_argument, NULL, 'q'},
	    {"dport", required_argument, NULL, 'p'},
	    {"mode", required_argument, NULL, 'm'},
	    {"status", required_argument, NULL, 's'},
	    {"extra", required_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 't':
			tag = optarg;
			break;
		case 'q':
			queue = (unsigned)atoi(optarg);
			break;
		case 'p':
			t.dport = (uint16_t)atoi(optarg);
			break;
		case 's':
			t.status = optarg;
			break;
		case 'x':
			t.extra = (unsigned)atoi(optarg);
			break;
		case 'm':
			if (!strcmp(optarg, "count"))
				t.mode = MODE_COUNT;
			else if (!strcmp(optarg, "drop"))
				t.mode = MODE_DROP;
			else if (!strcmp(optarg, "modify"))
				t.mode = MODE_MODIFY;
			else if (!strcmp(optarg, "hold"))
				t.mode = MODE_HOLD;
			else
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (!t.status || !t.dport) {
		fprintf(stderr, "usage: match_test --tag T --queue Q --dport P --mode M --status FILE\n");
		return 2;
	}
	log_init("match_test", LOG_INFO, false);
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	t.loop = loop_new();
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!t.loop || sfd < 0 || loop_fd_add(t.loop, sfd, EPOLLIN, on_signal, &t) < 0)
		return 1;
	t.m = match_new(t.loop, tag, (uint16_t)queue, NULL);
	if (!t.m)
		return 1;
	struct match_filter f = {.proto = IPPROTO_UDP, .dport_lo = t.dport, .dport_hi = t.dport};
	int r = match_install(t.m, &f, handler, on_ready, &t, &t.id);
	if (r < 0) {
		fprintf(stderr, "match_test: match_install: %s\n", strerror(-r));
		match_free(t.m);
		return 1;
	}
	for (unsigned i = 1; i <= t.extra; i++) {
		unsigned id;
		f.dport_lo = f.dport_hi = (uint16_t)(t.dport + i);
		r = match_install(t.m, &f, handler, on_ready, &t, &id);
		if (r < 0) {
			fprintf(stderr, "match_test: match_install: %s\n", strerror(-r));
			match_free(t.m);
			return 1;
		}
	}
	status_write(&t);
	loop_set_idle(t.loop, status_idle, &t);
	loop_run(t.loop);
	match_free(t.m);
	t.m = NULL;
	FILE *sf = fopen(t.status, "a");
	if (sf) {
		fprintf(sf, "exited=1\n");
		fclose(sf);
	}
	loop_free(t.loop);
	close(sfd);
	return t.failed ? 1 : 0;
}
