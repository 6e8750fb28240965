/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of node addresses in text (src/wire/addr.c): what parses and
 * to which octets, what must not parse, and that formatting and parsing are
 * inverse.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "wire/wire.h"

static void test_valid(void)
{
	struct an_addr a;
	static const uint8_t lo4[16] = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1};
	static const uint8_t lo6[16] = {[15] = 1};
	static const uint8_t doc6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

	CHECK_INT(wire_addr_parse("127.0.0.1:3322", &a), 0);
	CHECK_MEM(a.ip, lo4, 16);
	CHECK_INT(a.port, htobe16(3322));
	CHECK_INT(a.zero, 0);
	CHECK_INT(wire_addr_parse("[::1]:3322", &a), 0);
	CHECK_MEM(a.ip, lo6, 16);
	CHECK_INT(a.port, htobe16(3322));
	CHECK_INT(wire_addr_parse("[2001:db8::1]:1", &a), 0);
	CHECK_MEM(a.ip, doc6, 16);
	CHECK_INT(a.port, htobe16(1));
	CHECK_INT(wire_addr_parse("[::ffff:127.0.0.1]:65535", &a), 0);
	CHECK_MEM(a.ip, lo4, 16);
	CHECK_INT(a.port, htobe16(65535));
	CHECK_INT(wire_addr_parse("0.0.0.0:00080", &a), 0);
	CHECK_INT(a.port, htobe16(80));
}

static void test_invalid(void)
{
	static const char *const bad[] = {
	    "",
	    ":",
	    "127.0.0.1",
	    "127.0.0.1:",
	    ":3322",
	    "127.0.0.1:0",
	    "127.0.0.1:65536",
	    "127.0.0.1:3322x",
	    " 127.0.0.1:1",
	    "127.0.0.1: 1",
	    "127.0.0.1:+1",
	    "127.0.0.1:-1",
	    "127.0.0.1:003322",
	    "127.0.0.1:3322 ",
	    "::1:3322",
	    "[::1]3322",
	    "[::1]:",
	    "[::1",
	    "[]:1",
	    "[::1]]:1",
	    "[[::1]:1",
	    "1.2.3:1",
	    "1.2.3.4.5:1",
	    "256.0.0.1:1",
	    "localhost:1",
	    "[1.2.3.4]:1",
	    "[::1%lo]:1",
	    "[fe80::1%1]:1",
	    "1.2.3.4:1:2",
	    "[::1]:1:2",
	    "0x7f.0.0.1:1",
	    "[0000:0000:0000:0000:0000:0000:0000:0000:0000]:1",
	    "[aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa:aaaa]:1",
	};
	struct an_addr a, before;

	memset(&before, 0x42, sizeof(before));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = before;
		if (wire_addr_parse(bad[i], &a) != -EINVAL)
			fprintf(stderr, "accepted \"%s\"\n", bad[i]), check_failures++;
		CHECK_MEM(&a, &before, sizeof(a));
	}
	CHECK_INT(wire_addr_parse(NULL, &a), -EINVAL);
}

static void test_format(void)
{
	static const char *const round[] = {
	    "127.0.0.1:3322",	     "[::1]:3322", "[2001:db8::1]:1",
	    "255.255.255.255:65535", "[::]:9",	   "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "[::1.2.3.4]:5",
	};
	char buf[WIRE_ADDR_STRLEN];
	struct an_addr a, b;

	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++) {
		CHECK_INT(wire_addr_parse(round[i], &a), 0);
		CHECK(wire_addr_format(&a, buf, sizeof(buf)) == buf);
		if (strcmp(buf, round[i]) != 0)
			fprintf(stderr, "\"%s\" formats as \"%s\"\n", round[i], buf), check_failures++;
		CHECK_INT(wire_addr_parse(buf, &b), 0);
		CHECK(an_addr_eq(&a, &b));
	}
	/* The v4-mapped form in brackets comes back as plain IPv4. */
	CHECK_INT(wire_addr_parse("[::ffff:10.1.2.3]:7", &a), 0);
	CHECK(strcmp(wire_addr_format(&a, buf, sizeof(buf)), "10.1.2.3:7") == 0);
	/* Truncated, but terminated. */
	CHECK(strcmp(wire_addr_format(&a, buf, 5), "10.1") == 0);
	buf[0] = 'q';
	wire_addr_format(&a, buf, 0);
	CHECK_INT(buf[0], 'q');
	/* The longest address fits WIRE_ADDR_STRLEN. */
	CHECK_INT(wire_addr_parse("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535", &a), 0);
	wire_addr_format(&a, buf, sizeof(buf));
	CHECK(strlen(buf) < sizeof(buf));
}

/* Prefixes (the concast receiver's admission): what parses, to which
 * octets and length, what does not, membership, and formatting back. */
static void test_prefix(void)
{
	struct an_prefix p;
	char buf[WIRE_ADDR_STRLEN];
	static const uint8_t net4[16] = {[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 200};
	CHECK_INT(wire_prefix_parse("10.200.0.0/16", &p), 0);
	CHECK_MEM(p.ip, net4, 16);
	CHECK_INT(p.len, 112);
	CHECK(strcmp(wire_prefix_format(&p, buf, sizeof(buf)), "10.200.0.0/16") == 0);
	struct an_addr in, out;
	CHECK_INT(wire_addr_parse("10.200.7.1:3322", &in), 0);
	CHECK_INT(wire_addr_parse("10.201.7.1:3322", &out), 0);
	CHECK(wire_prefix_contains(&p, in.ip));
	CHECK(!wire_prefix_contains(&p, out.ip));
	/* An address alone is a host; /0 is everyone. */
	CHECK_INT(wire_prefix_parse("10.200.7.1", &p), 0);
	CHECK_INT(p.len, 128);
	CHECK(wire_prefix_contains(&p, in.ip));
	CHECK(strcmp(wire_prefix_format(&p, buf, sizeof(buf)), "10.200.7.1/32") == 0);
	CHECK_INT(wire_prefix_parse("0.0.0.0/0", &p), 0);
	CHECK_INT(p.len, 96);
	CHECK(wire_prefix_contains(&p, out.ip));
	CHECK_INT(wire_prefix_parse("::/0", &p), 0);
	CHECK_INT(p.len, 0);
	CHECK(wire_prefix_contains(&p, in.ip));
	/* A length that is not a whole octet. */
	CHECK_INT(wire_prefix_parse("10.200.128.0/17", &p), 0);
	CHECK(!wire_prefix_contains(&p, in.ip));
	CHECK_INT(wire_addr_parse("10.200.200.1:1", &in), 0);
	CHECK(wire_prefix_contains(&p, in.ip));
	CHECK_INT(wire_prefix_parse("2001:db8::/32", &p), 0);
	CHECK_INT(p.len, 32);
	CHECK(strcmp(wire_prefix_format(&p, buf, sizeof(buf)), "2001:db8::/32") == 0);
	/* Refused: bits past the length, lengths past the family, junk. */
	const char *bad[] = {
	    "10.200.0.1/16", "10.0.0.0/33",   "2001:db8::/129", "10.0.0.0/",   "10.0.0.0/-1", "10.0.0.0/1a", "/8", "",
	    "10.0.0.0/0008", "10.0.0.0:80/8", "host/8",		"10.0.0.0/8/8"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(wire_prefix_parse(bad[i], &p), -EINVAL);
}

static const struct check_test tests[] = {
    TEST(test_valid),
    TEST(test_invalid),
    TEST(test_format),
    TEST(test_prefix),
};

CHECK_MAIN(tests)
