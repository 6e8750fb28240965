// SPDX-License-Identifier: MIT
/*
 * Concast (ANEP Type IDs WIRE_TYPE_CONCAST_DATA and _SIGNAL, seed 001 §2):
 * data messages carry their flow (G, R, A) and the message; signalling
 * messages (the Concast Signaling Protocol: RMS, MS, KEEPALIVE, ERROR)
 * carry a type, a code, the flow and a body whose shape the type fixes.
 * Both ride in ANEP with DST (the receiver's node for data, RMS and
 * KEEPALIVE; the upstream node for MS and ERROR) so that anode nodes that
 * do not run concast forward them by default routing. docs/wire.md §9.
 */
#include <errno.h>
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

static bool flow_read(struct wire_reader *r, struct an_flow *f)
{
	memset(f, 0, sizeof(*f));
	wire_rd_copy(r, f->group.ip, sizeof(f->group.ip));
	bool ok = wire_rd_addr(r, &f->receiver);
	f->app_id = wire_rd_n32(r);
	return ok && !r->err;
}

static void flow_write(struct wire_writer *w, const struct an_flow *f)
{
	wire_wr_copy(w, f->group.ip, sizeof(f->group.ip));
	wire_wr_addr(w, &f->receiver);
	wire_wr_n32(w, f->app_id);
}

int wire_flow_parse(const void *buf, size_t len, struct an_flow *ret)
{
	struct wire_reader r;
	struct an_flow f;

	wire_rd_init(&r, buf, len);
	if (len < WIRE_FLOW_LEN || !flow_read(&r, &f))
		return -EBADMSG;
	*ret = f;
	return 0;
}

int wire_flow_write(void *buf, size_t cap, const struct an_flow *f)
{
	struct wire_writer w;

	wire_wr_init(&w, buf, cap);
	flow_write(&w, f);
	return w.err ? -EMSGSIZE : 0;
}

static int payload_reader(const void *pkt, size_t len, const struct wire_anep *anep, uint16_t type_id,
			  struct wire_reader *r)
{
	if (anep->type_id != type_id || anep->pkt_len > len || anep->hdr_len > anep->pkt_len)
		return -EINVAL;
	wire_rd_init(r, pkt, anep->pkt_len);
	wire_rd_skip(r, anep->hdr_len);
	return 0;
}

int wire_concast_data_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_concast_data *ret)
{
	struct wire_reader r;
	struct wire_concast_data d;
	int e = payload_reader(pkt, len, anep, WIRE_TYPE_CONCAST_DATA, &r);
	if (e < 0)
		return e;
	if (!(anep->present & WIRE_HAS_DST) || !flow_read(&r, &d.flow))
		return -EBADMSG;
	d.msg_off = (uint16_t)r.off;
	d.msg_len = (uint16_t)wire_rd_left(&r);
	if (d.msg_len > WIRE_CONCAST_MSG_MAX || !an_addr_eq(&anep->dst, &d.flow.receiver))
		return -EBADMSG;
	*ret = d;
	return 0;
}

int wire_concast_data_build(void *buf, size_t cap, const struct wire_anep_spec *anep, const struct an_flow *flow,
			    const void *msg, size_t msg_len, size_t *ret_len)
{
	if (msg_len > WIRE_CONCAST_MSG_MAX)
		return -EMSGSIZE;
	struct wire_anep_spec spec = *anep;
	spec.type_id = WIRE_TYPE_CONCAST_DATA;
	spec.dst = &flow->receiver;
	size_t hdr_len;
	int e = wire_anep_build(buf, cap, &spec, WIRE_FLOW_LEN + msg_len, &hdr_len);
	if (e < 0)
		return e;
	struct wire_writer w;
	wire_wr_init(&w, (uint8_t *)buf + hdr_len, cap - hdr_len);
	flow_write(&w, flow);
	wire_wr_copy(&w, msg, msg_len);
	*ret_len = hdr_len + w.off;
	return w.err ? -EMSGSIZE : 0;
}

/* Which body each signalling type has: its length is checked exactly
 * (MS), or bounded (ERROR's text); RMS and KEEPALIVE have none. */
int wire_csp_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_csp *ret)
{
	struct wire_reader r;
	struct wire_csp c;
	int e = payload_reader(pkt, len, anep, WIRE_TYPE_CONCAST_SIGNAL, &r);
	if (e < 0)
		return e;
	memset(&c, 0, sizeof(c));
	/* Every message names where it goes and who sent it: an answer goes
	 * back to SRC, never to an address the body names. */
	if ((anep->present & (WIRE_HAS_SRC | WIRE_HAS_DST)) != (WIRE_HAS_SRC | WIRE_HAS_DST))
		goto fail;
	c.type = wire_rd_u8(&r);
	c.code = wire_rd_u8(&r);
	bool zero = wire_rd_zero(&r, 2);
	if (!zero || !flow_read(&r, &c.flow))
		goto fail;
	size_t body = wire_rd_left(&r);
	switch (c.type) {
	case WIRE_CSP_RMS:
	case WIRE_CSP_KEEPALIVE:
		if (body != 0 || c.code != 0)
			goto fail;
		if (!an_addr_eq(&anep->dst, &c.flow.receiver))
			goto fail;
		break;
	case WIRE_CSP_MS:
		if (body != WIRE_CSP_MS_BODY || c.code != 0)
			goto fail;
		wire_rd_copy(&r, c.spec, sizeof(c.spec));
		c.spec_len = wire_rd_n32(&r);
		if (c.spec_len == 0 || c.spec_len > WIRE_CODE_MAX)
			goto fail;
		break;
	case WIRE_CSP_ERROR:
		if (c.code < WIRE_CSP_ERR_NO_SPEC || c.code > WIRE_CSP_ERR_LAST || body > WIRE_CSP_TEXT_MAX)
			goto fail;
		c.text_off = (uint16_t)r.off;
		c.text_len = (uint16_t)body;
		break;
	default:
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	return -EBADMSG;
}

int wire_csp_build(void *buf, size_t cap, const struct wire_anep_spec *anep, const struct wire_csp_spec *c,
		   size_t *ret_len)
{
	size_t body;
	switch (c->type) {
	case WIRE_CSP_RMS:
	case WIRE_CSP_KEEPALIVE:
		body = 0;
		if (c->code)
			return -EINVAL;
		break;
	case WIRE_CSP_MS:
		body = WIRE_CSP_MS_BODY;
		if (c->code || c->spec_len == 0 || c->spec_len > WIRE_CODE_MAX || !c->spec)
			return -EINVAL;
		break;
	case WIRE_CSP_ERROR:
		body = c->text_len;
		if (c->code < WIRE_CSP_ERR_NO_SPEC || c->code > WIRE_CSP_ERR_LAST || body > WIRE_CSP_TEXT_MAX ||
		    (body && !c->text))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	if (!anep->src || !anep->dst)
		return -EINVAL;
	struct wire_anep_spec spec = *anep;
	spec.type_id = WIRE_TYPE_CONCAST_SIGNAL;
	size_t hdr_len;
	int e = wire_anep_build(buf, cap, &spec, WIRE_CSP_HDR_LEN + body, &hdr_len);
	if (e < 0)
		return e;
	struct wire_writer w;
	wire_wr_init(&w, (uint8_t *)buf + hdr_len, cap - hdr_len);
	wire_wr_u8(&w, c->type);
	wire_wr_u8(&w, c->code);
	wire_wr_zero(&w, 2);
	flow_write(&w, c->flow);
	if (c->type == WIRE_CSP_MS) {
		wire_wr_copy(&w, c->spec, 32);
		wire_wr_n32(&w, c->spec_len);
	} else if (c->type == WIRE_CSP_ERROR) {
		wire_wr_copy(&w, c->text, c->text_len);
	}
	*ret_len = hdr_len + w.off;
	return w.err ? -EMSGSIZE : 0;
}

const char *wire_csp_error_str(uint8_t code)
{
	switch (code) {
	case WIRE_CSP_ERR_NO_SPEC:
		return "no such merge specification";
	case WIRE_CSP_ERR_UNREACHABLE:
		return "receiver unreachable";
	case WIRE_CSP_ERR_SPEC_REFUSED:
		return "merge specification refused by the validator";
	case WIRE_CSP_ERR_NO_ROOM:
		return "concast state limit reached";
	case WIRE_CSP_ERR_RECEIVER_LEFT:
		return "the receiver left";
	default:
		return "unknown concast error";
	}
}
