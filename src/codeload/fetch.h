/* SPDX-License-Identifier: MIT */
/*
 * On-demand code loading (PAN §4.5.3, seed 002 §2.2): capsules that name
 * code this node lacks are parked while the code is fetched in chunks,
 * first from the previous hop (which just ran it, so it should have it),
 * then from the code's home. Chunks still missing are asked for again with
 * a bitmap; a complete object is checked against its name and validated by
 * the EE before the parked capsules run, in arrival order. Parking is
 * bounded per code object and in total; a fetch that does not complete
 * before its deadline drops what it parked, with a counted reason. Chunks
 * are asked for a few at a time (one until the first comes, then three),
 * retries back off while nothing comes, and each destination gets a bounded
 * rate of requests, lower until it has answered one.
 */
#ifndef CODELOAD_FETCH_H
#define CODELOAD_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "anode/addr.h"
#include "core/loop.h"
#include "core/pkt.h"
#include "core/stat.h"
#include "wire/wire.h"

/* Defaults: the node's configuration starts from these (config.c). */
#define FETCH_DEFAULT_PARK_PER_CODE 32
#define FETCH_DEFAULT_PARK_TOTAL 256
#define FETCH_DEFAULT_MAX_FETCHES 32
#define FETCH_DEFAULT_RETRY_MS 100
#define FETCH_DEFAULT_TIMEOUT_MS 3000

struct fetch_config {
	size_t park_per_code;	   /* capsules parked per code object (32) */
	size_t park_total;	   /* capsules parked in all (256) */
	size_t max_fetches;	   /* code objects being fetched at once (32) */
	unsigned retry_ms;	   /* ask again for what is missing after (100) */
	unsigned timeout_ms;	   /* give up after (3000) */
	unsigned requests_per_s;   /* code requests to one destination that has answered, per second (50) */
	unsigned unanswered_per_s; /* ... to one that has not answered yet (5) */
};

#define FETCH_COUNTERS(X)                                                                                              \
	X(requests_sent, "code requests sent")                                                                         \
	X(retries, "requests sent again for chunks still missing")                                                     \
	X(requests_limited, "requests held back by the rate per destination")                                          \
	X(chunks_received, "chunks received for a fetch")                                                              \
	X(chunks_unexpected, "chunks a fetch had, or that disagreed with it")                                          \
	X(completed, "code objects fetched whole and cached")                                                          \
	X(timeouts, "fetches that ran out of time")                                                                    \
	X(mismatches, "fetched code that did not hash to its name")                                                    \
	X(invalid, "fetched code that failed validation")                                                              \
	X(park_overflow, "capsules that found no room to park")

struct fetch_counters {
	FETCH_COUNTERS(STAT_FIELD)
};

/* What the fetcher asks of the node. */
struct fetch_ops {
	void *arg;
	/* Send a code request for the chunks in want: to the neighbour `to`
	 * directly, or (to == NULL) routed toward `home`. */
	int (*request)(void *arg, const uint8_t name[32], uint64_t want, const struct an_addr *to,
		       const struct an_addr *home);
	/* Check and cache the complete code: 0, -EBADMSG (does not hash to
	 * its name), -EINVAL (fails validation). */
	int (*install)(void *arg, const uint8_t name[32], const void *code, size_t len, const void *kind);
	/* Run a parked capsule (consumes p; p->resumed is set). */
	void (*resume)(void *arg, struct pkt *p);
	/* Drop a parked capsule for reason why (consumes p). */
	void (*expire)(void *arg, struct pkt *p, int why);
};

struct fetcher;

struct fetcher *fetch_new(struct loop *loop, const struct fetch_config *cfg, const struct fetch_ops *ops);
void fetch_free(struct fetcher *f); /* parked capsules are expired with -ECANCELED */

/* Park p until the code named arrives, and start fetching it if nobody is.
 * prev is the neighbour the capsule came from (NULL when none), home the
 * capsule's code home (all zero when unknown), local this node; kind is
 * handed to the install callback (the code's struct ee_kind). 0 when p
 * is parked (consumed); -ENOBUFS when the parking limits are reached, or
 * -EHOSTUNREACH when there is nobody to ask: p is not consumed then. */
int fetch_park(struct fetcher *f, struct pkt *p, const uint8_t name[32], const struct an_addr *prev,
	       const struct an_addr *home, const struct an_addr *local, const void *kind);

/* A chunk of code arrived (from a CODE_RESPONSE packet). 0 when a fetch
 * took it; -ENOENT when no fetch wants this code; -EALREADY for a chunk
 * the fetch has, or that disagrees with the ones it has (counted). */
int fetch_chunk(struct fetcher *f, const struct wire_code_chunk *c, const uint8_t *pkt, const struct an_addr *from);

/* New limits (a reloaded configuration): for what parks and is fetched
 * from now on; what is parked already stays (a lower total parks nothing
 * new until enough have gone). */
void fetch_set_limits(struct fetcher *f, size_t park_per_code, size_t park_total, unsigned retry_ms,
		      unsigned timeout_ms);
size_t fetch_parked(const struct fetcher *f);
size_t fetch_active(const struct fetcher *f);
const struct fetch_counters *fetch_counters(const struct fetcher *f);

#endif
