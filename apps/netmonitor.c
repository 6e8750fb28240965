// SPDX-License-Identifier: MIT
/*
 * NetMonitor (seed 004 §9.2, issue 20): NetServ's first module deployed by
 * signalling, a packet module that counts the packets of the flow its
 * filter names by (source address, destination address, TTL) and lets
 * every packet go on. The counts live in the module's soft state: key
 * octets 0-3 the IPv4 source, 4-7 the destination, 8 the TTL as the packet
 * reached this node; value octets 0-7 the count (little-endian, as this
 * host stores it). A node reports the table to the collector that the
 * SETUP's property collector=ADDR:PORT names (docs/signalling.md), every
 * report=S seconds.
 *
 *   anode signal setup DEST --module netmonitor.ao --url URL \
 *       --filter proto=udp,dst=PREFIX,dport=LO-HI --prop collector=ADDR:PORT
 */
#include "anode/module.h"

AN_PACKET int64_t netmonitor_packet(struct an_pkt_ctx *ctx)
{
	if (ctx->len < 20)
		return AN_PKT_ACCEPT;
	struct an_key k = {{0}};
	struct an_val v = {{0}};
	for (int i = 0; i < 8; i++)
		k.b[i] = ctx->pkt[12 + i];
	k.b[8] = ctx->pkt[8];
	an_state_get(&k, &v); /* absent: a count of 0 */
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | v.b[i];
	n++;
	for (int i = 0; i < 8; i++)
		v.b[i] = (uint8_t)(n >> (8 * i));
	an_state_put(&k, &v);
	return AN_PKT_ACCEPT;
}
