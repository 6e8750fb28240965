// SPDX-License-Identifier: MIT
/*
 * libanode (see include/anode/anode.h): the application's end of an
 * application link. Messages are framed by src/wire; this file only moves
 * them. Replies to requests (code insert) can arrive after deliveries that
 * were already on their way, so those deliveries are kept in a small queue
 * for the next an_recv instead of being lost.
 */
#include "anode/anode.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "anode/node.h"
#include "anode/portmap.h"
#include "wire/wire.h"
#include "link_impl.h"

int64_t link_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int link_recv_msg(struct an_link *l, int timeout_ms, size_t *ret_len)
{
	struct pollfd p = {.fd = l->fd, .events = POLLIN};
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	ssize_t n = recv(l->fd, l->msg, sizeof(l->msg), 0);
	if (n < 0)
		return errno == ECONNRESET ? -ENOTCONN : -errno;
	if (n == 0)
		return -ENOTCONN;
	*ret_len = (size_t)n;
	return 0;
}

int link_send(struct an_link *l, uint8_t type, const void *body, size_t len)
{
	ssize_t n = wire_applink_build(l->out, sizeof(l->out), type, 0, body, len);
	if (n < 0)
		return (int)n;
	if (send(l->fd, l->out, (size_t)n, MSG_NOSIGNAL) != n)
		return errno == EPIPE ? -ENOTCONN : -errno;
	return 0;
}

struct an_link *an_link_open(const char *app_socket)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(app_socket) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	strcpy(sun.sun_path, app_socket);
	if (sodium_init() < 0) {
		errno = EIO;
		return NULL;
	}
	struct an_link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (l->fd < 0)
		goto fail;
	int buf = 1 << 20;
	setsockopt(l->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (connect(l->fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	size_t len = 0;
	int r = link_recv_msg(l, LINK_REPLY_TIMEOUT_MS, &len);
	struct wire_applink m;
	if (r < 0 || wire_applink_parse(l->msg, len, &m) < 0 || m.type != WIRE_APP_HELLO) {
		/* A node that refuses the link says why first: EUSERS when
		 * this uid holds its share of links, EBUSY when all are taken. */
		bool refused = r >= 0 && m.type == WIRE_APP_ERROR && m.status < 0;
		errno = r < 0 ? -r : refused ? -m.status : EPROTO;
		goto fail;
	}
	l->handle = m.handle;
	l->node_addr = m.addr;
	memcpy(l->node_name, m.name, sizeof(l->node_name));
	return l;
fail:;
	int e = errno;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
	errno = e;
	return NULL;
}

void an_link_close(struct an_link *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_pending; i++)
		free(l->pending[i].msg);
	free(l->last_pending);
	close(l->fd);
	free(l);
}

int an_link_fd(const struct an_link *l)
{
	return l->fd;
}

const struct an_addr *an_link_node_addr(const struct an_link *l)
{
	return &l->node_addr;
}

const char *an_link_node_name(const struct an_link *l)
{
	return l->node_name;
}

int an_code_read_file(const char *path, void **ret_code, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > LINK_CODE_MAX) {
		close(fd);
		return -EFBIG;
	}
	void *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	ssize_t n = read(fd, buf, (size_t)st.st_size);
	int e = errno;
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return n < 0 ? -e : -EIO;
	}
	*ret_code = buf;
	*ret_len = (size_t)n;
	return 0;
}

void an_code_name(const void *code, size_t len, uint8_t ret_name[AN_NAME_LEN])
{
	wire_code_name(code, len, ret_name);
}

int link_keep_pending(struct an_link *l, size_t len)
{
	if (l->n_pending == LINK_PENDING_MAX)
		return -ENOBUFS; /* the oldest stays; this one is lost, as a full socket would lose it */
	uint8_t *copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, l->msg, len);
	l->pending[l->n_pending++] = (struct pending){.len = len, .msg = copy};
	return 0;
}

int link_wait_left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - link_now_ms();
	return left > 0 ? (int)left : 0;
}

int link_await(struct an_link *l, int timeout_ms, bool (*want)(const struct wire_applink *m, const void *arg),
	       const void *arg, struct wire_applink *ret)
{
	int64_t deadline = timeout_ms < 0 ? -1 : link_now_ms() + timeout_ms;
	for (;;) {
		size_t len = 0;
		int r = link_recv_msg(l, link_wait_left(deadline), &len);
		if (r < 0)
			return r;
		if (wire_applink_parse(l->msg, len, ret) == 0 && want(ret, arg))
			return 0;
		link_keep_pending(l, len);
	}
}

static bool is_code_result(const struct wire_applink *m, const void *arg)
{
	(void)arg;
	return m->type == WIRE_APP_CODE_RESULT;
}

int an_code_insert(struct an_link *l, const void *code, size_t len, uint8_t ret_name[AN_NAME_LEN])
{
	struct wire_applink m;
	int r = link_send(l, WIRE_APP_CODE_INSERT, code, len);
	if (r == 0)
		r = link_await(l, LINK_REPLY_TIMEOUT_MS, is_code_result, NULL, &m);
	if (r < 0)
		return r;
	if (m.status == 0 && ret_name)
		memcpy(ret_name, m.code, AN_NAME_LEN);
	size_t wlen = m.body_len - AN_NAME_LEN;
	memcpy(l->refusal, m.body + AN_NAME_LEN, wlen);
	l->refusal[wlen] = '\0';
	return m.status;
}

const char *an_link_refusal(const struct an_link *l)
{
	return l->refusal;
}

int an_capsule_send(struct an_link *l, const struct an_capsule *c)
{
	uint8_t pkt[AN_PKT_MAX];
	struct wire_capsule_spec spec = {
	    .hop_limit = c->hop_limit,
	    .copies = c->copies,
	    .src = &l->node_addr,
	    .dst = c->dst,
	    .name = c->code,
	    .home = c->home ? c->home : &l->node_addr,
	    .code = c->carried,
	    .code_len = c->carried ? c->carried_len : 0,
	    .data = c->data,
	    .data_len = c->data_len,
	    .goals = c->goals,
	    .n_goals = c->goals ? c->n_goals : 0,
	    .prev_hop = &l->node_addr, /* each node rewrites it as it sends */
	};
	size_t plen;
	int r = wire_capsule_build(pkt, sizeof(pkt), &spec, &plen);
	if (r < 0)
		return r;
	return link_send(l, WIRE_APP_INJECT, pkt, plen);
}

static int to_delivery(const uint8_t *msg, size_t len, struct an_delivery *ret)
{
	struct wire_applink m;
	if (wire_applink_parse(msg, len, &m) < 0)
		return -EBADMSG;
	if (m.type == WIRE_APP_DELIVER) {
		*ret = (struct an_delivery){.error = 0, .data = m.body + AN_NAME_LEN, .len = m.body_len - AN_NAME_LEN};
		memcpy(ret->code, m.code, AN_NAME_LEN);
		return 0;
	}
	if (m.type == WIRE_APP_CONCAST_DELIVER) {
		*ret = (struct an_delivery){
		    .concast = 1, .flow = m.flow, .data = m.body + WIRE_FLOW_LEN, .len = m.body_len - WIRE_FLOW_LEN};
		return 0;
	}
	if (m.type == WIRE_APP_CONCAST_STATUS && m.status < 0) {
		*ret = (struct an_delivery){.concast = 1,
					    .flow = m.flow,
					    .error = m.status,
					    .data = m.body + WIRE_FLOW_LEN + AN_NAME_LEN,
					    .len = m.body_len - WIRE_FLOW_LEN - AN_NAME_LEN};
		return 0;
	}
	if (m.type == WIRE_APP_CONCAST_PATH) {
		*ret = (struct an_delivery){.concast = 1,
					    .flow = m.flow,
					    .path = m.body[WIRE_FLOW_LEN],
					    .data = m.body + WIRE_FLOW_LEN + 1,
					    .len = m.body_len - WIRE_FLOW_LEN - 1};
		return 0;
	}
	if (m.type == WIRE_APP_ERROR) {
		*ret = (struct an_delivery){.error = m.status ? m.status : -EIO, .data = m.body, .len = m.body_len};
		return 0;
	}
	return -EAGAIN; /* not for the application: skip */
}

int an_recv(struct an_link *l, struct an_delivery *ret, int timeout_ms)
{
	free(l->last_pending);
	l->last_pending = NULL;
	while (l->n_pending) {
		struct pending p = l->pending[0];
		memmove(l->pending, l->pending + 1, --l->n_pending * sizeof(p));
		l->last_pending = p.msg;
		if (to_delivery(p.msg, p.len, ret) == 0)
			return 0;
		free(p.msg);
		l->last_pending = NULL;
	}
	int64_t deadline = timeout_ms < 0 ? -1 : link_now_ms() + timeout_ms;
	for (;;) {
		size_t len = 0;
		int r = link_recv_msg(l, link_wait_left(deadline), &len);
		if (r < 0)
			return r;
		if (to_delivery(l->msg, len, ret) == 0)
			return 0;
	}
}

/* Send a portmapper request and wait for the portmapper's reply. */
static int portmap_request(struct an_link *l, const uint8_t pm[AN_NAME_LEN], uint32_t op, uint32_t port,
			   uint32_t *ret_port)
{
	struct pm_msg req = {.op = op, .port = port};
	struct an_capsule c = {.code = pm, .data = &req, .data_len = sizeof(req), .hop_limit = 1};
	int r = an_capsule_send(l, &c);
	if (r < 0)
		return r;
	int64_t deadline = link_now_ms() + LINK_REPLY_TIMEOUT_MS;
	for (;;) {
		struct an_delivery d;
		r = an_recv(l, &d, link_wait_left(deadline));
		if (r < 0)
			return r;
		if (d.error)
			return d.error;
		if (memcmp(d.code, pm, AN_NAME_LEN) != 0 || d.len < sizeof(struct pm_msg))
			continue; /* a delivery from other code: not ours to keep here */
		struct pm_msg rep;
		memcpy(&rep, d.data, sizeof(rep));
		if (rep.op != op)
			continue;
		if (rep.status == 0 && ret_port)
			*ret_port = rep.port;
		return rep.status;
	}
}

int an_portmap_bind(struct an_link *l, const uint8_t pm[AN_NAME_LEN], uint32_t port, uint32_t *ret_port)
{
	/* For "any port" the portmapper tries one candidate per request and
	 * says -EAGAIN when it was taken: ask again, a bounded number of times. */
	int r = -EAGAIN;
	for (int tries = 0; r == -EAGAIN && tries < 64; tries++)
		r = portmap_request(l, pm, PM_BIND, port, ret_port);
	return r;
}

int an_portmap_release(struct an_link *l, const uint8_t pm[AN_NAME_LEN], uint32_t port)
{
	return portmap_request(l, pm, PM_RELEASE, port, NULL);
}

int an_addr_parse(const char *s, struct an_addr *ret)
{
	return wire_addr_parse(s, ret);
}

int an_prefix_parse(const char *s, struct an_prefix *ret)
{
	return wire_prefix_parse(s, ret);
}

char *an_addr_format(const struct an_addr *a, char *buf, size_t len)
{
	return wire_addr_format(a, buf, len);
}
