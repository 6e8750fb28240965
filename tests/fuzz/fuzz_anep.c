/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target for wire_anep_parse. Besides not crashing, a header that
 * parses must describe itself consistently: the offsets it hands out for
 * in-place rewriting lie inside the header, goals and results are within
 * their limits, and rewriting the header in place leaves a packet that
 * still parses to the same thing. Appending a RESULT (on a copy with room
 * for it) must succeed unless a limit says otherwise, keep the payload, and
 * leave a packet that parses to one more result and nothing else changed.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: struct copies need not copy padding. Result nodes are
 * compared with memcmp: struct wire_result is 22 octets, so half of them
 * are not 4-aligned, and an_addr_eq loads 32-bit words. */
static bool anep_eq(const struct wire_anep *x, const struct wire_anep *y)
{
	if (x->flags != y->flags || x->type_id != y->type_id || x->hdr_len != y->hdr_len || x->pkt_len != y->pkt_len ||
	    x->present != y->present || x->n_goals != y->n_goals || x->n_results != y->n_results)
		return false;
	if (!an_addr_eq(&x->src, &y->src) || !an_addr_eq(&x->dst, &y->dst) || !an_addr_eq(&x->prev_hop, &y->prev_hop))
		return false;
	if (x->hop_limit != y->hop_limit || x->hop_limit_at != y->hop_limit_at || x->prev_hop_at != y->prev_hop_at ||
	    x->copies != y->copies || x->dst_at != y->dst_at)
		return false;
	for (size_t i = 0; i < x->n_goals; i++)
		if (!an_addr_eq(&x->goals[i], &y->goals[i]))
			return false;
	for (size_t i = 0; i < x->n_results; i++)
		if (memcmp(&x->results[i].node, &y->results[i].node, sizeof(x->results[i].node)) ||
		    x->results[i].visit != y->results[i].visit)
			return false;
	return true;
}

/* wire_anep_add_result on a copy of a parsed packet; aborts when the
 * result disagrees with the documented contract. */
static void check_add_result(const uint8_t *data, const struct wire_anep *a)
{
	static uint8_t buf[65536 + WIRE_RESULT_OPT_LEN];
	struct wire_anep b = *a, c;
	struct an_addr node = a->n_goals ? a->goals[0] : a->src;
	uint16_t visit = (uint16_t)(a->n_results + 1);
	int e;

	memcpy(buf, data, a->pkt_len);
	e = wire_anep_add_result(buf, sizeof(buf), &b, &node, visit);
	if (a->n_results == WIRE_MAX_RESULTS) {
		if (e != -ENOSPC)
			abort();
		return;
	}
	if (a->pkt_len + WIRE_RESULT_OPT_LEN > UINT16_MAX) {
		if (e != -EMSGSIZE || !anep_eq(&b, a))
			abort();
		return;
	}
	if (e < 0 || b.pkt_len != a->pkt_len + WIRE_RESULT_OPT_LEN || b.hdr_len != a->hdr_len + WIRE_RESULT_OPT_LEN)
		abort();
	/* *anep was re-parsed: it is what a fresh parse says. */
	if (wire_anep_parse(buf, b.pkt_len, &c) < 0 || !anep_eq(&c, &b))
		abort();
	c.hdr_len = a->hdr_len;
	c.pkt_len = a->pkt_len;
	c.n_results--;
	if (!anep_eq(&c, a) || memcmp(&c.results[a->n_results].node, &node, sizeof(node)) ||
	    c.results[a->n_results].visit != visit)
		abort();
	/* Options before the new one and the payload after it are unchanged. */
	if (memcmp(buf + 8, data + 8, a->hdr_len - 8u) ||
	    memcmp(buf + b.hdr_len, data + a->hdr_len, a->pkt_len - (size_t)a->hdr_len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_anep a, b;
	uint8_t *copy;

	if (wire_anep_parse(data, size, &a) < 0)
		return 0;
	if (a.hdr_len < WIRE_ANEP_HDR_MIN || a.hdr_len > a.pkt_len || a.pkt_len > size || a.hdr_len % 4)
		abort();
	if ((a.present & WIRE_HAS_HOP_LIMIT) && (a.hop_limit_at >= a.hdr_len || data[a.hop_limit_at] != a.hop_limit))
		abort();
	if ((a.present & WIRE_HAS_PREV_HOP) && a.prev_hop_at + 20u > a.hdr_len)
		abort();
	if (a.n_goals > WIRE_MAX_GOALS || a.n_results > WIRE_MAX_RESULTS)
		abort();
	for (size_t i = 0; i < a.n_goals; i++)
		if (a.goals[i].zero)
			abort();
	for (size_t i = 0; i < a.n_results; i++)
		if (a.results[i].visit == 0 || a.results[i].node.zero)
			abort();
	check_add_result(data, &a);

	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	wire_anep_set_hop_limit(copy, &a, (uint8_t)(a.hop_limit + 1));
	wire_anep_set_copies(copy, &a, (uint16_t)(a.copies ^ 0x5a5a));
	wire_anep_set_prev_hop(copy, &a, &a.src);
	wire_anep_set_dst(copy, &a, &a.prev_hop);
	if (wire_anep_parse(copy, size, &b) < 0 || b.present != a.present || b.hdr_len != a.hdr_len ||
	    b.n_goals != a.n_goals || b.n_results != a.n_results)
		abort();
	if ((a.present & WIRE_HAS_HOP_LIMIT) && (b.hop_limit != (uint8_t)(a.hop_limit + 1) ||
						  b.copies != (uint16_t)(a.copies ^ 0x5a5a)))
		abort();
	if ((a.present & WIRE_HAS_DST) && !an_addr_eq(&b.dst, &a.prev_hop))
		abort();
	if ((a.present & WIRE_HAS_PREV_HOP) && !an_addr_eq(&b.prev_hop, &a.src))
		abort();
	free(copy);
	return 0;
}
