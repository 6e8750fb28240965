/* SPDX-License-Identifier: MIT */
/*
 * Capsules (ANEP Type ID WIRE_TYPE_CAPSULE, DESIGN.md §3): after the ANEP
 * header, a 56-octet capsule header (code name 32, home address 20 of which
 * the last 2 octets are zero, flags 2, code length 2) naming the code object
 * and its home, then the carried code (padded to 4 octets) when the capsule carries it,
 * then the data up to the ANEP packet length. The decoder only points into
 * the packet, so a capsule that is only forwarded is never copied.
 */
#include <errno.h>
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

#define PAD4(n) (((n) + 3) & ~(size_t)3)

int wire_capsule_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_capsule *ret)
{
	struct wire_reader r;
	struct wire_capsule c;
	size_t code_pad;
	bool home_ok;

	/* anep should come from wire_anep_parse on this very packet; checking
	 * it again costs nothing and keeps a mismatched pair from reading past
	 * the buffer. */
	if (anep->type_id != WIRE_TYPE_CAPSULE || anep->pkt_len > len || anep->hdr_len > anep->pkt_len)
		return -EINVAL;

	memset(&c, 0, sizeof(c));
	wire_rd_init(&r, pkt, anep->pkt_len);
	wire_rd_skip(&r, anep->hdr_len);
	wire_rd_copy(&r, c.name, sizeof(c.name));
	home_ok = wire_rd_addr(&r, &c.home);
	c.flags = wire_rd_n16(&r);
	c.code_len = wire_rd_n16(&r);
	/* Unknown flags are refused rather than ignored: a flag that changes
	 * how the rest is laid out cannot be skipped safely. */
	if (r.err || !home_ok || c.flags & ~WIRE_CAPSULE_CARRIED)
		goto fail;
	if (!!(c.flags & WIRE_CAPSULE_CARRIED) != (c.code_len > 0))
		goto fail;

	c.code_off = c.code_len ? (uint16_t)r.off : 0;
	code_pad = PAD4(c.code_len);
	wire_rd_skip(&r, c.code_len);
	/* Zero padding keeps the encoding canonical: one capsule, one byte string. */
	if (!wire_rd_zero(&r, code_pad - c.code_len))
		goto fail;
	c.data_off = (uint16_t)r.off;
	c.data_len = (uint16_t)wire_rd_left(&r);

	*ret = c;
	return 0;
fail:
	return -EBADMSG;
}

int wire_capsule_build(void *buf, size_t cap, const struct wire_capsule_spec *spec, size_t *ret_len)
{
	struct wire_anep_spec as = {
	    .flags = spec->anep_flags,
	    .type_id = WIRE_TYPE_CAPSULE,
	    .hop_limit = spec->hop_limit,
	    .copies = spec->copies,
	    .src = spec->src,
	    .dst = spec->dst,
	    .goals = spec->goals,
	    .n_goals = spec->n_goals,
	    .prev_hop = spec->prev_hop,
	};
	static const struct an_addr no_home;
	struct wire_writer w;
	size_t payload, hdr_len;
	int e;

	if (!spec->name || (spec->code_len && !spec->code) || (spec->data_len && !spec->data))
		return -EINVAL;
	if (spec->code_len > UINT16_MAX || spec->data_len > UINT16_MAX)
		return -EMSGSIZE;
	payload = WIRE_CAPSULE_HDR_LEN + PAD4(spec->code_len) + spec->data_len;
	e = wire_anep_build(buf, cap, &as, payload, &hdr_len);
	if (e < 0)
		return e;

	/* wire_anep_build has checked that the payload fits behind the header. */
	wire_wr_init(&w, (uint8_t *)buf + hdr_len, payload);
	wire_wr_copy(&w, spec->name, 32);
	wire_wr_addr(&w, spec->home ? spec->home : &no_home);
	wire_wr_n16(&w, spec->code_len ? WIRE_CAPSULE_CARRIED : 0);
	wire_wr_n16(&w, (uint16_t)spec->code_len);
	wire_wr_copy(&w, spec->code, spec->code_len);
	wire_wr_zero(&w, PAD4(spec->code_len) - spec->code_len);
	wire_wr_copy(&w, spec->data, spec->data_len);
	if (w.err || w.off != payload)
		return -EMSGSIZE;

	*ret_len = hdr_len + payload;
	return 0;
}
