// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: node_input with the real rooms, on a whole node in this
 * process (tests/node/nodetest.h: a memory link, so nothing leaves the
 * process; a clock the fuzzer moves). An input is a list of steps:
 *
 *   op = byte; op & 3 == 0: a datagram of (next two bytes, big-endian,
 *   capped by what is left) octets from neighbour op >> 2 & 3 (the peer
 *   the routes name, a node behind it, two others); 1: move the clock on
 *   by (next byte) * 16 ms; 2, 3: nothing.
 *
 * After the input the clock moves past every timeout (fetches, relays,
 * concast periods), and every packet buffer must be back in the pool: a
 * room that loses a buffer on some path fails here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anode/addr.h"
#include "core/log.h"
#include "nodetest.h"
#include "wire/wire.h"

static struct nodetest *t;
static struct an_addr from[4];

static void setup(void)
{
	/* Short periods, so that moving the clock reaches them. */
	t = nt_new("concast-keepalive-ms 100\nfetch-timeout-ms 500\nbuffers 256");
	if (!t)
		abort();
	log_set_level(LOG_WARNING);
	from[0] = t->peer;
	from[1] = t->far;
	wire_addr_parse("10.99.0.9:3322", &from[2]);
	wire_addr_parse("[2001:db8::1]:4000", &from[3]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!t)
		setup();
	size_t i = 0;
	while (i < size) {
		uint8_t op = data[i++];
		if ((op & 3) == 0) {
			size_t len = 0;
			if (i + 2 <= size) {
				len = (size_t)data[i] << 8 | data[i + 1];
				i += 2;
			}
			if (len > size - i)
				len = size - i;
			nt_push(t, data + i, len, &from[(op >> 2) & 3]);
			i += len;
		} else if ((op & 3) == 1 && i < size) {
			nt_advance(t, (uint64_t)data[i++] * 16);
		}
	}
	nt_advance(t, 4000);
	nt_sent_clear(t);
	if (nt_free_buffers(t) != nt_total_buffers(t)) {
		fprintf(stderr, "fuzz_node: %zu of %zu buffers not returned\n",
			nt_total_buffers(t) - nt_free_buffers(t), nt_total_buffers(t));
		abort();
	}
	return 0;
}
