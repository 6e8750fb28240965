/* SPDX-License-Identifier: MIT */
/*
 * What the capsule room tells other rooms (found with node_room_state(n,
 * "capsule")): the kernel path (src/kern) bounds a capsule's copy budget in
 * the kernel as the capsule room does here.
 */
#ifndef CAPSULE_CAPSULE_H
#define CAPSULE_CAPSULE_H

#include <stddef.h>

/* The node's max-copies, as configured now. */
size_t capsule_room_max_copies(const void *room);

#endif
