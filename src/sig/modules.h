/* SPDX-License-Identifier: MIT */
/*
 * The modules signalling installed at this node (modules.c; seed 004
 * §4.1-4.3): SETUP installs a packet module with its filters, from the
 * node's code cache or fetched by URL (fetch.h) and checked against the
 * request's SHA-256 and size, where its dependencies are installed; it
 * stays for its lifetime unless a SETUP refreshes it (soft state, as
 * NSIS's); REMOVE takes it out. Each module is its user's: another user
 * can neither refresh, replace nor remove it.
 *
 * An action that must wait (a fetch, a filter going in) ends later: the
 * room hears it through done(room, id, status, why) for every request id
 * that waited on it.
 */
#ifndef SIG_MODULES_H
#define SIG_MODULES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stat.h"
#include "wire/sig.h"

struct node;
struct sig_fetcher;
struct sig_modules;
struct policy_principal;
struct ctl_out;

#define SIG_MODULE_WAITERS_MAX 8
/* Reports of a module's soft state to its collector: every SIG_REPORT_S
 * seconds unless the property report=S says otherwise, at most
 * SIG_REPORT_ENTRIES entries in datagrams of at most SIG_REPORT_DGRAM
 * octets. */
#define SIG_REPORT_S 5
#define SIG_REPORT_ENTRIES 256
#define SIG_REPORT_DGRAM 1200

#define SIG_MODULE_COUNTERS(X)                                                                                         \
	X(installed, "modules installed by SETUP")                                                                     \
	X(refreshed, "SETUPs that renewed a module's lifetime")                                                        \
	X(replaced, "modules replaced by another version of their user's")                                             \
	X(removed, "modules removed by REMOVE")                                                                        \
	X(expired, "modules removed when their lifetime ended")                                                        \
	X(refused, "SETUPs and REMOVEs refused (each entry says why)")                                                 \
	X(reports, "datagrams of modules' soft state sent to their collectors")

struct sig_module_counters {
	SIG_MODULE_COUNTERS(STAT_FIELD)
};

struct sig_modules_config {
	size_t max;	   /* modules at once */
	size_t per_user;   /* ...of one user: no user takes the others' room */
	size_t module_max; /* octets */
	size_t fetch_timeout_ms;
};

/* Fetches of one user's modules at once: half the fetcher's transfers. */
#define SIG_FETCHES_PER_USER 4

typedef void (*sig_module_done_cb)(void *room, uint64_t id, int32_t status, const char *why);

struct sig_modules *sig_modules_new(struct node *n, const struct sig_modules_config *c, struct sig_fetcher *fetcher,
				    const char *no_fetcher_why, sig_module_done_cb done, void *room);
void sig_modules_free(struct sig_modules *ms);
void sig_modules_reconfigure(struct sig_modules *ms, const struct sig_modules_config *c);

/* Act on an authenticated SETUP or REMOVE q of who, for request id: 0 with
 * *status and why filled when it is done (or refused), 1 when it waits
 * (done() tells). */
int sig_modules_act(struct sig_modules *ms, const struct wire_sig_request *q, const struct policy_principal *who,
		    uint64_t id, int32_t *status, char *why, size_t whylen);
/* Request id is gone: nothing to tell it. */
void sig_modules_forget(struct sig_modules *ms, uint64_t id);
/* Once a second: lifetimes end. */
void sig_modules_tick(struct sig_modules *ms);

/* For a node's entry: the installed modules (name, version, remaining
 * lifetime), those named name only when name is not NULL; how many. */
size_t sig_modules_list(struct sig_modules *ms, const char *name, struct wire_sig_installed *out, size_t max);
/* Every module here, for people (text) or programs (json). */
void sig_modules_print(struct sig_modules *ms, bool json, struct ctl_out *o);
/* Free module slots. */
uint32_t sig_modules_free_slots(const struct sig_modules *ms);
const struct sig_module_counters *sig_modules_counters(const struct sig_modules *ms);

#endif
