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
    CONF_WORD_AT("socket-group", "GROUP",
		 "the group (a name or a number) the application and control sockets are given to, mode 0660: its "
		 "members may look at the node (anode stats, routes, code, concast flows ...) and use it as "
		 "applications (ping, trace, concast); when the default group does not exist, the sockets keep the "
		 "node's own group",
		 struct node_config, socket_group, user_name_ok, "a group name or number", NODE_DEFAULT_SOCKET_GROUP),
    CONF_WORD_AT("admin-group", "GROUP",
		 "the group whose members may also change the node through its control socket (code remove, "
		 "log-level, shutdown), besides root and the node's own user; signed service requests are the "
		 "policy's to allow",
		 struct node_config, admin_group, user_name_ok, "a group name or number", "root"),
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

/* Read a configuration from f, named path in errors; f stays open. */
static int config_read(FILE *f, const char *path, struct node_config *ret, char *err, size_t errlen)
{
	struct node_config c;
	if (config_new(&c) < 0) {
		node_config_done(&c);
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -ENOMEM;
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
	if (r == 0 && ferror(f))
		snprintf(err, errlen, "%s: cannot read it", path), r = -EIO;
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
	snprintf(c.config_path, sizeof(c.config_path), "%s", path);
	*ret = c;
	return 0;
}

/* A configuration from the file at name, or from text (see
 * conf_stream_open). */
static int config_from(const char *name, const char *text, size_t len, struct node_config *ret, char *err,
		       size_t errlen)
{
	FILE *f = conf_stream_open(name, text, len, err, errlen);
	if (!f)
		return -errno;
	int r = config_read(f, name, ret, err, errlen);
	fclose(f);
	return r;
}

int node_config_load(const char *path, struct node_config *ret, char *err, size_t errlen)
{
	return config_from(path, NULL, 0, ret, err, errlen);
}

int node_config_parse(const char *text, size_t len, const char *name, struct node_config *ret, char *err, size_t errlen)
{
	return config_from(name, text ? text : "", len, ret, err, errlen);
}

/* The largest configuration or policy file anoded reads. */
#define NODE_FILE_MAX (1 << 20)

int node_file_read(const char *path, char **ret, size_t *ret_len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	char *buf = malloc(NODE_FILE_MAX + 1);
	size_t n = buf ? fread(buf, 1, NODE_FILE_MAX + 1, f) : 0;
	int r = !buf ? -ENOMEM : ferror(f) ? -EIO : n > NODE_FILE_MAX ? -EFBIG : 0;
	fclose(f);
	if (r < 0) {
		free(buf);
		snprintf(err, errlen, "%s: %s", path, r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return r;
	}
	buf[n] = '\0';
	*ret = buf;
	*ret_len = n;
	return 0;
}

int node_config_read_policy(struct node_config *c, char *err, size_t errlen)
{
	free(c->policy_text);
	c->policy_text = NULL;
	c->policy_len = 0;
	if (!c->policy_path[0])
		return 0;
	return node_file_read(c->policy_path, &c->policy_text, &c->policy_len, err, errlen);
}

int node_config_copy(const struct node_config *src, struct node_config *ret)
{
	struct node_config c = *src;
	c.routes = NULL;
	c.policy_text = NULL;
	memset(c.room_cfg, 0, sizeof(c.room_cfg));
	if (src->n_routes && !(c.routes = malloc(src->n_routes * sizeof(*c.routes))))
		goto fail;
	if (src->n_routes)
		memcpy(c.routes, src->routes, src->n_routes * sizeof(*c.routes));
	if (src->policy_text) {
		if (!(c.policy_text = malloc(src->policy_len + 1)))
			goto fail;
		memcpy(c.policy_text, src->policy_text, src->policy_len + 1);
	}
	for (size_t i = 0; i < rooms_count(); i++) {
		size_t size = rooms_at(i)->cfg_size ? rooms_at(i)->cfg_size : 1;
		if (!(c.room_cfg[i] = malloc(size)))
			goto fail;
		memcpy(c.room_cfg[i], src->room_cfg[i], size);
	}
	*ret = c;
	return 0;
fail:
	node_config_done(&c);
	return -ENOMEM;
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
	free(c->policy_text);
	c->policy_text = NULL;
	c->policy_len = 0;
	for (size_t i = 0; i < NODE_ROOMS_MAX; i++) {
		free(c->room_cfg[i]);
		c->room_cfg[i] = NULL;
	}
}
