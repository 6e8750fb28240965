// SPDX-License-Identifier: MIT
/*
 * Control socket server and client (see ctl.h). Requests are handled to
 * completion on the node's loop; they are small and rare next to capsules.
 * A client is served when its request arrives, never waited for: one that
 * connects and says nothing must not hold the node (it is closed after a
 * second), and only a few may wait at once.
 */
#include "ctl/ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/log.h"
#include "core/seqpacket.h"

#define CTL_REQUEST_MAX 4096 /* a signed service request in base64 fits */

struct ctl_server;

struct ctl_client {
	int fd; /* -1: free */
	uid_t uid;
	struct loop_timer *timer;
	struct ctl_server *s;
};

struct ctl_server {
	int fd;
	char *path;
	struct loop *loop;
	const struct ctl_command *table;
	void *arg;
	struct ctl_client clients[CTL_CLIENTS];
	struct ctl_counters c;
	bool has_admin;
	gid_t admin_gid;
	char admin_name[64];
};

void ctl_server_set_admin(struct ctl_server *s, gid_t gid, const char *name)
{
	s->has_admin = name != NULL;
	s->admin_gid = gid;
	snprintf(s->admin_name, sizeof(s->admin_name), "%s", name ? name : "");
}

int ctl_refuse_change(struct ctl_out *o)
{
	if (o->admin_group)
		ctl_printf(o, "changing the node needs root, its own user or group %s (this process may only look)",
			   o->admin_group);
	else
		ctl_printf(o, "changing the node needs root or its own user (this process may only look)");
	return -EPERM;
}

/* Whether the process at the other end of cfd may change the node: root,
 * the node's own user, or one in the admin group (its primary group or
 * one of the others, SO_PEERGROUPS). */
static bool peer_may_change(const struct ctl_server *s, int cfd)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
		return false;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (!s->has_admin)
		return false;
	if (cred.gid == s->admin_gid)
		return true;
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) < 0)
		return false;
	for (size_t i = 0; i < glen / sizeof(gid_t); i++)
		if (groups[i] == s->admin_gid)
			return true;
	return false;
}

const struct ctl_counters *ctl_server_counters(const struct ctl_server *s)
{
	return &s->c;
}

/* One record, "error: why", to a client about to be closed. */
static void say_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say_error(int fd, const char *fmt, ...)
{
	char buf[256] = "error: ";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + 7, sizeof(buf) - 8, fmt, ap);
	va_end(ap);
	strcat(buf, "\n");
	if (send(fd, buf, strlen(buf), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control refusal: %s", strerror(errno));
}

void ctl_printf(struct ctl_out *o, const char *fmt, ...)
{
	if (o->truncated)
		return;
	for (;;) {
		size_t room = o->cap - o->len;
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(o->buf + o->len, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap * 2 + (size_t)n;
		if (cap > CTL_REPLY_MAX) {
			o->truncated = true;
			o->buf[o->len] = '\0';
			return;
		}
		char *b = realloc(o->buf, cap);
		if (!b) {
			o->truncated = true;
			return;
		}
		o->buf = b;
		o->cap = cap;
	}
}

void ctl_print_moment(struct ctl_out *o, uint64_t when, uint64_t now)
{
	struct tm tm;
	time_t t = (time_t)when;
	char date[32];
	if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(date, sizeof(date), "%llu", (unsigned long long)when);
	if (when > now) {
		ctl_printf(o, "%s, in the future", date);
		return;
	}
	uint64_t age = now - when;
	if (age < 120)
		ctl_printf(o, "%s, %llu s ago", date, (unsigned long long)age);
	else if (age < 2 * 3600)
		ctl_printf(o, "%s, %llu min ago", date, (unsigned long long)(age / 60));
	else if (age < 2 * 86400)
		ctl_printf(o, "%s, %llu h ago", date, (unsigned long long)(age / 3600));
	else
		ctl_printf(o, "%s, %llu days ago", date, (unsigned long long)(age / 86400));
}

void ctl_json_string(struct ctl_out *o, const char *s)
{
	ctl_printf(o, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			ctl_printf(o, "\\%c", *s);
		else if ((unsigned char)*s >= 0x20)
			ctl_printf(o, "%c", *s);
	}
	ctl_printf(o, "\"");
}

/* Text in a label value or a HELP line: backslash, quote (labels) and
 * newline escaped as the exposition format asks; control characters
 * dropped. */
static void prom_escape(struct ctl_out *o, const char *s, bool label)
{
	for (; *s; s++) {
		if (*s == '\\')
			ctl_printf(o, "\\\\");
		else if (*s == '"' && label)
			ctl_printf(o, "\\\"");
		else if (*s == '\n')
			ctl_printf(o, "\\n");
		else if ((unsigned char)*s >= 0x20)
			ctl_printf(o, "%c", *s);
	}
}

static void prom_labels(struct ctl_out *o, const struct ctl_string *strings, size_t n_strings)
{
	ctl_printf(o, "{");
	for (size_t i = 0; i < n_strings; i++) {
		ctl_printf(o, "%s%s=\"", i ? "," : "", strings[i].key);
		prom_escape(o, strings[i].value, true);
		ctl_printf(o, "\"");
	}
	ctl_printf(o, "}");
}

/* Units in Prometheus' base units, as its conventions ask: a row whose
 * name ends in one of these is scaled and renamed. */
static const struct prom_unit {
	const char *suffix, *base;
	double scale;
} prom_units[] = {
    {"_us", "_seconds", 1e-6},
    {"_ms", "_seconds", 1e-3},
    {"_s", "_seconds", 1},
    {"_kb", "_bytes", 1024},
};

/* The metric's name after anode_SECTION_ (the row's, its unit made a base
 * unit) into buf, and the factor its value takes; 1 when it has none. */
static double prom_name(const char *row, char *buf, size_t len)
{
	size_t n = strlen(row);
	for (size_t i = 0; i < sizeof(prom_units) / sizeof(prom_units[0]); i++) {
		size_t k = strlen(prom_units[i].suffix);
		if (n > k && strcmp(row + n - k, prom_units[i].suffix) == 0) {
			snprintf(buf, len, "%.*s%s", (int)(n - k), row, prom_units[i].base);
			return prom_units[i].scale;
		}
	}
	snprintf(buf, len, "%s", row);
	return 1;
}

static void print_prometheus(struct ctl_out *o, const struct ctl_string *strings, size_t n_strings,
			     const struct stat_section *sections, size_t n_sections)
{
	ctl_printf(o, "# HELP anode_info the node: its name, mode and link\n# TYPE anode_info gauge\nanode_info");
	prom_labels(o, strings, n_strings);
	ctl_printf(o, " 1\n");
	for (size_t i = 0; i < n_sections; i++) {
		const struct stat_section *sec = &sections[i];
		for (size_t r = 0; r < sec->n; r++) {
			const struct stat_row *row = &sec->rows[r];
			const char *total = row->counter && !row->real ? "_total" : "";
			char name[96];
			double scale = prom_name(row->name, name, sizeof(name));
			ctl_printf(o, "# HELP anode_%s_%s%s ", sec->key, name, total);
			prom_escape(o, row->help, false);
			ctl_printf(o, " (%s)\n# TYPE anode_%s_%s%s %s\nanode_%s_%s%s", sec->title, sec->key, name,
				   total, *total ? "counter" : "gauge", sec->key, name, total);
			prom_labels(o, strings, n_strings);
			if (row->real || scale != 1)
				ctl_printf(o, " %.9g\n", (row->real ? row->d : (double)row->u) * scale);
			else
				ctl_printf(o, " %llu\n", (unsigned long long)row->u);
		}
	}
}

void ctl_print_stats(struct ctl_out *o, enum ctl_format format, const struct ctl_string *strings, size_t n_strings,
		     const struct stat_section *sections, size_t n_sections)
{
	if (format == CTL_PROMETHEUS)
		return print_prometheus(o, strings, n_strings, sections, n_sections);
	if (format == CTL_JSON) {
		ctl_printf(o, "{");
		const char *sep = "";
		for (size_t i = 0; i < n_strings; i++, sep = ",") {
			ctl_printf(o, "%s\"%s\":", sep, strings[i].key);
			ctl_json_string(o, strings[i].value);
		}
		for (size_t i = 0; i < n_sections; i++, sep = ",") {
			const struct stat_section *sec = &sections[i];
			ctl_printf(o, "%s\"%s\":{", sep, sec->key);
			for (size_t r = 0; r < sec->n; r++) {
				const struct stat_row *row = &sec->rows[r];
				if (row->real)
					ctl_printf(o, "%s\"%s\":%.3f", r ? "," : "", row->name, row->d);
				else
					ctl_printf(o, "%s\"%s\":%llu", r ? "," : "", row->name,
						   (unsigned long long)row->u);
			}
			ctl_printf(o, "}");
		}
		ctl_printf(o, "}\n");
		return;
	}
	for (size_t i = 0; i < n_strings; i++)
		ctl_printf(o, "%s %s\n", strings[i].key, strings[i].value);
	for (size_t i = 0; i < n_sections; i++) {
		const struct stat_section *sec = &sections[i];
		ctl_printf(o, "%s:\n", sec->title);
		for (size_t r = 0; r < sec->n; r++) {
			const struct stat_row *row = &sec->rows[r];
			if (!row->real && !row->u && strncmp(row->name, "drop_", 5) == 0)
				continue;
			if (row->real)
				ctl_printf(o, "  %-24s %12.3f  %s\n", row->name, row->d, row->help);
			else
				ctl_printf(o, "  %-24s %12llu  %s\n", row->name, (unsigned long long)row->u, row->help);
		}
	}
}

static int split_args(char *line, char **argv)
{
	int argc = 0;
	for (char *save = NULL, *t = strtok_r(line, " \t\n", &save); t && argc < CTL_ARGS_MAX;
	     t = strtok_r(NULL, " \t\n", &save))
		argv[argc++] = t;
	return argc;
}

static void handle_request(struct ctl_server *s, int cfd)
{
	char req[CTL_REQUEST_MAX + 1];
	ssize_t n = recv(cfd, req, CTL_REQUEST_MAX, MSG_DONTWAIT | MSG_TRUNC);
	/* Nothing read is an empty request, or the client gone. */
	if (n < 0 || (n == 0 && seqpacket_peer_gone(cfd)))
		return;
	if (n > CTL_REQUEST_MAX) {
		s->c.bad_requests++;
		return say_error(cfd, "request longer than %d octets", CTL_REQUEST_MAX);
	}
	req[n] = '\0';
	struct ctl_out body = {.cap = 4096};
	body.buf = malloc(body.cap);
	if (!body.buf)
		return;
	body.buf[0] = '\0';
	char *argv[CTL_ARGS_MAX];
	int argc = split_args(req, argv);
	int r = -EINVAL;
	const struct ctl_command *cmd = NULL;
	for (const struct ctl_command *c = s->table; argc > 0 && c->name; c++)
		if (strcmp(c->name, argv[0]) == 0)
			cmd = c;
	if (!cmd) {
		s->c.bad_requests++;
		if (argc)
			ctl_printf(&body, "unknown command '%s'; commands:", argv[0]);
		else
			ctl_printf(&body, "empty request; commands:");
		for (const struct ctl_command *c = s->table; c->name; c++)
			ctl_printf(&body, " %s", c->name);
	} else if (argc - 1 > cmd->max_args) {
		s->c.bad_requests++;
		ctl_printf(&body, "too many arguments for '%s'; usage: %s", cmd->name, cmd->usage);
	} else {
		s->c.requests++;
		body.may_change = peer_may_change(s, cfd);
		body.admin_group = s->has_admin ? s->admin_name : NULL;
		r = cmd->fn(cmd->arg ? cmd->arg : s->arg, argc, argv, &body);
		if (r == -EPERM)
			s->c.refused_changes++;
	}
	struct ctl_out reply = {.cap = body.len + 64};
	reply.buf = malloc(reply.cap);
	if (reply.buf) {
		if (r == 0)
			ctl_printf(&reply, "ok\n%s", body.buf);
		else
			ctl_printf(&reply, "error: %s\n", body.len ? body.buf : strerror(-r));
		if (send(cfd, reply.buf, reply.len, MSG_NOSIGNAL) < 0)
			log_debug("control reply: %s", strerror(errno));
	}
	free(reply.buf);
	free(body.buf);
}

static void client_close(struct ctl_client *c)
{
	loop_fd_del(c->s->loop, c->fd);
	close(c->fd);
	if (c->timer)
		loop_timer_cancel(c->s->loop, c->timer);
	c->timer = NULL;
	c->fd = -1;
}

static void client_timeout(void *arg)
{
	struct ctl_client *c = arg;
	c->timer = NULL;
	c->s->c.silent_closed++;
	log_ratelimited_by(LOG_INFO, "silent control client", NULL,
			   "control client (uid %u) sent no request in %d ms: closed", (unsigned)c->uid,
			   CTL_CLIENT_TIMEOUT_MS);
	say_error(c->fd, "no request within %d ms", CTL_CLIENT_TIMEOUT_MS);
	client_close(c);
}

static void client_readable(void *arg, int fd, uint32_t events)
{
	struct ctl_client *c = arg;
	handle_request(c->s, fd);
	client_close(c);
}

static void listen_readable(void *arg, int fd, uint32_t events)
{
	struct ctl_server *s = arg;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		struct ucred cred;
		socklen_t clen = sizeof(cred);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
			close(cfd);
			continue;
		}
		struct ctl_client *c = NULL;
		size_t mine = 0, busy = 0;
		for (size_t i = 0; i < CTL_CLIENTS; i++) {
			if (s->clients[i].fd < 0) {
				c = c ? c : &s->clients[i];
				continue;
			}
			busy++;
			mine += s->clients[i].uid == cred.uid;
		}
		/* Every uid but root its share; only root may take the last
		 * slots (root could stop the node anyway). */
		size_t room = cred.uid == 0 ? CTL_CLIENTS : CTL_CLIENTS - CTL_ROOT_SHARE;
		if (cred.uid != 0 && mine >= CTL_PER_UID) {
			s->c.refused_user++;
			log_ratelimited_by(LOG_WARNING, "control client refused: its uid's share", NULL,
					   "control client refused: uid %u holds %zu of its %d waiting connections",
					   (unsigned)cred.uid, mine, CTL_PER_UID);
			say_error(cfd, "uid %u holds %zu waiting control connections already (at most %d)",
				  (unsigned)cred.uid, mine, CTL_PER_UID);
			close(cfd);
			continue;
		}
		if (!c || busy >= room) {
			s->c.refused_full++;
			log_ratelimited_by(LOG_WARNING, "control client refused: full", NULL,
					   "control client refused: %zu connections wait already", busy);
			say_error(cfd, "%zu control connections wait already; try again", busy);
			close(cfd);
			continue;
		}
		int sndbuf = CTL_REPLY_MAX + 4096;
		setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		c->fd = cfd;
		c->uid = cred.uid;
		c->s = s;
		c->timer = loop_timer_add(s->loop, CTL_CLIENT_TIMEOUT_MS, client_timeout, c);
		if (!c->timer || loop_fd_add(s->loop, cfd, EPOLLIN, client_readable, c) < 0) {
			if (c->timer)
				loop_timer_cancel(s->loop, c->timer);
			c->timer = NULL;
			c->fd = -1;
			close(cfd);
		}
	}
}

struct ctl_server *ctl_server_open(const char *path, struct loop *loop, const struct ctl_command *table, void *arg)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sun.sun_path, path);
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->loop = loop;
	s->table = table;
	s->arg = arg;
	for (size_t i = 0; i < CTL_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->path = strdup(path);
	s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || !s->path)
		goto fail;
	unlink(path);
	/* Owner and group may connect, whatever the umask (docs/architecture.md). */
	mode_t old_mask = umask(0117);
	int b = bind(s->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (b < 0 || listen(s->fd, 64) < 0 || loop_fd_add(loop, s->fd, EPOLLIN, listen_readable, s) < 0)
		goto fail;
	return s;
fail:;
	int e = errno;
	if (s->fd >= 0)
		close(s->fd);
	free(s->path);
	free(s);
	errno = e;
	return NULL;
}

void ctl_server_close(struct ctl_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < CTL_CLIENTS; i++)
		if (s->clients[i].fd >= 0)
			client_close(&s->clients[i]);
	loop_fd_del(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s->path);
	free(s);
}

int ctl_request(const char *path, const char *cmd, int timeout_ms, char **ret_body)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rcvbuf = CTL_REPLY_MAX + 4096;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	int r;
	char *buf = NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || send(fd, cmd, strlen(cmd), MSG_NOSIGNAL) < 0) {
		r = -errno;
		goto out;
	}
	struct pollfd p = {.fd = fd, .events = POLLIN};
	r = poll(&p, 1, timeout_ms);
	if (r <= 0) {
		r = r == 0 ? -ETIMEDOUT : -errno;
		goto out;
	}
	buf = malloc(CTL_REPLY_MAX + 64);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	ssize_t n = recv(fd, buf, CTL_REPLY_MAX + 63, 0);
	if (n <= 0) {
		r = n == 0 ? -ECONNRESET : -errno;
		goto out;
	}
	buf[n] = '\0';
	char *nl = strchr(buf, '\n');
	char *body = nl ? nl + 1 : buf + n;
	if (strncmp(buf, "ok\n", 3) == 0) {
		r = 0;
	} else {
		r = -EREMOTEIO;
		body = strncmp(buf, "error: ", 7) == 0 ? buf + 7 : buf;
		char *end = body + strlen(body);
		while (end > body && end[-1] == '\n')
			*--end = '\0';
	}
	*ret_body = strdup(body);
	if (!*ret_body)
		r = -ENOMEM;
out:
	free(buf);
	close(fd);
	return r;
}
