/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_addr_parse and wire_prefix_parse, on a
 * NUL-terminated copy of the input as the functions expect. Whatever parses
 * must format to text that parses back to the same address (prefix); a
 * prefix must be valid and contain its own address.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[WIRE_ADDR_STRLEN];
	struct an_addr a, b;
	char *s;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (wire_addr_parse(s, &a) == 0) {
		if (a.zero != 0 || a.port == 0)
			abort();
		wire_addr_format(&a, buf, sizeof(buf));
		if (strlen(buf) + 1 >= sizeof(buf) || wire_addr_parse(buf, &b) < 0 || !an_addr_eq(&a, &b))
			abort();
	}
	struct an_prefix p, q;
	if (wire_prefix_parse(s, &p) == 0) {
		if (!wire_prefix_valid(&p) || !wire_prefix_contains(&p, p.ip))
			abort();
		wire_prefix_format(&p, buf, sizeof(buf));
		if (strlen(buf) + 1 >= sizeof(buf) || wire_prefix_parse(buf, &q) < 0 || memcmp(&p, &q, sizeof(p)) != 0)
			abort();
	}
	free(s);
	return 0;
}
