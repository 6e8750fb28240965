/* SPDX-License-Identifier: MIT */
/*
 * The nonces of signed requests seen lately, shared by the control module
 * (src/svc/auth.c) and on-path signalling (src/sig/auth.c): each kept with
 * a 16-octet tag the caller chooses until it expires (its request's signed
 * time + the window: after that the request is refused as old anyway), so
 * the table holds at most one window's requests. A bucket is swept of
 * expired entries when visited, the whole table when it is full.
 */
#ifndef SVC_NONCES_H
#define SVC_NONCES_H

#include <stddef.h>
#include <stdint.h>

enum nonce_seen {
	NONCE_NEW,   /* not seen: remembered now */
	NONCE_SAME,  /* seen, with this tag */
	NONCE_OTHER, /* seen, with another tag */
	NONCE_FULL,  /* max nonces within the window already (or no memory) */
};

struct nonce_cache;

struct nonce_cache *nonce_cache_new(size_t max);
void nonce_cache_free(struct nonce_cache *c);
enum nonce_seen nonce_cache_remember(struct nonce_cache *c, const uint8_t nonce[16], const uint8_t tag[16],
				     uint64_t expires, uint64_t now);

#endif
