/* SPDX-License-Identifier: MIT */
/*
 * Code requests this node passed on toward a code home, remembered so that
 * the chunks coming back are relayed to the node that asked: every answer
 * goes to the real sender of the request it answers (the UDP source in
 * overlay mode, the IP source in router mode), never to an address a
 * packet merely names, and never more than WIRE_CODE_AMPLIFICATION times
 * the octets that sender sent (QUIC's anti-amplification rule, RFC 9000 §8).
 * Like NDN's pending interest table: bounded, and entries expire.
 */
#ifndef CODELOAD_RELAY_H
#define CODELOAD_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "anode/addr.h"

struct relay;

struct relay *relay_new(size_t max_entries, unsigned ttl_ms);
void relay_free(struct relay *r);

/* Remember that `to` asked for the chunks in want of the code named, and
 * may be sent up to credit octets in answer. 0, or -ENOBUFS when the table
 * is full of live entries. */
int relay_add(struct relay *r, const uint8_t name[32], const struct an_addr *to, uint64_t want, size_t credit,
	      uint64_t now_ms);

/* A chunk of the code named arrived (len octets): fill ret_to with up to
 * max requesters that wanted it and can still be paid for, and take it off
 * their lists. Returns how many. */
size_t relay_take(struct relay *r, const uint8_t name[32], uint16_t index, size_t len, struct an_addr *ret_to,
		  size_t max, uint64_t now_ms);

size_t relay_count(const struct relay *r);

#endif
