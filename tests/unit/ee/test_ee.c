// SPDX-License-Identifier: MIT
/*
 * Unit tests of the capsule execution environment, with real code objects
 * compiled by clang's BPF target (the *.c files next to this one). The first
 * argument is the directory holding the compiled *.ao files. The env's route
 * callback is the test's window on the EE: it records every send, including
 * those fini entry points make, so eviction order can be observed.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ee/ee.h"

static int n_pass, n_fail;

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (cond) {                                                                                            \
			n_pass++;                                                                                      \
		} else {                                                                                               \
			n_fail++;                                                                                      \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                \
		}                                                                                                      \
	} while (0)

#define CHECK_EQ(a, b)                                                                                                 \
	do {                                                                                                           \
		long long a_ = (long long)(a), b_ = (long long)(b);                                                    \
		if (a_ == b_) {                                                                                        \
			n_pass++;                                                                                      \
		} else {                                                                                               \
			n_fail++;                                                                                      \
			fprintf(stderr, "FAIL %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, #a, a_,   \
				#b, b_);                                                                               \
		}                                                                                                      \
	} while (0)

static const char *ao_dir;
static bool interpret; /* second pass: librte_bpf's interpreter, not the JIT */

struct obj {
	void *buf;
	size_t len;
};

static struct obj load(const char *name)
{
	char path[4096];
	struct obj o = {0};

	snprintf(path, sizeof(path), "%s/%s.ao", ao_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	o.buf = malloc(EE_CODE_MAX + 1);
	o.len = fread(o.buf, 1, EE_CODE_MAX + 1, f);
	fclose(f);
	return o;
}

/* What the node saw of the EE. */
#define FINI_PORT 0xfeed
static uint8_t fini_log[16][16];
static unsigned n_fini, n_route;

static int t_route(void *node, const struct an_addr *dst, struct an_addr *ret_next)
{
	(void)node;
	n_route++;
	if (dst->port == FINI_PORT) {
		if (n_fini < 16)
			memcpy(fini_log[n_fini++], dst->ip, 16);
		*ret_next = *dst;
		return 0;
	}
	if (dst->ip[15] == 0xff)
		return -EHOSTUNREACH;
	*ret_next = *dst;
	ret_next->port = (uint16_t)(dst->port + 1);
	return 0;
}

static bool t_alive(void *node, uint64_t handle)
{
	(void)node;
	return handle == 42;
}

static int64_t t_info(void *node, uint64_t what)
{
	(void)node;
	return what == AN_INFO_CODE_CACHED ? 5 : -EINVAL;
}

static struct ee_env env = {
    .route = t_route,
    .applink_alive = t_alive,
    .node_info = t_info,
    .local = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1}, .port = 0x0cf2},
};

static struct an_ctx *new_ctx(const uint8_t name[EE_NAME_LEN], uint16_t data_len)
{
	struct an_ctx *ctx = calloc(1, sizeof(*ctx));
	ctx->data_off = 64;
	ctx->data_len = data_len;
	ctx->pkt_len = (uint16_t)(64 + data_len);
	ctx->hop_limit = 30;
	ctx->origin = AN_ORIGIN_NET;
	ctx->prev_hop.ip[15] = 2;
	ctx->src.ip[15] = 3;
	ctx->dst.ip[15] = 4;
	ctx->dst.port = 100;
	memcpy(ctx->code, name, EE_NAME_LEN);
	return ctx;
}

static uint64_t run_budget; /* 0: the default */

static struct ee *new_ee(size_t objects, size_t bytes, size_t failed, size_t state)
{
	struct ee_config cfg = {.cache_objects = objects,
				.cache_bytes = bytes,
				.failed_names = failed,
				.state_entries = state,
				.run_budget = run_budget};
	struct ee *ee = ee_new(&cfg, &env);
	if (!ee) {
		fprintf(stderr, "ee_new failed\n");
		exit(2);
	}
	if (interpret)
		ee_use_jit(ee, false);
	return ee;
}

static void test_names(void)
{
	uint8_t n[EE_NAME_LEN], m[EE_NAME_LEN];
	char hex[65];

	ee_hash("abc", 3, n);
	ee_name_hex(n, hex);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	CHECK_EQ(ee_name_parse(hex, m), 0);
	CHECK(memcmp(n, m, sizeof(n)) == 0);
	CHECK_EQ(ee_name_parse("ba78", m), -EINVAL);
	hex[5] = 'g';
	CHECK_EQ(ee_name_parse(hex, m), -EINVAL);
}

static void test_bad(void)
{
	static const char *bad[] = {"bad_loop",	    "bad_oob",	  "bad_rodata", "bad_global",
				    "bad_noaccept", "bad_helper", "bad_ctxptr", "bad_stackptr"};
	struct ee *ee = new_ee(0, 0, 0, 0);
	uint8_t name[EE_NAME_LEN], h[EE_NAME_LEN];
	struct ee_stats st;
	struct ee_verdict v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct obj o = load(bad[i]);
		memset(name, 0, sizeof(name));
		int rc = ee_code_insert(ee, o.buf, o.len, name);
		if (rc != -EINVAL)
			fprintf(stderr, "%s: insert returned %d\n", bad[i], rc);
		CHECK_EQ(rc, -EINVAL);
		/* The refusal says why, for the person who wrote the code. */
		const char *why = ee_last_refusal(ee);
		CHECK(why[0] != '\0');
		if (i == 0 || i == 1)
			printf("# %s refused: %s\n", bad[i], why);
		CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), -EPERM);
		ee_hash(o.buf, o.len, h);
		CHECK_EQ(ee_code_insert_named(ee, h, o.buf, o.len), -EPERM);
		CHECK_EQ(ee_code_status(ee, h), EE_CODE_FAILED);
		struct an_ctx *ctx = new_ctx(h, 16);
		CHECK_EQ(ee_run(ee, ctx, &v), -EPERM);
		free(ctx);
		free(o.buf);
	}

	/* Not ELF at all, and a good object cut short. */
	char junk[100];
	memset(junk, 'x', sizeof(junk));
	CHECK_EQ(ee_code_insert(ee, junk, sizeof(junk), name), -EINVAL);
	struct obj o = load("co_forward");
	CHECK_EQ(ee_code_insert(ee, o.buf, o.len / 2, name), -EINVAL);
	CHECK_EQ(ee_code_insert(ee, o.buf, 0, name), -EINVAL);
	free(o.buf);

	/* Too big is refused before anything is remembered. */
	void *big = calloc(1, EE_CODE_MAX + 1);
	CHECK_EQ(ee_code_insert(ee, big, EE_CODE_MAX + 1, name), -EFBIG);
	ee_hash(big, EE_CODE_MAX + 1, h);
	CHECK_EQ(ee_code_status(ee, h), EE_CODE_ABSENT);
	free(big);

	ee_stats_get(ee, &st);
	CHECK_EQ(st.failed_validation, 11);
	CHECK_EQ(st.refused_known_bad, 16);
	CHECK_EQ(st.inserted, 0);
	ee_free(ee);

	/* The memory of bad names is bounded: the oldest is forgotten. */
	ee = new_ee(0, 0, 2, 0);
	for (int i = 0; i < 3; i++) {
		junk[0] = (char)i;
		CHECK_EQ(ee_code_insert(ee, junk, sizeof(junk), name), -EINVAL);
	}
	junk[0] = 0;
	CHECK_EQ(ee_code_insert(ee, junk, sizeof(junk), name), -EINVAL);
	junk[0] = 2;
	CHECK_EQ(ee_code_insert(ee, junk, sizeof(junk), name), -EPERM);
	ee_free(ee);
}

static void test_named(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj o = load("co_forward");
	uint8_t h[EE_NAME_LEN], wrong[EE_NAME_LEN];
	const void *got;
	size_t got_len;

	ee_hash(o.buf, o.len, h);
	memcpy(wrong, h, sizeof(wrong));
	wrong[31] ^= 1;
	CHECK_EQ(ee_code_insert_named(ee, wrong, o.buf, o.len), -EBADMSG);
	CHECK_EQ(ee_code_status(ee, wrong), EE_CODE_ABSENT);
	CHECK_EQ(ee_code_status(ee, h), EE_CODE_ABSENT);
	CHECK_EQ(ee_code_get(ee, h, &got, &got_len), -ENOENT);
	CHECK_EQ(ee_code_insert_named(ee, h, o.buf, o.len), 0);
	CHECK_EQ(ee_code_status(ee, h), EE_CODE_READY);
	CHECK_EQ(ee_code_get(ee, h, &got, &got_len), 0);
	CHECK(got_len == o.len && memcmp(got, o.buf, o.len) == 0);
	/* Again: already cached, still 0. */
	CHECK_EQ(ee_code_insert_named(ee, h, o.buf, o.len), 0);
	CHECK_EQ(ee_code_remove(ee, h), 0);
	CHECK_EQ(ee_code_remove(ee, h), -ENOENT);
	CHECK_EQ(ee_code_status(ee, h), EE_CODE_ABSENT);
	free(o.buf);
	ee_free(ee);
}

static void test_forward(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj o = load("co_forward");
	uint8_t name[EE_NAME_LEN];
	struct ee_verdict v;

	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	struct an_ctx *ctx = new_ctx(name, 10);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, 0);
	CHECK_EQ(v.n_sends, 1);
	CHECK_EQ(v.n_delivers, 0);
	CHECK_EQ(v.data_len, 10);
	CHECK(memcmp(&v.send_dst[0], &ctx->dst, sizeof(ctx->dst)) == 0);
	CHECK_EQ(v.send_next[0].port, 101);

	ctx->dst.ip[15] = 0xff; /* no route */
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, -EHOSTUNREACH);
	CHECK_EQ(v.n_sends, 0);

	memset(&ctx->dst, 0, sizeof(ctx->dst)); /* no destination option */
	unsigned before = n_route;
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, -EHOSTUNREACH);
	CHECK_EQ(n_route, before);

	/* A context the node filled wrongly is refused, not run. */
	ctx->data_off = 8000;
	ctx->data_len = 500;
	CHECK_EQ(ee_run(ee, ctx, &v), -EINVAL);

	struct ee_stats st;
	ee_stats_get(ee, &st);
	CHECK_EQ(st.runs, 3);
	CHECK_EQ(st.run_errors, 2);
	struct ee_code_info info;
	CHECK_EQ(ee_code_list(ee, &info, 1), 1);
	CHECK_EQ(info.runs, 3);
	CHECK_EQ(info.errors, 2);
	CHECK(info.last_used_ns > 0);

	/* Unknown name. */
	ctx->code[0] ^= 1;
	ctx->data_off = 64;
	ctx->data_len = 10;
	CHECK_EQ(ee_run(ee, ctx, &v), -ENOENT);
	free(ctx);
	free(o.buf);
	ee_free(ee);
}

static int64_t run_counter(struct ee *ee, const uint8_t name[EE_NAME_LEN], uint8_t k0, uint8_t k1, uint8_t del)
{
	struct ee_verdict v;
	struct an_ctx *ctx = new_ctx(name, 3);
	ctx->pkt[64] = k0;
	ctx->pkt[65] = k1;
	ctx->pkt[66] = del;
	int rc = ee_run(ee, ctx, &v);
	free(ctx);
	return rc < 0 ? rc : v.rc;
}

/* Collects the first octet of each key ee_code_state_each hands it. */
static void each_key(void *arg, const struct an_key *key, const struct an_val *val)
{
	struct {
		uint8_t keys[8];
		size_t n;
	} *seen = arg;
	(void)val;
	if (seen->n < sizeof(seen->keys))
		seen->keys[seen->n] = key->b[0];
	seen->n++;
}

static void test_state(void)
{
	struct ee *ee = new_ee(0, 0, 0, 4);
	struct obj o = load("co_counter");
	uint8_t name[EE_NAME_LEN];
	struct ee_code_info info;
	struct ee_stats st;

	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	CHECK_EQ(run_counter(ee, name, 1, 0, 0), 1);
	CHECK_EQ(run_counter(ee, name, 1, 0, 0), 2);
	CHECK_EQ(run_counter(ee, name, 1, 0, 0), 3);
	CHECK_EQ(run_counter(ee, name, 2, 0, 0), 1);
	CHECK_EQ(run_counter(ee, name, 3, 0, 0), 1);
	CHECK_EQ(run_counter(ee, name, 4, 0, 0), 1);
	ee_code_list(ee, &info, 1);
	CHECK_EQ(info.state_entries, 4);
	/* Key 1 is now the oldest: touch it, so that key 2 goes first. */
	CHECK_EQ(run_counter(ee, name, 1, 0, 0), 4);
	CHECK_EQ(run_counter(ee, name, 5, 0, 0), 1);
	ee_stats_get(ee, &st);
	CHECK_EQ(st.state_evictions, 1);
	CHECK_EQ(run_counter(ee, name, 1, 0, 0), 5); /* kept */
	CHECK_EQ(run_counter(ee, name, 2, 0, 0), 1); /* evicted, starts again (evicts key 3) */
	CHECK_EQ(run_counter(ee, name, 4, 0, 0), 2); /* kept */
	CHECK_EQ(run_counter(ee, name, 3, 0, 0), 1); /* evicted */
	ee_stats_get(ee, &st);
	CHECK_EQ(st.state_evictions, 3);
	ee_code_list(ee, &info, 1);
	CHECK_EQ(info.state_entries, 4);
	/* Delete. */
	CHECK_EQ(run_counter(ee, name, 4, 0, 1), 3);
	ee_code_list(ee, &info, 1);
	CHECK_EQ(info.state_entries, 3);
	CHECK_EQ(run_counter(ee, name, 4, 0, 0), 1);

	/* A tighter bound (a user's soft state quota): down to it at once,
	 * least recently used first; not above the configured one. */
	CHECK_EQ(ee_code_limit_state(ee, name, 2), 0);
	ee_code_list(ee, &info, 1);
	CHECK_EQ(info.state_entries, 2);
	CHECK_EQ(run_counter(ee, name, 4, 0, 0), 2); /* the most recent: kept */
	CHECK_EQ(run_counter(ee, name, 7, 0, 0), 1);
	ee_code_list(ee, &info, 1);
	CHECK_EQ(info.state_entries, 2);
	CHECK_EQ(ee_code_limit_state(ee, name, 100), 0);
	for (uint8_t k = 10; k < 20; k++)
		run_counter(ee, name, k, 0, 0);
	ee_code_list(ee, &info, 1);
	CHECK_EQ(info.state_entries, 4); /* the EE's own bound */
	CHECK_EQ(ee_code_limit_state(ee, (const uint8_t[EE_NAME_LEN]){ 1 }, 2), -ENOENT);

	/* Read from outside (reports of signalled modules): most recently
	 * used first, bounded, the order untouched; nothing for code not
	 * cached. */
	struct seen {
		uint8_t keys[8];
		size_t n;
	} seen = {{0}, 0};
	CHECK_EQ(ee_code_state_each(ee, name, 3, each_key, &seen), 3);
	CHECK_EQ(seen.n, 3);
	CHECK_EQ(seen.keys[0], 19);
	CHECK_EQ(seen.keys[1], 18);
	CHECK_EQ(ee_code_state_each(ee, name, 100, each_key, &(struct seen){{0}, 0}), 4);
	CHECK_EQ(run_counter(ee, name, 16, 0, 0), 2); /* still there: reading evicted nothing */
	CHECK_EQ(ee_code_state_each(ee, (const uint8_t[EE_NAME_LEN]){ 1 }, 100, each_key, &seen), 0);

	/* State goes with the object. */
	CHECK_EQ(ee_code_remove(ee, name), 0);
	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	CHECK_EQ(run_counter(ee, name, 1, 0, 0), 1);

	/* Many keys through a larger table. */
	ee_free(ee);
	ee = new_ee(0, 0, 0, 1000);
	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	int ok = 1;
	for (int round = 1; round <= 2; round++)
		for (int i = 0; i < 1000; i++)
			ok &= run_counter(ee, name, (uint8_t)i, (uint8_t)(i >> 8), 0) == round;
	CHECK(ok);
	ee_stats_get(ee, &st);
	CHECK_EQ(st.state_evictions, 0);
	free(o.buf);
	ee_free(ee);
}

static void test_multi(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj om = load("co_multi"), oc = load("co_callee"), of = load("co_forward");
	uint8_t mname[EE_NAME_LEN], cname[EE_NAME_LEN], fname[EE_NAME_LEN];
	struct ee_verdict v;

	CHECK_EQ(ee_code_insert(ee, om.buf, om.len, mname), 0);
	CHECK_EQ(ee_code_insert(ee, oc.buf, oc.len, cname), 0);
	CHECK_EQ(ee_code_insert(ee, of.buf, of.len, fname), 0);

	struct an_ctx *ctx = new_ctx(mname, 64);
	uint8_t *d = ctx->pkt + ctx->data_off;
	struct an_addr dst = {.ip = {[15] = 5}, .port = 7};
	uint64_t handle = 42;
	memcpy(d, &dst, sizeof(dst));
	memcpy(d + 24, &handle, sizeof(handle));
	memcpy(d + 32, cname, EE_NAME_LEN);
	memset(d + 64, 0xaa, 8); /* the node must zero what an_resize adds */
	struct an_ctx *orig = malloc(sizeof(*orig));
	memcpy(orig, ctx, sizeof(*orig));

	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	int64_t expect = (int64_t)((uint64_t)cname[0] << 40 | 1u << 24 | 7u << 8 | 9u);
	CHECK_EQ(v.rc, expect);
	CHECK_EQ(v.n_sends, 1);
	CHECK(memcmp(&v.send_dst[0], &dst, sizeof(dst)) == 0);
	CHECK_EQ(v.send_next[0].port, 8);
	CHECK_EQ(v.n_delivers, 1);
	CHECK_EQ(v.deliver_to[0], 42);
	CHECK_EQ(v.data_len, 72);
	CHECK_EQ(ctx->data_len, 72);
	CHECK_EQ(ctx->pkt_len, 64 + 72);
	uint64_t appended;
	memcpy(&appended, d + 64, sizeof(appended));
	CHECK_EQ(appended, expect);
	CHECK(memcmp(ctx->code, mname, EE_NAME_LEN) == 0);
	CHECK(ctx->call_op == 0 && ctx->call_arg == 0);

	/* The callee's soft state, not the caller's, was used. */
	struct ee_code_info info[3];
	CHECK_EQ(ee_code_list(ee, info, 3), 3);
	for (int i = 0; i < 3; i++) {
		if (memcmp(info[i].name, cname, EE_NAME_LEN) == 0)
			CHECK_EQ(info[i].state_entries, 1);
		else
			CHECK_EQ(info[i].state_entries, 0);
	}
	memcpy(ctx, orig, sizeof(*ctx));
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, (int64_t)((uint64_t)cname[0] << 40 | 2u << 24 | 7u << 8 | 9u));

	/* A dead application link. */
	memcpy(ctx, orig, sizeof(*ctx));
	handle = 43;
	memcpy(ctx->pkt + 64 + 24, &handle, sizeof(handle));
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, -ENOTCONN);
	CHECK_EQ(v.n_sends, 1);
	CHECK_EQ(v.n_delivers, 0);

	/* Calling code that is not cached, or has no call entry. */
	memcpy(ctx, orig, sizeof(*ctx));
	ctx->pkt[64 + 32] ^= 1;
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, -ENOENT);
	memcpy(ctx, orig, sizeof(*ctx));
	memcpy(ctx->pkt + 64 + 32, fname, EE_NAME_LEN);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, -ENOENT);

	/* No room to grow: data ends at the context's capacity. */
	memcpy(ctx, orig, sizeof(*ctx));
	ctx->data_off = AN_PKT_MAX - 64;
	ctx->pkt_len = AN_PKT_MAX;
	memcpy(ctx->pkt + ctx->data_off, orig->pkt + 64, 64);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, -EMSGSIZE);
	CHECK_EQ(v.data_len, 64);
	CHECK_EQ(ctx->data_len, 64);

	free(orig);
	free(ctx);
	free(om.buf);
	free(oc.buf);
	free(of.buf);
	ee_free(ee);
}

static void test_scribble(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj o = load("co_scribble");
	uint8_t name[EE_NAME_LEN];
	struct ee_verdict v;

	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	struct an_ctx *ctx = new_ctx(name, 10);
	ctx->applink = 9;
	struct an_ctx *orig = malloc(sizeof(*orig));
	memcpy(orig, ctx, sizeof(*orig));
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, 0);
	CHECK(memcmp(ctx, orig, offsetof(struct an_ctx, pkt)) == 0);
	CHECK_EQ(v.n_sends, 1);
	CHECK(memcmp(&v.send_dst[0], &orig->dst, sizeof(orig->dst)) == 0);
	CHECK_EQ(v.data_len, 10);
	free(orig);
	free(ctx);
	free(o.buf);
	ee_free(ee);
}

static void test_recurse_misc(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj o = load("co_recurse"), om = load("co_misc");
	uint8_t name[EE_NAME_LEN], mname[EE_NAME_LEN];
	struct ee_verdict v;

	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	struct an_ctx *ctx = new_ctx(name, 10);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, EE_CALL_DEPTH);
	CHECK(memcmp(ctx->code, name, EE_NAME_LEN) == 0);
	free(ctx);

	CHECK_EQ(ee_code_insert(ee, om.buf, om.len, mname), 0);
	ctx = new_ctx(mname, 20);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, 5);
	CHECK(memcmp(ctx->pkt + 64, &env.local, sizeof(env.local)) == 0);
	free(ctx);
	free(o.buf);
	free(om.buf);
	ee_free(ee);
}

/* A capsule's work is bounded across everything it runs: an object that
 * calls itself 64 times per level would make 16.7 million calls under the
 * nesting limit; the budget ends it, and the run says so. */
static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_budget(void)
{
	struct obj o = load("co_fanout"), f = load("co_forward");
	uint8_t name[EE_NAME_LEN], fname[EE_NAME_LEN];
	struct ee_verdict v;
	struct ee_stats st;

	run_budget = 20000;
	struct ee *ee = new_ee(0, 0, 0, 0);
	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	struct an_ctx *ctx = new_ctx(name, 16);
	uint64_t t0 = now_ns();
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	uint64_t took = now_ns() - t0;
	CHECK(v.over_budget);
	CHECK(v.work <= 20000);
	CHECK(v.work > 10000);
	unsigned runs = ctx->pkt[64] | ctx->pkt[65] << 8;
	CHECK(runs > 1);
	CHECK(runs < 200);
	printf("# fan-out 64 under a budget of 20000: %u runs, %llu units, %.1f us (%s)\n", runs,
	       (unsigned long long)v.work, (double)took / 1e3, interpret ? "interpreter" : "JIT");
	ee_stats_get(ee, &st);
	CHECK_EQ(st.over_budget, 1);
	CHECK_EQ(st.run_errors, 1);
	free(ctx);

	/* A forwarder costs its longest path and one send; a budget below
	 * its longest path does not even start it. */
	CHECK_EQ(ee_code_insert(ee, f.buf, f.len, fname), 0);
	ctx = new_ctx(fname, 16);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK(!v.over_budget);
	CHECK_EQ(v.n_sends, 1);
	CHECK(v.work > 48 && v.work < 200);
	free(ctx);
	ee_free(ee);

	run_budget = 8;
	ee = new_ee(0, 0, 0, 0);
	CHECK_EQ(ee_code_insert(ee, f.buf, f.len, fname), 0);
	ctx = new_ctx(fname, 16);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK(v.over_budget);
	CHECK_EQ(v.n_sends, 0);
	CHECK_EQ(v.rc, -EDQUOT);
	free(ctx);
	ee_free(ee);
	run_budget = 0;
	free(o.buf);
	free(f.buf);
}

/* The first send is the capsule; every other one needs a unit of its copy
 * budget. */
static void test_copies(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj o = load("co_copies");
	uint8_t name[EE_NAME_LEN];
	struct ee_verdict v;
	static const int want[] = {1, 2, 3, 4, 4};

	CHECK_EQ(ee_code_insert(ee, o.buf, o.len, name), 0);
	for (uint16_t copies = 0; copies < 5; copies++) {
		struct an_ctx *ctx = new_ctx(name, 16);
		ctx->copies = copies;
		CHECK_EQ(ee_run(ee, ctx, &v), 0);
		CHECK_EQ(v.rc, want[copies]);
		CHECK_EQ(v.n_sends, want[copies]);
		CHECK_EQ(ctx->copies, copies);
		free(ctx);
	}
	struct ee_stats st;
	ee_stats_get(ee, &st);
	CHECK_EQ(st.copies_refused, 3 + 2 + 1);
	ee_free(ee);
	free(o.buf);
}

/* One cache for several kinds of program: each kind has its own entry
 * points; a name is cached as one kind; capsules run capsule code only. */
static const char *const probe_sections[] = { "probe" };
static const struct ee_kind probe_kind = {
	.name = "probe",
	.sections = probe_sections,
	.n_sections = 1,
	.required = 1,
	.main = 0,
	.init = -1,
	.fini = -1,
	.call = -1,
	.ctx_size = sizeof(struct an_ctx),
};

static void test_kinds(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj k = load("co_kind"), f = load("co_forward");
	uint8_t name[EE_NAME_LEN], fname[EE_NAME_LEN];
	struct ee_kind kind = probe_kind;
	kind.xsym = ee_kind_capsule.xsym;
	kind.n_xsym = ee_kind_capsule.n_xsym;

	/* As capsule code it has no accept: refused, and said why. */
	CHECK_EQ(ee_code_insert(ee, k.buf, k.len, name), -EINVAL);
	CHECK(strstr(ee_last_refusal(ee), "no accept section") != NULL);
	ee_free(ee);
	ee = new_ee(0, 0, 0, 0);
	CHECK_EQ(ee_code_insert_kind(ee, &kind, k.buf, k.len, name), 0);
	CHECK_EQ(ee_code_status(ee, name), EE_CODE_READY);
	/* A capsule naming it does not run it. */
	struct an_ctx *ctx = new_ctx(name, 16);
	struct ee_verdict v;
	CHECK_EQ(ee_run(ee, ctx, &v), -EPERM);
	free(ctx);
	/* A name is one kind. */
	CHECK_EQ(ee_code_insert(ee, f.buf, f.len, fname), 0);
	CHECK_EQ(ee_code_insert_kind(ee, &kind, f.buf, f.len, fname), -EEXIST);
	CHECK_EQ(ee_code_insert(ee, k.buf, k.len, name), -EEXIST);
	ee_free(ee);
	free(k.buf);
	free(f.buf);
}

/* Whether a helper may be handed a pointer into the context: reported, and
 * checked to behave if the validator accepts it. */
static void test_ctx_pointers(void)
{
	struct ee *ee = new_ee(0, 0, 0, 0);
	struct obj oc = load("co_ctxptr"), op = load("co_pktptr");
	uint8_t name[EE_NAME_LEN];
	struct ee_verdict v;

	int rc = ee_code_insert(ee, oc.buf, oc.len, name);
	printf("# helper pointer into ctx at a fixed offset: %s\n", rc == 0 ? "accepted" : "refused");
	if (rc == 0) {
		struct an_ctx *ctx = new_ctx(name, 10);
		CHECK_EQ(ee_run(ee, ctx, &v), 0);
		CHECK_EQ(v.rc, 0);
		CHECK_EQ(v.n_sends, 1);
		CHECK(memcmp(&v.send_dst[0], &ctx->dst, sizeof(ctx->dst)) == 0);
		free(ctx);
	}
	rc = ee_code_insert(ee, op.buf, op.len, name);
	printf("# helper pointer into ctx at a masked data offset: %s\n", rc == 0 ? "accepted" : "refused");
	if (rc == 0) {
		struct an_ctx *ctx = new_ctx(name, 144);
		for (int i = 0; i < 80; i++)
			ctx->pkt[64 + i] = (uint8_t)i;
		CHECK_EQ(ee_run(ee, ctx, &v), 0);
		CHECK_EQ(v.rc, 0);
		CHECK(memcmp(ctx->pkt + 64 + 80, ctx->pkt + 64 + 16, 64) == 0);
		/* Data at the very end of the context: still inside the slack. */
		ctx->data_off = AN_PKT_MAX - 1;
		ctx->data_len = 1;
		ctx->pkt_len = AN_PKT_MAX;
		CHECK_EQ(ee_run(ee, ctx, &v), 0);
		CHECK_EQ(v.rc, 0);
		free(ctx);
	}
	free(oc.buf);
	free(op.buf);
	ee_free(ee);
}

static void test_lru(void)
{
	struct obj o[4] = {load("co_fini1"), load("co_fini2"), load("co_fini3"), load("co_fini9")};
	uint8_t n[4][EE_NAME_LEN];
	struct ee_code_info info[4];
	struct ee_verdict v;
	struct ee_stats st;

	n_fini = 0;
	struct ee *ee = new_ee(2, 0, 0, 0);
	CHECK_EQ(ee_code_insert(ee, o[0].buf, o[0].len, n[0]), 0);
	CHECK_EQ(ee_code_insert(ee, o[1].buf, o[1].len, n[1]), 0);
	CHECK_EQ(ee_code_list(ee, info, 4), 2);
	CHECK(memcmp(info[0].name, n[1], EE_NAME_LEN) == 0);
	CHECK(memcmp(info[1].name, n[0], EE_NAME_LEN) == 0);

	/* Running object 1 makes it the most recent, so 2 is evicted. */
	struct an_ctx *ctx = new_ctx(n[0], 0);
	CHECK_EQ(ee_run(ee, ctx, &v), 0);
	CHECK_EQ(v.rc, 1);
	CHECK_EQ(n_fini, 0);
	CHECK_EQ(ee_code_insert(ee, o[2].buf, o[2].len, n[2]), 0);
	CHECK_EQ(n_fini, 1);
	CHECK(memcmp(fini_log[0], n[1], 16) == 0);
	CHECK_EQ(ee_code_status(ee, n[1]), EE_CODE_ABSENT);
	CHECK_EQ(ee_code_list(ee, info, 4), 2);
	CHECK(memcmp(info[0].name, n[2], EE_NAME_LEN) == 0);
	CHECK(memcmp(info[1].name, n[0], EE_NAME_LEN) == 0);
	CHECK_EQ(ee_code_list(ee, info, 1), 2);

	/* Inserting a cached object again counts as use. */
	CHECK_EQ(ee_code_insert(ee, o[0].buf, o[0].len, n[0]), 0);
	CHECK_EQ(ee_code_insert(ee, o[1].buf, o[1].len, n[1]), 0);
	CHECK_EQ(n_fini, 2);
	CHECK(memcmp(fini_log[1], n[2], 16) == 0);

	/* init failing: not cached, remembered, no fini. */
	CHECK_EQ(ee_code_insert(ee, o[3].buf, o[3].len, n[3]), -EINVAL);
	CHECK_EQ(ee_code_insert(ee, o[3].buf, o[3].len, n[3]), -EPERM);
	CHECK_EQ(n_fini, 2);
	CHECK_EQ(ee_code_list(ee, info, 4), 2);

	CHECK_EQ(ee_code_remove(ee, n[0]), 0);
	CHECK_EQ(n_fini, 3);
	CHECK(memcmp(fini_log[2], n[0], 16) == 0);
	ee_stats_get(ee, &st);
	CHECK_EQ(st.inserted, 4);
	CHECK_EQ(st.evicted, 2);
	ee_free(ee);
	CHECK_EQ(n_fini, 4);
	CHECK(memcmp(fini_log[3], n[1], 16) == 0);

	/* Bounded by bytes: room for two objects. */
	n_fini = 0;
	ee = new_ee(100, o[0].len + o[1].len, 0, 0);
	CHECK_EQ(ee_code_insert(ee, o[0].buf, o[0].len, n[0]), 0);
	CHECK_EQ(ee_code_insert(ee, o[1].buf, o[1].len, n[1]), 0);
	CHECK_EQ(n_fini, 0);
	CHECK_EQ(ee_code_insert(ee, o[2].buf, o[2].len, n[2]), 0);
	CHECK_EQ(n_fini, 1);
	CHECK(memcmp(fini_log[0], n[0], 16) == 0);
	ee_free(ee);
	free(ctx);
	for (int i = 0; i < 4; i++)
		free(o[i].buf);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s AO_DIR\n", argv[0]);
		return 2;
	}
	ao_dir = argv[1];
	log_init("test_ee", getenv("EE_TEST_DEBUG") ? LOG_DEBUG : LOG_WARNING, false);

	test_names();
	for (int pass = 0; pass < 2; pass++) {
		interpret = pass == 1;
		test_bad();
		test_named();
		test_forward();
		test_state();
		test_multi();
		test_scribble();
		test_recurse_misc();
		test_ctx_pointers();
		test_lru();
		test_budget();
		test_copies();
		test_kinds();
	}

	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
