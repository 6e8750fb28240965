/* SPDX-License-Identifier: MIT */
/*
 * The control module (seed 000 §3, §4.3; docs/services.md): the one door
 * through which users and administrators act on a node's services. Every
 * request is signed (auth.h) and checked against the policy (policy.h)
 * before anything happens; it then activates, suspends, resumes, stops,
 * passes parameters to, or lists service instances. An instance is one
 * user's running copy of one deployed service (at most one per user and
 * service); how it runs is the runner's business (struct svc_ops: service
 * processes through the privileged parent, packet modules in the node).
 * Refusals say why, and are counted and logged.
 */
#ifndef SVC_SVC_H
#define SVC_SVC_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stat.h"
#include "ctl/ctl.h"
#include "svc/auth.h"
#include "svc/policy.h"

#define SVC_INSTANCES_MAX 1024

#define SVC_COUNTERS(X)                                                                                                \
	X(requests, "signed requests received")                                                                        \
	X(accepted, "requests carried out")                                                                            \
	X(refused_malformed, "refused: not a request (does not parse)")                                                \
	X(refused_other_node, "refused: signed for another node")                                                      \
	X(refused_unknown_user, "refused: the signer is not in the policy")                                            \
	X(refused_forged, "refused: bad signature")                                                                    \
	X(refused_expired, "refused: signed too long ago, or ahead of this node's clock")                              \
	X(refused_replayed, "refused: a nonce seen before (a replay)")                                                 \
	X(refused_busy, "refused: too many requests within the window")                                                \
	X(refused_policy, "refused: the policy does not allow it (service not granted, not yours)")                    \
	X(refused_quota, "refused: over the user's quota")                                                             \
	X(refused_state, "refused: not in a state for it (not running, running already)")                              \
	X(failed, "allowed, but the runner could not do it")                                                           \
	X(activated, "instances started")                                                                              \
	X(stopped, "instances stopped by request")                                                                     \
	X(ended, "instances that ended on their own (exited, crashed, killed)")                                        \
	X(revoked, "instances stopped because a reloaded policy no longer allows them")                                \
	X(reloads, "policies put in force after the first")

struct svc_counters {
	SVC_COUNTERS(STAT_FIELD)
};

enum svc_state {
	SVC_STARTING, /* the runner is starting it (svc_instance_started says how it went) */
	SVC_RUNNING,
	SVC_SUSPENDED,
};

struct svc_instance {
	unsigned id;
	char service[WIRE_SVC_NAME_MAX + 1];
	char user[WIRE_SVC_NAME_MAX + 1];
	enum policy_service_kind kind;
	enum svc_state state;
	char params[WIRE_SVC_PARAMS_MAX + 1]; /* as last passed */
	uint64_t since;			      /* seconds since the epoch */
	uint64_t requested_ns;		      /* CLOCK_MONOTONIC, when its activation was accepted */
	void *run;			      /* the runner's */
};

/* How instances run. Each returns 0 or a negative errno after writing why
 * into why (shown to the requester). */
struct svc_ops {
	/* Start in; request/len is the signed activation (a runner may have it
	 * checked again by someone it trusts more). Set in->state to
	 * SVC_STARTING to say the outcome comes later (svc_instance_started);
	 * it is SVC_RUNNING otherwise. */
	int (*start)(void *arg, struct svc_instance *in, const struct policy_service *s,
		     const struct policy_principal *who, const void *request, size_t len, char *why, size_t whylen);
	/* Stop an instance; it is forgotten right after. */
	void (*stop)(void *arg, struct svc_instance *in);
	int (*suspend)(void *arg, struct svc_instance *in, bool suspend, char *why, size_t whylen);
	int (*param)(void *arg, struct svc_instance *in, const char *params, char *why, size_t whylen);
	void *arg;
	/* After a policy reload, whether what in runs is still inside who's
	 * grants (a packet module's filter); false: in is revoked. May be
	 * NULL. */
	bool (*allowed)(void *arg, struct svc_instance *in, const struct policy_principal *who);
};

struct svc;

/* node: this node's name (requests must name it). The policy is taken
 * (freed with the module). */
struct svc *svc_new(const char *node, struct policy *p, const struct svc_ops *ops);
void svc_free(struct svc *s);

/* Put a new policy in force (taken): instances whose user is gone from it,
 * or may no longer use their service, are stopped ("revoked"). */
void svc_reload(struct svc *s, struct policy *p);

/* An action on a service by a principal the caller has authenticated:
 * the control socket's signed requests (svc_request), and any room that
 * acts on services (signalling). */
struct svc_action {
	uint8_t op; /* WIRE_SVC_ACTIVATE, _SUSPEND, _RESUME, _STOP, _PARAM */
	const char *service;
	/* Whose instance: NULL or "", the principal's own; another user's,
	 * which only an administrator may act on (not on activate). */
	const char *owner;
	const char *params; /* activate, param; may be NULL */
	uint64_t now;	    /* seconds since the epoch */
	/* The signed request the action comes from, handed to the runner,
	 * which may have it checked again by someone it trusts more. */
	const void *request;
	size_t request_len;
};

/* What an action did. */
struct svc_result {
	int err;       /* 0, or the negative errno of the refusal */
	char why[256]; /* the refusal, for the requester */
	bool has_in;   /* in is the instance as it is now (activate, suspend, resume, param) */
	bool stopped;  /* in is the instance as it was; it is gone (stop) */
	struct svc_instance in;
};

/* Carry out a on behalf of who: 0, or a negative errno with the refusal in
 * ret->why (counted and logged, as every refusal). */
int svc_act(struct svc *s, const struct policy_principal *who, const struct svc_action *a, struct svc_result *ret);

/* One signed request: its outcome written to out (text or JSON). 0, or a
 * negative errno after writing the refusal and why. */
int svc_request(struct svc *s, const void *msg, size_t len, uint64_t now, bool json, struct ctl_out *out);

/* The runner says an instance ended on its own (status as waitpid's, or
 * a negative errno): it is forgotten. */
void svc_instance_ended(struct svc *s, unsigned id, int status);
/* The runner's word on an instance it was starting: err 0, it runs;
 * otherwise it is forgotten (and counted as failed). */
void svc_instance_started(struct svc *s, unsigned id, int err);
/* Call fn for every instance. */
void svc_foreach(struct svc *s, void (*fn)(void *arg, struct svc_instance *in), void *arg);
/* The instance with this id, or NULL. */
struct svc_instance *svc_instance(struct svc *s, unsigned id);

const struct svc_counters *svc_counters(const struct svc *s);
const struct policy *svc_policy(const struct svc *s);
size_t svc_instance_count(const struct svc *s);

#endif
