/* SPDX-License-Identifier: MIT */
/*
 * The requests a node has passed on and not yet answered for (seed 004
 * Figure 5): per message id, where the response goes (the previous anode
 * node, or the requester), which node further on said it took the request
 * (HERE), and what this node did with it, for its entry on the response's
 * stack. Soft state: an entry is forgotten once the request could not be
 * accepted again anyway (its signing window) or the table needs the room;
 * only requests that authenticated take one. No I/O: the room (room.c)
 * sends and arms timers from what this table says.
 *
 *   request taken ──► WAIT_HERE ──HERE from next──► WAIT_RESPONSE ──response──► ANSWERED
 *                        │ no HERE in time: this node is the last        │ none in time: answers alone
 *                        └──────────────────► ANSWERED ◄─────────────────┘
 */
#ifndef SIG_PATH_H
#define SIG_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anode/addr.h"
#include "wire/sig.h"

enum sig_path_state {
	SIG_PATH_WAIT_HERE,	/* passed on; is there an anode node further on? */
	SIG_PATH_WAIT_RESPONSE, /* one said HERE: its response will come */
	SIG_PATH_ANSWERED,	/* this node's entry went back toward the requester */
};

/* Responses one request may make a node send back: the first, and one per
 * retransmission the requester makes (anode's CLI makes 4). Beyond it a
 * replayed copy makes the node send nothing. */
#define SIG_PATH_RESPONSES_MAX 6

struct sig_path {
	uint64_t id;
	uint8_t kind;
	uint8_t state;	       /* enum sig_path_state */
	uint8_t tag[16];       /* the request's signature's first octets: the same request again */
	bool has_next;	       /* a node further on said HERE */
	uint8_t responses;     /* sent back so far */
	struct an_addr prev;   /* where the response goes; this node's own address: to origin */
	struct an_addr origin; /* the requester (signed) */
	struct an_addr next;
	uint64_t deadline_ms; /* WAIT_*: when to stop waiting */
	uint64_t expires_ms;  /* forgotten then */
	/* This node's own result, for its entry, and the module the request
	 * names (for the entry's installed modules). */
	int32_t status;
	char why[WIRE_SIG_WHY_MAX + 1];
	char module[WIRE_SIG_NAME_MAX + 1];
	/* This node's action is under way (a fetch): its answer waits. The
	 * response to push on once it is done (NULL: a new one), and what to
	 * say besides. */
	bool pending, answer_due;
	uint8_t *held;
	size_t held_len;
	char note[128];
	/* TRIGGER: the enclosed request, which the last node starts back
	 * toward origin (seed 004 §8). */
	uint8_t *inner;
	size_t inner_len;
};

struct sig_paths;

struct sig_paths *sig_paths_new(size_t max);
void sig_paths_free(struct sig_paths *t);
size_t sig_paths_count(const struct sig_paths *t);
size_t sig_paths_max(const struct sig_paths *t);

struct sig_path *sig_path_find(struct sig_paths *t, uint64_t id);
/* A new entry for id (whose fields the caller fills), taking the slot of
 * one forgotten by now_ms if the table is full: NULL when every slot holds
 * a request still in flight. */
struct sig_path *sig_path_add(struct sig_paths *t, uint64_t id, uint64_t now_ms);
void sig_path_del(struct sig_paths *t, struct sig_path *p);
/* The earliest deadline of an entry waiting (UINT64_MAX: none). */
uint64_t sig_paths_next_deadline(const struct sig_paths *t);
/* Call fn for every entry waiting whose deadline is at or before now_ms;
 * fn may change it (its state or deadline) but not delete it. */
void sig_paths_due(struct sig_paths *t, uint64_t now_ms, void (*fn)(void *arg, struct sig_path *p), void *arg);
/* Forget the entries that expired by now_ms, telling gone (may be NULL)
 * of each first: how many. */
size_t sig_paths_expire(struct sig_paths *t, uint64_t now_ms, void (*gone)(void *arg, struct sig_path *p), void *arg);

#endif
