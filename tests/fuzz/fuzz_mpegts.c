// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for MPEG-TS datagrams (src/wire/mpegts.c), which the
 * adaptation service reads off a stream it thins: a datagram that parses
 * is whole packets; each PAT's PIDs are 13-bit, and never more are
 * written than asked for.
 */
#include <stdlib.h>

#include "wire/mpegts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n = wire_ts_count(data, size);
	if (n < 0)
		return 0;
	if ((size_t)n * WIRE_TS_PACKET != size)
		abort();
	for (int i = 0; i < n; i++) {
		const uint8_t *p = data + (size_t)i * WIRE_TS_PACKET;
		if (wire_ts_pid(p) > WIRE_TS_PID_NULL)
			abort();
		uint16_t pids[3] = {0, 0, 0xffff};
		int k = wire_ts_pat(p, pids, 2);
		if (k > 0 && (pids[2] != 0xffff || pids[0] > WIRE_TS_PID_NULL || (k > 1 && pids[1] > WIRE_TS_PID_NULL)))
			abort();
	}
	return 0;
}
