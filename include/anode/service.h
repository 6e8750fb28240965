/* SPDX-License-Identifier: MIT */
/*
 * libanode for service processes (docs/services.md): a service started by
 * a node in its sandbox talks to that node over one socket, fd
 * $ANODE_SERVICE_FD. Through it the service installs and removes filters
 * (inside what the policy grants its user), receives the packets they
 * match and gives each a verdict, subscribes to monitored resources and
 * receives their events, and receives new parameters.
 *
 * Requests are answered later, as messages from an_service_recv: a filter
 * or subscription request returns a tag at once, and its result comes as
 * a message with that tag and the handle to use from then on. Functions
 * return 0 or a negative errno; an_service_open returns NULL and sets errno.
 */
#ifndef ANODE_SERVICE_H
#define ANODE_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct an_service;

/* The service's end of its socket, from $ANODE_SERVICE_FD. */
struct an_service *an_service_open(void);
void an_service_close(struct an_service *s);
/* For poll(2). */
int an_service_fd(const struct an_service *s);
/* The parameters: $ANODE_PARAMS at start, then the latest passed. */
const char *an_service_params(const struct an_service *s);
/* The value of KEY in the parameters ("KEY=VALUE" words), copied into
 * buf; -ENOENT when absent. */
int an_service_param(const struct an_service *s, const char *key, char *buf, size_t len);

/* What a filter matches: zero fields match anything; addresses in network
 * order with their prefix lengths; ports in host order, with UDP or TCP. */
struct an_filter {
	uint32_t src, dst;
	uint8_t src_prefix, dst_prefix;
	uint8_t proto;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
};

int an_service_filter_add(struct an_service *s, const struct an_filter *f, uint32_t *ret_tag);
int an_service_filter_del(struct an_service *s, uint32_t handle);
/* A subscription: "RESOURCE [dev=NAME] STATE=LO-HI ...", e.g.
 * "iface_tx_bps dev=eth1 idle=0-5000000 congested=5000000-". */
int an_service_subscribe(struct an_service *s, const char *spec, uint32_t *ret_tag);
int an_service_unsubscribe(struct an_service *s, uint32_t handle);
/* A custom probe: publish a reading under KEY (letters, digits, '_', '-';
 * at most 23). Services subscribe to it as "custom name=USER.KEY ...",
 * USER being this service's user. */
int an_service_publish(struct an_service *s, const char *key, int64_t value);

enum an_verdict {
	AN_ACCEPT = 0, /* let the packet go on as it came */
	AN_DROP = 1,
	AN_MODIFIED = 2, /* let the packet given instead go on */
};
/* The verdict for a packet received (AN_SVC_PACKET). A packet not answered
 * within a second goes on as it came. An AN_MODIFIED packet goes on only
 * if it stays inside the filter that caught it (its protocol; each address
 * and port the original's or inside what the filter names for it): the
 * node puts its lengths and checksums right; else it is dropped and the
 * node says why in an AN_SVC_EVENT of handle 0 ("verdict refused
 * packet=ID why=..."). */
int an_service_verdict(struct an_service *s, uint32_t packet_id, enum an_verdict v, const void *pkt, size_t len);

enum an_service_kind {
	AN_SVC_PARAMS, /* new parameters (an_service_params has them) */
	AN_SVC_FILTER, /* a filter's result: tag, status, handle */
	AN_SVC_SUBSCRIBED, /* a subscription's result: tag, status, handle */
	AN_SVC_PACKET, /* a matched packet: handle (the filter), packet_id, data */
	AN_SVC_EVENT, /* an event: handle (the subscription), data ("resource=... state=... value=...");
		       * handle 0: the node about this service ("verdict refused packet=ID why=...") */
};

struct an_service_msg {
	enum an_service_kind kind;
	int status; /* 0, or the negative errno of a refused request */
	uint32_t tag, handle, packet_id;
	const uint8_t *data; /* valid until the next an_service_recv */
	size_t len;
};

/* The value of KEY in an event's "KEY=VALUE" words (state, previous,
 * value, resource...), copied into buf: 0, -ENOENT when absent, -ENOSPC
 * when buf is too small, -EINVAL for a message that is not an event. */
int an_service_event_value(const struct an_service_msg *m, const char *key, char *buf, size_t len);

/* Wait up to timeout_ms (-1: forever) for the next message. 0, -ETIMEDOUT,
 * or -EPIPE when the node is gone. */
int an_service_recv(struct an_service *s, struct an_service_msg *ret, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
