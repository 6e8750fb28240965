// SPDX-License-Identifier: MIT
/*
 * Unit tests of the IPv4/UDP headers router mode reads and rewrites: a
 * packet built by hand (with checksums computed independently, the long
 * way) parses; every truncation and each malformation is refused; a
 * rewrite produces headers whose checksums verify.
 */
#include <errno.h>

#include "check.h"
#include "wire/wire.h"

/* 10.0.0.1:3322 -> 10.0.0.2:3322, TTL 63, payload "ANEP" (not real ANEP:
 * these functions do not look inside). Header checksum 0x26c1 and UDP
 * checksum computed by hand from RFC 768/1071. */
static const uint8_t pkt[] = {
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x3f, 0x11, 0x00, 0x00, /* checksum filled below */
	10, 0, 0, 1, 10, 0, 0, 2,
	0x0c, 0xfa, 0x0c, 0xfa, 0x00, 0x0c, 0x00, 0x00, /* UDP: ports 3322, length 12 */
	'A', 'N', 'E', 'P',
};

/* Sum of 16-bit words, the long way, for checking. */
static uint16_t slow_csum(const uint8_t *b, size_t len)
{
	uint32_t sum = 0;
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(b[i] << 8) | (i + 1 < len ? b[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static int udp_checksum_ok(const uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	const uint8_t *u = ip + ihl;
	size_t ulen = (size_t)(u[4] << 8 | u[5]);
	uint8_t buf[2048];
	memcpy(buf, ip + 12, 8);
	buf[8] = 0;
	buf[9] = 17;
	buf[10] = u[4];
	buf[11] = u[5];
	memcpy(buf + 12, u, ulen);
	return slow_csum(buf, 12 + ulen) == 0xffff;
}

/* The test packet with its UDP checksum filled in, to check the checker. */
static const uint8_t *pkt_with_csum(void)
{
	static uint8_t b[sizeof(pkt)];
	memcpy(b, pkt, sizeof(pkt));
	uint8_t pseudo[12 + 12];
	memcpy(pseudo, b + 12, 8);
	pseudo[8] = 0, pseudo[9] = 17, pseudo[10] = 0, pseudo[11] = 12;
	memcpy(pseudo + 12, b + 20, 12);
	uint16_t c = (uint16_t)~slow_csum(pseudo, sizeof(pseudo));
	b[26] = (uint8_t)(c >> 8), b[27] = (uint8_t)c;
	return b;
}

static void test_parse(void)
{
	struct wire_ipv4_udp r;
	CHECK_INT(wire_ipv4_udp_parse(pkt, sizeof(pkt), &r), 0);
	CHECK_INT(r.payload_off, 28);
	CHECK_INT(r.payload_len, 4);
	CHECK_INT(r.ttl, 63);
	CHECK_MEM(&r.src, pkt + 12, 4);
	CHECK_MEM(&r.dst, pkt + 16, 4);
	CHECK_MEM(&r.dport, pkt + 22, 2);
	/* Bytes after the IP total length (link padding) are not the packet's. */
	uint8_t padded[sizeof(pkt) + 6] = { 0 };
	memcpy(padded, pkt, sizeof(pkt));
	CHECK_INT(wire_ipv4_udp_parse(padded, sizeof(padded), &r), 0);
	CHECK_INT(r.payload_len, 4);
}

static void test_refused(void)
{
	struct wire_ipv4_udp r = { .ttl = 99 };
	for (size_t n = 0; n < sizeof(pkt); n++)
		CHECK(wire_ipv4_udp_parse(pkt, n, &r) < 0);
	CHECK_INT(r.ttl, 99); /* untouched on failure */
	uint8_t b[sizeof(pkt)];
	memcpy(b, pkt, sizeof(pkt));
	b[0] = 0x65; /* IPv6 version */
	CHECK_INT(wire_ipv4_udp_parse(b, sizeof(b), &r), -EPROTONOSUPPORT);
	memcpy(b, pkt, sizeof(pkt));
	b[9] = 6; /* TCP */
	CHECK_INT(wire_ipv4_udp_parse(b, sizeof(b), &r), -EPROTONOSUPPORT);
	memcpy(b, pkt, sizeof(pkt));
	b[6] = 0x20; /* more fragments */
	CHECK_INT(wire_ipv4_udp_parse(b, sizeof(b), &r), -EPROTONOSUPPORT);
	memcpy(b, pkt, sizeof(pkt));
	b[0] = 0x44; /* IHL 16 octets */
	CHECK_INT(wire_ipv4_udp_parse(b, sizeof(b), &r), -EBADMSG);
	memcpy(b, pkt, sizeof(pkt));
	b[25] = 7; /* UDP length below its header */
	CHECK_INT(wire_ipv4_udp_parse(b, sizeof(b), &r), -EBADMSG);
	memcpy(b, pkt, sizeof(pkt));
	b[25] = 13; /* UDP length past the IP packet */
	CHECK_INT(wire_ipv4_udp_parse(b, sizeof(b), &r), -EBADMSG);
}

static void test_rewrite(void)
{
	uint8_t b[256];
	memcpy(b, pkt, sizeof(pkt));
	uint32_t dst;
	memcpy(&dst, (const uint8_t[]){ 10, 0, 9, 9 }, 4);
	uint16_t dport;
	memcpy(&dport, (const uint8_t[]){ 0x0c, 0xfb }, 2);
	static const char payload[] = "a longer payload than before";
	size_t len = 0;
	CHECK_INT(wire_ipv4_udp_rewrite(b, sizeof(b), dst, dport, payload, sizeof(payload), &len), 0);
	CHECK_INT(len, 28 + sizeof(payload));
	CHECK_INT(slow_csum(b, 20), 0xffff); /* the header checksum verifies */
	CHECK_INT(b[26] << 8 | b[27], 0); /* no UDP checksum: the capsule changes at every hop */
	CHECK(udp_checksum_ok(pkt_with_csum()));
	struct wire_ipv4_udp r;
	CHECK_INT(wire_ipv4_udp_parse(b, len, &r), 0);
	CHECK_INT(r.payload_len, sizeof(payload));
	CHECK_MEM(b + r.payload_off, payload, sizeof(payload));
	CHECK_MEM(&r.dst, &dst, 4);
	CHECK_MEM(&r.src, pkt + 12, 4);
	CHECK_INT(r.ttl, 63);
	CHECK_INT(wire_ipv4_udp_rewrite(b, 40, dst, dport, payload, sizeof(payload), &len), -EMSGSIZE);
}

/* A TCP segment 10.0.0.2:40000 -> 10.0.0.1:8554 with 12 octets of
 * options (data offset 8 words) and "PLAY" as its payload. */
static void test_tcp(void)
{
	uint8_t b[20 + 32 + 4] = {0x45, 0, 0, sizeof(b), 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1};
	uint8_t *t = b + 20;
	t[0] = 40000 >> 8, t[1] = 40000 & 0xff, t[2] = 8554 >> 8, t[3] = 8554 & 0xff;
	t[12] = 8 << 4;
	memcpy(b + 52, "PLAY", 4);
	struct wire_ipv4_tcp r;
	CHECK_INT(wire_ipv4_tcp_parse(b, sizeof(b), &r), 0);
	CHECK_INT(r.sport, 40000);
	CHECK_INT(r.dport, 8554);
	CHECK_INT(r.payload_off, 52);
	CHECK_INT(r.payload_len, 4);
	CHECK(!memcmp(b + r.payload_off, "PLAY", 4));
	CHECK_INT(wire_ipv4_tcp_parse(b, sizeof(b) - 1, &r), -EBADMSG); /* the total runs past */
	t[12] = 4 << 4;							/* an offset under 5 words */
	CHECK_INT(wire_ipv4_tcp_parse(b, sizeof(b), &r), -EBADMSG);
	t[12] = 15 << 4; /* past the packet */
	CHECK_INT(wire_ipv4_tcp_parse(b, sizeof(b), &r), -EBADMSG);
	t[12] = 8 << 4;
	b[6] = 0x20; /* more fragments */
	CHECK_INT(wire_ipv4_tcp_parse(b, sizeof(b), &r), -EPROTONOSUPPORT);
	b[6] = 0x40;
	b[9] = 17;
	CHECK_INT(wire_ipv4_tcp_parse(b, sizeof(b), &r), -EPROTONOSUPPORT);
}

/* The 8-octets-at-a-time checksum against the plain 16-bit sum of RFC
 * 1071, for every length to 300 and every start parity, chained too. */
static uint32_t csum_ref(uint32_t sum, const uint8_t *b, size_t len)
{
	for (; len > 1; b += 2, len -= 2)
		sum += (uint32_t)(b[0] << 8 | b[1]);
	if (len)
		sum += (uint32_t)b[0] << 8;
	return sum;
}

static void test_csum(void)
{
	uint8_t buf[320];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 2; off++)
		for (size_t len = 0; len <= 300; len++) {
			CHECK_INT(wire_csum_fold(wire_csum_add(7, buf + off, len)), wire_csum_fold(csum_ref(7, buf + off, len)));
			size_t h = len / 2 & ~(size_t)1;
			CHECK_INT(wire_csum_fold(wire_csum_add(wire_csum_add(0, buf + off, h), buf + off + h, len - h)),
				  wire_csum_fold(csum_ref(0, buf + off, len)));
		}
	memset(buf, 0xff, sizeof(buf)); /* every carry */
	CHECK_INT(wire_csum_fold(wire_csum_add(0, buf, 300)), wire_csum_fold(csum_ref(0, buf, 300)));
}

static const struct check_test tests[] = {
	TEST(test_tcp),
	TEST(test_csum),
	TEST(test_parse),
	TEST(test_refused),
	TEST(test_rewrite),
};

CHECK_MAIN(tests)
