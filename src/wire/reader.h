/* SPDX-License-Identifier: MIT */
/*
 * Checked readers and writers over a byte buffer, private to src/wire.
 *
 * Every decoder in this directory reads through a struct wire_reader, in the
 * manner of OpenBGPD's ibuf_get_n16 family: a getter that would run past the
 * end returns zeroes, consumes nothing and sets a sticky error flag, so a
 * decoder can read a run of fields and test the flag once, at a single error
 * exit, instead of checking the length before every field. Builders use
 * struct wire_writer the same way against the capacity of the output buffer.
 * Multi-octet integers are big-endian (network order) on every format.
 */
#ifndef WIRE_READER_H
#define WIRE_READER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "anode/addr.h"
#include "wire/wire.h"

struct wire_reader {
	const uint8_t *buf;
	size_t len; /* octets the reader may see */
	size_t off; /* next octet to read */
	bool err;   /* sticky: some read ran past len */
};

static inline void wire_rd_init(struct wire_reader *r, const void *buf, size_t len)
{
	r->buf = buf;
	r->len = len;
	r->off = 0;
	r->err = false;
}

static inline size_t wire_rd_left(const struct wire_reader *r)
{
	return r->len - r->off;
}

/* Consume n octets and return where they start, or NULL (and set the error
 * flag) when fewer than n remain. The other getters are built on this. */
static inline const uint8_t *wire_rd_take(struct wire_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err || n > wire_rd_left(r)) {
		r->err = true;
		return NULL;
	}
	p = r->buf + r->off;
	r->off += n;
	return p;
}

static inline void wire_rd_skip(struct wire_reader *r, size_t n)
{
	(void)wire_rd_take(r, n);
}

static inline uint8_t wire_rd_u8(struct wire_reader *r)
{
	const uint8_t *p = wire_rd_take(r, 1);

	return p ? p[0] : 0;
}

static inline uint16_t wire_rd_n16(struct wire_reader *r)
{
	const uint8_t *p = wire_rd_take(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

static inline uint32_t wire_rd_n32(struct wire_reader *r)
{
	const uint8_t *p = wire_rd_take(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

static inline uint64_t wire_rd_n64(struct wire_reader *r)
{
	uint64_t hi = wire_rd_n32(r);

	return hi << 32 | wire_rd_n32(r);
}

/* Copy n octets out; on a short read dst is zeroed, so callers never see
 * uninitialised bytes even before they test the flag. */
static inline void wire_rd_copy(struct wire_reader *r, void *dst, size_t n)
{
	const uint8_t *p = wire_rd_take(r, n);

	if (p)
		memcpy(dst, p, n);
	else
		memset(dst, 0, n);
}

/* Whether the next n octets are all zero (reserved fields and padding).
 * A short read counts as "not zero" and sets the error flag. */
static inline bool wire_rd_zero(struct wire_reader *r, size_t n)
{
	const uint8_t *p = wire_rd_take(r, n);

	if (!p)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

struct wire_writer {
	uint8_t *buf;
	size_t cap;
	size_t off;
	bool err; /* sticky: some write did not fit in cap */
};

static inline void wire_wr_init(struct wire_writer *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->off = 0;
	w->err = false;
}

static inline uint8_t *wire_wr_take(struct wire_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err || n > w->cap - w->off) {
		w->err = true;
		return NULL;
	}
	p = w->buf + w->off;
	w->off += n;
	return p;
}

static inline void wire_wr_u8(struct wire_writer *w, uint8_t v)
{
	uint8_t *p = wire_wr_take(w, 1);

	if (p)
		p[0] = v;
}

static inline void wire_wr_n16(struct wire_writer *w, uint16_t v)
{
	uint8_t *p = wire_wr_take(w, 2);

	if (p) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
}

static inline void wire_wr_n32(struct wire_writer *w, uint32_t v)
{
	uint8_t *p = wire_wr_take(w, 4);

	if (p) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
}

static inline void wire_wr_n64(struct wire_writer *w, uint64_t v)
{
	wire_wr_n32(w, (uint32_t)(v >> 32));
	wire_wr_n32(w, (uint32_t)v);
}

/* src may be NULL only when n is 0. */
static inline void wire_wr_copy(struct wire_writer *w, const void *src, size_t n)
{
	uint8_t *p = wire_wr_take(w, n);

	if (p && n)
		memcpy(p, src, n);
}

static inline void wire_wr_zero(struct wire_writer *w, size_t n)
{
	uint8_t *p = wire_wr_take(w, n);

	if (p && n)
		memset(p, 0, n);
}

/* A node address as it travels inside capsule and HELLO bodies: ip[16],
 * port[2] (network order, copied as is), zero[2]. Returns false when the
 * zero field is not zero; a short read only sets the error flag. */
static inline bool wire_rd_addr(struct wire_reader *r, struct an_addr *a)
{
	wire_rd_copy(r, a->ip, sizeof(a->ip));
	wire_rd_copy(r, &a->port, sizeof(a->port));
	a->zero = 0;
	return wire_rd_zero(r, 2) || r->err;
}

static inline void wire_wr_addr(struct wire_writer *w, const struct an_addr *a)
{
	wire_wr_copy(w, a->ip, sizeof(a->ip));
	wire_wr_copy(w, &a->port, sizeof(a->port));
	wire_wr_zero(w, 2);
}

/* The 8-octet header of the record formats (docs/wire.md §5, §5a, §5c):
 * type, version, reserved, signed status. */
struct wire_rec_hdr {
	uint8_t type, version;
	uint16_t reserved;
	int32_t status;
};

/* Read it: false when the record is shorter than a header. */
static inline bool wire_rd_rec_hdr(struct wire_reader *r, struct wire_rec_hdr *h)
{
	h->type = wire_rd_u8(r);
	h->version = wire_rd_u8(r);
	h->reserved = wire_rd_n16(r);
	h->status = (int32_t)wire_rd_n32(r);
	return !r->err;
}

static inline void wire_wr_rec_hdr(struct wire_writer *w, uint8_t type, uint8_t version, int32_t status)
{
	wire_wr_u8(w, type);
	wire_wr_u8(w, version);
	wire_wr_n16(w, 0);
	wire_wr_n32(w, (uint32_t)status);
}

/* The 20-octet filter of docs/wire.md §5a and §5c (filter.c): false when
 * it runs past the end, has its reserved octet set or a prefix past 32. */
struct wire_priv_filter;
bool wire_rd_filter(struct wire_reader *r, struct wire_priv_filter *f);
void wire_wr_filter(struct wire_writer *w, const struct wire_priv_filter *f);

/* A reader over the payload of a parsed ANEP packet of the given Type ID
 * (the payloads of §4 and §9), or -EINVAL when anep is not such a header
 * of this buffer. */
static inline int wire_rd_anep_payload(struct wire_reader *r, const void *pkt, size_t len,
				       const struct wire_anep *anep, uint16_t type_id)
{
	if (anep->type_id != type_id || anep->pkt_len > len || anep->hdr_len > anep->pkt_len)
		return -EINVAL;
	wire_rd_init(r, pkt, anep->pkt_len);
	wire_rd_skip(r, anep->hdr_len);
	return 0;
}

/* Text checks the formats share: printable ASCII (0x20..0x7e), and the
 * characters of names (letters, digits, '_', '-', and '.' where dots). */
static inline bool wire_printable(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static inline bool wire_name_chars(const uint8_t *s, size_t n, bool dots)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || (dots && c == '.')))
			return false;
	}
	return true;
}

#endif
