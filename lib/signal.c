// SPDX-License-Identifier: MIT
/*
 * On-path signalling for requesters (anode/signal.h). The request is
 * built and signed once (src/wire/sig.c) and the same octets are sent
 * again on every retry, so a node that took it already sees a
 * retransmission (the same nonce and signature) and not a replay. The
 * socket is unconnected: the response comes from the first anode node on
 * the path, whichever that is, not from the address the request went to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "anode/node.h"
#include "anode/signal.h"
#include "wire/sig.h"
#include "wire/wire.h"

const char *an_sig_kind_name(enum an_sig_kind k)
{
	switch (k) {
	case AN_SIG_SETUP:
		return "SETUP";
	case AN_SIG_REMOVE:
		return "REMOVE";
	case AN_SIG_PROBE:
		return "PROBE";
	}
	return "?";
}

static uint64_t now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}

static int copy_name(char *dst, size_t cap, const char *src)
{
	if (!src)
		return 0;
	if (strlen(src) >= cap)
		return -EINVAL;
	strcpy(dst, src);
	return 0;
}

/* The wire request s describes, for origin. */
static int request_of(const struct an_sig_spec *s, const struct an_addr *origin, uint64_t id,
		      struct wire_sig_request *q)
{
	memset(q, 0, sizeof(*q));
	q->kind = (uint8_t)s->kind;
	q->id = id;
	q->time = s->time ? s->time : (uint64_t)time(NULL);
	if (s->nonce)
		memcpy(q->nonce, s->nonce, sizeof(q->nonce));
	else
		randombytes_buf(q->nonce, sizeof(q->nonce));
	q->origin = *origin;
	if (copy_name(q->user, sizeof(q->user), s->user) < 0 ||
	    copy_name(q->module, sizeof(q->module), s->module) < 0 ||
	    copy_name(q->version, sizeof(q->version), s->version) < 0 || copy_name(q->url, sizeof(q->url), s->url) < 0)
		return -EINVAL;
	if (s->kind == AN_SIG_SETUP) {
		memcpy(q->hash, s->hash, sizeof(q->hash));
		q->size = s->size;
		q->mod_kind = s->module_kind;
		q->lifetime = s->lifetime_s;
	}
	if (s->n_filters > AN_SIG_FILTERS_MAX || s->n_props > AN_SIG_PROPS_MAX || s->n_deps > AN_SIG_DEPS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < s->n_filters; i++) {
		const struct an_sig_filter *f = &s->filters[i];
		struct wire_sig_filter *w = &q->filters[i];
		w->proto = f->proto;
		memcpy(w->src, f->src, 16);
		memcpy(w->dst, f->dst, 16);
		w->src_len = f->src_len;
		w->dst_len = f->dst_len;
		w->sport_lo = f->sport_lo;
		w->sport_hi = f->sport_hi;
		w->dport_lo = f->dport_lo;
		w->dport_hi = f->dport_hi;
	}
	q->n_filters = s->n_filters;
	for (size_t i = 0; i < s->n_props; i++) {
		const char *eq = strchr(s->props[i], '=');
		size_t kl = eq ? (size_t)(eq - s->props[i]) : 0;
		if (!eq || kl == 0 || kl > WIRE_SIG_KEY_MAX || strlen(eq + 1) > WIRE_SIG_VALUE_MAX)
			return -EINVAL;
		memcpy(q->props[i].key, s->props[i], kl);
		strcpy(q->props[i].value, eq + 1);
	}
	q->n_props = s->n_props;
	for (size_t i = 0; i < s->n_deps; i++)
		if (copy_name(q->deps[i], sizeof(q->deps[i]), s->deps[i]) < 0)
			return -EINVAL;
	q->n_deps = s->n_deps;
	return 0;
}

static socklen_t sockaddr_of(const struct an_addr *a, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (an_ip_is_v4(a->ip)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = a->port;
		memcpy(&sin->sin_addr, a->ip + 12, 4);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = a->port;
	memcpy(&sin6->sin6_addr, a->ip, 16);
	return sizeof(*sin6);
}

static void addr_of(const struct sockaddr_storage *ss, struct an_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		a->ip[10] = a->ip[11] = 0xff;
		memcpy(a->ip + 12, &sin->sin_addr, 4);
		a->port = sin->sin_port;
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		memcpy(a->ip, &sin6->sin6_addr, 16);
		a->port = sin6->sin6_port;
	}
}

/* A socket of the family of `to`, bound to a port of its own, and the
 * address the nodes will see it by (the one the kernel picks toward
 * `to`). */
static int open_socket(const struct an_addr *to, bool router_alert, struct an_addr *ret_origin)
{
	struct sockaddr_storage ss;
	socklen_t sl = sockaddr_of(to, &ss);
	/* A connected socket of its own says which source address the kernel
	 * picks toward `to`; the socket used is bound to that address and
	 * left unconnected, so that responses from any node are received
	 * (disconnecting would give up a port the kernel chose). */
	struct sockaddr_storage me;
	socklen_t ml = sizeof(me);
	int probe = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -errno;
	int r = connect(probe, (struct sockaddr *)&ss, sl) < 0 || getsockname(probe, (struct sockaddr *)&me, &ml) < 0
		    ? -errno
		    : 0;
	close(probe);
	if (r < 0)
		return r;
	if (me.ss_family == AF_INET)
		((struct sockaddr_in *)&me)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&me)->sin6_port = 0;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&me, ml) < 0 || getsockname(fd, (struct sockaddr *)&me, &ml) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	addr_of(&me, ret_origin);
	if (router_alert && ss.ss_family == AF_INET) {
		/* RFC 2113: type 148, length 4, value 0 ("examine packet"). */
		static const uint8_t ra[4] = {0x94, 0x04, 0, 0};
		if (setsockopt(fd, IPPROTO_IP, IP_OPTIONS, ra, sizeof(ra)) < 0) {
			int e = -errno;
			close(fd);
			return e;
		}
	}
	return fd;
}

static void entry_out(const struct wire_sig_entry *w, struct an_sig_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->address = w->address;
	e->has_caps = w->has_caps;
	e->has_load = w->has_load;
	e->has_result = w->has_result;
	e->ee_kinds = w->ee_kinds;
	e->sandbox_kinds = w->sandbox_kinds;
	e->free_modules = w->free_modules;
	e->free_memory_kb = w->free_memory_kb;
	e->load_milli = w->load_milli;
	e->status = w->status;
	snprintf(e->why, sizeof(e->why), "%s", w->why);
	for (size_t i = 0; i < w->n_installed && i < AN_SIG_INSTALLED_MAX; i++) {
		e->installed[i].remaining_s = w->installed[i].remaining_s;
		snprintf(e->installed[i].name, sizeof(e->installed[i].name), "%s", w->installed[i].name);
		snprintf(e->installed[i].version, sizeof(e->installed[i].version), "%s", w->installed[i].version);
	}
	e->n_installed = w->n_installed < AN_SIG_INSTALLED_MAX ? w->n_installed : AN_SIG_INSTALLED_MAX;
}

/* A datagram that came: 1 when it is the response to id (ret filled), 0
 * for anything else (a HERE noted in ret). */
static int take(const uint8_t *buf, size_t n, uint64_t id, const struct an_addr *from, struct an_sig_answer *ret)
{
	/* Also the TRIGGER's own id, in reverse mode (0 otherwise). */
	uint64_t outer = ret->trigger_id;
	static struct wire_sig_response resp;
	struct wire_anep a;
	uint8_t kind;
	uint64_t mid;
	if (wire_anep_parse(buf, n, &a) < 0 || a.type_id != WIRE_TYPE_SIGNAL || a.pkt_len > n)
		return 0;
	const uint8_t *msg = buf + a.hdr_len;
	size_t len = (size_t)(a.pkt_len - a.hdr_len);
	if (wire_sig_peek(msg, len, &kind, &mid) < 0 || (mid != id && (!outer || mid != outer)))
		return 0;
	if (outer && mid == outer && kind == WIRE_SIG_RESPONSE && wire_sig_response_parse(msg, len, &resp) == 0) {
		ret->n_forward = resp.n_entries;
		for (size_t i = 0; i < resp.n_entries && i < AN_SIG_ENTRIES_MAX; i++)
			ret->forward[i] = resp.entries[i].address;
		return 0;
	}
	if (kind == WIRE_SIG_HERE) {
		if (!ret->heard)
			ret->here_from = *from;
		ret->heard = true;
		return 0;
	}
	if (kind != WIRE_SIG_RESPONSE || wire_sig_response_parse(msg, len, &resp) < 0)
		return 0;
	ret->truncated = (resp.flags & WIRE_SIG_F_TRUNCATED) != 0;
	ret->n_entries = resp.n_entries;
	for (size_t i = 0; i < resp.n_entries && i < AN_SIG_ENTRIES_MAX; i++)
		entry_out(&resp.entries[i], &ret->entries[i]);
	return 1;
}

int an_sig_request(const struct an_sig_spec *s, struct an_sig_answer *ret)
{
	if (sodium_init() < 0)
		return -ENOSYS;
	memset(ret, 0, sizeof(*ret));
	if (!s->user || !s->secret_key || (s->kind != AN_SIG_PROBE && !s->module))
		return -EINVAL;
	static const struct an_addr none;
	const struct an_addr *first = an_addr_eq(&s->via, &none) ? &s->dest : &s->via;
	struct an_addr origin;
	int fd = open_socket(first, s->router_alert, &origin);
	if (fd < 0)
		return fd;
	static struct wire_sig_request q;
	uint64_t id;
	randombytes_buf(&id, sizeof(id));
	ret->id = id;
	static uint8_t pkt[WIRE_SIG_MSG_MAX + 256], rx[AN_PKT_MAX];
	int rc = request_of(s, &origin, id, &q);
	struct wire_anep_spec spec = {.type_id = WIRE_TYPE_SIGNAL,
				      .hop_limit = s->hop_limit,
				      .src = &origin,
				      .dst = &s->dest,
				      .prev_hop = &origin};
	size_t hl = wire_anep_hdr_len(&spec);
	ssize_t ml = rc < 0 ? rc : wire_sig_build(pkt + hl, sizeof(pkt) - hl, &q, s->secret_key);
	if (ml > 0 && s->reverse) {
		/* The request signed above, enclosed in a TRIGGER of its own
		 * id and nonce, signed too. */
		static uint8_t inner[WIRE_SIG_MSG_MAX];
		memcpy(inner, pkt + hl, (size_t)ml);
		static struct wire_sig_request t;
		memset(&t, 0, sizeof(t));
		t.kind = WIRE_SIG_TRIGGER;
		randombytes_buf(&t.id, sizeof(t.id));
		t.time = q.time;
		randombytes_buf(t.nonce, sizeof(t.nonce));
		memcpy(t.user, q.user, sizeof(t.user));
		t.origin = origin;
		t.inner = inner;
		t.inner_len = (size_t)ml;
		ret->trigger_id = t.id;
		ml = wire_sig_build(pkt + hl, sizeof(pkt) - hl, &t, s->secret_key);
	}
	if (ml < 0 || wire_anep_build(pkt, sizeof(pkt), &spec, (size_t)ml, &hl) < 0) {
		close(fd);
		return ml < 0 ? (int)ml : -EMSGSIZE;
	}
	struct sockaddr_storage to;
	socklen_t tl = sockaddr_of(first, &to);
	uint64_t start = now_us(), total = (uint64_t)(s->timeout_ms ? s->timeout_ms : 10000) * 1000u;
	uint64_t rto = (uint64_t)(s->first_rto_ms ? s->first_rto_ms : 500) * 1000u, next_send = start;
	rc = -ETIMEDOUT;
	for (;;) {
		uint64_t now = now_us();
		if (now - start >= total)
			break;
		if (now >= next_send) {
			if (sendto(fd, pkt, hl + (size_t)ml, 0, (struct sockaddr *)&to, tl) < 0 &&
			    errno != ECONNREFUSED) {
				rc = -errno;
				break;
			}
			ret->attempts++;
			next_send = now + rto;
			rto *= 2;
		}
		uint64_t until = next_send < start + total ? next_send : start + total;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int w = poll(&p, 1, (int)((until - now + 999) / 1000));
		if (w < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		if (w <= 0)
			continue;
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, rx, sizeof(rx), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue; /* an ICMP error for an earlier send, or nothing */
		struct an_addr fa;
		addr_of(&from, &fa);
		if (take(rx, (size_t)n, id, &fa, ret) == 1) {
			ret->rtt_us = now_us() - start;
			rc = 0;
			break;
		}
	}
	close(fd);
	return rc;
}
