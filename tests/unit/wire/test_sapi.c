// SPDX-License-Identifier: MIT
/*
 * Unit tests of the service API records (src/wire/svcapi.c): a FILTER_ADD
 * written out by hand from docs/wire.md §5c parses to its fields; every
 * type builds and parses back; refusals: truncation, another version, an
 * unknown type, a status on a request, text that is not printable, a
 * packet shorter than an IPv4 header, a verdict with a packet that is not
 * MODIFIED, and a MODIFIED without one.
 */
#include <errno.h>

#include "check.h"
#include "wire/wire.h"

static const uint8_t add_msg[] = {
	2, 1, 0, 0, 0, 0, 0, 0, /* FILTER_ADD, version 1 */
	0, 0, 0, 7, /* tag */
	10, 1, 0, 0, 0, 0, 0, 0, /* src, dst */
	16, 0, 17, 0, /* prefixes, proto, reserved */
	0, 0, 0, 0, 0x13, 0x88, 0x17, 0x70, /* sport any, dport 5000-6000 */
};

static void test_filter_add(void)
{
	struct wire_sapi m;
	CHECK_INT(wire_sapi_parse(add_msg, sizeof(add_msg), &m), 0);
	CHECK_INT(m.tag, 7);
	CHECK_INT(m.filter.src_prefix, 16);
	CHECK_INT(m.filter.proto, 17);
	CHECK_INT(m.filter.dport_lo, 5000);
	CHECK_INT(m.filter.dport_hi, 6000);
	uint8_t b[WIRE_SAPI_MSG_MAX];
	CHECK_INT(wire_sapi_build(b, sizeof(b), &m), sizeof(add_msg));
	CHECK_MEM(b, add_msg, sizeof(add_msg));
	for (size_t n = 0; n < sizeof(add_msg); n++)
		CHECK(wire_sapi_parse(add_msg, n, &m) < 0);
}

static void round_trip(const struct wire_sapi *m)
{
	static uint8_t b[WIRE_SAPI_MSG_MAX];
	struct wire_sapi r;
	ssize_t n = wire_sapi_build(b, sizeof(b), m);
	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_INT(wire_sapi_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.type, m->type);
	CHECK_INT(r.status, m->status);
	CHECK_INT(r.tag, m->tag);
	CHECK_INT(r.handle, m->handle);
	CHECK_INT(r.packet_id, m->packet_id);
	CHECK_INT(r.verdict, m->verdict);
	CHECK_INT(r.data_len, m->data_len);
	if (m->data_len)
		CHECK_MEM(r.data, m->data, m->data_len);
}

static void test_types(void)
{
	static const uint8_t ip[28] = { 0x45, 0, 0, 28 };
	const char *spec = "iface_tx_bps dev=eth0 idle=0-5000000 congested=5000000-";
	struct wire_sapi ms[] = {
		{ .type = WIRE_SAPI_PARAMS, .data = (const uint8_t *)"size=64M", .data_len = 8 },
		{ .type = WIRE_SAPI_PARAMS },
		{ .type = WIRE_SAPI_FILTER_RESULT, .tag = 7, .handle = 3, .status = -EPERM },
		{ .type = WIRE_SAPI_FILTER_DEL, .handle = 3 },
		{ .type = WIRE_SAPI_PACKET, .handle = 3, .packet_id = 99, .data = ip, .data_len = sizeof(ip) },
		{ .type = WIRE_SAPI_VERDICT, .packet_id = 99, .verdict = WIRE_SAPI_DROP },
		{ .type = WIRE_SAPI_VERDICT, .packet_id = 99, .verdict = WIRE_SAPI_MODIFIED, .data = ip, .data_len = 28 },
		{ .type = WIRE_SAPI_SUBSCRIBE, .tag = 1, .data = (const uint8_t *)spec, .data_len = strlen(spec) },
		{ .type = WIRE_SAPI_SUB_RESULT, .tag = 1, .handle = 4 },
		{ .type = WIRE_SAPI_UNSUBSCRIBE, .handle = 4 },
		{ .type = WIRE_SAPI_EVENT, .handle = 4, .data = (const uint8_t *)"state=congested", .data_len = 15 },
		{ .type = WIRE_SAPI_PUBLISH, .data = (const uint8_t *)"level 42", .data_len = 8 },
	};
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
		round_trip(&ms[i]);
}

static void test_refused(void)
{
	static const uint8_t ip[28] = { 0x45 };
	uint8_t b[WIRE_SAPI_MSG_MAX];
	struct wire_sapi m;
	memcpy(b, add_msg, sizeof(add_msg));
	b[1] = 2;
	CHECK_INT(wire_sapi_parse(b, sizeof(add_msg), &m), -EPROTONOSUPPORT);
	b[1] = 1;
	b[0] = 42;
	CHECK_INT(wire_sapi_parse(b, sizeof(add_msg), &m), -EOPNOTSUPP);
	b[0] = 2;
	b[7] = 1; /* a status on a request */
	CHECK_INT(wire_sapi_parse(b, sizeof(add_msg), &m), -EBADMSG);
	b[7] = 0;
	b[20] = 40; /* prefix */
	CHECK_INT(wire_sapi_parse(b, sizeof(add_msg), &m), -EBADMSG);
	struct wire_sapi bad[] = {
		{ .type = WIRE_SAPI_PARAMS, .data = (const uint8_t *)"a\tb", .data_len = 3 },
		{ .type = WIRE_SAPI_PACKET, .handle = 1, .data = ip, .data_len = 19 },
		{ .type = WIRE_SAPI_VERDICT, .verdict = WIRE_SAPI_ACCEPT, .data = ip, .data_len = 28 },
		{ .type = WIRE_SAPI_VERDICT, .verdict = WIRE_SAPI_MODIFIED },
		{ .type = WIRE_SAPI_VERDICT, .verdict = 3 },
		{ .type = WIRE_SAPI_SUBSCRIBE, .tag = 1 }, /* no spec */
		{ .type = WIRE_SAPI_FILTER_DEL, .status = -1 }, /* a request with a status */
		{ .type = WIRE_SAPI_PUBLISH, .data = (const uint8_t *)"ab", .data_len = 2 }, /* too short */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(wire_sapi_build(b, sizeof(b), &bad[i]), -EINVAL);
}

static const struct check_test tests[] = {
	TEST(test_filter_add),
	TEST(test_types),
	TEST(test_refused),
};

CHECK_MAIN(tests)
