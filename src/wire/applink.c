/* SPDX-License-Identifier: MIT */
/*
 * Application link messages: the records that libanode and the node exchange
 * over an AF_UNIX SOCK_SEQPACKET socket, one message per record, so a
 * message's length is the record's length and needs no field of its own.
 * An 8-octet header (type, version, reserved, status) and a body whose
 * layout depends on the type. Builders go through the same body check as the
 * parser, so the node never sends what it would itself reject.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

#define HELLO_FIXED_LEN (8 + 20) /* handle, address; the name follows */
#define CODE_NAME_LEN 32

/* Status rules: messages that report an outcome carry 0 or a negative errno
 * (ERROR: always negative); the others carry 0. */
static bool status_ok(uint8_t type, int32_t status)
{
	switch (type) {
	case WIRE_APP_CODE_RESULT:
	case WIRE_APP_CONCAST_STATUS:
		return status <= 0;
	case WIRE_APP_ERROR:
		return status < 0;
	default:
		return status == 0;
	}
}

static bool type_known(uint8_t type)
{
	return type >= WIRE_APP_HELLO && type <= WIRE_APP_CONCAST_PATH;
}

/* Decode the body of a message whose header is valid into m. */
static int parse_body(uint8_t type, const uint8_t *body, size_t len, struct wire_applink *m)
{
	struct wire_reader r;
	const uint8_t *name;
	size_t name_len, n;

	wire_rd_init(&r, body, len);
	switch (type) {
	case WIRE_APP_HELLO:
		m->handle = wire_rd_n64(&r);
		if (!wire_rd_addr(&r, &m->addr) || r.err)
			return -EBADMSG;
		/* The name field is the rest: up to 64 octets, the name ends at
		 * the first NUL (or at the end of the field) and only NULs may
		 * follow it. */
		name_len = wire_rd_left(&r);
		if (name_len > WIRE_APPLINK_NAME_MAX)
			return -EBADMSG;
		name = wire_rd_take(&r, name_len);
		n = name_len ? strnlen((const char *)name, name_len) : 0;
		for (size_t i = n; i < name_len; i++)
			if (name[i])
				return -EBADMSG;
		if (n)
			memcpy(m->name, name, n);
		m->name[n] = '\0';
		return 0;
	case WIRE_APP_DELIVER:
	case WIRE_APP_CODE_RESULT:
		wire_rd_copy(&r, m->code, sizeof(m->code));
		if (r.err)
			return -EBADMSG;
		/* A refusal may say why, in text after the name. */
		if (type == WIRE_APP_CODE_RESULT && (wire_rd_left(&r) > WIRE_APPLINK_REASON_MAX ||
						     (m->status == 0 && wire_rd_left(&r) != 0)))
			return -EBADMSG;
		return 0;
	case WIRE_APP_CONCAST_JOIN:
	case WIRE_APP_CONCAST_LEAVE:
	case WIRE_APP_CONCAST_SET_MERGE:
	case WIRE_APP_CONCAST_SEND:
	case WIRE_APP_CONCAST_STATUS:
	case WIRE_APP_CONCAST_DELIVER:
	case WIRE_APP_CONCAST_PATH:
		/* Every concast message starts with its flow (§9). */
		if (wire_flow_parse(body, len, &m->flow) < 0 || m->flow.group.port != 0)
			return -EBADMSG;
		n = len - WIRE_FLOW_LEN;
		if ((type == WIRE_APP_CONCAST_JOIN || type == WIRE_APP_CONCAST_LEAVE) && n != 0)
			return -EBADMSG;
		if (type == WIRE_APP_CONCAST_SET_MERGE) {
			/* The admitted prefixes, then the ELF. */
			struct wire_reader a;
			wire_rd_init(&a, body + WIRE_FLOW_LEN, n);
			m->n_admit = wire_rd_u8(&a);
			if (a.err || m->n_admit > AN_CONCAST_ADMIT_MAX)
				return -EBADMSG;
			for (unsigned i = 0; i < m->n_admit; i++) {
				wire_rd_copy(&a, m->admit[i].ip, sizeof(m->admit[i].ip));
				m->admit[i].len = wire_rd_u8(&a);
				if (a.err || !wire_prefix_valid(&m->admit[i]))
					return -EBADMSG;
			}
			m->elf_len = wire_rd_left(&a);
			m->elf = body + WIRE_FLOW_LEN + a.off;
			if (m->elf_len == 0 || m->elf_len > WIRE_CODE_MAX)
				return -EBADMSG;
		}
		if ((type == WIRE_APP_CONCAST_SEND || type == WIRE_APP_CONCAST_DELIVER) && n > WIRE_CONCAST_MSG_MAX)
			return -EBADMSG;
		/* PATH: the flow, lost or restored, and text. */
		if (type == WIRE_APP_CONCAST_PATH &&
		    (n < 1 || n - 1 > WIRE_APPLINK_REASON_MAX ||
		     (body[WIRE_FLOW_LEN] != WIRE_CSP_PATH_LOST && body[WIRE_FLOW_LEN] != WIRE_CSP_PATH_RESTORED)))
			return -EBADMSG;
		/* STATUS: the flow, the specification's name, and text. */
		if (type == WIRE_APP_CONCAST_STATUS) {
			if (n < CODE_NAME_LEN || n - CODE_NAME_LEN > WIRE_APPLINK_REASON_MAX)
				return -EBADMSG;
			memcpy(m->code, body + WIRE_FLOW_LEN, CODE_NAME_LEN);
		}
		return 0;
	case WIRE_APP_INJECT:
	case WIRE_APP_CODE_INSERT:
	case WIRE_APP_ERROR:
		/* Opaque here: the ANEP packet and the ELF object are checked by
		 * the parts that use them, the error text is only ever shown. */
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

int wire_applink_parse(const void *msg, size_t len, struct wire_applink *ret)
{
	struct wire_reader r;
	struct wire_applink m;
	struct wire_rec_hdr h;
	int e = -EBADMSG;

	memset(&m, 0, sizeof(m));
	wire_rd_init(&r, msg, len);
	if (!wire_rd_rec_hdr(&r, &h))
		goto fail;
	m.type = h.type;
	m.status = h.status;
	if (h.version != WIRE_APPLINK_VERSION) {
		e = -EPROTONOSUPPORT;
		goto fail;
	}
	if (!type_known(m.type)) {
		e = -EOPNOTSUPP;
		goto fail;
	}
	if (h.reserved != 0 || !status_ok(m.type, m.status))
		goto fail;
	m.body_len = wire_rd_left(&r);
	m.body = m.body_len ? wire_rd_take(&r, m.body_len) : NULL;
	e = parse_body(m.type, m.body, m.body_len, &m);
	if (e < 0)
		goto fail;

	*ret = m;
	return 0;
fail:
	return e;
}

/* Write the header and reserve room for a body of body_len octets; returns
 * where the body goes, or NULL if it does not fit. */
static uint8_t *build_header(void *buf, size_t cap, uint8_t type, int32_t status, size_t body_len)
{
	uint8_t *p = buf;
	uint32_t st = (uint32_t)status;

	if (cap < WIRE_APPLINK_HDR_LEN || body_len > cap - WIRE_APPLINK_HDR_LEN || body_len > SSIZE_MAX - 8)
		return NULL;
	/* Written directly: the size is checked just above, and gcc's
	 * -Wstringop-overflow misreads the writer here under -fsanitize. */
	p[0] = type;
	p[1] = WIRE_APPLINK_VERSION;
	p[2] = p[3] = 0;
	p[4] = (uint8_t)(st >> 24);
	p[5] = (uint8_t)(st >> 16);
	p[6] = (uint8_t)(st >> 8);
	p[7] = (uint8_t)st;
	return p + WIRE_APPLINK_HDR_LEN;
}

/* In the builders the body may already sit at its final place in buf (just
 * past the header), so that a caller can receive or compose it in place;
 * any other overlap is a caller bug. */
ssize_t wire_applink_build(void *buf, size_t cap, uint8_t type, int32_t status, const void *body, size_t body_len)
{
	struct wire_applink scratch;
	uint8_t *p;

	if (!type_known(type) || !status_ok(type, status) || (body_len && !body))
		return -EINVAL;
	scratch.status = status;
	if (parse_body(type, body, body_len, &scratch) < 0)
		return -EINVAL;
	p = build_header(buf, cap, type, status, body_len);
	if (!p)
		return -EMSGSIZE;
	if (body_len)
		memmove(p, body, body_len); /* body may already sit in buf */
	return (ssize_t)(WIRE_APPLINK_HDR_LEN + body_len);
}

ssize_t wire_applink_build_hello(void *buf, size_t cap, uint64_t handle, const struct an_addr *addr, const char *name)
{
	struct wire_writer w;
	size_t name_len, field_len;
	uint8_t *p;

	if (!addr)
		return -EINVAL;
	name_len = name ? strnlen(name, WIRE_APPLINK_NAME_MAX + 1) : 0;
	if (name_len > WIRE_APPLINK_NAME_MAX)
		return -EINVAL;
	/* The name is NUL-terminated unless it fills the whole field. */
	field_len = name_len < WIRE_APPLINK_NAME_MAX ? name_len + 1 : name_len;
	p = build_header(buf, cap, WIRE_APP_HELLO, 0, HELLO_FIXED_LEN + field_len);
	if (!p)
		return -EMSGSIZE;
	wire_wr_init(&w, p, HELLO_FIXED_LEN + field_len);
	wire_wr_n64(&w, handle);
	wire_wr_addr(&w, addr);
	wire_wr_copy(&w, name, name_len);
	wire_wr_zero(&w, field_len - name_len);
	return (ssize_t)(WIRE_APPLINK_HDR_LEN + w.off);
}

ssize_t wire_applink_build_deliver(void *buf, size_t cap, const uint8_t code[32], const void *data, size_t data_len)
{
	uint8_t *p;

	if (!code || (data_len && !data))
		return -EINVAL;
	if (data_len > SIZE_MAX - CODE_NAME_LEN)
		return -EMSGSIZE;
	p = build_header(buf, cap, WIRE_APP_DELIVER, 0, CODE_NAME_LEN + data_len);
	if (!p)
		return -EMSGSIZE;
	memcpy(p, code, CODE_NAME_LEN);
	if (data_len)
		memmove(p + CODE_NAME_LEN, data, data_len);
	return (ssize_t)(WIRE_APPLINK_HDR_LEN + CODE_NAME_LEN + data_len);
}
