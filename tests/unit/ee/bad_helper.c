// SPDX-License-Identifier: MIT
/* Bad test code object: calls a function the node does not offer. */
#include "anode/node.h"

extern int64_t an_format_disk(uint64_t how);

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return an_format_disk(1);
}
