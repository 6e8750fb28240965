/* SPDX-License-Identifier: MIT */
/*
 * The event loop: file descriptors watched with epoll, and one-shot timers
 * kept in a small binary heap. A node runs everything to completion on one
 * loop (DESIGN.md §1), so nothing here locks.
 */
#ifndef CORE_LOOP_H
#define CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h> /* EPOLLIN and friends, for loop_fd_add */

struct loop;
struct loop_timer;

typedef void (*loop_fd_cb)(void *arg, int fd, uint32_t events);
typedef void (*loop_timer_cb)(void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch fd for events (EPOLLIN, EPOLLOUT...). 0 or a negative errno. */
int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_cb cb, void *arg);
int loop_fd_mod(struct loop *l, int fd, uint32_t events);
/* Stop watching fd; safe from inside its own callback. */
void loop_fd_del(struct loop *l, int fd);

/* Run cb once, after ms milliseconds. NULL on allocation failure. */
struct loop_timer *loop_timer_add(struct loop *l, uint64_t ms, loop_timer_cb cb, void *arg);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Call cb after each round of events and timers: where a node flushes the
 * packets that the round queued for sending and works through its own
 * queues a bounded amount at a time. cb returns true when work is left: the
 * next round then polls without waiting, so the rest goes on at once while
 * other events still get their turn. */
void loop_set_idle(struct loop *l, bool (*cb)(void *arg), void *arg);

/* Run until loop_stop(). 0 or a negative errno from epoll. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* One round, waiting at most timeout_ms for an event (0: not at all): for
 * tests that drive a node by hand. 0 or a negative errno. */
int loop_run_once(struct loop *l, int timeout_ms);
/*
 * The slice a round promises: work that reads packets, runs code or walks
 * tables asks loop_slice_spent() between items and leaves the rest for
 * the next round (unread sockets wake it again; queues of its own make the
 * idle hook say work is left). Code runs are bounded by their work budget
 * (about 1 ns a unit), so a round lasts at most the slice and one item.
 */
#define LOOP_SLICE_NS (2 * 1000 * 1000)
/* This round has used its slice (loop_run_once: since its wait ended). */
bool loop_slice_spent(const struct loop *l);
/* Nanoseconds of this round's slice left (0 when spent). */
uint64_t loop_slice_left(const struct loop *l);
/* The idle hook said work is left (the next round will not wait). */
bool loop_busy(const struct loop *l);

/* Rounds run (events, timers and the idle hook between two waits) and the
 * longest one: the longest time the loop served nothing new. */
struct loop_stats {
	uint64_t rounds, max_round_ns;
	uint64_t recent_max_round_ns; /* the longest in this second and the last */
	/* The same on the loop's own CPU time (wall time also holds what the
	 * kernel or other processes took from it), measured on rounds that
	 * follow a busy or long one (the clock is a system call). */
	uint64_t max_round_cpu_ns, recent_max_round_cpu_ns;
};
const struct loop_stats *loop_stats(const struct loop *l);

/* Monotonic clock. */
uint64_t loop_now_ns(void);
uint64_t loop_now_ms(void);
/* Tests only: take the time from now_ns instead (NULL: the real clock
 * again), so that timers fire when the test moves its clock. */
void loop_clock_set(uint64_t (*now_ns)(void));

#endif
