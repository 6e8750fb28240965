/* SPDX-License-Identifier: MIT */
/*
 * Packet modules, node side (svc_module.c): a code object of the module
 * kind bound to one filter, run on each packet it matches.
 */
#ifndef SVC_MODULE_H
#define SVC_MODULE_H

#include "core/stat.h"
#include "svc/svc.h"

#define SVC_MODULE_COUNTERS(X)                                                                                         \
	X(packets, "packets run through packet modules")                                                               \
	X(accepted, "let go on as they came")                                                                          \
	X(dropped, "dropped by their module")                                                                          \
	X(modified, "let go on rewritten")                                                                             \
	X(answered, "sent back toward their source on behalf of their destination")                                    \
	X(refused_policy, "dropped: their module rewrote them outside its filter (and its user's grant)")              \
	X(held, "held by their module")                                                                                \
	X(released, "held packets let go on by their module")                                                          \
	X(hold_timeouts, "held packets let go on because they waited too long")                                        \
	X(hold_overflows, "let go on because their module held too many already")                                      \
	X(errors, "let go on because their module failed (error, budget, bad length)")                                 \
	X(too_big, "let go on because they are longer than a module takes (2048)")                                     \
	X(probe_runs, "custom probe runs")                                                                             \
	X(probe_errors, "custom probe runs that failed (error or budget): nothing published")

struct svc_module_counters {
	SVC_MODULE_COUNTERS(STAT_FIELD)
};

struct services;

/* Start a packet module instance (in->run set): 0, or a negative errno
 * with why filled. */
int svc_module_start(struct services *svs, struct svc_instance *in, const struct policy_service *sv,
		     const struct policy_principal *who, char *why, size_t whylen);
void svc_module_stop(struct svc_instance *in);
/* Whether a running module's filter is inside who's grants. */
bool svc_module_granted(const struct svc_instance *in, const struct policy_principal *who);

/* Custom probes: a code object of the probe kind, run once a second by
 * svc_probe_tick, its reading published as USER.SERVICE. */
int svc_probe_start(struct services *svs, struct svc_instance *in, const struct policy_service *sv,
		    const struct policy_principal *who, char *why, size_t whylen);
void svc_probe_stop(struct svc_instance *in);
void svc_probe_tick(struct services *sv);
/* The room's packet module and probe counters. */
const struct svc_module_counters *svc_module_counters(const struct services *sv);

#endif
