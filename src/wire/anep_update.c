// SPDX-License-Identifier: MIT
/*
 * In-place updates of a parsed ANEP header, for the node's forwarding path:
 * it changes a few octets of a packet it forwards instead of building a new
 * one, so that a forwarded capsule is never copied.
 */
#include "wire/wire.h"

void wire_anep_set_pkt_len(void *pkt, uint16_t pkt_len)
{
	uint8_t *b = pkt;
	b[6] = (uint8_t)(pkt_len >> 8);
	b[7] = (uint8_t)pkt_len;
}
