/* SPDX-License-Identifier: MIT */
/*
 * Writing an EE kind outside src/ee (DESIGN §1, "EE kinds belong to their
 * rooms"): what a room needs to declare the helpers its code may call and
 * its struct ee_kind. The EE keeps the loader, the cache, soft state and
 * the run; it exports the helper groups every kind may take (soft state,
 * time, log, the node's figures) and the work budget every helper charges
 * before it works. Include only in the file that defines a kind;
 * src/concast/kind.c and src/svc/kinds.c are the examples: a helper is
 * EE_HELPER(name) { EE_CHARGE(cost); ... }, a kind's table starts with
 * EE_XSYM_COMMON and lists its own with EE_FUNC.
 */
#ifndef EE_HELPER_H
#define EE_HELPER_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_bpf.h>

#include "anode/node.h"
#include "ee/ee.h"

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
#define EE_HELPER_ARGS                                                                                                 \
	uint64_t a1 __attribute__((unused)), uint64_t a2 __attribute__((unused)), uint64_t a3 __attribute__((unused)), \
	    uint64_t a4 __attribute__((unused)), uint64_t a5 __attribute__((unused))
#define EE_HELPER(fn) static EE_HELPER_ATTR uint64_t fn(EE_HELPER_ARGS)
/* A helper of the EE's own groups, for kinds to list (EE_XSYM_COMMON). */
#define EE_HELPER_EXPORTED(fn) EE_HELPER_ATTR uint64_t fn(EE_HELPER_ARGS)

#define EE_RET(v) ((uint64_t)(int64_t)(v))

/*
 * What each helper costs in the run's work budget, in units of about one
 * nanosecond (an eBPF instruction is one unit and takes about 0.5 ns
 * JIT-compiled). Calibrated by bench/helper_cost.c, which runs each
 * helper at its slowest: every helper lands at 0.1-2 ns per unit, so a
 * budget of N units bounds a run to about N ns (docs/code-objects.md has
 * the table). Bulk helpers charge in proportion to the work (octets,
 * samples) besides, and every charge is made before the work starts.
 */
#define EE_COST_SIMPLE 16 /* local address, goal test, log at debug */
#define EE_COST_TIME 32	  /* clock_gettime: about 30 ns */
#define EE_COST_STATE 96  /* a soft state lookup, insert or delete (an insert that evicts: about 110 ns) */
#define EE_COST_SEND 48	  /* a route lookup */
#define EE_COST_CALL 32	  /* on top of the callee's longest path */
#define EE_COST_LOG 64

/* Charge n units to the run in progress: false (and the run marked over
 * its budget) when they are not there. */
bool ee_charge_current(uint64_t n);
/* A helper first charges its cost; when the budget is spent it does nothing. */
#define EE_CHARGE(n)                                                                                                   \
	do {                                                                                                           \
		if (!ee_charge_current(n))                                                                             \
			return EE_RET(-EDQUOT);                                                                        \
	} while (0)

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

/* The EE's helper groups (include/anode/node.h): the code object's own
 * soft state, the time, the log, the node's figures. */
EE_HELPER_EXPORTED(ee_h_time_ns);
EE_HELPER_EXPORTED(ee_h_state_get);
EE_HELPER_EXPORTED(ee_h_state_put);
EE_HELPER_EXPORTED(ee_h_state_del);
EE_HELPER_EXPORTED(ee_h_log);
EE_HELPER_EXPORTED(ee_h_node_info);

/* What every kind that runs on no capsule has: its own soft state, the
 * time, the log. */
#define EE_XSYM_COMMON                                                                                                 \
	EE_FUNC("an_time_ns", ee_h_time_ns, 0),                                                                        \
	    EE_FUNC("an_state_get", ee_h_state_get, 2, EE_ARG_PTR(struct an_key), EE_ARG_PTR(struct an_val)),          \
	    EE_FUNC("an_state_put", ee_h_state_put, 2, EE_ARG_PTR(struct an_key), EE_ARG_PTR(struct an_val)),          \
	    EE_FUNC("an_state_del", ee_h_state_del, 1, EE_ARG_PTR(struct an_key)),                                     \
	    EE_FUNC("an_log", ee_h_log, 4, EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW, EE_ARG_RAW)

/* A kind with one entry point, required and run for each packet, and no
 * init, fini or call: sections names it, ctx_type is its context, xsym
 * its helper table (an array). */
#define EE_KIND_ONE_ENTRY(nm, sections_, ctx_type, xsym_)                                                              \
	{                                                                                                              \
		.name = (nm), .sections = (sections_), .n_sections = 1, .required = 1u << 0, .main = 0, .init = -1,    \
		.fini = -1, .call = -1, .ctx_size = sizeof(ctx_type), .xsym = (xsym_),                                 \
		.n_xsym = sizeof(xsym_) / sizeof((xsym_)[0]),                                                          \
	}

#endif
