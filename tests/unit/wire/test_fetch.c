// SPDX-License-Identifier: MIT
/*
 * Unit tests of the module fetcher's channel (src/wire/fetch.c,
 * docs/wire.md §11): each record builds to the documented octets and
 * parses back; each malformation the header lists is refused.
 */
#include <errno.h>

#include "check.h"
#include "wire/fetch.h"

static void test_get(void)
{
	struct wire_fetch g = {.kind = WIRE_FETCH_GET, .id = 0x0102030405060708ull, .max = 1234, .timeout_ms = 10000};
	strcpy(g.url, "http://h/m");
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	ssize_t n = wire_fetch_build(buf, sizeof(buf), &g);
	static const uint8_t want[] = {1, 1,	2,    3,   4,	5,   6,	  7,   8,   0,	 0,   4,   0xd2, 0,
				       0, 0x27, 0x10, 'h', 't', 't', 'p', ':', '/', '/', 'h', '/', 'm'};
	CHECK_INT(n, sizeof(want));
	CHECK_MEM(buf, want, sizeof(want));
	struct wire_fetch p;
	CHECK_INT(wire_fetch_parse(buf, (size_t)n, &p), 0);
	CHECK(p.kind == WIRE_FETCH_GET && p.id == g.id && p.max == 1234 && p.timeout_ms == 10000 &&
	      !strcmp(p.url, "http://h/m"));
	/* Not http(s), too short, a control character, max or time 0. */
	strcpy(g.url, "ftp://host/m");
	CHECK_INT(wire_fetch_build(buf, sizeof(buf), &g), -EINVAL);
	strcpy(g.url, "http:/");
	CHECK_INT(wire_fetch_build(buf, sizeof(buf), &g), -EINVAL);
	uint8_t bad[sizeof(want)];
	memcpy(bad, want, sizeof(want));
	bad[sizeof(bad) - 1] = '\n';
	CHECK_INT(wire_fetch_parse(bad, sizeof(bad), &p), -EBADMSG);
	memcpy(bad, want, sizeof(want));
	memset(bad + 9, 0, 4);
	CHECK_INT(wire_fetch_parse(bad, sizeof(bad), &p), -EBADMSG);
	CHECK_INT(wire_fetch_parse(want, 16, &p), -EBADMSG);
}

static void test_result_chunk(void)
{
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	struct wire_fetch r = {.kind = WIRE_FETCH_RESULT, .id = 9, .status = -ENOENT, .http = 404};
	strcpy(r.why, "HTTP status 404");
	ssize_t n = wire_fetch_build(buf, sizeof(buf), &r);
	CHECK_INT(n, 1 + 8 + 4 + 2 + 4 + 15);
	struct wire_fetch p;
	CHECK_INT(wire_fetch_parse(buf, (size_t)n, &p), 0);
	CHECK(p.status == -ENOENT && p.http == 404 && p.length == 0 && !strcmp(p.why, "HTTP status 404"));
	/* A failure with a length, a positive status: refused both ways. */
	r.length = 5;
	CHECK_INT(wire_fetch_build(buf, sizeof(buf), &r), -EINVAL);
	r.length = 0;
	r.status = 1;
	CHECK_INT(wire_fetch_build(buf, sizeof(buf), &r), -EINVAL);
	buf[9] = 0; /* status 0x00ff..., positive */
	CHECK_INT(wire_fetch_parse(buf, (size_t)n, &p), -EBADMSG);
	struct wire_fetch ok = {.kind = WIRE_FETCH_RESULT, .id = 9, .http = 200, .length = 3000};
	n = wire_fetch_build(buf, sizeof(buf), &ok);
	CHECK_INT(wire_fetch_parse(buf, (size_t)n, &p), 0);
	CHECK(p.status == 0 && p.length == 3000);
	static uint8_t data[WIRE_FETCH_CHUNK_MAX + 1];
	struct wire_fetch c = {.kind = WIRE_FETCH_CHUNK, .id = 9, .offset = 32768, .data = data, .data_len = 100};
	n = wire_fetch_build(buf, sizeof(buf), &c);
	CHECK_INT(n, 1 + 8 + 4 + 100);
	CHECK_INT(wire_fetch_parse(buf, (size_t)n, &p), 0);
	CHECK(p.offset == 32768 && p.data_len == 100 && p.data == buf + 13);
	CHECK_INT(wire_fetch_parse(buf, 13, &p), -EBADMSG); /* empty */
	c.data_len = WIRE_FETCH_CHUNK_MAX + 1;
	CHECK_INT(wire_fetch_build(buf, sizeof(buf), &c), -EINVAL);
	buf[0] = 5;
	CHECK_INT(wire_fetch_parse(buf, 20, &p), -EBADMSG);
}

/* CA: PEM for the fetcher, of id 0, not empty. */
static void test_ca(void)
{
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	static const char pem[] = "-----BEGIN CERTIFICATE-----\n";
	struct wire_fetch c = {.kind = WIRE_FETCH_CA, .data = (const uint8_t *)pem, .data_len = sizeof(pem) - 1};
	ssize_t n = wire_fetch_build(buf, sizeof(buf), &c);
	CHECK_INT(n, 1 + 8 + sizeof(pem) - 1);
	struct wire_fetch p;
	CHECK_INT(wire_fetch_parse(buf, (size_t)n, &p), 0);
	CHECK(p.kind == WIRE_FETCH_CA && p.data_len == sizeof(pem) - 1 && !memcmp(p.data, pem, p.data_len));
	CHECK_INT(wire_fetch_parse(buf, 9, &p), -EBADMSG);
	buf[8] = 1; /* an id */
	CHECK_INT(wire_fetch_parse(buf, (size_t)n, &p), -EBADMSG);
	c.id = 1;
	CHECK_INT(wire_fetch_build(buf, sizeof(buf), &c), -EINVAL);
}

static const struct check_test tests[] = {TEST(test_get), TEST(test_result_chunk), TEST(test_ca)};

int main(void)
{
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
