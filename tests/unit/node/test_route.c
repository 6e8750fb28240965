// SPDX-License-Identifier: MIT
/*
 * Unit test of the routing table (src/node/route.c): random adds, replaces
 * and removals checked against a plain array after every step, so that the
 * backward-shift removal never loses an entry that probed past the hole,
 * across growth and wrap-around; then the default route.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/route.h"

static int checks, failures;
#define CHECK(c)                                                                                                       \
	do {                                                                                                           \
		checks++;                                                                                              \
		if (!(c)) {                                                                                            \
			failures++;                                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                                   \
			return;                                                                                        \
		}                                                                                                      \
	} while (0)

#define KEYS 200

static struct an_addr addr(unsigned i)
{
	struct an_addr a = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [14] = (uint8_t)(i >> 8), [15] = (uint8_t)i},
			    .port = 0x0cf2};
	return a;
}

static void random_ops(unsigned seed)
{
	struct route_table *t = route_table_new();
	/* model[k]: 0 no route to key k, else the next hop's number. */
	unsigned model[KEYS] = {0};
	size_t n = 0;
	srand(seed);
	CHECK(t);
	for (int step = 0; step < 20000; step++) {
		unsigned k = (unsigned)rand() % KEYS;
		struct an_addr dst = addr(k), next;
		if (rand() % 3) {
			unsigned via = 1 + (unsigned)rand() % 50;
			struct an_addr v = addr(1000 + via);
			CHECK(route_add(t, &dst, &v) == 0);
			n += model[k] == 0;
			model[k] = via;
		} else {
			CHECK(route_del(t, &dst) == (model[k] ? 0 : -ENOENT));
			n -= model[k] != 0;
			model[k] = 0;
		}
		CHECK(route_count(t) == n);
		/* Every key, every few steps (all 200 is the slow part). */
		for (unsigned j = step % 7 ? k : 0; j < (step % 7 ? k + 1 : KEYS); j++) {
			struct an_addr d = addr(j), want = addr(1000 + model[j]);
			int r = route_lookup(t, &d, &next);
			CHECK(model[j] ? r == 0 && an_addr_eq(&next, &want) : r == -EHOSTUNREACH);
		}
	}
	/* Iteration sees each route once. */
	size_t seen = 0;
	struct an_addr d, v;
	for (size_t i = 0; route_at(t, i, &d, &v); i++)
		seen++;
	CHECK(seen == n);
	route_table_free(t);
}

static void default_route(void)
{
	struct route_table *t = route_table_new();
	struct an_addr a = addr(1), gw = addr(9), next;
	CHECK(t);
	CHECK(route_lookup(t, &a, &next) == -EHOSTUNREACH);
	CHECK(!route_clear_default(t));
	route_set_default(t, &gw);
	CHECK(route_lookup(t, &a, &next) == 0 && an_addr_eq(&next, &gw));
	CHECK(route_clear_default(t));
	CHECK(!route_get_default(t, &next));
	CHECK(route_lookup(t, &a, &next) == -EHOSTUNREACH);
	route_table_free(t);
}

int main(void)
{
	for (unsigned seed = 1; seed <= 5; seed++)
		random_ops(seed);
	default_route();
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
