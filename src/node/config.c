// SPDX-License-Identifier: MIT
/*
 * Node configuration parser (see config.h). Small enough that a table of
 * directives and strtok do; every error names its line.
 */
#include "node/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "concast/flow.h"
#include "ee/ee.h"
#include "node/fetch.h"
#include "wire/wire.h"

#define LINE_MAX_LEN 512

static int parse_size(const char *s, size_t min, size_t max, size_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

bool node_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > NODE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '_'))
			return false;
	}
	return true;
}

static int copy_path(char *dst, const char *src)
{
	if (strlen(src) >= NODE_PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(dst, src);
	return 0;
}

static int add_route(struct node_config *c, const char *dst, const char *next)
{
	struct node_route r = { 0 };
	if (strcmp(dst, "default") == 0)
		r.is_default = true;
	else if (wire_addr_parse(dst, &r.dst) < 0)
		return -EINVAL;
	if (wire_addr_parse(next, &r.next) < 0)
		return -EINVAL;
	struct node_route *routes = realloc(c->routes, (c->n_routes + 1) * sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	c->routes = routes;
	c->routes[c->n_routes++] = r;
	return 0;
}

/* A POSIX portable user name: letters, digits, '.', '_' and '-', not
 * starting with '-', at most NODE_USER_MAX. */
static bool user_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > NODE_USER_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

int node_config_load(const char *path, struct node_config *ret, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	/* Each default is the module's own, so that this file and the
	 * module cannot disagree. */
	struct node_config c = {
		.cache_objects = EE_DEFAULT_OBJECTS,
		.cache_bytes = EE_DEFAULT_BYTES,
		.state_entries = EE_DEFAULT_STATE,
		.run_budget = EE_DEFAULT_BUDGET,
		.buffers = NODE_DEFAULT_BUFFERS,
		.park_per_code = FETCH_DEFAULT_PARK_PER_CODE,
		.park_total = FETCH_DEFAULT_PARK_TOTAL,
		.fetch_retry_ms = FETCH_DEFAULT_RETRY_MS,
		.fetch_timeout_ms = FETCH_DEFAULT_TIMEOUT_MS,
		.max_copies = NODE_DEFAULT_MAX_COPIES,
		.code_buffer_share = NODE_DEFAULT_BUFFER_SHARE,
		.link_capacity_bps = NODE_DEFAULT_LINK_CAPACITY,
		.queue = NODE_DEFAULT_QUEUE,
		.concast_flows = CC_DEFAULT_FLOWS,
		.concast_upstream = CC_DEFAULT_UPSTREAM,
		.concast_tags = CC_DEFAULT_TAGS,
		.concast_keepalive_ms = 1000,
		.concast_ip = true,
	};
	snprintf(c.name, sizeof(c.name), "anode");
	snprintf(c.user, sizeof(c.user), "%s", NODE_DEFAULT_USER);
	char line[LINE_MAX_LEN];
	int lineno = 0, r = 0;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL;
		char *key = strtok_r(line, " \t\r\n", &save);
		if (!key)
			continue;
		char *a = strtok_r(NULL, " \t\r\n", &save);
		char *b = strtok_r(NULL, " \t\r\n", &save);
		char *extra = strtok_r(NULL, " \t\r\n", &save);
		int want = strcmp(key, "route") == 0 ? 2 : 1;
		if (!a || (want == 2 && !b) || (want == 1 && b) || extra) {
			snprintf(err, errlen, "%s:%d: '%s' takes %d argument%s", path, lineno, key, want,
				 want == 1 ? "" : "s");
			r = -EINVAL;
			break;
		}
		if (strcmp(key, "name") == 0) {
			/* The name goes into JSON, logs and iptables rule
			 * comments: letters, digits, '-' and '_' only. */
			if (!node_name_ok(a)) {
				snprintf(err, errlen, "%s:%d: bad node name '%.64s': 1 to %d letters, digits, '-' or '_'",
					 path, lineno, a, NODE_NAME_MAX);
				r = -EINVAL;
				break;
			}
			strcpy(c.name, a);
		} else if (strcmp(key, "mode") == 0) {
			if (strcmp(a, "router") == 0)
				c.router = true;
			else if (strcmp(a, "overlay") == 0)
				c.router = false;
			else
				r = -EINVAL;
		} else if (strcmp(key, "queue") == 0) {
			r = parse_size(a, 0, 65000, &c.queue);
		} else if (strcmp(key, "user") == 0) {
			/* Looked up when a router node starts; checked here as
			 * a POSIX portable user name. */
			r = user_name_ok(a) ? 0 : -EINVAL;
			if (r == 0)
				strcpy(c.user, a);
		} else if (strcmp(key, "listen") == 0) {
			r = wire_addr_parse(a, &c.listen);
			c.have_listen = r == 0;
		} else if (strcmp(key, "app-socket") == 0) {
			r = copy_path(c.app_path, a);
		} else if (strcmp(key, "policy") == 0) {
			r = copy_path(c.policy_path, a);
		} else if (strcmp(key, "ctl-socket") == 0) {
			r = copy_path(c.ctl_path, a);
		} else if (strcmp(key, "cache-objects") == 0) {
			r = parse_size(a, 1, 1 << 20, &c.cache_objects);
		} else if (strcmp(key, "cache-bytes") == 0) {
			r = parse_size(a, 4096, (size_t)1 << 34, &c.cache_bytes);
		} else if (strcmp(key, "state-entries") == 0) {
			r = parse_size(a, 1, 1 << 24, &c.state_entries);
		} else if (strcmp(key, "buffers") == 0) {
			r = parse_size(a, 64, 1 << 20, &c.buffers);
		} else if (strcmp(key, "link-capacity") == 0) {
			r = parse_size(a, 1, (size_t)1 << 50, &c.link_capacity_bps);
		} else if (strcmp(key, "park-per-code") == 0) {
			r = parse_size(a, 1, 1 << 16, &c.park_per_code);
		} else if (strcmp(key, "park-total") == 0) {
			r = parse_size(a, 1, 1 << 20, &c.park_total);
		} else if (strcmp(key, "fetch-retry-ms") == 0) {
			r = parse_size(a, 1, 60000, &c.fetch_retry_ms);
		} else if (strcmp(key, "fetch-timeout-ms") == 0) {
			r = parse_size(a, 1, 600000, &c.fetch_timeout_ms);
		} else if (strcmp(key, "run-budget") == 0) {
			r = parse_size(a, 1000, 100000000, &c.run_budget);
		} else if (strcmp(key, "max-copies") == 0) {
			r = parse_size(a, 0, 65535, &c.max_copies);
		} else if (strcmp(key, "code-buffer-share") == 0) {
			r = parse_size(a, 1, 100, &c.code_buffer_share);
		} else if (strcmp(key, "concast-flows") == 0) {
			r = parse_size(a, 1, 1 << 16, &c.concast_flows);
		} else if (strcmp(key, "concast-upstream") == 0) {
			r = parse_size(a, 1, CC_UPSTREAM_LIMIT, &c.concast_upstream);
		} else if (strcmp(key, "concast-tags") == 0) {
			r = parse_size(a, 1, 256, &c.concast_tags);
		} else if (strcmp(key, "concast-ip") == 0) {
			if (strcmp(a, "yes") == 0 || strcmp(a, "no") == 0)
				c.concast_ip = a[0] == 'y';
			else
				r = -EINVAL;
		} else if (strcmp(key, "concast-keepalive-ms") == 0) {
			r = parse_size(a, 50, 60000, &c.concast_keepalive_ms);
		} else if (strcmp(key, "route") == 0) {
			r = add_route(&c, a, b);
		} else {
			snprintf(err, errlen, "%s:%d: unknown directive '%s'", path, lineno, key);
			r = -EINVAL;
			break;
		}
		if (r < 0)
			snprintf(err, errlen, "%s:%d: bad value for '%s': %s", path, lineno, key, a);
	}
	fclose(f);
	if (r == 0 && c.router && c.have_listen && !(c.listen.ip[10] == 0xff && c.listen.ip[11] == 0xff)) {
		snprintf(err, errlen, "%s: router mode needs an IPv4 'listen' address", path);
		r = -EINVAL;
	}
	if (r == 0 && !c.app_path[0])
		snprintf(err, errlen, "%s: no app-socket given", path), r = -EINVAL;
	if (r == 0 && !c.ctl_path[0])
		snprintf(err, errlen, "%s: no ctl-socket given", path), r = -EINVAL;
	if (r < 0) {
		free(c.routes);
		return r;
	}
	*ret = c;
	return 0;
}

void node_config_print(const struct node_config *c, FILE *f)
{
	char a[WIRE_ADDR_STRLEN], b[WIRE_ADDR_STRLEN];
	fprintf(f, "name %s\nmode %s\n", c->name, c->router ? "router" : "overlay");
	if (c->router)
		fprintf(f, "queue %zu\nuser %s\n", c->queue, c->user);
	if (c->have_listen)
		fprintf(f, "listen %s\n", wire_addr_format(&c->listen, a, sizeof(a)));
	fprintf(f, "app-socket %s\nctl-socket %s\n", c->app_path, c->ctl_path);
	if (c->policy_path[0])
		fprintf(f, "policy %s\n", c->policy_path);
	fprintf(f, "cache-objects %zu\ncache-bytes %zu\nstate-entries %zu\nbuffers %zu\n", c->cache_objects,
		c->cache_bytes, c->state_entries, c->buffers);
	fprintf(f, "link-capacity %zu\n", c->link_capacity_bps);
	fprintf(f, "park-per-code %zu\npark-total %zu\nfetch-retry-ms %zu\nfetch-timeout-ms %zu\n", c->park_per_code,
		c->park_total, c->fetch_retry_ms, c->fetch_timeout_ms);
	fprintf(f, "run-budget %zu\nmax-copies %zu\ncode-buffer-share %zu\n", c->run_budget, c->max_copies,
		c->code_buffer_share);
	fprintf(f, "concast-flows %zu\nconcast-upstream %zu\nconcast-tags %zu\nconcast-keepalive-ms %zu\n",
		c->concast_flows, c->concast_upstream, c->concast_tags, c->concast_keepalive_ms);
	if (c->router)
		fprintf(f, "concast-ip %s\n", c->concast_ip ? "yes" : "no");
	for (size_t i = 0; i < c->n_routes; i++)
		fprintf(f, "route %s %s\n",
			c->routes[i].is_default ? "default" : wire_addr_format(&c->routes[i].dst, a, sizeof(a)),
			wire_addr_format(&c->routes[i].next, b, sizeof(b)));
}

void node_config_done(struct node_config *c)
{
	free(c->routes);
	c->routes = NULL;
	c->n_routes = 0;
}
