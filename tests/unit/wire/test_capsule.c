/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of capsules (src/wire/capsule.c): the builder must produce the
 * documented vectors octet for octet, the parser must decode them, and each
 * layout rule of docs/wire.md (flags versus code length, padding, the zero
 * octets of the home address, the 16-bit limits) is checked on both sides.
 * Capsules with GOAL options, and a RESULT appended on the way (which moves
 * the capsule), must stay valid capsules with their code and data intact.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "vectors.h"
#include "wire/wire.h"

static const struct an_addr a1 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1}, .port = 0xfa0c};
static const struct an_addr a2 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2}, .port = 0xfa0c};
static const uint8_t data4[4] = {0xde, 0xad, 0xbe, 0xef};

static int parse(const uint8_t *pkt, size_t len, struct wire_capsule *c)
{
	struct wire_anep a;
	int e = wire_anep_parse(pkt, len, &a);

	return e < 0 ? e : wire_capsule_parse(pkt, len, &a, c);
}

static void test_build_vectors(void)
{
	uint8_t buf[256];
	size_t n = 0;
	struct wire_capsule_spec s = {
	    .src = &a1,
	    .dst = &a2,
	    .name = vec_code_name,
	    .home = &a1,
	    .data = data4,
	    .data_len = 4,
	};

	CHECK_INT(be16toh(a1.port), 3322);
	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &s, &n), 0);
	CHECK_INT(n, sizeof(vec_capsule_min));
	CHECK_MEM(buf, vec_capsule_min, sizeof(vec_capsule_min));

	struct wire_capsule_spec c = {
	    .anep_flags = WIRE_ANEP_FLAG_DROP_UNKNOWN,
	    .hop_limit = 16,
	    .name = vec_code_name,
	    .home = &a1,
	    .code = vec_code,
	    .code_len = 5,
	    .data = "hi",
	    .data_len = 2,
	};
	memset(buf, 0xff, sizeof(buf)); /* padding must be written, not left */
	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &c, &n), 0);
	CHECK_INT(n, sizeof(vec_capsule_carried));
	CHECK_MEM(buf, vec_capsule_carried, sizeof(vec_capsule_carried));
}

static void test_parse_vectors(void)
{
	struct wire_capsule c;

	CHECK_INT(parse(vec_capsule_min, sizeof(vec_capsule_min), &c), 0);
	CHECK_MEM(c.name, vec_code_name, 32);
	CHECK(an_addr_eq(&c.home, &a1));
	CHECK_INT(c.flags, 0);
	CHECK_INT(c.code_off, 0);
	CHECK_INT(c.code_len, 0);
	CHECK_INT(c.data_off, 120);
	CHECK_INT(c.data_len, 4);
	CHECK_MEM(vec_capsule_min + c.data_off, data4, 4);

	CHECK_INT(parse(vec_capsule_carried, sizeof(vec_capsule_carried), &c), 0);
	CHECK_INT(c.flags, WIRE_CAPSULE_CARRIED);
	CHECK_INT(c.code_off, 72);
	CHECK_INT(c.code_len, 5);
	CHECK_MEM(vec_capsule_carried + c.code_off, vec_code, 5);
	CHECK_INT(c.data_off, 80);
	CHECK_INT(c.data_len, 2);
	CHECK_MEM(vec_capsule_carried + c.data_off, "hi", 2);
}

/* Parse a copy of vector 2 after poking one octet. */
static int poke2(size_t at, uint8_t v)
{
	uint8_t buf[sizeof(vec_capsule_carried)];
	struct wire_capsule c;

	memcpy(buf, vec_capsule_carried, sizeof(buf));
	buf[at] = v;
	return parse(buf, sizeof(buf), &c);
}

static void test_malformed(void)
{
	/* Offsets in vector 2: capsule header at 16, home zero at 66..67,
	 * flags 68..69, code length 70..71, code 72..76, padding 77..79. */
	CHECK_INT(poke2(67, 1), -EBADMSG); /* home zero octets */
	CHECK_INT(poke2(69, 0), -EBADMSG); /* code but no carried flag */
	CHECK_INT(poke2(69, 3), -EBADMSG); /* unknown flag */
	CHECK_INT(poke2(68, 0x80), -EBADMSG);
	CHECK_INT(poke2(79, 1), -EBADMSG); /* padding */
	CHECK_INT(poke2(77, 1), -EBADMSG);
	CHECK_INT(poke2(71, 9), -EBADMSG); /* padded code (12) past the packet (10 left) */
	CHECK_INT(poke2(71, 10), -EBADMSG);
	CHECK_INT(poke2(71, 8), 0); /* code 8, no padding, data 2 */
	CHECK_INT(poke2(71, 6), 0); /* code 6, padding 78..79 still zero */
}

static void test_flag_without_code(void)
{
	uint8_t buf[sizeof(vec_capsule_min)];
	struct wire_capsule c;

	memcpy(buf, vec_capsule_min, sizeof(buf));
	buf[117] = 1; /* carried flag, code length 0 */
	CHECK_INT(parse(buf, sizeof(buf), &c), -EBADMSG);
}

/* Lower the ANEP packet length step by step: the capsule header must fit,
 * and the data shrinks with the packet. */
static void test_short_payload(void)
{
	uint8_t buf[sizeof(vec_capsule_min)];
	struct wire_capsule c, before;

	memset(&before, 0x3c, sizeof(before));
	for (size_t pkt = 64; pkt <= sizeof(vec_capsule_min); pkt++) {
		memcpy(buf, vec_capsule_min, sizeof(buf));
		buf[7] = (uint8_t)pkt;
		c = before;
		int e = parse(buf, sizeof(buf), &c);
		if (pkt < 64 + WIRE_CAPSULE_HDR_LEN) {
			CHECK_INT(e, -EBADMSG);
			CHECK_MEM(&c, &before, sizeof(c));
		} else {
			CHECK_INT(e, 0);
			CHECK_INT(c.data_len, pkt - 120);
		}
	}
}

static void test_wrong_type(void)
{
	struct wire_anep a;
	struct wire_capsule c;

	CHECK_INT(wire_anep_parse(vec_capsule_min, sizeof(vec_capsule_min), &a), 0);
	a.type_id = WIRE_TYPE_SIGNAL;
	CHECK_INT(wire_capsule_parse(vec_capsule_min, sizeof(vec_capsule_min), &a, &c), -EINVAL);
	/* A header that does not belong to this buffer. */
	a.type_id = WIRE_TYPE_CAPSULE;
	CHECK_INT(wire_capsule_parse(vec_capsule_min, 100, &a, &c), -EINVAL);
}

static void test_build_limits(void)
{
	static uint8_t big[70000];
	uint8_t buf[256], copy[256];
	size_t n = 777;
	struct wire_capsule_spec s = {.name = vec_code_name, .home = &a1, .data = data4, .data_len = 4};

	/* Every capacity below the size fails, and leaves buf and n alone. */
	memset(buf, 0x77, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	for (size_t cap = 0; cap < 16 + 56 + 4; cap++)
		CHECK_INT(wire_capsule_build(buf, cap, &s, &n), -EMSGSIZE);
	CHECK_INT(n, 777);
	CHECK_MEM(buf, copy, sizeof(buf));
	CHECK_INT(wire_capsule_build(buf, 16 + 56 + 4, &s, &n), 0);
	CHECK_INT(n, 76);

	/* The 16-bit packet length. */
	s.data = big;
	s.data_len = 65535 - 72 + 1;
	uint8_t *out = malloc(65536);
	CHECK(out != NULL);
	CHECK_INT(wire_capsule_build(out, 65536, &s, &n), -EMSGSIZE);
	s.data_len = 65535 - 72;
	CHECK_INT(wire_capsule_build(out, 65536, &s, &n), 0);
	CHECK_INT(n, 65535);
	struct wire_capsule c;
	CHECK_INT(parse(out, n, &c), 0);
	CHECK_INT(c.data_len, 65535 - 72);
	s.code = big;
	s.code_len = 65536;
	CHECK_INT(wire_capsule_build(out, 65536, &s, &n), -EMSGSIZE);
	free(out);

	/* NULL name, or a length without its pointer. */
	struct wire_capsule_spec bad = {.data_len = 1, .data = NULL, .name = vec_code_name};
	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &bad, &n), -EINVAL);
	bad.data_len = 0;
	bad.name = NULL;
	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &bad, &n), -EINVAL);
	bad.name = vec_code_name;
	bad.code_len = 3;
	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &bad, &n), -EINVAL);
}

/* Build and parse back across code and data sizes around the padding. */
static void test_round_trip(void)
{
	uint8_t buf[512], code[16], data[16];
	struct wire_capsule c;

	for (size_t i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(0x40 + i), data[i] = (uint8_t)(0x80 + i);
	for (size_t cl = 0; cl <= 9; cl++) {
		for (size_t dl = 0; dl <= 9; dl++) {
			struct wire_capsule_spec s = {
			    .src = &a2,
			    .hop_limit = 3,
			    .name = vec_code_name,
			    .home = NULL,
			    .code = cl ? code : NULL,
			    .code_len = cl,
			    .data = data,
			    .data_len = dl,
			};
			size_t n;
			struct wire_anep a;
			static const struct an_addr zero;

			CHECK_INT(wire_capsule_build(buf, sizeof(buf), &s, &n), 0);
			CHECK_INT(n, 8 + 24 + 8 + 56 + ((cl + 3) & ~3u) + dl);
			CHECK_INT(wire_anep_parse(buf, n, &a), 0);
			CHECK_INT(a.present, WIRE_HAS_SRC | WIRE_HAS_HOP_LIMIT);
			CHECK_INT(a.hop_limit, 3);
			CHECK_INT(wire_capsule_parse(buf, n, &a, &c), 0);
			CHECK(an_addr_eq(&c.home, &zero));
			CHECK_INT(c.flags, cl ? WIRE_CAPSULE_CARRIED : 0);
			CHECK_INT(c.code_len, cl);
			CHECK_INT(c.data_len, dl);
			/* Code and data start on 4-octet boundaries. */
			CHECK_INT(c.code_off % 4, 0);
			CHECK_INT(c.data_off % 4, 0);
			CHECK_MEM(buf + c.code_off, code, cl);
			CHECK_MEM(buf + c.data_off, data, dl);
		}
	}
}

static const struct an_addr a3 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 3}, .port = 0xfa0c};

static void test_goals_vector(void)
{
	const struct an_addr goals[2] = {a3, a2};
	uint8_t buf[256];
	size_t n = 0;
	struct wire_capsule_spec s = {
	    .src = &a1,
	    .dst = &a2,
	    .name = vec_code_name,
	    .home = &a1,
	    .data = data4,
	    .data_len = 4,
	    .goals = goals,
	    .n_goals = 2,
	};
	struct wire_capsule c;

	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &s, &n), 0);
	CHECK_INT(n, sizeof(vec_capsule_goals));
	CHECK_MEM(buf, vec_capsule_goals, sizeof(vec_capsule_goals));
	CHECK_INT(parse(vec_capsule_goals, sizeof(vec_capsule_goals), &c), 0);
	CHECK_INT(c.data_off, 168);
	CHECK_INT(c.data_len, 4);
	CHECK_INT(parse(vec_capsule_result, sizeof(vec_capsule_result), &c), 0);
	CHECK_INT(c.data_off, 196);
	CHECK_INT(c.data_len, 4);
	CHECK_MEM(c.name, vec_code_name, 32);
	CHECK(an_addr_eq(&c.home, &a1));
	CHECK_MEM(vec_capsule_result + c.data_off, data4, 4);

	/* Too many goals: refused by the header builder. */
	s.n_goals = WIRE_MAX_GOALS + 1;
	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &s, &n), -EINVAL);
}

/* A carried capsule with goals gets two results on its way: each time the
 * capsule moves 28 octets on and still parses, code and data intact. */
static void test_add_result(void)
{
	const struct an_addr goals[3] = {a2, a3, a2};
	uint8_t buf[512];
	size_t n;
	struct wire_capsule_spec s = {
	    .src = &a1,
	    .name = vec_code_name,
	    .home = &a1,
	    .code = vec_code,
	    .code_len = 5,
	    .data = data4,
	    .data_len = 3,
	    .goals = goals,
	    .n_goals = 3,
	};
	struct wire_anep a, b;
	struct wire_capsule c, c0;

	CHECK_INT(wire_capsule_build(buf, sizeof(buf), &s, &n), 0);
	CHECK_INT(wire_anep_parse(buf, n, &a), 0);
	CHECK_INT(a.n_goals, 3);
	CHECK_INT(wire_capsule_parse(buf, n, &a, &c0), 0);
	for (uint16_t i = 1; i <= 2; i++) {
		CHECK_INT(wire_anep_add_result(buf, sizeof(buf), &a, i == 1 ? &a2 : &a3, i), 0);
		CHECK_INT(a.pkt_len, n + 28 * i);
		CHECK_INT(wire_anep_parse(buf, a.pkt_len, &b), 0);
		CHECK_INT(b.hdr_len, a.hdr_len);
		CHECK_INT(b.n_results, a.n_results);
		CHECK_INT(wire_capsule_parse(buf, a.pkt_len, &a, &c), 0);
		CHECK_MEM(c.name, vec_code_name, 32);
		CHECK(an_addr_eq(&c.home, &a1));
		CHECK_INT(c.flags, WIRE_CAPSULE_CARRIED);
		CHECK_INT(c.code_off, c0.code_off + 28 * i);
		CHECK_INT(c.code_len, 5);
		CHECK_INT(c.data_off, c0.data_off + 28 * i);
		CHECK_INT(c.data_len, 3);
		CHECK_INT(c.data_off % 4, 0);
		CHECK_MEM(buf + c.code_off, vec_code, 5);
		CHECK_MEM(buf + c.data_off, data4, 3);
	}
	CHECK_INT(a.n_results, 2);
	CHECK_MEM(&a.results[0].node, &a2, sizeof(a2)); /* 2-aligned: no an_addr_eq */
	CHECK_MEM(&a.results[1].node, &a3, sizeof(a3)); /* 2-aligned: no an_addr_eq */
	CHECK_INT(a.results[1].visit, 2);
	CHECK_INT(a.n_goals, 3);
	CHECK(an_addr_eq(&a.goals[2], &a2));
}

static const struct check_test tests[] = {
    TEST(test_build_vectors), TEST(test_parse_vectors), TEST(test_malformed),	 TEST(test_flag_without_code),
    TEST(test_short_payload), TEST(test_wrong_type),	TEST(test_build_limits), TEST(test_round_trip),
    TEST(test_goals_vector),  TEST(test_add_result),
};

CHECK_MAIN(tests)
