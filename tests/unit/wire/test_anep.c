/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the ANEP decoder and header builder (src/wire/anep.c):
 * the documented vectors, every truncation, and each rule of docs/wire.md
 * that makes a header malformed, with the errno the rule promises; GOAL and
 * RESULT options, and appending a RESULT with wire_anep_add_result.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "vectors.h"
#include "wire/wire.h"

/* Assemble version 1 + flags 0 + type capsule + options + payload_len zero
 * octets into buf; returns the packet length. */
static size_t mk(uint8_t *buf, const uint8_t *opts, size_t opts_len, size_t payload_len)
{
	size_t hdr = 8 + opts_len, pkt = hdr + payload_len;

	memset(buf, 0, pkt);
	buf[0] = 1;
	buf[2] = 0x41;
	buf[3] = 0x01;
	buf[4] = (uint8_t)(hdr / 4 >> 8);
	buf[5] = (uint8_t)(hdr / 4);
	buf[6] = (uint8_t)(pkt >> 8);
	buf[7] = (uint8_t)pkt;
	if (opts_len)
		memcpy(buf + 8, opts, opts_len);
	return pkt;
}

static int parse_opts(const uint8_t *opts, size_t opts_len)
{
	uint8_t buf[1024];
	struct wire_anep a;
	size_t n = mk(buf, opts, opts_len, 4);

	return wire_anep_parse(buf, n, &a);
}

static const uint8_t opt_src[24] = {0x00, 0x01, 0x00, 0x06, 0x00, 0x06, 0x0c, 0xfa, 0,	0, 0, 0,
				    0,	  0,	0,    0,    0,	  0,	0xff, 0xff, 10, 0, 0, 1};
static const uint8_t opt_hop[8] = {0x01, 0x01, 0x00, 0x02, 0x07, 0x00, 0x00, 0x00};

static void test_vector_min(void)
{
	struct wire_anep a;
	static const uint8_t ip1[16] = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1};
	static const uint8_t ip2[16] = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2};

	CHECK_INT(wire_anep_parse(vec_capsule_min, sizeof(vec_capsule_min), &a), 0);
	CHECK_INT(a.flags, 0);
	CHECK_INT(a.type_id, WIRE_TYPE_CAPSULE);
	CHECK_INT(a.hdr_len, 64);
	CHECK_INT(a.pkt_len, 124);
	CHECK_INT(a.present, WIRE_HAS_SRC | WIRE_HAS_DST | WIRE_HAS_HOP_LIMIT);
	CHECK_MEM(a.src.ip, ip1, 16);
	CHECK_INT(a.src.port, htobe16(3322));
	CHECK_INT(a.src.zero, 0);
	CHECK_MEM(a.dst.ip, ip2, 16);
	CHECK_INT(a.dst.port, htobe16(3322));
	CHECK_INT(a.hop_limit, 64);
	CHECK_INT(a.hop_limit_at, 60);
	CHECK_INT(vec_capsule_min[a.hop_limit_at], 64);
}

static void test_vector_carried(void)
{
	struct wire_anep a;

	CHECK_INT(wire_anep_parse(vec_capsule_carried, sizeof(vec_capsule_carried), &a), 0);
	CHECK_INT(a.flags, WIRE_ANEP_FLAG_DROP_UNKNOWN);
	CHECK_INT(a.hdr_len, 16);
	CHECK_INT(a.pkt_len, 82);
	CHECK_INT(a.present, WIRE_HAS_HOP_LIMIT);
	CHECK_INT(a.hop_limit, 16);
	CHECK_INT(a.hop_limit_at, 12);
}

/* Every prefix shorter than pkt_len is refused; longer buffers are fine. */
static void test_truncation_and_trailer(void)
{
	uint8_t buf[200];
	struct wire_anep a, before;

	memset(&before, 0xa5, sizeof(before));
	for (size_t n = 0; n < sizeof(vec_capsule_min); n++) {
		a = before;
		CHECK_INT(wire_anep_parse(vec_capsule_min, n, &a), -EBADMSG);
		CHECK_MEM(&a, &before, sizeof(a));
	}
	memset(buf, 0xee, sizeof(buf));
	memcpy(buf, vec_capsule_min, sizeof(vec_capsule_min));
	CHECK_INT(wire_anep_parse(buf, sizeof(buf), &a), 0);
	CHECK_INT(a.pkt_len, 124);
}

static void test_header_fields(void)
{
	uint8_t buf[64];
	struct wire_anep a;
	size_t n;

	n = mk(buf, NULL, 0, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.present, 0);
	CHECK_INT(a.hdr_len, 8);

	buf[0] = 2;
	CHECK_INT(wire_anep_parse(buf, n, &a), -EPROTONOSUPPORT);
	buf[0] = 0;
	CHECK_INT(wire_anep_parse(buf, n, &a), -EPROTONOSUPPORT);
	buf[0] = 1;

	buf[5] = 1; /* header length 4 octets < 8 */
	CHECK_INT(wire_anep_parse(buf, n, &a), -EBADMSG);
	buf[5] = 0;
	CHECK_INT(wire_anep_parse(buf, n, &a), -EBADMSG);
	buf[5] = 3; /* 12 octets > packet length 8 */
	CHECK_INT(wire_anep_parse(buf, 12, &a), -EBADMSG);
	buf[5] = 2;

	buf[7] = 9; /* packet length past the buffer */
	CHECK_INT(wire_anep_parse(buf, 8, &a), -EBADMSG);
	buf[7] = 4; /* packet length shorter than the header */
	CHECK_INT(wire_anep_parse(buf, 8, &a), -EBADMSG);
	buf[7] = 8;
	/* Unknown Type IDs and flags are the caller's business, not a decode error. */
	buf[1] = 0xff;
	buf[2] = 0xff;
	buf[3] = 0xff;
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.flags, 0xff);
	CHECK_INT(a.type_id, 0xffff);
}

static void test_option_tiling(void)
{
	uint8_t o[32];

	/* Zero length: would loop forever if accepted. */
	memcpy(o, (const uint8_t[]){0x30, 0x00, 0x00, 0x00}, 4);
	CHECK_INT(parse_opts(o, 4), -EBADMSG);
	/* Length past the header. */
	memcpy(o, (const uint8_t[]){0x30, 0x00, 0x00, 0x02}, 4);
	CHECK_INT(parse_opts(o, 4), -EBADMSG);
	/* Exactly the header, value skipped. */
	memcpy(o, (const uint8_t[]){0x30, 0x00, 0x00, 0x02, 1, 2, 3, 4}, 8);
	CHECK_INT(parse_opts(o, 8), 0);
	/* Header length not covered by the last option. */
	memcpy(o, (const uint8_t[]){0x30, 0x00, 0x00, 0x01, 0x30, 0x00, 0x00, 0x02}, 8);
	CHECK_INT(parse_opts(o, 8), -EBADMSG);
	/* A 1-word option (no value) is fine. */
	memcpy(o, (const uint8_t[]){0x30, 0x00, 0x00, 0x01}, 4);
	CHECK_INT(parse_opts(o, 4), 0);
}

static void test_unknown_options(void)
{
	uint8_t o[8] = {0x30, 0x00, 0x00, 0x02, 0, 0, 0, 0};

	CHECK_INT(parse_opts(o, 8), 0);
	o[0] = 0x70; /* low flag bit: still ignorable */
	CHECK_INT(parse_opts(o, 8), 0);
	o[0] = 0xb0; /* must-know */
	CHECK_INT(parse_opts(o, 8), -EOPNOTSUPP);
	o[0] = 0xc0; /* both flags, type 0 */
	CHECK_INT(parse_opts(o, 8), -EOPNOTSUPP);
	/* Options anode knows but leaves to others: not refused even if must-know. */
	const uint16_t known[] = {WIRE_OPT_CHECKSUM, WIRE_OPT_AUTH, WIRE_OPT_ROUTER_ALERT};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		o[0] = (uint8_t)(0x80 | known[i] >> 8);
		o[1] = (uint8_t)known[i];
		CHECK_INT(parse_opts(o, 8), 0);
	}
	/* Flags on a known option do not change how it is read. */
	uint8_t h[8];
	memcpy(h, opt_hop, 8);
	h[0] |= 0xc0;
	CHECK_INT(parse_opts(h, 8), 0);
}

static void test_address_options(void)
{
	uint8_t o[64], buf[128];
	struct wire_anep a;
	size_t n;

	CHECK_INT(parse_opts(opt_src, 24), 0);
	/* Wrong address type. */
	memcpy(o, opt_src, 24);
	o[5] = 4;
	CHECK_INT(parse_opts(o, 24), -EBADMSG);
	/* Too long by a word, and too short. */
	memcpy(o, opt_src, 24);
	o[3] = 7;
	memset(o + 24, 0, 4);
	CHECK_INT(parse_opts(o, 28), -EBADMSG);
	o[3] = 5;
	CHECK_INT(parse_opts(o, 20), -EBADMSG);
	/* Repeated source, destination, previous hop. */
	for (uint8_t t = 1; t <= 3; t++) {
		memcpy(o, opt_src, 24);
		memcpy(o + 24, opt_src, 24);
		if (t == 3)
			o[0] = o[24] = 0x01, o[1] = o[25] = 0x00;
		else
			o[1] = o[25] = t;
		CHECK_INT(parse_opts(o, 48), -EBADMSG);
	}
	/* Previous hop: recorded with its offset, and rewritable in place. */
	memcpy(o, opt_src, 24);
	o[0] = 0x01;
	o[1] = 0x00;
	n = mk(buf, o, 24, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.present, WIRE_HAS_PREV_HOP);
	CHECK_INT(a.prev_hop_at, 12);
	struct an_addr ph = {.ip = {[15] = 1}, .port = htobe16(7)};
	wire_anep_set_prev_hop(buf, &a, &ph);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK(an_addr_eq(&a.prev_hop, &ph));
	CHECK_INT(buf[13], WIRE_ADDR_TYPE_NODE);
	/* No destination option: rewriting it does nothing. */
	uint8_t before[64];
	memcpy(before, buf, n);
	wire_anep_set_dst(buf, &a, &ph);
	CHECK_MEM(buf, before, n);

	/* Destination: recorded with its offset, and rewritable in place (a
	 * node relaying a code chunk addresses it to the node that asked). */
	memcpy(o, opt_src, 24);
	o[1] = WIRE_OPT_DST;
	n = mk(buf, o, 24, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.present, WIRE_HAS_DST);
	CHECK_INT(a.dst_at, 12);
	wire_anep_set_dst(buf, &a, &ph);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK(an_addr_eq(&a.dst, &ph));
	CHECK_INT(buf[13], WIRE_ADDR_TYPE_NODE);
}

static void test_hop_limit_option(void)
{
	uint8_t o[16], buf[64];
	struct wire_anep a;
	size_t n;

	CHECK_INT(parse_opts(opt_hop, 8), 0);
	memcpy(o, opt_hop, 8);
	o[5] = 1; /* the octet after the hop limit is reserved: zero */
	CHECK_INT(parse_opts(o, 8), -EBADMSG);
	memcpy(o, opt_hop, 8);
	memcpy(o + 8, opt_hop, 8);
	CHECK_INT(parse_opts(o, 16), -EBADMSG);
	memcpy(o, opt_hop, 8);
	o[3] = 1;
	CHECK_INT(parse_opts(o, 4), -EBADMSG);
	memcpy(o, opt_hop, 8);
	o[3] = 3;
	memset(o + 8, 0, 4);
	CHECK_INT(parse_opts(o, 12), -EBADMSG);

	n = mk(buf, opt_hop, 8, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.hop_limit, 7);
	CHECK_INT(a.copies, 0);
	wire_anep_set_hop_limit(buf, &a, 6);
	wire_anep_set_copies(buf, &a, 0x1234);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.hop_limit, 6);
	CHECK_INT(a.copies, 0x1234);
	CHECK_INT(buf[a.hop_limit_at + 2], 0x12);
	CHECK_INT(buf[a.hop_limit_at + 3], 0x34);
	/* No option: nothing is written. */
	n = mk(buf, NULL, 0, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	wire_anep_set_hop_limit(buf, &a, 6);
	CHECK_INT(buf[0], 1);
}

static void test_build(void)
{
	uint8_t buf[128], copy[128];
	struct an_addr src = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1}, .port = htobe16(3322)};
	struct an_addr dst = src;
	struct wire_anep_spec s = {.type_id = WIRE_TYPE_CAPSULE, .src = &src, .dst = &dst};
	struct wire_anep a;
	size_t hdr = 0, keep = 12345;

	dst.ip[15] = 2;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 60, &hdr), 0);
	CHECK_INT(hdr, 64);
	/* The header of vector 1 is exactly this. */
	CHECK_MEM(buf, vec_capsule_min, 64);
	memcpy(buf + 64, vec_capsule_min + 64, 60);
	CHECK_INT(wire_anep_parse(buf, 124, &a), 0);

	/* Too small a buffer, too long a packet: nothing written. */
	memset(buf, 0x5a, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	CHECK_INT(wire_anep_build(buf, 123, &s, 60, &keep), -EMSGSIZE);
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 65535 - 64 + 1, &keep), -EMSGSIZE);
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, (size_t)-1, &keep), -EMSGSIZE);
	CHECK_INT(keep, 12345);
	CHECK_MEM(buf, copy, sizeof(buf));

	/* No addresses, default hop limit, a copy budget. */
	s.src = s.dst = NULL;
	s.copies = 300;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 0, &hdr), 0);
	CHECK_INT(hdr, 16);
	CHECK_INT(wire_anep_parse(buf, hdr, &a), 0);
	CHECK_INT(a.present, WIRE_HAS_HOP_LIMIT);
	CHECK_INT(a.hop_limit, WIRE_HOP_LIMIT_DEFAULT);
	CHECK_INT(a.copies, 300);
	CHECK_INT(buf[14], 1);
	CHECK_INT(buf[15], 44);
}

static const struct an_addr n1 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1}, .port = 0xfa0c};
static const struct an_addr n2 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2}, .port = 0xfa0c};
static const struct an_addr n3 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 3}, .port = 0xfa0c};

/* A GOAL option for 10.0.0.d:3322, and a RESULT option with a visit. */
static void mk_goal(uint8_t *o, uint8_t d)
{
	memcpy(o, opt_src, 24);
	o[0] = 0x01;
	o[1] = 0x02;
	o[23] = d;
}

static void mk_result(uint8_t *o, uint8_t d, uint16_t visit)
{
	mk_goal(o, d);
	o[1] = 0x03;
	o[3] = 7;
	o[24] = (uint8_t)(visit >> 8);
	o[25] = (uint8_t)visit;
	o[26] = o[27] = 0;
}

static void test_vector_goals(void)
{
	struct wire_anep a;

	CHECK_INT(wire_anep_parse(vec_capsule_goals, sizeof(vec_capsule_goals), &a), 0);
	CHECK_INT(a.hdr_len, 112);
	CHECK_INT(a.pkt_len, 172);
	CHECK_INT(a.present, WIRE_HAS_SRC | WIRE_HAS_DST | WIRE_HAS_HOP_LIMIT);
	CHECK_INT(a.n_goals, 2);
	CHECK(an_addr_eq(&a.goals[0], &n3));
	CHECK(an_addr_eq(&a.goals[1], &n2));
	CHECK_INT(a.n_results, 0);
	CHECK_INT(a.hop_limit_at, 108);
	CHECK_INT(a.hop_limit, 64);

	CHECK_INT(wire_anep_parse(vec_capsule_result, sizeof(vec_capsule_result), &a), 0);
	CHECK_INT(a.hdr_len, 140);
	CHECK_INT(a.pkt_len, 200);
	CHECK_INT(a.n_goals, 2);
	CHECK_INT(a.n_results, 1);
	CHECK_MEM(&a.results[0].node, &n3, sizeof(n3)); /* 2-aligned: no an_addr_eq */
	CHECK_INT(a.results[0].node.zero, 0);
	CHECK_INT(a.results[0].visit, 1);
	CHECK_INT(a.hop_limit_at, 108);

	/* Every truncation of both is refused, and leaves ret alone. */
	struct wire_anep before;
	memset(&before, 0xa5, sizeof(before));
	for (size_t n = 0; n < sizeof(vec_capsule_result); n++) {
		a = before;
		if (n < sizeof(vec_capsule_goals))
			CHECK_INT(wire_anep_parse(vec_capsule_goals, n, &a), -EBADMSG);
		CHECK_INT(wire_anep_parse(vec_capsule_result, n, &a), -EBADMSG);
		CHECK_MEM(&a, &before, sizeof(a));
	}
}

static void test_goal_option(void)
{
	uint8_t o[24 * (WIRE_MAX_GOALS + 1) + 8], buf[512];
	struct wire_anep a;
	size_t n;

	mk_goal(o, 3);
	CHECK_INT(parse_opts(o, 24), 0);
	o[5] = 4; /* address type */
	CHECK_INT(parse_opts(o, 24), -EBADMSG);
	mk_goal(o, 3);
	o[3] = 5; /* too short */
	CHECK_INT(parse_opts(o, 20), -EBADMSG);
	o[3] = 7; /* too long (the length of a RESULT) */
	memset(o + 24, 0, 4);
	CHECK_INT(parse_opts(o, 28), -EBADMSG);
	mk_goal(o, 3);
	o[0] |= 0xc0; /* flags do not matter */
	CHECK_INT(parse_opts(o, 24), 0);

	/* Up to WIRE_MAX_GOALS, in order, repeats allowed, anywhere. */
	memcpy(o, opt_hop, 8);
	for (uint8_t i = 0; i < WIRE_MAX_GOALS; i++)
		mk_goal(o + 8 + 24 * i, (uint8_t)(i % 5 + 1));
	n = mk(buf, o, 8 + 24 * WIRE_MAX_GOALS, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.n_goals, WIRE_MAX_GOALS);
	for (size_t i = 0; i < WIRE_MAX_GOALS; i++)
		CHECK_INT(a.goals[i].ip[15], i % 5 + 1);
	CHECK_INT(a.hop_limit_at, 12);
	mk_goal(o + 8 + 24 * WIRE_MAX_GOALS, 1);
	CHECK_INT(parse_opts(o, 8 + 24 * (WIRE_MAX_GOALS + 1)), -EBADMSG);
}

static void test_result_option(void)
{
	uint8_t o[28 * (WIRE_MAX_RESULTS + 1)], buf[1024];

	_Static_assert(28 * (WIRE_MAX_RESULTS + 1) + 8 + 4 <= 1024, "parse_opts buffer");
	struct wire_anep a;
	size_t n;

	mk_result(o, 2, 1);
	CHECK_INT(parse_opts(o, 28), 0);
	mk_result(o, 2, 0xffff);
	n = mk(buf, o, 28, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.n_results, 1);
	CHECK_INT(a.results[0].visit, 0xffff);
	CHECK_MEM(&a.results[0].node, &n2, sizeof(n2)); /* 2-aligned: no an_addr_eq */

	mk_result(o, 2, 0); /* visits count from 1 */
	CHECK_INT(parse_opts(o, 28), -EBADMSG);
	mk_result(o, 2, 1);
	o[26] = 1; /* zero field */
	CHECK_INT(parse_opts(o, 28), -EBADMSG);
	o[26] = 0;
	o[27] = 0x80;
	CHECK_INT(parse_opts(o, 28), -EBADMSG);
	mk_result(o, 2, 1);
	o[5] = 4; /* address type */
	CHECK_INT(parse_opts(o, 28), -EBADMSG);
	mk_result(o, 2, 1);
	o[3] = 6; /* the length of an address option: no visit */
	CHECK_INT(parse_opts(o, 24), -EBADMSG);
	o[3] = 8;
	memset(o + 28, 0, 4);
	CHECK_INT(parse_opts(o, 32), -EBADMSG);

	for (uint16_t i = 0; i < WIRE_MAX_RESULTS; i++)
		mk_result(o + 28 * i, (uint8_t)(i % 3 + 1), (uint16_t)(i / 3 + 1));
	n = mk(buf, o, 28 * WIRE_MAX_RESULTS, 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.n_results, WIRE_MAX_RESULTS);
	for (size_t i = 0; i < WIRE_MAX_RESULTS; i++) {
		CHECK_INT(a.results[i].node.ip[15], i % 3 + 1);
		CHECK_INT(a.results[i].visit, i / 3 + 1);
	}
	mk_result(o + 28 * WIRE_MAX_RESULTS, 1, 1);
	CHECK_INT(parse_opts(o, 28 * (WIRE_MAX_RESULTS + 1)), -EBADMSG);
}

static void test_build_goals(void)
{
	uint8_t buf[1024], copy[1024];
	struct an_addr goals[WIRE_MAX_GOALS + 1];
	struct wire_anep_spec s = {.type_id = WIRE_TYPE_CAPSULE, .src = &n1, .dst = &n2, .goals = goals, .n_goals = 2};
	struct wire_anep a;
	size_t hdr = 0, keep = 4242;

	goals[0] = n3;
	goals[1] = n2;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 60, &hdr), 0);
	CHECK_INT(hdr, 112);
	CHECK_MEM(buf, vec_capsule_goals, 112);

	/* The most goals the decoder takes, without addresses. */
	for (size_t i = 0; i <= WIRE_MAX_GOALS; i++)
		goals[i] = i % 2 ? n1 : n3;
	s.src = s.dst = NULL;
	s.n_goals = WIRE_MAX_GOALS;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 0, &hdr), 0);
	CHECK_INT(hdr, 8 + 24 * WIRE_MAX_GOALS + 8);
	CHECK_INT(wire_anep_parse(buf, hdr, &a), 0);
	CHECK_INT(a.n_goals, WIRE_MAX_GOALS);
	CHECK(an_addr_eq(&a.goals[WIRE_MAX_GOALS - 1], &n1));
	CHECK_INT(a.hop_limit_at, hdr - 4);

	/* What the decoder would refuse is not built; nothing is written. */
	memset(buf, 0x5a, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	s.n_goals = WIRE_MAX_GOALS + 1;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 0, &keep), -EINVAL);
	s.n_goals = (size_t)-1;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 0, &keep), -EINVAL);
	s.n_goals = 1;
	s.goals = NULL;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 0, &keep), -EINVAL);
	s.goals = goals;
	CHECK_INT(wire_anep_build(buf, 8 + 24 + 8 - 1, &s, 0, &keep), -EMSGSIZE);
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 65535 - 40 + 1, &keep), -EMSGSIZE);
	CHECK_INT(keep, 4242);
	CHECK_MEM(buf, copy, sizeof(buf));
	/* NULL goals with n_goals 0 (a zero-initialised spec) is no goals. */
	s.goals = NULL;
	s.n_goals = 0;
	CHECK_INT(wire_anep_build(buf, sizeof(buf), &s, 0, &hdr), 0);
	CHECK_INT(hdr, 16);
}

static void test_add_result(void)
{
	uint8_t buf[300], copy[300];
	struct wire_anep a, keep;

	memset(buf, 0xee, sizeof(buf)); /* link padding after the packet */
	memcpy(buf, vec_capsule_goals, sizeof(vec_capsule_goals));
	CHECK_INT(wire_anep_parse(buf, sizeof(buf), &a), 0);
	CHECK_INT(wire_anep_add_result(buf, sizeof(buf), &a, &n3, 1), 0);
	CHECK_MEM(buf, vec_capsule_result, sizeof(vec_capsule_result));
	CHECK_INT(a.hdr_len, 140);
	CHECK_INT(a.pkt_len, 200);
	CHECK_INT(a.n_results, 1);
	CHECK_INT(a.results[0].visit, 1);
	CHECK_MEM(&a.results[0].node, &n3, sizeof(n3)); /* 2-aligned: no an_addr_eq */
	CHECK_INT(a.n_goals, 2);
	CHECK_INT(a.hop_limit_at, 108);
	CHECK_INT(a.present, WIRE_HAS_SRC | WIRE_HAS_DST | WIRE_HAS_HOP_LIMIT);

	/* A second result goes after the first; the packet parses with both. */
	CHECK_INT(wire_anep_add_result(buf, 228, &a, &n2, 2), 0);
	CHECK_INT(a.pkt_len, 228);
	CHECK_INT(wire_anep_parse(buf, 228, &keep), 0);
	CHECK_INT(keep.n_results, 2);
	CHECK_MEM(&keep.results[0].node, &n3, sizeof(n3)); /* 2-aligned: no an_addr_eq */
	CHECK_INT(keep.results[0].visit, 1);
	CHECK_MEM(&keep.results[1].node, &n2, sizeof(n2)); /* 2-aligned: no an_addr_eq */
	CHECK_INT(keep.results[1].visit, 2);
	CHECK_INT(keep.hdr_len, a.hdr_len);
	CHECK_INT(keep.n_results, a.n_results);
	CHECK_INT(keep.hop_limit_at, a.hop_limit_at);
	CHECK_MEM(buf + 8, vec_capsule_result + 8, 132);    /* options and first result unmoved */
	CHECK_MEM(buf + 168, vec_capsule_result + 140, 60); /* payload moved */

	/* Failures leave the packet and *anep alone. */
	memcpy(copy, buf, sizeof(buf));
	keep = a;
	CHECK_INT(wire_anep_add_result(buf, 255, &a, &n1, 1), -EMSGSIZE);
	CHECK_INT(wire_anep_add_result(buf, 228, &a, &n1, 1), -EMSGSIZE);
	CHECK_INT(wire_anep_add_result(buf, sizeof(buf), &a, &n1, 0), -EINVAL);
	CHECK_MEM(buf, copy, sizeof(buf));
	CHECK_MEM(&a, &keep, sizeof(a));
	CHECK_INT(wire_anep_add_result(buf, 256, &a, &n1, 1), 0);
	CHECK_INT(a.n_results, 3);
}

static void test_add_result_limits(void)
{
	uint8_t *buf = malloc(65536 + 64);
	struct wire_anep_spec s = {.type_id = WIRE_TYPE_SIGNAL};
	struct wire_anep a;
	size_t hdr;

	CHECK(buf != NULL);
	if (!buf)
		return;
	/* WIRE_MAX_RESULTS fit, one more is -ENOSPC. */
	CHECK_INT(wire_anep_build(buf, 65536, &s, 3, &hdr), 0);
	memcpy(buf + hdr, "abc", 3);
	CHECK_INT(wire_anep_parse(buf, hdr + 3, &a), 0);
	for (uint16_t i = 0; i < WIRE_MAX_RESULTS; i++)
		CHECK_INT(wire_anep_add_result(buf, 65536, &a, &n1, (uint16_t)(i + 1)), 0);
	CHECK_INT(a.n_results, WIRE_MAX_RESULTS);
	CHECK_INT(a.results[WIRE_MAX_RESULTS - 1].visit, WIRE_MAX_RESULTS);
	CHECK_INT(a.pkt_len, hdr + 3 + 28 * WIRE_MAX_RESULTS);
	CHECK_MEM(buf + a.hdr_len, "abc", 3);
	CHECK_INT(wire_anep_add_result(buf, 65536, &a, &n1, 1), -ENOSPC);

	/* The 16-bit packet length: 65535 - 28 grows to exactly 65535. */
	CHECK_INT(wire_anep_build(buf, 65536, &s, 65535 - 28 - 16, &hdr), 0);
	CHECK_INT(wire_anep_parse(buf, 65535 - 28, &a), 0);
	CHECK_INT(wire_anep_add_result(buf, 65536 + 64, &a, &n1, 1), 0);
	CHECK_INT(a.pkt_len, 65535);
	CHECK_INT(wire_anep_add_result(buf, 65536 + 64, &a, &n1, 2), -EMSGSIZE);
	CHECK_INT(wire_anep_build(buf, 65536, &s, 65535 - 27 - 16, &hdr), 0);
	CHECK_INT(wire_anep_parse(buf, 65535 - 27, &a), 0);
	CHECK_INT(wire_anep_add_result(buf, 65536 + 64, &a, &n1, 1), -EMSGSIZE);
	free(buf);
}

static const struct check_test tests[] = {
    TEST(test_vector_min),	TEST(test_vector_carried),   TEST(test_truncation_and_trailer),
    TEST(test_header_fields),	TEST(test_option_tiling),    TEST(test_unknown_options),
    TEST(test_address_options), TEST(test_hop_limit_option), TEST(test_build),
    TEST(test_vector_goals),	TEST(test_goal_option),	     TEST(test_result_option),
    TEST(test_build_goals),	TEST(test_add_result),	     TEST(test_add_result_limits),
};

CHECK_MAIN(tests)
