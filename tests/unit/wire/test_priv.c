// SPDX-License-Identifier: MIT
/*
 * Unit tests of the privilege separation messages (src/wire/priv.c): a
 * FILTER_ADD written out by hand, octet by octet, from docs/wire.md parses
 * to its fields and builds back the same; every truncation, a longer body,
 * another version, an unknown type, reserved bits, a prefix past 32 and a
 * status a request cannot carry are refused; results carry 0 or -errno.
 */
#include <errno.h>

#include "check.h"
#include "anode/kernel.h"
#include "wire/wire.h"

/* FILTER_ADD id 7: 10.1.0.0/16 -> any, UDP, any source port, dport 3322. */
static const uint8_t add_msg[] = {
	1, 1, 0, 0, 0, 0, 0, 0, /* type, version, reserved, status */
	0, 0, 0, 7, /* id */
	10, 1, 0, 0, 0, 0, 0, 0, /* src, dst */
	16, 0, 17, 0, /* prefixes, proto, reserved */
	0, 0, 0, 0, 0x0c, 0xfa, 0x0c, 0xfa, /* sport lo/hi, dport lo/hi */
};

static void test_add(void)
{
	struct wire_priv m;
	CHECK_INT(wire_priv_parse(add_msg, sizeof(add_msg), &m), 0);
	CHECK_INT(m.type, WIRE_PRIV_FILTER_ADD);
	CHECK_INT(m.id, 7);
	CHECK_MEM(&m.filter.src, add_msg + 12, 4);
	CHECK_INT(m.filter.dst, 0);
	CHECK_INT(m.filter.src_prefix, 16);
	CHECK_INT(m.filter.proto, 17);
	CHECK_INT(m.filter.dport_lo, 3322);
	CHECK_INT(m.filter.dport_hi, 3322);
	uint8_t out[WIRE_PRIV_MSG_MAX];
	CHECK_INT(wire_priv_build(out, sizeof(out), &m), sizeof(add_msg));
	CHECK_MEM(out, add_msg, sizeof(add_msg));
	CHECK_INT(wire_priv_build(out, sizeof(add_msg) - 1, &m), -EMSGSIZE);
}

static void test_refused(void)
{
	struct wire_priv m;
	uint8_t b[64];
	for (size_t n = 0; n < sizeof(add_msg); n++)
		CHECK_INT(wire_priv_parse(add_msg, n, &m), -EBADMSG);
	memcpy(b, add_msg, sizeof(add_msg));
	b[sizeof(add_msg)] = 0;
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg) + 1, &m), -EBADMSG); /* longer body */
	memcpy(b, add_msg, sizeof(add_msg));
	b[1] = 2;
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), -EPROTONOSUPPORT);
	b[1] = 1;
	b[0] = 99;
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), -EOPNOTSUPP);
	b[0] = 0;
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), -EOPNOTSUPP);
	b[0] = 1;
	b[3] = 1; /* reserved */
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), -EBADMSG);
	b[3] = 0;
	b[7] = 0xff; /* a request with a status */
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), -EBADMSG);
	b[7] = 0;
	b[20] = 33; /* prefix */
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), -EBADMSG);
	b[20] = 16;
	b[23] = 1; /* reserved octet of the filter */
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), -EBADMSG);
	b[23] = 0;
	CHECK_INT(wire_priv_parse(b, sizeof(add_msg), &m), 0);
	/* The builder refuses what the parser would. */
	m.filter.dst_prefix = 40;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	m = (struct wire_priv){ .type = 77 };
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	m = (struct wire_priv){ .type = WIRE_PRIV_FILTER_DEL, .status = -EIO };
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
}

static void test_results(void)
{
	struct wire_priv m = { .type = WIRE_PRIV_FILTER_ADDED, .status = -EBUSY, .id = 3 }, r;
	uint8_t b[WIRE_PRIV_MSG_MAX];
	ssize_t n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, WIRE_PRIV_HDR_LEN + 4);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.status, -EBUSY);
	CHECK_INT(r.id, 3);
	m.status = 1; /* results are 0 or negative */
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	b[4] = 0;
	b[5] = 0;
	b[6] = 0;
	b[7] = 1;
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), -EBADMSG);
	m = (struct wire_priv){ .type = WIRE_PRIV_FILTER_DEL, .id = 0xffffffff };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, 12);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.id, 0xffffffff);
}

/* The service messages: a START carries the signed request whole. */
static void test_services(void)
{
	uint8_t req[40], b[WIRE_PRIV_MSG_MAX];
	for (size_t i = 0; i < sizeof(req); i++)
		req[i] = (uint8_t)i;
	struct wire_priv m = { .type = WIRE_PRIV_SVC_START, .id = 9, .request = req, .request_len = sizeof(req) }, r;
	ssize_t n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, WIRE_PRIV_HDR_LEN + 4 + sizeof(req));
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.id, 9);
	CHECK_INT(r.request_len, sizeof(req));
	CHECK(r.request == b + 12);
	CHECK_MEM(r.request, req, sizeof(req));
	CHECK_INT(wire_priv_parse(b, 12, &r), -EBADMSG); /* no request */
	m.request_len = WIRE_SVC_REQUEST_MAX + 1;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	m = (struct wire_priv){ .type = WIRE_PRIV_SVC_STARTED, .id = 2, .status = -EPERM, .value = 1234 };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, 16);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.value, 1234);
	CHECK_INT(r.status, -EPERM);
	m = (struct wire_priv){ .type = WIRE_PRIV_SVC_FREEZE, .id = 2, .value = 2 };
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	m.value = 1;
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	b[15] = 2;
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), -EBADMSG);
	m = (struct wire_priv){ .type = WIRE_PRIV_SVC_ENDED, .id = 2, .value = 0x8b }; /* killed by SIGSEGV, core */
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.value, 0x8b);
	m.status = -1; /* an ENDED is not a result */
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
}

/* The kernel path's messages (src/kern): a name, the node's figures, text. */
static void test_kernel(void)
{
	uint8_t name[36], b[WIRE_PRIV_MSG_MAX], figures[WIRE_PRIV_KNODE_LEN];
	for (size_t i = 0; i < sizeof(name); i++)
		name[i] = (uint8_t)(0xa0 + i);
	/* A name and a soft state bound. */
	struct wire_priv m = { .type = WIRE_PRIV_KERN_LOAD, .id = 5, .data = name, .data_len = 36 }, r;
	ssize_t n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, WIRE_PRIV_HDR_LEN + 4 + 36);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.type, WIRE_PRIV_KERN_LOAD);
	CHECK_INT(r.id, 5);
	CHECK_INT(r.data_len, 36);
	CHECK_MEM(r.data, name, 36);
	CHECK_INT(wire_priv_parse(b, (size_t)n - 1, &r), -EBADMSG);
	m.data_len = 32;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	m = (struct wire_priv){ .type = WIRE_PRIV_KERN_UNLOAD, .data = name, .data_len = 32 };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.type, WIRE_PRIV_KERN_UNLOAD);
	m.status = -EIO; /* a request carries no status */
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	memset(figures, 0x11, sizeof(figures));
	m = (struct wire_priv){ .type = WIRE_PRIV_KERN_NODE, .data = figures, .data_len = sizeof(figures) };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, WIRE_PRIV_HDR_LEN + 4 + WIRE_PRIV_KNODE_LEN);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_MEM(r.data, figures, sizeof(figures));
	/* Text: a verifier's words, with a status; empty is allowed. */
	const char *log = "R0 leaks addr into map";
	m = (struct wire_priv){ .type = WIRE_PRIV_KERN_LOADED, .id = 5, .status = -EINVAL,
				.data = (const uint8_t *)log, .data_len = strlen(log) };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.status, -EINVAL);
	CHECK_INT(r.data_len, strlen(log));
	CHECK_MEM(r.data, log, strlen(log));
	/* A kernel filter: set (its 64 octets) or cleared (none). */
	uint8_t kf[WIRE_PRIV_KFILTER_LEN] = { 0 };
	m = (struct wire_priv){ .type = WIRE_PRIV_KERN_FILTER, .id = 3, .data = kf, .data_len = sizeof(kf) };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.data_len, WIRE_PRIV_KFILTER_LEN);
	m.data_len = 0;
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.data_len, 0);
	m.data_len = 10;
	m.data = kf;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	/* The bodies' layouts both ends use (src/priv/chan.c, parent.c). */
	struct an_kfilter kin = { .src = 0x0102000a, .src_mask = 0xffffff00, .sport_lo = 7, .dport_hi = 7000,
				  .proto = 17, .id = 42 }, kout;
	wire_priv_kfilter_put(kf, name, &kin);
	wire_priv_kfilter_get(kf, &kout);
	CHECK_MEM(kf, name, 32);
	CHECK(kout.src == kin.src && kout.src_mask == kin.src_mask && kout.sport_lo == 7 && kout.dport_hi == 7000 &&
	      kout.proto == 17 && kout.id == 42 && !kout.active);
	CHECK_INT(kf[48 + 6], 7000 >> 8); /* ports big-endian */
	struct an_knode nin = { .max_copies = 16, .flags = AN_KNODE_REDIRECT }, nout;
	nin.local.port = 0x1a0c;
	nin.info[3] = -5;
	wire_priv_knode_put(figures, &nin);
	wire_priv_knode_get(figures, &nout);
	CHECK(nout.local.port == 0x1a0c && nout.max_copies == 16 && nout.flags == AN_KNODE_REDIRECT && nout.info[3] == -5);
	uint8_t kl[WIRE_PRIV_KLOAD_LEN];
	wire_priv_kload_put(kl, name, 300);
	CHECK_INT(wire_priv_kload_state_max(kl), 300);
	m = (struct wire_priv){ .type = WIRE_PRIV_KERN_READY };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, WIRE_PRIV_HDR_LEN + 4);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.data_len, 0);
	m = (struct wire_priv){ .type = WIRE_PRIV_KERN_START, .data = (const uint8_t *)"all", .data_len = 3 };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_MEM(r.data, "all", 3);
	m.data_len = WIRE_PRIV_TEXT_MAX + 1; /* longer than any text */
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	m.data = NULL;
	m.data_len = 4;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
}

/* AF_XDP's messages: KERN_UP (a bare request), KERN_XSK (a kind and its
 * numbers; DONE alone may carry a status and why). */
static void test_kernel_xsk(void)
{
	uint8_t b[WIRE_PRIV_MSG_MAX], d[WIRE_PRIV_KXSK_LEN + 16];
	struct wire_priv m = { .type = WIRE_PRIV_KERN_UP }, r;
	ssize_t n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, WIRE_PRIV_HDR_LEN + 4);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.type, WIRE_PRIV_KERN_UP);
	struct wire_priv_kxsk in = { .kind = WIRE_PRIV_KXSK_SOCKET, .ifindex = 7, .queue = 3, .umem_len = 1u << 22,
				     .frame = 4096 }, out;
	wire_priv_kxsk_put(d, &in);
	CHECK_INT(d[0], WIRE_PRIV_KXSK_SOCKET);
	CHECK_INT(d[7], 7); /* big-endian */
	m = (struct wire_priv){ .type = WIRE_PRIV_KERN_XSK, .id = 2, .data = d, .data_len = WIRE_PRIV_KXSK_LEN };
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(n, WIRE_PRIV_HDR_LEN + 4 + WIRE_PRIV_KXSK_LEN);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.id, 2);
	wire_priv_kxsk_get(r.data, &out);
	CHECK(out.kind == in.kind && out.ifindex == 7 && out.queue == 3 && out.umem_len == 1u << 22 && out.frame == 4096);
	/* Only DONE says how it went, and why. */
	m.status = -EBUSY;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	memcpy(d + WIRE_PRIV_KXSK_LEN, "r2 is busy", 10);
	m.data_len = WIRE_PRIV_KXSK_LEN + 10;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	d[0] = WIRE_PRIV_KXSK_DONE;
	n = wire_priv_build(b, sizeof(b), &m);
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), 0);
	CHECK_INT(r.status, -EBUSY);
	CHECK_MEM(r.data + WIRE_PRIV_KXSK_LEN, "r2 is busy", 10);
	/* What the parser refuses: an unknown kind, reserved octets, a short body. */
	d[0] = WIRE_PRIV_KXSK_DONE + 1;
	CHECK_INT(wire_priv_build(b, sizeof(b), &m), -EINVAL);
	d[0] = WIRE_PRIV_KXSK_DONE;
	n = wire_priv_build(b, sizeof(b), &m);
	b[WIRE_PRIV_HDR_LEN + 4] = WIRE_PRIV_KXSK_DONE + 1;
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), -EBADMSG);
	b[WIRE_PRIV_HDR_LEN + 4] = WIRE_PRIV_KXSK_DONE;
	b[WIRE_PRIV_HDR_LEN + 5] = 1;
	CHECK_INT(wire_priv_parse(b, (size_t)n, &r), -EBADMSG);
	CHECK_INT(wire_priv_parse(b, WIRE_PRIV_HDR_LEN + 4 + WIRE_PRIV_KXSK_LEN - 1, &r), -EBADMSG);
}

static const struct check_test tests[] = {
	TEST(test_kernel),
	TEST(test_kernel_xsk),
	TEST(test_add),
	TEST(test_refused),
	TEST(test_results),
	TEST(test_services),
};

CHECK_MAIN(tests)
