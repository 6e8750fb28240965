/* SPDX-License-Identifier: MIT */
/*
 * The code loading room's service to other rooms: a packet whose code is
 * not here waits (is parked) while the code is fetched, and runs again
 * through the node when it came (room.c, fetch.c).
 */
#ifndef CODELOAD_CODELOAD_H
#define CODELOAD_CODELOAD_H

#include <stdint.h>

#include "anode/addr.h"

struct codeload;
struct ee_kind;
struct pkt;

/* Park p until the code named arrives as kind, asking the node p came from
 * (when it came from the network), then home. 0 (consumed: it runs again
 * from the node's resume queue, or its room hears through its Type ID's
 * expired function that the code will not come); -ENOBUFS at the parking
 * limits, -EHOSTUNREACH with nobody to ask: p is still the caller's. In
 * router mode the queued packet p came in is held meanwhile. */
int codeload_park(struct codeload *cl, struct pkt *p, const uint8_t name[32], const struct an_addr *home,
		  const struct ee_kind *kind);

#endif
