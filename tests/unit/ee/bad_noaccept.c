// SPDX-License-Identifier: MIT
/* Bad test code object: has init but no accept entry point. */
#include "anode/node.h"

AN_INIT int64_t on_init(struct an_ctx *ctx)
{
	return 0;
}
