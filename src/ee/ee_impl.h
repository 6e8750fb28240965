/* SPDX-License-Identifier: MIT */
/*
 * Private to the EE: the code cache entry, the memory of failed names, the
 * soft state tables and the state of the run in progress, shared between
 * ee.c (insert, run), cache.c (lookup, LRU, failed names), state.c (soft
 * state) and helpers.c (the node interface code objects call).
 */
#ifndef EE_IMPL_H
#define EE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <rte_bpf.h>

#include "ee/ee.h"
#include "ee/objcheck.h"

#define EE_META_LEN offsetof(struct an_ctx, pkt)

/* An intrusive circular doubly linked list; the head is a sentinel. */
struct ee_list {
	struct ee_list *prev, *next;
};

static inline void ee_list_init(struct ee_list *h)
{
	h->prev = h->next = h;
}

static inline void ee_list_del(struct ee_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

static inline void ee_list_add_head(struct ee_list *h, struct ee_list *n)
{
	n->next = h->next;
	n->prev = h;
	h->next->prev = n;
	h->next = n;
}

static inline void ee_list_move_head(struct ee_list *h, struct ee_list *n)
{
	if (h->next == n)
		return;
	ee_list_del(n);
	ee_list_add_head(h, n);
}

#define ee_container_of(p, type, member) ((type *)(void *)((char *)(p)-offsetof(type, member)))

/* One entry point of a code object; jit is NULL when librte_bpf could not
 * compile it and the interpreter runs it. */
struct ee_prog {
	struct rte_bpf *bpf;
	uint64_t (*jit)(void *ctx);	 /* NULL: interpret */
	uint64_t (*jit_func)(void *ctx); /* what the JIT made, kept for ee_use_jit */
	uint32_t max_insns;		 /* its longest path: what one run costs at most */
};

static inline uint64_t ee_prog_exec(const struct ee_prog *p, void *ctx)
{
	return p->jit ? p->jit(ctx) : rte_bpf_exec(p->bpf, ctx);
}

struct ee_state;

struct ee_code {
	uint8_t name[EE_NAME_LEN];
	char label[EE_LABEL_MAX + 1]; /* its author's name for it, or "" */
	struct ee_code *hnext; /* hash chain */
	struct ee_list lru;    /* in ee->code_lru, most recent first */
	void *elf;	       /* a copy of the object, for ee_code_get */
	size_t len;
	const struct ee_kind *kind;
	struct ee_prog prog[EE_SECTIONS_MAX]; /* by the kind's sections; bpf == NULL: absent */
	struct ee_state *state;
	uint64_t runs, errors, last_used_ns;
	unsigned pins; /* holders that keep it from eviction (ee_code_pin) */
};

struct ee_failed {
	uint8_t name[EE_NAME_LEN];
	struct ee_failed *hnext;
	struct ee_list lru;
};

/* The run in progress. Helpers take no context (node.h), so they find the
 * capsule, the verdict and the running code object here. */
struct ee_run {
	struct ee *ee;
	struct an_ctx *ctx;
	struct ee_verdict *v;
	struct ee_code *code;	    /* whose soft state the helpers use (callee in an_call) */
	unsigned depth;		    /* an_call nesting */
	uint64_t budget;	    /* work units left for this capsule */
	uint64_t spent;		    /* work units charged */
	uint16_t copies;	    /* copy budget as the node gave it */
	const struct ee_run_in *in; /* what the node worked out for this run */
	/* The node-filled fields before pkt[], as the node wrote them, restored
	 * after the run; data_off, data_len, pkt_len and dst are kept typed for
	 * helpers. */
	uint16_t data_off, data_len, pkt_len; /* lengths as an_resize left them */
	struct an_addr dst;
	uint8_t meta[EE_META_LEN];
};

struct ee {
	struct ee_config cfg;
	struct ee_env env;

	/* code cache: chained hash on the name, LRU list */
	struct ee_code **code_tab;
	size_t code_mask;
	struct ee_list code_lru;
	size_t n_code, n_bytes;

	/* names of code that failed: chained hash, LRU list, bounded */
	struct ee_failed **failed_tab;
	size_t failed_mask;
	struct ee_list failed_lru;
	size_t n_failed;

	/* bucket selection is keyed so that ground names do not pile up */
	uint64_t hash_xor, hash_mul;
	uint8_t state_key[16]; /* siphash key for soft state buckets */

	bool no_jit;	    /* ee_use_jit(false) */
	char refusal[160];  /* ee_last_refusal */
	uint64_t last_work; /* ee_last_work */
	struct ee_stats stats;
};

/* cache.c */
int ee_cache_init(struct ee *ee);
void ee_cache_done(struct ee *ee);
struct ee_code *ee_cache_lookup(struct ee *ee, const uint8_t name[EE_NAME_LEN]);
void ee_cache_add(struct ee *ee, struct ee_code *c);
void ee_cache_unlink(struct ee *ee, struct ee_code *c);
void ee_cache_touch(struct ee *ee, struct ee_code *c);
bool ee_failed_lookup(struct ee *ee, const uint8_t name[EE_NAME_LEN], bool touch);
void ee_failed_add(struct ee *ee, const uint8_t name[EE_NAME_LEN]);
uint64_t ee_coarse_ns(void);

/* state.c: soft state of one code object */
struct ee_state *ee_state_new(size_t cap, const uint8_t key[16], uint64_t *evictions);
void ee_state_free(struct ee_state *s);
int ee_state_get(struct ee_state *s, const struct an_key *key, struct an_val *ret);
int ee_state_put(struct ee_state *s, const struct an_key *key, const struct an_val *val);
int ee_state_del(struct ee_state *s, const struct an_key *key);
size_t ee_state_count(const struct ee_state *s);
/* fn for up to max entries, most recently used first: how many. */
size_t ee_state_each(const struct ee_state *s, size_t max,
		     void (*fn)(void *arg, const struct an_key *key, const struct an_val *val), void *arg);
/* A new bound on the entries (entries beyond it evicted now). */
void ee_state_set_cap(struct ee_state *s, size_t cap);
size_t ee_state_cap(const struct ee_state *s);
/* Keep the entries in ops's store from now on (what the table held is put
 * there first); NULL: back to an empty table of our own. */
void ee_state_external(struct ee_state *s, const struct ee_state_ops *ops, void *arg);

/* Charge n work units to the run; false (and the run marked over budget)
 * when they are not there. */
static inline bool ee_charge(struct ee_run *r, uint64_t n)
{
	if (r->v->over_budget || n > r->budget) {
		if (!r->v->over_budget)
			r->ee->stats.over_budget++;
		r->v->over_budget = true;
		r->budget = 0;
		return false;
	}
	r->budget -= n;
	r->spent += n;
	return true;
}

/* helpers.c */
extern __thread struct ee_run *ee_cur;

/* ee.c */
void ee_code_free(struct ee *ee, struct ee_code *c, bool run_fini);

#endif
