/* SPDX-License-Identifier: MIT */
/*
 * The 20-octet filter that the privilege separation messages (§5a) and the
 * service API (§5c) both carry (docs/wire.md): addresses, prefixes,
 * protocol, a reserved octet, port ranges.
 */
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

bool wire_rd_filter(struct wire_reader *r, struct wire_priv_filter *f)
{
	const uint8_t *a = wire_rd_take(r, 4);
	if (a)
		memcpy(&f->src, a, 4);
	a = wire_rd_take(r, 4);
	if (a)
		memcpy(&f->dst, a, 4);
	f->src_prefix = wire_rd_u8(r);
	f->dst_prefix = wire_rd_u8(r);
	f->proto = wire_rd_u8(r);
	uint8_t reserved = wire_rd_u8(r);
	f->sport_lo = wire_rd_n16(r);
	f->sport_hi = wire_rd_n16(r);
	f->dport_lo = wire_rd_n16(r);
	f->dport_hi = wire_rd_n16(r);
	return !r->err && !reserved && f->src_prefix <= 32 && f->dst_prefix <= 32;
}

void wire_wr_filter(struct wire_writer *w, const struct wire_priv_filter *f)
{
	wire_wr_copy(w, &f->src, 4);
	wire_wr_copy(w, &f->dst, 4);
	wire_wr_u8(w, f->src_prefix);
	wire_wr_u8(w, f->dst_prefix);
	wire_wr_u8(w, f->proto);
	wire_wr_u8(w, 0);
	wire_wr_n16(w, f->sport_lo);
	wire_wr_n16(w, f->sport_hi);
	wire_wr_n16(w, f->dport_lo);
	wire_wr_n16(w, f->dport_hi);
}
