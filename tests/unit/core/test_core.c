// SPDX-License-Identifier: MIT
/*
 * Unit tests of src/core: the event loop's timers and fd dispatch, and the
 * packet pool and queues.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/pkt.h"

static int failures, checks;
#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		checks++;                                                                                              \
		if (!(cond)) {                                                                                         \
			failures++;                                                                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                       \
		}                                                                                                      \
	} while (0)

static char order[16];
static size_t n_order;

static void timer_cb(void *arg)
{
	order[n_order++] = *(const char *)arg;
}

static void stop_cb(void *arg)
{
	loop_stop(arg);
}

static void test_timers(void)
{
	struct loop *l = loop_new();
	CHECK(l != NULL);
	static const char a = 'a', b = 'b', c = 'c', d = 'd';
	loop_timer_add(l, 20, timer_cb, (void *)&c);
	loop_timer_add(l, 0, timer_cb, (void *)&a);
	struct loop_timer *t = loop_timer_add(l, 10, timer_cb, (void *)&d);
	loop_timer_add(l, 10, timer_cb, (void *)&b);
	loop_timer_cancel(l, t);
	loop_timer_add(l, 30, stop_cb, l);
	uint64_t t0 = loop_now_ms();
	CHECK(loop_run(l) == 0);
	CHECK(loop_now_ms() - t0 >= 30);
	CHECK(n_order == 3 && memcmp(order, "abc", 3) == 0);
	loop_free(l);
}

static int reads;
static void fd_cb(void *arg, int fd, uint32_t events)
{
	char buf[8];
	if (read(fd, buf, sizeof(buf)) > 0)
		reads++;
	loop_fd_del(arg, fd); /* removing itself from inside its callback */
	loop_stop(arg);
}

static void test_fds(void)
{
	struct loop *l = loop_new();
	int p[2];
	CHECK(pipe(p) == 0);
	CHECK(loop_fd_add(l, p[0], EPOLLIN, fd_cb, l) == 0);
	CHECK(loop_fd_add(l, -1, EPOLLIN, fd_cb, l) < 0);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(loop_run(l) == 0);
	CHECK(reads == 1);
	close(p[0]);
	close(p[1]);
	loop_free(l);
}

static void test_pool(void)
{
	struct pkt_pool *pool = pkt_pool_new(3);
	CHECK(pool && pkt_pool_available(pool) == 3 && pkt_pool_size(pool) == 3);
	struct pkt *a = pkt_get(pool), *b = pkt_get(pool), *c = pkt_get(pool);
	CHECK(a && b && c && pkt_get(pool) == NULL);
	struct pkt_queue q = {0};
	pkt_queue_push(&q, b);
	pkt_queue_push(&q, a);
	CHECK(q.len == 2 && pkt_queue_pop(&q) == b && pkt_queue_pop(&q) == a && pkt_queue_pop(&q) == NULL);
	pkt_put(pool, a);
	pkt_put(pool, b);
	pkt_put(pool, c);
	CHECK(pkt_pool_available(pool) == 3);
	pkt_pool_free(pool);
}

/* No owner holds more than its share; buffers go back uncharged. */
static void test_pool_share(void)
{
	struct pkt_pool *pool = pkt_pool_new(8);
	pkt_pool_set_share(pool, 2);
	struct pkt *p[4];
	for (int i = 0; i < 4; i++)
		p[i] = pkt_get(pool);
	CHECK(pkt_charge(pool, p[0], 5) == 0 && pkt_charge(pool, p[1], 5) == 0);
	CHECK(pkt_charge(pool, p[2], 5) == -ENOBUFS && p[2]->owner == 0);
	CHECK(pkt_charge(pool, p[0], 5) == 0); /* charged already: no second charge */
	CHECK(pkt_owner_held(pool, 5) == 2);
	CHECK(pkt_charge(pool, p[2], 6) == 0 && pkt_owner_held(pool, 6) == 1);
	CHECK(pkt_charge(pool, p[3], 0) == -EINVAL && pkt_charge(pool, p[3], PKT_OWNERS) == -EINVAL);
	pkt_put(pool, p[0]);
	CHECK(pkt_owner_held(pool, 5) == 1);
	CHECK(pkt_charge(pool, p[3], 5) == 0);
	/* Moving a buffer to another owner releases the first. */
	CHECK(pkt_charge(pool, p[3], 6) == 0 && pkt_owner_held(pool, 5) == 1 && pkt_owner_held(pool, 6) == 2);
	for (int i = 1; i < 4; i++)
		pkt_put(pool, p[i]);
	CHECK(pkt_owner_held(pool, 5) == 0 && pkt_owner_held(pool, 6) == 0);
	struct pkt *again = pkt_get(pool);
	CHECK(again && again->owner == 0);
	pkt_put(pool, again);
	CHECK(pkt_pool_available(pool) == 8);
	pkt_pool_free(pool);
}

/* Refusal logs are limited per cause and per user (issue 17): a burst
 * of nine different refusals loses none, one user's flood of one cause
 * keeps its own five and leaves another user's five alone. */
static void test_log_keyed(void)
{
	char cause[32];
	int allowed = 0;
	for (int i = 0; i < 9; i++) {
		snprintf(cause, sizeof(cause), "cause %d", i);
		allowed += log_rl_allow_keyed(cause, "mallory");
	}
	CHECK(allowed == 9);
	allowed = 0;
	for (int i = 0; i < 100; i++)
		allowed += log_rl_allow_keyed("filter outside the grants", "mallory");
	CHECK(allowed == 5);
	allowed = 0;
	for (int i = 0; i < 5; i++)
		allowed += log_rl_allow_keyed("filter outside the grants", "carol");
	CHECK(allowed == 5);
	/* More keys than the table holds: every new one still gets its say. */
	allowed = 0;
	for (int i = 0; i < 200; i++) {
		snprintf(cause, sizeof(cause), "many %d", i);
		allowed += log_rl_allow_keyed(cause, "eve");
	}
	CHECK(allowed == 200);
}

int main(void)
{
	log_init("test_core", LOG_ERR, false);
	test_log_keyed();
	test_timers();
	test_fds();
	test_pool();
	test_pool_share();
	printf("core: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
