// SPDX-License-Identifier: MIT
/*
 * The modules signalling installed (modules.h). A module goes FETCHING
 * (its code by URL), INSTALLING (its filters going in, one packet module
 * of the services room per filter, sharing one code object) and INSTALLED;
 * the requests that wait on it are told when it gets there or fails. The
 * principal is looked up again by name when the code comes, since a
 * policy reload may have happened meanwhile.
 */
#include "sig/modules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/log.h"
#include "ctl/ctl.h"
#include "link/match.h"
#include "node/room.h"
#include "sig/fetch.h"
#include "wire/wire.h"
#include "svc/policy.h"
#include "svc/room.h"

enum { MOD_FREE, MOD_FETCHING, MOD_INSTALLING, MOD_INSTALLED };

struct sig_module {
	struct sig_modules *ms;
	uint8_t state;
	char name[WIRE_SIG_NAME_MAX + 1], version[WIRE_SIG_VERSION_MAX + 1], user[WIRE_SIG_USER_MAX + 1];
	uint8_t hash[32];
	uint32_t size, lifetime_s;
	uint64_t expires_ms;
	struct match_filter filters[WIRE_SIG_FILTERS_MAX];
	size_t n_filters;
	struct svc_module *m[WIRE_SIG_FILTERS_MAX];
	size_t n_ready;
	int ready_err;
	uint64_t waiters[SIG_MODULE_WAITERS_MAX];
	size_t n_waiters;
	/* Reports of its soft state (property collector=ADDR:PORT). */
	bool has_collector;
	struct an_addr collector;
	uint32_t report_s, seq;
	uint64_t next_report_ms;
};

struct sig_modules {
	struct node *n;
	struct sig_modules_config cfg;
	struct sig_fetcher *fetcher;
	char no_fetcher[160];
	sig_module_done_cb done;
	void *room;
	struct sig_module *mods; /* cfg.max of them */
	size_t cap;
	struct sig_module_counters c;
};

struct sig_modules *sig_modules_new(struct node *n, const struct sig_modules_config *c, struct sig_fetcher *fetcher,
				    const char *no_fetcher_why, sig_module_done_cb done, void *room)
{
	struct sig_modules *ms = calloc(1, sizeof(*ms));
	if (!ms || !(ms->mods = calloc(c->max, sizeof(*ms->mods)))) {
		free(ms);
		return NULL;
	}
	ms->n = n;
	ms->cfg = *c;
	ms->cap = c->max;
	ms->fetcher = fetcher;
	snprintf(ms->no_fetcher, sizeof(ms->no_fetcher), "%s", no_fetcher_why ? no_fetcher_why : "");
	ms->done = done;
	ms->room = room;
	for (size_t i = 0; i < ms->cap; i++)
		ms->mods[i].ms = ms;
	return ms;
}

static void uninstall(struct sig_module *mod)
{
	for (size_t i = 0; i < mod->n_filters; i++)
		services_module_remove(mod->m[i]);
	if (mod->state == MOD_FETCHING)
		sig_fetch_forget(mod->ms->fetcher, mod);
	struct sig_modules *ms = mod->ms;
	*mod = (struct sig_module){.ms = ms};
}

void sig_modules_free(struct sig_modules *ms)
{
	if (!ms)
		return;
	for (size_t i = 0; i < ms->cap; i++)
		if (ms->mods[i].state != MOD_FREE)
			uninstall(&ms->mods[i]);
	free(ms->mods);
	free(ms);
}

void sig_modules_reconfigure(struct sig_modules *ms, const struct sig_modules_config *c)
{
	size_t max = ms->cap;
	ms->cfg = *c;
	ms->cfg.max = max; /* the table's size stays */
}

const struct sig_module_counters *sig_modules_counters(const struct sig_modules *ms)
{
	return &ms->c;
}

static struct sig_module *by_name(struct sig_modules *ms, const char *name)
{
	for (size_t i = 0; i < ms->cap; i++)
		if (ms->mods[i].state != MOD_FREE && !strcmp(ms->mods[i].name, name))
			return &ms->mods[i];
	return NULL;
}

uint32_t sig_modules_free_slots(const struct sig_modules *ms)
{
	uint32_t k = 0;
	for (size_t i = 0; i < ms->cap; i++)
		k += ms->mods[i].state == MOD_FREE;
	return k;
}

size_t sig_modules_list(struct sig_modules *ms, const char *name, struct wire_sig_installed *out, size_t max)
{
	size_t k = 0;
	uint64_t now = loop_now_ms();
	for (size_t i = 0; i < ms->cap && k < max; i++) {
		const struct sig_module *m = &ms->mods[i];
		if (m->state != MOD_INSTALLED || (name && strcmp(m->name, name)))
			continue;
		out[k].remaining_s = m->expires_ms > now ? (uint32_t)((m->expires_ms - now + 999) / 1000) : 0;
		snprintf(out[k].name, sizeof(out[k].name), "%s", m->name);
		snprintf(out[k].version, sizeof(out[k].version), "%s", m->version);
		k++;
	}
	return k;
}

static const char *state_name(uint8_t st)
{
	return st == MOD_FETCHING ? "fetching" : st == MOD_INSTALLING ? "installing" : "installed";
}

void sig_modules_print(struct sig_modules *ms, bool json, struct ctl_out *o)
{
	uint64_t now = loop_now_ms();
	size_t k = 0;
	char a[64];
	if (json)
		ctl_printf(o, "{\"free_slots\":%u,\"modules\":[", sig_modules_free_slots(ms));
	for (size_t i = 0; i < ms->cap; i++) {
		const struct sig_module *m = &ms->mods[i];
		if (m->state == MOD_FREE)
			continue;
		uint32_t left = m->state == MOD_INSTALLED && m->expires_ms > now
				    ? (uint32_t)((m->expires_ms - now + 999) / 1000)
				    : 0;
		char hash[17];
		sodium_bin2hex(hash, sizeof(hash), m->hash, 8);
		if (json) {
			ctl_printf(
			    o,
			    "%s{\"name\":\"%s\",\"version\":\"%s\",\"user\":\"%s\",\"state\":\"%s\",\"hash\":\"%s\","
			    "\"size\":%u,\"filters\":%zu,\"remaining_s\":%u,\"lifetime_s\":%u,\"collector\":",
			    k ? "," : "", m->name, m->version, m->user, state_name(m->state), hash, m->size,
			    m->n_filters, left, m->lifetime_s);
			if (m->has_collector)
				ctl_printf(o, "\"%s\"}", wire_addr_format(&m->collector, a, sizeof(a)));
			else
				ctl_printf(o, "null}");
		} else {
			ctl_printf(o, "%-16s %-10s %-12s %-10s %s... %u octets, %zu filter%s, %u s left of %u%s%s\n",
				   m->name, m->version, m->user, state_name(m->state), hash, m->size, m->n_filters,
				   m->n_filters == 1 ? "" : "s", left, m->lifetime_s,
				   m->has_collector ? ", reports to " : "",
				   m->has_collector ? wire_addr_format(&m->collector, a, sizeof(a)) : "");
		}
		k++;
	}
	if (json)
		ctl_printf(o, "]}\n");
	else if (!k)
		ctl_printf(o, "no modules installed by signalling (%u slots free)\n", sig_modules_free_slots(ms));
}

/* Tell every request waiting on mod how it ended. */
static void tell(struct sig_module *mod, int32_t status, const char *why)
{
	uint64_t w[SIG_MODULE_WAITERS_MAX];
	size_t n = mod->n_waiters;
	memcpy(w, mod->waiters, sizeof(w));
	mod->n_waiters = 0;
	for (size_t i = 0; i < n; i++)
		mod->ms->done(mod->ms->room, w[i], status, why);
}

static void fail(struct sig_module *mod, int32_t status, const char *why)
{
	mod->ms->c.refused++;
	log_info("sig: module %s %s of %s not installed: %s", mod->name, mod->version, mod->user, why);
	struct sig_module copy = *mod;
	uninstall(mod);
	tell(&copy, status, why);
}

static void filter_ready(void *arg, int err)
{
	struct sig_module *mod = arg;
	if (mod->state != MOD_INSTALLING)
		return;
	if (err < 0 && !mod->ready_err)
		mod->ready_err = err;
	if (++mod->n_ready < mod->n_filters)
		return;
	if (mod->ready_err) {
		char why[96];
		snprintf(why, sizeof(why), "its filter could not be installed: %s", strerror(-mod->ready_err));
		return fail(mod, mod->ready_err, why);
	}
	mod->state = MOD_INSTALLED;
	mod->expires_ms = loop_now_ms() + (uint64_t)mod->lifetime_s * 1000;
	mod->next_report_ms = loop_now_ms() + (uint64_t)mod->report_s * 1000;
	mod->ms->c.installed++;
	log_info("sig: module %s %s of %s installed for %u s", mod->name, mod->version, mod->user, mod->lifetime_s);
	char why[64];
	snprintf(why, sizeof(why), "installed for %u s", mod->lifetime_s);
	tell(mod, 0, why);
}

/* The code is here: one packet module per filter. */
static void install(struct sig_module *mod, const uint8_t *elf, size_t len)
{
	struct sig_modules *ms = mod->ms;
	const struct policy *pol = services_policy(ms->n);
	const struct policy_principal *who = pol ? policy_principal(pol, mod->user) : NULL;
	if (!who)
		return fail(mod, -EACCES, "the user is no longer in this node's policy");
	mod->state = MOD_INSTALLING;
	char why[WIRE_SIG_WHY_MAX + 1] = "";
	for (size_t i = 0; i < mod->n_filters; i++) {
		mod->m[i] = services_module_install(ms->n, who, mod->name, elf, len, &mod->filters[i], filter_ready,
						    mod, why, sizeof(why));
		if (!mod->m[i]) {
			int e = -errno;
			mod->n_filters = i; /* the ones made are removed */
			return fail(mod, e, why);
		}
	}
}

static void fetched(void *arg, int status, const char *why, const uint8_t *body, size_t len)
{
	struct sig_module *mod = arg;
	if (mod->state != MOD_FETCHING)
		return;
	if (status < 0) {
		char w[WIRE_SIG_WHY_MAX + 1];
		snprintf(w, sizeof(w), "fetching it failed: %s", why);
		return fail(mod, status, w);
	}
	install(mod, body, len);
}

static int filters_of(const struct wire_sig_request *q, struct sig_module *mod, char *why, size_t whylen)
{
	for (size_t i = 0; i < q->n_filters; i++) {
		const struct wire_sig_filter *f = &q->filters[i];
		if ((f->src_len && !an_ip_is_v4(f->src)) || (f->dst_len && !an_ip_is_v4(f->dst))) {
			snprintf(why, whylen, "IPv6 filters are not supported");
			return -EAFNOSUPPORT;
		}
		struct match_filter *m = &mod->filters[i];
		*m = (struct match_filter){.src_prefix = f->src_len,
					   .dst_prefix = f->dst_len,
					   .proto = f->proto,
					   .sport_lo = f->sport_lo,
					   .sport_hi = f->sport_hi,
					   .dport_lo = f->dport_lo,
					   .dport_hi = f->dport_hi};
		memcpy(&m->src, f->src + 12, 4);
		memcpy(&m->dst, f->dst + 12, 4);
	}
	mod->n_filters = q->n_filters;
	return 0;
}

/* The properties the node itself reads: collector=ADDR:PORT (IPv4, an
 * address and UDP port the user may filter: reports go nowhere else) and
 * report=S (1..3600, default SIG_REPORT_S). The others are the module's. */
static int props_of(const struct wire_sig_request *q, const struct policy_principal *who, struct sig_module *mod,
		    char *why, size_t whylen)
{
	mod->report_s = SIG_REPORT_S;
	for (size_t i = 0; i < q->n_props; i++) {
		const char *k = q->props[i].key, *v = q->props[i].value;
		if (!strcmp(k, "collector")) {
			uint32_t a;
			if (wire_addr_parse(v, &mod->collector) < 0 || !an_ip_is_v4(mod->collector.ip)) {
				snprintf(why, whylen, "collector=%s is not an IPv4 ADDR:PORT", v);
				return -EINVAL;
			}
			memcpy(&a, mod->collector.ip + 12, 4);
			uint16_t port = ntohs(mod->collector.port);
			if (!policy_may_filter(who, a, 32, 17, port, port)) {
				snprintf(why, whylen,
					 "collector=%s is outside the addresses and ports the user may filter", v);
				return -EACCES;
			}
			mod->has_collector = true;
		} else if (!strcmp(k, "report")) {
			char *end;
			unsigned long r = strtoul(v, &end, 10);
			if (*end || r < 1 || r > 3600) {
				snprintf(why, whylen, "report=%s is not 1..3600 seconds", v);
				return -EINVAL;
			}
			mod->report_s = (uint32_t)r;
		}
	}
	return 0;
}

static int refuse(struct sig_modules *ms, int32_t *status, int32_t e, char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int refuse(struct sig_modules *ms, int32_t *status, int32_t e, char *why, size_t whylen, const char *fmt, ...)
{
	ms->c.refused++;
	*status = e;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return 0;
}

static int setup(struct sig_modules *ms, const struct wire_sig_request *q, const struct policy_principal *who,
		 uint64_t id, int32_t *status, char *why, size_t whylen)
{
	struct node *n = ms->n;
	if (q->mod_kind != WIRE_SIG_KIND_PACKET)
		return refuse(ms, status, -EOPNOTSUPP, why, whylen,
			      "this node installs packet modules only (kind 1), not service processes");
	if (!n->match)
		return refuse(ms, status, -EOPNOTSUPP, why, whylen,
			      "packet modules run on router nodes only (mode router)");
	if (q->size > ms->cfg.module_max) {
		return refuse(ms, status, -EFBIG, why, whylen, "the module is larger than this node takes (%zu octets)",
			      ms->cfg.module_max);
	}
	for (size_t i = 0; i < q->n_deps; i++) {
		struct sig_module *d = by_name(ms, q->deps[i]);
		if (!d || d->state != MOD_INSTALLED)
			return refuse(ms, status, -ENOENT, why, whylen,
				      "a module it depends on is not installed here: %s", q->deps[i]);
	}
	struct sig_module *mod = by_name(ms, q->module);
	if (mod && strcmp(mod->user, who->name) != 0)
		return refuse(ms, status, -EEXIST, why, whylen, "module %s here is another user's", q->module);
	if (mod && !memcmp(mod->hash, q->hash, 32) && mod->size == q->size) {
		if (mod->state == MOD_INSTALLED) {
			/* Soft state: the same module again renews it. */
			mod->lifetime_s = q->lifetime;
			mod->expires_ms = loop_now_ms() + (uint64_t)q->lifetime * 1000;
			ms->c.refreshed++;
			*status = 0;
			snprintf(why, whylen, "refreshed for %u s", q->lifetime);
			return 0;
		}
		/* Under way already: wait on it too. */
		if (mod->n_waiters == SIG_MODULE_WAITERS_MAX)
			return refuse(ms, status, -EBUSY, why, whylen, "too many requests wait for module %s",
				      q->module);
		mod->waiters[mod->n_waiters++] = id;
		return 1;
	}
	if (mod) {
		/* Another version of the user's own: it replaces this one. */
		log_info("sig: module %s of %s: %s replaced", mod->name, mod->user, mod->version);
		struct sig_module copy = *mod;
		uninstall(mod);
		tell(&copy, -ECANCELED, "replaced by another version");
		ms->c.replaced++;
	}
	/* The user's lane: so many modules, so many fetches at once. */
	size_t mine = 0, fetching = 0;
	for (size_t i = 0; i < ms->cap; i++)
		if (ms->mods[i].state != MOD_FREE && !strcmp(ms->mods[i].user, who->name)) {
			mine++;
			fetching += ms->mods[i].state == MOD_FETCHING;
		}
	if (mine >= ms->cfg.per_user)
		return refuse(ms, status, -EDQUOT, why, whylen,
			      "%s has %zu modules here already, as many as one user may (sig-modules-per-user)",
			      who->name, mine);
	for (size_t i = 0; i < ms->cap && !mod; i++)
		if (ms->mods[i].state == MOD_FREE)
			mod = &ms->mods[i];
	if (!mod)
		return refuse(ms, status, -ENOSPC, why, whylen, "no room for another module at this node");
	/* The code: in the cache already (inserted, or fetched for another
	 * module), else by URL. */
	const void *elf;
	size_t len;
	bool cached = ee_code_get(n->ee, q->hash, &elf, &len) == 0 && len == q->size;
	if (!cached && fetching >= SIG_FETCHES_PER_USER)
		return refuse(ms, status, -EBUSY, why, whylen, "this node is fetching %zu of %s's modules already",
			      fetching, who->name);
	*mod = (struct sig_module){.ms = ms, .lifetime_s = q->lifetime, .size = q->size};
	snprintf(mod->name, sizeof(mod->name), "%s", q->module);
	snprintf(mod->version, sizeof(mod->version), "%s", q->version);
	snprintf(mod->user, sizeof(mod->user), "%s", who->name);
	memcpy(mod->hash, q->hash, 32);
	if (props_of(q, who, mod, why, whylen) < 0) {
		*mod = (struct sig_module){.ms = ms};
		ms->c.refused++;
		*status = -EINVAL;
		return 0;
	}
	if (filters_of(q, mod, why, whylen) < 0) {
		*mod = (struct sig_module){.ms = ms};
		ms->c.refused++;
		*status = -EAFNOSUPPORT;
		return 0;
	}
	mod->waiters[mod->n_waiters++] = id;
	if (cached) {
		/* The waiters hear how it ended, maybe before this returns. */
		install(mod, elf, len);
		return 1;
	}
	if (!(q->present & (1u << WIRE_SIG_URL))) {
		*mod = (struct sig_module){.ms = ms};
		return refuse(ms, status, -ENOENT, why, whylen, "no URL, and the module's code is not at this node");
	}
	if (!ms->fetcher) {
		*mod = (struct sig_module){.ms = ms};
		return refuse(ms, status, -EOPNOTSUPP, why, whylen, "this node cannot fetch modules: %s",
			      ms->no_fetcher);
	}
	mod->state = MOD_FETCHING;
	int r = sig_fetch(ms->fetcher, q->url, q->hash, q->size, (uint32_t)ms->cfg.fetch_timeout_ms, fetched, mod, why,
			  whylen);
	if (r < 0) {
		*mod = (struct sig_module){.ms = ms};
		ms->c.refused++;
		*status = r;
		return 0;
	}
	return 1;
}

int sig_modules_act(struct sig_modules *ms, const struct wire_sig_request *q, const struct policy_principal *who,
		    uint64_t id, int32_t *status, char *why, size_t whylen)
{
	if (q->kind == WIRE_SIG_SETUP)
		return setup(ms, q, who, id, status, why, whylen);
	struct sig_module *mod = by_name(ms, q->module);
	if (!mod)
		return refuse(ms, status, -ENOENT, why, whylen, "module %s is not installed here", q->module);
	if (strcmp(mod->user, who->name) != 0 && !who->admin)
		return refuse(ms, status, -EPERM, why, whylen, "module %s here is another user's", q->module);
	log_info("sig: module %s %s of %s removed by %s", mod->name, mod->version, mod->user, who->name);
	struct sig_module copy = *mod;
	uninstall(mod);
	tell(&copy, -ECANCELED, "removed");
	ms->c.removed++;
	*status = 0;
	snprintf(why, whylen, "removed");
	return 0;
}

void sig_modules_forget(struct sig_modules *ms, uint64_t id)
{
	for (size_t i = 0; i < ms->cap; i++) {
		struct sig_module *m = &ms->mods[i];
		for (size_t k = 0; k < m->n_waiters;)
			if (m->waiters[k] == id)
				m->waiters[k] = m->waiters[--m->n_waiters];
			else
				k++;
	}
}

/* ---- reports ---- */

struct report {
	struct sig_modules *ms;
	struct sig_module *mod;
	char buf[SIG_REPORT_DGRAM + 256];
	size_t len, entries;
	unsigned part;
};

/* Hex of b without its trailing zero octets (soft state is mostly zero). */
static void hex_trimmed(char *out, const uint8_t *b, size_t n)
{
	while (n > 0 && b[n - 1] == 0)
		n--;
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	out[2 * n] = '\0';
}

static void report_open(struct report *r)
{
	struct sig_module *m = r->mod;
	char a[64];
	r->len = (size_t)snprintf(r->buf, sizeof(r->buf),
				  "{\"node\":\"%s\",\"module\":\"%s\",\"version\":\"%s\",\"user\":\"%s\",\"seq\":%u,"
				  "\"part\":%u,\"entries\":[",
				  wire_addr_format(&r->ms->n->local, a, sizeof(a)), m->name, m->version, m->user,
				  m->seq, r->part);
	r->entries = 0;
}

static void report_send(struct report *r, bool last)
{
	struct node *n = r->ms->n;
	r->len +=
	    (size_t)snprintf(r->buf + r->len, sizeof(r->buf) - r->len, "],\"last\":%s}\n", last ? "true" : "false");
	struct pkt *p = pkt_get(n->pool);
	if (!p) {
		n->c.drop_no_buffer++;
		return;
	}
	memcpy(p->ctx.pkt, r->buf, r->len);
	p->len = (uint16_t)r->len;
	node_send_link(n, p, &r->mod->collector);
	r->ms->c.reports++;
	r->part++;
}

static void report_entry(void *arg, const struct an_key *key, const struct an_val *val)
{
	struct report *r = arg;
	char k[2 * sizeof(key->b) + 1], v[2 * sizeof(val->b) + 1];
	hex_trimmed(k, key->b, sizeof(key->b));
	hex_trimmed(v, val->b, sizeof(val->b));
	if (r->len + strlen(k) + strlen(v) + 32 > SIG_REPORT_DGRAM) {
		report_send(r, false);
		report_open(r);
	}
	r->len += (size_t)snprintf(r->buf + r->len, sizeof(r->buf) - r->len, "%s{\"key\":\"%s\",\"value\":\"%s\"}",
				   r->entries ? "," : "", k, v);
	r->entries++;
}

/* The module's soft state, most recently used first, at most
 * SIG_REPORT_ENTRIES entries, in datagrams of at most SIG_REPORT_DGRAM
 * octets (docs/signalling.md). */
static void report(struct sig_modules *ms, struct sig_module *mod)
{
	static struct report r;
	r = (struct report){.ms = ms, .mod = mod};
	mod->seq++;
	report_open(&r);
	ee_code_state_each(ms->n->ee, mod->hash, SIG_REPORT_ENTRIES, report_entry, &r);
	report_send(&r, true);
}

void sig_modules_tick(struct sig_modules *ms)
{
	uint64_t now = loop_now_ms();
	for (size_t i = 0; i < ms->cap; i++) {
		struct sig_module *m = &ms->mods[i];
		if (m->state != MOD_INSTALLED)
			continue;
		if (m->expires_ms <= now) {
			log_info("sig: module %s %s of %s: its lifetime ended", m->name, m->version, m->user);
			uninstall(m);
			ms->c.expired++;
		} else if (m->has_collector && m->next_report_ms <= now) {
			report(ms, m);
			m->next_report_ms = now + (uint64_t)m->report_s * 1000;
		}
	}
}
