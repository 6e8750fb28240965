/* SPDX-License-Identifier: MIT */
/*
 * Signed service requests (docs/wire.md §5b): what a user or administrator
 * sends a node's control module to activate, suspend, resume, stop, pass
 * parameters to, or list services (seed 000 §3, §4.3). Each request names
 * the node it is for, its signer, when it was signed and a random nonce,
 * and ends with an Ed25519 signature (libsodium) over everything before it,
 * prefixed by a domain string so that no other message anode signs can
 * pass for a request. The parser checks the layout; whether the signer is
 * known, the signature good, the time fresh and the nonce new is the
 * control module's business (src/svc/auth.c), with wire_svc_verify.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "wire/reader.h"
#include "wire/wire.h"

#define DOMAIN "anode-svc-request-v1"

static bool name_ok(const uint8_t *s, size_t n, size_t min, bool dots)
{
	return n >= min && n <= WIRE_SVC_NAME_MAX && wire_name_chars(s, n, dots);
}

static bool params_ok(const uint8_t *s, size_t n)
{
	return n <= WIRE_SVC_PARAMS_MAX && wire_printable(s, n);
}

static bool op_ok(uint8_t op)
{
	return op >= WIRE_SVC_ACTIVATE && op <= WIRE_SVC_LIST;
}

/* An owner (whose instance: an administrator's request on another user's)
 * goes with the requests that act on an instance. */
static bool owner_allowed(uint8_t op)
{
	return op == WIRE_SVC_SUSPEND || op == WIRE_SVC_RESUME || op == WIRE_SVC_STOP || op == WIRE_SVC_PARAM;
}

int wire_svc_parse(const void *msg, size_t len, struct wire_svc_request *ret)
{
	struct wire_reader r;
	struct wire_svc_request q;
	uint8_t version, node_len, user_len, svc_len, owner_len;
	uint16_t rsv16, params_len, rsv16b;
	const uint8_t *p;

	memset(&q, 0, sizeof(q));
	wire_rd_init(&r, msg, len);
	version = wire_rd_u8(&r);
	q.op = wire_rd_u8(&r);
	rsv16 = wire_rd_n16(&r);
	q.time = wire_rd_n64(&r);
	wire_rd_copy(&r, q.nonce, sizeof(q.nonce));
	node_len = wire_rd_u8(&r);
	user_len = wire_rd_u8(&r);
	svc_len = wire_rd_u8(&r);
	owner_len = wire_rd_u8(&r);
	params_len = wire_rd_n16(&r);
	rsv16b = wire_rd_n16(&r);
	if (r.err)
		return -EBADMSG;
	if (version != WIRE_SVC_VERSION)
		return -EPROTONOSUPPORT;
	if (!op_ok(q.op))
		return -EOPNOTSUPP;
	if (rsv16 || rsv16b || (owner_len && !owner_allowed(q.op)))
		return -EBADMSG;
	p = wire_rd_take(&r, node_len);
	if (!p || !name_ok(p, node_len, 1, false))
		return -EBADMSG;
	memcpy(q.node, p, node_len);
	p = wire_rd_take(&r, user_len);
	if (!p || !name_ok(p, user_len, 1, true))
		return -EBADMSG;
	memcpy(q.user, p, user_len);
	/* LIST names no service; every other request names one. */
	p = svc_len ? wire_rd_take(&r, svc_len) : (const uint8_t *)"";
	if (!p || !name_ok(p, svc_len, q.op == WIRE_SVC_LIST ? 0 : 1, false))
		return -EBADMSG;
	memcpy(q.service, p, svc_len);
	p = owner_len ? wire_rd_take(&r, owner_len) : (const uint8_t *)"";
	if (!p || !name_ok(p, owner_len, 0, true))
		return -EBADMSG;
	memcpy(q.owner, p, owner_len);
	p = params_len ? wire_rd_take(&r, params_len) : (const uint8_t *)"";
	if (!p || !params_ok(p, params_len) || (params_len && q.op != WIRE_SVC_PARAM && q.op != WIRE_SVC_ACTIVATE))
		return -EBADMSG;
	memcpy(q.params, p, params_len);
	q.signed_len = r.off;
	p = wire_rd_take(&r, WIRE_SVC_SIG_LEN);
	if (!p || wire_rd_left(&r) != 0)
		return -EBADMSG;
	memcpy(q.sig, p, WIRE_SVC_SIG_LEN);
	*ret = q;
	return 0;
}

/* The octets a signature covers: the domain string, then the request up to
 * its signature. */
static size_t signed_octets(uint8_t *out, const void *msg, size_t signed_len)
{
	memcpy(out, DOMAIN, sizeof(DOMAIN));
	memcpy(out + sizeof(DOMAIN), msg, signed_len);
	return sizeof(DOMAIN) + signed_len;
}

ssize_t wire_svc_build(void *buf, size_t cap, const struct wire_svc_request *q, const uint8_t sk[64])
{
	struct wire_writer w;
	size_t node_len, user_len, svc_len, owner_len, params_len, n;
	uint8_t scratch[sizeof(DOMAIN) + WIRE_SVC_REQUEST_MAX];

	if (!q || !sk || !op_ok(q->op))
		return -EINVAL;
	node_len = strnlen(q->node, sizeof(q->node));
	user_len = strnlen(q->user, sizeof(q->user));
	svc_len = strnlen(q->service, sizeof(q->service));
	owner_len = strnlen(q->owner, sizeof(q->owner));
	params_len = strnlen(q->params, sizeof(q->params));
	if (!name_ok((const uint8_t *)q->node, node_len, 1, false) ||
	    !name_ok((const uint8_t *)q->user, user_len, 1, true) ||
	    !name_ok((const uint8_t *)q->service, svc_len, q->op == WIRE_SVC_LIST ? 0 : 1, false) ||
	    !name_ok((const uint8_t *)q->owner, owner_len, 0, true) || (owner_len && !owner_allowed(q->op)) ||
	    !params_ok((const uint8_t *)q->params, params_len) ||
	    (params_len && q->op != WIRE_SVC_PARAM && q->op != WIRE_SVC_ACTIVATE))
		return -EINVAL;
	n = WIRE_SVC_FIXED_LEN + node_len + user_len + svc_len + owner_len + params_len;
	if (cap < n + WIRE_SVC_SIG_LEN)
		return -EMSGSIZE;
	wire_wr_init(&w, buf, n);
	wire_wr_u8(&w, WIRE_SVC_VERSION);
	wire_wr_u8(&w, q->op);
	wire_wr_n16(&w, 0);
	wire_wr_n64(&w, q->time);
	wire_wr_copy(&w, q->nonce, sizeof(q->nonce));
	wire_wr_u8(&w, (uint8_t)node_len);
	wire_wr_u8(&w, (uint8_t)user_len);
	wire_wr_u8(&w, (uint8_t)svc_len);
	wire_wr_u8(&w, (uint8_t)owner_len);
	wire_wr_n16(&w, (uint16_t)params_len);
	wire_wr_n16(&w, 0);
	wire_wr_copy(&w, q->node, node_len);
	wire_wr_copy(&w, q->user, user_len);
	wire_wr_copy(&w, q->service, svc_len);
	wire_wr_copy(&w, q->owner, owner_len);
	wire_wr_copy(&w, q->params, params_len);
	if (w.err)
		return -EMSGSIZE;
	size_t m = signed_octets(scratch, buf, n);
	crypto_sign_detached((uint8_t *)buf + n, NULL, scratch, m, sk);
	return (ssize_t)(n + WIRE_SVC_SIG_LEN);
}

bool wire_svc_verify(const void *msg, const struct wire_svc_request *q, const uint8_t pk[32])
{
	uint8_t scratch[sizeof(DOMAIN) + WIRE_SVC_REQUEST_MAX];
	if (q->signed_len > WIRE_SVC_REQUEST_MAX)
		return false;
	size_t m = signed_octets(scratch, msg, q->signed_len);
	return crypto_sign_verify_detached(q->sig, scratch, m, pk) == 0;
}
