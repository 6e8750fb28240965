// SPDX-License-Identifier: MIT
/*
 * A whole node in the test's process (nodetest.h).
 */
#include "nodetest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/pkt.h"
#include "ctl/ctl.h"
#include "link/mem.h"
#include "node/config.h"
#include "node/node.h"
#include "wire/wire.h"

#define NT_KEEP 4096 /* packets the memory link keeps each way */

static uint64_t fake_now_ns = 3600ull * 1000000000ull;
static uint64_t fake_step_ns; /* nt_clock_step */

static uint64_t fake_clock(void)
{
	fake_now_ns += fake_step_ns;
	return fake_now_ns;
}

void nt_clock_step(uint64_t ns)
{
	fake_step_ns = ns;
}

static struct link *open_mem(const struct an_addr *local, struct pkt_pool *pool, void *arg)
{
	return link_mem_open(local, pool, NT_KEEP);
}

struct nodetest *nt_new(const char *extra_conf)
{
	struct nodetest *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	snprintf(t->dir, sizeof(t->dir), "/tmp/anode-nt.XXXXXX");
	if (!mkdtemp(t->dir)) {
		perror("mkdtemp");
		free(t);
		return NULL;
	}
	loop_clock_set(fake_clock);
	char path[128];
	snprintf(path, sizeof(path), "%s/node.conf", t->dir);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		free(t);
		return NULL;
	}
	fprintf(f,
		"name nt\nlisten %s\napp-socket %s/app\nctl-socket %s/ctl\n"
		"route %s %s\nroute %s %s\nroute default %s\n%s\n",
		NT_SELF, t->dir, t->dir, NT_PEER, NT_PEER, NT_FAR, NT_PEER, NT_PEER, extra_conf ? extra_conf : "");
	fclose(f);
	struct node_config cfg;
	char err[512];
	if (node_config_load(path, &cfg, err, sizeof(err)) < 0 || node_config_read_policy(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "nodetest: %s\n", err);
		free(t);
		return NULL;
	}
	wire_addr_parse(NT_SELF, &t->self);
	wire_addr_parse(NT_PEER, &t->peer);
	wire_addr_parse(NT_FAR, &t->far);
	t->node = node_new_with_link(&cfg, open_mem, NULL);
	node_config_done(&cfg);
	if (!t->node) {
		fprintf(stderr, "nodetest: the node did not start\n");
		free(t);
		return NULL;
	}
	unlink(path);
	return t;
}

void nt_free(struct nodetest *t)
{
	if (!t)
		return;
	node_free(t->node);
	rmdir(t->dir);
	free(t);
	loop_clock_set(NULL);
	fake_step_ns = 0;
}

void nt_run(struct nodetest *t)
{
	/* Rounds until the link has nothing waiting and the node left no
	 * work for the next round. */
	for (int i = 0; i < 10000; i++) {
		loop_run_once(node_loop(t->node), 0);
		if (!loop_busy(node_loop(t->node)))
			break;
	}
}

int nt_queue(struct nodetest *t, const void *bytes, size_t len, const struct an_addr *from)
{
	return link_mem_push(node_link(t->node), bytes, len, from);
}

void nt_round(struct nodetest *t)
{
	loop_run_once(node_loop(t->node), 0);
}

int nt_push(struct nodetest *t, const void *bytes, size_t len, const struct an_addr *from)
{
	int r = link_mem_push(node_link(t->node), bytes, len, from);
	if (r == 0)
		nt_run(t);
	return r;
}

void nt_advance(struct nodetest *t, uint64_t ms)
{
	while (ms) {
		uint64_t step = ms < 10 ? ms : 10;
		fake_now_ns += step * 1000000ull;
		ms -= step;
		nt_run(t);
	}
}

int nt_sent(struct nodetest *t, void *buf, size_t cap, struct an_addr *ret_to)
{
	return link_mem_sent(node_link(t->node), buf, cap, ret_to);
}

void nt_sent_clear(struct nodetest *t)
{
	static uint8_t buf[AN_PKT_MAX];
	while (nt_sent(t, buf, sizeof(buf), NULL) >= 0)
		;
}

size_t nt_free_buffers(struct nodetest *t)
{
	return pkt_pool_available(node_pool(t->node));
}

size_t nt_total_buffers(struct nodetest *t)
{
	return pkt_pool_size(node_pool(t->node));
}

char *nt_ctl(struct nodetest *t, const char *cmd)
{
	/* The control socket answers from the node's loop: ask from a
	 * child process while this one runs it. */
	char path[128];
	snprintf(path, sizeof(path), "%s/ctl", t->dir);
	int fds[2];
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return NULL;
	pid_t pid = fork();
	if (pid < 0)
		return NULL;
	if (pid == 0) {
		close(fds[0]);
		char *body = NULL;
		int r = ctl_request(path, cmd, 2000, &body);
		dprintf(fds[1], "%s%s", r == 0 ? "ok\n" : "error: ", body ? body : "");
		_exit(0);
	}
	close(fds[1]);
	size_t len = 0, cap = 65536;
	char *out = calloc(1, cap + 1);
	for (int i = 0; out && i < 2000; i++) {
		loop_run_once(node_loop(t->node), 1);
		ssize_t k;
		while ((k = read(fds[0], out + len, cap - len)) > 0)
			len += (size_t)k;
		if (k == 0 || len == cap)
			break; /* the child is done */
	}
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	return out;
}
