// SPDX-License-Identifier: MIT
/*
 * Test code object: hands helpers pointers into the capsule data at a masked
 * offset: the key is data[0..15], the value is stored from data[16..79] and
 * read back over data[80..143].
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	uint8_t *d = an_data(ctx);
	int64_t rc = an_state_put((const struct an_key *)d, (const struct an_val *)(d + 16));
	if (rc < 0)
		return rc;
	return an_state_get((const struct an_key *)d, (struct an_val *)(d + 80));
}
