/* SPDX-License-Identifier: MIT */
/*
 * Node addresses as text, for configuration files, the CLI and logs:
 * "a.b.c.d:port" for IPv4 (stored v4-mapped) and "[v6]:port" for IPv6.
 * The port is required and must be 1..65535; anything else in the string is
 * an error, so that a typo in a config file is reported, not half-read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wire/wire.h"

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Decimal digits only, 1 to max_digits of them: no sign, no spaces. */
static int parse_digits(const char *s, size_t max_digits, unsigned *ret)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > max_digits)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Decimal 1..65535, at most 5 digits. */
static int parse_port(const char *s, uint16_t *ret)
{
	unsigned v;

	if (parse_digits(s, 5, &v) < 0 || v == 0 || v > 65535)
		return -EINVAL;
	*ret = (uint16_t)v;
	return 0;
}

int wire_addr_parse(const char *s, struct an_addr *ret)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *port_str;
	struct an_addr a;
	uint16_t port;
	size_t host_len;
	struct in_addr v4;

	if (!s)
		return -EINVAL;
	memset(&a, 0, sizeof(a));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host_len = (size_t)(end - s - 1);
		if (host_len == 0 || host_len >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, host_len);
		host[host_len] = '\0';
		port_str = end + 2;
		if (inet_pton(AF_INET6, host, a.ip) != 1)
			return -EINVAL;
	} else {
		/* An unbracketed IPv6 address has more than one colon and fails
		 * inet_pton(AF_INET) below. */
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		host_len = (size_t)(colon - s);
		if (host_len == 0 || host_len >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, host_len);
		host[host_len] = '\0';
		port_str = colon + 1;
		if (inet_pton(AF_INET, host, &v4) != 1)
			return -EINVAL;
		memcpy(a.ip, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(a.ip + 12, &v4.s_addr, 4);
	}
	if (parse_port(port_str, &port) < 0)
		return -EINVAL;
	a.port = htons(port);

	*ret = a;
	return 0;
}

char *wire_addr_format(const struct an_addr *a, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];
	unsigned port = ntohs(a->port);

	if (len == 0)
		return buf;
	if (memcmp(a->ip, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
		snprintf(buf, len, "%u.%u.%u.%u:%u", a->ip[12], a->ip[13], a->ip[14], a->ip[15], port);
		return buf;
	}
	if (!inet_ntop(AF_INET6, a->ip, host, sizeof(host)))
		snprintf(host, sizeof(host), "?"); /* cannot happen with a 46-octet buffer */
	snprintf(buf, len, "[%s]:%u", host, port);
	return buf;
}

int wire_prefix_parse(const char *s, struct an_prefix *ret)
{
	char host[INET6_ADDRSTRLEN];
	struct an_prefix p;
	struct in_addr v4;
	const char *slash;
	size_t host_len;
	unsigned len = 0, max;

	if (!s)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	slash = strchr(s, '/');
	host_len = slash ? (size_t)(slash - s) : strlen(s);
	if (host_len == 0 || host_len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, host_len);
	host[host_len] = '\0';
	if (inet_pton(AF_INET, host, &v4) == 1) {
		memcpy(p.ip, v4_mapped_prefix, sizeof(v4_mapped_prefix));
		memcpy(p.ip + 12, &v4.s_addr, 4);
		max = 32;
	} else if (inet_pton(AF_INET6, host, p.ip) == 1) {
		max = 128;
	} else {
		return -EINVAL;
	}
	if (!slash)
		len = max;
	else if (parse_digits(slash + 1, 3, &len) < 0 || len > max)
		return -EINVAL;
	p.len = (uint8_t)(len + 128 - max);
	if (!wire_prefix_valid(&p))
		return -EINVAL;
	*ret = p;
	return 0;
}

bool wire_prefix_valid(const struct an_prefix *p)
{
	if (p->len > 128)
		return false;
	for (unsigned bit = p->len; bit < 128; bit++)
		if (p->ip[bit / 8] & (0x80u >> (bit % 8)))
			return false;
	return true;
}

bool wire_prefix_contains(const struct an_prefix *p, const uint8_t ip[16])
{
	unsigned whole = p->len / 8, rest = p->len % 8;
	if (memcmp(p->ip, ip, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff00u >> rest);
	return (p->ip[whole] & mask) == (ip[whole] & mask);
}

char *wire_prefix_format(const struct an_prefix *p, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (len == 0)
		return buf;
	if (p->len >= 96 && memcmp(p->ip, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0) {
		snprintf(buf, len, "%u.%u.%u.%u/%u", p->ip[12], p->ip[13], p->ip[14], p->ip[15], p->len - 96u);
		return buf;
	}
	if (!inet_ntop(AF_INET6, p->ip, host, sizeof(host)))
		snprintf(host, sizeof(host), "?");
	snprintf(buf, len, "%s/%u", host, p->len);
	return buf;
}
