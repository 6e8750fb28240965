/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the application link messages (src/wire/applink.c): the
 * documented vectors both ways, the HELLO name field rules, the status rules
 * per type, and the header errors with the errno each one promises.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "check.h"
#include "vectors.h"
#include "wire/wire.h"

static const struct an_addr lo = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 127, [15] = 1}, .port = 0xfa0c};

static void test_hello_vector(void)
{
	uint8_t buf[128];
	struct wire_applink m;

	CHECK_INT(wire_applink_build_hello(buf, sizeof(buf), 0x0102030405060708ull, &lo, "node-a"), sizeof(vec_hello));
	CHECK_MEM(buf, vec_hello, sizeof(vec_hello));
	CHECK_INT(wire_applink_parse(vec_hello, sizeof(vec_hello), &m), 0);
	CHECK_INT(m.type, WIRE_APP_HELLO);
	CHECK_INT(m.status, 0);
	CHECK(m.handle == 0x0102030405060708ull);
	CHECK(an_addr_eq(&m.addr, &lo));
	CHECK(strcmp(m.name, "node-a") == 0);
	CHECK(m.body == vec_hello + 8);
	CHECK_INT(m.body_len, sizeof(vec_hello) - 8);
	/* Exactly enough room, and one octet less. */
	CHECK_INT(wire_applink_build_hello(buf, sizeof(vec_hello), 1, &lo, "node-a"), sizeof(vec_hello));
	CHECK_INT(wire_applink_build_hello(buf, sizeof(vec_hello) - 1, 1, &lo, "node-a"), -EMSGSIZE);
}

static void test_hello_names(void)
{
	uint8_t buf[128];
	char name[80];
	struct wire_applink m;
	ssize_t n;

	/* 64 characters fill the field with no NUL. */
	memset(name, 'x', 64);
	name[64] = '\0';
	n = wire_applink_build_hello(buf, sizeof(buf), 9, &lo, name);
	CHECK_INT(n, 8 + 28 + 64);
	CHECK_INT(wire_applink_parse(buf, (size_t)n, &m), 0);
	CHECK(strcmp(m.name, name) == 0);
	/* 65 is too many for the builder and for the parser. */
	name[64] = 'x';
	name[65] = '\0';
	CHECK_INT(wire_applink_build_hello(buf, sizeof(buf), 9, &lo, name), -EINVAL);
	buf[n] = 'x';
	CHECK_INT(wire_applink_parse(buf, (size_t)n + 1, &m), -EBADMSG);

	/* An empty name, and NULL, are a single NUL. */
	CHECK_INT(wire_applink_build_hello(buf, sizeof(buf), 9, &lo, ""), 8 + 28 + 1);
	CHECK_INT(wire_applink_build_hello(buf, sizeof(buf), 9, &lo, NULL), 8 + 28 + 1);
	CHECK_INT(wire_applink_parse(buf, 8 + 28 + 1, &m), 0);
	CHECK_INT(m.name[0], 0);
	/* An absent name field is an empty name too. */
	CHECK_INT(wire_applink_parse(buf, 8 + 28, &m), 0);
	CHECK_INT(m.name[0], 0);
	CHECK_INT(wire_applink_build_hello(buf, sizeof(buf), 9, NULL, "a"), -EINVAL);

	/* NUL padding after the name is fine, anything else after it is not. */
	uint8_t msg[8 + 28 + 10];
	memcpy(msg, vec_hello, sizeof(vec_hello));
	memset(msg + sizeof(vec_hello), 0, sizeof(msg) - sizeof(vec_hello));
	CHECK_INT(wire_applink_parse(msg, sizeof(msg), &m), 0);
	CHECK(strcmp(m.name, "node-a") == 0);
	msg[sizeof(msg) - 1] = 'z';
	CHECK_INT(wire_applink_parse(msg, sizeof(msg), &m), -EBADMSG);
	/* The node's name may be unterminated at the end of the record. */
	CHECK_INT(wire_applink_parse(vec_hello, sizeof(vec_hello) - 1, &m), 0);
	CHECK(strcmp(m.name, "node-a") == 0);
}

static void test_hello_malformed(void)
{
	uint8_t msg[sizeof(vec_hello)];
	struct wire_applink m, before;

	memset(&before, 0x11, sizeof(before));
	for (size_t n = 0; n < 8 + 28; n++) {
		m = before;
		CHECK_INT(wire_applink_parse(vec_hello, n, &m), -EBADMSG);
		CHECK_MEM(&m, &before, sizeof(m));
	}
	memcpy(msg, vec_hello, sizeof(msg));
	msg[35] = 1; /* the address's zero octets */
	CHECK_INT(wire_applink_parse(msg, sizeof(msg), &m), -EBADMSG);
}

static void test_deliver_and_result_vectors(void)
{
	uint8_t buf[512];
	struct wire_applink m;

	CHECK_INT(wire_applink_build_deliver(buf, sizeof(buf), vec_code_name, "hi", 2), sizeof(vec_deliver));
	CHECK_MEM(buf, vec_deliver, sizeof(vec_deliver));
	CHECK_INT(wire_applink_parse(vec_deliver, sizeof(vec_deliver), &m), 0);
	CHECK_INT(m.type, WIRE_APP_DELIVER);
	CHECK_MEM(m.code, vec_code_name, 32);
	CHECK_INT(m.body_len, 34);
	CHECK_MEM(m.body + 32, "hi", 2);
	/* Data already in place behind the name. */
	memcpy(buf + 40, "hi", 2);
	CHECK_INT(wire_applink_build_deliver(buf, sizeof(buf), vec_code_name, buf + 40, 2), sizeof(vec_deliver));
	CHECK_MEM(buf, vec_deliver, sizeof(vec_deliver));
	CHECK_INT(wire_applink_build_deliver(buf, 41, vec_code_name, "hi", 2), -EMSGSIZE);
	CHECK_INT(wire_applink_parse(vec_deliver, 8 + 31, &m), -EBADMSG);
	CHECK_INT(wire_applink_parse(vec_deliver, 8 + 32, &m), 0);
	CHECK_INT(m.body_len, 32);

	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_RESULT, -EINVAL, vec_code_name, 32),
		  sizeof(vec_code_result));
	CHECK_MEM(buf, vec_code_result, sizeof(vec_code_result));
	CHECK_INT(wire_applink_parse(vec_code_result, sizeof(vec_code_result), &m), 0);
	CHECK_INT(m.type, WIRE_APP_CODE_RESULT);
	CHECK_INT(m.status, -EINVAL);
	CHECK_MEM(m.code, vec_code_name, 32);
	/* A CODE_RESULT that accepts is exactly a name; one that refuses may
	 * say why after it, in up to WIRE_APPLINK_REASON_MAX octets. */
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_RESULT, 0, vec_code_name, 31), -EINVAL);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_RESULT, 0, vec_deliver, 33), -EINVAL);
	memcpy(buf, vec_code_result, sizeof(vec_code_result));
	buf[sizeof(vec_code_result)] = 'x';
	CHECK_INT(wire_applink_parse(buf, sizeof(vec_code_result) + 1, &m), 0);
	CHECK_INT(m.body_len, 33);
	uint8_t why[32 + WIRE_APPLINK_REASON_MAX + 1];
	memcpy(why, vec_code_name, 32);
	memset(why + 32, 'r', sizeof(why) - 32);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_RESULT, -EINVAL, why, sizeof(why) - 1),
		  8 + sizeof(why) - 1);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_RESULT, -EINVAL, why, sizeof(why)), -EINVAL);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_RESULT, 0, why, 33), -EINVAL);
}

static void test_opaque_bodies(void)
{
	uint8_t buf[256];
	struct wire_applink m;
	ssize_t n;

	n = wire_applink_build(buf, sizeof(buf), WIRE_APP_INJECT, 0, vec_capsule_min, sizeof(vec_capsule_min));
	CHECK_INT(n, 8 + sizeof(vec_capsule_min));
	CHECK_INT(wire_applink_parse(buf, (size_t)n, &m), 0);
	CHECK_INT(m.type, WIRE_APP_INJECT);
	CHECK_INT(m.body_len, sizeof(vec_capsule_min));
	CHECK_MEM(m.body, vec_capsule_min, sizeof(vec_capsule_min));

	n = wire_applink_build(buf, sizeof(buf), WIRE_APP_ERROR, -ENOENT, "no such code", 12);
	CHECK_INT(n, 20);
	CHECK_INT(wire_applink_parse(buf, (size_t)n, &m), 0);
	CHECK_INT(m.status, -ENOENT);
	CHECK_MEM(m.body, "no such code", 12);
	n = wire_applink_build(buf, sizeof(buf), WIRE_APP_ERROR, -EIO, NULL, 0);
	CHECK_INT(n, 8);
	CHECK_INT(wire_applink_parse(buf, 8, &m), 0);
	CHECK(m.body == NULL);
	CHECK_INT(m.body_len, 0);

	n = wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_INSERT, 0, "\177ELF", 4);
	CHECK_INT(n, 12);
	CHECK_INT(wire_applink_parse(buf, (size_t)n, &m), 0);
	CHECK_INT(m.type, WIRE_APP_CODE_INSERT);
	CHECK_INT(wire_applink_build(buf, 11, WIRE_APP_CODE_INSERT, 0, "\177ELF", 4), -EMSGSIZE);
	CHECK_INT(wire_applink_build(buf, 3, WIRE_APP_CODE_INSERT, 0, NULL, 0), -EMSGSIZE);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_INSERT, 0, NULL, 4), -EINVAL);
}

static void test_status_rules(void)
{
	uint8_t buf[64];

	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_ERROR, 0, NULL, 0), -EINVAL);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_INJECT, -1, NULL, 0), -EINVAL);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), WIRE_APP_CODE_RESULT, 1, vec_code_name, 32), -EINVAL);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), 0, 0, NULL, 0), -EINVAL);
	CHECK_INT(wire_applink_build(buf, sizeof(buf), 7, 0, NULL, 0), -EINVAL);

	struct wire_applink m;
	uint8_t msg[8] = {WIRE_APP_ERROR, 1, 0, 0, 0, 0, 0, 0};
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EBADMSG);
	msg[7] = 0xff; /* positive: not an errno */
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EBADMSG);
	memset(msg + 4, 0xff, 3);
	msg[7] = 0xfe;
	CHECK_INT(wire_applink_parse(msg, 8, &m), 0);
	CHECK_INT(m.status, -2);
	msg[0] = WIRE_APP_CODE_RESULT; /* without its name */
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EBADMSG);
}

static void test_header_errors(void)
{
	uint8_t msg[8] = {WIRE_APP_INJECT, 1, 0, 0, 0, 0, 0, 0};
	struct wire_applink m;

	CHECK_INT(wire_applink_parse(msg, 8, &m), 0);
	for (size_t n = 0; n < 8; n++)
		CHECK_INT(wire_applink_parse(msg, n, &m), -EBADMSG);
	msg[1] = 2;
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EPROTONOSUPPORT);
	msg[1] = 1;
	msg[0] = 0;
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EOPNOTSUPP);
	msg[0] = WIRE_APP_CONCAST_PATH + 1;
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EOPNOTSUPP);
	msg[0] = WIRE_APP_INJECT;
	msg[3] = 1; /* reserved */
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EBADMSG);
	msg[3] = 0;
	msg[4] = 0x80; /* a status on a message that has none */
	CHECK_INT(wire_applink_parse(msg, 8, &m), -EBADMSG);
}

static const struct check_test tests[] = {
    TEST(test_hello_vector),	TEST(test_hello_names),
    TEST(test_hello_malformed), TEST(test_deliver_and_result_vectors),
    TEST(test_opaque_bodies),	TEST(test_status_rules),
    TEST(test_header_errors),
};

CHECK_MAIN(tests)
