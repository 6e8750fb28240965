// SPDX-License-Identifier: MIT
/*
 * The node child's end of the socket pair with its privileged parent
 * (priv.h): filter requests go out as they come, answers (with the bound
 * queue socket) come back on the loop and go to the matching engine, so
 * that installing a filter never blocks the packet path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "priv/priv.h"
#include "wire/wire.h"

struct priv_chan {
	struct loop *loop;
	int fd;
	void (*gone)(void *arg);
	void *arg;
	struct match_engine *m;
	struct priv_svc_handler svc;
};

static int chan_send(struct priv_chan *c, const struct wire_priv *msg)
{
	uint8_t buf[WIRE_PRIV_MSG_MAX];
	ssize_t n = wire_priv_build(buf, sizeof(buf), msg);
	if (n < 0)
		return (int)n;
	if (c->fd < 0)
		return -EPIPE;
	/* Small records to a parent that reads them at once: a full socket
	 * means the parent is stuck, and the request fails rather than wait. */
	if (send(c->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
		return -errno;
	return 0;
}

static int be_install(void *arg, unsigned id, uint16_t queue, const struct match_filter *f)
{
	struct priv_chan *c = arg;
	struct wire_priv msg = {
		.type = WIRE_PRIV_FILTER_ADD,
		.id = id,
		.filter = { .src = f->src, .dst = f->dst, .src_prefix = f->src_prefix, .dst_prefix = f->dst_prefix,
			    .proto = f->proto, .sport_lo = f->sport_lo, .sport_hi = f->sport_hi,
			    .dport_lo = f->dport_lo, .dport_hi = f->dport_hi },
	};
	(void)queue; /* the parent derives it from the id and its own configuration */
	int r = chan_send(c, &msg);
	if (r < 0)
		log_err("priv: cannot ask the parent for filter %u: %s", id, strerror(-r));
	return r;
}

static int be_remove(void *arg, unsigned id, uint16_t queue, const struct match_filter *f)
{
	struct priv_chan *c = arg;
	struct wire_priv msg = { .type = WIRE_PRIV_FILTER_DEL, .id = id };
	(void)queue;
	(void)f;
	int r = chan_send(c, &msg);
	if (r < 0)
		log_warn("priv: cannot ask the parent to remove filter %u: %s", id, strerror(-r));
	return r;
}

static void chan_gone(struct priv_chan *c)
{
	if (c->fd < 0)
		return;
	loop_fd_del(c->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->gone(c->arg);
}

/* One record from the parent, with at most one descriptor. */
static void chan_readable(void *arg, int fd, uint32_t events)
{
	struct priv_chan *c = arg;
	for (;;) {
		uint8_t buf[WIRE_PRIV_MSG_MAX + 1];
		int qfd, extra;
		ssize_t n = priv_msg_recv(fd, buf, sizeof(buf), &qfd, &extra);
		if (n == -EAGAIN)
			return;
		if (n == 0 || (n < 0 && n != -EMSGSIZE)) {
			log_warn("priv: the privileged parent is gone: stopping");
			if (qfd >= 0)
				close(qfd);
			chan_gone(c);
			return;
		}
		struct wire_priv msg;
		int r = n < 0 ? -EBADMSG : wire_priv_parse(buf, (size_t)n, &msg);
		if (r == 0 && (msg.type == WIRE_PRIV_SVC_STARTED || msg.type == WIRE_PRIV_SVC_ENDED)) {
			if (msg.type == WIRE_PRIV_SVC_ENDED || msg.status < 0) {
				if (qfd >= 0)
					close(qfd);
				qfd = -1;
			}
			if (msg.type == WIRE_PRIV_SVC_STARTED && msg.status == 0 && qfd < 0)
				msg.status = -EBADF;
			if (!c->svc.started) {
				if (qfd >= 0)
					close(qfd);
			} else if (msg.type == WIRE_PRIV_SVC_STARTED) {
				c->svc.started(c->svc.arg, msg.id, msg.status, (pid_t)msg.value, qfd);
			} else {
				c->svc.ended(c->svc.arg, msg.id, (int)msg.value);
			}
			continue;
		}
		if (r < 0 || (msg.type != WIRE_PRIV_FILTER_ADDED && msg.type != WIRE_PRIV_FILTER_DELETED)) {
			log_err("priv: the parent sent what it should not (%s)", r < 0 ? strerror(-r) : "a request");
			if (qfd >= 0)
				close(qfd);
			continue;
		}
		if (msg.type == WIRE_PRIV_FILTER_DELETED) {
			if (qfd >= 0)
				close(qfd);
			if (msg.status < 0)
				log_warn("priv: removing the rule of filter %u failed: %s (bypassed until the next start)",
					 msg.id, strerror(-msg.status));
			continue;
		}
		if (msg.status < 0 && qfd >= 0) {
			close(qfd);
			qfd = -1;
		}
		if (msg.status < 0)
			log_err("priv: the parent could not install filter %u: %s", msg.id, strerror(-msg.status));
		if (c->m)
			match_filter_ready(c->m, msg.id, qfd, msg.status);
		else if (qfd >= 0)
			close(qfd);
	}
}

struct priv_chan *priv_chan_open(struct loop *loop, int chan_fd, void (*gone)(void *arg), void *arg)
{
	struct priv_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct priv_chan){ .loop = loop, .fd = chan_fd, .gone = gone, .arg = arg };
	if (loop_fd_add(loop, chan_fd, EPOLLIN, chan_readable, c) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void priv_chan_close(struct priv_chan *c)
{
	if (!c)
		return;
	if (c->fd >= 0) {
		loop_fd_del(c->loop, c->fd);
		close(c->fd);
	}
	free(c);
}

struct match_backend priv_chan_match_backend(struct priv_chan *c)
{
	return (struct match_backend){ .install = be_install, .remove = be_remove, .arg = c };
}

void priv_chan_set_engine(struct priv_chan *c, struct match_engine *m)
{
	c->m = m;
}

void priv_chan_set_svc_handler(struct priv_chan *c, const struct priv_svc_handler *h)
{
	c->svc = *h;
}

int priv_chan_svc_start(struct priv_chan *c, unsigned id, const void *request, size_t len)
{
	struct wire_priv m = { .type = WIRE_PRIV_SVC_START, .id = id, .request = request, .request_len = len };
	return chan_send(c, &m);
}

int priv_chan_svc_stop(struct priv_chan *c, unsigned id)
{
	struct wire_priv m = { .type = WIRE_PRIV_SVC_STOP, .id = id };
	return chan_send(c, &m);
}

int priv_chan_svc_freeze(struct priv_chan *c, unsigned id, bool freeze)
{
	struct wire_priv m = { .type = WIRE_PRIV_SVC_FREEZE, .id = id, .value = freeze };
	return chan_send(c, &m);
}
