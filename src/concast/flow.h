/* SPDX-License-Identifier: MIT */
/*
 * Concast flow state (seed 001 §2.1): a table of flow state blocks, each
 * with its merge specification, its upstream neighbour list (UNL) and its
 * merge state per tag, and the per-packet processing of Figure 1 (get_tag,
 * merge, done, build) run through the EE. Everything is bounded: flows per
 * node, upstream neighbours per flow, tags in merge per flow, octets per
 * tag (AN_MERGE_STATE_MAX), age of a tag; what does not fit is refused and
 * counted, never grown. No I/O: merged messages leave through the emit
 * callback, and the concast room (room.c) carries them; timeouts that done
 * armed are run by cc_expire, which the room calls at cc_next_deadline.
 */
#ifndef CONCAST_FLOW_H
#define CONCAST_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anode/concast.h"
#include "core/stat.h"
#include "ee/ee.h"

#define CC_DEFAULT_FLOWS 64
#define CC_DEFAULT_UPSTREAM 64
#define CC_DEFAULT_UPSTREAM_PER_IP 8
#define CC_DEFAULT_TAGS 8
#define CC_DEFAULT_TAG_MAX_MS 5000
#define CC_UPSTREAM_LIMIT 1024 /* what the configuration may ask for */

struct cc_config {
	size_t max_flows;	    /* flow state blocks at this node */
	size_t max_upstream;	    /* upstream neighbours per flow */
	size_t max_upstream_per_ip; /* of them, nodes at one IP address (ports aside; loopback exempt) */
	size_t max_tags;	    /* tags in merge at once per flow */
	unsigned tag_max_ms;	    /* a tag still in merge after this long is discarded */
};

#define CC_COUNTERS(X)                                                                                                 \
	X(messages, "concast messages taken in from upstream")                                                         \
	X(passed, "messages passed on unmerged (the flow has one upstream neighbour)")                                 \
	X(merged, "messages merged into a tag's state")                                                                \
	X(built, "merged messages built and sent on")                                                                  \
	X(discarded, "tags discarded by their specification's done")                                                   \
	X(dropped_by_spec, "messages get_tag or merge refused (late, duplicate, bad)")                                 \
	X(spec_errors, "runs of a specification that failed (error, budget, bad length)")                              \
	X(tags_full, "messages refused: the flow had its most tags in merge")                                          \
	X(tags_share, "messages refused: their upstream neighbour held its share of the flow's tags open")             \
	X(tags_evicted, "tags one neighbour alone gave to, ended early to make room for another's")                    \
	X(flagged, "messages with values out of range, clamped by the specification (see the upstream's count)")       \
	X(tags_expired, "tags discarded because they stayed in merge too long")                                        \
	X(timeouts, "timeouts armed by done that fired")

struct cc_counters {
	CC_COUNTERS(STAT_FIELD)
};

enum cc_up_kind { CC_UP_NODE = 1, CC_UP_APP = 2 };

/* One upstream neighbour: a node (by address) or an application on this
 * node (by its link handle). */
struct cc_upstream {
	uint8_t kind; /* 0: the slot is free */
	bool fresh;   /* the next message from it is its first since it joined */
	bool told;    /* it has been sent the specification (MS, or the join's answer) */
	struct an_addr addr;
	uint64_t app;
	uint64_t last_ms;   /* when it was last heard from (KEEPALIVE, RMS, data) */
	uint64_t data_ms;   /* when it last sent a message (0: never) */
	uint64_t joined_ms; /* when it joined: active for tag_max_ms after either */
	uint64_t messages;
	uint64_t flagged;     /* its messages the specification flagged out of range */
	uint64_t tags_opened; /* tags its messages opened */
	uint64_t tags_joined; /* of them, tags another neighbour then gave to */
	uint8_t nonce[8];     /* a node's: the nonce of its last RMS or KEEPALIVE, echoed in what answers it */
};

enum cc_spec_state {
	CC_SPEC_NONE,	  /* asked for (RMS sent), not come yet */
	CC_SPEC_FETCHING, /* named by an MS, its code on its way */
	CC_SPEC_READY,
};

struct cc_tag;

struct cc_flow {
	struct an_flow id;
	struct cc_flow *next; /* in the table's list */
	enum cc_spec_state spec_state;
	uint8_t spec[32];
	void *spec_elf; /* a copy, to put the code back if it was removed from the cache */
	size_t spec_len;
	bool pinned;		   /* the specification is pinned in the code cache for this flow */
	uint64_t receiver_app;	   /* the receiving application here (it set the merge), or 0 */
	struct an_addr downstream; /* the node that answered with MS (router mode: the next concast node) */
	bool has_downstream;
	bool downstream_is_receiver; /* the downstream node is R's: what this node builds is the last hop */
	struct cc_upstream *up;	     /* max_upstream slots */
	size_t n_up;
	struct cc_tag *tags; /* max_tags, allocated when the flow first merges */
	uint8_t area[AN_MERGE_FLOW_MAX];
	uint64_t created_ms;
	uint8_t nonce[8];	 /* this node's, random, in its RMS and KEEPALIVEs: an MS or ERROR must echo it */
	uint8_t cookie[8];	 /* the downstream node's, from its CHALLENGE: echoed in RMS and KEEPALIVEs */
	struct an_addr asked_by; /* the upstream node whose request made the flow here (zeros: an application) */
	bool path_lost;		 /* this node has no route toward the receiver (on IP): waiting for one */
	uint64_t lost_ms;	 /* since when */
	uint8_t n_admit;	 /* the receiver's admission: upstream nodes only from these prefixes (0: any) */
	struct an_prefix admit[AN_CONCAST_ADMIT_MAX];
	uint64_t asked_ms; /* when the last RMS left */
	unsigned asks;	   /* RMS sent without an answer */
	uint64_t messages, sent;
};

/* Where merged (or passed) messages go. */
typedef void (*cc_emit_fn)(void *arg, struct cc_flow *f, const uint8_t *msg, size_t len);

struct cc_table;

struct cc_table *cc_table_new(const struct cc_config *cfg, struct ee *ee, cc_emit_fn emit, void *arg);
void cc_table_free(struct cc_table *t);

struct cc_flow *cc_flow_find(struct cc_table *t, const struct an_flow *id);
/* A new flow state block, with a fresh random nonce: -ENOSPC at the flow
 * limit, -ENOMEM. */
int cc_flow_add(struct cc_table *t, const struct an_flow *id, uint64_t now_ms, struct cc_flow **ret);
void cc_flow_del(struct cc_table *t, struct cc_flow *f);
/* Walk the flows; fn may delete the flow it is given. */
void cc_flow_each(struct cc_table *t, void (*fn)(void *arg, struct cc_flow *f), void *arg);
size_t cc_flow_count(const struct cc_table *t);

/* Bind the flow to a cached merge specification, pinned in the code cache
 * while the flow holds it, and keep a copy of its bytes (for when an
 * administrator removes it; elf may be NULL when the caller keeps none). 0,
 * or -ENOMEM. */
int cc_flow_set_spec(struct cc_table *t, struct cc_flow *f, const uint8_t name[32], const void *elf, size_t len);

/* The upstream slot of a node or an application, or -ENOENT. */
int cc_up_find(const struct cc_flow *f, uint8_t kind, const struct an_addr *addr, uint64_t app);
/* Add (or find) an upstream neighbour: its slot, -ENOSPC at the limit, or
 * -EMLINK when a node's IP address already holds max_upstream_per_ip
 * slots of the flow (one host on many ports cannot fill the list). */
int cc_up_add(struct cc_table *t, struct cc_flow *f, uint8_t kind, const struct an_addr *addr, uint64_t app,
	      uint64_t now_ms);
void cc_up_del(struct cc_flow *f, int slot);

/* A message from upstream slot `slot` of a flow whose specification is
 * ready: passed on as it is when the flow has one upstream neighbour, else
 * run through get_tag, merge, done (and build, which emits). 0, or a
 * negative errno when it was refused (counted): -EDQUOT at the tag limit,
 * -ECANCELED when the specification refused it, -EIO when it failed. */
int cc_input(struct cc_table *t, struct cc_flow *f, int slot, const uint8_t *msg, size_t len, uint64_t now_ms);

/* Run the timeouts due at now_ms (done with timed_out), and discard tags
 * past their age; true when the caller's slice ran out first (call again
 * soon: what is left is still due). */
bool cc_expire(struct cc_table *t, uint64_t now_ms);
/* Ask spent(arg) between tags in cc_expire, which stops when it says the
 * caller's time slice is used (the node's loop: loop_slice_spent). */
void cc_set_slice(struct cc_table *t, bool (*spent)(void *arg), void *arg);
/* The earliest time cc_expire has something to do, or UINT64_MAX. */
uint64_t cc_next_deadline(const struct cc_table *t);
/* Tags in merge in the flow. */
size_t cc_flow_tags(const struct cc_table *t, const struct cc_flow *f);

const struct cc_counters *cc_counters(const struct cc_table *t);
const struct cc_config *cc_config(const struct cc_table *t);
/* A new flow limit (a reloaded configuration): flows past it are kept
 * until they end; none is added until they fall under it. */
void cc_set_max_flows(struct cc_table *t, size_t max_flows);
/* A new bound of upstream nodes per IP address, for those that join next. */
void cc_set_upstream_per_ip(struct cc_table *t, size_t n);

#endif
