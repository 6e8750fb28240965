// SPDX-License-Identifier: MIT
/*
 * The smallest packet module: every packet goes on as it came. The packet
 * module column of bench/services.sh (a module's cost over NFQUEUE alone).
 */
#include "anode/module.h"

AN_PACKET int64_t pass_packet(struct an_pkt_ctx *ctx)
{
	return AN_PKT_ACCEPT;
}
