// SPDX-License-Identifier: MIT
/*
 * IPv4 and UDP headers, for router mode: the node reads the capsule out of
 * the IP packets NFQUEUE hands it, and rewrites a packet in place to send a
 * capsule on, so that the kernel forwards it (see wire.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "wire/wire.h"

#define IPV4_HDR_MIN 20
#define UDP_HDR_LEN 8

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

/*
 * The bulk is summed 8 octets at a time in the machine's own order and
 * folded, then put in network order: the one's complement sum does not
 * care in which order the octets of every word are taken, as long as it is
 * the same for all (RFC 1071 §2(B)). A 1400-octet payload costs a quarter
 * of what 16-bit steps did (AF_XDP finishes offloaded checksums with it).
 */
uint32_t wire_csum_add(uint32_t sum, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	if (len >= 16) {
		uint64_t acc = 0;
		for (; len >= 8; b += 8, len -= 8) {
			uint64_t v;
			memcpy(&v, b, 8);
			acc += (v & 0xffffffffu) + (v >> 32);
		}
		while (acc >> 16)
			acc = (acc & 0xffff) + (acc >> 16);
		uint16_t w = (uint16_t)acc;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w = __builtin_bswap16(w);
#endif
		sum += w;
	}
	for (; len > 1; b += 2, len -= 2)
		sum += get16(b);
	if (len)
		sum += (uint32_t)b[0] << 8;
	return sum;
}

uint16_t wire_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* The IPv4 header of a packet of protocol proto, not a fragment: its
 * length and the packet's, inside len. */
static int ipv4_hdr(const uint8_t *b, size_t len, uint8_t proto, size_t *ret_ihl, size_t *ret_total)
{
	if (len < IPV4_HDR_MIN || b[0] >> 4 != 4)
		return len < IPV4_HDR_MIN ? -EBADMSG : -EPROTONOSUPPORT;
	size_t ihl = (size_t)(b[0] & 0x0f) * 4;
	size_t total = get16(b + 2);
	if (ihl < IPV4_HDR_MIN || total < ihl || total > len)
		return -EBADMSG;
	if (b[9] != proto || (get16(b + 6) & 0x3fff) != 0) /* another protocol, or a fragment */
		return -EPROTONOSUPPORT;
	*ret_ihl = ihl;
	*ret_total = total;
	return 0;
}

int wire_ipv4_udp_parse(const void *ip, size_t len, struct wire_ipv4_udp *ret)
{
	const uint8_t *b = ip;
	size_t ihl, total;
	int err = ipv4_hdr(b, len, 17, &ihl, &total);
	if (err < 0)
		return err;
	if (total - ihl < UDP_HDR_LEN)
		return -EBADMSG;
	const uint8_t *u = b + ihl;
	size_t ulen = get16(u + 4);
	if (ulen < UDP_HDR_LEN || ulen > total - ihl)
		return -EBADMSG;
	struct wire_ipv4_udp r;
	memcpy(&r.src, b + 12, 4);
	memcpy(&r.dst, b + 16, 4);
	memcpy(&r.sport, u, 2);
	memcpy(&r.dport, u + 2, 2);
	r.ttl = b[8];
	r.payload_off = (uint16_t)(ihl + UDP_HDR_LEN);
	r.payload_len = (uint16_t)(ulen - UDP_HDR_LEN);
	*ret = r;
	return 0;
}

int wire_ipv4_tcp_parse(const void *ip, size_t len, struct wire_ipv4_tcp *ret)
{
	const uint8_t *b = ip;
	size_t ihl, total;
	int err = ipv4_hdr(b, len, 6, &ihl, &total);
	if (err < 0)
		return err;
	if (total - ihl < 20)
		return -EBADMSG;
	const uint8_t *t = b + ihl;
	size_t doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || doff > total - ihl)
		return -EBADMSG;
	struct wire_ipv4_tcp r;
	memcpy(&r.src, b + 12, 4);
	memcpy(&r.dst, b + 16, 4);
	r.sport = get16(t);
	r.dport = get16(t + 2);
	r.payload_off = (uint16_t)(ihl + doff);
	r.payload_len = (uint16_t)(total - ihl - doff);
	*ret = r;
	return 0;
}

int wire_ipv4_udp_rewrite(void *ip, size_t cap, uint32_t dst, uint16_t dport, const void *payload,
			  size_t payload_len, size_t *ret_len)
{
	uint8_t *b = ip;
	size_t total = IPV4_HDR_MIN + UDP_HDR_LEN + payload_len;
	if (total > cap || total > UINT16_MAX)
		return -EMSGSIZE;
	size_t ihl = (size_t)(b[0] & 0x0f) * 4;
	uint8_t *u = b + IPV4_HDR_MIN;
	uint16_t sport = get16(b + ihl); /* before the move below overwrites it */
	/* Header: keep TOS, id, TTL, protocol and source; no options. */
	b[0] = 0x45;
	put16(b + 2, (uint16_t)total);
	put16(b + 6, 0x4000); /* don't fragment: capsules are sized by their senders */
	memcpy(b + 16, &dst, 4);
	put16(b + 10, 0);
	put16(b + 10, (uint16_t)~wire_csum_fold(wire_csum_add(0, b, IPV4_HDR_MIN)));
	put16(u, sport);
	memcpy(u + 2, &dport, 2);
	put16(u + 4, (uint16_t)(UDP_HDR_LEN + payload_len));
	/* No UDP checksum (zero, which RFC 768 allows over IPv4). A capsule
	 * changes at every node it crosses (hop limit, previous hop, whatever
	 * its code writes), so a UDP checksum could only ever be hop by hop;
	 * computing one over the whole payload cost router mode a fifth of its
	 * rate at 1400 bytes (bench/RESULTS.md). ANEP's integrity option is the
	 * place for an end-to-end check. */
	put16(u + 6, 0);
	memcpy(u + UDP_HDR_LEN, payload, payload_len);
	*ret_len = total;
	return 0;
}

void wire_ipv4_fix_checksums(uint8_t *ip, size_t len)
{
	if (len < 20 || (ip[0] >> 4) != 4)
		return;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	if (ihl < 20 || ihl > len || len > 0xffff)
		return;
	/* The handler's length is the packet's length. */
	ip[2] = (uint8_t)(len >> 8);
	ip[3] = (uint8_t)len;
	ip[10] = ip[11] = 0;
	uint16_t c = (uint16_t)~wire_csum_fold(wire_csum_add(0, ip, ihl));
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	/* A fragment's transport checksum covers the whole datagram. */
	if ((ip[6] & 0x3f) || ip[7])
		return;
	uint8_t *l4 = ip + ihl;
	size_t l4len = len - ihl;
	size_t at;
	if (ip[9] == IPPROTO_UDP && l4len >= 8) {
		at = 6;
		l4[4] = (uint8_t)(l4len >> 8);
		l4[5] = (uint8_t)l4len;
		/* Zero means "no checksum" (the sender's choice, or the
		 * handler's): keep it. */
		if (!l4[6] && !l4[7])
			return;
	} else if (ip[9] == IPPROTO_TCP && l4len >= 20) {
		at = 16;
	} else {
		return;
	}
	l4[at] = l4[at + 1] = 0;
	uint32_t s = wire_csum_add(0, ip + 12, 8); /* pseudo-header: addresses, protocol, length */
	s += ip[9];
	s += (uint32_t)l4len;
	c = (uint16_t)~wire_csum_fold(wire_csum_add(s, l4, l4len));
	if (c == 0 && ip[9] == IPPROTO_UDP)
		c = 0xffff;
	l4[at] = (uint8_t)(c >> 8);
	l4[at + 1] = (uint8_t)c;
}
