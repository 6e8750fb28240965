// SPDX-License-Identifier: MIT
/*
 * Test code object of another kind than capsule code: its one entry point
 * is the section "probe", and it has no accept.
 */
#include "anode/node.h"

__attribute__((section("probe"), used)) int64_t kind_probe(struct an_ctx *ctx)
{
	return 7;
}
