/* SPDX-License-Identifier: MIT */
/*
 * On-wire formats: ANEP framing and options, capsules, and the application
 * link messages. Every format anode puts on a wire or a socket is encoded and
 * decoded here and nowhere else (DESIGN.md §1). No I/O, no globals, no
 * allocation: parsers fill caller-owned structs and point into the caller's
 * buffer; builders write into a caller-owned buffer. Decoders return 0 or a
 * negative errno and leave their ret_ arguments untouched on failure.
 * docs/wire.md documents every field, with test vectors.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "anode/addr.h"
#include "anode/concast.h"

/* ---- ANEP (1997 draft, version 1) ---- */

#define WIRE_ANEP_VERSION 1
#define WIRE_ANEP_HDR_MIN 8 /* version..packet length, no options */
#define WIRE_ANEP_FLAG_DROP_UNKNOWN 0x80 /* unknown Type ID: drop, not forward */

/* Type IDs anode assigns (docs/wire.md). */
enum wire_type {
	WIRE_TYPE_CAPSULE = 0x4101,
	WIRE_TYPE_CODE_REQUEST = 0x4102,
	WIRE_TYPE_CODE_RESPONSE = 0x4103,
	WIRE_TYPE_SIGNAL = 0x4104,
	WIRE_TYPE_CONCAST_DATA = 0x4105,
	WIRE_TYPE_CONCAST_SIGNAL = 0x4106,
};

/* Option types: 1-4 from the ANEP draft, the rest anode's own. */
enum wire_opt {
	WIRE_OPT_SRC = 1,
	WIRE_OPT_DST = 2,
	WIRE_OPT_CHECKSUM = 3,
	WIRE_OPT_AUTH = 4,
	WIRE_OPT_PREV_HOP = 0x100,
	WIRE_OPT_HOP_LIMIT = 0x101,
	WIRE_OPT_GOAL = 0x102,
	WIRE_OPT_RESULT = 0x103,
	WIRE_OPT_ROUTER_ALERT = 0x104,
};
/* Option flag (top bit of the 2-bit field): a node that does not know the
 * option drops the packet instead of ignoring the option. */
#define WIRE_OPT_FLAG_MUST_KNOW 0x2

/* The address type anode puts in address-valued options: IPv6 (IPv4 mapped)
 * plus a UDP port. */
#define WIRE_ADDR_TYPE_NODE 6

/* Bits of struct wire_anep.present. */
#define WIRE_HAS_SRC (1u << 0)
#define WIRE_HAS_DST (1u << 1)
#define WIRE_HAS_PREV_HOP (1u << 2)
#define WIRE_HAS_HOP_LIMIT (1u << 3)

/* Goal and result node options (seed 002 §3: InterNodeOptGoal, where the
 * user wants information collected, and InterNodeOptResult, where it was,
 * with a visit number since a path may cross a node twice). */
#define WIRE_MAX_GOALS 16
#define WIRE_MAX_RESULTS 32
#define WIRE_RESULT_OPT_LEN 28 /* option header 4 + addr type 2 + port 2 + ip 16 + visit 2 + zero 2 */

struct wire_result {
	struct an_addr node;
	uint16_t visit; /* 1 for the first visit of this node, 2 for the second, ... */
};

/* A decoded ANEP header. Offsets are from the start of the packet. */
struct wire_anep {
	uint8_t flags;
	uint16_t type_id;
	uint16_t hdr_len; /* octets, options included */
	uint16_t pkt_len; /* octets, as the header says (<= bytes received) */
	uint32_t present; /* WIRE_HAS_* */
	struct an_addr src;
	struct an_addr dst;
	struct an_addr prev_hop;
	uint8_t hop_limit;
	uint16_t hop_limit_at; /* offset of the hop limit octet, for in-place update */
	uint16_t copies; /* copy budget (in the hop limit option): extra copies the packet may still become */
	uint16_t prev_hop_at; /* offset of the previous hop option's value */
	uint16_t dst_at; /* offset of the destination option's value */
	uint8_t n_goals; /* GOAL options, in order (more than WIRE_MAX_GOALS: -EBADMSG) */
	struct an_addr goals[WIRE_MAX_GOALS];
	uint8_t n_results; /* RESULT options, in order (more than WIRE_MAX_RESULTS: -EBADMSG) */
	struct wire_result results[WIRE_MAX_RESULTS];
};

/* Decode the ANEP header and the options anode knows. -EBADMSG when the
 * header or an option is malformed or runs past len, -EPROTONOSUPPORT for
 * another version, -EOPNOTSUPP for an unknown option flagged must-know. */
int wire_anep_parse(const void *pkt, size_t len, struct wire_anep *ret);

/* Rewrite the hop limit in place (the option must be present). */
void wire_anep_set_hop_limit(void *pkt, const struct wire_anep *anep, uint8_t hop_limit);

/* Rewrite the destination address in place; does nothing when the packet
 * has no destination option. */
void wire_anep_set_dst(void *pkt, const struct wire_anep *anep, const struct an_addr *dst);

/* Rewrite the copy budget in place (the hop limit option must be present). */
void wire_anep_set_copies(void *pkt, const struct wire_anep *anep, uint16_t copies);

/* Rewrite the previous hop address in place; does nothing when the packet
 * has no previous hop option. */
void wire_anep_set_prev_hop(void *pkt, const struct wire_anep *anep, const struct an_addr *prev_hop);

/* What to put in a new ANEP header. src and dst may be NULL. */
struct wire_anep_spec {
	uint8_t flags;
	uint16_t type_id;
	uint8_t hop_limit; /* 0 means WIRE_HOP_LIMIT_DEFAULT */
	uint16_t copies; /* copy budget, in the hop limit option */
	const struct an_addr *src;
	const struct an_addr *dst;
	const struct an_addr *goals; /* GOAL options, after DST; may be NULL */
	size_t n_goals;
	const struct an_addr *prev_hop; /* PREV_HOP option, after the goals; may be NULL */
};

/* The length of the header wire_anep_build writes for spec. */
size_t wire_anep_hdr_len(const struct wire_anep_spec *spec);

/* Write an ANEP header with the options SRC, DST (when given), GOAL (one per
 * goal) and HOP_LIMIT (always), in that order, for a payload of payload_len octets that the
 * caller writes right after it. Stores the header length in ret_hdr_len.
 * -EMSGSIZE if header and payload do not fit in cap or in 65535 octets,
 * -EINVAL for more than WIRE_MAX_GOALS goals or n_goals without goals. */
int wire_anep_build(void *buf, size_t cap, const struct wire_anep_spec *spec, size_t payload_len,
		    size_t *ret_hdr_len);

/* Rewrite the packet length field in place (a code object resized the
 * capsule's data). */
void wire_anep_set_pkt_len(void *pkt, uint16_t pkt_len);

/* Append a RESULT option after the last option of a parsed packet: the
 * payload moves WIRE_RESULT_OPT_LEN octets on, and the header and packet
 * lengths grow. *anep is updated (re-parsed) so its offsets stay right.
 * -EMSGSIZE when the packet would exceed cap or 65535 octets, -ENOSPC past
 * WIRE_MAX_RESULTS results, -EINVAL for visit 0. Payload offsets the caller
 * holds (a capsule's code_off, data_off) are stale afterwards. */
int wire_anep_add_result(void *pkt, size_t cap, struct wire_anep *anep, const struct an_addr *node, uint16_t visit);

/* ---- Code loading (Type IDs CODE_REQUEST and CODE_RESPONSE) ----
 *
 * A node that lacks a capsule's code asks its previous hop, then the code
 * home, with a request naming the code and the chunks it still wants; the
 * answer is one response per chunk. Chunks are WIRE_CODE_CHUNK octets (the
 * last may be shorter), so code of up to WIRE_CODE_MAX_CHUNKS chunks can be
 * asked for with a 64-bit bitmap. The requester is the request's SRC option,
 * which is required. */

#define WIRE_CODE_CHUNK 1024
#define WIRE_CODE_MAX_CHUNKS 64
/* The largest code object anode moves or accepts, in octets: what a
 * request's bitmap can name, and so the limit of the code cache, the
 * application link and libanode too. */
#define WIRE_CODE_MAX (WIRE_CODE_CHUNK * WIRE_CODE_MAX_CHUNKS)
#define WIRE_CODE_NAME_LEN 32

/* A code object's name: the SHA-256 of its octets (libsodium). */
void wire_code_name(const void *code, size_t len, uint8_t ret_name[WIRE_CODE_NAME_LEN]);
#define WIRE_CODE_REQUEST_LEN 40 /* name 32, wanted-chunks bitmap 8 */
#define WIRE_CODE_CHUNK_HDR_LEN 40 /* name 32, total length 4, index 2, count 2 */

struct wire_code_request {
	uint8_t name[32];
	uint64_t want; /* bit i set: chunk i wanted */
};

struct wire_code_chunk {
	uint8_t name[32];
	uint32_t total_len; /* octets of the whole code object, 1..WIRE_CODE_CHUNK*WIRE_CODE_MAX_CHUNKS */
	uint16_t index; /* this chunk, < count */
	uint16_t count; /* chunks in all: ceil(total_len / WIRE_CODE_CHUNK) */
	uint16_t data_off; /* offset of the chunk's octets in the packet */
	uint16_t data_len; /* WIRE_CODE_CHUNK, or the remainder for the last chunk */
};

/* Decode the payload after a parsed ANEP header. -EINVAL when the Type ID
 * is not the right one; -EBADMSG when malformed (a request without SRC, a
 * zero bitmap, a chunk whose index, count, total and length disagree). */
int wire_code_request_parse(const void *pkt, size_t len, const struct wire_anep *anep,
			    struct wire_code_request *ret);
int wire_code_chunk_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_code_chunk *ret);

/* Anti-amplification (QUIC's rule, RFC 9000 §8): a node answers a code
 * request with at most this many times the octets of the request, so a
 * requester pads its request to pay for the chunks it asks for. */
#define WIRE_CODE_AMPLIFICATION 3
/* The largest chunk packet a node sends: ANEP header with SRC, DST and hop
 * limit (64), chunk header (40), a whole chunk. */
#define WIRE_CODE_CHUNK_PKT_MAX (64 + WIRE_CODE_CHUNK_HDR_LEN + WIRE_CODE_CHUNK)

/* The length a request with an ANEP header of hdr_len octets should have
 * to pay for the chunks in want (never less than the bare request). */
size_t wire_code_request_padded_len(size_t hdr_len, uint64_t want);

/* Build a whole ANEP packet (spec->type_id is set by the builder). A
 * request is padded with zero octets to pad_to octets when that is longer
 * than the bare request. */
int wire_code_request_build(void *buf, size_t cap, const struct wire_anep_spec *spec,
			    const struct wire_code_request *req, size_t pad_to, size_t *ret_len);
/* Chunk `index` of `code` (total_len octets). -EINVAL if index is out of range. */
int wire_code_chunk_build(void *buf, size_t cap, const struct wire_anep_spec *spec, const uint8_t name[32],
			  const void *code, size_t total_len, uint16_t index, size_t *ret_len);

/* ---- Concast (ANEP Type IDs WIRE_TYPE_CONCAST_DATA and _SIGNAL) ---- */

#define WIRE_FLOW_LEN 40 /* group 16, receiver 20 (its last 2 octets zero), app id 4 */
#define WIRE_CONCAST_MSG_MAX AN_CONCAST_MSG_MAX
#define WIRE_CSP_HDR_LEN (4 + WIRE_FLOW_LEN) /* type, code, reserved 16, flow */
#define WIRE_CSP_NONCE_LEN 8 /* every body starts with the flow's nonce */
#define WIRE_CSP_COOKIE_LEN 8 /* RMS, KEEPALIVE and CHALLENGE: the downstream node's cookie */
#define WIRE_CSP_MS_BODY (WIRE_CSP_NONCE_LEN + 37) /* the nonce, the specification's name and length, the
						   * number of admitted prefixes (then that many) */
#define WIRE_PREFIX_LEN 17 /* a prefix on the wire: 16 octets of address, its length in bits */
#define WIRE_CSP_TEXT_MAX 200 /* an ERROR's text */

/* A flow as it travels, in concast and application link messages. -EBADMSG
 * when buf is short or the receiver's zero field is not zero. */
int wire_flow_parse(const void *buf, size_t len, struct an_flow *ret);
int wire_flow_write(void *buf, size_t cap, const struct an_flow *f);

/* A decoded data message; msg_off is from the start of the packet. */
struct wire_concast_data {
	struct an_flow flow;
	uint16_t msg_off, msg_len;
};

/* -EINVAL when anep is not a CONCAST_DATA header; -EBADMSG without DST,
 * when DST is not the flow's receiver, for a short flow or a message over
 * WIRE_CONCAST_MSG_MAX. */
int wire_concast_data_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_concast_data *ret);
/* Build a whole packet: anep's options (DST is set to the receiver). */
int wire_concast_data_build(void *buf, size_t cap, const struct wire_anep_spec *anep, const struct an_flow *flow,
			    const void *msg, size_t msg_len, size_t *ret_len);

/* The Concast Signaling Protocol (seed 001 §2.2). */
enum wire_csp_type {
	WIRE_CSP_RMS = 1, /* request for merge specification, toward the receiver */
	WIRE_CSP_MS = 2, /* merge specification, back toward the senders */
	WIRE_CSP_KEEPALIVE = 3, /* downstream, per flow, every period */
	WIRE_CSP_ERROR = 4, /* upstream, toward the senders */
	WIRE_CSP_CHALLENGE = 5, /* upstream: echo this cookie in your RMS before I keep anything for you */
	WIRE_CSP_PATH = 6, /* upstream: the path toward the receiver was lost (the flow waits) or came back */
};

/* What a PATH message says (its one octet after the nonce). */
enum wire_csp_path {
	WIRE_CSP_PATH_LOST = 1,
	WIRE_CSP_PATH_RESTORED = 2,
};

enum wire_csp_error {
	WIRE_CSP_ERR_NO_SPEC = 1, /* the receiver supplied no merge specification for the flow */
	WIRE_CSP_ERR_UNREACHABLE = 2, /* no route to the receiver, or it does not answer */
	WIRE_CSP_ERR_SPEC_REFUSED = 3, /* the specification failed validation (or did not come) */
	WIRE_CSP_ERR_NO_ROOM = 4, /* a node's flow, upstream or state limit */
	WIRE_CSP_ERR_RECEIVER_LEFT = 5, /* the receiving application left */
	WIRE_CSP_ERR_NOT_ADMITTED = 6, /* the receiver admits no sender (or node) from this address */
	WIRE_CSP_ERR_LAST = WIRE_CSP_ERR_NOT_ADMITTED,
};

/*
 * The nonce (issue 18, return routability): a node that asks for a flow's
 * specification puts a random nonce of its own in its RMS (and its
 * KEEPALIVEs); whoever answers, with MS or ERROR, echoes the nonce of the
 * request it answers. A node takes an MS or ERROR for a flow only with its
 * own nonce: a host off the path from the node toward the receiver never
 * saw it, so it cannot choose the flow's merge code or tear it down.
 * The cookie is the other way round: a node keeps no flow or upstream
 * entry for a neighbour until it has echoed, in an RMS or KEEPALIVE, the
 * cookie the node sent in a CHALLENGE to its claimed address (a keyed
 * hash of that address, the flow and the time: no state until then).
 */
struct wire_csp {
	uint8_t type, code;
	struct an_flow flow;
	uint8_t nonce[WIRE_CSP_NONCE_LEN];
	uint8_t cookie[WIRE_CSP_COOKIE_LEN]; /* RMS, KEEPALIVE, CHALLENGE */
	uint8_t spec[32]; /* MS: the specification's name */
	uint32_t spec_len; /* MS: its length in octets */
	uint8_t n_admit; /* MS: the prefixes the receiver admits upstream neighbours from (0: any) */
	struct an_prefix admit[AN_CONCAST_ADMIT_MAX];
	uint8_t path; /* PATH: enum wire_csp_path */
	uint16_t text_off, text_len; /* ERROR: its text, from the start of the packet */
};

/* -EINVAL when anep is not a CONCAST_SIGNAL header; -EBADMSG without SRC
 * and DST, for an unknown type or error code, a nonzero reserved field, a
 * body of the wrong length, RMS or KEEPALIVE not addressed to the flow's
 * receiver, an MS naming an empty or oversized specification or with an
 * admitted prefix that is not one (wire_prefix_valid). */
int wire_csp_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_csp *ret);

struct wire_csp_spec {
	uint8_t type, code;
	const struct an_flow *flow;
	const uint8_t *nonce; /* WIRE_CSP_NONCE_LEN octets; NULL: zeros */
	const uint8_t *cookie; /* RMS, KEEPALIVE, CHALLENGE: WIRE_CSP_COOKIE_LEN octets; NULL: zeros */
	const uint8_t *spec; /* MS */
	uint32_t spec_len; /* MS */
	const struct an_prefix *admit; /* MS: n_admit prefixes (at most AN_CONCAST_ADMIT_MAX) */
	size_t n_admit;
	uint8_t path; /* PATH: enum wire_csp_path */
	const char *text; /* ERROR, may be NULL */
	size_t text_len;
};

/* Build a whole packet; anep must give SRC and DST. -EINVAL for what the
 * decoder would refuse. */
int wire_csp_build(void *buf, size_t cap, const struct wire_anep_spec *anep, const struct wire_csp_spec *c,
		   size_t *ret_len);
/* What an ERROR code means, for people. */
const char *wire_csp_error_str(uint8_t code);

/* Concast on IP (router mode, seed 001 §3; docs/wire.md §9): the ANEP
 * packet in an IPv4 datagram of protocol 253, with IP Router Alert (data,
 * RMS, KEEPALIVE) and the AppID option holding A. */
#define WIRE_IPPROTO_CONCAST 253 /* RFC 3692: experimentation */
#define WIRE_IPOPT_APPID 0x9e /* RFC 4727: copied, class 0, number 30 */
#define WIRE_IPV4_CONCAST_HDR_MAX 32

struct wire_ipv4_concast {
	uint32_t src, dst; /* network byte order */
	uint8_t ttl;
	bool router_alert, has_app_id;
	uint32_t app_id;
	uint16_t payload_off, payload_len;
};

/* The IP header's length: 32 octets with Router Alert, 28 without. */
size_t wire_ipv4_concast_hdr_len(bool router_alert);
/* Write the IPv4 header (checksum included; id 0 for the kernel to fill)
 * for payload_len octets that follow it. src and dst in network order. */
int wire_ipv4_concast_build(void *buf, size_t cap, uint32_t src, uint32_t dst, uint32_t app_id, bool router_alert,
			    size_t payload_len, size_t *ret_hdr_len);
/* Decode one: -EBADMSG when malformed (lengths, an option that runs past
 * the header, RA or AppID twice or of the wrong length), -EPROTONOSUPPORT
 * for another protocol or a fragment. */
int wire_ipv4_concast_parse(const void *pkt, size_t len, struct wire_ipv4_concast *ret);

/* ---- Capsules (ANEP Type ID WIRE_TYPE_CAPSULE) ---- */

#define WIRE_CAPSULE_HDR_LEN 56 /* name 32, home 20 (its last 2 octets zero), flags 2, code length 2 */
#define WIRE_CAPSULE_CARRIED 0x0001 /* the code object travels in the capsule */
#define WIRE_HOP_LIMIT_DEFAULT 64

/* A decoded capsule. Offsets are from the start of the packet. */
struct wire_capsule {
	uint8_t name[32]; /* SHA-256 of the code object */
	struct an_addr home; /* where the code object can be fetched */
	uint16_t flags; /* WIRE_CAPSULE_* */
	uint16_t code_off, code_len; /* carried code, or 0, 0 */
	uint16_t data_off, data_len;
};

/* Decode the capsule that follows a parsed ANEP header. -EBADMSG if it is
 * truncated, if its code runs past the packet, or if the flags and the code
 * length disagree. */
int wire_capsule_parse(const void *pkt, size_t len, const struct wire_anep *anep, struct wire_capsule *ret);

/* What to put in a new capsule. src, dst and code may be NULL. */
struct wire_capsule_spec {
	uint8_t anep_flags;
	uint8_t hop_limit; /* 0 means WIRE_HOP_LIMIT_DEFAULT */
	uint16_t copies; /* copy budget: extra copies the capsule's code may make over its life */
	const struct an_addr *src;
	const struct an_addr *dst;
	const uint8_t *name; /* 32 octets */
	const struct an_addr *home;
	const void *code; /* carried code, or NULL */
	size_t code_len;
	const void *data;
	size_t data_len;
	const struct an_addr *goals; /* GOAL options; may be NULL */
	size_t n_goals;
	const struct an_addr *prev_hop; /* PREV_HOP option (nodes rewrite it as they send); may be NULL */
};

/* Build a whole ANEP capsule into buf. Always writes a hop limit option.
 * -EMSGSIZE if it does not fit in cap or in the 16-bit length fields. */
int wire_capsule_build(void *buf, size_t cap, const struct wire_capsule_spec *spec, size_t *ret_len);

/* ---- Application link messages (AF_UNIX SOCK_SEQPACKET, one per record) ---- */

#define WIRE_APPLINK_VERSION 1
#define WIRE_APPLINK_HDR_LEN 8
#define WIRE_APPLINK_NAME_MAX 64
#define WIRE_APPLINK_REASON_MAX 200 /* text after the name of a refused CODE_RESULT */

enum wire_applink_type {
	WIRE_APP_HELLO = 1, /* node -> app: handle, node address, node name */
	WIRE_APP_INJECT = 2, /* app -> node: an ANEP packet to run at the node */
	WIRE_APP_DELIVER = 3, /* node -> app: code name + capsule data */
	WIRE_APP_CODE_INSERT = 4, /* app -> node: code object bytes */
	WIRE_APP_CODE_RESULT = 5, /* node -> app: status + code name [+ why it was refused] */
	WIRE_APP_ERROR = 6, /* node -> app: status of a request that failed */
	/* Concast (§9): every body starts with the flow (WIRE_FLOW_LEN). */
	WIRE_APP_CONCAST_JOIN = 7, /* app -> node: flow; send on it (seed 001 CCAST_JOIN_FLOW) */
	WIRE_APP_CONCAST_LEAVE = 8, /* app -> node: flow; stop sending or receiving on it */
	WIRE_APP_CONCAST_SET_MERGE = 9, /* app -> node: flow, admitted prefixes (count, then each), merge
					 * specification (ELF); receive it */
	WIRE_APP_CONCAST_SEND = 10, /* app -> node: flow + message */
	WIRE_APP_CONCAST_STATUS = 11, /* node -> app: status, flow + spec name (32) [+ text] */
	WIRE_APP_CONCAST_DELIVER = 12, /* node -> app: flow + merged message */
	WIRE_APP_CONCAST_PATH = 13, /* node -> app: flow + enum wire_csp_path (1) + text: the flow goes on */
};

/* A decoded application link message; body points into the caller's buffer. */
struct wire_applink {
	uint8_t type;
	int32_t status; /* 0 or a negative errno (CODE_RESULT, ERROR) */
	const uint8_t *body;
	size_t body_len;
	/* Filled for HELLO. */
	uint64_t handle;
	struct an_addr addr;
	char name[WIRE_APPLINK_NAME_MAX + 1];
	/* Filled for DELIVER, CODE_RESULT and CONCAST_STATUS. */
	uint8_t code[32];
	/* Filled for the concast messages. */
	struct an_flow flow;
	/* Filled for CONCAST_SET_MERGE: whom the receiver admits (0: any), and
	 * the specification. */
	uint8_t n_admit;
	struct an_prefix admit[AN_CONCAST_ADMIT_MAX];
	const uint8_t *elf;
	size_t elf_len;
};

/* Decode one message. -EBADMSG if truncated or malformed (a HELLO without
 * its fixed fields, a DELIVER shorter than a name, ...), -EPROTONOSUPPORT
 * for another version, -EOPNOTSUPP for an unknown type. */
int wire_applink_parse(const void *msg, size_t len, struct wire_applink *ret);

/* Builders; each returns the message length or a negative errno
 * (-EMSGSIZE when cap is too small). */
ssize_t wire_applink_build_hello(void *buf, size_t cap, uint64_t handle, const struct an_addr *addr, const char *name);
ssize_t wire_applink_build(void *buf, size_t cap, uint8_t type, int32_t status, const void *body, size_t body_len);
ssize_t wire_applink_build_deliver(void *buf, size_t cap, const uint8_t code[32], const void *data, size_t data_len);

/* ---- Privilege separation: node child <-> privileged parent ----
 *
 * One message per record on an AF_UNIX SOCK_SEQPACKET socket pair (priv.c,
 * docs/wire.md): an 8-octet header (type, version, reserved, status) and a
 * body of a fixed length per type. A FILTER_ADDED with status 0 carries the
 * filter's bound NFQUEUE socket as SCM_RIGHTS ancillary data. */

#define WIRE_PRIV_VERSION 1
#define WIRE_PRIV_HDR_LEN 8
#define WIRE_PRIV_MSG_MAX 2048 /* every message fits */

enum wire_priv_type {
	WIRE_PRIV_FILTER_ADD = 1, /* node -> parent: id, filter: bind its queue, add its rule */
	WIRE_PRIV_FILTER_DEL = 2, /* node -> parent: id: delete its rule */
	WIRE_PRIV_FILTER_ADDED = 3, /* parent -> node: id, status; the queue socket when 0 */
	WIRE_PRIV_FILTER_DELETED = 4, /* parent -> node: id, status */
	WIRE_PRIV_SVC_START = 5, /* node -> parent: instance id, the user's signed activate request */
	WIRE_PRIV_SVC_STARTED = 6, /* parent -> node: id, status, pid; the service's socket when 0 */
	WIRE_PRIV_SVC_STOP = 7, /* node -> parent: id */
	WIRE_PRIV_SVC_ENDED = 8, /* parent -> node: id, wait status (waitpid's) */
	WIRE_PRIV_SVC_FREEZE = 9, /* node -> parent: id, 1 to suspend, 0 to resume */
	/* parent -> node: id (the configuration's generation), the lengths of
	 * the configuration's and the policy's text; the text itself in a
	 * sealed memfd passed with it (configuration, then policy). */
	WIRE_PRIV_CONFIG = 10,
	WIRE_PRIV_CONFIG_DONE = 11, /* node -> parent: id, status: in force (0), or refused */
	/* parent -> node: 0, the link capacity the parent measured (rtnetlink,
	 * which the child cannot open), kbit/s; 0: not known */
	WIRE_PRIV_CAPACITY = 12,
	/* The kernel path (src/kern, docs/kernel.md). node -> parent: id, the
	 * code object's name (32 octets) and the entries its soft state may
	 * hold (32: the owner's quota); its checked instructions in a sealed
	 * memfd passed with it. */
	WIRE_PRIV_KERN_LOAD = 13,
	/* parent -> node: id, status; the kernel verifier's words (text, up to
	 * WIRE_PRIV_TEXT_MAX octets) */
	WIRE_PRIV_KERN_LOADED = 14,
	WIRE_PRIV_KERN_UNLOAD = 15, /* node -> parent: 0, the code object's name */
	/* node -> parent: 0, the node's address and figures for code in the
	 * kernel (WIRE_PRIV_KNODE_LEN octets: address 20, mark, max copies,
	 * AN_KINFO_MAX figures of 8, flags) */
	WIRE_PRIV_KERN_NODE = 16,
	/* parent -> node: 0, status; why the kernel path is off (text), or,
	 * with status 0, its counters map (mmap-able) passed with it */
	WIRE_PRIV_KERN_READY = 17,
	/* node -> parent: 0; the interfaces to run the kernel path on (text:
	 * names separated by spaces, or "all"); again after a reload */
	WIRE_PRIV_KERN_START = 18,
	/* node -> parent: the index (0..15) in the kernel path's filter table;
	 * WIRE_PRIV_KFILTER_LEN octets: the module's name (32), source,
	 * source mask, destination, destination mask (4 each, network order),
	 * source ports low and high, destination ports low and high (2 each),
	 * protocol, 3 zero, the filter's id as the module sees it (32); or
	 * nothing, to clear the entry */
	WIRE_PRIV_KERN_FILTER = 19,
	/* node -> parent: 0; send what goes up by AF_XDP (kernel-up afxdp):
	 * answered by KERN_XSK messages, the last of kind DONE */
	WIRE_PRIV_KERN_UP = 20,
	/* parent -> node: an index, status (DONE only), WIRE_PRIV_KXSK_LEN
	 * octets: kind, 3 zero, interface index, receive queue, UMEM length,
	 * frame size (4 each), and for DONE why it failed (text); with a
	 * descriptor passed for every kind but DONE: the XDP program's socket map, the raw socket packets go on
	 * by, a port's UMEM (a memfd), then the port's socket */
	WIRE_PRIV_KERN_XSK = 21,
};
enum wire_priv_kxsk_kind {
	WIRE_PRIV_KXSK_MAP = 0,
	WIRE_PRIV_KXSK_RAW = 1,
	WIRE_PRIV_KXSK_UMEM = 2,
	WIRE_PRIV_KXSK_SOCKET = 3,
	WIRE_PRIV_KXSK_DONE = 4,
};
#define WIRE_PRIV_KXSK_LEN (4 + 4 * 4)
struct wire_priv_kxsk {
	uint8_t kind; /* enum wire_priv_kxsk_kind */
	uint32_t ifindex, queue, umem_len, frame;
};
#define WIRE_PRIV_KFILTER_LEN (32 + 16 + 8 + 4 + 4)
#define WIRE_PRIV_TEXT_MAX 1536
#define WIRE_PRIV_KNODE_LEN (20 + 4 + 4 + 16 * 8 + 4)
#define WIRE_PRIV_KLOAD_LEN (32 + 4)

/* The bodies of KERN_LOAD, KERN_NODE and KERN_FILTER after the id, as
 * the comments above lay them out (include/anode/kernel.h's structs). The
 * readers take a data block wire_priv_parse accepted for its type. */
struct an_knode;
struct an_kfilter;
void wire_priv_kload_put(uint8_t d[WIRE_PRIV_KLOAD_LEN], const uint8_t name[32], uint32_t state_max);
uint32_t wire_priv_kload_state_max(const uint8_t d[WIRE_PRIV_KLOAD_LEN]); /* the name is d's first 32 octets */
void wire_priv_knode_put(uint8_t d[WIRE_PRIV_KNODE_LEN], const struct an_knode *kn);
void wire_priv_knode_get(const uint8_t d[WIRE_PRIV_KNODE_LEN], struct an_knode *ret);
void wire_priv_kfilter_put(uint8_t d[WIRE_PRIV_KFILTER_LEN], const uint8_t name[32], const struct an_kfilter *f);
void wire_priv_kfilter_get(const uint8_t d[WIRE_PRIV_KFILTER_LEN], struct an_kfilter *ret); /* name: d's first 32 */
void wire_priv_kxsk_put(uint8_t d[WIRE_PRIV_KXSK_LEN], const struct wire_priv_kxsk *x);
void wire_priv_kxsk_get(const uint8_t d[WIRE_PRIV_KXSK_LEN], struct wire_priv_kxsk *ret);
/* The largest configuration or policy text a CONFIG carries. */
#define WIRE_PRIV_CONFIG_TEXT_MAX (1u << 20)

/* What a filter matches (link/match.h's struct match_filter, on the wire):
 * addresses in network order, ports in host order, zero = any. */
struct wire_priv_filter {
	uint32_t src, dst;
	uint8_t src_prefix, dst_prefix, proto;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
};

struct wire_priv {
	uint8_t type;
	int32_t status; /* results: 0 or a negative errno; requests: 0 */
	uint32_t id; /* the filter, or the service instance */
	struct wire_priv_filter filter; /* FILTER_ADD */
	uint32_t value; /* SVC_STARTED: pid; SVC_ENDED: wait status; SVC_FREEZE: 1 or 0; CAPACITY: kbit/s */
	uint32_t config_len, policy_len; /* CONFIG: at most WIRE_PRIV_CONFIG_TEXT_MAX each */
	const uint8_t *request; /* SVC_START: the signed request (in the caller's buffer) */
	size_t request_len; /* 1 .. WIRE_SVC_REQUEST_MAX */
	/* KERN_*: a name (32), the node's figures (WIRE_PRIV_KNODE_LEN), or
	 * text (0 .. WIRE_PRIV_TEXT_MAX), in the caller's buffer */
	const uint8_t *data;
	size_t data_len;
};

/* Decode one message: -EBADMSG when malformed (wrong body length, prefix
 * past 32, reserved bits set, a status a request cannot have),
 * -EPROTONOSUPPORT for another version, -EOPNOTSUPP for an unknown type. */
int wire_priv_parse(const void *msg, size_t len, struct wire_priv *ret);
/* Build one message into buf: its length, -EINVAL for what the parser would
 * refuse, -EMSGSIZE when cap is too small. */
ssize_t wire_priv_build(void *buf, size_t cap, const struct wire_priv *m);

/* ---- Signed service requests (user or administrator -> control module) ----
 *
 * docs/wire.md §5b, svc.c: a fixed 36-octet part, the node, user and
 * service names and the parameters, then an Ed25519 signature (64) over
 * "anode-svc-request-v1\0" and everything before it. */

#define WIRE_SVC_VERSION 1
#define WIRE_SVC_FIXED_LEN 36
#define WIRE_SVC_NAME_MAX 32
#define WIRE_SVC_PARAMS_MAX 1024
#define WIRE_SVC_SIG_LEN 64
#define WIRE_SVC_REQUEST_MAX (WIRE_SVC_FIXED_LEN + 4 * WIRE_SVC_NAME_MAX + WIRE_SVC_PARAMS_MAX + WIRE_SVC_SIG_LEN)

enum wire_svc_op {
	WIRE_SVC_ACTIVATE = 1, /* start the user's instance of a service (parameters allowed) */
	WIRE_SVC_SUSPEND = 2,
	WIRE_SVC_RESUME = 3,
	WIRE_SVC_STOP = 4,
	WIRE_SVC_PARAM = 5, /* pass parameters to the user's running instance */
	WIRE_SVC_LIST = 6, /* the services the signer may use, and their instances (no service name) */
};

struct wire_svc_request {
	uint8_t op;
	uint64_t time; /* seconds since the epoch, when it was signed */
	uint8_t nonce[16];
	char node[WIRE_SVC_NAME_MAX + 1]; /* the node it is for: letters, digits, '_', '-' */
	char user[WIRE_SVC_NAME_MAX + 1]; /* the signer (users also '.') */
	char service[WIRE_SVC_NAME_MAX + 1];
	/* Whose instance (suspend, resume, stop, param): empty, the signer's;
	 * another user's, for an administrator (the policy decides). */
	char owner[WIRE_SVC_NAME_MAX + 1];
	char params[WIRE_SVC_PARAMS_MAX + 1]; /* printable ASCII, "key=value ..." */
	size_t signed_len; /* octets the signature covers (after the domain string) */
	uint8_t sig[WIRE_SVC_SIG_LEN];
};

/* Decode one request: -EBADMSG when malformed (names out of their
 * alphabet or length, parameters not printable or on a request that takes
 * none, reserved fields set, octets after the signature), -EPROTONOSUPPORT
 * for another version, -EOPNOTSUPP for an unknown operation. Says nothing
 * about the signature: see wire_svc_verify. */
int wire_svc_parse(const void *msg, size_t len, struct wire_svc_request *ret);
/* Build and sign a request with the signer's Ed25519 secret key (libsodium
 * layout, 64 octets): its length, -EINVAL for what the parser would
 * refuse, -EMSGSIZE when cap is too small. */
ssize_t wire_svc_build(void *buf, size_t cap, const struct wire_svc_request *q, const uint8_t sk[64]);
/* Whether q (parsed from msg) carries a good signature by public key pk. */
bool wire_svc_verify(const void *msg, const struct wire_svc_request *q, const uint8_t pk[32]);

/* ---- The service API: service process <-> node (docs/wire.md §5c) ---- */

#define WIRE_SAPI_VERSION 1
#define WIRE_SAPI_HDR_LEN 8
#define WIRE_SAPI_TEXT_MAX 512
#define WIRE_SAPI_MSG_MAX (WIRE_SAPI_HDR_LEN + 8 + 0xffff)

enum wire_sapi_type {
	WIRE_SAPI_PARAMS = 1, /* node -> service: text (the parameters passed) */
	WIRE_SAPI_FILTER_ADD = 2, /* service -> node: tag, filter */
	WIRE_SAPI_FILTER_RESULT = 3, /* node -> service: tag, handle; status */
	WIRE_SAPI_FILTER_DEL = 4, /* service -> node: handle */
	WIRE_SAPI_PACKET = 5, /* node -> service: handle, packet id, the IPv4 packet */
	WIRE_SAPI_VERDICT = 6, /* service -> node: packet id, verdict [, the new packet] */
	WIRE_SAPI_SUBSCRIBE = 7, /* service -> node: tag, text "RESOURCE [k=v ...] STATE=LO-HI ..." */
	WIRE_SAPI_SUB_RESULT = 8, /* node -> service: tag, handle; status */
	WIRE_SAPI_UNSUBSCRIBE = 9, /* service -> node: handle */
	WIRE_SAPI_EVENT = 10, /* node -> service: handle, text "k=v ..." */
	WIRE_SAPI_PUBLISH = 11, /* service -> node: text "KEY VALUE": a custom probe's reading */
};

enum wire_sapi_verdict {
	WIRE_SAPI_ACCEPT = 0,
	WIRE_SAPI_DROP = 1,
	WIRE_SAPI_MODIFIED = 2, /* the record carries the packet to send on instead */
};

struct wire_sapi {
	uint8_t type;
	int32_t status; /* results: 0 or a negative errno */
	uint32_t tag; /* the service's number for a request, echoed in its result */
	uint32_t handle; /* a filter or a subscription */
	uint32_t packet_id;
	uint8_t verdict;
	struct wire_priv_filter filter; /* FILTER_ADD */
	const uint8_t *data; /* text, or a packet; in the caller's buffer */
	size_t data_len;
};

/* Decode one record: -EBADMSG when malformed, -EPROTONOSUPPORT for another
 * version, -EOPNOTSUPP for an unknown type. */
int wire_sapi_parse(const void *msg, size_t len, struct wire_sapi *ret);
/* Build one record: its length, -EINVAL for what the parser would refuse,
 * -EMSGSIZE when cap is too small. data may already sit at its place in buf. */
ssize_t wire_sapi_build(void *buf, size_t cap, const struct wire_sapi *m);

/* ---- IPv4 + UDP, for router mode ----
 *
 * In router mode capsules travel as ANEP in UDP in IPv4, and the node sees
 * whole IP packets from NFQUEUE. It reads the headers to find the capsule
 * and rewrites the packet in place to send the capsule on. */

struct wire_ipv4_udp {
	uint32_t src, dst; /* network byte order */
	uint16_t sport, dport; /* network byte order */
	uint8_t ttl;
	uint16_t payload_off, payload_len;
};

/* Decode an IPv4 packet carrying UDP (no fragments). -EBADMSG when the
 * headers are malformed or run past len, -EPROTONOSUPPORT when it is not
 * IPv4/UDP or is a fragment. */
int wire_ipv4_udp_parse(const void *ip, size_t len, struct wire_ipv4_udp *ret);

/* Decode an IPv4 packet carrying a TCP segment (no fragments), for
 * services that read a connection's contents (the caching service's RTSP
 * control connection): addresses, ports and where the segment's payload
 * lies. -EBADMSG when the headers are malformed or run past len (a data
 * offset under 5 words or past the packet), -EPROTONOSUPPORT when it is
 * not IPv4/TCP or is a fragment. */
struct wire_ipv4_tcp {
	uint32_t src, dst;     /* network byte order */
	uint16_t sport, dport; /* host byte order */
	uint16_t payload_off, payload_len;
};
int wire_ipv4_tcp_parse(const void *ip, size_t len, struct wire_ipv4_tcp *ret);

/* Rewrite a parsed IPv4/UDP packet in place to carry payload (payload_len
 * octets) to dst/dport: the IP header keeps its fields except the
 * destination, lengths and checksum (its options are dropped); the UDP
 * checksum is zero (none: see ipv4.c). *ret_len is the new packet length. -EMSGSIZE when
 * it does not fit in cap. The payload may not overlap the packet. */
int wire_ipv4_udp_rewrite(void *ip, size_t cap, uint32_t dst, uint16_t dport, const void *payload,
			  size_t payload_len, size_t *ret_len);

/* Recompute the IPv4 header checksum and the UDP/TCP checksum of a packet
 * rewritten in place, with the IP length field set to len (UDP: a zero
 * checksum, "none", stays zero). Leaves what is not IPv4 alone. */
void wire_ipv4_fix_checksums(uint8_t *ip, size_t len);

/* The Internet checksum (RFC 1071) of a buffer, folded, not inverted,
 * starting from sum. */
uint32_t wire_csum_add(uint32_t sum, const void *buf, size_t len);
uint16_t wire_csum_fold(uint32_t sum);

/* ---- Node addresses in text ---- */

/* Parse "a.b.c.d:port" or "[v6]:port". 0 or -EINVAL. */
int wire_addr_parse(const char *s, struct an_addr *ret);
/* Format into buf (at least WIRE_ADDR_STRLEN). Returns buf. */
#define WIRE_ADDR_STRLEN 56
char *wire_addr_format(const struct an_addr *a, char *buf, size_t len);

/* Parse "a.b.c.d/n" (n 0..32), "v6/n" (0..128), or an address alone (a
 * host). Bits past the length must be zero ("10.1.2.3/8" is refused: a
 * typo, not a prefix). 0 or -EINVAL. */
int wire_prefix_parse(const char *s, struct an_prefix *ret);
/* Format as parsed (IPv4 for a v4-mapped prefix of 96 bits or more). */
char *wire_prefix_format(const struct an_prefix *p, char *buf, size_t len);
/* Whether len is at most 128 and every bit past it is zero. */
bool wire_prefix_valid(const struct an_prefix *p);
/* Whether ip (16 octets) lies inside p. */
bool wire_prefix_contains(const struct an_prefix *p, const uint8_t ip[16]);

#endif
