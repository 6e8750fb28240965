// SPDX-License-Identifier: MIT
/*
 * The event loop (see loop.h). Callbacks are looked up by fd in a table
 * indexed by fd, so that a callback removed while an epoll batch is being
 * dispatched is simply skipped.
 */
#include "core/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_BATCH 64

struct loop_watch {
	loop_fd_cb cb;
	void *arg;
	bool used;
};

struct loop_timer {
	uint64_t due_ms;
	uint64_t seq; /* ties broken by insertion order */
	size_t heap_at;
	loop_timer_cb cb;
	void *arg;
};

struct loop {
	int epfd;
	bool stop;
	struct loop_watch *watch;
	size_t n_watch;
	struct loop_timer **heap;
	size_t n_heap, cap_heap;
	uint64_t seq;
	bool (*idle_cb)(void *arg);
	void *idle_arg;
	bool more;					    /* the idle hook left work: poll without blocking */
	uint64_t round_start;				    /* loop_now_ns() when the round's work began */
	uint64_t window_start, window_max, window_prev_max; /* stats.recent_max_round_ns */
	uint64_t window_cpu_max, window_prev_cpu_max;	    /* ...and _cpu_ns */
	uint64_t last_round_ns;				    /* how long the last round took */
	struct loop_stats stats;
};

/* CPU time of the calling thread (the loop's). */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Tests set their own clock (loop_clock_set); NULL: the monotonic one. */
static uint64_t (*clock_now_ns)(void);

void loop_clock_set(uint64_t (*now_ns)(void))
{
	clock_now_ns = now_ns;
}

uint64_t loop_now_ns(void)
{
	if (clock_now_ns)
		return clock_now_ns();
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t loop_now_ms(void)
{
	return loop_now_ns() / 1000000ull;
}

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_heap; i++)
		free(l->heap[i]);
	free(l->heap);
	free(l->watch);
	close(l->epfd);
	free(l);
}

int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg)
{
	if (fd < 0)
		return -EBADF;
	if ((size_t)fd >= l->n_watch) {
		size_t n = (size_t)fd * 2 + 16;
		struct loop_watch *w = realloc(l->watch, n * sizeof(*w));
		if (!w)
			return -ENOMEM;
		memset(w + l->n_watch, 0, (n - l->n_watch) * sizeof(*w));
		l->watch = w;
		l->n_watch = n;
	}
	struct epoll_event ev = {.events = events, .data.fd = fd};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	l->watch[fd] = (struct loop_watch){.cb = cb, .arg = arg, .used = true};
	return 0;
}

int loop_fd_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void loop_fd_del(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->n_watch || !l->watch[fd].used)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->watch[fd].used = false;
}

static bool timer_before(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->seq < b->seq);
}

static void heap_swap(struct loop *l, size_t i, size_t j)
{
	struct loop_timer *t = l->heap[i];
	l->heap[i] = l->heap[j];
	l->heap[j] = t;
	l->heap[i]->heap_at = i;
	l->heap[j]->heap_at = j;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0 && timer_before(l->heap[i], l->heap[(i - 1) / 2])) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t m = i, a = 2 * i + 1, b = 2 * i + 2;
		if (a < l->n_heap && timer_before(l->heap[a], l->heap[m]))
			m = a;
		if (b < l->n_heap && timer_before(l->heap[b], l->heap[m]))
			m = b;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

struct loop_timer *loop_timer_add(struct loop *l, uint64_t ms, loop_timer_cb cb, void *arg)
{
	if (l->n_heap == l->cap_heap) {
		size_t n = l->cap_heap ? l->cap_heap * 2 : 16;
		struct loop_timer **h = realloc(l->heap, n * sizeof(*h));
		if (!h)
			return NULL;
		l->heap = h;
		l->cap_heap = n;
	}
	struct loop_timer *t = malloc(sizeof(*t));
	if (!t)
		return NULL;
	*t = (struct loop_timer){
	    .due_ms = loop_now_ms() + ms, .seq = l->seq++, .heap_at = l->n_heap, .cb = cb, .arg = arg};
	l->heap[l->n_heap++] = t;
	heap_up(l, t->heap_at);
	return t;
}

static void heap_remove(struct loop *l, size_t i)
{
	l->n_heap--;
	if (i != l->n_heap) {
		l->heap[i] = l->heap[l->n_heap];
		l->heap[i]->heap_at = i;
		heap_down(l, i);
		heap_up(l, i);
	}
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (!t)
		return;
	heap_remove(l, t->heap_at);
	free(t);
}

static void run_due_timers(struct loop *l)
{
	uint64_t now = loop_now_ms();
	while (l->n_heap && l->heap[0]->due_ms <= now) {
		struct loop_timer *t = l->heap[0];
		heap_remove(l, 0);
		loop_timer_cb cb = t->cb;
		void *arg = t->arg;
		free(t);
		cb(arg);
	}
}

void loop_set_idle(struct loop *l, bool (*cb)(void *arg), void *arg)
{
	l->idle_cb = cb;
	l->idle_arg = arg;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}

/* One round: wait for events (at most timeout ms, -1: until one comes or
 * a timer is due), run them, the due timers and the idle hook. */
static int loop_round(struct loop *l, int max_wait)
{
	struct epoll_event ev[LOOP_BATCH];
	int timeout = max_wait;
	if (l->more) {
		timeout = 0;
	} else if (l->n_heap) {
		uint64_t now = loop_now_ms();
		uint64_t due = l->heap[0]->due_ms <= now ? 0 : l->heap[0]->due_ms - now;
		if (timeout < 0 || due < (uint64_t)timeout)
			timeout = (int)due;
	}
	int n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	uint64_t round_start = l->round_start = loop_now_ns();
	/* The thread's CPU clock is a system call (about 0.9 µs here, 30
	 * times the monotonic clock's): read only for a round that follows
	 * a busy or a long one, where long rounds come from, not on every
	 * round of a lightly loaded node. */
	bool cpu_watch = l->more || l->last_round_ns > LOOP_SLICE_NS / 4;
	uint64_t cpu_start = cpu_watch ? thread_cpu_ns() : 0;
	for (int i = 0; i < n && !l->stop; i++) {
		int fd = ev[i].data.fd;
		if ((size_t)fd < l->n_watch && l->watch[fd].used)
			l->watch[fd].cb(l->watch[fd].arg, fd, ev[i].events);
	}
	run_due_timers(l);
	l->more = l->idle_cb ? l->idle_cb(l->idle_arg) : false;
	/* How long nothing else could be served: what bounds on code are
	 * for (bench/hostile.sh reads it). */
	uint64_t took = loop_now_ns() - round_start;
	l->last_round_ns = took;

	l->stats.rounds++;
	if (took > l->stats.max_round_ns)
		l->stats.max_round_ns = took;
	/* The longest of this second and the last: what the node does now,
	 * not what it did once (loading code at an activation, say). */
	uint64_t now = round_start + took;
	if (now - l->window_start >= 1000000000ull) {
		bool adjacent = now - l->window_start < 2000000000ull;
		l->window_prev_max = adjacent ? l->window_max : 0;
		l->window_prev_cpu_max = adjacent ? l->window_cpu_max : 0;
		l->window_max = l->window_cpu_max = 0;
		l->window_start = now;
	}
	if (took > l->window_max)
		l->window_max = took;
	l->stats.recent_max_round_ns = l->window_max > l->window_prev_max ? l->window_max : l->window_prev_max;
	/* The same on the loop's own CPU time: a round's wall time also
	 * holds what the kernel took from it (softirqs of a flood, other
	 * processes on a busy machine), which no slice can bound. */
	uint64_t cpu = cpu_watch ? thread_cpu_ns() - cpu_start : 0;
	if (cpu > l->stats.max_round_cpu_ns)
		l->stats.max_round_cpu_ns = cpu;
	if (cpu > l->window_cpu_max)
		l->window_cpu_max = cpu;
	l->stats.recent_max_round_cpu_ns =
	    l->window_cpu_max > l->window_prev_cpu_max ? l->window_cpu_max : l->window_prev_cpu_max;
	return 0;
}

int loop_run(struct loop *l)
{
	l->stop = false;
	while (!l->stop) {
		int r = loop_round(l, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

int loop_run_once(struct loop *l, int timeout_ms)
{
	l->stop = false;
	return loop_round(l, timeout_ms);
}

bool loop_slice_spent(const struct loop *l)
{
	return loop_now_ns() - l->round_start > LOOP_SLICE_NS;
}

uint64_t loop_slice_left(const struct loop *l)
{
	uint64_t used = loop_now_ns() - l->round_start;
	return used < LOOP_SLICE_NS ? LOOP_SLICE_NS - used : 0;
}

bool loop_busy(const struct loop *l)
{
	return l->more;
}

const struct loop_stats *loop_stats(const struct loop *l)
{
	return &l->stats;
}
