// SPDX-License-Identifier: MIT
/*
 * The smallest capsule code: forward every capsule toward its ANEP
 * destination (docs/code-objects.md). Build it and insert it:
 *   anode code build examples/fwd.c -o fwd.ao
 *   anode -n a code insert fwd.ao
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return an_forward();
}
