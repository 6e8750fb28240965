/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for svc_rewrite_allowed (src/svc/rewrite.c), which the
 * node runs on every packet a service or a packet module rewrote: input is
 * a filter (24 octets: src, dst, prefixes, protocol, port ranges), the
 * length of the original packet (one octet), the original, and the
 * rewritten packet. What it allows must keep the original's protocol, and
 * each address the original's or inside the filter's prefix for it.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "svc/rewrite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(uint32_t a, uint32_t net, uint8_t prefix)
{
	uint32_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;
	return prefix && (a & mask) == (net & mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 25)
		return 0;
	struct match_filter f;
	memcpy(&f.src, data, 4);
	memcpy(&f.dst, data + 4, 4);
	f.src_prefix = data[8] % 33;
	f.dst_prefix = data[9] % 33;
	f.proto = data[10];
	memcpy(&f.sport_lo, data + 12, 2);
	memcpy(&f.sport_hi, data + 14, 2);
	memcpy(&f.dport_lo, data + 16, 2);
	memcpy(&f.dport_hi, data + 18, 2);
	size_t olen = data[24];
	if (25 + olen > size)
		return 0;
	/* Copies of exactly their lengths, so that ASan sees any overread. */
	uint8_t *o = malloc(olen + 1), *n = malloc(size - 25 - olen + 1);
	if (!o || !n)
		abort();
	memcpy(o, data + 25, olen);
	size_t nlen = size - 25 - olen;
	memcpy(n, data + 25 + olen, nlen);
	char why[128];
	if (svc_rewrite_allowed(&f, o, olen, n, nlen, why, sizeof(why))) {
		uint32_t os, od, ns, nd;
		if (olen < 20 || nlen < 20 || o[9] != n[9])
			abort();
		memcpy(&os, o + 12, 4), memcpy(&od, o + 16, 4);
		memcpy(&ns, n + 12, 4), memcpy(&nd, n + 16, 4);
		if ((ns != os && !inside(ns, f.src, f.src_prefix)) || (nd != od && !inside(nd, f.dst, f.dst_prefix)))
			abort();
	} else if (!why[0]) {
		abort(); /* a refusal always says why */
	}
	free(o);
	free(n);
	return 0;
}
