// SPDX-License-Identifier: MIT
/*
 * The services room: the node's glue to the control module (svc.c, auth.c,
 * policy.c). It reads the policy at start (and again on SIGHUP), hands
 * signed requests from the control socket (`anode svc ...`) to the control
 * module, and runs instances: how each kind of service runs is decided
 * here (struct svc_ops): packet modules and probes in the node (module.c),
 * service processes in sandboxes the privileged parent starts, talking to
 * the node through the service API (api.c).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "priv/priv.h"
#include "svc/policy.h"
#include "svc/room.h"
#include "svc/room_impl.h"

static void run_free(struct svc_instance *in)
{
	if (in->kind == POLICY_MODULE) {
		svc_module_stop(in);
		return;
	}
	if (in->kind == POLICY_PROBE) {
		svc_probe_stop(in);
		return;
	}
	svc_api_close(in->run);
	in->run = NULL;
}

static int run_start(void *arg, struct svc_instance *in, const struct policy_service *s,
		     const struct policy_principal *who, const void *request, size_t len, char *why, size_t whylen)
{
	struct services *sv = arg;
	struct node *n = sv->n;
	if (s->kind == POLICY_MODULE)
		return svc_module_start(sv, in, s, who, why, whylen);
	if (s->kind == POLICY_PROBE)
		return svc_probe_start(sv, in, s, who, why, whylen);
	if (!n->priv) {
		snprintf(why, whylen,
			 "service processes run on router nodes only (anoded as root, whose "
			 "privileged parent starts them in sandboxes)");
		return -EOPNOTSUPP;
	}
	if (s->server) {
		/* The traffic redirected to it, checked here to say why; the
		 * parent checks it again. */
		struct policy_flow fl;
		int r = policy_server_flow(in->params, who, &fl, why, whylen);
		if (r < 0)
			return r;
	}
	/* The parent checks the signed request again, against its own copy of
	 * the policy, and starts the sandbox; the answer comes later. */
	int r = priv_chan_svc_start(n->priv, in->id, request, len);
	if (r < 0) {
		snprintf(why, whylen, "cannot reach the privileged parent: %s", strerror(-r));
		return r;
	}
	in->state = SVC_STARTING;
	return 0;
}

static void run_stop(void *arg, struct svc_instance *in)
{
	struct services *sv = arg;
	struct node *n = sv->n;
	run_free(in);
	if (n->priv && in->kind == POLICY_PROGRAM)
		priv_chan_svc_stop(n->priv, in->id);
}

static int run_suspend(void *arg, struct svc_instance *in, bool suspend, char *why, size_t whylen)
{
	struct services *sv = arg;
	struct node *n = sv->n;
	if (in->kind != POLICY_PROGRAM) {
		snprintf(why, whylen, "a %s is suspended by stopping it",
			 in->kind == POLICY_MODULE ? "packet module" : "probe");
		return -EOPNOTSUPP;
	}
	/* The parent freezes or thaws the sandbox's cgroup: every process of
	 * the service stops where it is. */
	int r = priv_chan_svc_freeze(n->priv, in->id, suspend);
	if (r < 0)
		snprintf(why, whylen, "cannot reach the privileged parent: %s", strerror(-r));
	else if (in->run)
		svc_api_suspend(in->run, suspend);
	return r;
}

/* New parameters go to the service as a PARAMS record on its socket. */
static int run_param(void *arg, struct svc_instance *in, const char *params, char *why, size_t whylen)
{
	if (in->kind != POLICY_PROGRAM) {
		snprintf(why, whylen, "a %s takes its parameters when activated",
			 in->kind == POLICY_MODULE ? "packet module" : "probe");
		return -EOPNOTSUPP;
	}
	int r = in->run ? svc_api_params(in->run, params) : -ENOTCONN;
	if (r < 0)
		snprintf(why, whylen, "the service does not take them: %s", strerror(-r));
	return r;
}

/* After a policy reload: a packet module whose filter the new grants no
 * longer cover is revoked (a service process loses such filters instead:
 * svc_api_rebind). */
static bool run_allowed(void *arg, struct svc_instance *in, const struct policy_principal *who)
{
	return in->kind != POLICY_MODULE || svc_module_granted(in, who);
}

static void on_started(void *arg, unsigned id, int err, pid_t pid, int fd)
{
	struct services *sv = arg;
	struct svc_instance *in = sv->svc ? svc_instance(sv->svc, id) : NULL;
	if (!in || in->state != SVC_STARTING) {
		/* Stopped while it started: the parent has been told. */
		if (fd >= 0)
			close(fd);
		return;
	}
	if (err == 0) {
		const struct policy_principal *who = policy_principal(svc_policy(sv->svc), in->user);
		in->run = who ? svc_api_open(sv, in, who, fd) : NULL;
		if (!in->run) {
			if (!who)
				close(fd);
			err = -ENOMEM;
		}
	}
	svc_instance_started(sv->svc, id, err);
}

static void on_ended(void *arg, unsigned id, int wstatus)
{
	struct services *sv = arg;
	struct svc_instance *in = sv->svc ? svc_instance(sv->svc, id) : NULL;
	if (!in)
		return; /* stopped by request: forgotten already */
	run_free(in);
	svc_instance_ended(sv->svc, id, wstatus);
}

/* The policy the node's configuration carries (its text, read once by
 * whoever read the configuration: the privileged parent in router mode). */
static int policy_of(const struct node_config *nc, struct policy *ret, char *err, size_t errlen)
{
	return policy_parse(nc->policy_text, nc->policy_len, nc->policy_path, ret, err, errlen);
}

/* The control module, with policy p (taken). */
static int control_start(struct services *sv, struct policy *p)
{
	struct node *n = sv->n;
	struct svc_ops ops = {
	    .start = run_start,
	    .stop = run_stop,
	    .suspend = run_suspend,
	    .param = run_param,
	    .arg = sv,
	    .allowed = run_allowed,
	};
	sv->svc = svc_new(n->cfg.name, p, &ops);
	if (!sv->svc) {
		policy_free(p);
		return -ENOMEM;
	}
	if (!sv->api && svc_api_init(sv) < 0)
		return -ENOMEM;
	if (n->priv) {
		struct priv_svc_handler h = {.started = on_started, .ended = on_ended, .arg = sv};
		priv_chan_set_svc_handler(n->priv, &h);
	}
	return 0;
}

static int services_init(struct node *n, const void *cfg, void **ret_state)
{
	struct services *sv = calloc(1, sizeof(*sv));
	if (!sv)
		return -ENOMEM;
	sv->n = n;
	*ret_state = sv;
	if (!n->cfg.policy_text)
		return 0;
	struct policy p;
	char err[512];
	if (policy_of(&n->cfg, &p, err, sizeof(err)) < 0) {
		log_err("svc: %s", err);
		return -EINVAL;
	}
	int r = control_start(sv, &p);
	if (r < 0)
		return r;
	log_info("svc: policy %s: %zu principal(s), %zu service(s)", n->cfg.policy_path,
		 svc_policy(sv->svc)->n_principals, svc_policy(sv->svc)->n_services);
	return 0;
}

/* A reloaded configuration: its policy is put in force (instances it no
 * longer allows stop, running services hold their user's new entry), or,
 * without one, every instance stops. A policy that does not parse refuses
 * the whole reload. */
static int services_reconfigure(void *room, const void *cfg, const struct node_config *nc, bool apply, char *why,
				size_t whylen)
{
	struct services *sv = room;
	if (!apply) {
		policy_free(&sv->pending);
		sv->have_pending = false;
		if (!nc->policy_text)
			return 0;
		if (policy_of(nc, &sv->pending, why, whylen) < 0)
			return -EINVAL;
		sv->have_pending = true;
		return 0;
	}
	if (!sv->have_pending) {
		if (sv->svc)
			log_warn("svc: reload: no policy any more: every instance stops");
		svc_free(sv->svc);
		sv->svc = NULL;
		return 0;
	}
	sv->have_pending = false;
	if (!sv->svc) {
		control_start(sv, &sv->pending);
	} else {
		svc_reload(sv->svc, &sv->pending);
		/* The services still running hold their user's entry: in the
		 * new policy now. */
		svc_api_rebind(sv);
	}
	memset(&sv->pending, 0, sizeof(sv->pending));
	if (sv->svc)
		log_info("svc: policy %s in force: %zu principal(s), %zu service(s)", nc->policy_path,
			 svc_policy(sv->svc)->n_principals, svc_policy(sv->svc)->n_services);
	return 0;
}

static void services_done(void *room)
{
	struct services *sv = room;
	policy_free(&sv->pending);
	svc_free(sv->svc);
	svc_api_done(sv);
	free(sv);
}

/* "svc BASE64 [json]": one signed request. */
static int services_ctl(void *room, int argc, char **argv, struct ctl_out *o)
{
	struct services *sv = room;
	if (!sv->svc) {
		ctl_printf(o, "this node has no policy: it runs no services ('policy FILE' in its configuration)\n");
		return -EOPNOTSUPP;
	}
	if (argc < 2) {
		ctl_printf(o, "usage: svc REQUEST [json]\n");
		return -EINVAL;
	}
	uint8_t msg[WIRE_SVC_REQUEST_MAX];
	size_t len;
	if (sodium_base642bin(msg, sizeof(msg), argv[1], strlen(argv[1]), NULL, &len, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
		ctl_printf(o, "request refused: not base64 (URL-safe, no padding), or longer than %d octets\n",
			   WIRE_SVC_REQUEST_MAX);
		return -EINVAL;
	}
	bool json = argc > 2 && (!strcmp(argv[2], "json") || !strcmp(argv[2], "--json"));
	return svc_request(sv->svc, msg, len, (uint64_t)time(NULL), json, o);
}

/* "events [AFTER] [json]": the events monitors sent to services, after
 * sequence number AFTER (0: all that are kept). */
static int services_events_ctl(void *room, int argc, char **argv, struct ctl_out *o)
{
	struct services *sv = room;
	uint64_t after = 0;
	bool json = false;
	if (!sv->api) {
		ctl_printf(o, "this node has no policy: it runs no services, and no monitor sends events\n");
		return -EOPNOTSUPP;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "json") || !strcmp(argv[i], "--json")) {
			json = true;
		} else {
			char *end;
			after = strtoull(argv[i], &end, 10);
			if (*end) {
				ctl_printf(o, "usage: events [AFTER] [json]\n");
				return -EINVAL;
			}
		}
	}
	svc_api_events_print(sv, after, json, o);
	return 0;
}

static void services_stats(void *room, struct stat_list *l)
{
	struct services *sv = room;
	struct stat_section *sec;
	if (!sv->svc)
		return;
	if ((sec = stat_list_add(l, "svc", "control module (services)"))) {
		stat_add(sec, "instances", "service instances now", svc_instance_count(sv->svc));
		STAT_ADD_ALL(sec, svc_counters(sv->svc), SVC_COUNTERS);
	}
	if ((sec = stat_list_add(l, "modules", "packet modules")))
		STAT_ADD_ALL(sec, svc_module_counters(sv), SVC_MODULE_COUNTERS);
	if (sv->api && (sec = stat_list_add(l, "services", "service processes (the service API)")))
		svc_api_stats(sv, sec);
}

/* Once a second: custom probes run, then subscriptions are sampled with
 * the figures they watch. */
static void services_tick(void *room)
{
	svc_probe_tick(room);
	svc_api_tick(room);
}

/* anoded -n: the policy, as the node will read it. */
static int services_check(const struct node_config *nc, const void *cfg, FILE *f, char *err, size_t errlen)
{
	if (!nc->policy_text)
		return 0;
	struct policy p;
	if (policy_of(nc, &p, err, errlen) < 0)
		return -EINVAL;
	fprintf(f, "# policy %s\n", nc->policy_path);
	policy_print(&p, f);
	policy_free(&p);
	return 0;
}

const struct policy *services_policy(struct node *n)
{
	struct services *sv = node_room_state(n, "services");
	return sv && sv->svc ? svc_policy(sv->svc) : NULL;
}

static const struct ctl_command services_commands[] = {
    {"svc", "svc REQUEST [json] (a signed request, base64: anode svc ...)", services_ctl, NULL, 2},
    {"events", "events [AFTER] [json]", services_events_ctl, NULL, 2},
    {NULL, NULL, NULL, NULL, 0},
};

static const struct room services_room = {
    .name = "services",
    .rank = 30,
    .init = services_init,
    .done = services_done,
    .commands = services_commands,
    .stats = services_stats,
    .tick = services_tick,
    .reconfigure = services_reconfigure,
    .check = services_check,
};
ROOM_REGISTER(services_room);
