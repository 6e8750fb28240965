// SPDX-License-Identifier: MIT
/*
 * The worst packet module we could write for bench/lanes.sh: it searches
 * every packet for a pattern glibc's memmem is slowest on ('baaaaaaa' in
 * a run of a's, about 6 ns an octet), again and again, until its work
 * budget runs out. The bench fills its packets with a's.
 */
#include "anode/module.h"

AN_PACKET int64_t worst_packet(struct an_pkt_ctx *ctx)
{
	struct an_pattern pat = {.len = 8, .b = {'b', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}};
#pragma clang loop unroll(full)
	for (int i = 0; i < 64; i++)
		an_pkt_find(ctx, 28, &pat);
	return AN_PKT_ACCEPT;
}
