/* SPDX-License-Identifier: MIT */
/*
 * What the kern room (docs/kernel.md) offers other rooms, found with
 * node_room_state(n, "kern"): the services room tells it which filters its
 * packet modules run on, so that a module with a kernel section runs there
 * in the kernel path too.
 */
#ifndef KERN_KERN_H
#define KERN_KERN_H

#include <stdint.h>

#include "link/match.h"

/* Module name runs on what filter id (the matching engine's) matches: in
 * the kernel, once its kernel section is loaded (or never, when it has
 * none or the kernel path is off). */
void kern_filter_bind(void *room, unsigned filter_id, const struct match_filter *f, const uint8_t name[32]);
/* The filter is gone. */
void kern_filter_unbind(void *room, unsigned filter_id);

#endif
