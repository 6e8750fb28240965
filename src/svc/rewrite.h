/* SPDX-License-Identifier: MIT */
/*
 * What a rewritten packet may be (issue 17, "verdicts stay inside the
 * grant"): a service's MODIFIED verdict, or a packet module's MODIFIED or
 * ANSWER, may change a packet only within the filter that caught it, which
 * lies within its user's grant (the node checked that when it installed
 * the filter, and again at each policy reload). Anything else would let a
 * user whose process cannot open a raw socket make the node emit packets
 * from and to where it likes.
 */
#ifndef SVC_REWRITE_H
#define SVC_REWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "link/match.h"

/*
 * Whether pkt (len octets), rewritten from orig (olen octets, the packet
 * filter f matched), stays inside f: an IPv4 packet, no fragment, the same
 * protocol, and each of its addresses and ports either the original's or
 * inside what f names for it (a filter that names no destination prefix
 * lets no destination change, and so on). false with why filled.
 */
bool svc_rewrite_allowed(const struct match_filter *f, const uint8_t *orig, size_t olen, const uint8_t *pkt, size_t len,
			 char *why, size_t whylen);

#endif
