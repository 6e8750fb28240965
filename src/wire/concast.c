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

int wire_concast_data_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_concast_data *ret)
{
	struct wire_reader r;
	struct wire_concast_data d;
	int e = wire_rd_anep_payload(&r, pkt, len, anep, WIRE_TYPE_CONCAST_DATA);
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
	int e = wire_rd_anep_payload(&r, pkt, len, anep, WIRE_TYPE_CONCAST_SIGNAL);
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
	if (body < WIRE_CSP_NONCE_LEN)
		goto fail;
	wire_rd_copy(&r, c.nonce, sizeof(c.nonce));
	body -= WIRE_CSP_NONCE_LEN;
	switch (c.type) {
	case WIRE_CSP_RMS:
	case WIRE_CSP_KEEPALIVE:
		if (body != WIRE_CSP_COOKIE_LEN || c.code != 0)
			goto fail;
		if (!an_addr_eq(&anep->dst, &c.flow.receiver))
			goto fail;
		wire_rd_copy(&r, c.cookie, sizeof(c.cookie));
		break;
	case WIRE_CSP_CHALLENGE:
		if (body != WIRE_CSP_COOKIE_LEN || c.code != 0)
			goto fail;
		wire_rd_copy(&r, c.cookie, sizeof(c.cookie));
		break;
	case WIRE_CSP_PATH:
		if (body != 1 || c.code != 0)
			goto fail;
		c.path = wire_rd_u8(&r);
		if (c.path != WIRE_CSP_PATH_LOST && c.path != WIRE_CSP_PATH_RESTORED)
			goto fail;
		break;
	case WIRE_CSP_MS:
		if (body + WIRE_CSP_NONCE_LEN < WIRE_CSP_MS_BODY || c.code != 0)
			goto fail;
		wire_rd_copy(&r, c.spec, sizeof(c.spec));
		c.spec_len = wire_rd_n32(&r);
		if (c.spec_len == 0 || c.spec_len > WIRE_CODE_MAX)
			goto fail;
		c.n_admit = wire_rd_u8(&r);
		if (c.n_admit > AN_CONCAST_ADMIT_MAX || wire_rd_left(&r) != (size_t)c.n_admit * WIRE_PREFIX_LEN)
			goto fail;
		for (unsigned i = 0; i < c.n_admit; i++) {
			wire_rd_copy(&r, c.admit[i].ip, sizeof(c.admit[i].ip));
			c.admit[i].len = wire_rd_u8(&r);
			if (!wire_prefix_valid(&c.admit[i]))
				goto fail;
		}
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
	case WIRE_CSP_CHALLENGE:
		body = WIRE_CSP_NONCE_LEN + WIRE_CSP_COOKIE_LEN;
		if (c->code)
			return -EINVAL;
		break;
	case WIRE_CSP_MS:
		body = WIRE_CSP_MS_BODY + c->n_admit * WIRE_PREFIX_LEN;
		if (c->code || c->spec_len == 0 || c->spec_len > WIRE_CODE_MAX || !c->spec ||
		    c->n_admit > AN_CONCAST_ADMIT_MAX || (c->n_admit && !c->admit))
			return -EINVAL;
		for (size_t i = 0; i < c->n_admit; i++)
			if (!wire_prefix_valid(&c->admit[i]))
				return -EINVAL;
		break;
	case WIRE_CSP_PATH:
		body = WIRE_CSP_NONCE_LEN + 1;
		if (c->code || (c->path != WIRE_CSP_PATH_LOST && c->path != WIRE_CSP_PATH_RESTORED))
			return -EINVAL;
		break;
	case WIRE_CSP_ERROR:
		body = WIRE_CSP_NONCE_LEN + c->text_len;
		if (c->code < WIRE_CSP_ERR_NO_SPEC || c->code > WIRE_CSP_ERR_LAST || c->text_len > WIRE_CSP_TEXT_MAX ||
		    (c->text_len && !c->text))
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
	if (c->nonce)
		wire_wr_copy(&w, c->nonce, WIRE_CSP_NONCE_LEN);
	else
		wire_wr_zero(&w, WIRE_CSP_NONCE_LEN);
	if (c->type == WIRE_CSP_RMS || c->type == WIRE_CSP_KEEPALIVE || c->type == WIRE_CSP_CHALLENGE) {
		if (c->cookie)
			wire_wr_copy(&w, c->cookie, WIRE_CSP_COOKIE_LEN);
		else
			wire_wr_zero(&w, WIRE_CSP_COOKIE_LEN);
	} else if (c->type == WIRE_CSP_MS) {
		wire_wr_copy(&w, c->spec, 32);
		wire_wr_n32(&w, c->spec_len);
		wire_wr_u8(&w, (uint8_t)c->n_admit);
		for (size_t i = 0; i < c->n_admit; i++) {
			wire_wr_copy(&w, c->admit[i].ip, sizeof(c->admit[i].ip));
			wire_wr_u8(&w, c->admit[i].len);
		}
	} else if (c->type == WIRE_CSP_ERROR) {
		wire_wr_copy(&w, c->text, c->text_len);
	} else if (c->type == WIRE_CSP_PATH) {
		wire_wr_u8(&w, c->path);
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
	case WIRE_CSP_ERR_NOT_ADMITTED:
		return "not admitted by the receiver";
	default:
		return "unknown concast error";
	}
}

/*
 * Concast on IP, as seed 001 §3 does it (router mode): an IPv4 datagram of
 * protocol WIRE_IPPROTO_CONCAST (253, RFC 3692's experimental number)
 * whose payload is the ANEP packet, with IP Router Alert (RFC 2113) so
 * that every concast router on the way takes it (IP_ROUTER_ALERT) and the
 * AppID option (WIRE_IPOPT_APPID, an RFC 4727 experimental number: copied
 * into fragments, class 0, number 30) holding A. Data carries G as its IP
 * source; signalling its sender's own address.
 */
#define IPV4_HDR_MIN 20
#define IPOPT_RA 148
#define IPOPT_EOL 0
#define IPOPT_NOP 1

size_t wire_ipv4_concast_hdr_len(bool router_alert)
{
	/* RA (4) + AppID (6) + two octets of padding. */
	return IPV4_HDR_MIN + (router_alert ? 12 : 8);
}

int wire_ipv4_concast_build(void *buf, size_t cap, uint32_t src, uint32_t dst, uint32_t app_id, bool router_alert,
			    size_t payload_len, size_t *ret_hdr_len)
{
	size_t hl = wire_ipv4_concast_hdr_len(router_alert);
	if (payload_len > 65535 - hl || hl + payload_len > cap)
		return -EMSGSIZE;
	struct wire_writer w;
	wire_wr_init(&w, buf, hl);
	wire_wr_u8(&w, (uint8_t)(0x40 | hl / 4));
	wire_wr_u8(&w, 0);
	wire_wr_n16(&w, (uint16_t)(hl + payload_len));
	wire_wr_n16(&w, 0);	 /* id: the kernel fills it (IP_HDRINCL) */
	wire_wr_n16(&w, 0x4000); /* DF: per-sender path MTU discovery, §3 */
	wire_wr_u8(&w, 64);
	wire_wr_u8(&w, WIRE_IPPROTO_CONCAST);
	wire_wr_n16(&w, 0); /* checksum: below */
	wire_wr_copy(&w, &src, 4);
	wire_wr_copy(&w, &dst, 4);
	if (router_alert) {
		wire_wr_u8(&w, IPOPT_RA);
		wire_wr_u8(&w, 4);
		wire_wr_n16(&w, 0);
	}
	wire_wr_u8(&w, WIRE_IPOPT_APPID);
	wire_wr_u8(&w, 6);
	wire_wr_n32(&w, app_id);
	wire_wr_u8(&w, IPOPT_NOP);
	wire_wr_u8(&w, IPOPT_EOL);
	if (w.err)
		return -EMSGSIZE;
	uint16_t sum = (uint16_t)~wire_csum_fold(wire_csum_add(0, buf, hl));
	((uint8_t *)buf)[10] = (uint8_t)(sum >> 8);
	((uint8_t *)buf)[11] = (uint8_t)sum;
	*ret_hdr_len = hl;
	return 0;
}

int wire_ipv4_concast_parse(const void *pkt, size_t len, struct wire_ipv4_concast *ret)
{
	struct wire_reader r;
	struct wire_ipv4_concast c;
	memset(&c, 0, sizeof(c));
	wire_rd_init(&r, pkt, len);
	uint8_t vihl = wire_rd_u8(&r);
	wire_rd_skip(&r, 1);
	uint16_t total = wire_rd_n16(&r);
	wire_rd_skip(&r, 2);
	uint16_t frag = wire_rd_n16(&r);
	c.ttl = wire_rd_u8(&r);
	uint8_t proto = wire_rd_u8(&r);
	wire_rd_skip(&r, 2);
	wire_rd_copy(&r, &c.src, 4);
	wire_rd_copy(&r, &c.dst, 4);
	size_t hl = (size_t)(vihl & 0x0f) * 4;
	if (r.err || vihl >> 4 != 4 || hl < IPV4_HDR_MIN || hl > total || total > len)
		return -EBADMSG;
	if (proto != WIRE_IPPROTO_CONCAST || (frag & 0x3fff))
		return -EPROTONOSUPPORT;
	/* The options: RA and AppID at most once each, NOPs, EOL; others
	 * skipped by their length. */
	struct wire_reader o;
	wire_rd_init(&o, (const uint8_t *)pkt + IPV4_HDR_MIN, hl - IPV4_HDR_MIN);
	while (wire_rd_left(&o)) {
		uint8_t t = wire_rd_u8(&o);
		if (t == IPOPT_EOL)
			break;
		if (t == IPOPT_NOP)
			continue;
		uint8_t l = wire_rd_u8(&o);
		if (o.err || l < 2 || l - 2u > wire_rd_left(&o))
			return -EBADMSG;
		if (t == IPOPT_RA) {
			if (l != 4 || c.router_alert)
				return -EBADMSG;
			c.router_alert = true;
			wire_rd_skip(&o, 2);
		} else if (t == WIRE_IPOPT_APPID) {
			if (l != 6 || c.has_app_id)
				return -EBADMSG;
			c.has_app_id = true;
			c.app_id = wire_rd_n32(&o);
		} else {
			wire_rd_skip(&o, l - 2u);
		}
	}
	if (o.err)
		return -EBADMSG;
	c.payload_off = (uint16_t)hl;
	c.payload_len = (uint16_t)(total - hl);
	*ret = c;
	return 0;
}
