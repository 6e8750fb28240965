/* SPDX-License-Identifier: MIT */
/*
 * ANEP framing (1997 draft, version 1): the fixed 8-octet header, the option
 * TLVs that follow it, and the options anode understands (source,
 * destination, previous hop, hop limit, goal and result nodes). Every packet
 * a node receives from a net link goes through wire_anep_parse first, so it
 * is strict: the options must tile the header exactly and the options anode
 * knows must have exactly their documented size. Besides the builder, this
 * file owns the one update that changes the header's size, appending a
 * RESULT option. docs/wire.md has the layouts and test vectors.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

#define OPT_HDR_LEN 4
#define OPT_ADDR_LEN (OPT_HDR_LEN + 20)	    /* addr type, port, ip */
#define OPT_HOP_LIMIT_LEN (OPT_HDR_LEN + 4) /* hop limit, 24 zero bits */
#define OPT_RESULT_LEN WIRE_RESULT_OPT_LEN  /* an address value, visit, zero */
#define OPT_TYPE_MASK 0x3fff

/* The value of an address option: addr type, port, 16 octets of address. */
static bool parse_addr_value(struct wire_reader *r, struct an_addr *a)
{
	uint16_t addr_type = wire_rd_n16(r);

	wire_rd_copy(r, &a->port, sizeof(a->port));
	wire_rd_copy(r, a->ip, sizeof(a->ip));
	a->zero = 0;
	return addr_type == WIRE_ADDR_TYPE_NODE;
}

/* One option whose 4-octet header has been read; r covers exactly its value.
 * at is the packet offset of the value. */
static int parse_option(struct wire_reader *r, uint16_t type, uint8_t opt_flags, size_t opt_len, size_t at,
			struct wire_anep *a)
{
	struct an_addr *addr;
	uint32_t bit;

	switch (type) {
	case WIRE_OPT_SRC:
	case WIRE_OPT_DST:
	case WIRE_OPT_PREV_HOP:
		if (type == WIRE_OPT_SRC) {
			addr = &a->src;
			bit = WIRE_HAS_SRC;
		} else if (type == WIRE_OPT_DST) {
			addr = &a->dst;
			bit = WIRE_HAS_DST;
			a->dst_at = (uint16_t)at;
		} else {
			addr = &a->prev_hop;
			bit = WIRE_HAS_PREV_HOP;
			a->prev_hop_at = (uint16_t)at;
		}
		/* A second copy would leave nodes disagreeing on which one counts. */
		if (a->present & bit || opt_len != OPT_ADDR_LEN || !parse_addr_value(r, addr))
			return -EBADMSG;
		a->present |= bit;
		return 0;
	case WIRE_OPT_HOP_LIMIT:
		if (a->present & WIRE_HAS_HOP_LIMIT || opt_len != OPT_HOP_LIMIT_LEN)
			return -EBADMSG;
		/* hop limit, a reserved zero octet, the copy budget */
		a->hop_limit = wire_rd_u8(r);
		a->hop_limit_at = (uint16_t)at;
		if (!wire_rd_zero(r, 1))
			return -EBADMSG;
		a->copies = wire_rd_n16(r);
		a->present |= WIRE_HAS_HOP_LIMIT;
		return 0;
	case WIRE_OPT_GOAL:
		/* Order matters (the user's list), repeats are allowed. */
		if (a->n_goals >= WIRE_MAX_GOALS || opt_len != OPT_ADDR_LEN ||
		    !parse_addr_value(r, &a->goals[a->n_goals]))
			return -EBADMSG;
		a->n_goals++;
		return 0;
	case WIRE_OPT_RESULT: {
		struct wire_result *res = &a->results[a->n_results];

		if (a->n_results >= WIRE_MAX_RESULTS || opt_len != OPT_RESULT_LEN || !parse_addr_value(r, &res->node))
			return -EBADMSG;
		/* Visits count from 1; the zero field keeps the option a whole
		 * number of words and is reserved. */
		res->visit = wire_rd_n16(r);
		if (res->visit == 0 || !wire_rd_zero(r, 2))
			return -EBADMSG;
		a->n_results++;
		return 0;
	}
	case WIRE_OPT_CHECKSUM:
	case WIRE_OPT_AUTH:
	case WIRE_OPT_ROUTER_ALERT:
		/* Known to anode but decoded by the parts that use them. */
		return 0;
	default:
		return opt_flags & WIRE_OPT_FLAG_MUST_KNOW ? -EOPNOTSUPP : 0;
	}
}

int wire_anep_parse(const void *pkt, size_t len, struct wire_anep *ret)
{
	struct wire_reader r, opt;
	struct wire_anep a;
	uint8_t version;
	size_t hdr_len;
	int e = -EBADMSG;

	/* The goal and result arrays are 1 KiB and every packet is parsed: only
	 * the fixed fields are cleared here, and only the entries in use are
	 * copied out (readers look no further than n_goals and n_results). */
	memset(&a, 0, offsetof(struct wire_anep, goals));
	a.n_results = 0;
	wire_rd_init(&r, pkt, len);
	version = wire_rd_u8(&r);
	a.flags = wire_rd_u8(&r);
	a.type_id = wire_rd_n16(&r);
	hdr_len = (size_t)wire_rd_n16(&r) * 4;
	a.pkt_len = wire_rd_n16(&r);
	if (r.err)
		goto fail;
	if (version != WIRE_ANEP_VERSION) {
		e = -EPROTONOSUPPORT;
		goto fail;
	}
	/* Octets past pkt_len (link padding) are not part of the packet. */
	if (hdr_len < WIRE_ANEP_HDR_MIN || hdr_len > a.pkt_len || a.pkt_len > len)
		goto fail;
	a.hdr_len = (uint16_t)hdr_len;

	/* The options must tile [8, hdr_len) exactly. */
	r.len = hdr_len;
	while (wire_rd_left(&r) > 0) {
		size_t at = r.off;
		uint16_t w0 = wire_rd_n16(&r);
		size_t opt_len = (size_t)wire_rd_n16(&r) * 4;

		if (r.err || opt_len < OPT_HDR_LEN || opt_len - OPT_HDR_LEN > wire_rd_left(&r))
			goto fail;
		wire_rd_init(&opt, (const uint8_t *)pkt + r.off, opt_len - OPT_HDR_LEN);
		wire_rd_skip(&r, opt_len - OPT_HDR_LEN);
		e = parse_option(&opt, w0 & OPT_TYPE_MASK, (uint8_t)(w0 >> 14), opt_len, at + OPT_HDR_LEN, &a);
		if (e < 0)
			goto fail;
		e = -EBADMSG;
		/* parse_option reads fixed sizes it has checked; belt and braces. */
		if (opt.err)
			goto fail;
	}

	memcpy(ret, &a, offsetof(struct wire_anep, goals));
	memcpy(ret->goals, a.goals, a.n_goals * sizeof(a.goals[0]));
	ret->n_results = a.n_results;
	memcpy(ret->results, a.results, a.n_results * sizeof(a.results[0]));
	return 0;
fail:
	return e;
}

void wire_anep_set_hop_limit(void *pkt, const struct wire_anep *anep, uint8_t hop_limit)
{
	if (anep->present & WIRE_HAS_HOP_LIMIT)
		((uint8_t *)pkt)[anep->hop_limit_at] = hop_limit;
}

void wire_anep_set_copies(void *pkt, const struct wire_anep *anep, uint16_t copies)
{
	uint8_t *v = (uint8_t *)pkt + anep->hop_limit_at;

	if (!(anep->present & WIRE_HAS_HOP_LIMIT))
		return;
	v[2] = (uint8_t)(copies >> 8);
	v[3] = (uint8_t)copies;
}

/* Rewrite the address value at offset at in place: the address type (2
 * octets) stays; port, then ip, as on the wire. */
static void set_addr_value(void *pkt, uint16_t at, const struct an_addr *a)
{
	uint8_t *v = (uint8_t *)pkt + at;

	memcpy(v + 2, &a->port, 2);
	memcpy(v + 4, a->ip, 16);
}

void wire_anep_set_dst(void *pkt, const struct wire_anep *anep, const struct an_addr *dst)
{
	if (anep->present & WIRE_HAS_DST)
		set_addr_value(pkt, anep->dst_at, dst);
}

void wire_anep_set_prev_hop(void *pkt, const struct wire_anep *anep, const struct an_addr *prev_hop)
{
	if (anep->present & WIRE_HAS_PREV_HOP)
		set_addr_value(pkt, anep->prev_hop_at, prev_hop);
}

/* An option header and an address value; opt_len is the whole option's. */
static void build_addr_option(struct wire_writer *w, uint16_t type, size_t opt_len, const struct an_addr *a)
{
	wire_wr_n16(w, type);
	wire_wr_n16(w, (uint16_t)(opt_len / 4));
	wire_wr_n16(w, WIRE_ADDR_TYPE_NODE);
	wire_wr_copy(w, &a->port, sizeof(a->port));
	wire_wr_copy(w, a->ip, sizeof(a->ip));
}

size_t wire_anep_hdr_len(const struct wire_anep_spec *spec)
{
	size_t hdr_len = WIRE_ANEP_HDR_MIN + OPT_HOP_LIMIT_LEN;

	if (spec->src)
		hdr_len += OPT_ADDR_LEN;
	if (spec->dst)
		hdr_len += OPT_ADDR_LEN;
	hdr_len += (spec->n_goals <= WIRE_MAX_GOALS ? spec->n_goals : 0) * OPT_ADDR_LEN;
	if (spec->prev_hop)
		hdr_len += OPT_ADDR_LEN;
	return hdr_len;
}

int wire_anep_build(void *buf, size_t cap, const struct wire_anep_spec *spec, size_t payload_len, size_t *ret_hdr_len)
{
	struct wire_writer w;
	size_t hdr_len = wire_anep_hdr_len(spec);

	/* A header the decoder would refuse is never built. */
	if (spec->n_goals > WIRE_MAX_GOALS || (spec->n_goals && !spec->goals))
		return -EINVAL;
	/* Check everything before writing anything: on failure buf is as it was. */
	if (payload_len > UINT16_MAX - hdr_len || hdr_len + payload_len > cap)
		return -EMSGSIZE;

	wire_wr_init(&w, buf, hdr_len);
	wire_wr_u8(&w, WIRE_ANEP_VERSION);
	wire_wr_u8(&w, spec->flags);
	wire_wr_n16(&w, spec->type_id);
	wire_wr_n16(&w, (uint16_t)(hdr_len / 4));
	wire_wr_n16(&w, (uint16_t)(hdr_len + payload_len));
	if (spec->src)
		build_addr_option(&w, WIRE_OPT_SRC, OPT_ADDR_LEN, spec->src);
	if (spec->dst)
		build_addr_option(&w, WIRE_OPT_DST, OPT_ADDR_LEN, spec->dst);
	for (size_t i = 0; i < spec->n_goals; i++)
		build_addr_option(&w, WIRE_OPT_GOAL, OPT_ADDR_LEN, &spec->goals[i]);
	if (spec->prev_hop)
		build_addr_option(&w, WIRE_OPT_PREV_HOP, OPT_ADDR_LEN, spec->prev_hop);
	wire_wr_n16(&w, WIRE_OPT_HOP_LIMIT);
	wire_wr_n16(&w, OPT_HOP_LIMIT_LEN / 4);
	wire_wr_u8(&w, spec->hop_limit ? spec->hop_limit : WIRE_HOP_LIMIT_DEFAULT);
	wire_wr_zero(&w, 1);
	wire_wr_n16(&w, spec->copies);
	if (w.err || w.off != hdr_len)
		return -EMSGSIZE; /* cannot happen: sizes were checked above */

	*ret_hdr_len = hdr_len;
	return 0;
}

int wire_anep_add_result(void *pkt, size_t cap, struct wire_anep *anep, const struct an_addr *node, uint16_t visit)
{
	uint8_t *b = pkt;
	struct wire_writer w;
	struct wire_anep a;
	size_t hdr_len = anep->hdr_len, pkt_len = anep->pkt_len;
	int e;

	if (visit == 0 || hdr_len < WIRE_ANEP_HDR_MIN || hdr_len > pkt_len || hdr_len % 4)
		return -EINVAL;
	if (anep->n_results >= WIRE_MAX_RESULTS)
		return -ENOSPC;
	if (pkt_len + OPT_RESULT_LEN > UINT16_MAX || pkt_len + OPT_RESULT_LEN > cap)
		return -EMSGSIZE;

	/* The options end where the payload starts: open a gap there. Octets
	 * past pkt_len (link padding) are not part of the packet and may be
	 * overwritten. */
	memmove(b + hdr_len + OPT_RESULT_LEN, b + hdr_len, pkt_len - hdr_len);
	wire_wr_init(&w, b + hdr_len, OPT_RESULT_LEN);
	build_addr_option(&w, WIRE_OPT_RESULT, OPT_RESULT_LEN, node);
	wire_wr_n16(&w, visit);
	wire_wr_zero(&w, 2);
	hdr_len += OPT_RESULT_LEN;
	pkt_len += OPT_RESULT_LEN;
	b[4] = (uint8_t)(hdr_len / 4 >> 8);
	b[5] = (uint8_t)(hdr_len / 4);
	wire_anep_set_pkt_len(pkt, (uint16_t)pkt_len);

	/* Parsing again, rather than patching *anep, keeps one source of truth
	 * for the offsets; it only fails if anep did not describe pkt. */
	e = wire_anep_parse(pkt, pkt_len, &a);
	if (e < 0)
		return e;
	*anep = a;
	return 0;
}
