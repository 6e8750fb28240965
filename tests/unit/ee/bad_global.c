// SPDX-License-Identifier: MIT
/* Bad test code object: keeps a count in a global variable. */
#include "anode/node.h"

uint64_t bad_count;

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return ++bad_count;
}
