/* SPDX-License-Identifier: MIT */
/*
 * libanode for requesters of on-path signalling (NetServ, seed 004 §4;
 * docs/signalling.md): a content provider's server, or `anode signal`,
 * sends one signed request toward a destination; every anode node on the
 * path takes it, and the last one's response comes back with one entry per
 * node. an_sig_request builds and signs the request with the user's
 * Ed25519 key, sends it from a UDP socket of its own (with IP Router Alert
 * toward IPv4 destinations), sends it again with backoff until a response
 * comes or the time is up, and returns the response's stack. No node on
 * this host is needed in router mode; in overlay mode the request enters
 * the overlay at the node given as `via`.
 */
#ifndef ANODE_SIGNAL_H
#define ANODE_SIGNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anode/addr.h"

#ifdef __cplusplus
extern "C" {
#endif

enum an_sig_kind {
	AN_SIG_SETUP = 1,  /* install a module on the anode nodes on the path */
	AN_SIG_REMOVE = 2, /* remove it */
	AN_SIG_PROBE = 3,  /* each node's state */
};

/* What a module's filter matches: addresses as an_addr's ip (IPv4-mapped),
 * with prefix lengths (0..32 for IPv4); ports host order; 0 matches all. */
struct an_sig_filter {
	uint8_t proto;
	uint8_t src[16], dst[16];
	uint8_t src_len, dst_len;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
};

#define AN_SIG_FILTERS_MAX 4
#define AN_SIG_PROPS_MAX 16
#define AN_SIG_DEPS_MAX 8
#define AN_SIG_MODULE_MAX (16u << 20) /* octets */

struct an_sig_spec {
	enum an_sig_kind kind;
	const char *user;	   /* the signer, as the nodes' policy names it */
	const uint8_t *secret_key; /* libsodium's 64-octet Ed25519 secret key */
	struct an_addr dest;	   /* the destination: a node (overlay), an end host's IP and 3322 (router mode) */
	struct an_addr via;	   /* where the request goes first: the requester's node (overlay); all zero: dest */
	bool router_alert;	   /* put IP Router Alert on the datagram (IPv4) */
	/* SETUP and REMOVE (module), SETUP (the rest): */
	const char *module, *version, *url;
	uint8_t hash[32];    /* the module's SHA-256 */
	uint32_t size;	     /* its octets */
	uint8_t module_kind; /* 1 packet module, 2 service process */
	uint32_t lifetime_s; /* removed then unless refreshed */
	struct an_sig_filter filters[AN_SIG_FILTERS_MAX];
	size_t n_filters;
	const char *props[AN_SIG_PROPS_MAX]; /* "key=value" */
	size_t n_props;
	const char *deps[AN_SIG_DEPS_MAX];
	size_t n_deps;
	/* Sending: */
	unsigned timeout_ms;   /* in all; 0: 10000 */
	unsigned first_rto_ms; /* the first wait before sending again, doubled each time; 0: 500 */
	uint8_t hop_limit;     /* 0: the default */
	uint64_t time;	       /* signed as of (seconds since the epoch); 0: now */
	const uint8_t *nonce;  /* 16 octets; NULL: random (only tests of replay protection give one) */
	/* On the reverse path (seed 004 §8): the request goes in a TRIGGER
	 * toward dest, and the last anode node there starts it back toward
	 * the requester, so that it reaches the nodes the traffic from dest
	 * crosses. The answer is the reverse path's. */
	bool reverse;
};

#define AN_SIG_ENTRIES_MAX 16
#define AN_SIG_INSTALLED_MAX 8

/* One node's entry on the response's stack (docs/wire.md §10). */
struct an_sig_entry {
	struct an_addr address;
	bool has_caps, has_load, has_result;
	uint16_t ee_kinds, sandbox_kinds; /* bits: docs/signalling.md */
	uint32_t free_modules;
	uint64_t free_memory_kb;
	uint32_t load_milli;
	int32_t status; /* 0, or the negative errno of what it refused */
	char why[201];
	struct {
		uint32_t remaining_s;
		char name[65], version[33];
	} installed[AN_SIG_INSTALLED_MAX];
	size_t n_installed;
};

struct an_sig_answer {
	uint64_t id;	   /* the request's message id */
	unsigned attempts; /* times it was sent */
	uint64_t rtt_us;   /* from the first send to the response */
	bool heard;	   /* a node said it took the request (HERE) */
	struct an_addr here_from;
	bool truncated; /* a node found the stack full */
	size_t n_entries;
	struct an_sig_entry entries[AN_SIG_ENTRIES_MAX]; /* the last node's first */
	/* reverse: the TRIGGER's own answer, if it came (the forward path's
	 * nodes, the last one first: the one that started the request back). */
	uint64_t trigger_id;
	size_t n_forward;
	struct an_addr forward[AN_SIG_ENTRIES_MAX];
};

/* Send the request s describes and wait for its response: 0 with *ret
 * filled; -ETIMEDOUT when none came in time (ret->attempts and heard say
 * what happened); -EINVAL for a request the nodes would refuse to parse
 * (a name outside [A-Za-z0-9._-], a missing field); another negative errno
 * when the socket failed. */
int an_sig_request(const struct an_sig_spec *s, struct an_sig_answer *ret);

/* A short name of a kind ("SETUP") and of an entry's status for people. */
const char *an_sig_kind_name(enum an_sig_kind k);

#ifdef __cplusplus
}
#endif

#endif
