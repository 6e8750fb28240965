// SPDX-License-Identifier: MIT
/*
 * A custom probe (include/anode/module.h) for tests/lab/test_proactive.sh:
 * its reading is how many times it has run, counted in its soft state (so
 * that it checks the node keeps it between runs), or -1 (nothing
 * published) if that count and the node's disagree.
 */
#include "anode/module.h"

AN_PROBE int64_t ticks_probe(struct an_probe_ctx *ctx)
{
	struct an_key k = { { 0 } };
	struct an_val v = { { 0 } };
	uint64_t n = 0;
	an_state_get(&k, &v);
	__builtin_memcpy(&n, v.b, sizeof(n));
	if (n != ctx->runs)
		return -1;
	n++;
	__builtin_memcpy(v.b, &n, sizeof(n));
	an_state_put(&k, &v);
	return (int64_t)n;
}
