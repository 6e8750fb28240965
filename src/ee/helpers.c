// SPDX-License-Identifier: MIT
/*
 * The node interface as code objects see it (include/anode/node.h): the
 * helper functions and the external symbol table that librte_bpf resolves
 * calls against by name. Every pointer argument is declared with the size of
 * its struct, so the validator checks that the code hands us that many bytes
 * of its own memory. Helpers do no I/O: sends and deliveries are recorded in
 * the verdict of the run in progress (ee_cur) and carried out by the node.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "anode/concast.h"
#include "anode/module.h"
#include "core/g711.h"
#include "core/log.h"
#include "ee/ee_impl.h"
#include "wire/wire.h"

/* Single-threaded and run to completion: one run at a time per thread. */
__thread struct ee_run *ee_cur;

/*
 * librte_bpf calls every helper through this type. Its x86-64 JIT does not
 * keep the stack 16-byte aligned at calls, and the compiler uses aligned SSE
 * stores on the stack (found as a crash in movaps), so helpers realign it.
 */
#if defined(__x86_64__) || defined(__i386__)
#define EE_HELPER_ATTR __attribute__((force_align_arg_pointer))
#else
#define EE_HELPER_ATTR
#endif
#define EE_HELPER(fn)                                                                                                  \
	static EE_HELPER_ATTR uint64_t fn(uint64_t a1 __attribute__((unused)), uint64_t a2 __attribute__((unused)),    \
					  uint64_t a3 __attribute__((unused)), uint64_t a4 __attribute__((unused)),    \
					  uint64_t a5 __attribute__((unused)))

#define EE_RET(v) ((uint64_t)(int64_t)(v))

/*
 * What each helper costs in the capsule's work budget, in instruction units
 * (an eBPF instruction is about one unit of JIT time). Measured with
 * bench/ee_bench's hostile objects: a unit is 1-3 ns for every helper at
 * these costs, so a budget of N units bounds a capsule to a few N ns.
 */
#define EE_COST_SIMPLE 16 /* local address, time, goal test, log at debug */
#define EE_COST_STATE 48 /* a soft state lookup, insert or delete */
#define EE_COST_SEND 48 /* a route lookup */
#define EE_COST_CALL 32 /* on top of the callee's longest path */
#define EE_COST_LOG 64
/* A helper first charges its cost; when the budget is spent it does nothing. */
#define EE_CHARGE(r, n)                           \
	do {                                      \
		if (!ee_charge((r), (n)))         \
			return EE_RET(-EDQUOT);   \
	} while (0)

static int64_t ee_send_to(struct ee_run *r, const struct an_addr *dst)
{
	struct ee_verdict *v = r->v;
	struct an_addr d, next;

	if (v->n_sends >= EE_MAX_SENDS)
		return -ENOSPC;
	/* The first send is the capsule itself; each further one a copy. */
	if (v->n_sends > r->copies) {
		r->ee->stats.copies_refused++;
		return -EDQUOT;
	}
	/* dst may point into the capsule; the route callback gets a copy. */
	memcpy(&d, dst, sizeof(d));
	int rc = r->ee->env.route(r->ee->env.node, &d, &next);
	if (rc < 0)
		return rc;
	v->send_dst[v->n_sends] = d;
	v->send_next[v->n_sends] = next;
	v->n_sends++;
	return 0;
}

EE_HELPER(ee_h_send)
{
	EE_CHARGE(ee_cur, EE_COST_SEND);
	return EE_RET(ee_send_to(ee_cur, (const struct an_addr *)(uintptr_t)a1));
}

EE_HELPER(ee_h_forward)
{
	static const struct an_addr none;
	struct ee_run *r = ee_cur;

	EE_CHARGE(r, EE_COST_SEND);
	/* The destination as the node decoded it, not as the code may have
	 * rewritten ctx->dst. */
	if (memcmp(&r->dst, &none, sizeof(none)) == 0)
		return EE_RET(-EHOSTUNREACH);
	return EE_RET(ee_send_to(r, &r->dst));
}

EE_HELPER(ee_h_deliver)
{
	struct ee_run *r = ee_cur;
	struct ee_verdict *v = r->v;

	EE_CHARGE(r, EE_COST_SEND);
	if (v->n_delivers >= EE_MAX_DELIVERS)
		return EE_RET(-ENOSPC);
	if (!r->ee->env.applink_alive(r->ee->env.node, a1))
		return EE_RET(-ENOTCONN);
	v->deliver_to[v->n_delivers++] = a1;
	return 0;
}

EE_HELPER(ee_h_local_addr)
{
	EE_CHARGE(ee_cur, EE_COST_SIMPLE);
	memcpy((void *)(uintptr_t)a1, &ee_cur->ee->env.local, sizeof(struct an_addr));
	return 0;
}

EE_HELPER(ee_h_time_ns)
{
	struct timespec ts;
	EE_CHARGE(ee_cur, EE_COST_SIMPLE);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

EE_HELPER(ee_h_state_get)
{
	EE_CHARGE(ee_cur, EE_COST_STATE);
	return EE_RET(
	    ee_state_get(ee_cur->code->state, (const struct an_key *)(uintptr_t)a1, (struct an_val *)(uintptr_t)a2));
}

EE_HELPER(ee_h_state_put)
{
	EE_CHARGE(ee_cur, EE_COST_STATE);
	return EE_RET(ee_state_put(ee_cur->code->state, (const struct an_key *)(uintptr_t)a1,
				   (const struct an_val *)(uintptr_t)a2));
}

EE_HELPER(ee_h_state_del)
{
	EE_CHARGE(ee_cur, EE_COST_STATE);
	return EE_RET(ee_state_del(ee_cur->code->state, (const struct an_key *)(uintptr_t)a1));
}

/* Keep the length fields of the live context in step with an_resize, so code
 * that reads them after a resize sees the new length. */
static void ee_sync_len(struct ee_run *r)
{
	r->ctx->data_len = r->data_len;
	r->ctx->pkt_len = r->pkt_len;
}

EE_HELPER(ee_h_resize)
{
	struct ee_run *r = ee_cur;

	/* Growing zeroes up to AN_PKT_MAX bytes. */
	EE_CHARGE(r, EE_COST_SIMPLE + (a1 > r->data_len && a1 <= AN_PKT_MAX ? (a1 - r->data_len) / 64 : 0));
	if (a1 > (uint64_t)(AN_PKT_MAX - r->data_off))
		return EE_RET(-EMSGSIZE);
	uint16_t n = (uint16_t)a1;
	if (n > r->data_len)
		memset(r->ctx->pkt + r->data_off + r->data_len, 0, n - r->data_len);
	/* The data is the tail of the capsule (it follows the ANEP header and
	 * the capsule header), so the capsule ends where the data now ends. */
	r->pkt_len = (uint16_t)(r->data_off + n);
	r->data_len = n;
	r->v->data_len = n;
	ee_sync_len(r);
	return 0;
}

/* Run callee's call entry on the same capsule. The callee sees the node's
 * fields (not what the caller scribbled), its own name, op and arg, and its
 * own soft state; the caller gets its view of the fields back afterwards. */
static int64_t ee_call_prog(struct ee_run *r, struct ee_code *callee, const struct ee_prog *entry, uint64_t op,
			    uint64_t arg)
{
	struct an_ctx *ctx = r->ctx;
	struct ee_code *caller = r->code;
	uint8_t view[EE_META_LEN];

	memcpy(view, ctx, EE_META_LEN);
	memcpy(ctx, r->meta, EE_META_LEN);
	ee_sync_len(r);
	memcpy(ctx->code, callee->name, EE_NAME_LEN);
	ctx->call_op = op;
	ctx->call_arg = arg;

	r->code = callee;
	r->depth++;
	ee_cache_touch(r->ee, callee);
	int64_t rc = (int64_t)ee_prog_exec(entry, ctx);
	r->depth--;
	r->code = caller;

	memcpy(ctx, view, EE_META_LEN);
	ee_sync_len(r);
	return rc;
}

EE_HELPER(ee_h_call)
{
	struct ee_run *r = ee_cur;
	uint8_t name[EE_NAME_LEN];

	EE_CHARGE(r, EE_COST_CALL);
	if (r->depth >= EE_CALL_DEPTH)
		return EE_RET(-ELOOP);
	memcpy(name, (const void *)(uintptr_t)a1, sizeof(name));
	struct ee_code *callee = ee_cache_lookup(r->ee, name);
	/* Only code of the same kind: it runs on the same kind of context. */
	if (!callee || callee->kind != r->code->kind || callee->kind->call < 0 ||
	    !callee->prog[callee->kind->call].bpf)
		return EE_RET(-ENOENT);
	const struct ee_prog *entry = &callee->prog[callee->kind->call];
	/* The callee may run its longest path: that much must be left. */
	EE_CHARGE(r, entry->max_insns);
	return EE_RET(ee_call_prog(r, callee, entry, a2, a3));
}

EE_HELPER(ee_h_node_info)
{
	struct ee *ee = ee_cur->ee;
	EE_CHARGE(ee_cur, EE_COST_SEND);
	/* The one figure about the capsule itself comes with the run. */
	if (a1 == AN_INFO_RX_NS)
		return EE_RET(ee_cur->in->rx_ns);
	return EE_RET(ee->env.node_info(ee->env.node, a1));
}

EE_HELPER(ee_h_is_goal)
{
	EE_CHARGE(ee_cur, EE_COST_SIMPLE);
	return EE_RET(ee_cur->in->is_goal);
}

/* The node adds the RESULT option after the run, with the visit number it
 * worked out from the header before the run. */
EE_HELPER(ee_h_add_result)
{
	struct ee_run *r = ee_cur;
	EE_CHARGE(r, EE_COST_SIMPLE);
	if (r->in->visit > 0)
		r->v->visit = r->in->visit;
	return EE_RET(r->in->visit);
}

EE_HELPER(ee_h_log)
{
	const uint8_t *n = ee_cur->code->name;
	int level = a1 < LOG_ERR ? LOG_ERR : a1 > LOG_DEBUG ? LOG_DEBUG : (int)a1;

	EE_CHARGE(ee_cur, level == LOG_DEBUG ? EE_COST_SIMPLE : EE_COST_LOG);
	/* Code runs per capsule: anything above debug is rate limited so that
	 * a chatty code object cannot flood the log. */
	if (level == LOG_DEBUG)
		log_debug("code %02x%02x%02x%02x: %llu %llu %llu", n[0], n[1], n[2], n[3], (unsigned long long)a2,
			  (unsigned long long)a3, (unsigned long long)a4);
	else
		log_ratelimited(level, "code %02x%02x%02x%02x: %llu %llu %llu", n[0], n[1], n[2], n[3],
				(unsigned long long)a2, (unsigned long long)a3, (unsigned long long)a4);
	return 0;
}

#define EE_ARG_RAW                                                                                                     \
	{                                                                                                              \
		.type = RTE_BPF_ARG_RAW, .size = sizeof(uint64_t)                                                      \
	}
#define EE_ARG_PTR(t)                                                                                                  \
	{                                                                                                              \
		.type = RTE_BPF_ARG_PTR, .size = sizeof(t)                                                             \
	}
#define EE_FUNC(sym, fn, n, ...)                                                                                       \
	{                                                                                                              \
		.name = sym, .type = RTE_BPF_XTYPE_FUNC,                                                               \
		.func = {.val = fn, .nb_args = n, .args = {__VA_ARGS__}, .ret = EE_ARG_RAW},                           \
	}

static const struct rte_bpf_xsym ee_xsym[] = {
    EE_FUNC("an_send", ee_h_send, 1, EE_ARG_PTR(struct an_addr)),
    EE_FUNC("an_forward", ee_h_forward, 0),
    EE_FUNC("an_deliver", ee_h_deliver, 1, EE_ARG_RAW),
    EE_FUNC("an_local_addr", ee_h_local_addr, 1, EE_ARG_PTR(struct an_addr)),
    EE_FUNC("an_time_ns", ee_h_time_ns, 0),
    EE_FUNC("an_state_get", ee_h_state_get, 2, EE_ARG_PTR(struct an_key), EE_ARG_PTR(struct an_val)),
    EE_FUNC("an_state_put", ee_h_state_put, 2, EE_ARG_PTR(struct an_key), EE_ARG_PTR(struct an_val)),
    EE_FUNC("an_state_del", ee_h_state_del, 1, EE_ARG_PTR(struct an_key)),
    EE_FUNC("an_resize", ee_h_resize, 1, EE_ARG_RAW),
    EE_FUNC("an_call", ee_h_call, 3, EE_ARG_PTR(struct an_name), EE_ARG_RAW, EE_ARG_RAW),
    EE_FUNC("an_node_info", ee_h_node_info, 1, EE_ARG_RAW),
    EE_FUNC("an_is_goal", ee_h_is_goal, 0),
    EE_FUNC("an_add_result", ee_h_add_result, 0),
    EE_FUNC("an_log", ee_h_log, 4, EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW),
};


static const char *const ee_capsule_sections[] = { "accept", "init", "fini", "call" };

/* ---- packet modules (include/anode/module.h) ---- */

EE_HELPER(ee_h_pkt_find)
{
	const struct an_pkt_ctx *ctx = (const struct an_pkt_ctx *)(uintptr_t)a1;
	const struct an_pattern *pat = (const struct an_pattern *)(uintptr_t)a3;
	EE_CHARGE(ee_cur, EE_COST_SIMPLE);
	size_t len = ctx->len < AN_MODULE_PKT_MAX ? ctx->len : AN_MODULE_PKT_MAX;
	if (pat->len == 0 || pat->len > sizeof(pat->b))
		return EE_RET(-EINVAL);
	if (a2 >= len)
		return EE_RET(-ENOENT);
	/* A search costs what a loop over its octets would. */
	EE_CHARGE(ee_cur, (len - a2) / 4 + 1);
	const uint8_t *hit = memmem(ctx->pkt + a2, len - a2, pat->b, pat->len);
	return hit ? (uint64_t)(hit - ctx->pkt) : EE_RET(-ENOENT);
}

EE_HELPER(ee_h_pkt_fix)
{
	struct an_pkt_ctx *ctx = (struct an_pkt_ctx *)(uintptr_t)a1;
	EE_CHARGE(ee_cur, EE_COST_SIMPLE);
	if (ctx->len < 20 || ctx->len > AN_MODULE_PKT_MAX)
		return EE_RET(-EINVAL);
	EE_CHARGE(ee_cur, ctx->len / 8u);
	wire_ipv4_fix_checksums(ctx->pkt, ctx->len);
	return 0;
}

/* What every kind that runs on no capsule has: its own soft state, the
 * time, the log. */
#define EE_XSYM_COMMON                                                                                            \
	EE_FUNC("an_time_ns", ee_h_time_ns, 0),                                                                    \
	    EE_FUNC("an_state_get", ee_h_state_get, 2, EE_ARG_PTR(struct an_key), EE_ARG_PTR(struct an_val)),      \
	    EE_FUNC("an_state_put", ee_h_state_put, 2, EE_ARG_PTR(struct an_key), EE_ARG_PTR(struct an_val)),      \
	    EE_FUNC("an_state_del", ee_h_state_del, 1, EE_ARG_PTR(struct an_key)),                                 \
	    EE_FUNC("an_log", ee_h_log, 4, EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW)

static const struct rte_bpf_xsym ee_module_xsym[] = {
    EE_XSYM_COMMON,
    EE_FUNC("an_pkt_find", ee_h_pkt_find, 3, EE_ARG_PTR(struct an_pkt_ctx), EE_ARG_RAW, EE_ARG_PTR(struct an_pattern)),
    EE_FUNC("an_pkt_fix", ee_h_pkt_fix, 1, EE_ARG_PTR(struct an_pkt_ctx)),
};

static const char *const ee_module_sections[] = { "packet" };

static const struct rte_bpf_xsym ee_probe_xsym[] = {
    EE_XSYM_COMMON,
    EE_FUNC("an_node_info", ee_h_node_info, 1, EE_ARG_RAW),
};

static const char *const ee_probe_sections[] = { "probe" };

/* ---- concast merge specifications (include/anode/concast.h) ---- */

/* Whether [off, off + n) lies inside a buffer of size octets. */
static bool ee_in_bounds(uint64_t off, uint64_t n, size_t size)
{
	return off <= size && n <= size - off;
}

/* n samples at msg[moff] and n 32-bit sums at state[soff], inside ctx. */
static bool ee_mulaw_in_bounds(const struct an_merge_ctx *ctx, uint64_t moff, uint64_t soff, uint64_t n)
{
	return ee_in_bounds(moff, n, sizeof(ctx->msg)) && n <= sizeof(ctx->state) / 4 &&
	       ee_in_bounds(soff, n * 4, sizeof(ctx->state));
}

EE_HELPER(ee_h_mulaw_mix)
{
	struct an_merge_ctx *ctx = (struct an_merge_ctx *)(uintptr_t)a1;
	uint64_t soff = a2, moff = a3, n = a4;
	EE_CHARGE(ee_cur, EE_COST_SIMPLE);
	if (!ee_mulaw_in_bounds(ctx, moff, soff, n))
		return EE_RET(-EINVAL);
	/* What a loop over the samples would cost. */
	EE_CHARGE(ee_cur, n / 4 + 1);
	for (uint64_t i = 0; i < n; i++) {
		int32_t sum;
		memcpy(&sum, ctx->state + soff + 4 * i, 4);
		sum += g711_ulaw_decode(ctx->msg[moff + i]);
		memcpy(ctx->state + soff + 4 * i, &sum, 4);
	}
	return 0;
}

EE_HELPER(ee_h_mulaw_make)
{
	struct an_merge_ctx *ctx = (struct an_merge_ctx *)(uintptr_t)a1;
	uint64_t moff = a2, soff = a3, n = a4;
	EE_CHARGE(ee_cur, EE_COST_SIMPLE);
	if (!ee_mulaw_in_bounds(ctx, moff, soff, n))
		return EE_RET(-EINVAL);
	EE_CHARGE(ee_cur, n / 4 + 1);
	for (uint64_t i = 0; i < n; i++) {
		int32_t sum;
		memcpy(&sum, ctx->state + soff + 4 * i, 4);
		ctx->msg[moff + i] = g711_ulaw_encode(sum);
	}
	return 0;
}

static const struct rte_bpf_xsym ee_merge_xsym[] = {
    EE_XSYM_COMMON,
    EE_FUNC("an_mulaw_mix", ee_h_mulaw_mix, 4, EE_ARG_PTR(struct an_merge_ctx), EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW),
    EE_FUNC("an_mulaw_make", ee_h_mulaw_make, 4, EE_ARG_PTR(struct an_merge_ctx), EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW),
};

/* Figure 1 of seed 001: every entry point is required. */
static const char *const ee_merge_sections[] = { "get_tag", "merge", "done", "build" };

const struct ee_kind ee_kind_merge = {
	.name = "merge",
	.sections = ee_merge_sections,
	.n_sections = 4,
	.required = 0xf,
	.main = EE_MERGE_GET_TAG,
	.init = -1,
	.fini = -1,
	.call = -1,
	.ctx_size = sizeof(struct an_merge_ctx),
	.xsym = ee_merge_xsym,
	.n_xsym = sizeof(ee_merge_xsym) / sizeof(ee_merge_xsym[0]),
};

const struct ee_kind ee_kind_probe = {
	.name = "probe",
	.sections = ee_probe_sections,
	.n_sections = 1,
	.required = 1u << 0,
	.main = 0,
	.init = -1,
	.fini = -1,
	.call = -1,
	.ctx_size = sizeof(struct an_probe_ctx),
	.xsym = ee_probe_xsym,
	.n_xsym = sizeof(ee_probe_xsym) / sizeof(ee_probe_xsym[0]),
};

const struct ee_kind ee_kind_module = {
	.name = "module",
	.sections = ee_module_sections,
	.n_sections = 1,
	.required = 1u << 0,
	.main = 0,
	.init = -1,
	.fini = -1,
	.call = -1,
	.ctx_size = sizeof(struct an_pkt_ctx),
	.xsym = ee_module_xsym,
	.n_xsym = sizeof(ee_module_xsym) / sizeof(ee_module_xsym[0]),
};

const struct ee_kind ee_kind_capsule = {
	.name = "capsule",
	.sections = ee_capsule_sections,
	.n_sections = 4,
	.required = 1u << 0,
	.main = 0,
	.init = 1,
	.fini = 2,
	.call = 3,
	.ctx_size = sizeof(struct an_ctx),
	.xsym = ee_xsym,
	.n_xsym = sizeof(ee_xsym) / sizeof(ee_xsym[0]),
};
