// SPDX-License-Identifier: MIT
/*
 * Subscriptions to monitored resources (watch.h): parsing a spec, reading
 * a resource's value, and telling when it changes state.
 */
#include "mon/watch.h"

#include "mon/presence.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *const figure_names[] = {
#define MON_NAME(name, help) #name,
    MON_FIGURES(MON_NAME)
#undef MON_NAME
};

static int figure_of(const char *name)
{
	for (int i = 0; i < MON_N; i++)
		if (!strcmp(figure_names[i], name))
			return i;
	return -1;
}

static bool custom_resource(const char *r)
{
	return !strcmp(r, "custom");
}

static bool host_resource(const char *r)
{
	return !strcmp(r, "host_up");
}

static bool capacity_resource(const char *r)
{
	return !strcmp(r, "iface_capacity_bps");
}

static bool iface_resource(const char *r)
{
	return !strcmp(r, "iface_rx_bps") || !strcmp(r, "iface_tx_bps") || capacity_resource(r);
}

static bool word_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && !strchr(extra, s[i]))
			return false;
	return true;
}

static int parse_i64(const char *s, int64_t *ret)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int watch_spec_parse(const char *text, struct watch_spec *ret, char *err, size_t errlen)
{
	struct watch_spec s = {0};
	char buf[512];
	if (strlen(text) >= sizeof(buf)) {
		snprintf(err, errlen, "spec longer than %zu", sizeof(buf) - 1);
		return -EINVAL;
	}
	strcpy(buf, text);
	char *save = NULL, *w = strtok_r(buf, " ", &save);
	if (!w || !word_ok(w, WATCH_NAME_MAX, "") ||
	    (figure_of(w) < 0 && !iface_resource(w) && !host_resource(w) && !custom_resource(w))) {
		snprintf(err, errlen,
			 "unknown resource '%.40s' (a node figure such as load_milli or link_used_bps, "
			 "iface_rx_bps / iface_tx_bps / iface_capacity_bps with dev=NAME, host_up with host=A.B.C.D, "
			 "or custom with name=USER.KEY)",
			 w ? w : "");
		return -EINVAL;
	}
	strcpy(s.resource, w);
	while ((w = strtok_r(NULL, " ", &save))) {
		char *eq = strchr(w, '=');
		if (!eq) {
			snprintf(err, errlen, "'%.40s': want KEY=VALUE or STATE=LO-HI", w);
			return -EINVAL;
		}
		*eq = 0;
		const char *v = eq + 1;
		if (!strcmp(w, "name")) {
			const char *dot = strrchr(v, '.'); /* users may hold dots, keys not */
			char user[WATCH_NAME_MAX + 1];
			if (!dot || (size_t)(dot - v) > WATCH_NAME_MAX) {
				snprintf(err, errlen, "bad name '%.40s' (USER.KEY)", v);
				return -EINVAL;
			}
			memcpy(user, v, (size_t)(dot - v));
			user[dot - v] = 0;
			if (!word_ok(user, WATCH_NAME_MAX, ".-") || !word_ok(dot + 1, WATCH_NAME_MAX, "-")) {
				snprintf(err, errlen, "bad name '%.40s' (USER.KEY)", v);
				return -EINVAL;
			}
			snprintf(s.name, sizeof(s.name), "%s", v);
			continue;
		}
		if (!strcmp(w, "host")) {
			struct in_addr a;
			if (inet_pton(AF_INET, v, &a) != 1) {
				snprintf(err, errlen, "bad host '%.20s' (an IPv4 address)", v);
				return -EINVAL;
			}
			s.host = a.s_addr;
			continue;
		}
		if (!strcmp(w, "dev")) {
			/* An interface name goes into a /sys path: its alphabet only. */
			if (!word_ok(v, WATCH_DEV_MAX, ".-")) {
				snprintf(err, errlen, "bad interface name '%.20s'", v);
				return -EINVAL;
			}
			strcpy(s.dev, v);
			continue;
		}
		if (!word_ok(w, WATCH_NAME_MAX, "-") || s.n_states == WATCH_STATES_MAX) {
			snprintf(err, errlen, "bad state '%.40s' (at most %d, names of letters, digits, '_', '-')", w,
				 WATCH_STATES_MAX);
			return -EINVAL;
		}
		struct watch_state *st = &s.states[s.n_states];
		strcpy(st->name, w);
		char range[64];
		snprintf(range, sizeof(range), "%s", v);
		char *dash = strchr(range + (range[0] == '-'), '-');
		if (!dash) {
			snprintf(err, errlen, "state '%s': want LO-HI or LO- (from LO up)", w);
			return -EINVAL;
		}
		*dash = 0;
		st->hi = INT64_MAX;
		if (parse_i64(range, &st->lo) < 0 || (dash[1] && parse_i64(dash + 1, &st->hi) < 0) ||
		    st->hi <= st->lo) {
			snprintf(err, errlen, "state '%s': bad range '%s'", w, v);
			return -EINVAL;
		}
		s.n_states++;
	}
	if (!s.n_states) {
		snprintf(err, errlen, "no state given (STATE=LO-HI)");
		return -EINVAL;
	}
	if (custom_resource(s.resource) != (s.name[0] != 0)) {
		snprintf(err, errlen, "%s", s.name[0] ? "name= is only for custom" : "custom needs name=USER.KEY");
		return -EINVAL;
	}
	if (host_resource(s.resource) != (s.host != 0)) {
		snprintf(err, errlen, "%s", s.host ? "host= is only for host_up" : "host_up needs host=A.B.C.D");
		return -EINVAL;
	}
	if (iface_resource(s.resource) != (s.dev[0] != 0)) {
		snprintf(err, errlen, "%s", s.dev[0] ? "dev= is only for iface_* resources" : "iface_* needs dev=NAME");
		return -EINVAL;
	}
	*ret = s;
	return 0;
}

void watch_init(struct watch *w, const struct watch_spec *spec)
{
	memset(w, 0, sizeof(*w));
	w->spec = *spec;
	w->state = -1;
}

/* host_up: the host's presence as the probes and its carrier tell it
 * (presence.h); 1 (no value) while nothing is known yet. */
static int read_presence(struct watch *w, const struct watch_env *env, uint64_t now_ns, int64_t *ret)
{
	if (!env->presence)
		return -EOPNOTSUPP;
	int v = presence_get(env->presence, w->spec.host, now_ns);
	if (v < 0)
		return 1;
	*ret = v;
	return 0;
}

static int read_u64(const char *path, uint64_t *ret)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	unsigned long long v = 0;
	int r = fscanf(f, "%llu", &v) == 1 ? 0 : -EIO;
	fclose(f);
	*ret = v;
	return r;
}

/* The resource's value now; for a rate, 1 when this is its first reading
 * (no value yet). */
static int read_value(struct watch *w, const struct watch_env *env, uint64_t now_ns, int64_t *ret)
{
	if (host_resource(w->spec.resource))
		return read_presence(w, env, now_ns, ret);
	if (custom_resource(w->spec.resource)) {
		int r = env->custom ? env->custom(env->arg, w->spec.name, ret) : -ENOENT;
		return r == -ENOENT ? 1 : r; /* nothing published yet: no value */
	}
	if (capacity_resource(w->spec.resource)) {
		int64_t c = mon_iface_capacity(env->mon, w->spec.dev);
		if (c == -ENODATA)
			return 1; /* down, or no speed: no value until it has one */
		if (c < 0)
			return (int)c;
		*ret = c;
		return 0;
	}
	int f = figure_of(w->spec.resource);
	if (f >= 0) {
		int64_t v = mon_get(env->mon, (enum mon_figure)f);
		if (v < 0)
			return (int)v;
		*ret = v;
		return 0;
	}
	char path[128];
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", w->spec.dev,
		 !strcmp(w->spec.resource, "iface_rx_bps") ? "rx_bytes" : "tx_bytes");
	uint64_t bytes = 0;
	int r = read_u64(path, &bytes);
	if (r < 0)
		return r;
	uint64_t last = w->last_bytes, last_ns = w->last_ns;
	w->last_bytes = bytes;
	w->last_ns = now_ns;
	if (!last_ns || now_ns <= last_ns || bytes < last)
		return 1;
	*ret = (int64_t)((bytes - last) * 8 * 1000000000ull / (now_ns - last_ns));
	return 0;
}

int watch_sample(struct watch *w, const struct watch_env *env, uint64_t now_ns, int *ret_prev)
{
	int64_t v = 0;
	int r = read_value(w, env, now_ns, &v);
	if (r != 0)
		return r > 0 ? 0 : r;
	int st = -1;
	for (size_t i = 0; i < w->spec.n_states; i++)
		if (v >= w->spec.states[i].lo && v < w->spec.states[i].hi) {
			st = (int)i;
			break;
		}
	w->value = v;
	bool first = !w->sampled;
	w->sampled = true;
	if (!first && st == w->state)
		return 0;
	*ret_prev = w->state;
	w->state = st;
	return 1; /* the first sample tells the state it starts in */
}

const char *watch_state_name(const struct watch *w, int i)
{
	return i >= 0 && (size_t)i < w->spec.n_states ? w->spec.states[i].name : "none";
}
