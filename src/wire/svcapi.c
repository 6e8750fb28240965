/* SPDX-License-Identifier: MIT */
/*
 * The service API (docs/wire.md §5c, docs/services.md): the records a
 * service process and its node exchange over the service's socket (fd 3 in
 * the sandbox, AF_UNIX SOCK_SEQPACKET, one message per record). The node
 * reads a service's records as it reads the network: a service is a user's
 * code. An 8-octet header (type, version, reserved, status) and a body of
 * a fixed part per type, some followed by a variable part (text or a
 * packet) that runs to the end of the record.
 */
#include <errno.h>
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

struct layout {
	size_t fixed; /* octets of the fixed part */
	size_t var_min, var_max; /* the variable part's length */
	bool text; /* the variable part is printable text */
	bool result; /* status may be a negative errno */
};

static bool layout_of(uint8_t type, struct layout *l)
{
	switch (type) {
	case WIRE_SAPI_PARAMS:
		*l = (struct layout){ 0, 0, WIRE_SVC_PARAMS_MAX, true, false };
		return true;
	case WIRE_SAPI_FILTER_ADD:
		*l = (struct layout){ 24, 0, 0, false, false };
		return true;
	case WIRE_SAPI_FILTER_RESULT:
	case WIRE_SAPI_SUB_RESULT:
		*l = (struct layout){ 8, 0, 0, false, true };
		return true;
	case WIRE_SAPI_FILTER_DEL:
	case WIRE_SAPI_UNSUBSCRIBE:
		*l = (struct layout){ 4, 0, 0, false, false };
		return true;
	case WIRE_SAPI_PACKET:
		*l = (struct layout){ 8, 20, 0xffff, false, false };
		return true;
	case WIRE_SAPI_VERDICT:
		*l = (struct layout){ 8, 0, 0xffff, false, false };
		return true;
	case WIRE_SAPI_SUBSCRIBE:
	case WIRE_SAPI_EVENT:
		*l = (struct layout){ 4, 1, WIRE_SAPI_TEXT_MAX, true, false };
		return true;
	case WIRE_SAPI_PUBLISH:
		*l = (struct layout){ 0, 3, 64, true, false };
		return true;
	default:
		return false;
	}
}


int wire_sapi_parse(const void *msg, size_t len, struct wire_sapi *ret)
{
	struct wire_reader r;
	struct wire_sapi m;
	struct layout l;
	struct wire_rec_hdr h;

	memset(&m, 0, sizeof(m));
	wire_rd_init(&r, msg, len);
	if (!wire_rd_rec_hdr(&r, &h))
		return -EBADMSG;
	m.type = h.type;
	m.status = h.status;
	if (h.version != WIRE_SAPI_VERSION)
		return -EPROTONOSUPPORT;
	if (!layout_of(m.type, &l))
		return -EOPNOTSUPP;
	if (h.reserved || (l.result ? (m.status > 0 || m.status <= -4096) : m.status != 0))
		return -EBADMSG;
	size_t body = wire_rd_left(&r);
	if (body < l.fixed || body - l.fixed < l.var_min || body - l.fixed > l.var_max)
		return -EBADMSG;
	switch (m.type) {
	case WIRE_SAPI_FILTER_ADD: {
		m.tag = wire_rd_n32(&r);
		if (!wire_rd_filter(&r, &m.filter))
			return -EBADMSG;
		break;
	}
	case WIRE_SAPI_FILTER_RESULT:
	case WIRE_SAPI_SUB_RESULT:
		m.tag = wire_rd_n32(&r);
		m.handle = wire_rd_n32(&r);
		break;
	case WIRE_SAPI_FILTER_DEL:
	case WIRE_SAPI_UNSUBSCRIBE:
		m.handle = wire_rd_n32(&r);
		break;
	case WIRE_SAPI_PACKET:
		m.handle = wire_rd_n32(&r);
		m.packet_id = wire_rd_n32(&r);
		break;
	case WIRE_SAPI_VERDICT:
		m.packet_id = wire_rd_n32(&r);
		m.verdict = wire_rd_u8(&r);
		if (wire_rd_u8(&r) || wire_rd_n16(&r) || m.verdict > WIRE_SAPI_MODIFIED)
			return -EBADMSG;
		/* A packet comes with MODIFIED, and only then. */
		if ((m.verdict == WIRE_SAPI_MODIFIED) != (wire_rd_left(&r) > 0))
			return -EBADMSG;
		break;
	case WIRE_SAPI_SUBSCRIBE:
		m.tag = wire_rd_n32(&r);
		break;
	case WIRE_SAPI_EVENT:
		m.handle = wire_rd_n32(&r);
		break;
	}
	if (r.err)
		return -EBADMSG;
	m.data_len = wire_rd_left(&r);
	m.data = m.data_len ? wire_rd_take(&r, m.data_len) : NULL;
	if (l.text && m.data_len && !wire_printable(m.data, m.data_len))
		return -EBADMSG;
	*ret = m;
	return 0;
}

ssize_t wire_sapi_build(void *buf, size_t cap, const struct wire_sapi *m)
{
	struct layout l;
	struct wire_writer w;
	struct wire_sapi check;

	if (!m || !layout_of(m->type, &l) || (m->data_len && !m->data))
		return -EINVAL;
	size_t n = WIRE_SAPI_HDR_LEN + l.fixed + m->data_len;
	if (m->data_len > l.var_max || n > WIRE_SAPI_MSG_MAX)
		return -EINVAL;
	if (cap < n)
		return -EMSGSIZE;
	wire_wr_init(&w, buf, n);
	wire_wr_rec_hdr(&w, m->type, WIRE_SAPI_VERSION, m->status);
	switch (m->type) {
	case WIRE_SAPI_FILTER_ADD:
		wire_wr_n32(&w, m->tag);
		wire_wr_filter(&w, &m->filter);
		break;
	case WIRE_SAPI_FILTER_RESULT:
	case WIRE_SAPI_SUB_RESULT:
		wire_wr_n32(&w, m->tag);
		wire_wr_n32(&w, m->handle);
		break;
	case WIRE_SAPI_FILTER_DEL:
	case WIRE_SAPI_UNSUBSCRIBE:
	case WIRE_SAPI_EVENT:
		wire_wr_n32(&w, m->handle);
		break;
	case WIRE_SAPI_PACKET:
		wire_wr_n32(&w, m->handle);
		wire_wr_n32(&w, m->packet_id);
		break;
	case WIRE_SAPI_VERDICT:
		wire_wr_n32(&w, m->packet_id);
		wire_wr_u8(&w, m->verdict);
		wire_wr_u8(&w, 0);
		wire_wr_n16(&w, 0);
		break;
	case WIRE_SAPI_SUBSCRIBE:
		wire_wr_n32(&w, m->tag);
		break;
	}
	if (m->data_len)
		memmove((uint8_t *)buf + w.off, m->data, m->data_len); /* the data may sit in buf already */
	w.off += m->data_len;
	/* What this would not parse back is not sent. */
	if (w.err || wire_sapi_parse(buf, n, &check) < 0)
		return -EINVAL;
	return (ssize_t)n;
}
