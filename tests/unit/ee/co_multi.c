// SPDX-License-Identifier: MIT
/*
 * Test code object: most of the node interface in one capsule. The data holds
 * a destination address (bytes 0-19), an application link handle (24-31) and
 * the name of a code object to call (32-63). It sends, delivers, calls, logs,
 * grows the data by 8 bytes holding the call's result and returns it.
 */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	uint8_t *d = an_data(ctx);
	struct an_addr dst;
	struct an_name callee;
	uint64_t h;
	int64_t rc;

	if (ctx->data_len < 64)
		return -EINVAL;
	__builtin_memcpy(&dst, d, sizeof(dst));
	__builtin_memcpy(&h, d + 24, sizeof(h));
	__builtin_memcpy(&callee, d + 32, sizeof(callee));

	rc = an_send(&dst);
	if (rc < 0)
		return rc;
	rc = an_deliver(h);
	if (rc < 0)
		return rc;
	int64_t cr = an_call(&callee, 7, 9);
	an_log(AN_LOG_DEBUG, 1, 2, (uint64_t)cr);

	uint16_t old = ctx->data_len;
	rc = an_resize(old + 8);
	if (rc < 0)
		return rc;
	uint8_t *p = ctx->pkt + ((ctx->data_off + old) & AN_PKT_MASK);
	uint64_t x = (uint64_t)cr;
	p[0] = x;
	p[1] = x >> 8;
	p[2] = x >> 16;
	p[3] = x >> 24;
	p[4] = x >> 32;
	p[5] = x >> 40;
	p[6] = x >> 48;
	p[7] = x >> 56;
	return cr;
}
