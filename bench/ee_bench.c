// SPDX-License-Identifier: MIT
/*
 * The EE alone, without I/O: how long ee_run takes for a capsule whose code
 * object forwards it (an_forward) with a route callback doing a small table
 * lookup, on one prepared context, through the JIT and through librte_bpf's
 * interpreter. PAN measured its node the same way: per capsule, steady state,
 * code cached. Usage: ee_bench CODE.ao [RUNS]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ee/ee.h"

/* A routing table as small as a test network's: the last address octet picks
 * the slot, the whole address must match. */
#define ROUTES 16
static struct {
	struct an_addr dst, next;
	bool used;
} routes[ROUTES];

static int bench_route(void *node, const struct an_addr *dst, struct an_addr *ret_next)
{
	(void)node;
	unsigned i = dst->ip[15] % ROUTES;
	if (!routes[i].used || !an_addr_eq(&routes[i].dst, dst))
		return -EHOSTUNREACH;
	*ret_next = routes[i].next;
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
	(void)what;
	return -EINVAL;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per capsule over runs; exits if a run does not forward. */
static double bench(struct ee *ee, struct an_ctx *ctx, long runs)
{
	struct ee_verdict v;

	for (long i = 0; i < runs / 100 + 1; i++) /* warm up */
		ee_run(ee, ctx, &v);
	double t0 = now_ns();
	for (long i = 0; i < runs; i++) {
		if (ee_run(ee, ctx, &v) < 0 || v.rc != 0 || v.n_sends != 1) {
			fprintf(stderr, "ee_bench: run %ld did not forward (rc %lld)\n", i, (long long)v.rc);
			exit(1);
		}
	}
	return (now_ns() - t0) / (double)runs;
}

int main(int argc, char **argv)
{
	static uint8_t elf[EE_CODE_MAX + 1];

	if (argc < 2) {
		fprintf(stderr, "usage: %s CODE.ao [RUNS]\n", argv[0]);
		return 2;
	}
	long runs = argc > 2 ? atol(argv[2]) : 10000000;
	if (runs <= 0)
		runs = 10000000;
	log_init("ee_bench", LOG_WARNING, false);

	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	size_t len = fread(elf, 1, sizeof(elf), f);
	fclose(f);

	for (unsigned i = 0; i < ROUTES; i++) {
		routes[i].used = true;
		routes[i].dst.ip[10] = routes[i].dst.ip[11] = 0xff;
		routes[i].dst.ip[12] = 10;
		routes[i].dst.ip[15] = (uint8_t)i;
		routes[i].dst.port = htobe16(3322);
		routes[i].next = routes[i].dst;
		routes[i].next.ip[14] = 1;
	}
	struct ee_env env = {.route = bench_route, .applink_alive = bench_alive, .node_info = bench_info};
	struct ee *ee = ee_new(NULL, &env);
	if (!ee) {
		perror("ee_new");
		return 1;
	}
	uint8_t name[EE_NAME_LEN];
	int rc = ee_code_insert(ee, elf, len, name);
	if (rc < 0) {
		fprintf(stderr, "ee_bench: %s: %s\n", argv[1], strerror(-rc));
		return 1;
	}

	struct an_ctx *ctx = calloc(1, sizeof(*ctx));
	ctx->data_off = 80;
	ctx->data_len = 64;
	ctx->pkt_len = 144;
	ctx->hop_limit = 16;
	ctx->dst = routes[7].dst;
	memcpy(ctx->code, name, EE_NAME_LEN);

	double jit = bench(ee, ctx, runs);
	ee_use_jit(ee, false);
	double interp = bench(ee, ctx, runs / 4 > 0 ? runs / 4 : 1);
	printf("ee_bench: forwarding code object, %ld runs\n", runs);
	printf("jit:         %.1f ns/capsule\n", jit);
	printf("interpreter: %.1f ns/capsule\n", interp);
	free(ctx);
	ee_free(ee);
	return 0;
}
