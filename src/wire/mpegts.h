/* SPDX-License-Identifier: MIT */
/*
 * MPEG transport stream packets (ISO/IEC 13818-1; docs/wire.md §13) as far
 * as the adaptation service needs them (issue 21): a datagram of whole
 * 188-octet packets (as ffmpeg and most senders put 7 in one UDP
 * datagram), each packet's PID, and the PAT's list of PMT PIDs, so that
 * the service can keep a stream's tables and the layers it was told to
 * keep and drop the others. Strict: a datagram that is not whole packets,
 * each starting with the sync byte, is refused; a PAT section that does
 * not fit its packet, or is not a PAT, is refused. No I/O; fuzzed
 * (fuzz_mpegts).
 */
#ifndef WIRE_MPEGTS_H
#define WIRE_MPEGTS_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_TS_PACKET 188
#define WIRE_TS_SYNC 0x47
#define WIRE_TS_PID_PAT 0x0000
#define WIRE_TS_PID_NULL 0x1fff

/* The number of packets in a datagram of len octets, or -EBADMSG. */
int wire_ts_count(const void *buf, size_t len);

/* The PID of the packet at p (WIRE_TS_PACKET octets). */
uint16_t wire_ts_pid(const uint8_t *p);

/* The PMT PIDs a PAT names, when the packet at p starts a PAT section
 * (PID 0, payload_unit_start) that fits in it: up to max into ret; the
 * number named (may exceed max), -ENOENT when p does not start a PAT
 * section, -EBADMSG when the section is malformed. */
int wire_ts_pat(const uint8_t *p, uint16_t *ret, size_t max);

#endif
