/* SPDX-License-Identifier: MIT */
/*
 * A matching engine filter (link/match.h) as the kernel path's programs
 * match it (struct an_kfilter, include/anode/kernel.h): masks from the
 * prefixes, the address under its mask, a single port as the range lo..lo.
 * The kern room (a module's filter in the kernel) and the parent (the
 * engine's filters for the XDP program) both write entries this way.
 */
#ifndef KERN_KFILTER_H
#define KERN_KFILTER_H

#include <arpa/inet.h>

#include "anode/kernel.h"
#include "link/match.h"

static inline uint32_t kfilter_mask(uint8_t prefix)
{
	return prefix ? htonl(prefix >= 32 ? 0xffffffffu : ~(0xffffffffu >> prefix)) : 0;
}

static inline struct an_kfilter kfilter_of(const struct match_filter *f, uint32_t id)
{
	struct an_kfilter k = {
	    .src_mask = kfilter_mask(f->src_prefix),
	    .dst_mask = kfilter_mask(f->dst_prefix),
	    .sport_lo = f->sport_lo,
	    .sport_hi = f->sport_hi ? f->sport_hi : f->sport_lo,
	    .dport_lo = f->dport_lo,
	    .dport_hi = f->dport_hi ? f->dport_hi : f->dport_lo,
	    .proto = f->proto,
	    .id = id,
	};
	k.src = f->src & k.src_mask;
	k.dst = f->dst & k.dst_mask;
	return k;
}

#endif
