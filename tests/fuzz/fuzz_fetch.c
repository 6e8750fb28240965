// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the module fetcher's channel (src/wire/fetch.c):
 * the node parses what its fetcher sends, and the fetcher what the node
 * sends. A record that parses builds again to the same octets.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/fetch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_fetch f;
	static uint8_t out[WIRE_FETCH_MSG_MAX];
	if (wire_fetch_parse(data, size, &f) < 0)
		return 0;
	ssize_t n = wire_fetch_build(out, sizeof(out), &f);
	if (n < 0 || (size_t)n != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
