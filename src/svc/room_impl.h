/* SPDX-License-Identifier: MIT */
/*
 * Private to the services room: its state, shared by room.c (the control
 * module's glue and the room), api.c (service processes' API) and
 * module.c (packet modules and custom probes).
 */
#ifndef SVC_ROOM_IMPL_H
#define SVC_ROOM_IMPL_H

#include "node/room.h"
#include "svc/api.h"
#include "svc/module.h"
#include "svc/svc.h"

struct services {
	struct node *n;
	struct svc *svc;		  /* the control module; NULL without a policy */
	struct svc_api_state *api;	  /* running services' filters, packets, events (api.c) */
	struct svc_module_counters mod_c; /* packet modules and probes (module.c) */
	/* A reloaded configuration's policy, between its check and its
	 * putting in force (services_reconfigure). */
	struct policy pending;
	bool have_pending;
};

#endif
