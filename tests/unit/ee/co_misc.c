// SPDX-License-Identifier: MIT
/*
 * Test code object: local address, time and node figures. Writes the local
 * address to the first 20 bytes of the data and returns the number of cached
 * code objects, or -EINVAL if time stood still.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	struct an_addr me = {0}; /* the validator does not know the helper fills it */
	uint8_t *d = an_data(ctx);

	if (an_local_addr(&me) < 0)
		return -EINVAL;
	__builtin_memcpy(d, &me, sizeof(me));
	uint64_t t0 = an_time_ns();
	if (t0 == 0)
		return -EINVAL;
	if (an_node_info(0xdead) != -EINVAL)
		return -EINVAL;
	return an_node_info(AN_INFO_CODE_CACHED);
}
