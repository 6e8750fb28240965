// SPDX-License-Identifier: MIT
/* Test code object: forward every capsule toward its ANEP destination. */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return an_forward();
}
