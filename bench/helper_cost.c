// SPDX-License-Identifier: MIT
/*
 * What one work unit costs, helper by helper (issue 17, "cost is work"):
 * each calibration object of bench/cost/ calls one helper many times with
 * the arguments that make it slowest, and runs RUNS times with a budget
 * that never runs out; its median time over the units it was charged is
 * that helper's nanoseconds per unit. Straight-line instructions are the
 * baseline (one unit each). The costs in src/ee/helper.h and the kinds'
 * helpers are right when every row is near 1 ns per unit (0.5-2).
 *
 * usage: helper_cost [-r RUNS] DIR   (DIR: the build's bench/ directory)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anode/concast.h"
#include "anode/module.h"
#include "concast/kind.h"
#include "core/log.h"
#include "ee/ee.h"
#include "ee_env.h"
#include "svc/kinds.h"

/* One row: an object, its kind and entry point, how its context is set. */
struct row {
	const char *helper;	    /* what the row measures */
	const char *charge;	    /* its charge, as src/ says it */
	const char *object;	    /* under DIR */
	const struct ee_kind *kind; /* NULL: a capsule */
	unsigned entry;
	void (*setup)(void *ctx, long run);
	const char *pattern; /* an_pkt_find: the pattern (NULL: none) */
	char fill;	     /* an_pkt_find: the packet's octets ('r': pseudo-random) */
};

static const struct row *cur;

static void setup_capsule(void *p, long run)
{
	struct an_ctx *ctx = p;
	memset(ctx, 0, EE_NAME_LEN + 128);
	ctx->data_off = 128;
	ctx->data_len = 64;
	ctx->pkt_len = 192;
	ctx->hop_limit = 16;
	ctx->dst = bench_env.local;
	/* A new soft state key in every run (cost/capsule.c, COST_STATE). */
	ctx->pkt[0] = (uint8_t)run;
	ctx->pkt[1] = (uint8_t)(run >> 8);
}

static void setup_merge(void *p, long run)
{
	struct an_merge_ctx *ctx = p;
	(void)run;
	memset(ctx, 0, sizeof(*ctx));
	for (size_t i = 0; i < sizeof(ctx->msg); i++)
		ctx->msg[i] = (uint8_t)(i * 37);
	ctx->len = AN_CONCAST_MSG_MAX;
}

/* A whole IPv4/TCP packet of AN_MODULE_PKT_MAX octets; for an_pkt_find,
 * the pattern in its first octets and the rest filled as the row says. */
static void setup_packet(void *p, long run)
{
	struct an_pkt_ctx *ctx = p;
	(void)run;
	memset(ctx, 0, sizeof(*ctx));
	ctx->len = AN_MODULE_PKT_MAX;
	ctx->proto = 6;
	ctx->l4_off = 20;
	uint8_t *b = ctx->pkt;
	if (!cur->pattern) {
		b[0] = 0x45;
		b[2] = AN_MODULE_PKT_MAX >> 8;
		b[3] = AN_MODULE_PKT_MAX & 0xff;
		b[8] = 64;
		b[9] = 6; /* TCP: its checksum is always recomputed */
		return;
	}
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < AN_MODULE_PKT_MAX; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		b[i] = cur->fill == 'r' ? (uint8_t)x : (uint8_t)cur->fill;
	}
	size_t n = strlen(cur->pattern);
	b[0] = (uint8_t)n;
	memcpy(b + 1, cur->pattern, n);
}

#define SEARCH(what, pat, fill_)                                                                                       \
	{                                                                                                              \
		"an_pkt_find: " what, "16 + per octet searched: 1/16 (1-octet pattern), 1 (2 octets), 8",              \
		    "cost_find.ao", &svc_kind_module, 0, setup_packet, pat, fill_                                      \
	}
#define CAPSULE(h, obj, charge_)                                                                                       \
	{                                                                                                              \
		h, charge_, obj, NULL, 0, setup_capsule, NULL, 0                                                       \
	}

static const struct row rows[] = {
    CAPSULE("instructions (baseline)", "cost_insns.ao", "1 per instruction on the longest path"),
    CAPSULE("an_time_ns", "cost_time.ao", "32"),
    CAPSULE("an_state_put (insert, evict)", "cost_state.ao", "96"),
    CAPSULE("an_resize (grow by 8000)", "cost_resize.ao", "16 + 1/64 per octet grown"),
    CAPSULE("an_node_info", "cost_info.ao", "48"),
    CAPSULE("an_send", "cost_send.ao", "48"),
    CAPSULE("an_log (debug)", "cost_log.ao", "16"),
    {"an_mulaw_mix (1024 samples)", "16 + 2 per sample", "cost_merge.ao", &concast_kind_merge, CONCAST_MERGE_GET_TAG,
     setup_merge, NULL, 0},
    {"an_mulaw_make (1024 samples)", "16 + 2 per sample", "cost_merge.ao", &concast_kind_merge, CONCAST_MERGE_MERGE,
     setup_merge, NULL, 0},
    {"an_pcm16_mix (512 samples)", "16 + 2 per sample", "cost_pcm16.ao", &concast_kind_merge, CONCAST_MERGE_GET_TAG,
     setup_merge, NULL, 0},
    {"an_pcm16_make (512 samples)", "16 + 2 per sample", "cost_pcm16.ao", &concast_kind_merge, CONCAST_MERGE_MERGE,
     setup_merge, NULL, 0},
    {"instructions (merge kind)", "1 per instruction on the longest path", "cost_merge.ao", &concast_kind_merge,
     CONCAST_MERGE_DONE, setup_merge, NULL, 0},
    SEARCH("1 octet, absent", "z", 'a'),
    SEARCH("2 octets, absent", "az", 'a'),
    SEARCH("'baaa' in a's", "baaa", 'a'),
    SEARCH("'aaa...ab' (32) in a's", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 'a'),
    SEARCH("'baaaaaaa' in a's", "baaaaaaa", 'a'),
    SEARCH("8 octets in random octets", "q7Zx!kP0", 'r'),
    {"an_pkt_fix (2048 octets)", "16 + 1/2 per octet", "cost_fix.ao", &svc_kind_module, 0, setup_packet, NULL, 0},
};

static int run_row(const char *dir, const struct row *row, long runs, double *ret_ns_per_unit)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, row->object);
	size_t len = 0;
	void *code = NULL;
	int e = bench_read_code(path, &code, &len);
	if (e < 0) {
		fprintf(stderr, "helper_cost: %s: %s\n", path, strerror(-e));
		return -1;
	}
	/* A budget no row reaches: the time is the helper's, not a refusal's. */
	struct ee *ee = ee_new(&(struct ee_config){.run_budget = 100000000}, &bench_env);
	uint8_t name[EE_NAME_LEN];
	int rc =
	    ee ? (row->kind ? ee_code_insert_kind(ee, row->kind, code, len, name) : ee_code_insert(ee, code, len, name))
	       : -ENOMEM;
	free(code);
	if (rc < 0) {
		fprintf(stderr, "helper_cost: %s refused: %s\n", path, ee ? ee_last_refusal(ee) : "no EE");
		return -1;
	}
	size_t size = row->kind ? row->kind->ctx_size : sizeof(struct an_ctx);
	void *ctx = calloc(1, size);
	double *t = calloc((size_t)runs, sizeof(*t));
	if (!ctx || !t)
		return -1;
	cur = row;
	uint64_t work = 0;
	for (long i = 0; i < runs; i++) {
		row->setup(ctx, i);
		double t0 = bench_now_ns();
		if (row->kind) {
			int64_t ret;
			ee_run_entry(ee, name, row->kind, row->entry, ctx, &ret);
			t[i] = bench_now_ns() - t0;
			work = ee_last_work(ee);
		} else {
			struct ee_verdict v;
			memcpy(((struct an_ctx *)ctx)->code, name, EE_NAME_LEN);
			ee_run(ee, ctx, &v);
			t[i] = bench_now_ns() - t0;
			work = v.work;
		}
	}
	qsort(t, (size_t)runs, sizeof(*t), bench_cmp_double);
	double med = t[runs / 2];
	*ret_ns_per_unit = work ? med / (double)work : 0;
	printf("| %s | %s | %llu | %.0f | %.2f |\n", row->helper, row->charge, (unsigned long long)work, med,
	       *ret_ns_per_unit);
	free(t);
	free(ctx);
	ee_free(ee);
	return 0;
}

int main(int argc, char **argv)
{
	long runs = 2000;
	int i = 1;
	log_init("helper_cost", LOG_ERR, false);
	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		runs = strtol(argv[2], NULL, 10);
		i = 3;
	}
	if (i != argc - 1 || runs < 1) {
		fprintf(stderr, "usage: helper_cost [-r RUNS] DIR\n"
				"Times each helper's calibration object of DIR (the build's bench/) and prints\n"
				"nanoseconds per work unit, one Markdown row per helper (target 0.5-2).\n");
		return 2;
	}
	printf("| helper | charge (units) | units per run | median ns per run | ns per unit |\n"
	       "|---|---|---:|---:|---:|\n");
	double lo = 1e9, hi = 0, x;
	const char *lo_name = "", *hi_name = "";
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		if (run_row(argv[i], &rows[k], runs, &x) < 0)
			return 1;
		if (x < lo)
			lo = x, lo_name = rows[k].helper;
		if (x > hi)
			hi = x, hi_name = rows[k].helper;
	}
	printf("\nns per unit: lowest %.2f (%s), highest %.2f (%s); target 0.5-2\n", lo, lo_name, hi, hi_name);
	return 0;
}
