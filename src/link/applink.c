// SPDX-License-Identifier: MIT
/*
 * Application link server (see applink.h). Applications are few per node,
 * so connections live in a small array searched by handle.
 */
#include "link/applink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "anode/node.h"
#include "core/log.h"
#include "core/seqpacket.h"
#include "wire/wire.h"

#define APPLINK_MAX_CONNS 256
/* Connections one user (peer uid) may hold: a quarter of them, so that no
 * one user locks every other application out. */
#define APPLINK_PER_USER (APPLINK_MAX_CONNS / 4)
/* Room for the largest code object anode accepts. */
#define APPLINK_MSG_MAX (WIRE_APPLINK_HDR_LEN + WIRE_CODE_MAX)
#define APPLINK_SNDBUF (1 << 20)

struct applink_conn {
	int fd;
	uint64_t handle;
	uid_t uid; /* the peer's, from SO_PEERCRED */
};

struct applink_server {
	int listen_fd;
	char *path;
	struct loop *loop;
	struct an_addr node_addr;
	char node_name[WIRE_APPLINK_NAME_MAX + 1];
	struct applink_handler h;
	struct applink_conn conns[APPLINK_MAX_CONNS];
	size_t n_conns;
	struct applink_counters counters;
	uint8_t msg[APPLINK_MSG_MAX];
};

static struct applink_conn *conn_by_handle(struct applink_server *s, uint64_t handle)
{
	if (handle == 0)
		return NULL;
	for (size_t i = 0; i < s->n_conns; i++)
		if (s->conns[i].handle == handle)
			return &s->conns[i];
	return NULL;
}

static void conn_close(struct applink_server *s, struct applink_conn *c)
{
	loop_fd_del(s->loop, c->fd);
	close(c->fd);
	s->counters.closed++;
	*c = s->conns[--s->n_conns];
}

static void conn_readable(void *arg, int fd, uint32_t events)
{
	struct applink_server *s = arg;
	uint64_t handle = 0;
	for (size_t i = 0; i < s->n_conns; i++)
		if (s->conns[i].fd == fd)
			handle = s->conns[i].handle;
	/* A bounded number of messages per wakeup, and none past the round's
	 * slice but the first, keeps one busy application from starving the
	 * network links. Handlers and replies may close
	 * connections (and move others in the array), so look it up each time. */
	for (int budget = 64; budget > 0 && (budget == 64 || !loop_slice_spent(s->loop)); budget--) {
		struct applink_conn *c = conn_by_handle(s, handle);
		if (!c)
			return;
		ssize_t n = recv(fd, s->msg, sizeof(s->msg), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* Nothing read: a record of no octets (malformed, answered),
		 * or the application gone. */
		if (n == 0 && !seqpacket_peer_gone(fd)) {
			s->counters.bad_messages++;
			applink_reply(s, handle, WIRE_APP_ERROR, -EBADMSG, NULL, 0);
			continue;
		}
		if (n <= 0) {
			conn_close(s, c);
			if (s->h.closed)
				s->h.closed(s->h.arg, handle);
			return;
		}
		if ((size_t)n > sizeof(s->msg)) {
			s->counters.bad_messages++;
			applink_reply(s, handle, WIRE_APP_ERROR, -EMSGSIZE, NULL, 0);
			continue;
		}
		struct wire_applink m;
		int r = wire_applink_parse(s->msg, (size_t)n, &m);
		if (r < 0) {
			s->counters.bad_messages++;
			applink_reply(s, handle, WIRE_APP_ERROR, r, NULL, 0);
			continue;
		}
		switch (m.type) {
		case WIRE_APP_INJECT:
			s->h.inject(s->h.arg, handle, m.body, m.body_len);
			break;
		case WIRE_APP_CODE_INSERT:
			s->h.code_insert(s->h.arg, handle, m.body, m.body_len);
			break;
		default:
			if (s->h.message && s->h.message(s->h.arg, handle, &m) == 0)
				break;
			s->counters.bad_messages++;
			applink_reply(s, handle, WIRE_APP_ERROR, -EOPNOTSUPP, NULL, 0);
			break;
		}
	}
}

/* Tell a client refused at the door why (an ERROR record in place of the
 * HELLO it waits for), before closing it. */
static void refuse(int fd, int err, uid_t uid, size_t mine, size_t all)
{
	char text[128];
	int k;
	if (err == -EUSERS)
		k = snprintf(text, sizeof(text), "uid %u holds %zu of its %d application links", (unsigned)uid, mine,
			     APPLINK_PER_USER);
	else
		k = snprintf(text, sizeof(text), "the node holds %zu application links, its most", all);
	uint8_t msg[WIRE_APPLINK_HDR_LEN + sizeof(text)];
	ssize_t n = wire_applink_build(msg, sizeof(msg), WIRE_APP_ERROR, err, text, k > 0 ? (size_t)k : 0);
	if (n > 0 && send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("application link refusal: %s", strerror(errno));
}

static void listen_readable(void *arg, int fd, uint32_t events)
{
	struct applink_server *s = arg;
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
		size_t mine = 0;
		for (size_t i = 0; i < s->n_conns; i++)
			mine += s->conns[i].uid == cred.uid;
		if (s->n_conns == APPLINK_MAX_CONNS || mine >= APPLINK_PER_USER) {
			if (mine >= APPLINK_PER_USER)
				s->counters.refused_user++;
			else
				s->counters.refused_full++;
			log_ratelimited_by(LOG_WARNING, "application link refused", NULL,
					   "application link refused: uid %u holds %zu of %d connections (%zu in all)",
					   (unsigned)cred.uid, mine, APPLINK_PER_USER, s->n_conns);
			refuse(cfd, mine >= APPLINK_PER_USER ? -EUSERS : -EBUSY, cred.uid, mine, s->n_conns);
			close(cfd);
			continue;
		}
		int sndbuf = APPLINK_SNDBUF;
		setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
		uint64_t handle = 0;
		/* 63 random bits: code objects pass handles through int64_t
		 * returns (an_call), where negative values mean errors. */
		while (handle == 0 || conn_by_handle(s, handle)) {
			if (getrandom(&handle, sizeof(handle), 0) != sizeof(handle))
				fatal("getrandom: %s", strerror(errno));
			handle &= INT64_MAX;
		}
		if (loop_fd_add(s->loop, cfd, EPOLLIN, conn_readable, s) < 0) {
			close(cfd);
			continue;
		}
		s->conns[s->n_conns++] = (struct applink_conn){.fd = cfd, .handle = handle, .uid = cred.uid};
		s->counters.accepted++;
		uint8_t hello[WIRE_APPLINK_HDR_LEN + 8 + sizeof(struct an_addr) + WIRE_APPLINK_NAME_MAX];
		ssize_t n = wire_applink_build_hello(hello, sizeof(hello), handle, &s->node_addr, s->node_name);
		if (n < 0 || send(cfd, hello, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
			conn_close(s, &s->conns[s->n_conns - 1]);
	}
}

struct applink_server *applink_server_open(const char *path, struct loop *loop, const struct an_addr *node_addr,
					   const char *node_name, const struct applink_handler *h)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	struct applink_server *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->path = strdup(path);
	s->loop = loop;
	s->node_addr = *node_addr;
	snprintf(s->node_name, sizeof(s->node_name), "%s", node_name);
	s->h = *h;
	strcpy(sun.sun_path, path);
	s->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 || !s->path)
		goto fail;
	unlink(path); /* a stale socket from a node that was killed */
	/* Owner and group may connect (docs/architecture.md), whatever the
	 * umask: set around bind, so that the socket never exists wider. */
	mode_t old_mask = umask(0117);
	int b = bind(s->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (b < 0 || listen(s->listen_fd, 64) < 0 || loop_fd_add(loop, s->listen_fd, EPOLLIN, listen_readable, s) < 0)
		goto fail;
	return s;
fail:;
	int e = errno;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	free(s->path);
	free(s);
	errno = e;
	return NULL;
}

void applink_server_close(struct applink_server *s)
{
	if (!s)
		return;
	while (s->n_conns)
		conn_close(s, &s->conns[0]);
	loop_fd_del(s->loop, s->listen_fd);
	close(s->listen_fd);
	unlink(s->path);
	free(s->path);
	free(s);
}

static int conn_send(struct applink_server *s, struct applink_conn *c, const void *msg, size_t len)
{
	ssize_t n = send(c->fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == (ssize_t)len)
		return 0;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
		return -EAGAIN;
	conn_close(s, c);
	return -ENOTCONN;
}

int applink_deliver(struct applink_server *s, uint64_t handle, const uint8_t code[32], const void *data, size_t len)
{
	struct applink_conn *c = conn_by_handle(s, handle);
	if (!c) {
		s->counters.deliver_gone++;
		return -ENOTCONN;
	}
	uint8_t msg[WIRE_APPLINK_HDR_LEN + 32 + AN_PKT_MAX];
	ssize_t n = wire_applink_build_deliver(msg, sizeof(msg), code, data, len);
	if (n < 0)
		return (int)n;
	int r = conn_send(s, c, msg, (size_t)n);
	if (r == 0)
		s->counters.delivered++;
	else if (r == -EAGAIN)
		s->counters.deliver_full++;
	else
		s->counters.deliver_gone++;
	return r;
}

int applink_reply(struct applink_server *s, uint64_t handle, uint8_t type, int32_t status, const void *body, size_t len)
{
	struct applink_conn *c = conn_by_handle(s, handle);
	if (!c)
		return -ENOTCONN;
	/* Replies and concast deliveries (a flow and a message) fit. */
	uint8_t msg[WIRE_APPLINK_HDR_LEN + WIRE_FLOW_LEN + WIRE_CONCAST_MSG_MAX];
	ssize_t n = wire_applink_build(msg, sizeof(msg), type, status, body, len);
	if (n < 0)
		return (int)n;
	return conn_send(s, c, msg, (size_t)n);
}

bool applink_alive(struct applink_server *s, uint64_t handle)
{
	return conn_by_handle(s, handle) != NULL;
}

size_t applink_count(struct applink_server *s)
{
	return s->n_conns;
}

const struct applink_counters *applink_counters(struct applink_server *s)
{
	return &s->counters;
}
