// SPDX-License-Identifier: MIT
/*
 * MPEG transport stream packets (mpegts.h). A packet: sync 0x47; then
 * transport_error(1) payload_unit_start(1) priority(1) PID(13);
 * scrambling(2) adaptation_field_control(2) continuity_counter(4); an
 * adaptation field (its length first) when the control's high bit is set;
 * the payload when its low bit is. A section starting in a payload is
 * preceded by a pointer field. The PAT section: table_id 0,
 * section_syntax(1) '0'(1) reserved(2) section_length(12),
 * transport_stream_id(16), reserved(2) version(5) current(1),
 * section_number, last_section_number, then 4 octets per program
 * (program_number(16), reserved(3), PID(13): the network PID for program
 * 0, else the PMT's), then a CRC-32 (not checked: a corrupted PAT costs
 * only the layers a service keeps).
 */
#include "wire/mpegts.h"

#include <errno.h>

int wire_ts_count(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	if (len == 0 || len % WIRE_TS_PACKET || len / WIRE_TS_PACKET > 64)
		return -EBADMSG;
	for (size_t off = 0; off < len; off += WIRE_TS_PACKET)
		if (p[off] != WIRE_TS_SYNC)
			return -EBADMSG;
	return (int)(len / WIRE_TS_PACKET);
}

uint16_t wire_ts_pid(const uint8_t *p)
{
	return (uint16_t)((p[1] & 0x1f) << 8 | p[2]);
}

int wire_ts_pat(const uint8_t *p, uint16_t *ret, size_t max)
{
	if (wire_ts_pid(p) != WIRE_TS_PID_PAT || !(p[1] & 0x40) || !(p[3] & 0x10))
		return -ENOENT;
	size_t off = 4;
	if (p[3] & 0x20) /* an adaptation field first */
		off += 1 + (size_t)p[4];
	if (off >= WIRE_TS_PACKET)
		return -EBADMSG;
	off += 1 + (size_t)p[off]; /* the pointer field */
	if (off + 8 > WIRE_TS_PACKET || p[off] != 0x00 || !(p[off + 1] & 0x80))
		return -EBADMSG;
	size_t section_len = (size_t)(p[off + 1] & 0x0f) << 8 | p[off + 2];
	/* After section_length: 5 octets of header, the programs, the CRC. */
	if (section_len < 9 || (section_len - 9) % 4 || off + 3 + section_len > WIRE_TS_PACKET)
		return -EBADMSG;
	int n = 0;
	for (size_t q = off + 8; q < off + 3 + section_len - 4; q += 4) {
		uint16_t program = (uint16_t)(p[q] << 8 | p[q + 1]);
		if (program == 0)
			continue; /* the network PID */
		if ((size_t)n < max)
			ret[n] = (uint16_t)((p[q + 2] & 0x1f) << 8 | p[q + 3]);
		n++;
	}
	return n;
}
