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

#endif
