/* SPDX-License-Identifier: MIT */
/*
 * Private to the concast room: its state, shared by room.c (signalling,
 * data, the period), apps.c (applications), ip.c (concast on IP) and
 * show.c (the control socket's view).
 */
#ifndef CONCAST_ROOM_IMPL_H
#define CONCAST_ROOM_IMPL_H

#include "concast/kind.h"
#include "concast/flow.h"
#include "concast/room.h"
#include "node/room.h"

#define CONCAST_PRUNE_PERIODS 3	   /* silent periods before an upstream neighbour is pruned */
#define CONCAST_ASKS 3		   /* RMS sent without an answer before the flow gives up */
#define CONCAST_PATH_WAIT_PERIODS 30 /* periods a flow waits for a lost path toward its receiver to return */
#define CONCAST_COOKIE_MS 30000	   /* a cookie is good in the window it was made in and the next */
#define CONCAST_PENDING_PER_ADDR 8 /* flows one address may have waiting for their receivers' answer */

/* The room's configuration (its directives, room.c). */
struct concast_config {
	size_t flows, upstream, upstream_per_ip, tags, keepalive_ms;
	bool ip; /* router mode: concast on IP with Router Alert, else ANEP over UDP */
};

struct codeload;

struct concast_room {
	struct node *n;
	struct codeload *codeload; /* where an MS waits for its specification */
	struct cc_table *t;
	struct loop_timer *tick;	/* keep-alives, prunes, RMS retries */
	struct loop_timer *merge_timer; /* the earliest merge deadline */
	uint64_t merge_at;
	unsigned period_ms;
	/* Router mode: concast on IP (protocol 253, Router Alert, AppID),
	 * the node's IP link (link/ip.h); NULL: ANEP over the UDP link. */
	struct link *ip;
	uint8_t cookie_key[16]; /* random at start: cookies are keyed hashes (siphash) */
	struct concast_counters c;
};

/* room.c */
/* One signalling message: an RMS or KEEPALIVE carries this node's nonce
 * for the flow and the cookie its downstream node gave it, an MS or ERROR
 * the nonce of the request it answers, a CHALLENGE that nonce and a cookie
 * (nonce, cookie: WIRE_CSP_NONCE_LEN and _COOKIE_LEN octets, or NULL). */
void concast_send_csp(struct concast_room *r, uint8_t type, uint8_t code, const struct an_flow *flow,
		      const struct an_addr *dst, const struct cc_flow *f, const char *text, const uint8_t *nonce,
		      const uint8_t *cookie);
void concast_tell_app(struct concast_room *r, uint64_t app, int status, const struct an_flow *flow, const uint8_t *spec,
		      const char *text);
void concast_flow_fail(struct concast_room *r, struct cc_flow *f, uint8_t code, const char *text);
/* Tell every upstream neighbour (PATH to nodes, CONCAST_PATH to
 * applications) that the path toward the receiver was lost or came back
 * (enum wire_csp_path); the flow goes on either way. */
void concast_path_notify(struct concast_room *r, struct cc_flow *f, uint8_t state, const char *text);
/* The specification is ready: upstream neighbours the receiver does not
 * admit are told so and dropped (the flow is freed if none is left and it
 * is not received here), the others answered. f may be gone after. */
void concast_flow_ready(struct concast_room *r, struct cc_flow *f);
/* Whether the receiver's admission (as far as this node knows it: the MS
 * brings it) lets an upstream neighbour at addr in. */
bool concast_admits(const struct cc_flow *f, const struct an_addr *addr);
void concast_input_result(struct concast_room *r, int e);
/* Whether a message's flow agrees with the AppID option it came with on IP
 * (always, for what did not come on IP): from the packet's own metadata,
 * so that a message resumed after parking is checked as it came. */
static inline bool concast_app_id_ok(const struct pkt *p, const struct an_flow *flow)
{
	if (p->meta.ingress == PKT_IN_RAW && !p->meta.has_app_id)
		return false;
	return !p->meta.has_app_id || flow->app_id == p->meta.app_id;
}
/* apps.c: the application link messages and a link that closed. */
extern const struct room_app_msg concast_app_msgs[];
void concast_app_closed(void *room, uint64_t app);
/* show.c: the stats section and the control command. */
void concast_stats(void *room, struct stat_list *l);
extern const struct ctl_command concast_commands[];

#endif
