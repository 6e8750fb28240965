// SPDX-License-Identifier: MIT
/*
 * Packet modules (docs/services.md, include/anode/module.h): a deployed
 * code object, activated by a user with the filter it wants, run in the
 * node on every packet that filter matches. Its code is a packet module in
 * the EE (svc_kind_module, kinds.c): validated and JIT-compiled once, bounded by the
 * work budget on every run, its soft state its own. What it returns
 * becomes the packet's verdict; anything else (an error, a run over its
 * budget, a packet too long for it) lets the packet go on: fail-open, like
 * service processes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kern/kern.h"
#include "svc/kinds.h"
#include "anode/module.h"
#include "core/log.h"
#include "ee/ee.h"
#include "link/match.h"
#include "svc/rewrite.h"
#include "svc/room.h"
#include "svc/room_impl.h"

/* The code object a module or a probe runs. Its bytes are kept: the cache
 * may evict it for other code, and it is then put back, with its user's
 * soft state bound again. */
struct svc_code {
	const struct ee_kind *kind;
	uint8_t name[EE_NAME_LEN];
	void *elf;
	size_t len;
	size_t state_entries; /* the user's soft state quota; 0: the node's bound */
};

struct svc_module {
	struct node *n;
	struct services *sv;
	struct policy_flow fl;	 /* its filter, as activated: checked again when the policy changes */
	struct match_filter mf;	 /* ...as installed: what its rewrites must stay inside */
	struct svc_instance *in; /* activated through the control module, or NULL (signalling) */
	char user[WIRE_SVC_NAME_MAX + 1], label[72]; /* for logs */
	/* Told once its filter is in, or failed. */
	void (*ready)(void *arg, int err);
	void *ready_arg;
	struct svc_code code;
	unsigned match_id;
	struct an_pkt_ctx ctx;
	/* Packets the module holds, oldest first, and when each came. */
	struct match_pkt *held[AN_MODULE_HOLD_MAX];
	uint64_t held_ns[AN_MODULE_HOLD_MAX];
	size_t n_held;
	struct loop_timer *hold_t;
};

/* Let the held packets go on, oldest first, as they came. */
static void release_held(struct svc_module *m, uint64_t *counter)
{
	for (size_t i = 0; i < m->n_held; i++) {
		match_verdict(m->n->match, m->held[i], MATCH_ACCEPT, NULL, 0);
		(*counter)++;
	}
	m->n_held = 0;
}

static void hold_check(void *arg)
{
	struct svc_module *m = arg;
	m->hold_t = NULL;
	/* Oldest first: when the oldest has waited too long, all go, so
	 * that they keep their order. */
	if (m->n_held && loop_now_ns() - m->held_ns[0] >= AN_MODULE_HOLD_MS * 1000000ull)
		release_held(m, &m->sv->mod_c.hold_timeouts);
	if (m->n_held)
		m->hold_t = loop_timer_add(m->n->loop, AN_MODULE_HOLD_MS / 10, hold_check, m);
}

const struct svc_module_counters *svc_module_counters(const struct services *sv)
{
	return &sv->mod_c;
}

static int read_code(const char *path, void **ret, size_t *ret_len, char *why, size_t whylen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(why, whylen, "cannot read the module %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	if (st.st_size <= 0 || st.st_size > WIRE_CODE_MAX) {
		close(fd);
		snprintf(why, whylen, "the module %s is empty or larger than %d octets", path, WIRE_CODE_MAX);
		return -EFBIG;
	}
	void *b = malloc((size_t)st.st_size);
	ssize_t k = b ? read(fd, b, (size_t)st.st_size) : -1;
	close(fd);
	if (k != st.st_size) {
		free(b);
		snprintf(why, whylen, "cannot read the module %s", path);
		return -EIO;
	}
	*ret = b;
	*ret_len = (size_t)st.st_size;
	return 0;
}

static int code_insert(struct node *n, struct svc_code *c)
{
	int r = ee_code_insert_kind(n->ee, c->kind, c->elf, c->len, c->name);
	if (r == 0 && c->state_entries)
		ee_code_limit_state(n->ee, c->name, c->state_entries);
	return r;
}

/* The code at path (or, path NULL, the len octets at elf, copied),
 * inserted as kind, for who. 0, or a negative errno with why filled (the
 * validator's refusal included). */
static int code_load(struct node *n, struct svc_code *c, const struct ee_kind *kind, const char *path, const void *elf,
		     size_t len, const struct policy_principal *who, char *why, size_t whylen)
{
	c->kind = kind;
	if (!who->admin) {
		/* The user's soft state quota, in entries of a key and a value. */
		size_t entries = who->quota.state / (sizeof(struct an_key) + sizeof(struct an_val));
		c->state_entries = entries ? entries : 1;
	}
	int r = 0;
	if (path) {
		r = read_code(path, &c->elf, &c->len, why, whylen);
	} else if ((c->elf = malloc(len))) {
		memcpy(c->elf, elf, len);
		c->len = len;
	} else {
		snprintf(why, whylen, "out of memory");
		r = -ENOMEM;
	}
	if (r == 0 && (r = code_insert(n, c)) < 0)
		snprintf(why, whylen, "the %s was refused: %s", kind->name, ee_last_refusal(n->ee));
	if (r < 0) {
		free(c->elf);
		c->elf = NULL;
	}
	return r;
}

/* Run the code on ctx; put it back first if it was evicted. */
static int code_run(struct node *n, struct svc_code *c, void *ctx, int64_t *ret_rc)
{
	int r = ee_run_kind(n->ee, c->name, c->kind, ctx, ret_rc);
	if (r == -ENOENT && code_insert(n, c) == 0)
		r = ee_run_kind(n->ee, c->name, c->kind, ctx, ret_rc);
	return r;
}

/* AN_PKT_ANSWER: the packet goes back where it came from, as if from its
 * destination. */
static void answer(uint8_t *ip, size_t len)
{
	uint8_t t[4];
	memcpy(t, ip + 12, 4);
	memcpy(ip + 12, ip + 16, 4);
	memcpy(ip + 16, t, 4);
	ip[8] = 64; /* a fresh TTL, as a host's */
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if ((ip[9] == 17 || ip[9] == 6) && len >= ihl + 4) {
		uint8_t *l4 = ip + ihl;
		uint8_t p[2] = {l4[0], l4[1]};
		l4[0] = l4[2];
		l4[1] = l4[3];
		l4[2] = p[0];
		l4[3] = p[1];
	}
	wire_ipv4_fix_checksums(ip, len);
}

static enum match_verdict module_packet(void *arg, struct match_pkt *p)
{
	struct svc_module *m = arg;
	struct node *n = m->n;
	struct svc_module_counters *mc = &m->sv->mod_c;
	mc->packets++;
	if (p->len > AN_MODULE_PKT_MAX || p->len < 20) {
		mc->too_big++;
		return MATCH_ACCEPT;
	}
	struct an_pkt_ctx *ctx = &m->ctx;
	ctx->len = (uint16_t)p->len;
	ctx->l4_off = (uint16_t)((p->data[0] & 15) * 4);
	ctx->proto = p->data[9];
	ctx->filter = m->match_id;
	memcpy(ctx->pkt, p->data, p->len);
	int64_t rc;
	int r = code_run(n, &m->code, ctx, &rc);
	if (r < 0 || rc < 0 || ctx->len < 20 || ctx->len > AN_MODULE_PKT_MAX || ctx->len > p->cap) {
		mc->errors++;
		return MATCH_ACCEPT;
	}
	switch (rc) {
	case AN_PKT_HOLD:
		if (m->n_held == AN_MODULE_HOLD_MAX) {
			mc->hold_overflows++;
			return MATCH_ACCEPT;
		}
		m->held[m->n_held] = p; /* the engine keeps it at this address until its verdict */
		m->held_ns[m->n_held++] = loop_now_ns();
		mc->held++;
		if (!m->hold_t)
			m->hold_t = loop_timer_add(n->loop, AN_MODULE_HOLD_MS / 10, hold_check, m);
		return MATCH_HOLD;
	case AN_PKT_RELEASE:
		release_held(m, &mc->released);
		mc->accepted++;
		return MATCH_ACCEPT;
	case AN_PKT_ACCEPT:
		mc->accepted++;
		return MATCH_ACCEPT;
	case AN_PKT_DROP:
		mc->dropped++;
		return MATCH_DROP;
	case AN_PKT_MODIFIED:
	case AN_PKT_ANSWER: {
		char why[128];
		if (!svc_rewrite_allowed(&m->mf, p->data, p->len, ctx->pkt, ctx->len, why, sizeof(why))) {
			mc->refused_policy++;
			log_ratelimited_by(LOG_NOTICE, "rewrite outside the filter", m->user,
					   "svc: module %s of %s: rewritten packet dropped: %s", m->label, m->user,
					   why);
			return MATCH_DROP;
		}
		memcpy(p->data, ctx->pkt, ctx->len);
		p->len = ctx->len;
		if (rc == AN_PKT_ANSWER) {
			answer(p->data, p->len);
			mc->answered++;
		} else {
			wire_ipv4_fix_checksums(p->data, p->len);
			mc->modified++;
		}
		return MATCH_MODIFIED;
	}
	default:
		mc->errors++;
		return MATCH_ACCEPT;
	}
}

/* The module runs once its filter is in place; whoever installed it hears
 * whether it is. */
static void module_ready(void *arg, unsigned id, int err)
{
	struct svc_module *m = arg;
	if (err == 0) {
		log_info("svc: module %s of %s: filter %u installed", m->label, m->user, id);
		/* Its kernel section, if it has one, runs on the same flow in
		 * the kernel path (src/kern), first. */
		void *kern = node_room_state(m->n, "kern");
		if (kern)
			kern_filter_bind(kern, m->match_id, &m->mf, m->code.name);
	}
	else
		log_err("svc: module %s of %s: its filter failed: %s", m->label, m->user, strerror(-err));
	m->ready(m->ready_arg, err); /* may free m */
}

/* An activation's module: a filter that failed fails the activation,
 * which is rolled back (svc_instance_started stops it). */
static void instance_ready(void *arg, int err)
{
	struct svc_module *m = arg;
	if (m->sv->svc)
		svc_instance_started(m->sv->svc, m->in->id, err);
}

static struct match_filter filter_of(const struct policy_flow *fl)
{
	return (struct match_filter){.src = fl->src,
				     .dst = fl->dst,
				     .src_prefix = fl->src_prefix,
				     .dst_prefix = fl->dst_prefix,
				     .proto = fl->proto,
				     .dport_lo = fl->port_lo,
				     .dport_hi = fl->port_hi};
}

/* Load m's code (read from path, or given) and install its filter. */
static int module_begin(struct svc_module *m, const char *path, const void *elf, size_t len,
			const struct policy_principal *who, char *why, size_t whylen)
{
	struct node *n = m->n;
	int r = code_load(n, &m->code, &svc_kind_module, path, elf, len, who, why, whylen);
	if (r < 0)
		return r;
	r = match_install(n->match, &m->mf, module_packet, module_ready, m, &m->match_id);
	if (r < 0) {
		snprintf(why, whylen, "cannot install its filter: %s", strerror(-r));
		free(m->code.elf);
		m->code.elf = NULL;
	}
	return r;
}

int svc_module_start(struct services *svs, struct svc_instance *in, const struct policy_service *sv,
		     const struct policy_principal *who, char *why, size_t whylen)
{
	struct node *n = svs->n;
	if (!n->match) {
		snprintf(why, whylen, "packet modules run on router nodes only (mode router)");
		return -EOPNOTSUPP;
	}
	struct policy_flow fl;
	int r = policy_flow_parse(in->params, &fl, why, whylen);
	if (r < 0)
		return r;
	if (!who->admin && !policy_may_flow(who, &fl)) {
		snprintf(why, whylen, "the filter is outside what the policy lets this user filter");
		return -EPERM;
	}
	struct svc_module *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->n = n;
	m->sv = svs;
	m->fl = fl;
	m->mf = filter_of(&fl);
	m->in = in;
	snprintf(m->user, sizeof(m->user), "%s", in->user);
	snprintf(m->label, sizeof(m->label), "%s", in->service);
	m->ready = instance_ready;
	m->ready_arg = m;
	r = module_begin(m, sv->path, NULL, 0, who, why, whylen);
	if (r < 0) {
		free(m);
		return r;
	}
	in->run = m;
	/* "running" once its filter is in place (module_ready). */
	in->state = SVC_STARTING;
	return 0;
}

struct svc_module *services_module_install(struct node *n, const struct policy_principal *who, const char *label,
					   const void *elf, size_t len, const struct match_filter *f,
					   void (*ready)(void *arg, int err), void *arg, char *why, size_t whylen)
{
	struct services *svs = node_room_state(n, "services");
	if (!svs || !n->match) {
		snprintf(why, whylen, "packet modules run on router nodes only (mode router)");
		errno = EOPNOTSUPP;
		return NULL;
	}
	struct svc_module *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(why, whylen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	m->n = n;
	m->sv = svs;
	m->mf = *f;
	snprintf(m->user, sizeof(m->user), "%s", who->name);
	snprintf(m->label, sizeof(m->label), "%s", label);
	m->ready = ready;
	m->ready_arg = arg;
	int r = module_begin(m, NULL, elf, len, who, why, whylen);
	if (r < 0) {
		free(m);
		errno = -r;
		return NULL;
	}
	return m;
}

static void module_free(struct svc_module *m)
{
	release_held(m, &m->sv->mod_c.released);
	if (m->hold_t)
		loop_timer_cancel(m->n->loop, m->hold_t);
	void *kern = node_room_state(m->n, "kern");
	if (kern)
		kern_filter_unbind(kern, m->match_id);
	match_remove(m->n->match, m->match_id);
	free(m->code.elf);
	free(m);
}

void services_module_remove(struct svc_module *m)
{
	if (m)
		module_free(m);
}

/* ---- custom probes ---- */

struct svc_probe {
	struct svc_code code;
	uint64_t runs;
};

int svc_probe_start(struct services *svs, struct svc_instance *in, const struct policy_service *sv,
		    const struct policy_principal *who, char *why, size_t whylen)
{
	struct node *n = svs->n;
	struct svc_probe *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int r = code_load(n, &p->code, &svc_kind_probe, sv->path, NULL, 0, who, why, whylen);
	if (r < 0) {
		free(p);
		return r;
	}
	in->run = p;
	return 0;
}

void svc_probe_stop(struct svc_instance *in)
{
	struct svc_probe *p = in->run;
	if (!p)
		return;
	free(p->code.elf);
	free(p);
	in->run = NULL;
}

static void probe_run(void *arg, struct svc_instance *in)
{
	struct services *sv = arg;
	struct node *n = sv->n;
	struct svc_probe *p = in->run;
	if (in->kind != POLICY_PROBE || !p)
		return;
	struct an_probe_ctx ctx = {.now_ns = loop_now_ns(), .runs = p->runs++};
	int64_t rc;
	int r = code_run(n, &p->code, &ctx, &rc);
	sv->mod_c.probe_runs++;
	if (r < 0 || rc < 0) {
		sv->mod_c.probe_errors++;
		return;
	}
	svc_api_publish(sv, in->user, in->service, rc);
}

void svc_probe_tick(struct services *sv)
{
	if (sv->svc)
		svc_foreach(sv->svc, probe_run, sv);
}

bool svc_module_granted(const struct svc_instance *in, const struct policy_principal *who)
{
	const struct svc_module *m = in->run;
	return !m || who->admin || policy_may_flow(who, &m->fl);
}

void svc_module_stop(struct svc_instance *in)
{
	struct svc_module *m = in->run;
	if (!m)
		return;
	module_free(m);
	in->run = NULL;
}
