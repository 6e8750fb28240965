// SPDX-License-Identifier: MIT
/*
 * How long one capsule can hold a node, without I/O: each code object given
 * runs RUNS capsules through ee_run with the node's default work budget, and
 * every run is timed; the first object is the baseline (a forwarder). With
 * --insert, times installing each object instead (SHA-256, ELF checks, path
 * count, librte_bpf validation and JIT), or how fast it is refused: the
 * other way code can hold a run-to-completion node.
 *
 * usage: hostile_ee [-i] [-r RUNS] BASELINE.ao OBJECT.ao...
 *        hostile_ee --insert OBJECT.ao...
 * -i: librte_bpf's interpreter instead of its JIT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ee/ee.h"
#include "ee_env.h"

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Time RUNS capsules of one object: median and max ns, work units, drops. */
static int bench_runs(const char *path, long runs, bool interp, double *ret_median)
{
	void *code = NULL;
	size_t len = 0;
	if (bench_read_code(path, &code, &len) < 0) {
		fprintf(stderr, "hostile_ee: %s: cannot read\n", path);
		return -1;
	}
	struct ee *ee = ee_new(&(struct ee_config){ 0 }, &bench_env);
	uint8_t name[EE_NAME_LEN];
	if (!ee || ee_code_insert(ee, code, len, name) < 0) {
		fprintf(stderr, "hostile_ee: %s: refused: %s\n", path, ee ? ee_last_refusal(ee) : "no EE");
		return -1;
	}
	ee_use_jit(ee, !interp);
	struct an_ctx *ctx = calloc(1, sizeof(*ctx));
	double *t = calloc((size_t)runs, sizeof(*t));
	if (!ctx || !t)
		return -1;
	uint64_t work = 0, over = 0;
	for (long i = 0; i < runs; i++) {
		memset(ctx, 0, EE_NAME_LEN + 128);
		ctx->data_off = 128;
		ctx->data_len = 64;
		ctx->pkt_len = 192;
		ctx->hop_limit = 16;
		ctx->dst = bench_env.local;
		memcpy(ctx->code, name, EE_NAME_LEN);
		struct ee_verdict v;
		double t0 = bench_now_ns();
		ee_run(ee, ctx, &v);
		t[i] = bench_now_ns() - t0;
		work = v.work;
		over += v.over_budget;
	}
	qsort(t, (size_t)runs, sizeof(*t), bench_cmp_double);
	printf("| %s | %s | %.0f | %.0f | %.0f | %llu | %llu of %ld |\n", base(path), interp ? "interpreter" : "JIT",
	       t[runs / 2], t[runs * 99 / 100], t[runs - 1], (unsigned long long)work, (unsigned long long)over,
	       runs);
	*ret_median = t[runs / 2];
	free(t);
	free(ctx);
	free(code);
	ee_free(ee);
	return 0;
}

/* Install one object into fresh EEs (5 times): median and max ms. */
static void bench_insert(const char *path)
{
	void *code = NULL;
	size_t len = 0;
	if (bench_read_code(path, &code, &len) < 0) {
		fprintf(stderr, "hostile_ee: %s: cannot read\n", path);
		return;
	}
	double t[5];
	int rc = 0;
	char why[160] = "";
	for (int i = 0; i < 5; i++) {
		struct ee *ee = ee_new(&(struct ee_config){ 0 }, &bench_env);
		uint8_t name[EE_NAME_LEN];
		double t0 = bench_now_ns();
		rc = ee_code_insert(ee, code, len, name);
		t[i] = (bench_now_ns() - t0) / 1e6;
		snprintf(why, sizeof(why), "%s", ee_last_refusal(ee));
		ee_free(ee);
	}
	qsort(t, 5, sizeof(*t), bench_cmp_double);
	printf("| %s | %zu | %s | %.3f | %.3f |\n", base(path), len, rc == 0 ? "accepted" : why, t[2], t[4]);
	free(code);
}

int main(int argc, char **argv)
{
	long runs = 2000;
	bool interp = false;
	int i = 1;
	log_init("hostile_ee", LOG_ERR, false);
	if (argc > 1 && strcmp(argv[1], "--insert") == 0) {
		printf("| object | bytes | result | median (ms) | max (ms) |\n|---|---:|---|---:|---:|\n");
		for (i = 2; i < argc; i++)
			bench_insert(argv[i]);
		return 0;
	}
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-i") == 0)
			interp = true;
		else if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			runs = strtol(argv[++i], NULL, 10);
	}
	if (i >= argc || runs < 1) {
		fprintf(stderr, "usage: hostile_ee [-i] [-r RUNS] BASELINE.ao OBJECT.ao...\n"
				"       hostile_ee --insert OBJECT.ao...\n");
		return 2;
	}
	printf("| object | engine | median (ns) | p99 (ns) | max (ns) | work units | over budget |\n"
	       "|---|---|---:|---:|---:|---:|---:|\n");
	double base_ns = 0, worst = 0, m;
	const char *worst_name = "";
	for (int k = i; k < argc; k++) {
		if (bench_runs(argv[k], runs, interp, &m) < 0)
			return 1;
		if (k == i)
			base_ns = m;
		else if (m > worst) {
			worst = m;
			worst_name = base(argv[k]);
		}
	}
	printf("\nworst median / baseline median: %.0f (%s; %.0f ns vs %.0f ns)\n", base_ns > 0 ? worst / base_ns : 0,
	       worst_name, worst, base_ns);
	return 0;
}
