/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_anep_parse. Besides not crashing, a header that
 * parses must describe itself consistently: the offsets it hands out for
 * in-place rewriting lie inside the header, and rewriting them leaves a
 * packet that still parses to the same thing.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_anep a, b;
	uint8_t *copy;

	if (wire_anep_parse(data, size, &a) < 0)
		return 0;
	if (a.hdr_len < WIRE_ANEP_HDR_MIN || a.hdr_len > a.pkt_len || a.pkt_len > size || a.hdr_len % 4)
		abort();
	if ((a.present & WIRE_HAS_HOP_LIMIT) && (a.hop_limit_at >= a.hdr_len || data[a.hop_limit_at] != a.hop_limit))
		abort();
	if ((a.present & WIRE_HAS_PREV_HOP) && a.prev_hop_at + 20u > a.hdr_len)
		abort();

	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	wire_anep_set_hop_limit(copy, &a, (uint8_t)(a.hop_limit + 1));
	wire_anep_set_prev_hop(copy, &a, &a.src);
	if (wire_anep_parse(copy, size, &b) < 0 || b.present != a.present || b.hdr_len != a.hdr_len)
		abort();
	if ((a.present & WIRE_HAS_HOP_LIMIT) && b.hop_limit != (uint8_t)(a.hop_limit + 1))
		abort();
	if ((a.present & WIRE_HAS_PREV_HOP) && !an_addr_eq(&b.prev_hop, &a.src))
		abort();
	free(copy);
	return 0;
}
