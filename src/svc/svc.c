// SPDX-License-Identifier: MIT
/*
 * The control module (svc.h): authenticate, check the policy, then act.
 * Instances live in a small table; each names its user and service, so a
 * user acts only on its own (administrators on any).
 */
#include "svc/svc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

struct svc {
	char node[WIRE_SVC_NAME_MAX + 1];
	struct policy policy;
	struct svc_ops ops;
	struct svc_auth *auth;
	struct svc_instance *inst[SVC_INSTANCES_MAX];
	unsigned next_id;
	struct svc_counters c;
};

static const char *op_name(uint8_t op)
{
	static const char *names[] = {"?", "activate", "suspend", "resume", "stop", "param", "list"};
	return op < sizeof(names) / sizeof(names[0]) ? names[op] : "?";
}

struct svc *svc_new(const char *node, struct policy *p, const struct svc_ops *ops)
{
	struct svc *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	snprintf(s->node, sizeof(s->node), "%s", node);
	s->auth = svc_auth_new();
	if (!s->auth) {
		free(s);
		return NULL;
	}
	s->policy = *p;
	memset(p, 0, sizeof(*p));
	s->ops = *ops;
	s->next_id = 1;
	return s;
}

void svc_free(struct svc *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++)
		if (s->inst[i]) {
			s->ops.stop(s->ops.arg, s->inst[i]);
			free(s->inst[i]);
		}
	svc_auth_free(s->auth);
	policy_free(&s->policy);
	free(s);
}

static struct svc_instance **find(struct svc *s, const char *user, const char *service)
{
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++)
		if (s->inst[i] && !strcmp(s->inst[i]->user, user) && !strcmp(s->inst[i]->service, service))
			return &s->inst[i];
	return NULL;
}

static size_t count_of(const struct svc *s, const char *user)
{
	size_t n = 0;
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++)
		if (s->inst[i] && !strcmp(s->inst[i]->user, user))
			n++;
	return n;
}

static const char *state_name(enum svc_state st)
{
	return st == SVC_STARTING ? "starting" : st == SVC_RUNNING ? "running" : "suspended";
}

static void print_instance(struct ctl_out *o, const struct svc_instance *in, bool json, bool first)
{
	if (json)
		ctl_printf(
		    o,
		    "%s{\"id\":%u,\"service\":\"%s\",\"user\":\"%s\",\"kind\":\"%s\",\"state\":\"%s\",\"since\":%llu}",
		    first ? "" : ",", in->id, in->service, in->user, policy_kind_name(in->kind), state_name(in->state),
		    (unsigned long long)in->since);
	else {
		ctl_printf(o, "instance %u %s of %s: %s %s since ", in->id, in->service, in->user,
			   policy_kind_name(in->kind), state_name(in->state));
		ctl_print_moment(o, in->since, (uint64_t)time(NULL));
		ctl_printf(o, "\n");
	}
}

static void list(struct svc *s, const struct policy_principal *who, bool json, struct ctl_out *o)
{
	if (json)
		ctl_printf(o, "{\"services\":[");
	bool first = true;
	for (size_t i = 0; i < s->policy.n_services; i++) {
		const struct policy_service *sv = &s->policy.services[i];
		if (!policy_may_use(who, sv->name))
			continue;
		if (json)
			ctl_printf(o, "%s{\"name\":\"%s\",\"kind\":\"%s\"}", first ? "" : ",", sv->name,
				   policy_kind_name(sv->kind));
		else
			ctl_printf(o, "service %s (%s)\n", sv->name, policy_kind_name(sv->kind));
		first = false;
	}
	if (json)
		ctl_printf(o, "],\"instances\":[");
	first = true;
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++) {
		const struct svc_instance *in = s->inst[i];
		if (!in || (!who->admin && strcmp(in->user, who->name)))
			continue;
		print_instance(o, in, json, first);
		first = false;
	}
	if (json)
		ctl_printf(o, "]}\n");
}

/* A refusal: counted, logged (rate-limited) and written into ret: "OP
 * SERVICE for USER refused: WHY". */
static int refuse(struct svc *s, struct svc_result *ret, uint64_t *counter, int err, const char *op,
		  const char *service, const char *user, const char *why)
{
	(*counter)++;
	/* A request that did not check out names no one yet. */
	if (!service[0] && !user[0])
		log_ratelimited_by(LOG_NOTICE, why, NULL, "svc: %s refused: %s", op, why);
	else
		log_ratelimited_by(LOG_NOTICE, why, user, "svc: %s %s for %s refused: %s", op,
				   service[0] ? service : "-", user[0] ? user : "?", why);
	ret->err = err;
	snprintf(ret->why, sizeof(ret->why), "%s", why);
	return err;
}

static uint64_t *auth_counter(struct svc *s, enum auth_result r)
{
	switch (r) {
	case AUTH_MALFORMED:
		return &s->c.refused_malformed;
	case AUTH_OTHER_NODE:
		return &s->c.refused_other_node;
	case AUTH_UNKNOWN:
		return &s->c.refused_unknown_user;
	case AUTH_FORGED:
		return &s->c.refused_forged;
	case AUTH_EXPIRED:
	case AUTH_FUTURE:
		return &s->c.refused_expired;
	case AUTH_REPLAYED:
		return &s->c.refused_replayed;
	default:
		return &s->c.refused_busy;
	}
}

static int activate(struct svc *s, const struct policy_principal *who, const struct svc_action *a,
		    struct svc_result *ret)
{
	const char *op = "activate";
	const struct policy_service *sv = policy_service(&s->policy, a->service);
	if (!sv)
		return refuse(s, ret, &s->c.refused_policy, -ENOENT, op, a->service, who->name, "no such service here");
	if (!policy_may_use(who, sv->name))
		return refuse(s, ret, &s->c.refused_policy, -EPERM, op, a->service, who->name,
			      "the policy does not allow this user that service");
	if (find(s, who->name, sv->name))
		return refuse(s, ret, &s->c.refused_state, -EEXIST, op, a->service, who->name,
			      "this user runs it already");
	if (!who->admin && count_of(s, who->name) >= who->quota.services)
		return refuse(s, ret, &s->c.refused_quota, -EDQUOT, op, a->service, who->name,
			      "over the user's quota of services");
	size_t slot = 0;
	while (slot < SVC_INSTANCES_MAX && s->inst[slot])
		slot++;
	if (slot == SVC_INSTANCES_MAX)
		return refuse(s, ret, &s->c.refused_quota, -ENOSPC, op, a->service, who->name,
			      "the node runs as many instances as it can");
	struct svc_instance *in = calloc(1, sizeof(*in));
	if (!in)
		return refuse(s, ret, &s->c.failed, -ENOMEM, op, a->service, who->name, "out of memory");
	in->id = s->next_id++;
	strcpy(in->service, sv->name);
	strcpy(in->user, who->name);
	in->kind = sv->kind;
	in->state = SVC_RUNNING;
	in->since = a->now;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	in->requested_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	snprintf(in->params, sizeof(in->params), "%s", a->params ? a->params : "");
	char why[256] = "";
	int r = s->ops.start(s->ops.arg, in, sv, who, a->request, a->request_len, why, sizeof(why));
	if (r < 0) {
		free(in);
		/* What the policy does not allow (a filter outside the grants)
		 * is a refusal, not a failure of the node. */
		return refuse(s, ret, r == -EPERM ? &s->c.refused_policy : &s->c.failed, r, op, a->service, who->name,
			      why[0] ? why : strerror(-r));
	}
	s->inst[slot] = in;
	s->c.activated++;
	log_info("svc: %s activated for %s (instance %u)", sv->name, who->name, in->id);
	ret->in = *in;
	ret->has_in = true;
	return 0;
}

int svc_act(struct svc *s, const struct policy_principal *who, const struct svc_action *a, struct svc_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	const char *op = op_name(a->op);
	const char *owner = a->owner && a->owner[0] ? a->owner : who->name;
	if (a->op < WIRE_SVC_ACTIVATE || a->op > WIRE_SVC_PARAM)
		return refuse(s, ret, &s->c.refused_malformed, -EOPNOTSUPP, op, a->service, who->name,
			      "not an action on a service");
	if (a->op == WIRE_SVC_ACTIVATE) {
		if (strcmp(owner, who->name) != 0)
			return refuse(s, ret, &s->c.refused_policy, -EPERM, op, a->service, owner,
				      "an instance is activated by its own user");
		int r = activate(s, who, a, ret);
		if (r == 0)
			s->c.accepted++;
		return r;
	}
	/* The rest act on an instance: the principal's own, or, for an
	 * administrator, any user's (the policy format's promise). */
	bool own = strcmp(owner, who->name) == 0;
	if (!own && !who->admin)
		return refuse(s, ret, &s->c.refused_policy, -EPERM, op, a->service, owner,
			      "only administrators act on other users' instances");
	struct svc_instance **pin = find(s, owner, a->service);
	if (!pin)
		return refuse(s, ret, &s->c.refused_state, -ENOENT, op, a->service, owner,
			      own ? "this user runs no such service" : "that user runs no such service");
	struct svc_instance *in = *pin;
	char why[256] = "";
	int r = 0;
	if (in->state == SVC_STARTING && a->op != WIRE_SVC_STOP)
		return refuse(s, ret, &s->c.refused_state, -EAGAIN, op, a->service, owner, "still starting");
	switch (a->op) {
	case WIRE_SVC_SUSPEND:
	case WIRE_SVC_RESUME: {
		bool suspend = a->op == WIRE_SVC_SUSPEND;
		if ((in->state == SVC_SUSPENDED) == suspend)
			return refuse(s, ret, &s->c.refused_state, -EALREADY, op, a->service, owner,
				      suspend ? "suspended already" : "not suspended");
		r = s->ops.suspend(s->ops.arg, in, suspend, why, sizeof(why));
		if (r == 0)
			in->state = suspend ? SVC_SUSPENDED : SVC_RUNNING;
		break;
	}
	case WIRE_SVC_PARAM: {
		const char *params = a->params ? a->params : "";
		r = s->ops.param(s->ops.arg, in, params, why, sizeof(why));
		if (r == 0)
			snprintf(in->params, sizeof(in->params), "%s", params);
		break;
	}
	case WIRE_SVC_STOP:
		s->ops.stop(s->ops.arg, in);
		log_info("svc: %s of %s stopped (instance %u)%s%s", in->service, in->user, in->id, own ? "" : " by ",
			 own ? "" : who->name);
		ret->in = *in;
		*pin = NULL;
		free(in);
		s->c.stopped++;
		s->c.accepted++;
		ret->stopped = true;
		return 0;
	}
	if (r < 0)
		return refuse(s, ret, r == -EPERM ? &s->c.refused_policy : &s->c.failed, r, op, a->service, owner,
			      why[0] ? why : strerror(-r));
	s->c.accepted++;
	ret->in = *in;
	ret->has_in = true;
	return 0;
}

int svc_request(struct svc *s, const void *msg, size_t len, uint64_t now, bool json, struct ctl_out *o)
{
	s->c.requests++;
	struct wire_svc_request q;
	const struct policy_principal *who;
	struct svc_result res = {0};
	enum auth_result ar = svc_auth_check(s->auth, &s->policy, s->node, msg, len, now, &q, &who);
	if (ar != AUTH_OK) {
		/* What the request claims is shown only once it checked out;
		 * before that it is the requester's word. */
		int r = refuse(s, &res, auth_counter(s, ar), ar == AUTH_MALFORMED ? -EBADMSG : -EACCES, "request", "",
			       "", svc_auth_why(ar));
		ctl_printf(o, "request refused: %s\n", res.why);
		return r;
	}
	if (q.op == WIRE_SVC_LIST) {
		s->c.accepted++;
		list(s, who, json, o);
		return 0;
	}
	struct svc_action a = {
	    .op = q.op,
	    .service = q.service,
	    .owner = q.owner,
	    .params = q.params,
	    .now = now,
	    .request = msg,
	    .request_len = len,
	};
	int r = svc_act(s, who, &a, &res);
	if (r < 0) {
		ctl_printf(o, "%s refused: %s\n", op_name(q.op), res.why);
		return r;
	}
	if (res.stopped) {
		ctl_printf(o, json ? "{\"stopped\":true}\n" : "stopped\n");
		return 0;
	}
	print_instance(o, &res.in, json, true);
	if (json)
		ctl_printf(o, "\n");
	return 0;
}

void svc_reload(struct svc *s, struct policy *p)
{
	struct policy old = s->policy;
	s->policy = *p;
	memset(p, 0, sizeof(*p));
	s->c.reloads++;
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++) {
		struct svc_instance *in = s->inst[i];
		if (!in)
			continue;
		const struct policy_principal *who = policy_principal(&s->policy, in->user);
		const struct policy_service *sv = policy_service(&s->policy, in->service);
		if (who && sv && sv->kind == in->kind && policy_may_use(who, sv->name) &&
		    (!s->ops.allowed || s->ops.allowed(s->ops.arg, in, who)))
			continue;
		log_warn("svc: %s of %s (instance %u) stopped: the reloaded policy no longer allows it", in->service,
			 in->user, in->id);
		s->ops.stop(s->ops.arg, in);
		free(in);
		s->inst[i] = NULL;
		s->c.revoked++;
	}
	policy_free(&old);
}

void svc_instance_ended(struct svc *s, unsigned id, int status)
{
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++)
		if (s->inst[i] && s->inst[i]->id == id) {
			log_warn("svc: %s of %s (instance %u) ended on its own (wait status 0x%x)", s->inst[i]->service,
				 s->inst[i]->user, id, (unsigned)status);
			free(s->inst[i]);
			s->inst[i] = NULL;
			s->c.ended++;
			return;
		}
}

void svc_instance_started(struct svc *s, unsigned id, int err)
{
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++) {
		struct svc_instance *in = s->inst[i];
		if (!in || in->id != id || in->state != SVC_STARTING)
			continue;
		if (err == 0) {
			in->state = SVC_RUNNING;
			log_info("svc: %s of %s (instance %u) runs", in->service, in->user, id);
			return;
		}
		log_warn("svc: %s of %s (instance %u) could not start: %s", in->service, in->user, id, strerror(-err));
		s->ops.stop(s->ops.arg, in);
		free(in);
		s->inst[i] = NULL;
		s->c.failed++;
		return;
	}
}

void svc_foreach(struct svc *s, void (*fn)(void *arg, struct svc_instance *in), void *arg)
{
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++)
		if (s->inst[i])
			fn(arg, s->inst[i]);
}

struct svc_instance *svc_instance(struct svc *s, unsigned id)
{
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++)
		if (s->inst[i] && s->inst[i]->id == id)
			return s->inst[i];
	return NULL;
}

const struct svc_counters *svc_counters(const struct svc *s)
{
	return &s->c;
}

const struct policy *svc_policy(const struct svc *s)
{
	return &s->policy;
}

size_t svc_instance_count(const struct svc *s)
{
	size_t n = 0;
	for (size_t i = 0; i < SVC_INSTANCES_MAX; i++)
		n += s->inst[i] != NULL;
	return n;
}
