// SPDX-License-Identifier: MIT
/*
 * Unit test of the pending code requests (src/node/relay.c): what is
 * relayed to whom, within what each requester paid, for how long, and what
 * happens when the table is full.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codeload/relay.h"

static int checks, failures;
#define CHECK(c)                                                                         \
	do {                                                                             \
		checks++;                                                                \
		if (!(c)) {                                                              \
			failures++;                                                      \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);     \
		}                                                                        \
	} while (0)

static struct an_addr addr(uint8_t last)
{
	struct an_addr a = { .ip = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = last }, .port = 0x0cf2 };
	return a;
}

int main(void)
{
	uint8_t n1[32] = { 1 }, n2[32] = { 2 };
	struct an_addr to[4], a = addr(1), b = addr(2), c = addr(3);
	struct relay *r = relay_new(2, 1000);
	CHECK(r);

	/* a asked for chunks 0 and 1 of n1 and paid for 2000 octets. */
	CHECK(relay_add(r, n1, &a, 0x3, 2000, 0) == 0);
	CHECK(relay_count(r) == 1);
	/* A chunk of other code, or one not asked for, goes to nobody. */
	CHECK(relay_take(r, n2, 0, 1000, to, 4, 10) == 0);
	CHECK(relay_take(r, n1, 5, 1000, to, 4, 10) == 0);
	/* Chunk 0 goes to a, once. */
	CHECK(relay_take(r, n1, 0, 1128, to, 4, 10) == 1 && an_addr_eq(&to[0], &a));
	CHECK(relay_take(r, n1, 0, 1128, to, 4, 10) == 0);
	/* Chunk 1 would cost more than what is left of what a paid: not sent. */
	CHECK(relay_take(r, n1, 1, 1128, to, 4, 10) == 0);
	/* Everything asked for was taken: the entry is free again. */
	CHECK(relay_count(r) == 0);

	/* A retry from the same requester replaces its entry. */
	CHECK(relay_add(r, n1, &a, 0x4, 3000, 20) == 0);
	CHECK(relay_add(r, n1, &a, 0xc, 3000, 30) == 0);
	CHECK(relay_count(r) == 1);
	/* Two requesters of the same chunk both get it. */
	CHECK(relay_add(r, n1, &b, 0xc, 3000, 30) == 0);
	CHECK(relay_take(r, n1, 2, 1000, to, 4, 40) == 2);
	/* The table holds 2: a third live entry has no room. */
	CHECK(relay_add(r, n2, &c, 0x1, 3000, 40) == -ENOBUFS);
	/* ... until the entries expire (1000 ms). */
	CHECK(relay_take(r, n1, 3, 1000, to, 4, 1031) == 0);
	CHECK(relay_add(r, n2, &c, 0x1, 3000, 1031) == 0);
	CHECK(relay_take(r, n2, 0, 1000, to, 4, 1032) == 1 && an_addr_eq(&to[0], &c));
	/* No more than max requesters per chunk are returned. */
	CHECK(relay_add(r, n2, &a, 0x2, 3000, 1040) == 0);
	CHECK(relay_add(r, n2, &b, 0x2, 3000, 1040) == 0);
	CHECK(relay_take(r, n2, 1, 1000, to, 1, 1041) == 1);
	relay_free(r);

	printf("relay: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
