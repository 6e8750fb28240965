// SPDX-License-Identifier: MIT
/*
 * The node child's end of the socket pair with its privileged parent
 * (priv.h): filter requests go out as they come, answers (with the bound
 * queue socket) come back on the loop and go to the matching engine, so
 * that installing a filter never blocks the packet path. A request the
 * socket cannot take now waits in order in an outgoing queue, sent when
 * the parent has read: none is ever lost, so parent and child agree on
 * every rule (a lost removal would leave a rule behind, and a filter id
 * the parent still holds). What bounds the queue is upstream: a user's
 * filter changes are rate-limited by the service API, a removal follows
 * at most one install.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "priv/priv.h"
#include "anode/kernel.h"
#include "wire/wire.h"

/* How long a child just started waits for its configuration. */
#define PRIV_CHILD_CONFIG_MS 5000

/* A request waiting for room in the socket. */
struct chan_out {
	struct chan_out *next;
	size_t len;
	uint8_t buf[];
};

struct priv_chan {
	struct loop *loop;
	int fd;
	struct chan_out *out_head, **out_tail; /* FIFO; out_tail points at the last next */
	size_t out_len, out_max;	       /* requests waiting now, and the most at once */
	void (*gone)(void *arg);
	void *arg;
	struct match_engine *m;
	struct priv_svc_handler svc;
	int (*config)(void *arg, const char *cfg, size_t cfg_len, const char *policy, size_t policy_len);
	void *config_arg;
	void (*capacity)(void *arg, int64_t bps);
	void *capacity_arg;
	struct priv_kern_handler kern;
};

/* Send what waits, in order, while the socket takes it; then wait for
 * EPOLLOUT again if some is left. 0, or -EPIPE when the parent is gone. */
static int chan_flush(struct priv_chan *c)
{
	while (c->out_head) {
		struct chan_out *o = c->out_head;
		if (send(c->fd, o->buf, o->len, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)o->len) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
				break;
			return errno == ECONNRESET ? -EPIPE : -errno;
		}
		c->out_head = o->next;
		if (!c->out_head)
			c->out_tail = &c->out_head;
		c->out_len--;
		free(o);
	}
	loop_fd_mod(c->loop, c->fd, c->out_head ? EPOLLIN | EPOLLOUT : EPOLLIN);
	return 0;
}

static int chan_send(struct priv_chan *c, const struct wire_priv *msg)
{
	uint8_t buf[WIRE_PRIV_MSG_MAX];
	ssize_t n = wire_priv_build(buf, sizeof(buf), msg);
	if (n < 0)
		return (int)n;
	if (c->fd < 0)
		return -EPIPE;
	/* Straight out when nothing waits before it. */
	if (!c->out_head) {
		if (send(c->fd, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
			return 0;
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			return -errno;
	}
	struct chan_out *o = malloc(sizeof(*o) + (size_t)n);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = (size_t)n;
	memcpy(o->buf, buf, (size_t)n);
	*c->out_tail = o;
	c->out_tail = &o->next;
	if (++c->out_len > c->out_max)
		c->out_max = c->out_len;
	return chan_flush(c);
}

static int be_install(void *arg, unsigned id, uint16_t queue, const struct match_filter *f)
{
	struct priv_chan *c = arg;
	struct wire_priv msg = {
	    .type = WIRE_PRIV_FILTER_ADD,
	    .id = id,
	    .filter = {.src = f->src,
		       .dst = f->dst,
		       .src_prefix = f->src_prefix,
		       .dst_prefix = f->dst_prefix,
		       .proto = f->proto,
		       .sport_lo = f->sport_lo,
		       .sport_hi = f->sport_hi,
		       .dport_lo = f->dport_lo,
		       .dport_hi = f->dport_hi},
	};
	(void)queue; /* the parent derives it from the id and its own configuration */
	int r = chan_send(c, &msg);
	if (r < 0)
		log_ratelimited(LOG_ERR, "priv: cannot ask the parent for filter %u: %s", id, strerror(-r));
	return r;
}

static int be_remove(void *arg, unsigned id, uint16_t queue, const struct match_filter *f)
{
	struct priv_chan *c = arg;
	struct wire_priv msg = {.type = WIRE_PRIV_FILTER_DEL, .id = id};
	(void)queue;
	(void)f;
	int r = chan_send(c, &msg);
	if (r < 0)
		log_ratelimited(LOG_WARNING, "priv: cannot ask the parent to remove filter %u: %s", id, strerror(-r));
	return r;
}

static void out_free(struct priv_chan *c)
{
	while (c->out_head) {
		struct chan_out *o = c->out_head;
		c->out_head = o->next;
		free(o);
	}
	c->out_tail = &c->out_head;
	c->out_len = 0;
}

static void chan_gone(struct priv_chan *c)
{
	if (c->fd < 0)
		return;
	out_free(c);
	loop_fd_del(c->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	c->gone(c->arg);
}

/* The text of a CONFIG, from its memfd: only a memfd sealed against
 * writing, growing and shrinking, of exactly the lengths the message
 * names, so that what the parent checked is what the node reads. A
 * malloc'ed buffer (cfg_len + policy_len + 1 octets, NUL-ended), or NULL. */
static char *config_text(int fd, const struct wire_priv *msg)
{
	const int seals = F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK;
	struct stat st;
	size_t len = (size_t)msg->config_len + msg->policy_len;
	int have = fd >= 0 ? fcntl(fd, F_GET_SEALS) : -1;
	if (have < 0 || (have & seals) != seals || fstat(fd, &st) < 0 || (size_t)st.st_size != len)
		return NULL;
	char *text = malloc(len + 1);
	size_t got = 0;
	while (text && got < len) {
		ssize_t k = pread(fd, text + got, len - got, (off_t)got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	if (!text || got != len) {
		free(text);
		return NULL;
	}
	text[len] = '\0';
	return text;
}

int priv_child_config(int chan_fd, char **ret_text, size_t *ret_cfg_len, size_t *ret_policy_len, char *err,
		      size_t errlen)
{
	struct pollfd pfd = {.fd = chan_fd, .events = POLLIN};
	if (poll(&pfd, 1, PRIV_CHILD_CONFIG_MS) <= 0) {
		snprintf(err, errlen, "no configuration from the parent within %d ms", PRIV_CHILD_CONFIG_MS);
		return -ETIMEDOUT;
	}
	uint8_t buf[WIRE_PRIV_MSG_MAX + 1];
	int fd, extra;
	ssize_t n = priv_msg_recv(chan_fd, buf, sizeof(buf), &fd, &extra);
	struct wire_priv msg;
	int r = n <= 0 ? -EPIPE : wire_priv_parse(buf, (size_t)n, &msg);
	char *text = r == 0 && msg.type == WIRE_PRIV_CONFIG ? config_text(fd, &msg) : NULL;
	if (fd >= 0)
		close(fd);
	if (!text) {
		snprintf(err, errlen, "the parent's first message is not a configuration in a sealed memfd");
		return -EBADMSG;
	}
	*ret_text = text;
	*ret_cfg_len = msg.config_len;
	*ret_policy_len = msg.policy_len;
	return 0;
}

static void config_received(struct priv_chan *c, const struct wire_priv *msg, int fd)
{
	struct wire_priv done = {.type = WIRE_PRIV_CONFIG_DONE, .id = msg->id, .status = -EBADMSG};
	char *text = config_text(fd, msg);
	if (!text)
		log_err("priv: configuration %u from the parent: not a sealed memfd of the lengths named", msg->id);
	else if (!c->config)
		done.status = -EOPNOTSUPP;
	else
		done.status = c->config(c->config_arg, text, msg->config_len, text + msg->config_len, msg->policy_len);
	free(text);
	int r = chan_send(c, &done);
	if (r < 0)
		log_warn("priv: cannot answer the parent's configuration %u: %s", msg->id, strerror(-r));
}

/* One record from the parent, with at most one descriptor; room for
 * what waits to go out. */
static void chan_readable(void *arg, int fd, uint32_t events)
{
	struct priv_chan *c = arg;
	if ((events & EPOLLOUT) && chan_flush(c) < 0) {
		log_warn("priv: the privileged parent is gone: stopping");
		chan_gone(c);
		return;
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
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
		if (r == 0 && msg.type == WIRE_PRIV_CAPACITY) {
			if (qfd >= 0)
				close(qfd);
			if (c->capacity)
				c->capacity(c->capacity_arg, (int64_t)msg.value * 1000);
			continue;
		}
		if (r == 0 && msg.type == WIRE_PRIV_KERN_XSK) {
			struct wire_priv_kxsk x;
			char why[WIRE_PRIV_TEXT_MAX + 1];
			wire_priv_kxsk_get(msg.data, &x);
			memcpy(why, msg.data + WIRE_PRIV_KXSK_LEN, msg.data_len - WIRE_PRIV_KXSK_LEN);
			why[msg.data_len - WIRE_PRIV_KXSK_LEN] = '\0';
			if (c->kern.xsk)
				c->kern.xsk(c->kern.arg, msg.id, &x, msg.status, why, qfd);
			else if (qfd >= 0)
				close(qfd);
			continue;
		}
		if (r == 0 && (msg.type == WIRE_PRIV_KERN_READY || msg.type == WIRE_PRIV_KERN_LOADED)) {
			char text[WIRE_PRIV_TEXT_MAX + 1];
			memcpy(text, msg.data, msg.data_len);
			text[msg.data_len] = '\0';
			if (msg.status < 0) {
				if (qfd >= 0)
					close(qfd);
				qfd = -1;
			}
			if (msg.type == WIRE_PRIV_KERN_READY && c->kern.ready)
				c->kern.ready(c->kern.arg, msg.status, text, qfd);
			else if (msg.type == WIRE_PRIV_KERN_LOADED && c->kern.loaded)
				c->kern.loaded(c->kern.arg, msg.id, msg.status, text, qfd);
			else if (qfd >= 0)
				close(qfd);
			continue;
		}
		if (r == 0 && msg.type == WIRE_PRIV_CONFIG) {
			config_received(c, &msg, qfd);
			if (qfd >= 0)
				close(qfd);
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
				log_warn(
				    "priv: removing the rule of filter %u failed: %s (bypassed until the next start)",
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
	*c = (struct priv_chan){.loop = loop, .fd = chan_fd, .gone = gone, .arg = arg};
	c->out_tail = &c->out_head;
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
	out_free(c);
	if (c->fd >= 0) {
		loop_fd_del(c->loop, c->fd);
		close(c->fd);
	}
	free(c);
}

void priv_chan_queue(const struct priv_chan *c, size_t *ret_now, size_t *ret_most)
{
	*ret_now = c->out_len;
	*ret_most = c->out_max;
}

struct match_backend priv_chan_match_backend(struct priv_chan *c)
{
	return (struct match_backend){.install = be_install, .remove = be_remove, .arg = c};
}

void priv_chan_set_engine(struct priv_chan *c, struct match_engine *m)
{
	c->m = m;
}

void priv_chan_set_svc_handler(struct priv_chan *c, const struct priv_svc_handler *h)
{
	c->svc = *h;
}

void priv_chan_set_config_handler(struct priv_chan *c,
				  int (*fn)(void *arg, const char *cfg, size_t cfg_len, const char *policy,
					    size_t policy_len),
				  void *arg)
{
	c->config = fn;
	c->config_arg = arg;
}

void priv_chan_set_capacity_handler(struct priv_chan *c, void (*fn)(void *arg, int64_t bps), void *arg)
{
	c->capacity = fn;
	c->capacity_arg = arg;
}

int priv_chan_svc_start(struct priv_chan *c, unsigned id, const void *request, size_t len)
{
	struct wire_priv m = {.type = WIRE_PRIV_SVC_START, .id = id, .request = request, .request_len = len};
	return chan_send(c, &m);
}

int priv_chan_svc_stop(struct priv_chan *c, unsigned id)
{
	struct wire_priv m = {.type = WIRE_PRIV_SVC_STOP, .id = id};
	return chan_send(c, &m);
}

int priv_chan_svc_freeze(struct priv_chan *c, unsigned id, bool freeze)
{
	struct wire_priv m = {.type = WIRE_PRIV_SVC_FREEZE, .id = id, .value = freeze};
	return chan_send(c, &m);
}

/* ---- the kernel path (src/kern) ---- */

void priv_chan_set_kern_handler(struct priv_chan *c, const struct priv_kern_handler *h)
{
	c->kern = *h;
}

int priv_chan_kern_start(struct priv_chan *c, const char *ifaces)
{
	struct wire_priv msg = {.type = WIRE_PRIV_KERN_START, .data = (const uint8_t *)ifaces,
				.data_len = strlen(ifaces)};
	return chan_send(c, &msg);
}

int priv_chan_kern_load(struct priv_chan *c, unsigned id, const uint8_t name[32], uint32_t state_max,
			const uint8_t *insns, size_t n)
{
	if (c->fd < 0)
		return -EPIPE;
	if (c->out_head)
		return -EAGAIN; /* a descriptor cannot wait in the queue: try again later */
	int fd = memfd_create("anode-kernel-insns", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	int r = 0;
	if (write(fd, insns, n * 8) != (ssize_t)(n * 8) || /* write: pwrite is not on the allow-list */
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		r = -errno;
	uint8_t d[WIRE_PRIV_KLOAD_LEN];
	wire_priv_kload_put(d, name, state_max);
	struct wire_priv msg = {.type = WIRE_PRIV_KERN_LOAD, .id = id, .data = d, .data_len = sizeof(d)};
	uint8_t buf[WIRE_PRIV_MSG_MAX];
	ssize_t len = r == 0 ? wire_priv_build(buf, sizeof(buf), &msg) : r;
	if (len >= 0)
		r = priv_msg_send(c->fd, buf, (size_t)len, fd);
	else
		r = (int)len;
	close(fd);
	return r;
}

int priv_chan_kern_unload(struct priv_chan *c, const uint8_t name[32])
{
	struct wire_priv msg = {.type = WIRE_PRIV_KERN_UNLOAD, .data = name, .data_len = 32};
	return chan_send(c, &msg);
}

int priv_chan_kern_filter(struct priv_chan *c, unsigned index, const uint8_t name[32], const struct an_kfilter *f)
{
	uint8_t d[WIRE_PRIV_KFILTER_LEN];
	struct wire_priv msg = {.type = WIRE_PRIV_KERN_FILTER, .id = index};
	if (f) {
		wire_priv_kfilter_put(d, name, f);
		msg.data = d;
		msg.data_len = sizeof(d);
	}
	return chan_send(c, &msg);
}

int priv_chan_kern_up(struct priv_chan *c)
{
	struct wire_priv msg = {.type = WIRE_PRIV_KERN_UP};
	return chan_send(c, &msg);
}

int priv_chan_kern_node(struct priv_chan *c, const struct an_knode *kn)
{
	uint8_t d[WIRE_PRIV_KNODE_LEN];
	wire_priv_knode_put(d, kn);
	struct wire_priv msg = {.type = WIRE_PRIV_KERN_NODE, .data = d, .data_len = sizeof(d)};
	return chan_send(c, &msg);
}
