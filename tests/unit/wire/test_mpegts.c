// SPDX-License-Identifier: MIT
/*
 * MPEG-TS datagrams (src/wire/mpegts.c): whole packets or nothing, PIDs,
 * and the PAT as ffmpeg writes it (program 1, PMT at 0x1000), with an
 * adaptation field, with the network PID, and broken.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "wire/mpegts.h"

static const uint8_t pat_section[] = {0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00,
				      0x00, 0x01, 0xf0, 0x00, 0x2a, 0xb1, 0x04, 0xb2};

static void packet(uint8_t *p, uint16_t pid, bool start, const uint8_t *payload, size_t n)
{
	memset(p, 0xff, WIRE_TS_PACKET);
	p[0] = WIRE_TS_SYNC;
	p[1] = (uint8_t)((start ? 0x40 : 0) | pid >> 8);
	p[2] = (uint8_t)pid;
	p[3] = 0x10;
	memcpy(p + 4, payload, n);
}

static void test_datagram(void)
{
	uint8_t d[7 * WIRE_TS_PACKET];
	for (int i = 0; i < 7; i++)
		packet(d + i * WIRE_TS_PACKET, (uint16_t)(0x100 + i % 2), false, (const uint8_t *)"", 0);
	CHECK_INT(wire_ts_count(d, sizeof(d)), 7);
	CHECK_INT(wire_ts_pid(d + WIRE_TS_PACKET), 0x101);
	CHECK_INT(wire_ts_count(d, sizeof(d) - 1), -EBADMSG);
	CHECK_INT(wire_ts_count(d, 0), -EBADMSG);
	d[3 * WIRE_TS_PACKET] = 0x48;
	CHECK_INT(wire_ts_count(d, sizeof(d)), -EBADMSG);
}

static void test_pat(void)
{
	uint8_t p[WIRE_TS_PACKET], payload[40] = {0};
	uint16_t pids[4];
	memcpy(payload + 1, pat_section, sizeof(pat_section)); /* after the pointer field */
	packet(p, 0, true, payload, sizeof(pat_section) + 1);
	CHECK_INT(wire_ts_pat(p, pids, 4), 1);
	CHECK_INT(pids[0], 0x1000);
	packet(p, 0, false, payload, sizeof(pat_section) + 1); /* not a section's start */
	CHECK_INT(wire_ts_pat(p, pids, 4), -ENOENT);
	packet(p, 0x100, true, payload, sizeof(pat_section) + 1);
	CHECK_INT(wire_ts_pat(p, pids, 4), -ENOENT);
	payload[1] = 0x02; /* a PMT's table id where the PAT's should be */
	packet(p, 0, true, payload, sizeof(pat_section) + 1);
	CHECK_INT(wire_ts_pat(p, pids, 4), -EBADMSG);
	payload[1] = 0x00;
	payload[2] = 0xbf; /* a section longer than its packet */
	payload[3] = 0xff;
	packet(p, 0, true, payload, sizeof(pat_section) + 1);
	CHECK_INT(wire_ts_pat(p, pids, 4), -EBADMSG);
}

static const struct check_test tests[] = {TEST(test_datagram), TEST(test_pat)};

int main(void)
{
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
