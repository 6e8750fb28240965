// SPDX-License-Identifier: MIT
/*
 * The services room: the node's glue to the control module (src/svc). It
 * reads the policy at start, hands signed requests from the control
 * socket (`anode svc ...`) to the control module, and runs instances: how
 * each kind of service runs is decided here (struct svc_ops).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "node/node_impl.h"
#include "svc/svc.h"

static int run_start(void *arg, struct svc_instance *in, const struct policy_service *s,
		     const struct policy_principal *who, char *why, size_t whylen)
{
	struct node *n = arg;
	if (s->kind == POLICY_MODULE) {
		snprintf(why, whylen, "packet modules cannot run on this node yet");
		return -EOPNOTSUPP;
	}
	if (!n->priv) {
		snprintf(why, whylen, "service processes run on router nodes only (anoded as root, whose "
				      "privileged parent starts them in sandboxes)");
		return -EOPNOTSUPP;
	}
	snprintf(why, whylen, "service processes cannot run on this node yet");
	return -EOPNOTSUPP;
}

static void run_stop(void *arg, struct svc_instance *in)
{
}

static int run_suspend(void *arg, struct svc_instance *in, bool suspend, char *why, size_t whylen)
{
	snprintf(why, whylen, "this instance cannot be suspended");
	return -EOPNOTSUPP;
}

static int run_param(void *arg, struct svc_instance *in, const char *params, char *why, size_t whylen)
{
	snprintf(why, whylen, "this instance takes no parameters");
	return -EOPNOTSUPP;
}

int services_room_init(struct node *n)
{
	if (!n->cfg.policy_path[0])
		return 0;
	struct policy p;
	char err[512];
	if (policy_load(n->cfg.policy_path, &p, err, sizeof(err)) < 0) {
		log_err("svc: %s", err);
		return -EINVAL;
	}
	struct svc_ops ops = {
		.start = run_start, .stop = run_stop, .suspend = run_suspend, .param = run_param, .arg = n,
	};
	n->svc = svc_new(n->cfg.name, &p, &ops);
	if (!n->svc) {
		policy_free(&p);
		return -ENOMEM;
	}
	log_info("svc: policy %s: %zu principal(s), %zu service(s)", n->cfg.policy_path,
		 svc_policy(n->svc)->n_principals, svc_policy(n->svc)->n_services);
	return 0;
}

void services_room_done(struct node *n)
{
	svc_free(n->svc);
	n->svc = NULL;
}

/* "svc BASE64 [json]": one signed request. */
int services_ctl(void *arg, int argc, char **argv, struct ctl_out *o)
{
	struct node *n = arg;
	if (!n->svc) {
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
	return svc_request(n->svc, msg, len, (uint64_t)time(NULL), json, o);
}

void services_stats(struct node *n, struct stat_section *sec)
{
	sec->key = "svc";
	sec->title = "control module (services)";
	stat_add(sec, "instances", "service instances now", svc_instance_count(n->svc));
	STAT_ADD_ALL(sec, svc_counters(n->svc), SVC_COUNTERS);
}
