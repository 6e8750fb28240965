// SPDX-License-Identifier: MIT
/*
 * The metrics room: `metrics-listen ADDR:PORT` serves every figure of
 * `anode stats --prometheus` over HTTP at /metrics, for a Prometheus server
 * to scrape. HTTP is libmicrohttpd's (a small, well-kept embedded server
 * from GNU, in Debian as libmicrohttpd12), run without threads of its own
 * on the node's event loop: the room opens the listening socket when the
 * node starts (in router mode that is the unprivileged child, before it
 * drops its privileges and loads its system call allow-list, which has
 * accept4, epoll and send/recv but no socket()), hands it to
 * libmicrohttpd, watches libmicrohttpd's epoll descriptor in the loop, and
 * calls MHD_run when it is readable or when libmicrohttpd's own timeout
 * comes.
 *
 * Everything that arrives is a stranger's: only GET and HEAD of /metrics
 * are answered (404 and 405 otherwise, counted); connections are bounded in
 * number (overall and per address), in memory and in idle time, so that a
 * scraper that stalls or a flood of connections costs the node a bounded
 * amount and never the packet path more than one short round.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "node/room.h"

#define METRICS_CONNECTIONS 16
#define METRICS_PER_ADDRESS 4
#define METRICS_IDLE_S 5
#define METRICS_CONN_MEMORY (32 * 1024)
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_cfg {
	struct an_addr listen;
	bool enabled;
};

#define METRICS_COUNTERS(X)                                                                                            \
	X(scrapes, "GET /metrics answered with every figure")                                                          \
	X(not_found, "requests for another path (404)")                                                                \
	X(bad_method, "requests with another method than GET or HEAD (405)")                                           \
	X(failed, "requests the figures could not be made for (500: out of memory)")                                   \
	X(octets, "octets of figures sent (bodies of answered scrapes)")

struct metrics_counters {
	METRICS_COUNTERS(STAT_FIELD)
};

struct metrics {
	struct node *n;
	struct MHD_Daemon *mhd;
	int listen_fd, epoll_fd;
	struct loop_timer *timer;
	struct metrics_counters c;
};

static int parse_metrics_listen(void *cfg, char **args, char *err, size_t errlen)
{
	struct metrics_cfg *c = cfg;
	if (wire_addr_parse(args[0], &c->listen) < 0 || c->listen.port == 0) {
		snprintf(err, errlen, "'%s' is not ADDR:PORT (e.g. 127.0.0.1:9322 or [::1]:9322)", args[0]);
		return -EINVAL;
	}
	c->enabled = true;
	return 0;
}

static void print_metrics_listen(const void *cfg, FILE *f)
{
	const struct metrics_cfg *c = cfg;
	char a[WIRE_ADDR_STRLEN];
	if (c->enabled)
		fprintf(f, "metrics-listen %s\n", wire_addr_format(&c->listen, a, sizeof(a)));
}

static const struct conf_directive metrics_directives[] = {
    {.name = "metrics-listen",
     .args = "ADDR:PORT",
     .help = "serve every figure of 'anode stats --prometheus' over HTTP at http://ADDR:PORT/metrics, for "
	     "Prometheus to scrape (no authentication: bind it to loopback or a management address, or "
	     "filter it); off unless set",
     .kind = CONF_CUSTOM,
     .parse = parse_metrics_listen,
     .print = print_metrics_listen,
     .def_text = "off"},
    CONF_END,
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body, size_t len,
			      enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? METRICS_CONTENT_TYPE : "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* libmicrohttpd's request handler: called when the headers are in (and
 * again for each piece of a body, which a GET has not; one with a body
 * gets its answer at once, and the rest is discarded). */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct metrics *m = cls;
	static const char not_found[] = "anode serves its figures at /metrics only\n";
	static const char bad_method[] = "/metrics takes GET or HEAD\n";
	*upload_size = 0;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
		m->c.bad_method++;
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, bad_method, sizeof(bad_method) - 1,
			      MHD_RESPMEM_PERSISTENT);
	}
	if (strcmp(url, "/metrics") != 0) {
		m->c.not_found++;
		return answer(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1, MHD_RESPMEM_PERSISTENT);
	}
	struct ctl_out o = {0};
	if (node_stats(m->n, CTL_PROMETHEUS, &o) < 0 || o.truncated || !o.buf) {
		free(o.buf);
		m->c.failed++;
		static const char failed[] = "out of memory\n";
		return answer(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, failed, sizeof(failed) - 1, MHD_RESPMEM_PERSISTENT);
	}
	m->c.scrapes++;
	m->c.octets += o.len;
	/* MUST_FREE: the response owns the buffer from here. */
	return answer(conn, MHD_HTTP_OK, o.buf, o.len, MHD_RESPMEM_MUST_FREE);
}

static void run_mhd(struct metrics *m);

static void timer_fired(void *arg)
{
	struct metrics *m = arg;
	m->timer = NULL;
	run_mhd(m);
}

/* Let libmicrohttpd work, then come back when it asks to (a connection's
 * idle timeout, or data it holds already). */
static void run_mhd(struct metrics *m)
{
	MHD_run(m->mhd);
	MHD_UNSIGNED_LONG_LONG ms;
	if (m->timer) {
		loop_timer_cancel(node_loop(m->n), m->timer);
		m->timer = NULL;
	}
	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES)
		m->timer = loop_timer_add(node_loop(m->n), ms > 1000 ? 1000 : ms, timer_fired, m);
}

static void epoll_readable(void *arg, int fd, uint32_t events)
{
	run_mhd(arg);
}

static int open_listener(const struct an_addr *a, char *err, size_t errlen)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	bool v4 = an_ip_is_v4(a->ip);
	if (v4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a->ip + 12, 4);
		sin->sin_port = a->port;
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a->ip, 16);
		sin6->sin6_port = a->port;
		len = sizeof(*sin6);
	}
	int fd = socket(v4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, METRICS_CONNECTIONS) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void metrics_done(void *room)
{
	struct metrics *m = room;
	if (!m)
		return;
	if (m->timer)
		loop_timer_cancel(node_loop(m->n), m->timer);
	if (m->epoll_fd >= 0)
		loop_fd_del(node_loop(m->n), m->epoll_fd);
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	if (m->listen_fd >= 0)
		close(m->listen_fd);
	free(m);
}

static int metrics_init(struct node *n, const void *cfgp, void **ret_state)
{
	const struct metrics_cfg *cfg = cfgp;
	if (!cfg->enabled) {
		*ret_state = NULL;
		return 0;
	}
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	*ret_state = m;
	m->n = n;
	m->listen_fd = m->epoll_fd = -1;
	char a[WIRE_ADDR_STRLEN], err[128];
	wire_addr_format(&cfg->listen, a, sizeof(a));
	if ((m->listen_fd = open_listener(&cfg->listen, err, sizeof(err))) < 0) {
		log_err("metrics: cannot listen on %s: %s", a, err);
		return -EADDRNOTAVAIL;
	}
	/* No threads: MHD_run from the loop. MHD_stop_daemon closes the
	 * socket it was given unless told it may not: it was ours. */
	m->mhd = MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, handle, m, MHD_OPTION_LISTEN_SOCKET, m->listen_fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)METRICS_PER_ADDRESS,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_IDLE_S,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)METRICS_CONN_MEMORY, MHD_OPTION_END);
	if (!m->mhd) {
		log_err("metrics: libmicrohttpd would not start on %s", a);
		return -EIO;
	}
	m->listen_fd = -1; /* MHD_stop_daemon closes it */
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0 || loop_fd_add(node_loop(n), info->epoll_fd, EPOLLIN, epoll_readable, m) < 0) {
		log_err("metrics: cannot watch libmicrohttpd's descriptor");
		return -EIO;
	}
	m->epoll_fd = info->epoll_fd;
	log_info("metrics: serving http://%s/metrics", a);
	return 0;
}

static void metrics_stats(void *room, struct stat_list *l)
{
	struct metrics *m = room;
	struct stat_section *sec;
	if (!m || !(sec = stat_list_add(l, "metrics", "metrics over HTTP (metrics-listen)")))
		return;
	STAT_ADD_ALL(sec, &m->c, METRICS_COUNTERS);
}

static const struct room metrics_room = {
    .name = "metrics",
    .rank = 90, /* last: it only reads what the others count */
    .cfg_size = sizeof(struct metrics_cfg),
    .directives = metrics_directives,
    .init = metrics_init,
    .done = metrics_done,
    .stats = metrics_stats,
};
ROOM_REGISTER(metrics_room);
