/* SPDX-License-Identifier: MIT */
/*
 * Privilege separation messages (DESIGN §1, docs/wire.md): what the node
 * child and its privileged parent say to each other over their AF_UNIX
 * SOCK_SEQPACKET socket pair, one message per record. The parent reads the
 * child's messages as it reads the network: the child parses packets and
 * runs code from elsewhere, so what it asks is hostile until checked here
 * and then against the parent's own table.
 *
 * An 8-octet header (type, version, reserved, status) and a fixed body per
 * type, whose length must be exact. The builder goes through the parser's
 * checks, so neither side sends what the other would refuse.
 */
#include <errno.h>
#include <string.h>

#include "anode/kernel.h"
#include "wire/reader.h"
#include "wire/wire.h"

/* The body's length for each type; SVC_START's is its least (a request of
 * one octet follows the id). */
static size_t body_len(uint8_t type)
{
	switch (type) {
	case WIRE_PRIV_FILTER_ADD:
		return 24;
	case WIRE_PRIV_FILTER_DEL:
	case WIRE_PRIV_FILTER_ADDED:
	case WIRE_PRIV_FILTER_DELETED:
	case WIRE_PRIV_SVC_STOP:
	case WIRE_PRIV_CONFIG_DONE:
		return 4;
	case WIRE_PRIV_CONFIG:
		return 12;
	case WIRE_PRIV_SVC_START:
		return 5;
	case WIRE_PRIV_KERN_LOAD:
		return 4 + 32 + 4;
	case WIRE_PRIV_KERN_UNLOAD:
		return 4 + 32;
	case WIRE_PRIV_KERN_NODE:
		return 4 + WIRE_PRIV_KNODE_LEN;
	case WIRE_PRIV_KERN_LOADED:
	case WIRE_PRIV_KERN_READY:
	case WIRE_PRIV_KERN_START:
		return 4; /* and text */
	case WIRE_PRIV_KERN_FILTER:
		return 4; /* and a filter, or nothing */
	case WIRE_PRIV_KERN_UP:
		return 4;
	case WIRE_PRIV_KERN_XSK:
		return 4 + WIRE_PRIV_KXSK_LEN;
	case WIRE_PRIV_SVC_STARTED:
	case WIRE_PRIV_SVC_ENDED:
	case WIRE_PRIV_SVC_FREEZE:
	case WIRE_PRIV_CAPACITY:
		return 8;
	default:
		return 0;
	}
}

/* Requests carry status 0; results 0 or a negative errno. */
static bool status_ok(uint8_t type, int32_t status)
{
	if (type == WIRE_PRIV_FILTER_ADDED || type == WIRE_PRIV_FILTER_DELETED || type == WIRE_PRIV_SVC_STARTED ||
	    type == WIRE_PRIV_CONFIG_DONE || type == WIRE_PRIV_KERN_LOADED || type == WIRE_PRIV_KERN_READY ||
	    type == WIRE_PRIV_KERN_XSK)
		return status <= 0 && status > -4096;
	return status == 0;
}

static bool has_text(uint8_t type)
{
	return type == WIRE_PRIV_KERN_LOADED || type == WIRE_PRIV_KERN_READY || type == WIRE_PRIV_KERN_START;
}

/* Types whose body after the id is one block of octets (data). */
static bool has_data(uint8_t type)
{
	return has_text(type) || type == WIRE_PRIV_KERN_LOAD || type == WIRE_PRIV_KERN_UNLOAD ||
	       type == WIRE_PRIV_KERN_NODE || type == WIRE_PRIV_KERN_FILTER || type == WIRE_PRIV_KERN_XSK;
}

static bool length_ok(uint8_t type, size_t left)
{
	if (type == WIRE_PRIV_SVC_START)
		return left >= body_len(type) && left - 4 <= WIRE_SVC_REQUEST_MAX;
	if (has_text(type))
		return left >= body_len(type) && left - 4 <= WIRE_PRIV_TEXT_MAX;
	if (type == WIRE_PRIV_KERN_FILTER)
		return left == 4 || left == 4 + WIRE_PRIV_KFILTER_LEN;
	if (type == WIRE_PRIV_KERN_XSK) /* DONE: and why, as text */
		return left >= body_len(type) && left - body_len(type) <= WIRE_PRIV_TEXT_MAX;
	return left == body_len(type);
}

void wire_priv_kload_put(uint8_t d[WIRE_PRIV_KLOAD_LEN], const uint8_t name[32], uint32_t state_max)
{
	struct wire_writer w;
	wire_wr_init(&w, d, WIRE_PRIV_KLOAD_LEN);
	wire_wr_copy(&w, name, 32);
	wire_wr_n32(&w, state_max);
}

uint32_t wire_priv_kload_state_max(const uint8_t d[WIRE_PRIV_KLOAD_LEN])
{
	struct wire_reader r;
	wire_rd_init(&r, d, WIRE_PRIV_KLOAD_LEN);
	wire_rd_skip(&r, 32);
	return wire_rd_n32(&r);
}

/* The figures are in host order: both ends are one host. */
void wire_priv_knode_put(uint8_t d[WIRE_PRIV_KNODE_LEN], const struct an_knode *kn)
{
	struct wire_writer w;
	wire_wr_init(&w, d, WIRE_PRIV_KNODE_LEN);
	wire_wr_copy(&w, &kn->local, 20);
	wire_wr_copy(&w, &kn->mark, 4);
	wire_wr_copy(&w, &kn->max_copies, 4);
	wire_wr_copy(&w, kn->info, sizeof(kn->info));
	wire_wr_copy(&w, &kn->flags, 4);
}

void wire_priv_knode_get(const uint8_t d[WIRE_PRIV_KNODE_LEN], struct an_knode *ret)
{
	struct wire_reader r;
	memset(ret, 0, sizeof(*ret));
	wire_rd_init(&r, d, WIRE_PRIV_KNODE_LEN);
	wire_rd_copy(&r, &ret->local, 20);
	wire_rd_copy(&r, &ret->mark, 4);
	wire_rd_copy(&r, &ret->max_copies, 4);
	wire_rd_copy(&r, ret->info, sizeof(ret->info));
	wire_rd_copy(&r, &ret->flags, 4);
	ret->local.zero = 0;
}

void wire_priv_kfilter_put(uint8_t d[WIRE_PRIV_KFILTER_LEN], const uint8_t name[32], const struct an_kfilter *f)
{
	struct wire_writer w;
	wire_wr_init(&w, d, WIRE_PRIV_KFILTER_LEN);
	wire_wr_copy(&w, name, 32);
	wire_wr_copy(&w, &f->src, 4); /* addresses and masks: network order already */
	wire_wr_copy(&w, &f->src_mask, 4);
	wire_wr_copy(&w, &f->dst, 4);
	wire_wr_copy(&w, &f->dst_mask, 4);
	wire_wr_n16(&w, f->sport_lo);
	wire_wr_n16(&w, f->sport_hi);
	wire_wr_n16(&w, f->dport_lo);
	wire_wr_n16(&w, f->dport_hi);
	wire_wr_u8(&w, f->proto);
	wire_wr_zero(&w, 3);
	wire_wr_n32(&w, f->id);
}

void wire_priv_kfilter_get(const uint8_t d[WIRE_PRIV_KFILTER_LEN], struct an_kfilter *ret)
{
	struct wire_reader r;
	memset(ret, 0, sizeof(*ret));
	wire_rd_init(&r, d, WIRE_PRIV_KFILTER_LEN);
	wire_rd_skip(&r, 32);
	wire_rd_copy(&r, &ret->src, 4);
	wire_rd_copy(&r, &ret->src_mask, 4);
	wire_rd_copy(&r, &ret->dst, 4);
	wire_rd_copy(&r, &ret->dst_mask, 4);
	ret->sport_lo = wire_rd_n16(&r);
	ret->sport_hi = wire_rd_n16(&r);
	ret->dport_lo = wire_rd_n16(&r);
	ret->dport_hi = wire_rd_n16(&r);
	ret->proto = wire_rd_u8(&r);
	wire_rd_skip(&r, 3);
	ret->id = wire_rd_n32(&r);
}

void wire_priv_kxsk_put(uint8_t d[WIRE_PRIV_KXSK_LEN], const struct wire_priv_kxsk *x)
{
	struct wire_writer w;
	wire_wr_init(&w, d, WIRE_PRIV_KXSK_LEN);
	wire_wr_u8(&w, x->kind);
	wire_wr_zero(&w, 3);
	wire_wr_n32(&w, x->ifindex);
	wire_wr_n32(&w, x->queue);
	wire_wr_n32(&w, x->umem_len);
	wire_wr_n32(&w, x->frame);
}

void wire_priv_kxsk_get(const uint8_t d[WIRE_PRIV_KXSK_LEN], struct wire_priv_kxsk *ret)
{
	struct wire_reader r;
	wire_rd_init(&r, d, WIRE_PRIV_KXSK_LEN);
	ret->kind = wire_rd_u8(&r);
	wire_rd_skip(&r, 3);
	ret->ifindex = wire_rd_n32(&r);
	ret->queue = wire_rd_n32(&r);
	ret->umem_len = wire_rd_n32(&r);
	ret->frame = wire_rd_n32(&r);
}

/* A KERN_XSK body: a known kind, its three zero octets; a status and text
 * for DONE only. */
static bool kxsk_ok(int32_t status, const uint8_t *d, size_t len)
{
	if (d[0] > WIRE_PRIV_KXSK_DONE || d[1] | d[2] | d[3])
		return false;
	return d[0] == WIRE_PRIV_KXSK_DONE || (status == 0 && len == WIRE_PRIV_KXSK_LEN);
}

static bool filter_ok(const struct wire_priv_filter *f)
{
	return f->src_prefix <= 32 && f->dst_prefix <= 32;
}

int wire_priv_parse(const void *msg, size_t len, struct wire_priv *ret)
{
	struct wire_reader r;
	struct wire_priv m;
	struct wire_rec_hdr h;

	memset(&m, 0, sizeof(m));
	wire_rd_init(&r, msg, len);
	if (!wire_rd_rec_hdr(&r, &h))
		return -EBADMSG;
	m.type = h.type;
	m.status = h.status;
	if (h.version != WIRE_PRIV_VERSION)
		return -EPROTONOSUPPORT;
	if (!body_len(m.type))
		return -EOPNOTSUPP;
	if (h.reserved != 0 || !status_ok(m.type, m.status) || !length_ok(m.type, wire_rd_left(&r)))
		return -EBADMSG;
	m.id = wire_rd_n32(&r);
	switch (m.type) {
	case WIRE_PRIV_SVC_START:
		m.request_len = wire_rd_left(&r);
		m.request = wire_rd_take(&r, m.request_len);
		break;
	case WIRE_PRIV_SVC_STARTED:
	case WIRE_PRIV_SVC_ENDED:
	case WIRE_PRIV_SVC_FREEZE:
	case WIRE_PRIV_CAPACITY:
		m.value = wire_rd_n32(&r);
		if (m.type == WIRE_PRIV_SVC_FREEZE && m.value > 1)
			return -EBADMSG;
		break;
	case WIRE_PRIV_KERN_LOAD:
	case WIRE_PRIV_KERN_UNLOAD:
	case WIRE_PRIV_KERN_NODE:
	case WIRE_PRIV_KERN_LOADED:
	case WIRE_PRIV_KERN_READY:
	case WIRE_PRIV_KERN_START:
	case WIRE_PRIV_KERN_FILTER:
	case WIRE_PRIV_KERN_XSK:
		m.data_len = wire_rd_left(&r);
		m.data = wire_rd_take(&r, m.data_len);
		if (m.type == WIRE_PRIV_KERN_XSK && !kxsk_ok(m.status, m.data, m.data_len))
			return -EBADMSG;
		break;
	case WIRE_PRIV_CONFIG:
		m.config_len = wire_rd_n32(&r);
		m.policy_len = wire_rd_n32(&r);
		if (m.config_len > WIRE_PRIV_CONFIG_TEXT_MAX || m.policy_len > WIRE_PRIV_CONFIG_TEXT_MAX)
			return -EBADMSG;
		break;
	}
	if (m.type == WIRE_PRIV_FILTER_ADD && !wire_rd_filter(&r, &m.filter))
		return -EBADMSG;
	if (r.err)
		return -EBADMSG;
	*ret = m;
	return 0;
}

ssize_t wire_priv_build(void *buf, size_t cap, const struct wire_priv *m)
{
	struct wire_writer w;
	size_t n;

	if (!m || !body_len(m->type) || !status_ok(m->type, m->status))
		return -EINVAL;
	if (m->type == WIRE_PRIV_FILTER_ADD && !filter_ok(&m->filter))
		return -EINVAL;
	if (m->type == WIRE_PRIV_SVC_FREEZE && m->value > 1)
		return -EINVAL;
	if (m->type == WIRE_PRIV_CONFIG &&
	    (m->config_len > WIRE_PRIV_CONFIG_TEXT_MAX || m->policy_len > WIRE_PRIV_CONFIG_TEXT_MAX))
		return -EINVAL;
	if (m->type == WIRE_PRIV_SVC_START &&
	    (!m->request || m->request_len == 0 || m->request_len > WIRE_SVC_REQUEST_MAX))
		return -EINVAL;
	if (has_data(m->type) && (m->data_len ? !m->data : 0))
		return -EINVAL;
	if (has_data(m->type) && !length_ok(m->type, 4 + m->data_len))
		return -EINVAL;
	if (m->type == WIRE_PRIV_KERN_XSK && !kxsk_ok(m->status, m->data, m->data_len))
		return -EINVAL;
	n = WIRE_PRIV_HDR_LEN + body_len(m->type) + (m->type == WIRE_PRIV_SVC_START ? m->request_len - 1 : 0);
	if (has_data(m->type))
		n = WIRE_PRIV_HDR_LEN + 4 + m->data_len;
	if (cap < n)
		return -EMSGSIZE;
	wire_wr_init(&w, buf, n);
	wire_wr_rec_hdr(&w, m->type, WIRE_PRIV_VERSION, m->status);
	wire_wr_n32(&w, m->id);
	if (m->type == WIRE_PRIV_FILTER_ADD)
		wire_wr_filter(&w, &m->filter);
	if (m->type == WIRE_PRIV_SVC_START)
		wire_wr_copy(&w, m->request, m->request_len);
	if (has_data(m->type) && m->data_len)
		wire_wr_copy(&w, m->data, m->data_len);
	if (m->type == WIRE_PRIV_SVC_STARTED || m->type == WIRE_PRIV_SVC_ENDED || m->type == WIRE_PRIV_SVC_FREEZE ||
	    m->type == WIRE_PRIV_CAPACITY)
		wire_wr_n32(&w, m->value);
	if (m->type == WIRE_PRIV_CONFIG) {
		wire_wr_n32(&w, m->config_len);
		wire_wr_n32(&w, m->policy_len);
	}
	if (w.err)
		return -EMSGSIZE;
	return (ssize_t)n;
}
