// SPDX-License-Identifier: MIT
/*
 * Test code object, built in variants (-DVARIANT=n) so that each has its own
 * name. accept returns VARIANT; fini sends to an address made of the first 16
 * bytes of its own name, port 0xfeed, which the test's route callback sees;
 * variant 9's init fails.
 */
#include "anode/node.h"

#ifndef VARIANT
#define VARIANT 0
#endif

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	return VARIANT;
}

AN_INIT int64_t on_init(struct an_ctx *ctx)
{
	return VARIANT == 9 ? -EINVAL : 0;
}

AN_FINI int64_t on_fini(struct an_ctx *ctx)
{
	struct an_addr a = {0};

	__builtin_memcpy(a.ip, ctx->code, sizeof(a.ip));
	a.port = 0xfeed;
	return an_send(&a);
}
