// SPDX-License-Identifier: MIT
/*
 * RTSP messages (rtsp.h). The header block is found first (an empty line
 * within WIRE_RTSP_HDR_MAX octets), then read line by line; nothing is
 * read past it but the body's length.
 */
#include "wire/rtsp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 2326 §15: token characters. */
static bool token_char(int c)
{
	return c > 32 && c < 127 && !strchr("()<>@,;:\\\"/[]?={}", c);
}

/* RFC 2326 §3.4: session-id characters. */
static bool session_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr("$-_.+", c));
}

/* A decimal number of at most digits digits, up to max: 0 or -1. */
static int decimal(const char *s, size_t n, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*ret = v;
	return 0;
}

/* "LO" or "LO-HI" port numbers. */
static int ports(const char *s, size_t n, uint16_t *lo, uint16_t *hi)
{
	const char *dash = memchr(s, '-', n);
	uint64_t a, b;
	size_t an = dash ? (size_t)(dash - s) : n;
	if (decimal(s, an, 65535, &a) < 0)
		return -1;
	b = a;
	if (dash && decimal(dash + 1, n - an - 1, 65535, &b) < 0)
		return -1;
	if (b < a)
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* The first transport spec's parameters that name ports. */
static int transport(const char *v, size_t n, struct wire_rtsp *m)
{
	const char *end = memchr(v, ',', n);
	if (end)
		n = (size_t)(end - v);
	for (size_t i = 0; i < n;) {
		const char *p = v + i, *semi = memchr(p, ';', n - i);
		size_t pn = semi ? (size_t)(semi - p) : n - i;
		if (pn > 12 && !strncasecmp(p, "client_port=", 12) &&
		    ports(p + 12, pn - 12, &m->client_port_lo, &m->client_port_hi) < 0)
			return -1;
		if (pn > 12 && !strncasecmp(p, "server_port=", 12) &&
		    ports(p + 12, pn - 12, &m->server_port_lo, &m->server_port_hi) < 0)
			return -1;
		i += pn + 1;
	}
	return 0;
}

static int header(const char *name, size_t nn, const char *v, size_t vn, struct wire_rtsp *m)
{
	uint64_t x;
	if (nn == 4 && !strncasecmp(name, "CSeq", 4)) {
		if (m->has_cseq || decimal(v, vn, 0x7fffffff, &x) < 0)
			return -1;
		m->cseq = (uint32_t)x;
		m->has_cseq = true;
	} else if (nn == 14 && !strncasecmp(name, "Content-Length", 14)) {
		if (decimal(v, vn, WIRE_RTSP_BODY_MAX, &x) < 0)
			return -1;
		m->content_length = (size_t)x;
	} else if (nn == 7 && !strncasecmp(name, "Session", 7)) {
		const char *semi = memchr(v, ';', vn);
		size_t idn = semi ? (size_t)(semi - v) : vn;
		if (m->has_session || idn == 0 || idn > WIRE_RTSP_SESSION_MAX)
			return -1;
		for (size_t i = 0; i < idn; i++)
			if (!session_char((unsigned char)v[i]))
				return -1;
		memcpy(m->session, v, idn);
		m->session[idn] = '\0';
		m->has_session = true;
		if (semi) {
			const char *t = semi + 1;
			size_t tn = vn - idn - 1;
			while (tn && *t == ' ')
				t++, tn--;
			if (tn < 8 || strncasecmp(t, "timeout=", 8) || decimal(t + 8, tn - 8, 86400 * 365, &x) < 0)
				return -1;
			m->session_timeout = (uint32_t)x;
		}
	} else if (nn == 9 && !strncasecmp(name, "Transport", 9)) {
		if (m->has_transport || transport(v, vn, m) < 0)
			return -1;
		m->has_transport = true;
	}
	return 0;
}

static int start_line(const char *s, size_t n, struct wire_rtsp *m)
{
	if (n >= 12 && !memcmp(s, "RTSP/", 5)) {
		/* RTSP/1.0 200 OK */
		uint64_t st;
		if (memcmp(s, "RTSP/1.0 ", 9) && memcmp(s, "RTSP/2.0 ", 9))
			return -1;
		if (decimal(s + 9, 3, 599, &st) < 0 || st < 100 || (n > 12 && s[12] != ' '))
			return -1;
		for (size_t i = 12; i < n; i++)
			if ((unsigned char)s[i] < 32 && s[i] != '\t')
				return -1;
		m->response = true;
		m->status = (uint16_t)st;
		return 0;
	}
	/* METHOD URI RTSP/1.0 */
	const char *sp1 = memchr(s, ' ', n);
	if (!sp1 || sp1 == s || (size_t)(sp1 - s) > WIRE_RTSP_METHOD_MAX)
		return -1;
	const char *u = sp1 + 1, *sp2 = memchr(u, ' ', n - (size_t)(u - s));
	if (!sp2 || sp2 == u || (size_t)(sp2 - u) > WIRE_RTSP_URI_MAX)
		return -1;
	size_t rest = n - (size_t)(sp2 + 1 - s);
	if (rest != 8 || (memcmp(sp2 + 1, "RTSP/1.0", 8) && memcmp(sp2 + 1, "RTSP/2.0", 8)))
		return -1;
	for (const char *p = s; p < sp1; p++)
		if (!token_char((unsigned char)*p))
			return -1;
	for (const char *p = u; p < sp2; p++)
		if ((unsigned char)*p <= 32 || (unsigned char)*p >= 127)
			return -1;
	memcpy(m->method, s, (size_t)(sp1 - s));
	m->method[sp1 - s] = '\0';
	memcpy(m->uri, u, (size_t)(sp2 - u));
	m->uri[sp2 - u] = '\0';
	return 0;
}

ssize_t wire_rtsp_parse(const void *buf, size_t len, struct wire_rtsp *ret)
{
	const char *b = buf;
	memset(ret, 0, sizeof(*ret));
	size_t at = 0, lines = 0;
	for (;;) {
		if (at >= len)
			return len >= WIRE_RTSP_HDR_MAX ? -EBADMSG : 0;
		const char *nl = memchr(b + at, '\n', len - at);
		if (!nl) {
			/* No end of line yet: read more, unless this line or the
			 * header block is too long already. */
			return len - at > WIRE_RTSP_LINE_MAX || len >= WIRE_RTSP_HDR_MAX ? -EBADMSG : 0;
		}
		size_t n = (size_t)(nl - (b + at)), next = at + n + 1;
		if (n > 0 && b[at + n - 1] == '\r')
			n--;
		if (n > WIRE_RTSP_LINE_MAX || next > WIRE_RTSP_HDR_MAX)
			return -EBADMSG;
		const char *line = b + at;
		if (lines == 0) {
			if (start_line(line, n, ret) < 0)
				return -EBADMSG;
		} else if (n == 0) {
			ret->hdr_len = next;
			break;
		} else {
			const char *colon = memchr(line, ':', n);
			if (!colon || colon == line || lines > WIRE_RTSP_HEADERS_MAX)
				return -EBADMSG;
			for (const char *p = line; p < colon; p++)
				if (!token_char((unsigned char)*p))
					return -EBADMSG;
			const char *v = colon + 1;
			size_t vn = n - (size_t)(v - line);
			while (vn && (*v == ' ' || *v == '\t'))
				v++, vn--;
			while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
				vn--;
			for (size_t i = 0; i < vn; i++)
				if ((unsigned char)v[i] < 32 && v[i] != '\t')
					return -EBADMSG;
			if (header(line, (size_t)(colon - line), v, vn, ret) < 0)
				return -EBADMSG;
		}
		lines++;
		at = next;
	}
	ret->len = ret->hdr_len + ret->content_length;
	return ret->len <= len ? (ssize_t)ret->len : 0;
}

ssize_t wire_rtsp_request(void *buf, size_t cap, const char *method, const char *uri, uint32_t cseq,
			  const char *session)
{
	size_t mn = strlen(method), un = strlen(uri);
	if (mn == 0 || mn > WIRE_RTSP_METHOD_MAX || un == 0 || un > WIRE_RTSP_URI_MAX || cseq > 0x7fffffff)
		return -EINVAL;
	for (size_t i = 0; i < mn; i++)
		if (!token_char((unsigned char)method[i]))
			return -EINVAL;
	for (size_t i = 0; i < un; i++)
		if ((unsigned char)uri[i] <= 32 || (unsigned char)uri[i] >= 127)
			return -EINVAL;
	if (session) {
		size_t sn = strlen(session);
		if (sn == 0 || sn > WIRE_RTSP_SESSION_MAX)
			return -EINVAL;
		for (size_t i = 0; i < sn; i++)
			if (!session_char((unsigned char)session[i]))
				return -EINVAL;
	}
	int n = snprintf(buf, cap, "%s %s RTSP/1.0\r\nCSeq: %u\r\n%s%s%s\r\n", method, uri, cseq,
			 session ? "Session: " : "", session ? session : "", session ? "\r\n" : "");
	if (n < 0 || (size_t)n >= cap)
		return -EMSGSIZE;
	return n;
}
