// SPDX-License-Identifier: MIT
/*
 * The capsule execution environment (ee.h): naming code objects by SHA-256,
 * checking their ELF layout, validating and JIT-compiling their entry points
 * with librte_bpf, running init and fini, keeping the cache within bounds,
 * and running a capsule through accept. It owns the code objects and their
 * compiled programs; cache.c keeps the lookup structures and LRU order,
 * state.c the soft state, helpers.c the node interface the code calls.
 */
#include "ee/ee.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_errno.h>
#include <rte_log.h>
#include <sodium.h>

#include "core/log.h"
#include "ee/ee_impl.h"
#include "ee/objcheck.h"

/*
 * librte_bpf explains a refusal on DPDK's log stream, which is stderr unless
 * redirected. A library must not write there, but the validator's reasons are
 * what a code author needs, so they go to our log at debug level, a line at a
 * time.
 */
static char ee_dpdk_line[512];
static size_t ee_dpdk_len;
/* While a section loads: the first line that explains a refusal. */
static bool ee_dpdk_capture;
static char ee_dpdk_reason[128];

/* librte_bpf prefixes its lines with the function that wrote them
 * ("evaluate: ..."); the rest is what a code author needs. */
static void ee_dpdk_keep(const char *line)
{
	if (!ee_dpdk_capture || ee_dpdk_reason[0])
		return;
	const char *colon = strstr(line, ": ");
	const char *text = colon ? colon + 2 : line;
	size_t n = strnlen(text, sizeof(ee_dpdk_reason) - 1);
	memcpy(ee_dpdk_reason, text, n);
	ee_dpdk_reason[n] = '\0';
}

static ssize_t ee_dpdk_write(void *cookie, const char *buf, size_t n)
{
	(void)cookie;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' || ee_dpdk_len == sizeof(ee_dpdk_line) - 1) {
			ee_dpdk_line[ee_dpdk_len] = '\0';
			log_debug("librte_bpf: %s", ee_dpdk_line);
			ee_dpdk_keep(ee_dpdk_line);
			ee_dpdk_len = 0;
			if (buf[i] == '\n')
				continue;
		}
		ee_dpdk_line[ee_dpdk_len++] = buf[i];
	}
	return (ssize_t)n;
}

static int ee_global_init(void)
{
	static bool done;
	if (done)
		return 0;
	if (sodium_init() < 0)
		return -EIO;
	cookie_io_functions_t io = {.write = ee_dpdk_write};
	FILE *f = fopencookie(NULL, "w", io);
	if (!f)
		return -errno;
	setvbuf(f, NULL, _IOLBF, 0);
	rte_openlog_stream(f);
	done = true;
	return 0;
}

void ee_hash(const void *buf, size_t len, uint8_t ret_name[EE_NAME_LEN])
{
	wire_code_name(buf, len, ret_name);
}

void ee_name_hex(const uint8_t name[EE_NAME_LEN], char ret_hex[65])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < EE_NAME_LEN; i++) {
		ret_hex[2 * i] = digits[name[i] >> 4];
		ret_hex[2 * i + 1] = digits[name[i] & 15];
	}
	ret_hex[64] = '\0';
}

static int ee_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int ee_name_parse(const char *hex, uint8_t ret_name[EE_NAME_LEN])
{
	uint8_t n[EE_NAME_LEN];

	for (size_t i = 0; i < EE_NAME_LEN; i++) {
		int hi = ee_hex_digit(hex[2 * i]);
		if (hi < 0)
			return -EINVAL;
		int lo = ee_hex_digit(hex[2 * i + 1]);
		if (lo < 0)
			return -EINVAL;
		n[i] = (uint8_t)(hi << 4 | lo);
	}
	if (hex[64] != '\0')
		return -EINVAL;
	memcpy(ret_name, n, sizeof(n));
	return 0;
}

struct ee *ee_new(const struct ee_config *cfg, const struct ee_env *env)
{
	if (!env || !env->route || !env->applink_alive || !env->node_info) {
		errno = EINVAL;
		return NULL;
	}
	int rc = ee_global_init();
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}

	struct ee *ee = calloc(1, sizeof(*ee));
	if (!ee)
		return NULL;
	if (cfg)
		ee->cfg = *cfg;
	if (!ee->cfg.cache_objects)
		ee->cfg.cache_objects = EE_DEFAULT_OBJECTS;
	if (!ee->cfg.cache_bytes)
		ee->cfg.cache_bytes = EE_DEFAULT_BYTES;
	if (!ee->cfg.failed_names)
		ee->cfg.failed_names = EE_DEFAULT_FAILED;
	if (!ee->cfg.state_entries)
		ee->cfg.state_entries = EE_DEFAULT_STATE;
	if (!ee->cfg.run_budget)
		ee->cfg.run_budget = EE_DEFAULT_BUDGET;
	ee->env = *env;
	randombytes_buf(ee->state_key, sizeof(ee->state_key));

	if (ee_cache_init(ee) < 0) {
		ee_cache_done(ee);
		free(ee);
		errno = ENOMEM;
		return NULL;
	}
	return ee;
}

void ee_set_run_budget(struct ee *ee, size_t budget)
{
	ee->cfg.run_budget = budget ? budget : EE_DEFAULT_BUDGET;
}

void ee_free(struct ee *ee)
{
	if (!ee)
		return;
	/* Least recently used first, as eviction would have done. */
	while (ee->code_lru.prev != &ee->code_lru) {
		struct ee_code *c = ee_container_of(ee->code_lru.prev, struct ee_code, lru);
		ee_cache_unlink(ee, c);
		ee_code_free(ee, c, true);
	}
	ee_cache_done(ee);
	free(ee);
}

/* The index of a helper in a kind's table, for ee_elf_insns. */
static int ee_helper_index(const char *name, void *arg)
{
	const struct ee_kind *kind = arg;
	for (uint32_t i = 0; i < kind->n_xsym; i++)
		if (strcmp(kind->xsym[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Validate and compile. -EINVAL means the bytes are bad (and will always be);
 * anything else is this node's trouble and must not be remembered. */
static int ee_load(struct ee *ee, const struct ee_kind *kind, const uint8_t name[EE_NAME_LEN], const void *elf,
		   size_t len, struct ee_code **ret_code)
{
	char hex[65];
	unsigned found;
	int rc;

	uint32_t longest[EE_SECTIONS_MAX];
	ee_name_hex(name, hex);
	rc = ee_elf_check(elf, len, kind->sections, kind->n_sections, kind->required, &found, longest, ee->refusal,
			  sizeof(ee->refusal));
	if (rc < 0) {
		if (rc == -EINVAL)
			log_info("code %.16s refused: %s", hex, ee->refusal);
		return rc;
	}
	struct ee_code *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	memcpy(c->name, name, EE_NAME_LEN);
	ee_elf_label(elf, len, c->label);
	c->kind = kind;
	ee_list_init(&c->lru);
	c->len = len;
	c->elf = malloc(len ? len : 1);
	c->state = ee_state_new(ee->cfg.state_entries, ee->state_key, &ee->stats.state_evictions);
	if (!c->elf || !c->state) {
		ee_code_free(ee, c, false);
		return -ENOMEM;
	}
	memcpy(c->elf, elf, len);

	/* The ELF is read once, here: each entry point's instructions with
	 * its helper calls resolved, handed to librte_bpf's validator and JIT
	 * as they are (rte_bpf_load, not its ELF loader). */
	for (unsigned s = 0; s < kind->n_sections; s++) {
		if (!(found & 1u << s))
			continue;
		struct ee_prog *p = &c->prog[s];
		p->max_insns = longest[s];
		uint8_t *insns;
		size_t n_insns;
		rc = ee_elf_insns(elf, len, kind->sections[s], ee_helper_index, (void *)kind, &insns, &n_insns,
				  ee->refusal, sizeof(ee->refusal));
		if (rc < 0) {
			if (rc == -EINVAL)
				log_info("code %.16s refused: %s", hex, ee->refusal);
			ee_code_free(ee, c, false);
			return rc;
		}
		const struct rte_bpf_prm prm = {
		    .ins = (const struct ebpf_insn *)(const void *)insns,
		    .nb_ins = (uint32_t)n_insns,
		    .xsym = kind->xsym,
		    .nb_xsym = kind->n_xsym,
		    .prog_arg = {.type = RTE_BPF_ARG_PTR, .size = kind->ctx_size},
		};
		ee_dpdk_reason[0] = '\0';
		ee_dpdk_capture = true;
		p->bpf = rte_bpf_load(&prm);
		ee_dpdk_capture = false;
		free(insns);
		if (!p->bpf) {
			rc = rte_errno == ENOMEM ? -ENOMEM : -EINVAL;
			if (ee_dpdk_reason[0])
				snprintf(ee->refusal, sizeof(ee->refusal), "section %s: %s", kind->sections[s],
					 ee_dpdk_reason);
			else
				snprintf(ee->refusal, sizeof(ee->refusal), "section %s refused by the validator (%s)",
					 kind->sections[s], strerror(rte_errno));
			if (rc == -EINVAL)
				log_info("code %.16s refused: %s", hex, ee->refusal);
			ee_code_free(ee, c, false);
			return rc;
		}
		struct rte_bpf_jit jit;
		if (rte_bpf_get_jit(p->bpf, &jit) == 0 && jit.func)
			p->jit_func = jit.func;
		else
			log_debug("ee: code %.8s: section %s interpreted (no JIT)", hex, kind->sections[s]);
		p->jit = ee->no_jit ? NULL : p->jit_func;
	}
	*ret_code = c;
	return 0;
}

/*
 * Run one entry point of c on ctx, recording into v. The fields before pkt[]
 * are the node's: saved before and restored after, whatever the code wrote,
 * except that the lengths follow an_resize.
 */
static int64_t ee_exec(struct ee *ee, struct ee_code *c, const struct ee_prog *p, struct an_ctx *ctx,
		       const struct ee_run_in *in, struct ee_verdict *v)
{
	struct ee_run r;
	struct ee_run *prev = ee_cur;

	r.ee = ee;
	r.ctx = ctx;
	r.v = v;
	r.code = c;
	r.depth = 0;
	r.budget = in->budget;
	r.in = in;
	r.spent = 0;
	r.copies = ctx->copies;
	r.data_off = ctx->data_off;
	r.data_len = ctx->data_len;
	r.pkt_len = ctx->pkt_len;
	r.dst = ctx->dst;
	memcpy(r.meta, ctx, EE_META_LEN);

	memset(v, 0, sizeof(*v));
	v->data_len = ctx->data_len;

	/* Without loops a run executes at most its longest path: charged
	 * before it starts, helpers as they are called. */
	int64_t rc = -EDQUOT;
	ee_cur = &r;
	if (ee_charge(&r, p->max_insns))
		rc = (int64_t)ee_prog_exec(p, ctx);
	ee_cur = prev;
	v->work = r.spent;

	memcpy(ctx, r.meta, EE_META_LEN);
	ctx->data_len = r.data_len;
	ctx->pkt_len = r.pkt_len;
	v->rc = rc;
	return rc;
}

/* init and fini see a zeroed context that names them; what they ask the
 * node to do is dropped. */
static int64_t ee_exec_aux(struct ee *ee, struct ee_code *c, const struct ee_prog *p)
{
	struct ee_verdict v;
	size_t size = c->kind->ctx_size > sizeof(struct an_ctx) ? c->kind->ctx_size : sizeof(struct an_ctx);
	struct an_ctx *ctx = calloc(1, size);
	if (!ctx)
		return -ENOMEM;
	memcpy(ctx->code, c->name, EE_NAME_LEN);
	const struct ee_run_in aux = {
	    .budget = ee->cfg.run_budget, .is_goal = 1, .visit = -EOPNOTSUPP, .rx_ns = -EINVAL};
	int64_t rc = ee_exec(ee, c, p, ctx, &aux, &v);
	free(ctx);
	return rc;
}

void ee_code_free(struct ee *ee, struct ee_code *c, bool run_fini)
{
	if (run_fini && c->kind->fini >= 0 && c->prog[c->kind->fini].bpf) {
		int64_t rc = ee_exec_aux(ee, c, &c->prog[c->kind->fini]);
		if (rc < 0)
			log_debug("ee: code %02x%02x%02x%02x: fini returned %lld", c->name[0], c->name[1], c->name[2],
				  c->name[3], (long long)rc);
	}
	for (unsigned s = 0; s < EE_SECTIONS_MAX; s++)
		if (c->prog[s].bpf)
			rte_bpf_destroy(c->prog[s].bpf);
	ee_state_free(c->state);
	free(c->elf);
	free(c);
}

static void ee_evict(struct ee *ee, struct ee_code *c)
{
	uint8_t name[EE_NAME_LEN];
	memcpy(name, c->name, sizeof(name));
	ee_cache_unlink(ee, c);
	ee->stats.evicted++;
	ee_code_free(ee, c, true); /* its fini may still use its state */
	if (ee->env.uncached)
		ee->env.uncached(ee->env.node, name);
}

static int ee_insert(struct ee *ee, const struct ee_kind *kind, const uint8_t name[EE_NAME_LEN], const void *elf,
		     size_t len)
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (c) {
		if (c->kind != kind) {
			snprintf(ee->refusal, sizeof(ee->refusal), "cached already as %s code, not %s", c->kind->name,
				 kind->name);
			return -EEXIST;
		}
		ee_cache_touch(ee, c);
		return 0;
	}
	if (ee_failed_lookup(ee, name, true)) {
		ee->stats.refused_known_bad++;
		snprintf(ee->refusal, sizeof(ee->refusal), "refused before: this code failed validation on this node");
		return -EPERM;
	}
	ee->refusal[0] = '\0';

	int rc = ee_load(ee, kind, name, elf, len, &c);
	if (rc == 0 && kind->init >= 0 && c->prog[kind->init].bpf) {
		int64_t irc = ee_exec_aux(ee, c, &c->prog[kind->init]);
		if (irc < 0) {
			snprintf(ee->refusal, sizeof(ee->refusal), "its init entry returned %lld", (long long)irc);
			log_info("code %02x%02x%02x%02x refused: %s", name[0], name[1], name[2], name[3], ee->refusal);
			ee_code_free(ee, c, false);
			rc = irc == -ENOMEM ? -ENOMEM : -EINVAL;
		}
	}
	if (rc == -EINVAL) {
		ee_failed_add(ee, name);
		ee->stats.failed_validation++;
	}
	if (rc < 0)
		return rc;

	ee_cache_add(ee, c);
	ee->stats.inserted++;
	if (ee->env.cached)
		ee->env.cached(ee->env.node, c->name, kind, c->elf, c->len);
	/* The new object is the most recent: eviction takes others first,
	 * least recently used first, and never a pinned one (which may keep
	 * the cache over its bounds: their holders bound them). */
	struct ee_list *l = ee->code_lru.prev;
	while ((ee->n_code > ee->cfg.cache_objects || ee->n_bytes > ee->cfg.cache_bytes) && l != &ee->code_lru) {
		struct ee_code *old = ee_container_of(l, struct ee_code, lru);
		l = l->prev;
		if (old != c && !old->pins)
			ee_evict(ee, old);
	}
	return 0;
}

int ee_code_pin(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (!c)
		return -ENOENT;
	c->pins++;
	return 0;
}

int ee_code_unpin(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (!c || !c->pins)
		return -ENOENT;
	c->pins--;
	return 0;
}

static int ee_insert_check(struct ee *ee, size_t len)
{
	/* An object larger than the whole cache could never stay. */
	if (len > EE_CODE_MAX || len > ee->cfg.cache_bytes) {
		snprintf(ee->refusal, sizeof(ee->refusal), "%zu bytes: larger than the %zu this node accepts", len,
			 ee->cfg.cache_bytes < EE_CODE_MAX ? ee->cfg.cache_bytes : (size_t)EE_CODE_MAX);
		return -EFBIG;
	}
	return 0;
}

int ee_code_insert_kind(struct ee *ee, const struct ee_kind *kind, const void *elf, size_t len,
			uint8_t ret_name[EE_NAME_LEN])
{
	uint8_t name[EE_NAME_LEN];

	int rc = ee_insert_check(ee, len);
	if (rc < 0)
		return rc;
	ee_hash(elf, len, name);
	rc = ee_insert(ee, kind, name, elf, len);
	if (rc < 0)
		return rc;
	memcpy(ret_name, name, EE_NAME_LEN);
	return 0;
}

int ee_code_insert(struct ee *ee, const void *elf, size_t len, uint8_t ret_name[EE_NAME_LEN])
{
	return ee_code_insert_kind(ee, &ee_kind_capsule, elf, len, ret_name);
}

int ee_code_insert_named(struct ee *ee, const uint8_t name[EE_NAME_LEN], const void *elf, size_t len)
{
	return ee_code_insert_named_kind(ee, &ee_kind_capsule, name, elf, len);
}

int ee_code_insert_named_kind(struct ee *ee, const struct ee_kind *kind, const uint8_t name[EE_NAME_LEN],
			      const void *elf, size_t len)
{
	uint8_t h[EE_NAME_LEN];

	int rc = ee_insert_check(ee, len);
	if (rc < 0)
		return rc;
	ee_hash(elf, len, h);
	/* Not remembered: the bytes were damaged or forged, not the code bad. */
	if (sodium_memcmp(h, name, EE_NAME_LEN) != 0)
		return -EBADMSG;
	return ee_insert(ee, kind, name, elf, len);
}

enum ee_code_status ee_code_status(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	if (ee_cache_lookup(ee, name))
		return EE_CODE_READY;
	if (ee_failed_lookup(ee, name, false))
		return EE_CODE_FAILED;
	return EE_CODE_ABSENT;
}

int ee_code_get(struct ee *ee, const uint8_t name[EE_NAME_LEN], const void **ret_elf, size_t *ret_len)
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (!c)
		return -ENOENT;
	*ret_elf = c->elf;
	*ret_len = c->len;
	return 0;
}

int ee_code_remove(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (!c)
		return -ENOENT;
	uint8_t copy[EE_NAME_LEN];
	memcpy(copy, c->name, sizeof(copy));
	ee_cache_unlink(ee, c);
	ee_code_free(ee, c, true);
	if (ee->env.uncached)
		ee->env.uncached(ee->env.node, copy);
	return 0;
}

size_t ee_code_list(struct ee *ee, struct ee_code_info *ret, size_t max)
{
	size_t i = 0;
	for (struct ee_list *l = ee->code_lru.next; l != &ee->code_lru && i < max; l = l->next, i++) {
		const struct ee_code *c = ee_container_of(l, struct ee_code, lru);
		memcpy(ret[i].name, c->name, EE_NAME_LEN);
		memcpy(ret[i].label, c->label, sizeof(ret[i].label));
		ret[i].size = c->len;
		ret[i].runs = c->runs;
		ret[i].errors = c->errors;
		ret[i].state_entries = ee_state_count(c->state);
		ret[i].last_used_ns = c->last_used_ns;
	}
	return ee->n_code;
}

int ee_run(struct ee *ee, struct an_ctx *ctx, struct ee_verdict *ret)
{
	const struct ee_run_in in = {
	    .budget = ee->cfg.run_budget, .is_goal = 1, .visit = -EOPNOTSUPP, .rx_ns = -EINVAL};
	return ee_run_with(ee, ctx, &in, ret);
}

int ee_run_with(struct ee *ee, struct an_ctx *ctx, const struct ee_run_in *in, struct ee_verdict *ret)
{
	struct ee_code *c = ee_cache_lookup(ee, ctx->code);
	if (!c)
		return ee_failed_lookup(ee, ctx->code, false) ? -EPERM : -ENOENT;
	/* The helpers trust these to bound an_resize and the capsule data. */
	if (ctx->data_off > AN_PKT_MAX || ctx->data_len > AN_PKT_MAX - ctx->data_off || ctx->pkt_len > AN_PKT_MAX)
		return -EINVAL;

	/* Capsules run capsule code only: other kinds take other contexts. */
	if (c->kind != &ee_kind_capsule)
		return -EPERM;
	int64_t rc = ee_exec(ee, c, &c->prog[c->kind->main], ctx, in, ret);
	c->runs++;
	ee->stats.runs++;
	if (rc < 0 || ret->over_budget) {
		c->errors++;
		ee->stats.run_errors++;
	}
	ee_cache_touch(ee, c);
	return 0;
}

int ee_code_limit_state(struct ee *ee, const uint8_t name[EE_NAME_LEN], size_t entries)
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (!c)
		return -ENOENT;
	ee_state_set_cap(c->state, entries < ee->cfg.state_entries ? entries : ee->cfg.state_entries);
	return 0;
}

size_t ee_code_state_cap(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	return c ? ee_state_cap(c->state) : 0;
}

int ee_code_state_external(struct ee *ee, const uint8_t name[EE_NAME_LEN], const struct ee_state_ops *ops,
			   void *arg)
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (!c)
		return -ENOENT;
	ee_state_external(c->state, ops, arg);
	return 0;
}

size_t ee_code_state_each(struct ee *ee, const uint8_t name[EE_NAME_LEN], size_t max,
			  void (*fn)(void *arg, const struct an_key *key, const struct an_val *val), void *arg)
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	return c ? ee_state_each(c->state, max, fn, arg) : 0;
}

int ee_run_kind(struct ee *ee, const uint8_t name[EE_NAME_LEN], const struct ee_kind *kind, void *ctx, int64_t *ret_rc)
{
	return ee_run_entry(ee, name, kind, kind->main, ctx, ret_rc);
}

const struct ee_kind *ee_code_kind(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	return c ? c->kind : NULL;
}

int ee_run_entry(struct ee *ee, const uint8_t name[EE_NAME_LEN], const struct ee_kind *kind, unsigned entry, void *ctx,
		 int64_t *ret_rc)
{
	struct ee_code *c = ee_cache_lookup(ee, name);
	if (!c)
		return ee_failed_lookup(ee, name, false) ? -EPERM : -ENOENT;
	if (c->kind != kind || kind == &ee_kind_capsule)
		return -EPERM;
	if (entry >= kind->n_sections || !c->prog[entry].bpf)
		return -ENOENT;
	struct ee_verdict v;
	memset(&v, 0, sizeof(v));
	const struct ee_run_in in = {
	    .budget = ee->cfg.run_budget, .is_goal = 1, .visit = -EOPNOTSUPP, .rx_ns = -EINVAL};
	/* No capsule: the helpers these kinds have never look at r.ctx. */
	struct ee_run r = {.ee = ee, .v = &v, .code = c, .budget = in.budget, .in = &in};
	const struct ee_prog *p = &c->prog[entry];
	struct ee_run *prev = ee_cur;
	int64_t rc = -EDQUOT;
	ee_cur = &r;
	if (ee_charge(&r, p->max_insns))
		rc = (int64_t)ee_prog_exec(p, ctx);
	ee_cur = prev;
	ee->last_work = r.spent;
	if (v.over_budget)
		rc = -EDQUOT;
	c->runs++;
	ee->stats.runs++;
	if (rc < 0) {
		c->errors++;
		ee->stats.run_errors++;
	}
	ee_cache_touch(ee, c);
	*ret_rc = rc;
	return 0;
}

uint64_t ee_last_work(const struct ee *ee)
{
	return ee->last_work;
}

const char *ee_last_refusal(const struct ee *ee)
{
	return ee->refusal;
}

void ee_stats_get(struct ee *ee, struct ee_stats *ret)
{
	*ret = ee->stats;
}

void ee_use_jit(struct ee *ee, bool on)
{
	ee->no_jit = !on;
	for (struct ee_list *l = ee->code_lru.next; l != &ee->code_lru; l = l->next) {
		struct ee_code *c = ee_container_of(l, struct ee_code, lru);
		for (unsigned s = 0; s < EE_SECTIONS_MAX; s++)
			c->prog[s].jit = on ? c->prog[s].jit_func : NULL;
	}
}
