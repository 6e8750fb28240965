/* SPDX-License-Identifier: MIT */
/*
 * What other rooms may ask of the services room (room.c): on-path
 * signalling (src/sig) authenticates its requests against the same policy
 * as the control module's, and describes what this node offers.
 */
#ifndef SVC_ROOM_H
#define SVC_ROOM_H

#include <stdbool.h>

#include "svc/policy.h"

struct node;

/* The policy in force, or NULL when the node has none (or no services
 * room runs). Valid until the next reload. */
const struct policy *services_policy(struct node *n);

struct svc_module;
struct match_filter;

/* A packet module (include/anode/module.h) from its code (ELF, copied),
 * for who, on the packets filter f matches (router nodes only): validated
 * and inserted as the services room's packet module kind, then its filter
 * installed; ready(arg, err) once the filter is in or failed (then the
 * caller removes it). NULL with errno and why set when it cannot start
 * (the validator's refusal, no router mode). Its counters are the
 * services room's (section modules). */
struct svc_module *services_module_install(struct node *n, const struct policy_principal *who, const char *label,
					   const void *elf, size_t len, const struct match_filter *f,
					   void (*ready)(void *arg, int err), void *arg, char *why, size_t whylen);
/* Remove it: its filter out, its held packets let go, its code freed
 * (the cache keeps it until evicted). */
void services_module_remove(struct svc_module *m);

#endif
