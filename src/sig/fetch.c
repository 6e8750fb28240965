// SPDX-License-Identifier: MIT
/*
 * Fetching modules, node side (fetch.h). The fetcher is a child of this
 * process: in router mode the node child, which starts it while still
 * root (before it drops privileges and its allow-list forbids exec) and
 * lets the kernel reap it (SA_NOCLDWAIT: the child may not wait). Its
 * socket is on the node's loop; a fetch is a slot with its waiters, its
 * body filled chunk by chunk in order, and a deadline past which the node
 * stops waiting whatever the fetcher does.
 */
#include "sig/fetch.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "node/room.h"
#include "priv/sandbox.h"
#include "wire/fetch.h"

#define FETCHER_UID (SANDBOX_UID_BASE - 1) /* no principal's */
#define FETCH_GRACE_MS 2000		   /* past the fetch's own time, before the node gives up */

struct waiter {
	sig_fetch_cb cb;
	void *arg;
};

struct fetch {
	bool used;
	uint64_t id;
	uint8_t hash[32];
	uint32_t size;
	uint64_t deadline_ms;
	bool announced; /* its RESULT came: chunks follow */
	uint8_t *body;
	size_t got;
	struct waiter w[SIG_FETCH_WAITERS_MAX];
	size_t n_w;
};

struct sig_fetcher {
	struct node *n;
	int fd;
	pid_t pid;
	char name[96];
	uint64_t next_id;
	struct fetch f[SIG_FETCHES_MAX];
	struct sig_fetch_counters c;
};

static void fetch_end(struct sig_fetcher *sf, struct fetch *f, int status, const char *why, const uint8_t *body,
		      size_t len)
{
	struct fetch done = *f;
	*f = (struct fetch){0};
	for (size_t i = 0; i < done.n_w; i++)
		done.w[i].cb(done.w[i].arg, status, why, body, len);
	free(done.body);
}

static struct fetch *by_id(struct sig_fetcher *sf, uint64_t id)
{
	for (size_t i = 0; i < SIG_FETCHES_MAX; i++)
		if (sf->f[i].used && sf->f[i].id == id)
			return &sf->f[i];
	return NULL;
}

/* The fetcher went away: every fetch fails, and no more are taken. */
static void fetcher_gone(struct sig_fetcher *sf, const char *why)
{
	log_err("sig: the module fetcher is gone (%s): SETUPs that need a fetch are refused until the node restarts",
		why);
	loop_fd_del(sf->n->loop, sf->fd);
	close(sf->fd);
	sf->fd = -1;
	for (size_t i = 0; i < SIG_FETCHES_MAX; i++)
		if (sf->f[i].used)
			fetch_end(sf, &sf->f[i], -EPIPE, "the module fetcher is gone", NULL, 0);
}

static void take(struct sig_fetcher *sf, const uint8_t *buf, size_t n)
{
	struct wire_fetch m;
	struct fetch *f;
	if (wire_fetch_parse(buf, n, &m) < 0 || m.kind == WIRE_FETCH_GET || !(f = by_id(sf, m.id))) {
		sf->c.fetcher_malformed++;
		return;
	}
	if (m.kind == WIRE_FETCH_RESULT) {
		if (f->announced) {
			sf->c.fetcher_malformed++;
			return;
		}
		if (m.status < 0) {
			sf->c.fetch_failed++;
			return fetch_end(sf, f, m.status, m.why, NULL, 0);
		}
		if (m.length != f->size) {
			char why[96];
			snprintf(why, sizeof(why), "the body is %u octets, the request says %u", m.length, f->size);
			sf->c.fetch_bad_hash++;
			return fetch_end(sf, f, -EBADMSG, why, NULL, 0);
		}
		f->announced = true;
		return;
	}
	/* A chunk: in order, inside the announced length. */
	if (!f->announced || m.offset != f->got || m.data_len > f->size - f->got) {
		sf->c.fetcher_malformed++;
		return fetch_end(sf, f, -EBADMSG, "the fetcher sent the body out of order", NULL, 0);
	}
	memcpy(f->body + f->got, m.data, m.data_len);
	f->got += m.data_len;
	if (f->got < f->size)
		return;
	uint8_t h[32];
	crypto_hash_sha256(h, f->body, f->size);
	if (sodium_memcmp(h, f->hash, sizeof(h)) != 0) {
		sf->c.fetch_bad_hash++;
		return fetch_end(sf, f, -EBADMSG, "the module fetched does not hash to the request's SHA-256", NULL, 0);
	}
	sf->c.fetched++;
	uint8_t *body = f->body;
	f->body = NULL;
	fetch_end(sf, f, 0, "", body, f->size);
	free(body);
}

static void readable(void *arg, int fd, uint32_t events)
{
	struct sig_fetcher *sf = arg;
	static uint8_t buf[WIRE_FETCH_MSG_MAX];
	/* A bounded batch per round: the fetcher cannot hold the loop. */
	for (int k = 0; k < 64 && sf->fd >= 0; k++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			return fetcher_gone(sf, n == 0 ? "its socket closed" : strerror(errno));
		if (n < 0)
			return;
		take(sf, buf, (size_t)n);
	}
}

struct sig_fetcher *sig_fetcher_on(struct node *n, int fd)
{
	struct sig_fetcher *sf = calloc(1, sizeof(*sf));
	if (!sf)
		return NULL;
	sf->n = n;
	sf->fd = fd;
	if (loop_fd_add(n->loop, fd, EPOLLIN, readable, sf) < 0) {
		free(sf);
		return NULL;
	}
	return sf;
}

struct sig_fetcher *sig_fetcher_start(struct node *n, const char *path, size_t memory, char *why, size_t whylen)
{
	if (access(path, X_OK) < 0) {
		snprintf(why, whylen, "no fetcher at %s: %s", path, strerror(errno));
		return NULL;
	}
	if (sandbox_check(why, whylen) < 0)
		return NULL;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(why, whylen, "socketpair: %s", strerror(errno));
		return NULL;
	}
	struct sig_fetcher *sf = calloc(1, sizeof(*sf));
	if (!sf) {
		close(sp[0]);
		close(sp[1]);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	sf->n = n;
	sf->fd = sp[0];
	snprintf(sf->name, sizeof(sf->name), SANDBOX_FETCHER_NAME, n->cfg.name);
	/* Name resolution and the system's CAs, for URLs with host names and
	 * HTTPS; the rest of the sandbox is the services' (sandbox.h). */
	static const char *const binds[] = {"/etc/resolv.conf", "/etc/hosts",		"/etc/nsswitch.conf",
					    "/etc/ssl",		"/etc/ca-certificates", NULL};
	struct sandbox_spec spec = {.uid = FETCHER_UID,
				    .gid = FETCHER_UID,
				    .path = path,
				    .service = "anode-fetch",
				    .user = "anode-fetch",
				    .chan_fd = sp[1],
				    .ro_binds = binds,
				    .memory = memory,
				    .cpu_pct = 50,
				    .pids = 16};
	snprintf(spec.name, sizeof(spec.name), "%s", sf->name);
	int r = sandbox_start(&spec, NULL, &sf->pid, why, whylen);
	close(sp[1]);
	if (r == 0 && n->priv) {
		/* The node child may not wait: the kernel reaps the fetcher. */
		struct sigaction sa = {.sa_handler = SIG_DFL, .sa_flags = SA_NOCLDWAIT};
		sigaction(SIGCHLD, &sa, NULL);
	}
	if (r == 0)
		r = loop_fd_add(n->loop, sf->fd, EPOLLIN, readable, sf);
	if (r < 0) {
		close(sf->fd);
		free(sf);
		return NULL;
	}
	return sf;
}

void sig_fetcher_stop(struct sig_fetcher *sf)
{
	if (!sf)
		return;
	for (size_t i = 0; i < SIG_FETCHES_MAX; i++)
		free(sf->f[i].body);
	if (sf->fd >= 0) {
		loop_fd_del(sf->n->loop, sf->fd);
		close(sf->fd); /* the fetcher ends at its end of file */
	}
	if (sf->pid > 0 && !sf->n->priv) {
		/* Overlay mode: this process made the cgroups, and removes
		 * them (in router mode the parent does, at its exit). */
		waitpid(sf->pid, NULL, 0);
		sandbox_cleanup(sf->name);
	}
	free(sf);
}

int sig_fetcher_set_ca(struct sig_fetcher *sf, const void *pem, size_t len)
{
	struct wire_fetch c = {.kind = WIRE_FETCH_CA, .data = pem, .data_len = len};
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	ssize_t n = wire_fetch_build(buf, sizeof(buf), &c);
	if (n < 0)
		return (int)n;
	return send(sf->fd, buf, (size_t)n, MSG_DONTWAIT) < 0 ? -errno : 0;
}

const struct sig_fetch_counters *sig_fetcher_counters(const struct sig_fetcher *sf)
{
	return &sf->c;
}

size_t sig_fetcher_active(const struct sig_fetcher *sf)
{
	size_t k = 0;
	for (size_t i = 0; i < SIG_FETCHES_MAX; i++)
		k += sf->f[i].used;
	return k;
}

int sig_fetch(struct sig_fetcher *sf, const char *url, const uint8_t hash[32], uint32_t size, uint32_t timeout_ms,
	      sig_fetch_cb cb, void *arg, char *why, size_t whylen)
{
	if (sf->fd < 0) {
		sf->c.fetch_refused++;
		snprintf(why, whylen, "the module fetcher is gone");
		return -EPIPE;
	}
	struct fetch *f = NULL, *free_slot = NULL;
	for (size_t i = 0; i < SIG_FETCHES_MAX; i++) {
		if (sf->f[i].used && sf->f[i].size == size && !memcmp(sf->f[i].hash, hash, 32))
			f = &sf->f[i];
		else if (!sf->f[i].used && !free_slot)
			free_slot = &sf->f[i];
	}
	if (f) {
		if (f->n_w == SIG_FETCH_WAITERS_MAX) {
			sf->c.fetch_refused++;
			snprintf(why, whylen, "too many requests wait for this module");
			return -EBUSY;
		}
		f->w[f->n_w++] = (struct waiter){cb, arg};
		sf->c.fetches_shared++;
		return 0;
	}
	if (!free_slot) {
		sf->c.fetch_refused++;
		snprintf(why, whylen, "this node is fetching %d modules already", SIG_FETCHES_MAX);
		return -EBUSY;
	}
	struct wire_fetch g = {.kind = WIRE_FETCH_GET, .id = ++sf->next_id, .max = size, .timeout_ms = timeout_ms};
	snprintf(g.url, sizeof(g.url), "%s", url);
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	ssize_t n = wire_fetch_build(buf, sizeof(buf), &g);
	uint8_t *body = malloc(size);
	if (n < 0 || !body || send(sf->fd, buf, (size_t)n, MSG_DONTWAIT) < 0) {
		int e = n < 0 ? (int)n : !body ? -ENOMEM : -errno;
		free(body);
		sf->c.fetch_refused++;
		snprintf(why, whylen, "cannot ask the module fetcher: %s", strerror(-e));
		return e;
	}
	f = free_slot;
	*f = (struct fetch){.used = true,
			    .id = g.id,
			    .size = size,
			    .deadline_ms = loop_now_ms() + timeout_ms + FETCH_GRACE_MS,
			    .body = body,
			    .n_w = 1};
	memcpy(f->hash, hash, 32);
	f->w[0] = (struct waiter){cb, arg};
	sf->c.fetches++;
	return 0;
}

void sig_fetch_forget(struct sig_fetcher *sf, void *arg)
{
	if (!sf)
		return;
	for (size_t i = 0; i < SIG_FETCHES_MAX; i++)
		for (size_t k = 0; k < sf->f[i].n_w;)
			if (sf->f[i].w[k].arg == arg)
				sf->f[i].w[k] = sf->f[i].w[--sf->f[i].n_w];
			else
				k++;
}

void sig_fetcher_tick(struct sig_fetcher *sf)
{
	uint64_t now = loop_now_ms();
	for (size_t i = 0; i < SIG_FETCHES_MAX; i++)
		if (sf->f[i].used && sf->f[i].deadline_ms <= now) {
			sf->c.fetch_timeouts++;
			fetch_end(sf, &sf->f[i], -ETIMEDOUT, "the module fetcher did not answer in time", NULL, 0);
		}
}
