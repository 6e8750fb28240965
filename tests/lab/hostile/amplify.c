// SPDX-License-Identifier: MIT
/*
 * Hostile code: four copies to its own node per run, each of which does the
 * same: 4^hops capsules from one, unless the copy budget bounds them.
 */
#include "anode/node.h"

AN_ACCEPT int64_t amplify_accept(struct an_ctx *ctx)
{
	struct an_addr me = { 0 };
	an_local_addr(&me);
	an_send(&me);
	an_send(&me);
	an_send(&me);
	an_send(&me);
	return 0;
}
