/* SPDX-License-Identifier: MIT */
/*
 * What the benchmarks that run the EE without a node share (hostile_ee.c,
 * helper_cost.c): a node interface whose route, link and figure callbacks
 * answer at once (every destination is its own next hop; figures as the
 * node keeps them, sampled, so a lookup), the clock, and reading a code
 * object.
 */
#ifndef BENCH_EE_ENV_H
#define BENCH_EE_ENV_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ee/ee.h"

static int bench_route_any(void *node, const struct an_addr *dst, struct an_addr *ret_next)
{
	(void)node;
	*ret_next = *dst;
	return 0;
}

static bool bench_alive(void *node, uint64_t handle)
{
	(void)node;
	(void)handle;
	return true;
}

static int64_t bench_info(void *node, uint64_t what)
{
	(void)node;
	return (int64_t)what * 1000;
}

static const struct ee_env bench_env = {
    .route = bench_route_any,
    .applink_alive = bench_alive,
    .node_info = bench_info,
    .local = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1}, .port = 0x0cf2},
};

static inline double bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A code object's bytes (malloc'ed, at most EE_CODE_MAX + 1 read): 0 or a
 * negative errno. */
static inline int bench_read_code(const char *path, void **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	void *b = malloc(EE_CODE_MAX + 1);
	size_t n = b ? fread(b, 1, EE_CODE_MAX + 1, f) : 0;
	fclose(f);
	if (!b)
		return -ENOMEM;
	*ret = b;
	*ret_len = n;
	return 0;
}

#endif
