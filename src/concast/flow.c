// SPDX-License-Identifier: MIT
/*
 * Flow state blocks and the merge of seed 001's Figure 1, bounded as §3
 * ("Flow State Scalability") asks: a fixed number of merge states per flow,
 * each of a fixed size, a fixed number of flows per node. The table is a
 * plain list: flows are few (64 by default) and looked up once per message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "concast/kind.h"
#include "concast/flow.h"
#include "core/log.h"

struct cc_tag {
	bool used;
	uint8_t merged;	 /* messages merged into it (saturates at 255) */
	int16_t creator; /* the upstream slot whose message opened it */
	uint64_t tag;
	uint64_t created_ms;
	uint64_t deadline_ms; /* the timeout done armed, or 0 */
	uint8_t state[AN_MERGE_STATE_MAX];
};

struct cc_table {
	struct cc_config cfg;
	struct ee *ee;
	cc_emit_fn emit;
	void *arg;
	struct cc_flow *flows;
	size_t n_flows;
	struct cc_counters c;
	struct an_merge_ctx *ctx; /* what every run works on */
	bool (*spent)(void *arg); /* cc_set_slice */
	void *spent_arg;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct cc_table *cc_table_new(const struct cc_config *cfg, struct ee *ee, cc_emit_fn emit, void *arg)
{
	struct cc_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->cfg = *cfg;
	if (!t->cfg.max_flows)
		t->cfg.max_flows = CC_DEFAULT_FLOWS;
	if (!t->cfg.max_upstream)
		t->cfg.max_upstream = CC_DEFAULT_UPSTREAM;
	if (t->cfg.max_upstream > CC_UPSTREAM_LIMIT)
		t->cfg.max_upstream = CC_UPSTREAM_LIMIT;
	if (!t->cfg.max_upstream_per_ip)
		t->cfg.max_upstream_per_ip = CC_DEFAULT_UPSTREAM_PER_IP;
	if (!t->cfg.max_tags)
		t->cfg.max_tags = CC_DEFAULT_TAGS;
	if (!t->cfg.tag_max_ms)
		t->cfg.tag_max_ms = CC_DEFAULT_TAG_MAX_MS;
	t->ee = ee;
	t->emit = emit;
	t->arg = arg;
	t->ctx = aligned_alloc(64, (sizeof(*t->ctx) + 63) & ~(size_t)63);
	if (!t->ctx) {
		free(t);
		return NULL;
	}
	return t;
}

void cc_table_free(struct cc_table *t)
{
	if (!t)
		return;
	while (t->flows)
		cc_flow_del(t, t->flows);
	free(t->ctx);
	free(t);
}

static bool flow_eq(const struct an_flow *a, const struct an_flow *b)
{
	return an_addr_eq(&a->group, &b->group) && an_addr_eq(&a->receiver, &b->receiver) && a->app_id == b->app_id;
}

struct cc_flow *cc_flow_find(struct cc_table *t, const struct an_flow *id)
{
	for (struct cc_flow *f = t->flows; f; f = f->next)
		if (flow_eq(&f->id, id))
			return f;
	return NULL;
}

int cc_flow_add(struct cc_table *t, const struct an_flow *id, uint64_t now_ms, struct cc_flow **ret)
{
	if (t->n_flows >= t->cfg.max_flows)
		return -ENOSPC;
	struct cc_flow *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->up = calloc(t->cfg.max_upstream, sizeof(*f->up));
	if (!f->up) {
		free(f);
		return -ENOMEM;
	}
	f->id = *id;
	f->created_ms = now_ms;
	if (getrandom(f->nonce, sizeof(f->nonce), 0) != (ssize_t)sizeof(f->nonce)) {
		free(f->up);
		free(f);
		return -EIO;
	}
	f->next = t->flows;
	t->flows = f;
	t->n_flows++;
	*ret = f;
	return 0;
}

/* The flow no longer holds its specification in the code cache. */
static void spec_unpin(struct cc_table *t, struct cc_flow *f)
{
	if (f->pinned)
		ee_code_unpin(t->ee, f->spec);
	f->pinned = false;
}

void cc_flow_del(struct cc_table *t, struct cc_flow *f)
{
	for (struct cc_flow **pp = &t->flows; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			t->n_flows--;
			break;
		}
	spec_unpin(t, f);
	free(f->spec_elf);
	free(f->tags);
	free(f->up);
	free(f);
}

void cc_flow_each(struct cc_table *t, void (*fn)(void *arg, struct cc_flow *f), void *arg)
{
	struct cc_flow *next;
	for (struct cc_flow *f = t->flows; f; f = next) {
		next = f->next;
		fn(arg, f);
	}
}

size_t cc_flow_count(const struct cc_table *t)
{
	return t->n_flows;
}

int cc_flow_set_spec(struct cc_table *t, struct cc_flow *f, const uint8_t name[32], const void *elf, size_t len)
{
	void *copy = NULL;
	if (elf) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, elf, len);
	}
	spec_unpin(t, f);
	free(f->spec_elf);
	f->spec_elf = copy;
	f->spec_len = elf ? len : 0;
	memcpy(f->spec, name, 32);
	f->spec_state = CC_SPEC_READY;
	f->pinned = ee_code_pin(t->ee, name) == 0;
	return 0;
}

/* The next used upstream slot of f from *i on (the slots are sparse: a
 * pruned neighbour leaves a hole), counting them in *seen: NULL after the
 * last. for (size_t i = 0, seen = 0; (u = up_next(f, &i, &seen)); i++). */
static const struct cc_upstream *up_next(const struct cc_flow *f, size_t *i, size_t *seen)
{
	for (; *seen < f->n_up; ++*i)
		if (f->up[*i].kind) {
			++*seen;
			return &f->up[*i];
		}
	return NULL;
}

int cc_up_find(const struct cc_flow *f, uint8_t kind, const struct an_addr *addr, uint64_t app)
{
	const struct cc_upstream *u;
	for (size_t i = 0, seen = 0; (u = up_next(f, &i, &seen)); i++) {
		if (u->kind == kind && (kind == CC_UP_APP ? u->app == app : an_addr_eq(&u->addr, addr)))
			return (int)i;
	}
	return -ENOENT;
}

/* 127.0.0.0/8 (as ::ffff:127.x.y.z) or ::1: the nodes of a loopback lab
 * all have one address, so the bound per address cannot tell them apart. */
static bool ip_is_loopback(const struct an_addr *a)
{
	static const uint8_t one[16] = {[15] = 1};
	return (an_ip_is_v4(a->ip) && a->ip[12] == 127) || memcmp(a->ip, one, 16) == 0;
}

/* Upstream nodes of f at addr's IP address, any port. */
static size_t up_at_ip(const struct cc_flow *f, const struct an_addr *addr)
{
	size_t k = 0;
	const struct cc_upstream *u;
	for (size_t i = 0, seen = 0; (u = up_next(f, &i, &seen)); i++)
		k += u->kind == CC_UP_NODE && memcmp(u->addr.ip, addr->ip, sizeof(addr->ip)) == 0;
	return k;
}

int cc_up_add(struct cc_table *t, struct cc_flow *f, uint8_t kind, const struct an_addr *addr, uint64_t app,
	      uint64_t now_ms)
{
	int slot = cc_up_find(f, kind, addr, app);
	if (slot >= 0) {
		f->up[slot].last_ms = now_ms;
		return slot;
	}
	if (kind == CC_UP_NODE && !ip_is_loopback(addr) && up_at_ip(f, addr) >= t->cfg.max_upstream_per_ip)
		return -EMLINK;
	for (size_t i = 0; i < t->cfg.max_upstream; i++) {
		struct cc_upstream *u = &f->up[i];
		if (u->kind)
			continue;
		*u = (struct cc_upstream){
		    .kind = kind, .fresh = true, .app = app, .last_ms = now_ms, .joined_ms = now_ms};
		if (addr)
			u->addr = *addr;
		f->n_up++;
		return (int)i;
	}
	return -ENOSPC;
}

void cc_up_del(struct cc_flow *f, int slot)
{
	if (f->up[slot].kind) {
		memset(&f->up[slot], 0, sizeof(f->up[slot]));
		f->n_up--;
	}
}

/* Run one entry point of the flow's specification on t->ctx; the code is
 * put back from the flow's copy if the cache evicted it. 0 and *rc, or a
 * negative errno (counted) when it could not run. */
static int spec_run(struct cc_table *t, struct cc_flow *f, unsigned entry, int64_t *rc)
{
	*rc = 0;
	int r = ee_run_entry(t->ee, f->spec, &concast_kind_merge, entry, t->ctx, rc);
	if (r == -ENOENT && f->spec_elf && ee_code_status(t->ee, f->spec) == EE_CODE_ABSENT) {
		uint8_t name[32];
		if (ee_code_insert_kind(t->ee, &concast_kind_merge, f->spec_elf, f->spec_len, name) == 0) {
			f->pinned = ee_code_pin(t->ee, f->spec) == 0;
			r = ee_run_entry(t->ee, f->spec, &concast_kind_merge, entry, t->ctx, rc);
		}
	}
	/* Past its work budget, or a return no errno has: the code failed. */
	if (r < 0 || *rc == -EDQUOT || *rc < -4095) {
		t->c.spec_errors++;
		return r < 0 ? r : -EIO;
	}
	return 0;
}

/* Upstream neighbours that joined or sent a message in the last
 * tag_max_ms: those a tag waits for (ctx->n_upstream) and that share the
 * tag table (a newcomer that has not sent yet keeps its slot of the
 * table). One that joined and keeps its keep-alives but sends nothing (an
 * idle sender, or a host holding slots it never uses) stops holding
 * every tag until its timeout, and shrinking the others' share, once its
 * newcomer's grace is over. At least 1. */
static size_t up_active(const struct cc_table *t, const struct cc_flow *f, uint64_t now_ms)
{
	size_t k = 0;
	const struct cc_upstream *u;
	for (size_t i = 0, seen = 0; (u = up_next(f, &i, &seen)); i++)
		k += (u->data_ms && now_ms - u->data_ms < t->cfg.tag_max_ms) ||
		     now_ms - u->joined_ms < t->cfg.tag_max_ms;
	return k ? k : 1;
}

static void ctx_start(struct cc_table *t, struct cc_flow *f, uint64_t now_ms)
{
	struct an_merge_ctx *x = t->ctx;
	x->now_ns = now_ns();
	x->app_id = f->id.app_id;
	x->n_upstream = (uint16_t)up_active(t, f, now_ms);
	x->timeout_ms = 0;
	x->timed_out = 0;
	x->fresh = 0;
	x->joined = 0;
	x->to_receiver = f->receiver_app ? 1 : f->downstream_is_receiver ? 2 : 0;
	x->flagged = 0;
	memset(x->reserved, 0, sizeof(x->reserved));
	memcpy(x->flow, f->area, sizeof(x->flow));
}

static void tag_free(struct cc_tag *g)
{
	g->used = false;
	g->deadline_ms = 0;
}

/* Build the tag's message and send it on; the tag is freed either way. */
static void tag_build(struct cc_table *t, struct cc_flow *f, struct cc_tag *g)
{
	struct an_merge_ctx *x = t->ctx;
	int64_t rc;
	x->len = 0;
	if (spec_run(t, f, CONCAST_MERGE_BUILD, &rc) == 0 && rc >= 0 && x->len <= AN_CONCAST_MSG_MAX) {
		memcpy(f->area, x->flow, sizeof(f->area));
		t->c.built++;
		f->sent++;
		t->emit(t->arg, f, x->msg, x->len);
	} else if (rc >= 0) {
		t->c.spec_errors++;
	}
	tag_free(g);
}

/* done's answer for tag g (state in t->ctx): send, discard, or keep. */
static void tag_done(struct cc_table *t, struct cc_flow *f, struct cc_tag *g, uint64_t now_ms, bool timed_out)
{
	struct an_merge_ctx *x = t->ctx;
	int64_t rc;
	x->timeout_ms = 0;
	x->timed_out = timed_out;
	x->merged = g->merged;
	if (spec_run(t, f, CONCAST_MERGE_DONE, &rc) < 0 || rc < 0) {
		tag_free(g);
		return;
	}
	memcpy(f->area, x->flow, sizeof(f->area));
	if (rc == AN_MERGE_SEND)
		return tag_build(t, f, g);
	if (rc == AN_MERGE_DISCARD || timed_out) {
		/* A timeout that neither sends nor arms a new one would keep
		 * the state for ever: discarded. */
		if (rc != AN_MERGE_DISCARD && x->timeout_ms) {
			g->deadline_ms = now_ms + x->timeout_ms;
			memcpy(g->state, x->state, sizeof(g->state));
			return;
		}
		t->c.discarded++;
		tag_free(g);
		return;
	}
	if (x->timeout_ms && !g->deadline_ms)
		g->deadline_ms = now_ms + x->timeout_ms;
	memcpy(g->state, x->state, sizeof(g->state));
}

/* The most tags one upstream neighbour may hold open: the table less one
 * slot for each other active upstream neighbour (up_active; at least one),
 * so that one sender that opens tags fast cannot crowd the others' out.
 * Not an even share: tags a silent neighbour leaves waiting for their
 * timeouts (until it is pruned) are the others', and must not cost them
 * their tags. */
static size_t tag_share(const struct cc_table *t, size_t active)
{
	size_t others = active - 1;
	return t->cfg.max_tags > others + 1 ? t->cfg.max_tags - others : 1;
}

/* Whether upstream neighbour u opens tags no one else joins: of at least
 * EVICT_MIN_OPENED tags it opened, more than half stayed its alone. A real
 * sender's tags are joined by the others' (its history is near 0); a
 * flood of tags only one sender has is never joined (near all). */
#define EVICT_MIN_OPENED 4
static bool opens_alone(const struct cc_upstream *u)
{
	return u->kind && u->tags_opened >= EVICT_MIN_OPENED && u->tags_joined * 2 < u->tags_opened;
}

/* The table is full: make room for upstream `slot`'s new tag by ending
 * early (done, as at a timeout) the oldest tag no other neighbour gave to,
 * of a neighbour that opens tags no one else joins (opens_alone) and holds
 * at least two open now; never `slot`'s own. A flood of tags no other
 * sender has goes first; the tags of senders whose tags are joined never
 * do. The slot, free, or NULL when there is none to take. */
static struct cc_tag *tag_evict(struct cc_table *t, struct cc_flow *f, int slot, uint64_t now_ms)
{
	struct cc_tag *victim = NULL;
	size_t most = 1;
	for (size_t i = 0; i < t->cfg.max_tags; i++) {
		struct cc_tag *g = &f->tags[i];
		if (!g->used || g->merged != 1 || g->creator == slot || !opens_alone(&f->up[g->creator]))
			continue;
		size_t alone = 0;
		struct cc_tag *oldest = NULL;
		for (size_t j = 0; j < t->cfg.max_tags; j++) {
			struct cc_tag *h = &f->tags[j];
			if (h->used && h->merged == 1 && h->creator == g->creator) {
				alone++;
				if (!oldest || h->created_ms < oldest->created_ms)
					oldest = h;
			}
		}
		if (alone > most) {
			most = alone;
			victim = oldest;
		}
	}
	if (!victim)
		return NULL;
	t->c.tags_evicted++;
	ctx_start(t, f, now_ms);
	memcpy(t->ctx->state, victim->state, sizeof(t->ctx->state));
	t->ctx->tag = victim->tag;
	t->ctx->upstream = 0;
	t->ctx->len = 0;
	victim->deadline_ms = 0;
	tag_done(t, f, victim, now_ms, true);
	/* Sent or discarded; one that would wait again is discarded. */
	if (victim->used) {
		t->c.discarded++;
		tag_free(victim);
	}
	return victim;
}

/* The tag's slot: the open one, or a new one opened by upstream `slot`
 * (active: up_active, as counted for this message).
 * NULL when the table is full (*why = -EDQUOT) or `slot` holds its share
 * of it (*why = -EUSERS). */
static struct cc_tag *tag_slot(struct cc_table *t, struct cc_flow *f, int slot, uint64_t tag, uint64_t now_ms,
			       size_t active, bool *fresh, int *why)
{
	if (!f->tags) {
		f->tags = calloc(t->cfg.max_tags, sizeof(*f->tags));
		if (!f->tags) {
			*why = -ENOMEM;
			return NULL;
		}
	}
	struct cc_tag *free_slot = NULL;
	size_t mine = 0;
	for (size_t i = 0; i < t->cfg.max_tags; i++) {
		struct cc_tag *g = &f->tags[i];
		if (g->used && g->tag == tag) {
			*fresh = false;
			return g;
		}
		if (g->used && g->creator == slot)
			mine++;
		if (!g->used && !free_slot)
			free_slot = g;
	}
	if (mine >= tag_share(t, active)) {
		*why = -EUSERS;
		return NULL;
	}
	if (!free_slot && !(free_slot = tag_evict(t, f, slot, now_ms))) {
		*why = -EDQUOT;
		return NULL;
	}
	*free_slot = (struct cc_tag){.used = true, .tag = tag, .created_ms = now_ms, .creator = (int16_t)slot};
	f->up[slot].tags_opened++;
	*fresh = true;
	return free_slot;
}

/* The specification said (in get_tag or merge) that the message held
 * values out of range, which it clamped: counted for the upstream
 * neighbour it came from, once per message, whatever became of it. */
static void note_flagged(struct cc_table *t, struct cc_upstream *u, bool flagged)
{
	if (flagged) {
		t->c.flagged++;
		u->flagged++;
	}
}

int cc_input(struct cc_table *t, struct cc_flow *f, int slot, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct cc_upstream *u = &f->up[slot];
	t->c.messages++;
	f->messages++;
	u->messages++;
	u->last_ms = now_ms;
	u->data_ms = now_ms;
	/* One upstream neighbour: nothing to merge with (§2.2), except at the
	 * receiver's node, where the specification makes what the receiving
	 * application reads (to_receiver: the mixer's μ-law from the linear
	 * sums merging nodes send each other) and drops what is late. */
	if (f->n_up == 1 && !f->receiver_app) {
		u->fresh = false;
		t->c.passed++;
		f->sent++;
		t->emit(t->arg, f, msg, len);
		return 0;
	}
	struct an_merge_ctx *x = t->ctx;
	int64_t rc;
	ctx_start(t, f, now_ms);
	x->upstream = (uint16_t)slot;
	x->joined = u->fresh;
	x->len = (uint16_t)len;
	memcpy(x->msg, msg, len);
	x->tag = 0;
	x->merged = 0;
	if (spec_run(t, f, CONCAST_MERGE_GET_TAG, &rc) < 0)
		return -EIO;
	memcpy(f->area, x->flow, sizeof(f->area));
	u->fresh = false;
	bool flagged = x->flagged;
	if (rc < 0) {
		note_flagged(t, u, flagged);
		t->c.dropped_by_spec++;
		return -ECANCELED;
	}
	bool fresh;
	int why = 0;
	bool joined = x->joined;
	struct cc_tag *g = tag_slot(t, f, slot, (uint64_t)rc, now_ms, x->n_upstream, &fresh, &why);
	/* An eviction (tag_slot) ran the specification on another tag. */
	x->upstream = (uint16_t)slot;
	x->joined = joined;
	if (!g) {
		note_flagged(t, u, flagged);
		if (why == -EUSERS)
			t->c.tags_share++;
		else
			t->c.tags_full++;
		return -EDQUOT;
	}
	x->tag = g->tag;
	x->fresh = fresh;
	x->merged = g->merged;
	if (fresh)
		memset(x->state, 0, sizeof(x->state));
	else
		memcpy(x->state, g->state, sizeof(x->state));
	/* get_tag may have changed what merge reads. */
	x->len = (uint16_t)len;
	memcpy(x->msg, msg, len);
	int r = spec_run(t, f, CONCAST_MERGE_MERGE, &rc);
	note_flagged(t, u, flagged || x->flagged);
	x->flagged = 0;
	if (r < 0 || rc < 0) {
		if (r == 0)
			t->c.dropped_by_spec++;
		if (fresh)
			tag_free(g);
		return r < 0 ? -EIO : -ECANCELED;
	}
	memcpy(f->area, x->flow, sizeof(f->area));
	/* Another neighbour joined the creator's tag (opens_alone). */
	if (g->merged == 1 && g->creator != slot)
		f->up[g->creator].tags_joined++;
	if (g->merged < UINT8_MAX)
		g->merged++;
	t->c.merged++;
	tag_done(t, f, g, now_ms, false);
	return 0;
}

/* The caller's slice is spent: the rest waits for the next call. */
static bool slice_spent(struct cc_table *t)
{
	return t->spent && t->spent(t->spent_arg);
}

static bool expire_flow(struct cc_table *t, struct cc_flow *f, uint64_t now_ms)
{
	if (!f->tags)
		return false;
	for (size_t i = 0; i < t->cfg.max_tags; i++) {
		struct cc_tag *g = &f->tags[i];
		if (!g->used)
			continue;
		if (slice_spent(t))
			return true;
		if (now_ms - g->created_ms >= t->cfg.tag_max_ms) {
			t->c.tags_expired++;
			tag_free(g);
			continue;
		}
		if (!g->deadline_ms || g->deadline_ms > now_ms)
			continue;
		t->c.timeouts++;
		g->deadline_ms = 0;
		ctx_start(t, f, now_ms);
		memcpy(t->ctx->state, g->state, sizeof(t->ctx->state));
		t->ctx->tag = g->tag;
		t->ctx->upstream = 0;
		t->ctx->len = 0;
		tag_done(t, f, g, now_ms, true);
	}
	return false;
}

bool cc_expire(struct cc_table *t, uint64_t now_ms)
{
	/* What a spent slice leaves is still due: the next call starts
	 * over and finds it. */
	for (struct cc_flow *f = t->flows; f; f = f->next)
		if (expire_flow(t, f, now_ms))
			return true;
	return false;
}

void cc_set_slice(struct cc_table *t, bool (*spent)(void *arg), void *arg)
{
	t->spent = spent;
	t->spent_arg = arg;
}

uint64_t cc_next_deadline(const struct cc_table *t)
{
	uint64_t d = UINT64_MAX;
	for (const struct cc_flow *f = t->flows; f; f = f->next) {
		if (!f->tags)
			continue;
		for (size_t i = 0; i < t->cfg.max_tags; i++) {
			const struct cc_tag *g = &f->tags[i];
			if (!g->used)
				continue;
			uint64_t age_end = g->created_ms + t->cfg.tag_max_ms;
			if (age_end < d)
				d = age_end;
			if (g->deadline_ms && g->deadline_ms < d)
				d = g->deadline_ms;
		}
	}
	return d;
}

size_t cc_flow_tags(const struct cc_table *t, const struct cc_flow *f)
{
	size_t k = 0;
	if (f->tags)
		for (size_t i = 0; i < t->cfg.max_tags; i++)
			k += f->tags[i].used;
	return k;
}

const struct cc_counters *cc_counters(const struct cc_table *t)
{
	return &t->c;
}

const struct cc_config *cc_config(const struct cc_table *t)
{
	return &t->cfg;
}

void cc_set_max_flows(struct cc_table *t, size_t max_flows)
{
	t->cfg.max_flows = max_flows ? max_flows : CC_DEFAULT_FLOWS;
}

void cc_set_upstream_per_ip(struct cc_table *t, size_t n)
{
	t->cfg.max_upstream_per_ip = n ? n : CC_DEFAULT_UPSTREAM_PER_IP;
}
