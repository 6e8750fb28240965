/* SPDX-License-Identifier: MIT */
/*
 * Code loading (ANEP Type IDs WIRE_TYPE_CODE_REQUEST and _RESPONSE, seed 002
 * §2.2): a node that receives an on-demand capsule whose code it lacks asks
 * for the code by name, listing the chunks it still wants in a 64-bit
 * bitmap, and gets one response per chunk. A request may be padded (a node
 * answers with at most WIRE_CODE_AMPLIFICATION times the octets of the
 * request, so a requester pads to pay for what it asks); a chunk has exactly
 * one valid length, so the decoders are strict: a chunk
 * whose total, count, index and length disagree could make a node assemble
 * the wrong code object, and is refused. docs/wire.md §4 has the layouts.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "wire/reader.h"
#include "wire/wire.h"

#define CODE_MAX_LEN ((uint32_t)WIRE_CODE_MAX)

/* Chunks in a code object of total_len octets (1..CODE_MAX_LEN). */
static uint32_t chunk_count(uint32_t total_len)
{
	return (total_len + WIRE_CODE_CHUNK - 1) / WIRE_CODE_CHUNK;
}

/* Octets in chunk index of a code object of total_len octets. */
static uint32_t chunk_len(uint32_t total_len, uint32_t index)
{
	uint32_t rest = total_len - index * WIRE_CODE_CHUNK;

	return rest < WIRE_CODE_CHUNK ? rest : WIRE_CODE_CHUNK;
}

/* A reader over the payload of a parsed packet of the given Type ID, or
 * -EINVAL when anep is not such a header of this buffer. */
int wire_code_request_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_code_request *ret)
{
	struct wire_reader r;
	struct wire_code_request q;
	int e;

	e = wire_rd_anep_payload(&r, pkt, len, anep, WIRE_TYPE_CODE_REQUEST);
	if (e < 0)
		return e;
	/* The answer goes to SRC: without it the request cannot be served. */
	if (!(anep->present & WIRE_HAS_SRC))
		goto fail;
	wire_rd_copy(&r, q.name, sizeof(q.name));
	q.want = wire_rd_n64(&r);
	/* Padding after the bitmap is sent as zero and not checked. */
	if (r.err || q.want == 0)
		goto fail;

	*ret = q;
	return 0;
fail:
	return -EBADMSG;
}

int wire_code_chunk_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_code_chunk *ret)
{
	struct wire_reader r;
	struct wire_code_chunk c;
	int e;

	e = wire_rd_anep_payload(&r, pkt, len, anep, WIRE_TYPE_CODE_RESPONSE);
	if (e < 0)
		return e;
	memset(&c, 0, sizeof(c));
	wire_rd_copy(&r, c.name, sizeof(c.name));
	c.total_len = wire_rd_n32(&r);
	c.index = wire_rd_n16(&r);
	c.count = wire_rd_n16(&r);
	if (r.err || c.total_len == 0 || c.total_len > CODE_MAX_LEN)
		goto fail;
	if (c.count != chunk_count(c.total_len) || c.index >= c.count)
		goto fail;
	/* The chunk is the rest of the packet, and exactly the right size. */
	c.data_off = (uint16_t)r.off;
	c.data_len = (uint16_t)chunk_len(c.total_len, c.index);
	if (wire_rd_left(&r) != c.data_len)
		goto fail;

	*ret = c;
	return 0;
fail:
	return -EBADMSG;
}

size_t wire_code_request_padded_len(size_t hdr_len, uint64_t want)
{
	size_t chunks = (size_t)__builtin_popcountll(want);
	size_t need = (chunks * WIRE_CODE_CHUNK_PKT_MAX + WIRE_CODE_AMPLIFICATION - 1) / WIRE_CODE_AMPLIFICATION;
	size_t bare = hdr_len + WIRE_CODE_REQUEST_LEN;
	return need > bare ? need : bare;
}

int wire_code_request_build(void *buf, size_t cap, const struct wire_anep_spec *spec,
			    const struct wire_code_request *req, size_t pad_to, size_t *ret_len)
{
	struct wire_anep_spec as = *spec;
	struct wire_writer w;
	size_t hdr_len, payload = WIRE_CODE_REQUEST_LEN;
	int e;

	/* What the decoder would refuse is never built. */
	if (!spec->src || req->want == 0)
		return -EINVAL;
	as.type_id = WIRE_TYPE_CODE_REQUEST;
	hdr_len = wire_anep_hdr_len(&as);
	if (pad_to > hdr_len + payload)
		payload = pad_to - hdr_len;
	e = wire_anep_build(buf, cap, &as, payload, &hdr_len);
	if (e < 0)
		return e;

	wire_wr_init(&w, (uint8_t *)buf + hdr_len, payload);
	wire_wr_copy(&w, req->name, sizeof(req->name));
	wire_wr_n64(&w, req->want);
	wire_wr_zero(&w, payload - WIRE_CODE_REQUEST_LEN);
	if (w.err || w.off != payload)
		return -EMSGSIZE; /* cannot happen: wire_anep_build checked the size */

	*ret_len = hdr_len + payload;
	return 0;
}

int wire_code_chunk_build(void *buf, size_t cap, const struct wire_anep_spec *spec, const uint8_t name[32],
			  const void *code, size_t total_len, uint16_t index, size_t *ret_len)
{
	struct wire_anep_spec as = *spec;
	struct wire_writer w;
	size_t hdr_len, data_len, payload;
	uint32_t count;
	int e;

	if (!name || !code || total_len == 0 || total_len > CODE_MAX_LEN)
		return -EINVAL;
	count = chunk_count((uint32_t)total_len);
	if (index >= count)
		return -EINVAL;
	data_len = chunk_len((uint32_t)total_len, index);
	payload = WIRE_CODE_CHUNK_HDR_LEN + data_len;
	as.type_id = WIRE_TYPE_CODE_RESPONSE;
	e = wire_anep_build(buf, cap, &as, payload, &hdr_len);
	if (e < 0)
		return e;

	wire_wr_init(&w, (uint8_t *)buf + hdr_len, payload);
	wire_wr_copy(&w, name, 32);
	wire_wr_n32(&w, (uint32_t)total_len);
	wire_wr_n16(&w, index);
	wire_wr_n16(&w, (uint16_t)count);
	wire_wr_copy(&w, (const uint8_t *)code + (size_t)index * WIRE_CODE_CHUNK, data_len);
	if (w.err || w.off != payload)
		return -EMSGSIZE; /* cannot happen: wire_anep_build checked the size */

	*ret_len = hdr_len + payload;
	return 0;
}

void wire_code_name(const void *code, size_t len, uint8_t ret_name[WIRE_CODE_NAME_LEN])
{
	/* Callers may name code before anything else initialised libsodium;
	 * sodium_init is idempotent and thread-safe. */
	static bool ready;
	if (!ready && sodium_init() >= 0)
		ready = true;
	crypto_hash_sha256(ret_name, code, len);
}
