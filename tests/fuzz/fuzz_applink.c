/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_applink_parse. A message that parses is built
 * again with the builder for its type, and the result must parse back to the
 * same fields; the builders check bodies with the parser's own rules, so a
 * disagreement between the two shows up here.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_applink m, m2;
	uint8_t *out;
	size_t cap = size + 80;
	ssize_t n;

	if (wire_applink_parse(data, size, &m) < 0)
		return 0;
	if (m.body_len != size - WIRE_APPLINK_HDR_LEN || (m.body_len && m.body != data + WIRE_APPLINK_HDR_LEN))
		abort();
	if (strlen(m.name) > WIRE_APPLINK_NAME_MAX)
		abort();

	out = malloc(cap);
	if (!out)
		return 0;
	switch (m.type) {
	case WIRE_APP_HELLO:
		n = wire_applink_build_hello(out, cap, m.handle, &m.addr, m.name);
		break;
	case WIRE_APP_DELIVER:
		n = wire_applink_build_deliver(out, cap, m.code, m.body + 32, m.body_len - 32);
		break;
	default:
		n = wire_applink_build(out, cap, m.type, m.status, m.body, m.body_len);
		break;
	}
	if (n < 0 || wire_applink_parse(out, (size_t)n, &m2) < 0)
		abort();
	if (m2.type != m.type || m2.status != m.status || m2.handle != m.handle || !an_addr_eq(&m2.addr, &m.addr) ||
	    strcmp(m2.name, m.name) || memcmp(m2.code, m.code, 32))
		abort();
	/* Everything but HELLO (whose name padding may shrink) comes back whole. */
	if (m.type != WIRE_APP_HELLO && ((size_t)n != size || memcmp(out, data, size)))
		abort();
	free(out);
	return 0;
}
