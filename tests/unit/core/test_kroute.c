// SPDX-License-Identifier: MIT
/*
 * kroute_lookup (src/core/kroute.c) on /proc/net/route as a router of a
 * namespace lab prints it: the longest prefix wins, then the lowest
 * metric; a connected route is direct, one with a gateway is not; a route
 * that is down, and lines that do not parse, count for nothing; the
 * interface is the winning route's.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../wire/check.h"
#include "core/kroute.h"

/* b of the lab h1 - a - p - b - h2: its links to p (10.200.0.4/30) and h2
 * (10.200.0.12/30), the rest through p; a /32 host route down; junk. */
static const char table[] = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
			    "to-p\t0400C80A\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n"
			    "to-h2\t0C00C80A\t00000000\t0001\t0\t0\t0\tFCFFFFFF\t0\t0\t0\n"
			    "to-p\t0000C80A\t0500C80A\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
			    "to-p\t0E00C80A\t0500C80A\t0002\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n"
			    "to-p\t0008C80A\t0500C80A\t0003\t0\t0\t20\t00FFFFFF\t0\t0\t0\n"
			    "to-h2\t0008C80A\t00000000\t0001\t0\t0\t10\t00FFFFFF\t0\t0\t0\n"
			    "garbage line\n";

static char dev[KROUTE_DEV_MAX];

static enum kroute_kind look(const char *addr)
{
	FILE *f = fmemopen((void *)table, sizeof(table) - 1, "r");
	struct in_addr a;
	inet_pton(AF_INET, addr, &a);
	enum kroute_kind k = kroute_lookup(f, a.s_addr, dev);
	fclose(f);
	return k;
}

static void test_lookup(void)
{
	CHECK_INT(look("10.200.0.14"), KROUTE_DIRECT); /* h2, on b's link; its /32 is down */
	CHECK(!strcmp(dev, "to-h2"));
	CHECK_INT(look("10.200.0.5"), KROUTE_DIRECT); /* p */
	CHECK(!strcmp(dev, "to-p"));
	CHECK_INT(look("10.200.0.10"), KROUTE_GATEWAY); /* h1, through p */
	CHECK(!strcmp(dev, "to-p"));
	CHECK_INT(look("10.200.8.1"), KROUTE_DIRECT); /* two /24s: the lower metric */
	CHECK(!strcmp(dev, "to-h2"));
	CHECK_INT(look("192.0.2.1"), KROUTE_NONE);
	CHECK(!strcmp(dev, ""));
}

static const struct check_test tests[] = {TEST(test_lookup)};

int main(void)
{
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
