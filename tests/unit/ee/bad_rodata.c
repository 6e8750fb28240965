// SPDX-License-Identifier: MIT
/* Bad test code object: reads a string literal, which lives in .rodata. */
#include "anode/node.h"

AN_ACCEPT int64_t on_accept(struct an_ctx *ctx)
{
	const char *s = "an active node says hello";
	return s[ctx->data_len & 15];
}
