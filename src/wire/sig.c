// SPDX-License-Identifier: MIT
/*
 * On-path signalling messages (see sig.h; docs/wire.md §10).
 */
#include "wire/sig.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "wire/reader.h"

#define DOMAIN "anode-sig-request-v1"
#define FILTER_LEN 44
#define ADDR_LEN 20

/* Copy a checked name of min..max octets into a NUL-terminated buffer. */
static bool take_name(const uint8_t *v, size_t n, size_t max, char *out)
{
	if (n < 1 || n > max || !wire_name_chars(v, n, true))
		return false;
	memcpy(out, v, n);
	out[n] = '\0';
	return true;
}

static bool url_ok(const uint8_t *v, size_t n)
{
	if (n < 8 || n > WIRE_SIG_URL_MAX || !wire_printable(v, n))
		return false;
	return (n > 7 && memcmp(v, "http://", 7) == 0) || (n > 8 && memcmp(v, "https://", 8) == 0);
}

/* A property "key=value": key a name of 1..32, value 0..128 printable. */
static bool take_prop(const uint8_t *v, size_t n, char *key, char *value)
{
	const uint8_t *eq = memchr(v, '=', n);
	if (!eq)
		return false;
	size_t kn = (size_t)(eq - v), vn = n - kn - 1;
	if (!take_name(v, kn, WIRE_SIG_KEY_MAX, key) || vn > WIRE_SIG_VALUE_MAX || !wire_printable(eq + 1, vn))
		return false;
	memcpy(value, eq + 1, vn);
	value[vn] = '\0';
	return true;
}

/* Prefix lengths count the IPv4 part of a mapped address, else all 128
 * bits; the bits past the prefix must be zero (no host bits). */
static bool prefix_ok(const uint8_t ip[16], uint8_t len)
{
	bool v4 = an_ip_is_v4(ip);
	unsigned bits = v4 ? 96u + len : len;
	if (len > (v4 ? 32 : 128))
		return false;
	for (unsigned b = bits; b < 128; b++)
		if (ip[b / 8] & (0x80 >> (b % 8)))
			return false;
	return true;
}

static bool filter_ok(const struct wire_sig_filter *f)
{
	if (f->sport_lo > f->sport_hi || f->dport_lo > f->dport_hi)
		return false;
	if ((f->sport_lo || f->sport_hi || f->dport_lo || f->dport_hi) && f->proto != 6 && f->proto != 17)
		return false; /* ports need TCP or UDP */
	return prefix_ok(f->src, f->src_len) && prefix_ok(f->dst, f->dst_len);
}

static void rd_filter(struct wire_reader *r, struct wire_sig_filter *f, uint8_t *rsv)
{
	f->proto = wire_rd_u8(r);
	f->src_len = wire_rd_u8(r);
	f->dst_len = wire_rd_u8(r);
	*rsv = wire_rd_u8(r);
	f->sport_lo = wire_rd_n16(r);
	f->sport_hi = wire_rd_n16(r);
	f->dport_lo = wire_rd_n16(r);
	f->dport_hi = wire_rd_n16(r);
	wire_rd_copy(r, f->src, 16);
	wire_rd_copy(r, f->dst, 16);
}

static bool addr_ok(const struct an_addr *a)
{
	return a->port != 0;
}

/* Which fields a kind takes (bit per field; SIGNATURE is always last). */
static uint32_t allowed_fields(uint8_t kind)
{
	uint32_t common = 1u << WIRE_SIG_TIME | 1u << WIRE_SIG_NONCE | 1u << WIRE_SIG_USER | 1u << WIRE_SIG_ORIGIN;
	switch (kind) {
	case WIRE_SIG_SETUP:
		return common | 1u << WIRE_SIG_MODULE | 1u << WIRE_SIG_MOD_VERSION | 1u << WIRE_SIG_DEPENDENCY |
		       1u << WIRE_SIG_FILTER | 1u << WIRE_SIG_NOTIFY | 1u << WIRE_SIG_PROPERTY |
		       1u << WIRE_SIG_LIFETIME | 1u << WIRE_SIG_URL | 1u << WIRE_SIG_HASH | 1u << WIRE_SIG_SIZE |
		       1u << WIRE_SIG_MOD_KIND;
	case WIRE_SIG_REMOVE:
		return common | 1u << WIRE_SIG_MODULE | 1u << WIRE_SIG_MOD_VERSION | 1u << WIRE_SIG_NOTIFY;
	case WIRE_SIG_PROBE:
		return common | 1u << WIRE_SIG_MODULE;
	case WIRE_SIG_TRIGGER:
		return common | 1u << WIRE_SIG_INNER;
	default:
		return 0;
	}
}

static uint32_t required_fields(uint8_t kind)
{
	uint32_t common = 1u << WIRE_SIG_TIME | 1u << WIRE_SIG_NONCE | 1u << WIRE_SIG_USER | 1u << WIRE_SIG_ORIGIN;
	switch (kind) {
	case WIRE_SIG_SETUP:
		return common | 1u << WIRE_SIG_MODULE | 1u << WIRE_SIG_MOD_VERSION | 1u << WIRE_SIG_LIFETIME |
		       1u << WIRE_SIG_HASH | 1u << WIRE_SIG_SIZE | 1u << WIRE_SIG_MOD_KIND;
	case WIRE_SIG_REMOVE:
		return common | 1u << WIRE_SIG_MODULE;
	case WIRE_SIG_TRIGGER:
		return common | 1u << WIRE_SIG_INNER;
	default:
		return common;
	}
}

static bool repeated(uint16_t t)
{
	return t == WIRE_SIG_DEPENDENCY || t == WIRE_SIG_FILTER || t == WIRE_SIG_PROPERTY;
}

int wire_sig_peek(const void *msg, size_t len, uint8_t *ret_kind, uint64_t *ret_id)
{
	struct wire_reader r;
	wire_rd_init(&r, msg, len);
	uint8_t version = wire_rd_u8(&r), kind = wire_rd_u8(&r);
	uint16_t flags = wire_rd_n16(&r);
	uint64_t id = wire_rd_n64(&r);
	if (r.err || len > WIRE_SIG_MSG_MAX)
		return -EBADMSG;
	if (version != WIRE_SIG_VERSION)
		return -EPROTONOSUPPORT;
	if (kind != WIRE_SIG_RESPONSE && kind != WIRE_SIG_HERE && (kind < WIRE_SIG_SETUP || kind > WIRE_SIG_TRIGGER))
		return -EBADMSG;
	if (kind == WIRE_SIG_HERE && len != WIRE_SIG_HDR_LEN)
		return -EBADMSG;
	if (kind != WIRE_SIG_RESPONSE && flags != 0)
		return -EBADMSG;
	if (kind == WIRE_SIG_RESPONSE && (flags & ~WIRE_SIG_F_TRUNCATED))
		return -EBADMSG;
	*ret_kind = kind;
	*ret_id = id;
	return 0;
}

static int parse_request(const uint8_t *msg, size_t len, struct wire_sig_request *q, int depth)
{
	uint8_t kind;
	uint64_t id;
	int rc = wire_sig_peek(msg, len, &kind, &id);
	if (rc < 0)
		return rc;
	if (kind == WIRE_SIG_RESPONSE || kind == WIRE_SIG_HERE)
		return -EBADMSG;
	memset(q, 0, sizeof(*q));
	q->kind = kind;
	q->id = id;
	uint32_t allowed = allowed_fields(kind);
	struct wire_reader r;
	wire_rd_init(&r, msg, len);
	wire_rd_skip(&r, WIRE_SIG_HDR_LEN);
	while (wire_rd_left(&r) > 0) {
		size_t at = r.off;
		uint16_t t = wire_rd_n16(&r), n = wire_rd_n16(&r);
		const uint8_t *v = wire_rd_take(&r, n);
		if (r.err)
			return -EBADMSG;
		if (t == WIRE_SIG_SIGNATURE) {
			/* Last: nothing may follow what the signature covers. */
			if (n != WIRE_SIG_SIG_LEN || wire_rd_left(&r) != 0)
				return -EBADMSG;
			q->signed_len = at;
			q->signature = v;
			q->present |= 1u << 31;
			break;
		}
		if (t >= 31 || !(allowed >> t & 1u))
			return -EBADMSG;
		if ((q->present >> t & 1u) && !repeated(t))
			return -EBADMSG;
		q->present |= 1u << t;
		struct wire_reader fr;
		wire_rd_init(&fr, v, n);
		bool ok = true;
		switch (t) {
		case WIRE_SIG_TIME:
			q->time = wire_rd_n64(&fr);
			ok = n == 8;
			break;
		case WIRE_SIG_NONCE:
			wire_rd_copy(&fr, q->nonce, 16);
			ok = n == 16;
			break;
		case WIRE_SIG_USER:
			ok = take_name(v, n, WIRE_SIG_USER_MAX, q->user);
			break;
		case WIRE_SIG_MODULE:
			ok = take_name(v, n, WIRE_SIG_NAME_MAX, q->module);
			break;
		case WIRE_SIG_MOD_VERSION:
			ok = take_name(v, n, WIRE_SIG_VERSION_MAX, q->version);
			break;
		case WIRE_SIG_DEPENDENCY:
			ok = q->n_deps < WIRE_SIG_DEPS_MAX && take_name(v, n, WIRE_SIG_NAME_MAX, q->deps[q->n_deps++]);
			break;
		case WIRE_SIG_FILTER: {
			uint8_t rsv = 0;
			if (q->n_filters >= WIRE_SIG_FILTERS_MAX || n != FILTER_LEN)
				return -EBADMSG;
			struct wire_sig_filter *f = &q->filters[q->n_filters++];
			rd_filter(&fr, f, &rsv);
			ok = rsv == 0 && filter_ok(f);
			break;
		}
		case WIRE_SIG_NOTIFY:
			ok = n == ADDR_LEN && wire_rd_addr(&fr, &q->notify) && addr_ok(&q->notify);
			break;
		case WIRE_SIG_PROPERTY:
			ok = q->n_props < WIRE_SIG_PROPS_MAX &&
			     take_prop(v, n, q->props[q->n_props].key, q->props[q->n_props].value);
			q->n_props++;
			break;
		case WIRE_SIG_LIFETIME:
			q->lifetime = wire_rd_n32(&fr);
			ok = n == 4 && q->lifetime >= 1 && q->lifetime <= WIRE_SIG_LIFETIME_MAX;
			break;
		case WIRE_SIG_URL:
			ok = url_ok(v, n);
			if (ok) {
				memcpy(q->url, v, n);
				q->url[n] = '\0';
			}
			break;
		case WIRE_SIG_HASH:
			wire_rd_copy(&fr, q->hash, 32);
			ok = n == 32;
			break;
		case WIRE_SIG_SIZE:
			q->size = wire_rd_n32(&fr);
			ok = n == 4 && q->size >= 1 && q->size <= WIRE_SIG_MODULE_MAX;
			break;
		case WIRE_SIG_MOD_KIND:
			q->mod_kind = wire_rd_u8(&fr);
			ok = n == 1 && (q->mod_kind == WIRE_SIG_KIND_PACKET || q->mod_kind == WIRE_SIG_KIND_PROCESS);
			break;
		case WIRE_SIG_ORIGIN:
			ok = n == ADDR_LEN && wire_rd_addr(&fr, &q->origin) && addr_ok(&q->origin);
			break;
		case WIRE_SIG_INNER: {
			/* One level: a TRIGGER encloses a SETUP, REMOVE or PROBE. */
			struct wire_sig_request inner; /* only its validity matters here */
			uint8_t ik;
			uint64_t iid;
			ok = depth == 0 && wire_sig_peek(v, n, &ik, &iid) == 0 && ik >= WIRE_SIG_SETUP &&
			     ik <= WIRE_SIG_PROBE && parse_request(v, n, &inner, depth + 1) == 0 &&
			     WIRE_SIG_HAS(&inner, WIRE_SIG_SIGNATURE);
			q->inner = v;
			q->inner_len = n;
			break;
		}
		}
		if (!ok || fr.err)
			return -EBADMSG;
	}
	uint32_t need = required_fields(kind);
	if ((q->present & need) != need || !(q->present >> 31 & 1u))
		return -EBADMSG;
	/* A packet module acts on packets: it needs a filter. */
	if (kind == WIRE_SIG_SETUP && q->mod_kind == WIRE_SIG_KIND_PACKET && q->n_filters == 0)
		return -EBADMSG;
	return 0;
}

int wire_sig_parse(const void *msg, size_t len, struct wire_sig_request *ret)
{
	return parse_request(msg, len, ret, 0);
}

bool wire_sig_verify(const void *msg, const struct wire_sig_request *q, const uint8_t pk[32])
{
	if (!q->signature || q->signed_len > WIRE_SIG_MSG_MAX)
		return false;
	uint8_t buf[sizeof(DOMAIN) + WIRE_SIG_MSG_MAX];
	memcpy(buf, DOMAIN, sizeof(DOMAIN));
	memcpy(buf + sizeof(DOMAIN), msg, q->signed_len);
	return crypto_sign_verify_detached(q->signature, buf, sizeof(DOMAIN) + q->signed_len, pk) == 0;
}

static void wr_tlv(struct wire_writer *w, uint16_t t, const void *v, size_t n)
{
	wire_wr_n16(w, t);
	wire_wr_n16(w, (uint16_t)n);
	wire_wr_copy(w, v, n);
}

static void wr_str(struct wire_writer *w, uint16_t t, const char *s)
{
	wr_tlv(w, t, s, strlen(s));
}

static void wr_n32(struct wire_writer *w, uint16_t t, uint32_t v)
{
	wire_wr_n16(w, t);
	wire_wr_n16(w, 4);
	wire_wr_n32(w, v);
}

static void wr_addr_tlv(struct wire_writer *w, uint16_t t, const struct an_addr *a)
{
	wire_wr_n16(w, t);
	wire_wr_n16(w, ADDR_LEN);
	wire_wr_addr(w, a);
}

ssize_t wire_sig_build(void *buf, size_t cap, const struct wire_sig_request *q, const uint8_t sk[64])
{
	struct wire_writer w;
	if (q->kind < WIRE_SIG_SETUP || q->kind > WIRE_SIG_TRIGGER)
		return -EINVAL;
	if (cap > WIRE_SIG_MSG_MAX)
		cap = WIRE_SIG_MSG_MAX;
	wire_wr_init(&w, buf, cap);
	wire_wr_u8(&w, WIRE_SIG_VERSION);
	wire_wr_u8(&w, q->kind);
	wire_wr_n16(&w, 0);
	wire_wr_n64(&w, q->id);
	uint32_t allowed = allowed_fields(q->kind);
	/* The fields in type order: TIME, NONCE, USER, then the kind's. */
	wire_wr_n16(&w, WIRE_SIG_TIME);
	wire_wr_n16(&w, 8);
	wire_wr_n64(&w, q->time);
	wr_tlv(&w, WIRE_SIG_NONCE, q->nonce, 16);
	wr_str(&w, WIRE_SIG_USER, q->user);
	if (q->module[0] && (allowed >> WIRE_SIG_MODULE & 1u))
		wr_str(&w, WIRE_SIG_MODULE, q->module);
	if (q->version[0] && (allowed >> WIRE_SIG_MOD_VERSION & 1u))
		wr_str(&w, WIRE_SIG_MOD_VERSION, q->version);
	for (size_t i = 0; i < q->n_deps && (allowed >> WIRE_SIG_DEPENDENCY & 1u); i++)
		wr_str(&w, WIRE_SIG_DEPENDENCY, q->deps[i]);
	for (size_t i = 0; i < q->n_filters && (allowed >> WIRE_SIG_FILTER & 1u); i++) {
		const struct wire_sig_filter *f = &q->filters[i];
		wire_wr_n16(&w, WIRE_SIG_FILTER);
		wire_wr_n16(&w, FILTER_LEN);
		wire_wr_u8(&w, f->proto);
		wire_wr_u8(&w, f->src_len);
		wire_wr_u8(&w, f->dst_len);
		wire_wr_u8(&w, 0);
		wire_wr_n16(&w, f->sport_lo);
		wire_wr_n16(&w, f->sport_hi);
		wire_wr_n16(&w, f->dport_lo);
		wire_wr_n16(&w, f->dport_hi);
		wire_wr_copy(&w, f->src, 16);
		wire_wr_copy(&w, f->dst, 16);
	}
	if (q->notify.port && (allowed >> WIRE_SIG_NOTIFY & 1u))
		wr_addr_tlv(&w, WIRE_SIG_NOTIFY, &q->notify);
	for (size_t i = 0; i < q->n_props && (allowed >> WIRE_SIG_PROPERTY & 1u); i++) {
		size_t kn = strlen(q->props[i].key), vn = strlen(q->props[i].value);
		wire_wr_n16(&w, WIRE_SIG_PROPERTY);
		wire_wr_n16(&w, (uint16_t)(kn + 1 + vn));
		wire_wr_copy(&w, q->props[i].key, kn);
		wire_wr_u8(&w, '=');
		wire_wr_copy(&w, q->props[i].value, vn);
	}
	if (q->lifetime && (allowed >> WIRE_SIG_LIFETIME & 1u))
		wr_n32(&w, WIRE_SIG_LIFETIME, q->lifetime);
	if (q->url[0] && (allowed >> WIRE_SIG_URL & 1u))
		wr_str(&w, WIRE_SIG_URL, q->url);
	if (q->kind == WIRE_SIG_SETUP) {
		wr_tlv(&w, WIRE_SIG_HASH, q->hash, 32);
		wr_n32(&w, WIRE_SIG_SIZE, q->size);
		wire_wr_n16(&w, WIRE_SIG_MOD_KIND);
		wire_wr_n16(&w, 1);
		wire_wr_u8(&w, q->mod_kind);
	}
	wr_addr_tlv(&w, WIRE_SIG_ORIGIN, &q->origin);
	if (q->kind == WIRE_SIG_TRIGGER)
		wr_tlv(&w, WIRE_SIG_INNER, q->inner, q->inner_len);
	if (w.err)
		return -EMSGSIZE;
	size_t signed_len = w.off;
	uint8_t *sig = NULL;
	wire_wr_n16(&w, WIRE_SIG_SIGNATURE);
	wire_wr_n16(&w, WIRE_SIG_SIG_LEN);
	sig = wire_wr_take(&w, WIRE_SIG_SIG_LEN);
	if (w.err || !sig)
		return -EMSGSIZE;
	uint8_t m[sizeof(DOMAIN) + WIRE_SIG_MSG_MAX];
	memcpy(m, DOMAIN, sizeof(DOMAIN));
	memcpy(m + sizeof(DOMAIN), buf, signed_len);
	crypto_sign_detached(sig, NULL, m, sizeof(DOMAIN) + signed_len, sk);
	/* What the parser would refuse is refused here too. */
	struct wire_sig_request check;
	if (wire_sig_parse(buf, w.off, &check) < 0)
		return -EINVAL;
	return (ssize_t)w.off;
}

/* ---- responses ---- */

static int parse_entry(const uint8_t *v, size_t n, struct wire_sig_entry *e)
{
	struct wire_reader r;
	uint32_t seen = 0;
	memset(e, 0, sizeof(*e));
	wire_rd_init(&r, v, n);
	while (wire_rd_left(&r) > 0) {
		uint16_t t = wire_rd_n16(&r), fl = wire_rd_n16(&r);
		const uint8_t *fv = wire_rd_take(&r, fl);
		if (r.err || t < WIRE_SIG_E_ADDRESS || t > WIRE_SIG_E_INSTALLED)
			return -EBADMSG;
		if ((seen >> t & 1u) && t != WIRE_SIG_E_INSTALLED)
			return -EBADMSG;
		seen |= 1u << t;
		struct wire_reader fr;
		wire_rd_init(&fr, fv, fl);
		bool ok = true;
		switch (t) {
		case WIRE_SIG_E_ADDRESS:
			ok = fl == ADDR_LEN && wire_rd_addr(&fr, &e->address);
			break;
		case WIRE_SIG_E_CAPS:
			e->ee_kinds = wire_rd_n16(&fr);
			e->sandbox_kinds = wire_rd_n16(&fr);
			e->free_modules = wire_rd_n32(&fr);
			e->free_memory_kb = wire_rd_n64(&fr);
			e->has_caps = true;
			ok = fl == 16;
			break;
		case WIRE_SIG_E_LOAD:
			e->load_milli = wire_rd_n32(&fr);
			e->has_load = true;
			ok = fl == 4;
			break;
		case WIRE_SIG_E_RESULT: {
			e->status = (int32_t)wire_rd_n32(&fr);
			size_t wn = fl >= 4 ? fl - 4u : 0;
			ok = fl >= 4 && wn <= WIRE_SIG_WHY_MAX && e->status <= 0 && e->status > -4096 &&
			     wire_printable(fv + 4, wn);
			if (ok) {
				memcpy(e->why, fv + 4, wn);
				e->why[wn] = '\0';
			}
			e->has_result = true;
			break;
		}
		case WIRE_SIG_E_INSTALLED: {
			if (e->n_installed >= WIRE_SIG_INSTALLED_MAX)
				return -EBADMSG;
			struct wire_sig_installed *m = &e->installed[e->n_installed++];
			m->remaining_s = wire_rd_n32(&fr);
			uint8_t nl = wire_rd_u8(&fr), vl = wire_rd_u8(&fr);
			const uint8_t *nm = wire_rd_take(&fr, nl), *vs = wire_rd_take(&fr, vl);
			ok = !fr.err && wire_rd_left(&fr) == 0 && take_name(nm, nl, WIRE_SIG_NAME_MAX, m->name) &&
			     (vl == 0 || take_name(vs, vl, WIRE_SIG_VERSION_MAX, m->version));
			break;
		}
		}
		if (!ok || fr.err)
			return -EBADMSG;
	}
	/* Every entry says which node it is. */
	return seen >> WIRE_SIG_E_ADDRESS & 1u ? 0 : -EBADMSG;
}

int wire_sig_response_parse(const void *msg, size_t len, struct wire_sig_response *ret)
{
	uint8_t kind;
	uint64_t id;
	int rc = wire_sig_peek(msg, len, &kind, &id);
	if (rc < 0)
		return rc;
	if (kind != WIRE_SIG_RESPONSE)
		return -EBADMSG;
	struct wire_reader r;
	wire_rd_init(&r, msg, len);
	wire_rd_skip(&r, 2);
	ret->flags = wire_rd_n16(&r);
	ret->id = id;
	wire_rd_skip(&r, 8);
	ret->n_entries = 0;
	while (wire_rd_left(&r) > 0) {
		uint16_t t = wire_rd_n16(&r), n = wire_rd_n16(&r);
		const uint8_t *v = wire_rd_take(&r, n);
		if (r.err || t != WIRE_SIG_ENTRY || ret->n_entries >= WIRE_SIG_ENTRIES_MAX)
			return -EBADMSG;
		rc = parse_entry(v, n, &ret->entries[ret->n_entries++]);
		if (rc < 0)
			return rc;
	}
	return 0;
}

ssize_t wire_sig_response_start(void *buf, size_t cap, uint64_t id)
{
	struct wire_writer w;
	wire_wr_init(&w, buf, cap);
	wire_wr_u8(&w, WIRE_SIG_VERSION);
	wire_wr_u8(&w, WIRE_SIG_RESPONSE);
	wire_wr_n16(&w, 0);
	wire_wr_n64(&w, id);
	return w.err ? -EMSGSIZE : (ssize_t)w.off;
}

ssize_t wire_sig_here_build(void *buf, size_t cap, uint64_t id)
{
	struct wire_writer w;
	wire_wr_init(&w, buf, cap);
	wire_wr_u8(&w, WIRE_SIG_VERSION);
	wire_wr_u8(&w, WIRE_SIG_HERE);
	wire_wr_n16(&w, 0);
	wire_wr_n64(&w, id);
	return w.err ? -EMSGSIZE : (ssize_t)w.off;
}

static bool entry_ok(const struct wire_sig_entry *e)
{
	if (e->n_installed > WIRE_SIG_INSTALLED_MAX || (e->has_result && (e->status > 0 || e->status <= -4096)))
		return false;
	size_t wn = strlen(e->why);
	if (wn > WIRE_SIG_WHY_MAX || !wire_printable((const uint8_t *)e->why, wn))
		return false;
	for (size_t i = 0; i < e->n_installed; i++) {
		size_t nl = strlen(e->installed[i].name), vl = strlen(e->installed[i].version);
		if (nl < 1 || nl > WIRE_SIG_NAME_MAX || vl > WIRE_SIG_VERSION_MAX ||
		    !wire_name_chars((const uint8_t *)e->installed[i].name, nl, true) ||
		    !wire_name_chars((const uint8_t *)e->installed[i].version, vl, true))
			return false;
	}
	return true;
}

ssize_t wire_sig_response_push(void *buf, size_t cap, size_t len, const struct wire_sig_entry *e)
{
	uint8_t kind;
	uint64_t id;
	if (len < WIRE_SIG_HDR_LEN || len > cap || wire_sig_peek(buf, len, &kind, &id) < 0 ||
	    kind != WIRE_SIG_RESPONSE || !entry_ok(e))
		return -EINVAL;
	/* Count the entries already there. */
	struct wire_reader r;
	size_t entries = 0;
	wire_rd_init(&r, buf, len);
	wire_rd_skip(&r, WIRE_SIG_HDR_LEN);
	while (wire_rd_left(&r) > 0) {
		wire_rd_n16(&r);
		wire_rd_skip(&r, wire_rd_n16(&r));
		entries++;
	}
	if (r.err)
		return -EINVAL;
	if (cap > WIRE_SIG_MSG_MAX)
		cap = WIRE_SIG_MSG_MAX;
	struct wire_writer w;
	wire_wr_init(&w, buf, cap);
	wire_wr_take(&w, len);
	size_t start = w.off;
	wire_wr_n16(&w, WIRE_SIG_ENTRY);
	wire_wr_n16(&w, 0); /* its length, once known */
	wr_addr_tlv(&w, WIRE_SIG_E_ADDRESS, &e->address);
	if (e->has_caps) {
		wire_wr_n16(&w, WIRE_SIG_E_CAPS);
		wire_wr_n16(&w, 16);
		wire_wr_n16(&w, e->ee_kinds);
		wire_wr_n16(&w, e->sandbox_kinds);
		wire_wr_n32(&w, e->free_modules);
		wire_wr_n64(&w, e->free_memory_kb);
	}
	if (e->has_load)
		wr_n32(&w, WIRE_SIG_E_LOAD, e->load_milli);
	if (e->has_result) {
		size_t wn = strlen(e->why);
		wire_wr_n16(&w, WIRE_SIG_E_RESULT);
		wire_wr_n16(&w, (uint16_t)(4 + wn));
		wire_wr_n32(&w, (uint32_t)e->status);
		wire_wr_copy(&w, e->why, wn);
	}
	for (size_t i = 0; i < e->n_installed; i++) {
		const struct wire_sig_installed *m = &e->installed[i];
		size_t nl = strlen(m->name), vl = strlen(m->version);
		wire_wr_n16(&w, WIRE_SIG_E_INSTALLED);
		wire_wr_n16(&w, (uint16_t)(6 + nl + vl));
		wire_wr_n32(&w, m->remaining_s);
		wire_wr_u8(&w, (uint8_t)nl);
		wire_wr_u8(&w, (uint8_t)vl);
		wire_wr_copy(&w, m->name, nl);
		wire_wr_copy(&w, m->version, vl);
	}
	uint8_t *b = buf;
	if (w.err || entries >= WIRE_SIG_ENTRIES_MAX) {
		/* No room: the requester learns the stack is cut short. */
		uint16_t flags = (uint16_t)(b[2] << 8 | b[3]) | WIRE_SIG_F_TRUNCATED;
		b[2] = (uint8_t)(flags >> 8);
		b[3] = (uint8_t)flags;
		return (ssize_t)len;
	}
	size_t elen = w.off - start - WIRE_SIG_TLV_HDR;
	b[start + 2] = (uint8_t)(elen >> 8);
	b[start + 3] = (uint8_t)elen;
	return (ssize_t)w.off;
}
