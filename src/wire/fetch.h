/* SPDX-License-Identifier: MIT */
/*
 * The module fetcher's channel (docs/wire.md §11): a node asks its
 * sandboxed fetcher process (src/sig/fetcher.c, anode-fetch) for a URL,
 * bounded in size and time, over an AF_UNIX SOCK_SEQPACKET socket; the
 * fetcher answers with a result and, when it got the body, the body in
 * chunks. One message per record; every record starts with its kind and
 * the fetch's 64-bit id. The node trusts nothing the fetcher says beyond
 * these checks: it hashes what it gets against the signed SHA-256.
 *
 *   GET    kind 1 | id 64 | max octets 32 | timeout ms 32 | URL (8..512 printable, http:// or https://)
 *   RESULT kind 2 | id 64 | status 32 (0 or a negative errno) | HTTP status 16 | length 32 |
 *                   why (0..200 printable)
 *   CHUNK  kind 3 | id 64 | offset 32 | data (1..WIRE_FETCH_CHUNK octets)
 *   CA     kind 4 | id 64 (0) | PEM certificates (1..WIRE_FETCH_CHUNK octets): the
 *          CAs HTTPS servers are checked against from now on, instead of the system's
 *
 * A RESULT of status 0 announces length octets that follow in CHUNKs, in
 * order, without gaps; a failure has length 0 and no chunks. No I/O here;
 * fuzzed (fuzz_fetch).
 */
#ifndef WIRE_FETCH_H
#define WIRE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WIRE_FETCH_GET 1
#define WIRE_FETCH_RESULT 2
#define WIRE_FETCH_CHUNK 3
#define WIRE_FETCH_CA 4
#define WIRE_FETCH_CHUNK_MAX 32768
#define WIRE_FETCH_URL_MIN 8
#define WIRE_FETCH_URL_MAX 512
#define WIRE_FETCH_WHY_MAX 200
#define WIRE_FETCH_MSG_MAX (16 + WIRE_FETCH_CHUNK_MAX)

struct wire_fetch {
	uint8_t kind;
	uint64_t id;
	/* GET */
	uint32_t max, timeout_ms;
	char url[WIRE_FETCH_URL_MAX + 1];
	/* RESULT */
	int32_t status;
	uint16_t http;
	uint32_t length;
	char why[WIRE_FETCH_WHY_MAX + 1];
	/* CHUNK, CA: in the parsed buffer */
	uint32_t offset;
	const uint8_t *data;
	size_t data_len;
};

/* Any of the three: 0, or -EBADMSG (a short or long record, an unknown
 * kind, a URL that is not http:// or https:// and printable, a status
 * above 0 or below -4095, a failure with a length, text not printable, an
 * empty chunk). */
int wire_fetch_parse(const void *msg, size_t len, struct wire_fetch *ret);
/* Build f (its kind says which): the length, or -EINVAL for what the
 * parser would refuse, -EMSGSIZE. CHUNK copies data. */
ssize_t wire_fetch_build(void *buf, size_t cap, const struct wire_fetch *f);

#endif
