/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_code_request_parse and wire_code_chunk_parse,
 * behind wire_anep_parse as in the node. Every ANEP packet that parses is
 * offered to both decoders (with its Type ID set to each code loading
 * type, so that the fuzzer need not find the Type IDs first). What decodes
 * must obey the documented rules, and is rebuilt with the builders from the
 * decoded fields: the rebuilt packet must parse back to the same fields.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A spec that rebuilds the header's addresses and goals. */
static struct wire_anep_spec spec_of(const struct wire_anep *a)
{
	struct wire_anep_spec s = {
	    .flags = a->flags,
	    .type_id = WIRE_TYPE_CAPSULE, /* the builders must overwrite it */
	    .hop_limit = (a->present & WIRE_HAS_HOP_LIMIT) && a->hop_limit ? a->hop_limit : 1,
	    .copies = a->copies,
	    .src = a->present & WIRE_HAS_SRC ? &a->src : NULL,
	    .dst = a->present & WIRE_HAS_DST ? &a->dst : NULL,
	    .goals = a->goals,
	    .n_goals = a->n_goals,
	};
	return s;
}

static void check_header(const struct wire_anep *a, const struct wire_anep *b, const struct wire_anep_spec *s,
			 uint16_t type_id)
{
	if (b->type_id != type_id || b->flags != a->flags || b->hop_limit != s->hop_limit || b->copies != s->copies ||
	    b->n_goals != a->n_goals ||
	    memcmp(b->goals, a->goals, a->n_goals * sizeof(a->goals[0])))
		abort();
	if ((a->present & WIRE_HAS_SRC) && !an_addr_eq(&b->src, &a->src))
		abort();
	if ((a->present & WIRE_HAS_DST) && !an_addr_eq(&b->dst, &a->dst))
		abort();
}

static void fuzz_request(const uint8_t *data, size_t size, const struct wire_anep *a)
{
	static uint8_t out[65536];
	struct wire_code_request q, q2;
	struct wire_anep b;
	struct wire_anep_spec s;
	size_t n;

	if (wire_code_request_parse(data, size, a, &q) < 0)
		return;
	if (!(a->present & WIRE_HAS_SRC) || q.want == 0 || a->pkt_len - a->hdr_len < WIRE_CODE_REQUEST_LEN)
		abort();
	s = spec_of(a);
	/* The rebuilt header has no unknown options and no previous hop, so
	 * it is never longer than 8 + (2 + 16) * 24 + 8 octets: it fits. */
	/* Rebuilt with the original's padding: the same packet length, unless
	 * the rebuilt header (no unknown options, no previous hop) is longer. */
	size_t pad_to = a->pkt_len;
	if (wire_code_request_build(out, sizeof(out), &s, &q, pad_to, &n) < 0)
		abort();
	if (n < pad_to || (n > pad_to && n != wire_anep_hdr_len(&s) + WIRE_CODE_REQUEST_LEN))
		abort();
	if (wire_anep_parse(out, n, &b) < 0 || wire_code_request_parse(out, n, &b, &q2) < 0)
		abort();
	check_header(a, &b, &s, WIRE_TYPE_CODE_REQUEST);
	if (memcmp(q2.name, q.name, 32) || q2.want != q.want)
		abort();
}

static void fuzz_chunk(const uint8_t *data, size_t size, const struct wire_anep *a)
{
	static uint8_t code[WIRE_CODE_CHUNK * WIRE_CODE_MAX_CHUNKS], out[65536];
	struct wire_code_chunk c, c2;
	struct wire_anep b;
	struct wire_anep_spec s;
	uint32_t count;
	size_t n, at;

	if (wire_code_chunk_parse(data, size, a, &c) < 0)
		return;
	count = (c.total_len + WIRE_CODE_CHUNK - 1) / WIRE_CODE_CHUNK;
	if (c.total_len == 0 || c.total_len > sizeof(code) || c.count != count || c.index >= c.count)
		abort();
	at = (size_t)c.index * WIRE_CODE_CHUNK;
	if (c.data_len != (c.index + 1u < c.count ? WIRE_CODE_CHUNK : c.total_len - at))
		abort();
	if (c.data_off != a->hdr_len + WIRE_CODE_CHUNK_HDR_LEN || c.data_off + (size_t)c.data_len != a->pkt_len)
		abort();

	/* Put the chunk where it belongs in a whole object and cut it again. */
	memcpy(code + at, data + c.data_off, c.data_len);
	s = spec_of(a);
	if (wire_code_chunk_build(out, sizeof(out), &s, c.name, code, c.total_len, c.index, &n) < 0)
		abort();
	if (wire_anep_parse(out, n, &b) < 0 || wire_code_chunk_parse(out, n, &b, &c2) < 0)
		abort();
	check_header(a, &b, &s, WIRE_TYPE_CODE_RESPONSE);
	if (memcmp(c2.name, c.name, 32) || c2.total_len != c.total_len || c2.index != c.index || c2.count != c.count ||
	    c2.data_len != c.data_len || memcmp(out + c2.data_off, data + c.data_off, c.data_len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_anep a;
	struct wire_code_request q;
	struct wire_code_chunk c;
	uint16_t type_id;

	if (wire_anep_parse(data, size, &a) < 0)
		return 0;
	/* Each decoder refuses the other's Type ID. */
	type_id = a.type_id;
	if (type_id != WIRE_TYPE_CODE_REQUEST && wire_code_request_parse(data, size, &a, &q) != -EINVAL)
		abort();
	if (type_id != WIRE_TYPE_CODE_RESPONSE && wire_code_chunk_parse(data, size, &a, &c) != -EINVAL)
		abort();
	a.type_id = WIRE_TYPE_CODE_REQUEST;
	fuzz_request(data, size, &a);
	a.type_id = WIRE_TYPE_CODE_RESPONSE;
	fuzz_chunk(data, size, &a);
	return 0;
}
