/* SPDX-License-Identifier: MIT */
/*
 * Private to libanode: an application link's state, shared by anode.c (the
 * link, code, capsules, deliveries) and concast.c (concast flows).
 */
#ifndef LIB_LINK_IMPL_H
#define LIB_LINK_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anode/anode.h"
#include "anode/node.h"
#include "wire/wire.h"

#define LINK_MSG_MAX (WIRE_APPLINK_HDR_LEN + 32 + AN_PKT_MAX)
#define LINK_CODE_MAX WIRE_CODE_MAX
#define LINK_PENDING_MAX 64
#define LINK_REPLY_TIMEOUT_MS 5000

struct pending {
	size_t len;
	uint8_t *msg;
};

struct an_link {
	int fd;
	uint64_t handle;
	struct an_addr node_addr;
	char node_name[WIRE_APPLINK_NAME_MAX + 1];
	uint8_t msg[LINK_MSG_MAX];
	/* The largest message out: SET_MERGE (flow, admitted prefixes, code). */
	uint8_t out[WIRE_APPLINK_HDR_LEN + WIRE_FLOW_LEN + 1 + AN_CONCAST_ADMIT_MAX * WIRE_PREFIX_LEN + LINK_CODE_MAX];
	struct pending pending[LINK_PENDING_MAX];
	size_t n_pending;
	uint8_t *last_pending; /* freed at the next an_recv */
	char refusal[WIRE_APPLINK_REASON_MAX + 1]; /* why the node refused the last code insert or join */
};

int64_t link_now_ms(void);
/* Receive one message into l->msg; 0 and *ret_len, -ETIMEDOUT, -ENOTCONN. */
int link_recv_msg(struct an_link *l, int timeout_ms, size_t *ret_len);
/* Keep l->msg for a later an_recv (a delivery that came while we waited
 * for an answer). */
int link_keep_pending(struct an_link *l, size_t len);
/* Send a message of type with body (already in place or copied). */
int link_send(struct an_link *l, uint8_t type, const void *body, size_t len);
/* Milliseconds left until deadline (link_now_ms time) for poll: -1 when
 * deadline < 0 (no deadline), never less than 0. */
int link_wait_left(int64_t deadline);
/* Wait (timeout_ms, -1: for ever) for the message want() accepts, into
 * *ret (pointing into l->msg); what else comes meanwhile is kept for
 * an_recv. 0, -ETIMEDOUT, -ENOTCONN. */
int link_await(struct an_link *l, int timeout_ms, bool (*want)(const struct wire_applink *m, const void *arg),
	       const void *arg, struct wire_applink *ret);

#endif
