/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for the concast decoders a node runs on every concast
 * packet (wire_ipv4_concast_parse in router mode; wire_concast_data_parse,
 * wire_csp_parse, after wire_anep_parse):
 * what parses lies inside the packet, and builds back, with the builders,
 * to a packet that parses to the same message.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct wire_anep a, b;
	size_t len;

	struct wire_ipv4_concast ip;
	if (wire_ipv4_concast_parse(data, size, &ip) == 0 && (size_t)ip.payload_off + ip.payload_len > size)
		abort();
	if (wire_anep_parse(data, size, &a) < 0)
		return 0;
	struct wire_concast_data d, d2;
	if (wire_concast_data_parse(data, size, &a, &d) == 0) {
		if ((size_t)d.msg_off + d.msg_len > a.pkt_len)
			abort();
		struct wire_anep_spec spec = { 0 };
		if (wire_concast_data_build(out, sizeof(out), &spec, &d.flow, data + d.msg_off, d.msg_len, &len) < 0 ||
		    wire_anep_parse(out, len, &b) < 0 || wire_concast_data_parse(out, len, &b, &d2) < 0 ||
		    memcmp(&d.flow, &d2.flow, sizeof(d.flow)) || d.msg_len != d2.msg_len ||
		    memcmp(data + d.msg_off, out + d2.msg_off, d.msg_len))
			abort();
	}
	struct wire_csp c, c2;
	if (wire_csp_parse(data, size, &a, &c) == 0) {
		if ((size_t)c.text_off + c.text_len > a.pkt_len)
			abort();
		struct wire_anep_spec spec = { .src = &a.src, .dst = &a.dst };
		struct wire_csp_spec s = { .type = c.type, .code = c.code, .flow = &c.flow, .nonce = c.nonce, .spec = c.spec,
					   .spec_len = c.spec_len, .text = (const char *)data + c.text_off,
					   .text_len = c.text_len, .cookie = c.cookie, .admit = c.admit,
					   .n_admit = c.n_admit, .path = c.path };
		if (wire_csp_build(out, sizeof(out), &spec, &s, &len) < 0 || wire_anep_parse(out, len, &b) < 0 ||
		    wire_csp_parse(out, len, &b, &c2) < 0 || c.type != c2.type || c.code != c2.code ||
		    memcmp(&c.flow, &c2.flow, sizeof(c.flow)) || memcmp(c.nonce, c2.nonce, sizeof(c.nonce)) ||
		    memcmp(c.spec, c2.spec, 32) || memcmp(c.cookie, c2.cookie, sizeof(c.cookie)) ||
		    c.n_admit != c2.n_admit || memcmp(c.admit, c2.admit, c.n_admit * sizeof(c.admit[0])) ||
		    c.path != c2.path ||
		    c.spec_len != c2.spec_len || c.text_len != c2.text_len ||
		    memcmp(data + c.text_off, out + c2.text_off, c.text_len))
			abort();
	}
	return 0;
}
