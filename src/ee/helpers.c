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

#include "core/log.h"
#include "ee/ee_impl.h"
#include "ee/helper.h"
#include "wire/wire.h"

/* Single-threaded and run to completion: one run at a time per thread. */
__thread struct ee_run *ee_cur;

/* Inside the EE the run in progress is at hand: charge it inline (the
 * helper.h form calls ee_charge_current, for kinds defined elsewhere). */
#undef EE_CHARGE
#define EE_CHARGE(n)                                                                                                   \
	do {                                                                                                           \
		if (!ee_charge(ee_cur, (n)))                                                                           \
			return EE_RET(-EDQUOT);                                                                        \
	} while (0)

bool ee_charge_current(uint64_t n)
{
	return ee_charge(ee_cur, n);
}

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
	EE_CHARGE(EE_COST_SEND);
	return EE_RET(ee_send_to(ee_cur, (const struct an_addr *)(uintptr_t)a1));
}

EE_HELPER(ee_h_forward)
{
	static const struct an_addr none;
	struct ee_run *r = ee_cur;

	EE_CHARGE(EE_COST_SEND);
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

	EE_CHARGE(EE_COST_SEND);
	if (v->n_delivers >= EE_MAX_DELIVERS)
		return EE_RET(-ENOSPC);
	if (!r->ee->env.applink_alive(r->ee->env.node, a1))
		return EE_RET(-ENOTCONN);
	v->deliver_to[v->n_delivers++] = a1;
	return 0;
}

EE_HELPER(ee_h_local_addr)
{
	EE_CHARGE(EE_COST_SIMPLE);
	memcpy((void *)(uintptr_t)a1, &ee_cur->ee->env.local, sizeof(struct an_addr));
	return 0;
}

EE_HELPER_EXPORTED(ee_h_time_ns)
{
	struct timespec ts;
	EE_CHARGE(EE_COST_TIME);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

EE_HELPER_EXPORTED(ee_h_state_get)
{
	EE_CHARGE(EE_COST_STATE);
	return EE_RET(
	    ee_state_get(ee_cur->code->state, (const struct an_key *)(uintptr_t)a1, (struct an_val *)(uintptr_t)a2));
}

EE_HELPER_EXPORTED(ee_h_state_put)
{
	EE_CHARGE(EE_COST_STATE);
	return EE_RET(ee_state_put(ee_cur->code->state, (const struct an_key *)(uintptr_t)a1,
				   (const struct an_val *)(uintptr_t)a2));
}

EE_HELPER_EXPORTED(ee_h_state_del)
{
	EE_CHARGE(EE_COST_STATE);
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
	EE_CHARGE(EE_COST_SIMPLE + (a1 > r->data_len && a1 <= AN_PKT_MAX ? (a1 - r->data_len) / 64 : 0));
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

	EE_CHARGE(EE_COST_CALL);
	if (r->depth >= EE_CALL_DEPTH)
		return EE_RET(-ELOOP);
	memcpy(name, (const void *)(uintptr_t)a1, sizeof(name));
	struct ee_code *callee = ee_cache_lookup(r->ee, name);
	/* Only code of the same kind: it runs on the same kind of context. */
	if (!callee || callee->kind != r->code->kind || callee->kind->call < 0 || !callee->prog[callee->kind->call].bpf)
		return EE_RET(-ENOENT);
	const struct ee_prog *entry = &callee->prog[callee->kind->call];
	/* The callee may run its longest path: that much must be left. */
	EE_CHARGE(entry->max_insns);
	return EE_RET(ee_call_prog(r, callee, entry, a2, a3));
}

EE_HELPER_EXPORTED(ee_h_node_info)
{
	struct ee *ee = ee_cur->ee;
	EE_CHARGE(EE_COST_SEND);
	/* The one figure about the capsule itself comes with the run. */
	if (a1 == AN_INFO_RX_NS)
		return EE_RET(ee_cur->in->rx_ns);
	return EE_RET(ee->env.node_info(ee->env.node, a1));
}

EE_HELPER(ee_h_is_goal)
{
	EE_CHARGE(EE_COST_SIMPLE);
	return EE_RET(ee_cur->in->is_goal);
}

/* The node adds the RESULT option after the run, with the visit number it
 * worked out from the header before the run. */
EE_HELPER(ee_h_add_result)
{
	struct ee_run *r = ee_cur;
	EE_CHARGE(EE_COST_SIMPLE);
	if (r->in->visit > 0)
		r->v->visit = r->in->visit;
	return EE_RET(r->in->visit);
}

EE_HELPER_EXPORTED(ee_h_log)
{
	const uint8_t *n = ee_cur->code->name;
	int level = a1 < LOG_ERR ? LOG_ERR : a1 > LOG_DEBUG ? LOG_DEBUG : (int)a1;

	EE_CHARGE(level == LOG_DEBUG ? EE_COST_SIMPLE : EE_COST_LOG);
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

static const char *const ee_capsule_sections[] = {"accept", "init", "fini", "call"};

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
