/* SPDX-License-Identifier: MIT */
/*
 * Fetching modules by URL for SETUP (fetch.c), node side: the node starts
 * its fetcher process (anode-fetch, src/sig/fetcher.c) in a sandbox when
 * the room starts, asks it over a socket (src/wire/fetch.h), and hands
 * each waiter the body once it is whole and hashes to the module's signed
 * SHA-256 with its signed size. Requests for a module already being
 * fetched wait on that fetch: one fetch per module, however many SETUPs
 * name it. Bounded: SIG_FETCHES_MAX at once, each to the module's signed
 * size and a time; nothing blocks the loop.
 */
#ifndef SIG_FETCH_H
#define SIG_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/stat.h"

struct node;
struct sig_fetcher;

#define SIG_FETCHES_MAX 8
#define SIG_FETCH_WAITERS_MAX 16

#define SIG_FETCH_COUNTERS(X)                                                                                          \
	X(fetches, "module fetches asked of the fetcher")                                                              \
	X(fetches_shared, "SETUPs that waited on a fetch of the same module already under way")                        \
	X(fetched, "modules fetched whole, of the signed size and SHA-256")                                            \
	X(fetch_failed, "fetches the fetcher reported failed (HTTP status, time, size, connection)")                   \
	X(fetch_bad_hash, "fetched bodies that did not hash to the signed SHA-256 (or were not the signed size)")      \
	X(fetch_refused, "fetches refused: too many at once, or no fetcher")                                           \
	X(fetch_timeouts, "fetches the fetcher did not answer in time (the node gave up on them)")                     \
	X(fetcher_malformed, "records from the fetcher that did not parse or did not fit its fetch")

struct sig_fetch_counters {
	SIG_FETCH_COUNTERS(STAT_FIELD)
};

/* The body (status 0) or why not; body is valid during the call only. */
typedef void (*sig_fetch_cb)(void *arg, int status, const char *why, const uint8_t *body, size_t len);

/* Start the fetcher at path in a sandbox named after node (its uid,
 * cgroups of memory bytes): NULL with why set when it cannot (no
 * bubblewrap or cgroups, not root). */
struct sig_fetcher *sig_fetcher_start(struct node *n, const char *path, size_t memory, char *why, size_t whylen);
void sig_fetcher_stop(struct sig_fetcher *f);
/* The node side on a socket whose other end plays the fetcher (tests:
 * tests/unit/sig/test_fetch.c); the caller's socket is the node's now. */
struct sig_fetcher *sig_fetcher_on(struct node *n, int fd);
/* HTTPS servers are checked against the CAs in pem (at most
 * WIRE_FETCH_CHUNK_MAX octets) instead of the system's. 0 or a negative
 * errno. */
int sig_fetcher_set_ca(struct sig_fetcher *f, const void *pem, size_t len);
const struct sig_fetch_counters *sig_fetcher_counters(const struct sig_fetcher *f);
size_t sig_fetcher_active(const struct sig_fetcher *f);

/* Fetch url for the module of SHA-256 hash and size octets within
 * timeout_ms, or wait on the fetch of that hash under way; cb(arg, ...)
 * once, later (never from within this call). 0, or a negative errno with
 * why set (too many fetches, too many waiters, the fetcher gone). */
int sig_fetch(struct sig_fetcher *f, const char *url, const uint8_t hash[32], uint32_t size, uint32_t timeout_ms,
	      sig_fetch_cb cb, void *arg, char *why, size_t whylen);
/* arg no longer waits on anything (it is going away). */
void sig_fetch_forget(struct sig_fetcher *f, void *arg);
/* Once a second: fetches the fetcher left unanswered past their time fail. */
void sig_fetcher_tick(struct sig_fetcher *f);

#endif
