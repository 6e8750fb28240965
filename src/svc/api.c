// SPDX-License-Identifier: MIT
/*
 * The service API, node side (svc_api.h). One struct svc_run per running
 * service process: its socket, its filters (matching-engine filters whose
 * handler hands each packet to the service and holds it until its
 * verdict), the packets it holds, its subscriptions. Filters and held
 * packets fail open: a packet a service does not answer in time, or cannot
 * take, goes on as it came.
 */
#include "svc/api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/seqpacket.h"
#include "link/match.h"
#include "mon/watch.h"
#include "svc/rewrite.h"
#include "svc/room_impl.h"
#include "wire/wire.h"

/* A token bucket: what is left, and when it was last filled. */
struct svc_tokens {
	double left;
	uint64_t at_ns;
};

/* Fill b for the time since it was last filled, at rate a second, up to
 * burst. */
static void tokens_fill(struct svc_tokens *b, uint64_t now, double rate, double burst)
{
	b->left += (double)(now - b->at_ns) * rate / 1e9;
	if (b->left > burst)
		b->left = burst;
	b->at_ns = now;
}

struct svc_filter {
	struct svc_run *run;
	struct match_filter mf; /* what it matches: checked again when the policy changes */
	unsigned match_id;
	uint32_t tag;
	bool in, ready;
};

struct svc_held {
	uint32_t id;
	struct match_pkt *p;
	uint64_t deadline_ns;
	struct match_filter mf; /* what caught it: a rewrite stays inside */
};

struct svc_sub {
	bool in;
	struct watch w;
};

struct svc_run {
	struct node *n;
	struct services *sv;
	struct svc_instance *in;
	const struct policy_principal *who;
	int fd;
	struct svc_filter *filters; /* who->quota.filters of them */
	size_t n_filters;
	struct svc_held held[SVC_API_HELD_MAX];
	size_t n_held;
	uint32_t next_packet_id;
	struct loop_timer *hold_t;
	bool heard;	/* the service has sent something: it runs */
	bool suspended; /* frozen: its filters let packets go on at once */
	/* Records other than verdicts for held packets (which its packets
	 * bound): SVC_API_RECORDS_RATE a second, past which the node stops
	 * reading the service for SVC_API_PAUSE_MS (backpressure). */
	struct svc_tokens tokens;
	struct loop_timer *pause_t;
	struct svc_sub subs[SVC_API_SUBS_MAX];
	struct svc_run *next;
};

/* A custom probe's last value, published by a service of user under key. */
struct svc_published {
	char name[2 * WIRE_SVC_NAME_MAX + 2]; /* USER.KEY */
	int64_t value;
};

struct svc_event {
	uint64_t seq, time;
	char text[WIRE_SAPI_TEXT_MAX + 64];
};

/* The node's share: every run, the counters, the recent events. */
/* A user's share of filter changes (SVC_API_FILTER_BURST/RATE). */
struct svc_share {
	char user[WIRE_SVC_NAME_MAX + 1];
	struct svc_tokens tokens;
};

struct svc_api_state {
	bool listening; /* to the monitors' presence changes (mon_listen) */
	struct svc_run *runs;
	struct svc_share shares[SVC_API_USERS_MAX];
	struct svc_api_counters c;
	struct svc_event events[SVC_API_EVENTS_KEPT];
	uint64_t next_seq;
	uint64_t last_start_us; /* activation accepted -> the service's first record */
	struct svc_published published[SVC_API_PUBLISHED_MAX];
	size_t n_published;
};

/* Made with the control module (svc_api_init): there whenever a service
 * can run. */
static struct svc_api_state *state(struct services *sv)
{
	return sv->api;
}

static void monitors_changed(void *arg, const char *resource);

int svc_api_init(struct services *sv)
{
	sv->api = calloc(1, sizeof(struct svc_api_state));
	return sv->api ? 0 : -ENOMEM;
}

void svc_api_done(struct services *sv)
{
	if (sv->api && sv->api->listening)
		mon_unlisten(sv->n->mon, monitors_changed, sv);
	free(sv->api);
	sv->api = NULL;
}

static int send_rec(struct svc_run *r, const struct wire_sapi *m)
{
	static uint8_t buf[WIRE_SAPI_MSG_MAX];
	ssize_t k = wire_sapi_build(buf, sizeof(buf), m);
	if (k < 0)
		return (int)k;
	if (send(r->fd, buf, (size_t)k, MSG_DONTWAIT | MSG_NOSIGNAL) != k)
		return -errno;
	return 0;
}

/* ---- held packets ---- */

static void release(struct svc_run *r, struct svc_held *h, enum match_verdict v, const void *data, size_t len)
{
	if (match_verdict(r->n->match, h->p, v, data, len) < 0)
		log_ratelimited_by(LOG_INFO, "no verdict for a held packet", r->in->user,
				   "svc: no verdict for a packet %s held", r->in->service);
	h->p = NULL;
	r->n_held--;
}

static void hold_check(void *arg)
{
	struct svc_run *r = arg;
	r->hold_t = NULL;
	uint64_t now = loop_now_ns();
	for (size_t i = 0; i < SVC_API_HELD_MAX; i++)
		if (r->held[i].p && r->held[i].deadline_ns <= now) {
			release(r, &r->held[i], MATCH_ACCEPT, NULL, 0);
			state(r->sv)->c.held_timeouts++;
		}
	if (r->n_held)
		r->hold_t = loop_timer_add(r->n->loop, SVC_API_HOLD_MS / 10, hold_check, r);
}

/* A packet one of the service's filters matched: to the service, held. */
static enum match_verdict filter_packet(void *arg, struct match_pkt *p)
{
	struct svc_filter *f = arg;
	struct svc_run *r = f->run;
	struct svc_api_state *st = state(r->sv);
	uint32_t id = r->next_packet_id++;
	struct svc_held *h = &r->held[id % SVC_API_HELD_MAX];
	/* A frozen service would answer nothing: the packet goes on now,
	 * not after the hold timeout. */
	if (r->suspended) {
		st->c.passed_suspended++;
		return MATCH_ACCEPT;
	}
	if (h->p) {
		st->c.held_overflows++;
		return MATCH_ACCEPT;
	}
	struct wire_sapi m = {
	    .type = WIRE_SAPI_PACKET, .handle = f->match_id, .packet_id = id, .data = p->data, .data_len = p->len};
	if (send_rec(r, &m) < 0) {
		st->c.send_failures++;
		return MATCH_ACCEPT;
	}
	st->c.packets++;
	h->id = id;
	h->p = p;
	h->mf = f->mf;
	h->deadline_ns = loop_now_ns() + SVC_API_HOLD_MS * 1000000ull;
	r->n_held++;
	if (!r->hold_t)
		r->hold_t = loop_timer_add(r->n->loop, SVC_API_HOLD_MS / 10, hold_check, r);
	return MATCH_HOLD;
}

void svc_api_suspend(struct svc_run *r, bool suspended)
{
	r->suspended = suspended;
	if (!suspended)
		return;
	for (size_t i = 0; i < SVC_API_HELD_MAX; i++)
		if (r->held[i].p) {
			release(r, &r->held[i], MATCH_ACCEPT, NULL, 0);
			state(r->sv)->c.passed_suspended++;
		}
}

/* A packet the service rewrote goes on only inside the filter that caught
 * it (svc/rewrite.h), with its lengths and checksums put right by the
 * node; else it is dropped, counted, and the service is told why (an
 * EVENT of handle 0: the node about the service itself). */
static void on_rewrite(struct svc_run *r, struct svc_held *h, const struct wire_sapi *m)
{
	struct svc_api_state *st = state(r->sv);
	static uint8_t pkt[WIRE_SAPI_MSG_MAX];
	char why[128];
	if (m->data_len > sizeof(pkt) || m->data_len > h->p->cap) {
		snprintf(why, sizeof(why), "longer than the packet's room (%zu octets)", h->p->cap);
	} else if (svc_rewrite_allowed(&h->mf, h->p->data, h->p->len, m->data, m->data_len, why, sizeof(why))) {
		memcpy(pkt, m->data, m->data_len);
		wire_ipv4_fix_checksums(pkt, m->data_len);
		st->c.modified++;
		return release(r, h, MATCH_MODIFIED, pkt, m->data_len);
	}
	st->c.refused_policy++;
	log_ratelimited_by(LOG_NOTICE, "rewrite outside the filter", r->in->user,
			   "svc: %s of %s: rewritten packet dropped: %s", r->in->service, r->in->user, why);
	char text[200];
	int k = snprintf(text, sizeof(text), "verdict refused packet=%u why=%s", h->id, why);
	release(r, h, MATCH_DROP, NULL, 0);
	struct wire_sapi ev = {
	    .type = WIRE_SAPI_EVENT, .handle = 0, .data = (const uint8_t *)text, .data_len = k > 0 ? (size_t)k : 0};
	send_rec(r, &ev);
}

/* true when the verdict was for a packet the service holds. */
static bool on_verdict(struct svc_run *r, const struct wire_sapi *m)
{
	struct svc_api_state *st = state(r->sv);
	struct svc_held *h = &r->held[m->packet_id % SVC_API_HELD_MAX];
	if (!h->p || h->id != m->packet_id) {
		st->c.bad_verdicts++;
		return false;
	}
	st->c.verdicts++;
	if (m->verdict == WIRE_SAPI_MODIFIED)
		on_rewrite(r, h, m);
	else
		release(r, h, m->verdict == WIRE_SAPI_DROP ? MATCH_DROP : MATCH_ACCEPT, NULL, 0);
	return true;
}

/* ---- filters ---- */

static void filter_ready(void *arg, unsigned id, int err)
{
	struct svc_filter *f = arg;
	struct svc_run *r = f->run;
	struct wire_sapi m = {.type = WIRE_SAPI_FILTER_RESULT, .tag = f->tag, .handle = id, .status = err};
	if (err < 0) {
		state(r->sv)->c.filters_refused++;
		f->in = false;
	} else {
		f->ready = true;
		state(r->sv)->c.filters_installed++;
		log_info("svc: %s of %s: filter %u installed", r->in->service, r->in->user, id);
	}
	send_rec(r, &m);
}

static void refuse_filter(struct svc_run *r, uint32_t tag, int err, const char *why)
{
	state(r->sv)->c.filters_refused++;
	log_ratelimited_by(LOG_NOTICE, why, r->in->user, "svc: %s of %s: filter refused: %s", r->in->service,
			   r->in->user, why);
	struct wire_sapi m = {.type = WIRE_SAPI_FILTER_RESULT, .tag = tag, .status = err};
	send_rec(r, &m);
}

/* Inside the user's grants: the prefix it names (destination, else
 * source), its protocol and its destination ports. */
static bool filter_granted(const struct policy_principal *who, const struct match_filter *f)
{
	bool by_dst = f->dst_prefix > 0;
	if (who->admin)
		return true;
	return (f->dst_prefix || f->src_prefix) &&
	       policy_may_filter(who, by_dst ? f->dst : f->src, by_dst ? f->dst_prefix : f->src_prefix, f->proto,
				 f->dport_lo, f->dport_hi ? f->dport_hi : f->dport_lo);
}

/* Take one filter change from user's share: false when none is left
 * (must: take it anyway, the share going into debt, for removals). */
static bool share_take(struct svc_api_state *st, const char *user, bool must)
{
	uint64_t now = loop_now_ns();
	struct svc_share *sh = NULL, *old = &st->shares[0];
	for (size_t i = 0; i < SVC_API_USERS_MAX && !sh; i++) {
		if (!strcmp(st->shares[i].user, user))
			sh = &st->shares[i];
		else if (st->shares[i].tokens.at_ns < old->tokens.at_ns)
			old = &st->shares[i];
	}
	if (!sh) {
		sh = old;
		snprintf(sh->user, sizeof(sh->user), "%s", user);
		sh->tokens = (struct svc_tokens){.left = SVC_API_FILTER_BURST, .at_ns = now};
	}
	tokens_fill(&sh->tokens, now, SVC_API_FILTER_RATE, SVC_API_FILTER_BURST);
	if (sh->tokens.left < 1 && !must)
		return false;
	if (sh->tokens.left > -SVC_API_FILTER_BURST)
		sh->tokens.left -= 1;
	return true;
}

static void on_filter_add(struct svc_run *r, const struct wire_sapi *m)
{
	const struct wire_priv_filter *wf = &m->filter;
	struct match_filter f = {.src = wf->src,
				 .dst = wf->dst,
				 .src_prefix = wf->src_prefix,
				 .dst_prefix = wf->dst_prefix,
				 .proto = wf->proto,
				 .sport_lo = wf->sport_lo,
				 .sport_hi = wf->sport_hi,
				 .dport_lo = wf->dport_lo,
				 .dport_hi = wf->dport_hi};
	if (!r->n->match)
		return refuse_filter(r, m->tag, -EOPNOTSUPP, "not a router node");
	if (match_filter_check(&f) < 0)
		return refuse_filter(r, m->tag, -EINVAL, "malformed filter");
	if (!filter_granted(r->who, &f))
		return refuse_filter(r, m->tag, -EPERM, "outside the user's grants");
	size_t slot = r->n_filters;
	for (size_t i = 0; i < r->n_filters; i++)
		if (!r->filters[i].in) {
			slot = i;
			break;
		}
	if (slot == r->n_filters)
		return refuse_filter(r, m->tag, -EDQUOT, "over the user's quota of filters");
	if (!share_take(state(r->sv), r->in->user, false)) {
		state(r->sv)->c.filters_busy++;
		return refuse_filter(
		    r, m->tag, -EAGAIN,
		    "over the user's share of filter changes (" SVC_STR(SVC_API_FILTER_RATE) " a second)");
	}
	struct svc_filter *sf = &r->filters[slot];
	*sf = (struct svc_filter){.run = r, .mf = f, .tag = m->tag, .in = true};
	int e = match_install(r->n->match, &f, filter_packet, filter_ready, sf, &sf->match_id);
	if (e < 0) {
		sf->in = false;
		return refuse_filter(r, m->tag, e, "the node could not install it");
	}
}

static void filter_remove(struct svc_run *r, struct svc_filter *f)
{
	/* Its held packets go on first: the engine answers for them anyway,
	 * but not before the service would. */
	for (size_t i = 0; i < SVC_API_HELD_MAX; i++)
		if (r->held[i].p && r->held[i].p->queue == (uint16_t)(r->n->cfg.queue + f->match_id))
			release(r, &r->held[i], MATCH_ACCEPT, NULL, 0);
	/* A pending filter too: the engine drops it when its answer comes. */
	match_remove(r->n->match, f->match_id);
	f->in = false;
	f->ready = false;
	log_info("svc: %s of %s: filter %u removed", r->in->service, r->in->user, f->match_id);
}

static void on_filter_del(struct svc_run *r, const struct wire_sapi *m)
{
	for (size_t i = 0; i < r->n_filters; i++)
		if (r->filters[i].in && r->filters[i].match_id == m->handle) {
			share_take(state(r->sv), r->in->user, true);
			filter_remove(r, &r->filters[i]);
			return;
		}
	state(r->sv)->c.bad_records++;
}

/* ---- subscriptions and events ---- */

static void event_log(struct services *sv, const char *text)
{
	struct svc_api_state *st = state(sv);
	struct svc_event *e = &st->events[st->next_seq % SVC_API_EVENTS_KEPT];
	e->seq = ++st->next_seq;
	e->time = (uint64_t)time(NULL);
	snprintf(e->text, sizeof(e->text), "%s", text);
}

static void on_subscribe(struct svc_run *r, const struct wire_sapi *m)
{
	struct svc_api_state *st = state(r->sv);
	char text[WIRE_SAPI_TEXT_MAX + 1], err[200];
	memcpy(text, m->data, m->data_len);
	text[m->data_len] = 0;
	struct watch_spec spec;
	struct wire_sapi res = {.type = WIRE_SAPI_SUB_RESULT, .tag = m->tag};
	size_t slot = SVC_API_SUBS_MAX;
	for (size_t i = 0; i < SVC_API_SUBS_MAX; i++)
		if (!r->subs[i].in) {
			slot = i;
			break;
		}
	if (watch_spec_parse(text, &spec, err, sizeof(err)) < 0 || slot == SVC_API_SUBS_MAX) {
		st->c.subscriptions_refused++;
		log_ratelimited_by(LOG_NOTICE, "subscription refused", r->in->user,
				   "svc: %s of %s: subscription refused: %s", r->in->service, r->in->user,
				   slot == SVC_API_SUBS_MAX ? "too many" : err);
		res.status = slot == SVC_API_SUBS_MAX ? -ENOSPC : -EINVAL;
		send_rec(r, &res);
		return;
	}
	watch_init(&r->subs[slot].w, &spec);
	r->subs[slot].in = true;
	st->c.subscriptions++;
	res.handle = (uint32_t)slot + 1;
	send_rec(r, &res);
}

static void on_unsubscribe(struct svc_run *r, const struct wire_sapi *m)
{
	if (m->handle >= 1 && m->handle <= SVC_API_SUBS_MAX && r->subs[m->handle - 1].in)
		r->subs[m->handle - 1].in = false;
	else
		state(r->sv)->c.bad_records++;
}

static int custom_value(void *arg, const char *name, int64_t *ret);

/* Sample the subscriptions, those to resource only when it is not NULL. */
static void sample(struct services *sv, const char *resource)
{
	if (!sv->api)
		return;
	uint64_t now = loop_now_ns();
	struct watch_env env = {
	    .mon = sv->n->mon, .presence = mon_presence(sv->n->mon), .custom = custom_value, .arg = state(sv)};
	for (struct svc_run *r = state(sv)->runs; r; r = r->next)
		for (size_t i = 0; i < SVC_API_SUBS_MAX; i++) {
			struct svc_sub *s = &r->subs[i];
			int prev;
			if (!s->in || (resource && strcmp(s->w.spec.resource, resource) != 0) ||
			    watch_sample(&s->w, &env, now, &prev) != 1)
				continue;
			char text[256]; /* names of at most 23 octets and one number */
			int k = snprintf(text, sizeof(text), "resource=%s%s%s%s%s state=%s previous=%s value=%lld",
					 s->w.spec.resource, s->w.spec.dev[0] ? " dev=" : "", s->w.spec.dev,
					 s->w.spec.name[0] ? " name=" : "", s->w.spec.name,
					 watch_state_name(&s->w, s->w.state), watch_state_name(&s->w, prev),
					 (long long)s->w.value);
			if (k < 0 || (size_t)k >= sizeof(text))
				k = (int)strlen(text);
			struct wire_sapi m = {.type = WIRE_SAPI_EVENT,
					      .handle = (uint32_t)i + 1,
					      .data = (const uint8_t *)text,
					      .data_len = (size_t)k};
			char logged[WIRE_SAPI_TEXT_MAX + 64];
			snprintf(logged, sizeof(logged), "service=%s user=%s %s", r->in->service, r->in->user, text);
			event_log(sv, logged);
			if (send_rec(r, &m) == 0)
				state(sv)->c.events++;
		}
}

void svc_api_tick(struct services *sv)
{
	/* The monitors start after the rooms: heard from their first tick. */
	if (sv->api && !sv->api->listening && sv->n->mon)
		sv->api->listening = mon_listen(sv->n->mon, monitors_changed, sv) == 0;
	sample(sv, NULL);
}

/* A resource changed between periods (mon_listen: a host came or went,
 * an interface's shaping changed): its subscribers hear it now, not up to
 * a period later. */
static void monitors_changed(void *arg, const char *resource)
{
	sample(arg, resource);
}

void svc_api_events_print(struct services *sv, uint64_t after, bool json, struct ctl_out *o)
{
	struct svc_api_state *st = state(sv);
	uint64_t first = st->next_seq > SVC_API_EVENTS_KEPT ? st->next_seq - SVC_API_EVENTS_KEPT + 1 : 1;
	for (uint64_t s = first > after + 1 ? first : after + 1; s <= st->next_seq; s++) {
		const struct svc_event *e = &st->events[(s - 1) % SVC_API_EVENTS_KEPT];
		if (json) {
			ctl_printf(o, "{\"seq\":%llu,\"time\":%llu,\"event\":", (unsigned long long)e->seq,
				   (unsigned long long)e->time);
			ctl_json_string(o, e->text);
			ctl_printf(o, "}\n");
		} else {
			/* For people: the time in UTC, as the node's log has it. */
			struct tm tm;
			time_t t = (time_t)e->time;
			char when[32] = "?";
			if (gmtime_r(&t, &tm))
				strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			ctl_printf(o, "%llu %s %s\n", (unsigned long long)e->seq, when, e->text);
		}
	}
}

/* PUBLISH "KEY VALUE": under USER.KEY, for subscribers of custom. */
static void on_publish(struct svc_run *r, const struct wire_sapi *m)
{
	struct svc_api_state *st = state(r->sv);
	char text[80], key[WIRE_SVC_NAME_MAX + 1];
	snprintf(text, sizeof(text), "%.*s", (int)m->data_len, (const char *)m->data);
	char *sp = strchr(text, ' '), *end;
	long long v = sp ? strtoll(sp + 1, &end, 10) : 0;
	size_t klen = sp ? (size_t)(sp - text) : 0;
	bool ok = sp && klen && klen <= WATCH_NAME_MAX && end != sp + 1 && !*end;
	for (size_t i = 0; ok && i < klen; i++)
		ok = (text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
		     (text[i] >= '0' && text[i] <= '9') || text[i] == '_' || text[i] == '-';
	if (!ok) {
		st->c.publish_refused++;
		return;
	}
	memcpy(key, text, klen);
	key[klen] = 0;
	svc_api_publish(r->sv, r->in->user, key, v);
}

bool svc_api_publish(struct services *sv, const char *user, const char *key, int64_t value)
{
	struct svc_api_state *st = state(sv);
	char name[sizeof(st->published[0].name)];
	snprintf(name, sizeof(name), "%s.%s", user, key);
	for (size_t i = 0; i < st->n_published; i++)
		if (!strcmp(st->published[i].name, name)) {
			st->published[i].value = value;
			st->c.published++;
			return true;
		}
	if (st->n_published == SVC_API_PUBLISHED_MAX) {
		st->c.publish_refused++;
		return false;
	}
	snprintf(st->published[st->n_published].name, sizeof(st->published[0].name), "%s", name);
	st->published[st->n_published++].value = value;
	st->c.published++;
	return true;
}

static int custom_value(void *arg, const char *name, int64_t *ret)
{
	struct svc_api_state *st = arg;
	for (size_t i = 0; i < st->n_published; i++)
		if (!strcmp(st->published[i].name, name)) {
			*ret = st->published[i].value;
			return 0;
		}
	return -ENOENT;
}

/* ---- records from the service ---- */

static void run_readable(void *arg, int fd, uint32_t events);

static void pause_end(void *arg)
{
	struct svc_run *r = arg;
	r->pause_t = NULL;
	loop_fd_mod(r->n->loop, r->fd, EPOLLIN);
}

/* One record that is not a verdict for a held packet: false when the
 * service has used its share, and is not read for a while. */
static bool record_charge(struct svc_run *r)
{
	tokens_fill(&r->tokens, loop_now_ns(), SVC_API_RECORDS_RATE, SVC_API_RECORDS_RATE);
	if (--r->tokens.left >= 0)
		return true;
	r->pause_t = loop_timer_add(r->n->loop, SVC_API_PAUSE_MS, pause_end, r);
	if (!r->pause_t)
		return true; /* no memory for the timer: read on rather than never */
	loop_fd_mod(r->n->loop, r->fd, 0);
	state(r->sv)->c.records_paused++;
	log_ratelimited_by(LOG_NOTICE, "service paused: too many records", r->in->user,
			   "svc: %s of %s: over %d records a second that are not verdicts: not read for %d ms",
			   r->in->service, r->in->user, SVC_API_RECORDS_RATE, SVC_API_PAUSE_MS);
	return false;
}

static void run_readable(void *arg, int fd, uint32_t events)
{
	struct svc_run *r = arg;
	static uint8_t buf[WIRE_SAPI_MSG_MAX + 1];
	if (r->pause_t)
		return; /* a hang-up while paused: heard when it ends */
	/* A few records per round, and none past the round's slice: a
	 * service cannot hold the loop (its socket wakes the next round). */
	for (int i = 0; i < 64 && !loop_slice_spent(r->n->loop); i++) {
		ssize_t k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		/* Nothing read is either a record of no octets (malformed:
		 * counted, and the service is still heard) or its end of the
		 * socket closed, which only the hang-up tells apart. */
		if (k == 0 && !seqpacket_peer_gone(fd)) {
			state(r->sv)->c.bad_records++;
			if (!record_charge(r))
				return;
			continue;
		}
		if (k == 0) {
			loop_fd_del(r->n->loop, fd); /* it closed its end; the parent says when it ends */
			return;
		}
		if (k < 0)
			return;
		if (!r->heard) {
			/* Its first word: from the user's request to a program
			 * running in its sandbox, this long. */
			r->heard = true;
			uint64_t us = (loop_now_ns() - r->in->requested_ns) / 1000;
			state(r->sv)->last_start_us = us;
			log_info("svc: %s of %s runs in its sandbox %llu us after its activation", r->in->service,
				 r->in->user, (unsigned long long)us);
		}
		struct wire_sapi m;
		if ((size_t)k > WIRE_SAPI_MSG_MAX || wire_sapi_parse(buf, (size_t)k, &m) < 0) {
			state(r->sv)->c.bad_records++;
			if (!record_charge(r))
				return;
			continue;
		}
		if (m.type == WIRE_SAPI_VERDICT && on_verdict(r, &m))
			continue;
		if (!record_charge(r) && m.type == WIRE_SAPI_VERDICT)
			return;
		switch (m.type) {
		case WIRE_SAPI_FILTER_ADD:
			on_filter_add(r, &m);
			break;
		case WIRE_SAPI_FILTER_DEL:
			on_filter_del(r, &m);
			break;
		case WIRE_SAPI_VERDICT:
			break; /* for no packet held: counted */
		case WIRE_SAPI_SUBSCRIBE:
			on_subscribe(r, &m);
			break;
		case WIRE_SAPI_UNSUBSCRIBE:
			on_unsubscribe(r, &m);
			break;
		case WIRE_SAPI_PUBLISH:
			on_publish(r, &m);
			break;
		default: /* what only the node sends */
			state(r->sv)->c.bad_records++;
		}
		if (r->pause_t)
			return;
	}
}

struct svc_run *svc_api_open(struct services *sv, struct svc_instance *in, const struct policy_principal *who, int fd)
{
	struct node *n = sv->n;
	struct svc_api_state *st = state(sv);
	struct svc_run *r = st ? calloc(1, sizeof(*r)) : NULL;
	size_t nf = who->admin ? POLICY_GRANTS_MAX : who->quota.filters;
	if (r)
		r->filters = calloc(nf ? nf : 1, sizeof(*r->filters));
	if (!r || !r->filters || loop_fd_add(n->loop, fd, EPOLLIN, run_readable, r) < 0) {
		if (r)
			free(r->filters);
		free(r);
		close(fd);
		return NULL;
	}
	r->n = n;
	r->sv = sv;
	r->in = in;
	r->who = who;
	r->fd = fd;
	r->n_filters = nf;
	r->next = st->runs;
	st->runs = r;
	return r;
}

void svc_api_close(struct svc_run *r)
{
	if (!r)
		return;
	struct node *n = r->n;
	for (size_t i = 0; i < r->n_filters; i++)
		if (r->filters[i].in)
			filter_remove(r, &r->filters[i]);
	for (size_t i = 0; i < SVC_API_HELD_MAX; i++)
		if (r->held[i].p)
			release(r, &r->held[i], MATCH_ACCEPT, NULL, 0);
	if (r->hold_t)
		loop_timer_cancel(n->loop, r->hold_t);
	if (r->pause_t)
		loop_timer_cancel(n->loop, r->pause_t);
	loop_fd_del(n->loop, r->fd);
	close(r->fd);
	for (struct svc_run **pp = &state(r->sv)->runs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	free(r->filters);
	free(r);
}

void svc_api_rebind(struct services *sv)
{
	if (!sv->api)
		return;
	for (struct svc_run *r = state(sv)->runs; r; r = r->next) {
		const struct policy_principal *who = policy_principal(svc_policy(sv->svc), r->in->user);
		if (!who) /* svc_reload stopped the others */
			continue;
		r->who = who;
		/* A narrower grant takes the filters outside it away at once;
		 * the service hears it as a refusal of that filter. */
		for (size_t i = 0; i < r->n_filters; i++) {
			struct svc_filter *f = &r->filters[i];
			if (!f->in || filter_granted(who, &f->mf))
				continue;
			unsigned id = f->match_id;
			filter_remove(r, f);
			state(sv)->c.filters_revoked++;
			log_warn("svc: %s of %s: filter %u removed: the reloaded policy no longer grants it",
				 r->in->service, r->in->user, id);
			struct wire_sapi m = {
			    .type = WIRE_SAPI_FILTER_RESULT, .tag = f->tag, .handle = id, .status = -EPERM};
			send_rec(r, &m);
		}
	}
}

int svc_api_params(struct svc_run *r, const char *params)
{
	struct wire_sapi m = {.type = WIRE_SAPI_PARAMS, .data = (const uint8_t *)params, .data_len = strlen(params)};
	return send_rec(r, &m);
}

void svc_api_stats(struct services *sv, struct stat_section *sec)
{
	STAT_ADD_ALL(sec, &state(sv)->c, SVC_API_COUNTERS);
	stat_add(sec, "last_start_us",
		 "the last activation: from the request accepted to the service's first record, in us",
		 state(sv)->last_start_us);
}
