// SPDX-License-Identifier: MIT
/*
 * Bad test code object: hands a helper a stack pointer with less room above
 * it than the 64-byte value the helper writes.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	struct an_key k = {0};
	uint64_t small[2] = {0, 0};
	return an_state_get(&k, (struct an_val *)small);
}
