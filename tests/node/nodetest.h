/* SPDX-License-Identifier: MIT */
/*
 * A whole node in the test's own process (nodetest.c): the real node and
 * rooms on a memory link (link/mem.h) and a clock the test moves, so that
 * a room's state machine can be driven packet by packet and timer by timer
 * with no socket on any network. Used by the rooms' unit tests and by the
 * fuzzer of node_input (tests/fuzz/fuzz_node.c).
 */
#ifndef TESTS_NODETEST_H
#define TESTS_NODETEST_H

#include <stddef.h>
#include <stdint.h>

#include "anode/addr.h"

struct node;

/* The node's address, and neighbours' (routes: NT_PEER is a neighbour,
 * NT_FAR is reached through it, every other address too). */
#define NT_SELF "10.99.0.1:3322"
#define NT_PEER "10.99.0.2:3322"
#define NT_FAR "10.99.0.3:3322"

struct nodetest {
	struct node *node;
	struct an_addr self, peer, far;
	char dir[64]; /* the node's sockets and configuration */
};

/* A node with the given extra configuration lines (may be NULL); NULL
 * after printing why. The clock starts at one hour. */
struct nodetest *nt_new(const char *extra_conf);
void nt_free(struct nodetest *t);

/* A datagram arrives from `from`; the node handles it (and all it leads
 * to that needs no time to pass). 0 or a negative errno. */
int nt_push(struct nodetest *t, const void *bytes, size_t len, const struct an_addr *from);
/* A datagram arrives, and waits in the link until the loop runs. */
int nt_queue(struct nodetest *t, const void *bytes, size_t len, const struct an_addr *from);
/* One round of the node's loop (loop_run_once without waiting). */
void nt_round(struct nodetest *t);
/* From now on every reading of the clock moves it on by ns besides (0:
 * only nt_advance moves it): time that work takes, for tests of the loop's
 * slice. */
void nt_clock_step(uint64_t ns);
/* Run the node's loop until it has nothing left to do now. */
void nt_run(struct nodetest *t);
/* Move the clock on by ms, in steps of at most 10 ms, running the timers
 * that come due. */
void nt_advance(struct nodetest *t, uint64_t ms);
/* The oldest packet the node sent that the test has not read: its length
 * and destination, or -ENOENT. */
int nt_sent(struct nodetest *t, void *buf, size_t cap, struct an_addr *ret_to);
/* Forget what the node sent. */
void nt_sent_clear(struct nodetest *t);
/* Packet buffers free now, and in all. */
size_t nt_free_buffers(struct nodetest *t);
size_t nt_total_buffers(struct nodetest *t);
/* A control command's answer (as the control socket gives it: "ok\n..."
 * or "error: ..."), malloc'ed; NULL when the node could not be asked. */
char *nt_ctl(struct nodetest *t, const char *cmd);

#endif
