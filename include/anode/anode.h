/* SPDX-License-Identifier: MIT */
/*
 * libanode: the application side of anode (PAN's application library).
 *
 * An application connects to its node's application socket, inserts code
 * objects into that node, sends capsules into it, and receives what code
 * objects deliver to it. The CLI and every demo use this API and nothing
 * else to talk to a node's data path.
 *
 * All functions return 0 (or a count) on success and a negative errno on
 * failure; constructors return NULL and set errno. A struct an_link is not
 * thread-safe.
 */
#ifndef ANODE_ANODE_H
#define ANODE_ANODE_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "concast.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AN_NAME_LEN 32 /* a code object's name: SHA-256 of its bytes */

/* An application's end of an application link. */
struct an_link;

/* Connect to a node's application socket. */
struct an_link *an_link_open(const char *app_socket);
void an_link_close(struct an_link *l);
/* For poll(2): readable when a delivery may be waiting. */
int an_link_fd(const struct an_link *l);
/* The node's address and name, as it said when we connected. */
const struct an_addr *an_link_node_addr(const struct an_link *l);
const char *an_link_node_name(const struct an_link *l);

/* Read a code object file (an ELF object from `anode code build`). The
 * buffer is malloc'ed; free it. */
int an_code_read_file(const char *path, void **ret_code, size_t *ret_len);
/* A code object's name. */
void an_code_name(const void *code, size_t len, uint8_t ret_name[AN_NAME_LEN]);
/* Insert a code object into the node (and wait for its answer, up to 5 s).
 * 0 and *ret_name; -EINVAL when it fails validation, -EPERM when the node
 * already knows it to be bad. ret_name may be NULL. */
int an_code_insert(struct an_link *l, const void *code, size_t len, uint8_t ret_name[AN_NAME_LEN]);
/* Why the node refused the last code insert, as it said it ("section
 * accept: memory boundary violation at pc: 3"); "" when it gave no reason
 * or accepted the code. Valid until the next an_code_insert. */
const char *an_link_refusal(const struct an_link *l);

/* A capsule to send. */
struct an_capsule {
	const uint8_t *code; /* name of the code object (AN_NAME_LEN octets) */
	const struct an_addr *home; /* where to fetch the code; NULL = this node */
	const struct an_addr *dst; /* ANEP destination option, or NULL */
	uint8_t hop_limit; /* 0 = default (64) */
	uint16_t copies; /* copy budget: extra copies its code may make over its life (nodes cap it) */
	const void *carried; /* the code object itself, to carry; or NULL */
	size_t carried_len;
	const void *data;
	size_t data_len;
	const struct an_addr *goals; /* ANEP GOAL options (where to collect), or NULL */
	size_t n_goals;
};

/* Send a capsule into the node, where its code runs first. Blocks while the
 * node's socket is full (that is the flow control). */
int an_capsule_send(struct an_link *l, const struct an_capsule *c);

/* Something the node sent: data a code object delivered, or the node's
 * account of why a capsule this application sent was dropped; or, with
 * concast set, a merged message of a flow this application receives
 * (error 0), why a flow it joined ended (error < 0, data: the text), or
 * news of a flow it sends on whose path toward the receiver was lost
 * (path AN_PATH_LOST: the flow waits, up to 30 keep-alive periods) or came
 * back (AN_PATH_RESTORED); error 0, data: the text. */
struct an_delivery {
	int error; /* 0 for data; else the negative errno of the drop */
	uint8_t code[AN_NAME_LEN]; /* the delivering code object (data only) */
	int concast; /* 1: a concast message or flow error; flow says which */
	struct an_flow flow;
	const uint8_t *data; /* valid until the next an_recv */
	size_t len;
	int path; /* concast: 0, or AN_PATH_LOST or AN_PATH_RESTORED */
};

#define AN_PATH_LOST 1
#define AN_PATH_RESTORED 2

/* Wait up to timeout_ms (-1 = forever, 0 = poll) for the next delivery.
 * 0 and *ret; -ETIMEDOUT; -ENOTCONN when the node has gone. */
int an_recv(struct an_link *l, struct an_delivery *ret, int timeout_ms);

/* The portmapper (PAN §4.8.3): a code object that binds port numbers to
 * application links, so that other code objects can deliver by port.
 * Bind port (0 = any free one) to this application; needs the portmapper
 * code in the node. 0 and *ret_port. */
int an_portmap_bind(struct an_link *l, const uint8_t pm[AN_NAME_LEN], uint32_t port, uint32_t *ret_port);
int an_portmap_release(struct an_link *l, const uint8_t pm[AN_NAME_LEN], uint32_t port);

/* ---- Concast (seed 001, docs/concast.md; include/anode/concast.h) ---- */

/* A flow from text: group "a.b.c.d" (an address, no port), receiver node
 * "a.b.c.d:port", application id. */
int an_flow_parse(const char *group, const char *receiver, uint32_t app_id, struct an_flow *ret);
/* Send on a flow (seed 001's CCAST_JOIN_FLOW): the node asks for the
 * flow's merge specification toward the receiver; waits (timeout_ms, -1:
 * for ever) until it came (0) or an error did: -ENOENT (the receiver set
 * no merge specification), -EHOSTUNREACH, -EINVAL (the specification
 * failed validation), -ENOSPC (a node's limits), -EACCES (the receiver
 * admits no sender from this node's address), -ETIMEDOUT; the node's
 * words in an_link_refusal(). */
int an_concast_join(struct an_link *l, const struct an_flow *flow, int timeout_ms);
/* Receive a flow (CCAST_SET_MERGE): set its merge specification, an ELF
 * object built with `anode code build --merge`, at this node, which must be
 * the flow's receiver. 0 and *ret_name (may be NULL); -EINVAL when it fails
 * validation (why in an_link_refusal()), -EADDRINUSE when another
 * application receives the flow, -EADDRNOTAVAIL when this node is not the
 * receiver. Merged messages come through an_recv (concast = 1). */
int an_concast_set_merge(struct an_link *l, const struct an_flow *flow, const void *spec, size_t len,
			 uint8_t ret_name[AN_NAME_LEN]);
/* The same, admitting only upstream neighbours whose address lies in one
 * of n_admit prefixes (at most AN_CONCAST_ADMIT_MAX; 0: anyone): every node
 * of the flow refuses an RMS from, and drops, an upstream node outside
 * them (its senders hear -EACCES), and a sender's own node refuses a
 * sender when the node's own address is outside them. List the prefixes of
 * the senders' nodes and of the merging nodes between them and here.
 * -EINVAL for too many prefixes or one with bits set past its length. */
int an_concast_set_merge_admit(struct an_link *l, const struct an_flow *flow, const void *spec, size_t len,
			       const struct an_prefix *admit, size_t n_admit, uint8_t ret_name[AN_NAME_LEN]);
/* Send a message (at most AN_CONCAST_MSG_MAX octets) on a joined flow. */
int an_concast_send(struct an_link *l, const struct an_flow *flow, const void *msg, size_t len);
/* Stop sending (or receiving) on a flow; closing the link leaves them all.
 * A receiver that leaves ends the flow: its senders hear -ECONNRESET. */
int an_concast_leave(struct an_link *l, const struct an_flow *flow);

/* Node addresses in text: "a.b.c.d:port" or "[v6]:port". */
int an_addr_parse(const char *s, struct an_addr *ret);
/* buf of at least 56 bytes; returns buf. */
char *an_addr_format(const struct an_addr *a, char *buf, size_t len);
/* Prefixes in text: "a.b.c.d/n", "v6/n", or an address alone; bits past
 * the length must be zero. 0 or -EINVAL. */
int an_prefix_parse(const char *s, struct an_prefix *ret);

#ifdef __cplusplus
}
#endif

#endif
