/* SPDX-License-Identifier: MIT */
/*
 * The service API, node side (docs/services.md, wire format docs/wire.md
 * §5c): what a running service process may ask of its node over its
 * socket — filters inside its user's grants, the packets they match and
 * their verdicts, subscriptions to monitors and the events they make —
 * and the parameters passed to it. Everything a service sends is checked:
 * a service is a user's code.
 */
#ifndef SVC_API_H
#define SVC_API_H

#include <stdint.h>
#include <sys/types.h>

#include "core/stat.h"
#include "svc/svc.h"

#define SVC_API_HELD_MAX 256	  /* packets one service may hold at once */
#define SVC_API_HOLD_MS 1000	  /* a held packet goes on (accepted) after this */
#define SVC_API_SUBS_MAX 16	  /* subscriptions per service */
#define SVC_API_EVENTS_KEPT 256	  /* recent events, for anode events */
#define SVC_API_PUBLISHED_MAX 256 /* custom probe values kept (USER.KEY) */
/* Filter changes one user's services may ask for: each is an iptables run
 * in the privileged parent, which every user shares. A burst, then a
 * steady rate; a removal is never refused (it only costs its token), an
 * install past the share is refused with EAGAIN (filters_busy). */
#define SVC_API_FILTER_BURST 8
#define SVC_API_FILTER_RATE 4 /* a second */
/* Records a service may send that are not verdicts for packets it holds
 * (those its packets bound): a second, and at once; past them the node
 * does not read it for SVC_API_PAUSE_MS (records_paused). */
#define SVC_API_RECORDS_RATE 1000
#define SVC_API_PAUSE_MS 100
#define SVC_STR_(x) #x
#define SVC_STR(x) SVC_STR_(x)
#define SVC_API_USERS_MAX 64 /* users whose share is kept (the least recent go) */

#define SVC_API_COUNTERS(X)                                                                                            \
	X(packets, "packets handed to services")                                                                       \
	X(verdicts, "verdicts services gave")                                                                          \
	X(held_timeouts, "held packets a service did not answer in time (accepted)")                                   \
	X(held_overflows, "packets accepted because their service held too many")                                      \
	X(passed_suspended, "packets let go on at once because their service is suspended")                            \
	X(records_paused, "times a service was not read for a while: over its share of records other than verdicts")   \
	X(send_failures, "packets accepted because their service's socket was full")                                   \
	X(bad_records, "records from services that did not parse (dropped)")                                           \
	X(bad_verdicts, "verdicts for no packet held (late, repeated, or made up)")                                    \
	X(modified, "packets let go on as their service rewrote them")                                                 \
	X(refused_policy, "rewritten packets dropped: outside the filter that caught them (and its grant)")            \
	X(filters_installed, "filters services installed")                                                             \
	X(filters_refused, "filters refused (outside the user's grants or quota, or failed)")                          \
	X(filters_busy, "filter installs refused for now: the user used its share of filter changes")                  \
	X(filters_revoked, "filters removed because a reloaded policy no longer grants them")                          \
	X(subscriptions, "subscriptions made")                                                                         \
	X(subscriptions_refused, "subscriptions refused (bad spec, too many)")                                         \
	X(events, "events sent to services")                                                                           \
	X(published, "custom probe values services published")                                                         \
	X(publish_refused, "values refused (bad key or value, or the table full)")

struct svc_api_counters {
	SVC_API_COUNTERS(STAT_FIELD)
};

struct services;
struct svc_run;

/* The services room's share of the service API (with its control module). */
int svc_api_init(struct services *sv);
void svc_api_done(struct services *sv);

/* Take a started service's socket (fd, the node's end). NULL on failure
 * (fd closed). */
struct svc_run *svc_api_open(struct services *sv, struct svc_instance *in, const struct policy_principal *who, int fd);
/* Its filters removed, its held packets released (accepted), its
 * subscriptions dropped, its socket closed. */
void svc_api_close(struct svc_run *r);
/* Publish a custom probe's reading under USER.KEY (a service's record, or
 * a probe code object's run). false when the table is full. */
bool svc_api_publish(struct services *sv, const char *user, const char *key, int64_t value);
/* After a policy reload: every running service's user, from the new policy
 * (its filter quota stays what it was when it started), and its filters
 * outside the new grants removed. */
void svc_api_rebind(struct services *sv);
/* Pass new parameters: 0, or a negative errno. */
int svc_api_params(struct svc_run *r, const char *params);
/* The service was frozen (true) or thawed: while frozen, its filters let
 * packets go on at once, and those it held go on now. */
void svc_api_suspend(struct svc_run *r, bool suspended);
/* Sample every subscription of every service (the monitors' timer). */
void svc_api_tick(struct services *sv);

/* The events ring, for `anode events`: write those after sequence number
 * `after` (text or JSON lines). */
void svc_api_events_print(struct services *sv, uint64_t after, bool json, struct ctl_out *o);

void svc_api_stats(struct services *sv, struct stat_section *sec);

#endif
