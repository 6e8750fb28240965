// SPDX-License-Identifier: MIT
/*
 * The services room's EE kinds (include/anode/module.h): packet modules
 * (packet, on a struct an_pkt_ctx, with the packet helpers) and custom
 * probes (probe, on a struct an_probe_ctx, with the node's figures), both
 * with the EE's common helpers (soft state, time, log). The CLI validates
 * code against them too (anode code build --kind).
 */
#include "svc/kinds.h"

#include <string.h>

#include "anode/module.h"
#include "ee/helper.h"
#include "wire/wire.h"

EE_HELPER(svc_h_pkt_find)
{
	const struct an_pkt_ctx *ctx = (const struct an_pkt_ctx *)(uintptr_t)a1;
	const struct an_pattern *pat = (const struct an_pattern *)(uintptr_t)a3;
	EE_CHARGE(EE_COST_SIMPLE);
	size_t len = ctx->len < AN_MODULE_PKT_MAX ? ctx->len : AN_MODULE_PKT_MAX;
	if (pat->len == 0 || pat->len > sizeof(pat->b))
		return EE_RET(-EINVAL);
	if (a2 >= len)
		return EE_RET(-ENOENT);
	/* glibc's memmem takes up to 6 ns an octet on patterns made for it
	 * ('baaaaaaa' in a's), 1.3 ns for two octets, a memchr for one
	 * (bench/helper_cost.c): charged at the worst, before the search. */
	uint64_t octets = len - a2;
	EE_CHARGE(pat->len == 1 ? octets / 16 : pat->len == 2 ? octets : octets * 8);
	const uint8_t *hit = memmem(ctx->pkt + a2, len - a2, pat->b, pat->len);
	return hit ? (uint64_t)(hit - ctx->pkt) : EE_RET(-ENOENT);
}

EE_HELPER(svc_h_pkt_fix)
{
	struct an_pkt_ctx *ctx = (struct an_pkt_ctx *)(uintptr_t)a1;
	EE_CHARGE(EE_COST_SIMPLE);
	if (ctx->len < 20 || ctx->len > AN_MODULE_PKT_MAX)
		return EE_RET(-EINVAL);
	EE_CHARGE(ctx->len / 2u);
	wire_ipv4_fix_checksums(ctx->pkt, ctx->len);
	return 0;
}

static const struct rte_bpf_xsym module_xsym[] = {
    EE_XSYM_COMMON,
    EE_FUNC("an_pkt_find", svc_h_pkt_find, 3, EE_ARG_PTR(struct an_pkt_ctx), EE_ARG_RAW, EE_ARG_PTR(struct an_pattern)),
    EE_FUNC("an_pkt_fix", svc_h_pkt_fix, 1, EE_ARG_PTR(struct an_pkt_ctx)),
};

static const char *const module_sections[] = {"packet"};

static const struct rte_bpf_xsym probe_xsym[] = {
    EE_XSYM_COMMON,
    EE_FUNC("an_node_info", ee_h_node_info, 1, EE_ARG_RAW),
};

static const char *const probe_sections[] = {"probe"};

const struct ee_kind svc_kind_probe = EE_KIND_ONE_ENTRY("probe", probe_sections, struct an_probe_ctx, probe_xsym);
const struct ee_kind svc_kind_module = EE_KIND_ONE_ENTRY("module", module_sections, struct an_pkt_ctx, module_xsym);
