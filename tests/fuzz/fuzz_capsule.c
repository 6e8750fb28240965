/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_capsule_parse, behind wire_anep_parse as in the
 * node. A capsule that parses is rebuilt with wire_capsule_build from what
 * was decoded (GOAL options included), and the rebuilt capsule must parse
 * back to the same fields: the encoder and the decoder agree on every
 * layout the fuzzer finds.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536];
	struct wire_anep a, a2;
	struct wire_capsule c, c2;
	size_t n;

	if (wire_anep_parse(data, size, &a) < 0)
		return 0;
	if (wire_capsule_parse(data, size, &a, &c) < 0)
		return 0;
	if (c.data_off + (size_t)c.data_len != a.pkt_len || c.data_off < a.hdr_len + WIRE_CAPSULE_HDR_LEN)
		abort();
	if (c.code_len && (c.code_off + (size_t)c.code_len > c.data_off || c.code_off % 4))
		abort();

	struct wire_capsule_spec s = {
	    .anep_flags = a.flags,
	    .hop_limit = (a.present & WIRE_HAS_HOP_LIMIT) && a.hop_limit ? a.hop_limit : 1,
	    .copies = a.copies,
	    .src = a.present & WIRE_HAS_SRC ? &a.src : NULL,
	    .dst = a.present & WIRE_HAS_DST ? &a.dst : NULL,
	    .name = c.name,
	    .home = &c.home,
	    .code = c.code_len ? data + c.code_off : NULL,
	    .code_len = c.code_len,
	    .data = data + c.data_off,
	    .data_len = c.data_len,
	    .goals = a.goals,
	    .n_goals = a.n_goals,
	};
	/* The rebuilt header may be longer than the original (it always has a
	 * hop limit, never a previous hop or unknown options): then it may
	 * legitimately not fit in 16 bits. */
	if (wire_capsule_build(out, sizeof(out), &s, &n) < 0)
		return 0;
	if (wire_anep_parse(out, n, &a2) < 0 || wire_capsule_parse(out, n, &a2, &c2) < 0)
		abort();
	if (a2.flags != a.flags || a2.hop_limit != s.hop_limit || a2.copies != s.copies || memcmp(c2.name, c.name, 32) ||
	    !an_addr_eq(&c2.home, &c.home) || c2.flags != c.flags || c2.code_len != c.code_len ||
	    c2.data_len != c.data_len || memcmp(out + c2.code_off, data + c.code_off, c.code_len) ||
	    memcmp(out + c2.data_off, data + c.data_off, c.data_len))
		abort();
	if ((a.present & WIRE_HAS_SRC) && !an_addr_eq(&a2.src, &a.src))
		abort();
	if ((a.present & WIRE_HAS_DST) && !an_addr_eq(&a2.dst, &a.dst))
		abort();
	if (a2.n_goals != a.n_goals || memcmp(a2.goals, a.goals, a.n_goals * sizeof(a.goals[0])) || a2.n_results)
		abort();
	return 0;
}
