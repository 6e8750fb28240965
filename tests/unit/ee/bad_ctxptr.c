// SPDX-License-Identifier: MIT
/*
 * Bad test code object: hands a helper a pointer into the context whose
 * 64-byte target can reach past the end of the context (masked offset plus
 * 400 is beyond the slack), so the helper could write outside it.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	uint8_t *d = an_data(ctx);
	return an_state_get((const struct an_key *)d, (struct an_val *)(d + 400));
}
