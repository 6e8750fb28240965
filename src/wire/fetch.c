// SPDX-License-Identifier: MIT
/*
 * The module fetcher's channel (fetch.h).
 */
#include "wire/fetch.h"

#include "wire/reader.h"

static bool url_ok(const char *u, size_t n)
{
	return n >= WIRE_FETCH_URL_MIN && n <= WIRE_FETCH_URL_MAX && wire_printable((const uint8_t *)u, n) &&
	       (!strncmp(u, "http://", 7) || !strncmp(u, "https://", 8));
}

static bool result_ok(const struct wire_fetch *f, size_t why_len)
{
	return f->status <= 0 && f->status > -4096 && (f->status == 0 || f->length == 0) &&
	       why_len <= WIRE_FETCH_WHY_MAX && wire_printable((const uint8_t *)f->why, why_len);
}

int wire_fetch_parse(const void *msg, size_t len, struct wire_fetch *ret)
{
	struct wire_reader r;
	if (len > WIRE_FETCH_MSG_MAX)
		return -EBADMSG;
	wire_rd_init(&r, msg, len);
	memset(ret, 0, sizeof(*ret));
	ret->kind = wire_rd_u8(&r);
	ret->id = wire_rd_n64(&r);
	size_t n;
	switch (ret->kind) {
	case WIRE_FETCH_GET:
		ret->max = wire_rd_n32(&r);
		ret->timeout_ms = wire_rd_n32(&r);
		n = wire_rd_left(&r);
		if (r.err || n > WIRE_FETCH_URL_MAX)
			return -EBADMSG;
		memcpy(ret->url, wire_rd_take(&r, n), n);
		ret->url[n] = '\0';
		return url_ok(ret->url, n) && ret->max > 0 && ret->timeout_ms > 0 ? 0 : -EBADMSG;
	case WIRE_FETCH_RESULT:
		ret->status = (int32_t)wire_rd_n32(&r);
		ret->http = wire_rd_n16(&r);
		ret->length = wire_rd_n32(&r);
		n = wire_rd_left(&r);
		if (r.err || n > WIRE_FETCH_WHY_MAX)
			return -EBADMSG;
		memcpy(ret->why, wire_rd_take(&r, n), n);
		ret->why[n] = '\0';
		return result_ok(ret, n) ? 0 : -EBADMSG;
	case WIRE_FETCH_CA:
		n = wire_rd_left(&r);
		if (r.err || n == 0 || n > WIRE_FETCH_CHUNK_MAX || ret->id != 0)
			return -EBADMSG;
		ret->data = wire_rd_take(&r, n);
		ret->data_len = n;
		return 0;
	case WIRE_FETCH_CHUNK:
		ret->offset = wire_rd_n32(&r);
		n = wire_rd_left(&r);
		if (r.err || n == 0 || n > WIRE_FETCH_CHUNK_MAX)
			return -EBADMSG;
		ret->data = wire_rd_take(&r, n);
		ret->data_len = n;
		return 0;
	}
	return -EBADMSG;
}

ssize_t wire_fetch_build(void *buf, size_t cap, const struct wire_fetch *f)
{
	struct wire_writer w;
	wire_wr_init(&w, buf, cap);
	wire_wr_u8(&w, f->kind);
	wire_wr_n64(&w, f->id);
	size_t n;
	switch (f->kind) {
	case WIRE_FETCH_GET:
		n = strnlen(f->url, sizeof(f->url));
		if (!url_ok(f->url, n) || f->max == 0 || f->timeout_ms == 0)
			return -EINVAL;
		wire_wr_n32(&w, f->max);
		wire_wr_n32(&w, f->timeout_ms);
		wire_wr_copy(&w, f->url, n);
		break;
	case WIRE_FETCH_RESULT:
		n = strnlen(f->why, sizeof(f->why));
		if (!result_ok(f, n))
			return -EINVAL;
		wire_wr_n32(&w, (uint32_t)f->status);
		wire_wr_n16(&w, f->http);
		wire_wr_n32(&w, f->length);
		wire_wr_copy(&w, f->why, n);
		break;
	case WIRE_FETCH_CHUNK:
		if (f->data_len == 0 || f->data_len > WIRE_FETCH_CHUNK_MAX)
			return -EINVAL;
		wire_wr_n32(&w, f->offset);
		wire_wr_copy(&w, f->data, f->data_len);
		break;
	case WIRE_FETCH_CA:
		if (f->data_len == 0 || f->data_len > WIRE_FETCH_CHUNK_MAX || f->id != 0)
			return -EINVAL;
		wire_wr_copy(&w, f->data, f->data_len);
		break;
	default:
		return -EINVAL;
	}
	return w.err ? -EMSGSIZE : (ssize_t)w.off;
}
