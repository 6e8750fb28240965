/* SPDX-License-Identifier: MIT */
/*
 * Node addresses, shared by code objects, libanode and the node.
 *
 * An address is 16 octets of IPv6 (IPv4 mapped as ::ffff:a.b.c.d) and a UDP
 * port, so that many overlay nodes share one host as PAN's user-space nodes
 * did (DESIGN.md §2). Both fields are in network byte order; the struct is
 * compared as bytes and its padding is always zero.
 */
#ifndef ANODE_ADDR_H
#define ANODE_ADDR_H

#ifdef __bpf__
#include <stdint.h>
#else
#include <stdint.h>
#include <stdbool.h>
/* Whether ip (an address's 16 octets) holds an IPv4 address, as
 * ::ffff:a.b.c.d; no loop and no libc, for code objects too. */
static inline __attribute__((always_inline)) int an_ip_is_v4(const uint8_t ip[16])
{
	return !(ip[0] | ip[1] | ip[2] | ip[3] | ip[4] | ip[5] | ip[6] | ip[7] | ip[8] | ip[9]) && ip[10] == 0xff &&
	       ip[11] == 0xff;
}

#endif

struct __attribute__((aligned(4))) an_addr {
	uint8_t ip[16];
	uint16_t port; /* network byte order */
	uint16_t zero; /* always 0: keeps the struct 4-byte sized and comparable */
};

/* Whether two addresses are equal; written without memcmp so that code
 * objects (which have no libc) can use it too. */
static inline __attribute__((always_inline)) int an_addr_eq(const struct an_addr *a, const struct an_addr *b)
{
	const uint32_t *x = (const uint32_t *)a, *y = (const uint32_t *)b;
	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3] && x[4] == y[4];
}

#endif
