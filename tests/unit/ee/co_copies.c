// SPDX-License-Identifier: MIT
/*
 * Test code object: sends the capsule toward four addresses and returns how
 * many sends the node took (each refused one returns -EDQUOT past the
 * capsule's copy budget).
 */
#include "anode/node.h"

AN_INLINE int64_t one(uint8_t last)
{
	struct an_addr to = { 0 };
	to.ip[10] = 0xff;
	to.ip[11] = 0xff;
	to.ip[12] = 10;
	to.ip[15] = last;
	to.port = 100;
	return an_send(&to) == 0;
}

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return one(11) + one(12) + one(13) + one(14);
}
