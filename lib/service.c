// SPDX-License-Identifier: MIT
/*
 * libanode for service processes (include/anode/service.h): records of the
 * service API (src/wire/svcapi.c, docs/wire.md §5c) over the service's
 * socket.
 */
#include "anode/service.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/wire.h"

struct an_service {
	int fd;
	uint32_t next_tag;
	char params[WIRE_SVC_PARAMS_MAX + 1];
	uint8_t buf[WIRE_SAPI_MSG_MAX];
};

struct an_service *an_service_open(void)
{
	const char *e = getenv("ANODE_SERVICE_FD");
	char *end;
	long fd = e ? strtol(e, &end, 10) : -1;
	if (!e || *end || fd < 0 || fd > 65535) {
		errno = EBADF;
		return NULL;
	}
	struct an_service *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->fd = (int)fd;
	s->next_tag = 1;
	const char *p = getenv("ANODE_PARAMS");
	snprintf(s->params, sizeof(s->params), "%s", p ? p : "");
	return s;
}

void an_service_close(struct an_service *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

int an_service_fd(const struct an_service *s)
{
	return s->fd;
}

const char *an_service_params(const struct an_service *s)
{
	return s->params;
}

/* The value of KEY among the "KEY=VALUE" words of text (n octets, not
 * necessarily NUL-terminated), copied into buf. */
static int word_value(const char *text, size_t n, const char *key, char *buf, size_t len)
{
	size_t k = strlen(key);
	for (size_t i = 0; i < n;) {
		while (i < n && text[i] == ' ')
			i++;
		size_t w = 0;
		while (i + w < n && text[i + w] != ' ' && text[i + w] != 0)
			w++;
		if (w > k && !strncmp(text + i, key, k) && text[i + k] == '=') {
			size_t v = w - k - 1;
			if (v >= len)
				return -ENOSPC;
			memcpy(buf, text + i + k + 1, v);
			buf[v] = 0;
			return 0;
		}
		if (i + w < n && text[i + w] == 0)
			break;
		i += w;
	}
	return -ENOENT;
}

int an_service_param(const struct an_service *s, const char *key, char *buf, size_t len)
{
	return word_value(s->params, strlen(s->params), key, buf, len);
}

int an_service_event_value(const struct an_service_msg *m, const char *key, char *buf, size_t len)
{
	if (m->kind != AN_SVC_EVENT || !m->data)
		return -EINVAL;
	return word_value((const char *)m->data, m->len, key, buf, len);
}

static int send_rec(struct an_service *s, const struct wire_sapi *m)
{
	ssize_t n = wire_sapi_build(s->buf, sizeof(s->buf), m);
	if (n < 0)
		return (int)n;
	if (send(s->fd, s->buf, (size_t)n, MSG_NOSIGNAL) != n)
		return -errno;
	return 0;
}

int an_service_filter_add(struct an_service *s, const struct an_filter *f, uint32_t *ret_tag)
{
	struct wire_sapi m = {
		.type = WIRE_SAPI_FILTER_ADD,
		.tag = s->next_tag++,
		.filter = { .src = f->src, .dst = f->dst, .src_prefix = f->src_prefix, .dst_prefix = f->dst_prefix,
			    .proto = f->proto, .sport_lo = f->sport_lo, .sport_hi = f->sport_hi,
			    .dport_lo = f->dport_lo, .dport_hi = f->dport_hi },
	};
	if (ret_tag)
		*ret_tag = m.tag;
	return send_rec(s, &m);
}

int an_service_filter_del(struct an_service *s, uint32_t handle)
{
	struct wire_sapi m = { .type = WIRE_SAPI_FILTER_DEL, .handle = handle };
	return send_rec(s, &m);
}

int an_service_subscribe(struct an_service *s, const char *spec, uint32_t *ret_tag)
{
	struct wire_sapi m = { .type = WIRE_SAPI_SUBSCRIBE, .tag = s->next_tag++, .data = (const uint8_t *)spec,
			       .data_len = strlen(spec) };
	if (ret_tag)
		*ret_tag = m.tag;
	return send_rec(s, &m);
}

int an_service_unsubscribe(struct an_service *s, uint32_t handle)
{
	struct wire_sapi m = { .type = WIRE_SAPI_UNSUBSCRIBE, .handle = handle };
	return send_rec(s, &m);
}

int an_service_publish(struct an_service *s, const char *key, int64_t value)
{
	char text[80];
	int n = snprintf(text, sizeof(text), "%s %lld", key, (long long)value);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -EINVAL;
	struct wire_sapi m = { .type = WIRE_SAPI_PUBLISH, .data = (const uint8_t *)text, .data_len = (size_t)n };
	return send_rec(s, &m);
}

int an_service_verdict(struct an_service *s, uint32_t packet_id, enum an_verdict v, const void *pkt, size_t len)
{
	struct wire_sapi m = { .type = WIRE_SAPI_VERDICT, .packet_id = packet_id, .verdict = (uint8_t)v };
	if (v == AN_MODIFIED) {
		m.data = pkt;
		m.data_len = len;
	}
	return send_rec(s, &m);
}

int an_service_recv(struct an_service *s, struct an_service_msg *ret, int timeout_ms)
{
	for (;;) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		int r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		ssize_t n = recv(s->fd, s->buf, sizeof(s->buf), 0);
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EINTR ? -EAGAIN : -errno;
		struct wire_sapi m;
		if (wire_sapi_parse(s->buf, (size_t)n, &m) < 0)
			continue; /* not ours to understand: skip it */
		*ret = (struct an_service_msg){ .status = m.status, .tag = m.tag, .handle = m.handle,
						.packet_id = m.packet_id, .data = m.data, .len = m.data_len };
		switch (m.type) {
		case WIRE_SAPI_PARAMS:
			memcpy(s->params, m.data, m.data_len);
			s->params[m.data_len] = 0;
			ret->kind = AN_SVC_PARAMS;
			return 0;
		case WIRE_SAPI_FILTER_RESULT:
			ret->kind = AN_SVC_FILTER;
			return 0;
		case WIRE_SAPI_SUB_RESULT:
			ret->kind = AN_SVC_SUBSCRIBED;
			return 0;
		case WIRE_SAPI_PACKET:
			ret->kind = AN_SVC_PACKET;
			return 0;
		case WIRE_SAPI_EVENT:
			ret->kind = AN_SVC_EVENT;
			return 0;
		default:
			continue; /* a service's own record types: not sent by a node */
		}
	}
}
