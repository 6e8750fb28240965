// SPDX-License-Identifier: MIT
/*
 * Node configuration (config.h): the node's own directive table, and the
 * file reader that hands every line to the node's table or to the room
 * whose table has it. Every error names its line.
 */
#include "node/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ee/ee.h"
#include "node/room.h"
#include "wire/wire.h"

#define LINE_MAX_LEN 512

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

/* ---- the node's directives that are not plain numbers or paths ---- */

static int parse_mode(void *cfg, char **args, char *err, size_t errlen)
{
	struct node_config *c = cfg;
	if (strcmp(args[0], "router") != 0 && strcmp(args[0], "overlay") != 0)
		return -EINVAL;
	c->router = args[0][0] == 'r';
	return 0;
}

static void print_mode(const void *cfg, FILE *f)
{
	const struct node_config *c = cfg;
	fprintf(f, "mode %s\n", c->router ? "router" : "overlay");
}

static int parse_listen(void *cfg, char **args, char *err, size_t errlen)
{
	struct node_config *c = cfg;
	int r = wire_addr_parse(args[0], &c->listen);
	c->have_listen = r == 0;
	return r;
}

static void print_listen(const void *cfg, FILE *f)
{
	const struct node_config *c = cfg;
	char a[WIRE_ADDR_STRLEN];
	if (c->have_listen)
		fprintf(f, "listen %s\n", wire_addr_format(&c->listen, a, sizeof(a)));
}

static int parse_route(void *cfg, char **args, char *err, size_t errlen)
{
	struct node_config *c = cfg;
	struct node_route r = {0};
	if (strcmp(args[0], "default") == 0)
		r.is_default = true;
	else if (wire_addr_parse(args[0], &r.dst) < 0)
		return -EINVAL;
	if (wire_addr_parse(args[1], &r.next) < 0)
		return -EINVAL;
	struct node_route *routes = realloc(c->routes, (c->n_routes + 1) * sizeof(*routes));
	if (!routes)
		return -ENOMEM;
	c->routes = routes;
	c->routes[c->n_routes++] = r;
	return 0;
}

static void print_routes(const void *cfg, FILE *f)
{
	const struct node_config *c = cfg;
	char a[WIRE_ADDR_STRLEN], b[WIRE_ADDR_STRLEN];
	for (size_t i = 0; i < c->n_routes; i++)
		fprintf(f, "route %s %s\n",
			c->routes[i].is_default ? "default" : wire_addr_format(&c->routes[i].dst, a, sizeof(a)),
			wire_addr_format(&c->routes[i].next, b, sizeof(b)));
}

/* The node's own directives; each default is its module's, so that help,
 * print-back and the module cannot disagree. */
static const struct conf_directive node_directives[] = {
    CONF_WORD_AT("name", "NAME", "node name", struct node_config, name, node_name_ok,
		 "1 to 32 letters, digits, '-' or '_' (it goes into JSON, logs and iptables rule comments)", "anode"),
    {.name = "mode",
     .args = "overlay|router",
     .help = "overlay: UDP links between nodes, routes from this file; router: capsules travel in IP to their "
	     "destination, the kernel routes them, and this node intercepts those that cross it (an NFQUEUE rule on "
	     "its UDP port, installed at start, removed at exit; needs root)",
     .kind = CONF_CUSTOM,
     .parse = parse_mode,
     .print = print_mode,
     .def_text = "overlay"},
    CONF_NUM("queue", "N", "router mode: first NFQUEUE number", struct node_config, queue, 0, 65000,
	     NODE_DEFAULT_QUEUE),
    CONF_WORD_AT("user", "NAME",
		 "router mode: the user the node runs as; a privileged parent process stays root to install rules "
		 "and bind queues, and restarts the node if it dies",
		 struct node_config, user, user_name_ok, "a POSIX portable user name", NODE_DEFAULT_USER),
    {.name = "listen",
     .args = "ADDR:PORT",
     .help = "UDP overlay address (default port is 3322)",
     .kind = CONF_CUSTOM,
     .parse = parse_listen,
     .print = print_listen},
    CONF_FILE("app-socket", "PATH", "application link socket (required)", struct node_config, app_path),
    CONF_FILE("ctl-socket", "PATH", "control socket (required)", struct node_config, ctl_path),
    CONF_FILE("policy", "FILE",
	      "the control module's policy: keys of administrators and users, deployed services, what each user may "
	      "activate and filter, quotas (docs/services.md); without it every service request is refused",
	      struct node_config, policy_path),
    CONF_NUM("cache-objects", "N", "code objects kept in the cache", struct node_config, cache_objects, 1, 1 << 20,
	     EE_DEFAULT_OBJECTS),
    CONF_NUM("cache-bytes", "N", "bytes of code kept in the cache", struct node_config, cache_bytes, 4096,
	     (size_t)1 << 34, EE_DEFAULT_BYTES),
    CONF_NUM("state-entries", "N", "soft state entries per code object", struct node_config, state_entries, 1, 1 << 24,
	     EE_DEFAULT_STATE),
    CONF_NUM("buffers", "N", "packet buffers", struct node_config, buffers, 64, 1 << 20, NODE_DEFAULT_BUFFERS),
    CONF_NUM("link-capacity", "BPS", "link capacity reported to code, bits/s", struct node_config, link_capacity_bps, 1,
	     (size_t)1 << 50, NODE_DEFAULT_LINK_CAPACITY),
    CONF_NUM("run-budget", "N",
	     "work units one capsule may use at this node, its nested calls included: each entry point run costs its "
	     "longest path, each helper call a fixed cost (about 1 ns each); past it the capsule is dropped",
	     struct node_config, run_budget, 1000, 100000000, EE_DEFAULT_BUDGET),
    CONF_NUM("code-buffer-share", "PCT",
	     "percent of the buffers the copies and self-sent capsules of one code object may hold", struct node_config,
	     code_buffer_share, 1, 100, NODE_DEFAULT_BUFFER_SHARE),
    {.name = "route",
     .args = "DEST NEXT-HOP",
     .help = "next hop toward a node address; DEST 'default': next hop toward every other address",
     .kind = CONF_CUSTOM,
     .n_args = 2,
     .parse = parse_route,
     .print = print_routes},
    CONF_END,
};

/* The table that has directive key, and the config it fills: the node's,
 * or a room's. */
static const struct conf_directive *find_directive(struct node_config *c, const char *key, void **ret_cfg)
{
	const struct conf_directive *d = conf_find(node_directives, key);
	if (d) {
		*ret_cfg = c;
		return d;
	}
	for (size_t i = 0; i < rooms_count(); i++) {
		d = conf_find(rooms_at(i)->directives, key);
		if (d) {
			*ret_cfg = c->room_cfg[i];
			return d;
		}
	}
	return NULL;
}

static int config_new(struct node_config *c)
{
	memset(c, 0, sizeof(*c));
	conf_defaults(node_directives, c);
	for (size_t i = 0; i < rooms_count(); i++) {
		const struct room *room = rooms_at(i);
		c->room_cfg[i] = calloc(1, room->cfg_size ? room->cfg_size : 1);
		if (!c->room_cfg[i])
			return -ENOMEM;
		conf_defaults(room->directives, c->room_cfg[i]);
	}
	return 0;
}

int node_config_load(const char *path, struct node_config *ret, char *err, size_t errlen)
{
	struct node_config c;
	if (config_new(&c) < 0) {
		node_config_done(&c);
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
	}
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		node_config_done(&c);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
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
		char *args[CONF_ARGS_MAX + 1];
		unsigned n_args = 0;
		char *a;
		while (n_args <= CONF_ARGS_MAX && (a = strtok_r(NULL, " \t\r\n", &save)))
			args[n_args++] = a;
		void *cfg;
		const struct conf_directive *d = find_directive(&c, key, &cfg);
		if (!d) {
			snprintf(err, errlen, "%s:%d: unknown directive '%s'", path, lineno, key);
			r = -EINVAL;
			break;
		}
		char why[256];
		r = conf_apply(d, cfg, args, n_args, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
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
		node_config_done(&c);
		return r;
	}
	*ret = c;
	return 0;
}

void node_config_print(const struct node_config *c, FILE *f)
{
	conf_print(node_directives, c, f);
	for (size_t i = 0; i < rooms_count(); i++)
		conf_print(rooms_at(i)->directives, c->room_cfg[i], f);
}

void node_config_help(FILE *f)
{
	conf_help(node_directives, f);
	for (size_t i = 0; i < rooms_count(); i++)
		conf_help(rooms_at(i)->directives, f);
}

void node_config_done(struct node_config *c)
{
	free(c->routes);
	c->routes = NULL;
	c->n_routes = 0;
	for (size_t i = 0; i < NODE_ROOMS_MAX; i++) {
		free(c->room_cfg[i]);
		c->room_cfg[i] = NULL;
	}
}
