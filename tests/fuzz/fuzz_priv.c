/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_priv_parse, which the privileged parent runs on
 * whatever the node child sends. A message that parses builds back to the
 * very same octets (every body has one fixed layout), and a parsed filter
 * never has a prefix past 32.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_priv m;
	uint8_t out[WIRE_PRIV_MSG_MAX];
	ssize_t n;

	if (wire_priv_parse(data, size, &m) < 0)
		return 0;
	if (m.filter.src_prefix > 32 || m.filter.dst_prefix > 32)
		abort();
	n = wire_priv_build(out, sizeof(out), &m);
	if (n < 0 || (size_t)n != size || memcmp(out, data, size))
		abort();
	return 0;
}
