/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_ipv4_udp_parse (router mode reads every
 * intercepted packet with it) and wire_ipv4_tcp_parse (services read TCP
 * segments with it). What parses must lie inside the input, and
 * rewriting it with its own payload must give a packet that parses back to
 * the same payload.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_ipv4_udp r, r2;
	struct wire_ipv4_tcp t;
	if (wire_ipv4_tcp_parse(data, size, &t) == 0 && (size_t)t.payload_off + t.payload_len > size)
		abort();
	if (wire_ipv4_udp_parse(data, size, &r) < 0)
		return 0;
	if ((size_t)r.payload_off + r.payload_len > size)
		abort();
	uint8_t *copy = malloc(size + 64), *payload = malloc(r.payload_len + 1);
	if (!copy || !payload)
		abort();
	memcpy(copy, data, size);
	memcpy(payload, data + r.payload_off, r.payload_len);
	size_t len;
	if (wire_ipv4_udp_rewrite(copy, size + 64, r.dst, r.dport, payload, r.payload_len, &len) == 0) {
		if (wire_ipv4_udp_parse(copy, len, &r2) < 0 || r2.payload_len != r.payload_len ||
		    memcmp(copy + r2.payload_off, payload, r.payload_len) != 0 || r2.src != r.src || r2.dst != r.dst)
			abort();
	}
	free(copy);
	free(payload);
	return 0;
}
