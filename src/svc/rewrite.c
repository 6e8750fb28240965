// SPDX-License-Identifier: MIT
/*
 * Rewritten packets checked against the filter that caught them
 * (rewrite.h).
 */
#include "svc/rewrite.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* The parts of an IPv4 packet a filter names. */
struct hdr {
	uint32_t src, dst; /* network order */
	uint8_t proto;
	bool has_ports;
	uint16_t sport, dport; /* host order */
};

static bool parse(const uint8_t *p, size_t len, struct hdr *h)
{
	if (len < 20 || (p[0] >> 4) != 4)
		return false;
	size_t ihl = (size_t)(p[0] & 15) * 4;
	if (ihl < 20 || ihl > len)
		return false;
	/* A fragment's ports are not where they seem: refused whole. */
	if ((p[6] & 0x3f) || p[7])
		return false;
	memcpy(&h->src, p + 12, 4);
	memcpy(&h->dst, p + 16, 4);
	h->proto = p[9];
	h->has_ports = (h->proto == 17 || h->proto == 6) && len >= ihl + 4;
	h->sport = h->has_ports ? (uint16_t)(p[ihl] << 8 | p[ihl + 1]) : 0;
	h->dport = h->has_ports ? (uint16_t)(p[ihl + 2] << 8 | p[ihl + 3]) : 0;
	return true;
}

static bool in_prefix(uint32_t addr, uint32_t net, uint8_t prefix)
{
	uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	return prefix && (addr & mask) == (net & mask);
}

static bool in_ports(uint16_t port, uint16_t lo, uint16_t hi)
{
	return lo && port >= lo && port <= (hi ? hi : lo);
}

bool svc_rewrite_allowed(const struct match_filter *f, const uint8_t *orig, size_t olen, const uint8_t *pkt, size_t len,
			 char *why, size_t whylen)
{
	struct hdr o, n;
	char a[INET_ADDRSTRLEN];
	if (!parse(orig, olen, &o) || !parse(pkt, len, &n)) {
		snprintf(why, whylen, "not a whole IPv4 packet (or a fragment)");
		return false;
	}
	if (n.proto != o.proto) {
		snprintf(why, whylen, "protocol %u changed to %u", o.proto, n.proto);
		return false;
	}
	if (n.src != o.src && !in_prefix(n.src, f->src, f->src_prefix)) {
		snprintf(why, whylen, "source %s outside the filter", inet_ntop(AF_INET, &n.src, a, sizeof(a)));
		return false;
	}
	if (n.dst != o.dst && !in_prefix(n.dst, f->dst, f->dst_prefix)) {
		snprintf(why, whylen, "destination %s outside the filter", inet_ntop(AF_INET, &n.dst, a, sizeof(a)));
		return false;
	}
	if (n.has_ports != o.has_ports) {
		snprintf(why, whylen, "transport header cut");
		return false;
	}
	if (n.sport != o.sport && !in_ports(n.sport, f->sport_lo, f->sport_hi)) {
		snprintf(why, whylen, "source port %u outside the filter", n.sport);
		return false;
	}
	if (n.dport != o.dport && !in_ports(n.dport, f->dport_lo, f->dport_hi)) {
		snprintf(why, whylen, "destination port %u outside the filter", n.dport);
		return false;
	}
	return true;
}
