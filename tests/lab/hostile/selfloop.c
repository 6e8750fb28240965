// SPDX-License-Identifier: MIT
/*
 * Hostile code: sends the capsule to its own node, every run. Before the
 * hop limit was taken on every path, a capsule that arrived by on-demand
 * loading (parked, then resumed) looped here for ever.
 */
#include "anode/node.h"

AN_ACCEPT int64_t selfloop_accept(struct an_ctx *ctx)
{
	struct an_addr me = { 0 };
	an_local_addr(&me);
	return an_send(&me);
}
