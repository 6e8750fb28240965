/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_sapi_parse, which the node runs on every record
 * a service process sends. A record that parses builds back, with the
 * builder, to the very same octets.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[WIRE_SAPI_MSG_MAX];
	struct wire_sapi m;

	if (wire_sapi_parse(data, size, &m) < 0)
		return 0;
	if (m.data_len && (m.data < data || m.data + m.data_len != data + size))
		abort();
	ssize_t n = wire_sapi_build(out, sizeof(out), &m);
	if (n != (ssize_t)size || memcmp(out, data, size))
		abort();
	return 0;
}
