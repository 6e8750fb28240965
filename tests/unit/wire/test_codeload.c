/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the code loading formats (src/wire/codeload.c): requests
 * and chunks against the docs/wire.md vectors, every truncation, each rule
 * that relates a chunk's total, count, index and length, and build/parse
 * round trips that cut code objects of awkward sizes into chunks and put
 * them back together.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "vectors.h"
#include "wire/wire.h"

#define CODE_MAX (WIRE_CODE_CHUNK * WIRE_CODE_MAX_CHUNKS)

static const struct an_addr n1 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1}, .port = 0xfa0c};
static const struct an_addr n2 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2}, .port = 0xfa0c};

static uint8_t code1500[1500];

static void init_code1500(void)
{
	for (size_t i = 0; i < sizeof(code1500); i++)
		code1500[i] = (uint8_t)i;
}

static int parse_request(const uint8_t *pkt, size_t len, struct wire_code_request *q)
{
	struct wire_anep a;
	int e = wire_anep_parse(pkt, len, &a);

	return e < 0 ? e : wire_code_request_parse(pkt, len, &a, q);
}

static int parse_chunk(const uint8_t *pkt, size_t len, struct wire_code_chunk *c)
{
	struct wire_anep a;
	int e = wire_anep_parse(pkt, len, &a);

	return e < 0 ? e : wire_code_chunk_parse(pkt, len, &a, c);
}

/* Set the ANEP packet length of a copy, keeping the buffer as long. */
static void set_len(uint8_t *pkt, size_t len)
{
	wire_anep_set_pkt_len(pkt, (uint16_t)len);
}

static void test_request_vector(void)
{
	struct wire_anep_spec s = {.type_id = WIRE_TYPE_CAPSULE, .hop_limit = 1, .src = &n2};
	struct wire_code_request q = {.want = 3};
	uint8_t buf[128];
	size_t n = 0;

	memcpy(q.name, vec_code_name, 32);
	CHECK_INT(wire_code_request_build(buf, sizeof(buf), &s, &q, 0, &n), 0);
	CHECK_INT(n, sizeof(vec_code_request));
	CHECK_MEM(buf, vec_code_request, sizeof(vec_code_request));
	CHECK_INT(s.type_id, WIRE_TYPE_CAPSULE); /* the spec is the caller's */

	memset(&q, 0, sizeof(q));
	CHECK_INT(parse_request(vec_code_request, sizeof(vec_code_request), &q), 0);
	CHECK_MEM(q.name, vec_code_name, 32);
	CHECK_INT(q.want, 3);
}

static void test_request_rules(void)
{
	uint8_t buf[sizeof(vec_code_request) + 8];
	struct wire_code_request q, before;
	struct wire_anep a;

	memset(&before, 0x6b, sizeof(before));
	/* Every shorter packet is refused, whether the header or the payload is cut. */
	for (size_t n = 0; n < sizeof(vec_code_request); n++) {
		memcpy(buf, vec_code_request, sizeof(vec_code_request));
		set_len(buf, n);
		q = before;
		CHECK_INT(parse_request(buf, sizeof(buf), &q), -EBADMSG);
		CHECK_INT(parse_request(vec_code_request, n, &q), -EBADMSG);
		CHECK_MEM(&q, &before, sizeof(q));
	}
	/* Padding inside the packet length is the requester's payment for the
	 * answer and is ignored; so are octets past pkt_len. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, vec_code_request, sizeof(vec_code_request));
	CHECK_INT(parse_request(buf, sizeof(buf), &q), 0);
	set_len(buf, sizeof(vec_code_request) + 1);
	CHECK_INT(parse_request(buf, sizeof(buf), &q), 0);
	set_len(buf, sizeof(vec_code_request) + 8);
	CHECK_INT(parse_request(buf, sizeof(buf), &q), 0);
	CHECK_INT(q.want, 3);
	set_len(buf, sizeof(vec_code_request) + 9);
	CHECK_INT(parse_request(buf, sizeof(buf), &q), -EBADMSG); /* past what was received */

	/* Nothing wanted. */
	memcpy(buf, vec_code_request, sizeof(vec_code_request));
	buf[79] = 0;
	CHECK_INT(parse_request(buf, sizeof(vec_code_request), &q), -EBADMSG);
	buf[72] = 0x80; /* chunk 63 */
	CHECK_INT(parse_request(buf, sizeof(vec_code_request), &q), 0);
	CHECK_INT(q.want, 1ull << 63);

	/* No SRC option: turn it into an unknown, skipped option. */
	memcpy(buf, vec_code_request, sizeof(vec_code_request));
	buf[8] = 0x30;
	CHECK_INT(parse_request(buf, sizeof(vec_code_request), &q), -EBADMSG);

	/* Not a request, or a header that is not this buffer's. */
	CHECK_INT(wire_anep_parse(vec_code_request, sizeof(vec_code_request), &a), 0);
	a.type_id = WIRE_TYPE_CODE_RESPONSE;
	CHECK_INT(wire_code_request_parse(vec_code_request, sizeof(vec_code_request), &a, &q), -EINVAL);
	a.type_id = WIRE_TYPE_CODE_REQUEST;
	CHECK_INT(wire_code_request_parse(vec_code_request, sizeof(vec_code_request) - 1, &a, &q), -EINVAL);
}

static void test_request_build(void)
{
	struct wire_anep_spec s = {.src = &n2, .dst = &n1};
	struct wire_code_request q = {.want = 1}, r;
	uint8_t buf[128], copy[128];
	size_t n = 99;

	memcpy(q.name, vec_code_name, 32);
	memset(buf, 0x3c, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	/* What the decoder would refuse is not built, nor what does not fit. */
	q.want = 0;
	CHECK_INT(wire_code_request_build(buf, sizeof(buf), &s, &q, 0, &n), -EINVAL);
	q.want = 1;
	s.src = NULL;
	CHECK_INT(wire_code_request_build(buf, sizeof(buf), &s, &q, 0, &n), -EINVAL);
	s.src = &n2;
	CHECK_INT(wire_code_request_build(buf, 8 + 48 + 8 + 40 - 1, &s, &q, 0, &n), -EMSGSIZE);
	CHECK_INT(n, 99);
	CHECK_MEM(buf, copy, sizeof(buf));

	CHECK_INT(wire_code_request_build(buf, 8 + 48 + 8 + 40, &s, &q, 0, &n), 0);
	CHECK_INT(n, 104);
	CHECK_INT(parse_request(buf, n, &r), 0);
	CHECK_MEM(&r, &q, sizeof(q));

	/* Padded: the packet length covers the zero padding; one chunk costs
	 * a third of its largest packet. */
	uint8_t big[1200];
	CHECK_INT(wire_code_request_padded_len(64, 1), (WIRE_CODE_CHUNK_PKT_MAX + 2) / 3);
	CHECK_INT(wire_code_request_padded_len(64, 0x7), WIRE_CODE_CHUNK_PKT_MAX);
	CHECK_INT(wire_code_request_padded_len(64, 0), 104);
	memset(big, 0x5a, sizeof(big));
	CHECK_INT(wire_code_request_build(big, sizeof(big), &s, &q, WIRE_CODE_CHUNK_PKT_MAX, &n), 0);
	CHECK_INT(n, WIRE_CODE_CHUNK_PKT_MAX);
	CHECK_INT(big[2 + 2], 0); /* header length 16 words */
	CHECK_INT((big[6] << 8 | big[7]), WIRE_CODE_CHUNK_PKT_MAX);
	CHECK_INT(big[n - 1], 0);
	CHECK_INT(big[n], 0x5a);
	CHECK_INT(parse_request(big, n, &r), 0);
	CHECK_MEM(&r, &q, sizeof(q));
	/* Padding that does not fit: nothing past cap is written. */
	memset(big, 0x5a, sizeof(big));
	CHECK_INT(wire_code_request_build(big, 500, &s, &q, 600, &n), -EMSGSIZE);
	CHECK_INT(big[500], 0x5a);
}

static void test_chunk_vector(void)
{
	struct wire_anep_spec s = {.type_id = WIRE_TYPE_CODE_REQUEST, .hop_limit = 1, .src = &n1, .dst = &n2};
	struct wire_code_chunk c;
	uint8_t buf[1200];
	size_t n = 0;

	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, vec_code1500_name, code1500, 1500, 1, &n), 0);
	CHECK_INT(n, sizeof(vec_code_chunk_last));
	CHECK_MEM(buf, vec_code_chunk_last, sizeof(vec_code_chunk_last));
	CHECK_INT(s.type_id, WIRE_TYPE_CODE_REQUEST);

	CHECK_INT(parse_chunk(vec_code_chunk_last, sizeof(vec_code_chunk_last), &c), 0);
	CHECK_MEM(c.name, vec_code1500_name, 32);
	CHECK_INT(c.total_len, 1500);
	CHECK_INT(c.index, 1);
	CHECK_INT(c.count, 2);
	CHECK_INT(c.data_off, 104);
	CHECK_INT(c.data_len, 476);
	CHECK_MEM(vec_code_chunk_last + c.data_off, code1500 + 1024, 476);

	/* The first chunk of the same object is a full one. */
	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, vec_code1500_name, code1500, 1500, 0, &n), 0);
	CHECK_INT(n, 104 + WIRE_CODE_CHUNK);
	CHECK_INT(parse_chunk(buf, n, &c), 0);
	CHECK_INT(c.index, 0);
	CHECK_INT(c.data_len, WIRE_CODE_CHUNK);
	CHECK_MEM(buf + c.data_off, code1500, WIRE_CODE_CHUNK);
}

/* Parse a copy of vector 9 with total, index and count replaced and the
 * payload cut or grown to data_len chunk octets. */
static int chunk_with(uint32_t total, uint16_t index, uint16_t count, size_t data_len)
{
	static uint8_t buf[104 + CODE_MAX + 16];
	struct wire_code_chunk c;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, vec_code_chunk_last, sizeof(vec_code_chunk_last));
	buf[96] = (uint8_t)(total >> 24);
	buf[97] = (uint8_t)(total >> 16);
	buf[98] = (uint8_t)(total >> 8);
	buf[99] = (uint8_t)total;
	buf[100] = (uint8_t)(index >> 8);
	buf[101] = (uint8_t)index;
	buf[102] = (uint8_t)(count >> 8);
	buf[103] = (uint8_t)count;
	if (104 + data_len > 65535)
		return -ERANGE;
	set_len(buf, 104 + data_len);
	return parse_chunk(buf, sizeof(buf), &c);
}

static void test_chunk_rules(void)
{
	struct wire_code_chunk c, before;
	struct wire_anep a;

	CHECK_INT(chunk_with(1500, 1, 2, 476), 0);
	CHECK_INT(chunk_with(1500, 1, 2, 475), -EBADMSG); /* short */
	CHECK_INT(chunk_with(1500, 1, 2, 477), -EBADMSG); /* long */
	CHECK_INT(chunk_with(1500, 0, 2, 1024), 0);
	CHECK_INT(chunk_with(1500, 0, 2, 476), -EBADMSG); /* not the last: full */
	CHECK_INT(chunk_with(1500, 0, 2, 1025), -EBADMSG);
	CHECK_INT(chunk_with(1500, 2, 2, 0), -EBADMSG);	   /* index past count */
	CHECK_INT(chunk_with(1500, 2, 3, 1024), -EBADMSG); /* count disagrees with total */
	CHECK_INT(chunk_with(1500, 0, 1, 1024), -EBADMSG);
	CHECK_INT(chunk_with(1500, 0, 1, 1500), -EBADMSG);
	CHECK_INT(chunk_with(0, 0, 0, 0), -EBADMSG); /* empty object */
	CHECK_INT(chunk_with(0, 0, 1, 0), -EBADMSG);
	CHECK_INT(chunk_with(1, 0, 1, 1), 0);
	CHECK_INT(chunk_with(1024, 0, 1, 1024), 0);
	CHECK_INT(chunk_with(1024, 0, 2, 0), -EBADMSG);
	CHECK_INT(chunk_with(1025, 1, 2, 1), 0);
	CHECK_INT(chunk_with(CODE_MAX, 63, 64, 1024), 0);
	CHECK_INT(chunk_with(CODE_MAX + 1, 64, 65, 1), -EBADMSG); /* too large */
	CHECK_INT(chunk_with(0xffffffff, 0, 0xffff, 1024), -EBADMSG);
	CHECK_INT(chunk_with(0xffffffff, 0, 0, 1024), -EBADMSG);

	/* Every truncation, of the buffer or of the packet length. */
	uint8_t buf[sizeof(vec_code_chunk_last)];
	memset(&before, 0x2e, sizeof(before));
	for (size_t n = 0; n < sizeof(vec_code_chunk_last); n++) {
		memcpy(buf, vec_code_chunk_last, sizeof(buf));
		set_len(buf, n);
		c = before;
		CHECK_INT(parse_chunk(buf, sizeof(buf), &c), -EBADMSG);
		CHECK_INT(parse_chunk(vec_code_chunk_last, n, &c), -EBADMSG);
		CHECK_MEM(&c, &before, sizeof(c));
	}

	/* Not a response, or a header that is not this buffer's. */
	CHECK_INT(wire_anep_parse(vec_code_chunk_last, sizeof(vec_code_chunk_last), &a), 0);
	a.type_id = WIRE_TYPE_CODE_REQUEST;
	CHECK_INT(wire_code_chunk_parse(vec_code_chunk_last, sizeof(vec_code_chunk_last), &a, &c), -EINVAL);
	a.type_id = WIRE_TYPE_CODE_RESPONSE;
	CHECK_INT(wire_code_chunk_parse(vec_code_chunk_last, 100, &a, &c), -EINVAL);
	/* No SRC is fine for a response: it goes back along the request's path. */
	memcpy(buf, vec_code_chunk_last, sizeof(buf));
	buf[8] = 0x30;
	CHECK_INT(parse_chunk(buf, sizeof(buf), &c), 0);
}

static void test_chunk_build(void)
{
	struct wire_anep_spec s = {0};
	uint8_t buf[1200], copy[1200];
	size_t n = 55;

	memset(buf, 0x11, sizeof(buf));
	memcpy(copy, buf, sizeof(buf));
	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, vec_code1500_name, code1500, 1500, 2, &n), -EINVAL);
	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, vec_code1500_name, code1500, 1500, 0xffff, &n), -EINVAL);
	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, vec_code1500_name, code1500, 0, 0, &n), -EINVAL);
	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, vec_code1500_name, code1500, CODE_MAX + 1, 0, &n),
		  -EINVAL);
	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, vec_code1500_name, NULL, 1500, 0, &n), -EINVAL);
	CHECK_INT(wire_code_chunk_build(buf, sizeof(buf), &s, NULL, code1500, 1500, 0, &n), -EINVAL);
	/* Header 16 + chunk header 40 + 476. */
	CHECK_INT(wire_code_chunk_build(buf, 16 + 40 + 476 - 1, &s, vec_code1500_name, code1500, 1500, 1, &n),
		  -EMSGSIZE);
	CHECK_INT(n, 55);
	CHECK_MEM(buf, copy, sizeof(buf));
	CHECK_INT(wire_code_chunk_build(buf, 16 + 40 + 476, &s, vec_code1500_name, code1500, 1500, 1, &n), 0);
	CHECK_INT(n, 16 + 40 + 476);
}

/* Cut objects of awkward sizes into chunks and put them back together. */
static void test_round_trip(void)
{
	static uint8_t code[CODE_MAX], back[CODE_MAX], buf[2048];
	static const size_t sizes[] = {1, 3, 1023, 1024, 1025, 1500, 2048, 4097, CODE_MAX - 1, CODE_MAX};
	const struct an_addr goals[2] = {n2, n1};
	struct wire_anep_spec s = {.src = &n1, .goals = goals, .n_goals = 2};

	for (size_t i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(i * 7 + i / 256);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t total = sizes[k], count = (total + WIRE_CODE_CHUNK - 1) / WIRE_CODE_CHUNK, got = 0;

		memset(back, 0, sizeof(back));
		for (size_t i = 0; i < count; i++) {
			struct wire_code_chunk c;
			struct wire_anep a;
			size_t n;

			CHECK_INT(
			    wire_code_chunk_build(buf, sizeof(buf), &s, vec_code_name, code, total, (uint16_t)i, &n),
			    0);
			CHECK_INT(wire_anep_parse(buf, n, &a), 0);
			CHECK_INT(a.type_id, WIRE_TYPE_CODE_RESPONSE);
			CHECK_INT(a.n_goals, 2);
			CHECK_INT(wire_code_chunk_parse(buf, n, &a, &c), 0);
			CHECK_MEM(c.name, vec_code_name, 32);
			CHECK_INT(c.total_len, total);
			CHECK_INT(c.index, i);
			CHECK_INT(c.count, count);
			CHECK_INT(c.data_off + c.data_len, n);
			memcpy(back + (size_t)c.index * WIRE_CODE_CHUNK, buf + c.data_off, c.data_len);
			got += c.data_len;
		}
		CHECK_INT(got, total);
		CHECK_MEM(back, code, total);
	}
	/* Requests for every single chunk, and for all. */
	for (unsigned i = 0; i <= WIRE_CODE_MAX_CHUNKS; i++) {
		struct wire_code_request q = {.want = i < 64 ? 1ull << i : ~0ull}, r;
		size_t n;

		memcpy(q.name, vec_code1500_name, 32);
		CHECK_INT(wire_code_request_build(buf, sizeof(buf), &s, &q, 0, &n), 0);
		CHECK_INT(parse_request(buf, n, &r), 0);
		CHECK_MEM(&r, &q, sizeof(q));
	}
}

static const struct check_test tests[] = {
    TEST(test_request_vector), TEST(test_request_rules), TEST(test_request_build), TEST(test_chunk_vector),
    TEST(test_chunk_rules),    TEST(test_chunk_build),	 TEST(test_round_trip),
};

int main(void)
{
	init_code1500();
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
