/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the concast formats (src/wire/concast.c, docs/wire.md §9):
 * the RMS vector (with its nonce) octet for octet, build/parse round trips of data and of
 * every signalling type, every truncation refused, each decoder rule, and
 * the concast application link messages.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "wire/wire.h"

static const struct an_addr n1 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1}, .port = 0xfa0c};
static const struct an_addr n2 = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2}, .port = 0xfa0c};
static const struct an_flow flow = {
	.group = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 232, [13] = 1, [14] = 2, [15] = 3}},
	.receiver = {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [15] = 2}, .port = 0xfa0c},
	.app_id = 0x11000d05,
};

/* docs/wire.md §9, vector 10: RMS from 10.0.0.1:3322 for the flow above. */
static const uint8_t rms_vector[] = {
	0x01, 0x00, 0x41, 0x06, 0x00, 0x10, 0x00, 0x7c, /* ANEP: type 0x4106, 16 words, 124 octets */
	0x00, 0x01, 0x00, 0x06, 0x00, 0x06, 0x0c, 0xfa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1,
	0x00, 0x02, 0x00, 0x06, 0x00, 0x06, 0x0c, 0xfa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2,
	0x01, 0x01, 0x00, 0x02, 0x40, 0x00, 0x00, 0x00, /* hop limit 64, copies 0 */
	0x01, 0x00, 0x00, 0x00, /* RMS, code 0, reserved */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 232, 1, 2, 3, /* group */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2, 0x0c, 0xfa, 0x00, 0x00, /* receiver */
	0x11, 0x00, 0x0d, 0x05, /* app id */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* the sending node's nonce */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* no cookie yet */
};
static const uint8_t nonce_vector[WIRE_CSP_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8};

static int parse_csp(const uint8_t *pkt, size_t len, struct wire_csp *c)
{
	struct wire_anep a;
	int e = wire_anep_parse(pkt, len, &a);
	return e < 0 ? e : wire_csp_parse(pkt, len, &a, c);
}

static int parse_data(const uint8_t *pkt, size_t len, struct wire_concast_data *d)
{
	struct wire_anep a;
	int e = wire_anep_parse(pkt, len, &a);
	return e < 0 ? e : wire_concast_data_parse(pkt, len, &a, d);
}

static void test_rms_vector(void)
{
	uint8_t buf[256];
	size_t len;
	struct wire_anep_spec spec = {.src = &n1, .dst = &flow.receiver};
	struct wire_csp_spec c = {.type = WIRE_CSP_RMS, .flow = &flow, .nonce = nonce_vector};
	CHECK_INT(wire_csp_build(buf, sizeof(buf), &spec, &c, &len), 0);
	CHECK_INT((int)len, (int)sizeof(rms_vector));
	CHECK_MEM(buf, rms_vector, sizeof(rms_vector));
	struct wire_csp got;
	CHECK_INT(parse_csp(rms_vector, sizeof(rms_vector), &got), 0);
	CHECK_INT(got.type, WIRE_CSP_RMS);
	CHECK_MEM(&got.flow, &flow, sizeof(flow));
	CHECK_MEM(got.nonce, nonce_vector, sizeof(nonce_vector));
	/* Every truncation is refused (by ANEP, or by the body's rules). */
	for (size_t n = 0; n < sizeof(rms_vector); n++)
		CHECK(parse_csp(rms_vector, n, &got) < 0);
}

/* The receiver's admission: 10.200.0.0/16 and 2001:db8::/32. */
static const struct an_prefix admit[2] = {
    {.ip = {[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 200}, .len = 112},
    {.ip = {0x20, 0x01, 0x0d, 0xb8}, .len = 32},
};

static void test_csp_round_trips(void)
{
	uint8_t buf[512], name[32];
	memset(name, 0xab, sizeof(name));
	const char *text = "the receiver left";
	struct wire_csp_spec specs[] = {
		{.type = WIRE_CSP_RMS, .flow = &flow, .nonce = nonce_vector},
		{.type = WIRE_CSP_KEEPALIVE, .flow = &flow, .nonce = nonce_vector},
		{.type = WIRE_CSP_MS, .flow = &flow, .nonce = nonce_vector, .spec = name, .spec_len = 2904},
		{.type = WIRE_CSP_ERROR, .code = WIRE_CSP_ERR_RECEIVER_LEFT, .flow = &flow, .nonce = nonce_vector,
		 .text = text, .text_len = strlen(text)},
		{.type = WIRE_CSP_ERROR, .code = WIRE_CSP_ERR_NO_SPEC, .flow = &flow, .nonce = nonce_vector},
		{.type = WIRE_CSP_CHALLENGE, .flow = &flow, .nonce = nonce_vector, .cookie = nonce_vector},
		{.type = WIRE_CSP_MS, .flow = &flow, .nonce = nonce_vector, .spec = name, .spec_len = 2904,
		 .admit = admit, .n_admit = 2},
		{.type = WIRE_CSP_PATH, .flow = &flow, .nonce = nonce_vector, .path = WIRE_CSP_PATH_LOST},
		{.type = WIRE_CSP_PATH, .flow = &flow, .nonce = nonce_vector, .path = WIRE_CSP_PATH_RESTORED},
	};
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		bool up = specs[i].type == WIRE_CSP_MS || specs[i].type == WIRE_CSP_ERROR || specs[i].type == WIRE_CSP_PATH;
		struct wire_anep_spec a = {.src = up ? &n2 : &n1, .dst = up ? &n1 : &flow.receiver};
		size_t len;
		CHECK_INT(wire_csp_build(buf, sizeof(buf), &a, &specs[i], &len), 0);
		struct wire_csp c;
		CHECK_INT(parse_csp(buf, len, &c), 0);
		CHECK_INT(c.type, specs[i].type);
		CHECK_INT(c.code, specs[i].code);
		CHECK_MEM(&c.flow, &flow, sizeof(flow));
		CHECK_MEM(c.nonce, nonce_vector, sizeof(nonce_vector));
		if (c.type == WIRE_CSP_CHALLENGE)
			CHECK_MEM(c.cookie, nonce_vector, sizeof(nonce_vector));
		CHECK_INT(c.path, specs[i].path);
		if (c.type == WIRE_CSP_MS) {
			CHECK_MEM(c.spec, name, 32);
			CHECK_INT((int)c.spec_len, 2904);
			CHECK_INT(c.n_admit, (int)specs[i].n_admit);
			/* ANEP header with SRC and DST (64), the CSP header, the body. */
			CHECK_INT((int)len, 64 + WIRE_CSP_HDR_LEN + WIRE_CSP_MS_BODY + 17 * c.n_admit);
			if (c.n_admit)
				CHECK_MEM(c.admit, admit, sizeof(admit));
		}
		if (c.type == WIRE_CSP_ERROR) {
			CHECK_INT(c.text_len, (int)specs[i].text_len);
			if (c.text_len)
				CHECK_MEM(buf + c.text_off, text, c.text_len);
		}
		for (size_t n = 0; n < len; n++)
			CHECK(parse_csp(buf, n, &c) < 0);
	}
}

static void test_csp_rules(void)
{
	uint8_t buf[512];
	size_t len, body;
	struct wire_csp c;
	struct wire_anep_spec a = {.src = &n1, .dst = &flow.receiver};
	struct wire_csp_spec s = {.type = WIRE_CSP_RMS, .flow = &flow};
	CHECK_INT(wire_csp_build(buf, sizeof(buf), &a, &s, &len), 0);
	body = len - WIRE_CSP_HDR_LEN - WIRE_CSP_NONCE_LEN - WIRE_CSP_COOKIE_LEN; /* where the signalling header starts */
	/* Unknown type, nonzero code, reserved field. */
	buf[body] = 9;
	CHECK_INT(parse_csp(buf, len, &c), -EBADMSG);
	buf[body] = WIRE_CSP_RMS;
	buf[body + 1] = 1;
	CHECK_INT(parse_csp(buf, len, &c), -EBADMSG);
	buf[body + 1] = 0;
	buf[body + 3] = 1;
	CHECK_INT(parse_csp(buf, len, &c), -EBADMSG);
	buf[body + 3] = 0;
	/* A receiver whose zero field is not zero. */
	buf[body + 4 + 16 + 18] = 1;
	CHECK_INT(parse_csp(buf, len, &c), -EBADMSG);
	buf[body + 4 + 16 + 18] = 0;
	CHECK_INT(parse_csp(buf, len, &c), 0);
	/* RMS toward anyone but the flow's receiver. */
	struct wire_anep_spec wrong = {.src = &n1, .dst = &n1};
	CHECK_INT(wire_csp_build(buf, sizeof(buf), &wrong, &s, &len), 0);
	CHECK_INT(parse_csp(buf, len, &c), -EBADMSG);
	/* Without SRC: nobody to answer. */
	struct wire_anep_spec nosrc = {.dst = &flow.receiver};
	CHECK_INT(wire_csp_build(buf, sizeof(buf), &nosrc, &s, &len), -EINVAL);
	/* The builder refuses what the decoder would. */
	struct wire_csp_spec bad[] = {
		{.type = 0, .flow = &flow},
		{.type = 6, .flow = &flow},
		{.type = WIRE_CSP_RMS, .code = 1, .flow = &flow},
		{.type = WIRE_CSP_MS, .flow = &flow, .spec = NULL, .spec_len = 10},
		{.type = WIRE_CSP_MS, .flow = &flow, .spec = buf, .spec_len = 0},
		{.type = WIRE_CSP_MS, .flow = &flow, .spec = buf, .spec_len = WIRE_CODE_MAX + 1},
		{.type = WIRE_CSP_ERROR, .code = 0, .flow = &flow},
		{.type = WIRE_CSP_ERROR, .code = WIRE_CSP_ERR_LAST + 1, .flow = &flow},
		{.type = WIRE_CSP_ERROR, .code = 1, .flow = &flow, .text = "x", .text_len = WIRE_CSP_TEXT_MAX + 1},
	};
	uint8_t out[1024];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(wire_csp_build(out, sizeof(out), &a, &bad[i], &len), -EINVAL);
	/* An ERROR with text over the bound, crafted: refused. */
	char text[WIRE_CSP_TEXT_MAX];
	memset(text, 'x', sizeof(text));
	struct wire_csp_spec e = {.type = WIRE_CSP_ERROR, .code = 2, .flow = &flow, .text = text, .text_len = sizeof(text)};
	CHECK_INT(wire_csp_build(out, sizeof(out), &a, &e, &len), 0);
	CHECK_INT(parse_csp(out, len, &c), 0);
	out[len] = 'x';
	out[7] = (uint8_t)(len + 1); /* one more octet of text: ANEP packet length */
	out[6] = (uint8_t)((len + 1) >> 8);
	CHECK_INT(parse_csp(out, len + 1, &c), -EBADMSG);
	/* An MS with an extra octet. */
	uint8_t name[32] = {1};
	struct wire_csp_spec ms = {.type = WIRE_CSP_MS, .flow = &flow, .spec = name, .spec_len = 100};
	CHECK_INT(wire_csp_build(out, sizeof(out), &a, &ms, &len), 0);
	out[len] = 0;
	out[7] = (uint8_t)(len + 1);
	out[6] = (uint8_t)((len + 1) >> 8);
	CHECK_INT(parse_csp(out, len + 1, &c), -EBADMSG);
	/* MS admission: at most 8 prefixes, each a prefix (no bit past its
	 * length), and exactly as many as it counts. */
	struct an_prefix many[9];
	for (int i = 0; i < 9; i++)
		many[i] = admit[0];
	ms.admit = many;
	ms.n_admit = 9;
	CHECK_INT(wire_csp_build(out, sizeof(out), &a, &ms, &len), -EINVAL);
	ms.n_admit = 8;
	CHECK_INT(wire_csp_build(out, sizeof(out), &a, &ms, &len), 0);
	CHECK_INT(parse_csp(out, len, &c), 0);
	CHECK_INT(c.n_admit, 8);
	size_t count_at = len - 8 * 17 - 1;
	out[count_at] = 9; /* claims one more than it carries */
	CHECK_INT(parse_csp(out, len, &c), -EBADMSG);
	out[count_at] = 7; /* one fewer */
	CHECK_INT(parse_csp(out, len, &c), -EBADMSG);
	out[count_at] = 8;
	out[len - 1] = 129; /* a length past 128 */
	CHECK_INT(parse_csp(out, len, &c), -EBADMSG);
	out[len - 1] = 104; /* 10.200.0.0/8: bits set past it */
	CHECK_INT(parse_csp(out, len, &c), -EBADMSG);
	many[0].len = 104;
	ms.n_admit = 1;
	CHECK_INT(wire_csp_build(out, sizeof(out), &a, &ms, &len), -EINVAL);
	/* PATH: one octet, lost (1) or restored (2). */
	struct wire_csp_spec path = {.type = WIRE_CSP_PATH, .flow = &flow, .path = 3};
	CHECK_INT(wire_csp_build(out, sizeof(out), &a, &path, &len), -EINVAL);
	path.path = WIRE_CSP_PATH_LOST;
	CHECK_INT(wire_csp_build(out, sizeof(out), &a, &path, &len), 0);
	out[len - 1] = 0;
	CHECK_INT(parse_csp(out, len, &c), -EBADMSG);
	/* Another Type ID is not a signalling message. */
	struct wire_anep an;
	CHECK_INT(wire_anep_parse(rms_vector, sizeof(rms_vector), &an), 0);
	an.type_id = WIRE_TYPE_CONCAST_DATA;
	CHECK_INT(wire_csp_parse(rms_vector, sizeof(rms_vector), &an, &c), -EINVAL);
}

static void test_data(void)
{
	uint8_t buf[2048], msg[WIRE_CONCAST_MSG_MAX + 1];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7);
	struct wire_anep_spec a = {0};
	size_t len;
	struct wire_concast_data d;
	for (size_t n = 0; n <= WIRE_CONCAST_MSG_MAX; n += 341) {
		CHECK_INT(wire_concast_data_build(buf, sizeof(buf), &a, &flow, msg, n, &len), 0);
		CHECK_INT(parse_data(buf, len, &d), 0);
		CHECK_MEM(&d.flow, &flow, sizeof(flow));
		CHECK_INT(d.msg_len, (int)n);
		CHECK_MEM(buf + d.msg_off, msg, n);
		for (size_t k = 0; k < len - n; k++)
			CHECK(parse_data(buf, k, &d) < 0);
	}
	CHECK_INT(wire_concast_data_build(buf, sizeof(buf), &a, &flow, msg, WIRE_CONCAST_MSG_MAX + 1, &len), -EMSGSIZE);
	CHECK_INT(wire_concast_data_build(buf, 60, &a, &flow, msg, 100, &len), -EMSGSIZE);
	/* DST must be the flow's receiver. */
	struct wire_anep_spec other = {.dst = &n1};
	CHECK_INT(wire_concast_data_build(buf, sizeof(buf), &other, &flow, msg, 10, &len), 0);
	CHECK_INT(parse_data(buf, len, &d), 0); /* the builder sets DST itself */
	struct wire_anep an;
	CHECK_INT(wire_anep_parse(buf, len, &an), 0);
	an.dst = n1;
	CHECK_INT(wire_concast_data_parse(buf, len, &an, &d), -EBADMSG);
}

static void test_applink(void)
{
	uint8_t body[WIRE_FLOW_LEN + 300] = {0}, msg[2048];
	struct wire_applink m;
	CHECK_INT(wire_flow_write(body, sizeof(body), &flow), 0);
	ssize_t n;
	/* JOIN and LEAVE: the flow alone. */
	n = wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_JOIN, 0, body, WIRE_FLOW_LEN);
	CHECK(n > 0);
	CHECK_INT(wire_applink_parse(msg, (size_t)n, &m), 0);
	CHECK_MEM(&m.flow, &flow, sizeof(flow));
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_LEAVE, 0, body, WIRE_FLOW_LEN + 1), -EINVAL);
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_JOIN, 0, body, WIRE_FLOW_LEN - 1), -EINVAL);
	/* SET_MERGE needs code; SEND may be empty. */
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_SET_MERGE, 0, body, WIRE_FLOW_LEN), -EINVAL);
	CHECK(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_SET_MERGE, 0, body, WIRE_FLOW_LEN + 5) > 0);
	CHECK(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_SEND, 0, body, WIRE_FLOW_LEN) > 0);
	/* SET_MERGE with an admission: a count, the prefixes, then code. */
	body[WIRE_FLOW_LEN] = 1;
	memcpy(body + WIRE_FLOW_LEN + 1, admit[1].ip, 16);
	body[WIRE_FLOW_LEN + 17] = admit[1].len;
	memcpy(body + WIRE_FLOW_LEN + 18, "\x7f" "ELF", 4);
	n = wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_SET_MERGE, 0, body, WIRE_FLOW_LEN + 22);
	CHECK(n > 0);
	CHECK_INT(wire_applink_parse(msg, (size_t)n, &m), 0);
	CHECK_INT(m.n_admit, 1);
	CHECK_MEM(&m.admit[0], &admit[1], sizeof(admit[1]));
	CHECK_INT((int)m.elf_len, 4);
	CHECK_MEM(m.elf, "\x7f" "ELF", 4);
	/* ... no code after the prefixes, too many prefixes, a bad one. */
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_SET_MERGE, 0, body, WIRE_FLOW_LEN + 18),
		  -EINVAL);
	body[WIRE_FLOW_LEN] = 9;
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_SET_MERGE, 0, body, WIRE_FLOW_LEN + 22),
		  -EINVAL);
	body[WIRE_FLOW_LEN] = 1;
	body[WIRE_FLOW_LEN + 17] = 16; /* 2001:db8::/16 has bits past 16 */
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_SET_MERGE, 0, body, WIRE_FLOW_LEN + 22),
		  -EINVAL);
	memset(body + WIRE_FLOW_LEN, 0, 22);
	/* PATH: the flow, lost or restored, at most 200 octets of text. */
	body[WIRE_FLOW_LEN] = WIRE_CSP_PATH_LOST;
	n = wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_PATH, 0, body, WIRE_FLOW_LEN + 1 + 200);
	CHECK(n > 0);
	CHECK_INT(wire_applink_parse(msg, (size_t)n, &m), 0);
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_PATH, 0, body, WIRE_FLOW_LEN + 1 + 201),
		  -EINVAL);
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_PATH, 0, body, WIRE_FLOW_LEN), -EINVAL);
	body[WIRE_FLOW_LEN] = 3;
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_PATH, 0, body, WIRE_FLOW_LEN + 1), -EINVAL);
	body[WIRE_FLOW_LEN] = 0;
	/* STATUS: the flow, a name, at most 200 octets of text, status <= 0. */
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_STATUS, 0, body, WIRE_FLOW_LEN + 31), -EINVAL);
	n = wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_STATUS, -ENOENT, body, WIRE_FLOW_LEN + 32 + 200);
	CHECK(n > 0);
	CHECK_INT(wire_applink_parse(msg, (size_t)n, &m), 0);
	CHECK_INT(m.status, -ENOENT);
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_STATUS, 0, body, WIRE_FLOW_LEN + 233), -EINVAL);
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_STATUS, 1, body, WIRE_FLOW_LEN + 32), -EINVAL);
	/* A receiver whose zero field is not zero. */
	body[16 + 18] = 1;
	CHECK_INT(wire_applink_build(msg, sizeof(msg), WIRE_APP_CONCAST_JOIN, 0, body, WIRE_FLOW_LEN), -EINVAL);
}

static void test_ipv4(void)
{
	uint8_t buf[256];
	size_t hl;
	uint32_t src = 0x010012c6, dst = 0x0600c80a; /* 198.18.0.1, 10.200.0.6 in network order */
	CHECK_INT(wire_ipv4_concast_build(buf, sizeof(buf), src, dst, 0x11000d05, true, 100, &hl), 0);
	CHECK_INT((int)hl, 32);
	static const uint8_t want[] = {
		0x48, 0, 0, 132, 0, 0, 0x40, 0, 64, 253, 0, 0, 198, 18, 0, 1, 10, 200, 0, 6,
		148, 4, 0, 0, /* Router Alert */
		0x9e, 6, 0x11, 0x00, 0x0d, 0x05, /* AppID */
		1, 0, /* NOP, EOL */
	};
	CHECK_MEM(buf, want, 10);
	CHECK_MEM(buf + 12, want + 12, sizeof(want) - 12);
	/* The header checksum sums to zero. */
	CHECK_INT(wire_csum_fold(wire_csum_add(0, buf, hl)), 0xffff);
	memset(buf + hl, 0xaa, 100);
	struct wire_ipv4_concast c;
	CHECK_INT(wire_ipv4_concast_parse(buf, hl + 100, &c), 0);
	CHECK(c.router_alert && c.has_app_id);
	CHECK_INT((int)c.app_id, 0x11000d05);
	CHECK_INT(c.payload_off, 32);
	CHECK_INT(c.payload_len, 100);
	CHECK_INT((int)c.src, (int)src);
	for (size_t n = 0; n < hl + 100; n++)
		CHECK(wire_ipv4_concast_parse(buf, n, &c) < 0);
	/* Without Router Alert: 28 octets. */
	CHECK_INT(wire_ipv4_concast_build(buf, sizeof(buf), src, dst, 9, false, 0, &hl), 0);
	CHECK_INT((int)hl, 28);
	CHECK_INT(wire_ipv4_concast_parse(buf, hl, &c), 0);
	CHECK(!c.router_alert && c.has_app_id && c.app_id == 9);
	/* Rules: another protocol, a fragment, an option past the header,
	 * AppID of the wrong length or twice. */
	CHECK_INT(wire_ipv4_concast_build(buf, sizeof(buf), src, dst, 9, true, 0, &hl), 0);
	buf[9] = 17;
	CHECK_INT(wire_ipv4_concast_parse(buf, hl, &c), -EPROTONOSUPPORT);
	buf[9] = 253;
	buf[7] = 1;
	CHECK_INT(wire_ipv4_concast_parse(buf, hl, &c), -EPROTONOSUPPORT);
	buf[7] = 0;
	buf[25] = 7;
	CHECK_INT(wire_ipv4_concast_parse(buf, hl, &c), -EBADMSG);
	buf[25] = 5;
	CHECK_INT(wire_ipv4_concast_parse(buf, hl, &c), -EBADMSG);
	buf[25] = 6;
	buf[20] = 0x9e;
	buf[21] = 4;
	CHECK_INT(wire_ipv4_concast_parse(buf, hl, &c), -EBADMSG);
	CHECK_INT(wire_ipv4_concast_build(buf, 20, src, dst, 9, true, 0, &hl), -EMSGSIZE);
}

static const struct check_test tests[] = {
    TEST(test_ipv4),
    TEST(test_rms_vector), TEST(test_csp_round_trips), TEST(test_csp_rules), TEST(test_data), TEST(test_applink),
};

int main(void)
{
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
