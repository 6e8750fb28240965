// SPDX-License-Identifier: MIT
/*
 * Unit tests of subscription specs (src/mon/watch.c), which come from
 * service processes: every resource kind parses; an interface name that
 * could leave /sys/class/net, a host that is not an address, parameters
 * on the wrong resource, missing or bad states are refused with a reason.
 */
#include <errno.h>

#include "../wire/check.h"
#include "mon/watch.h"

static void test_good(void)
{
	struct watch_spec s;
	char err[200];
	CHECK_INT(watch_spec_parse("iface_tx_bps dev=eth1 idle=0-5000000 congested=5000000-", &s, err, sizeof(err)), 0);
	CHECK(!strcmp(s.resource, "iface_tx_bps") && !strcmp(s.dev, "eth1"));
	CHECK_INT(watch_spec_parse("iface_capacity_bps dev=r2 low=0-5000000 high=5000000-", &s, err, sizeof(err)), 0);
	CHECK(!strcmp(s.resource, "iface_capacity_bps") && !strcmp(s.dev, "r2") && s.n_states == 2);
	CHECK_INT(s.n_states, 2);
	CHECK_INT(s.states[0].lo, 0);
	CHECK_INT(s.states[0].hi, 5000000);
	CHECK_INT(s.states[1].hi, INT64_MAX);
	CHECK_INT(watch_spec_parse("load_milli low=0-500 high=500-", &s, err, sizeof(err)), 0);
	CHECK_INT(watch_spec_parse("host_up host=10.1.2.3 absent=0-1 present=1-", &s, err, sizeof(err)), 0);
	CHECK(s.host != 0);
	CHECK_INT(watch_spec_parse("custom name=bob.smith.level low=0-3 high=3-", &s, err, sizeof(err)), 0);
	CHECK(!strcmp(s.name, "bob.smith.level"));
	CHECK_INT(watch_spec_parse("queue_len cold=-5-0 warm=0-", &s, err, sizeof(err)), 0);
	CHECK_INT(s.states[0].lo, -5);
}

static void refused(const char *spec, const char *why)
{
	struct watch_spec s;
	char err[200] = "";
	CHECK_INT(watch_spec_parse(spec, &s, err, sizeof(err)), -EINVAL);
	if (!strstr(err, why)) {
		fprintf(stderr, "'%s': reason '%s' lacks '%s'\n", spec, err, why);
		check_failures++;
	}
}

static void test_refused(void)
{
	refused("iface_tx_bps dev=../../etc idle=0-1", "bad interface name");
	refused("iface_tx_bps dev=eth0/x idle=0-1", "bad interface name");
	refused("iface_tx_bps idle=0-1", "needs dev=");
	refused("iface_capacity_bps low=0-1", "needs dev=");
	refused("load_milli dev=eth0 idle=0-1", "only for iface_");
	refused("host_up host=example.org up=1-", "bad host");
	refused("host_up up=1-", "needs host=");
	refused("load_milli host=10.0.0.1 up=1-", "only for host_up");
	refused("nosuch idle=0-1", "unknown resource");
	refused("custom low=0-1", "needs name=");
	refused("custom name=nodot low=0-1", "bad name");
	refused("custom name=bob.le/vel low=0-1", "bad name");
	refused("load_milli name=bob.level low=0-1", "only for custom");
	refused("load_milli", "no state");
	refused("load_milli idle=5-5", "bad range");
	refused("load_milli idle=x-5", "bad range");
	refused("load_milli idle", "KEY=VALUE");
	refused("load_milli a=0-1 b=1-2 c=2-3 d=3-4 e=4-5 f=5-6 g=6-7 h=7-8 i=8-9", "at most");
}

static const struct check_test tests[] = {
	TEST(test_good),
	TEST(test_refused),
};

CHECK_MAIN(tests)
