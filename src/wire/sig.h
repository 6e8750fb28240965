/* SPDX-License-Identifier: MIT */
/*
 * On-path signalling (NetServ, seed 004 §4.1-4.2, §5.2, §8; docs/wire.md
 * §10): the payload of ANEP Type ID WIRE_TYPE_SIGNAL. A requester (a
 * content provider's server) sends one signed request toward a
 * destination; every anode node on the path acts on it and passes it on
 * unchanged; the last one answers, and the answer travels back through the
 * nodes the request crossed, each pushing an entry on the response's stack.
 *
 * Every message: a 12-octet header (version, kind, flags, a 64-bit id the
 * requester chose) and then type-length-value fields (16-bit type, 16-bit
 * length). A request ends with its SIGNATURE field: Ed25519 (libsodium)
 * over "anode-sig-request-v1\0" and every octet before that field, in the
 * scheme of service requests (§5b). A response's fields are its entries,
 * one per node, each a field whose value is itself a run of fields.
 *
 * The parsers are strict: a field type the kind does not take, a repeated
 * field that may appear once, a length other than the type's, text outside
 * its alphabet, anything after the signature, all refuse the message
 * (-EBADMSG); a version other than 1 is -EPROTONOSUPPORT. No I/O, fuzzed.
 */
#ifndef WIRE_SIG_H
#define WIRE_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "anode/addr.h"

#define WIRE_SIG_VERSION 1
#define WIRE_SIG_HDR_LEN 12
#define WIRE_SIG_TLV_HDR 4
#define WIRE_SIG_MSG_MAX 4096 /* a whole message, header included */

enum wire_sig_kind {
	WIRE_SIG_SETUP = 1,   /* install a module along the path */
	WIRE_SIG_REMOVE = 2,  /* remove it */
	WIRE_SIG_PROBE = 3,   /* report the nodes' state */
	WIRE_SIG_TRIGGER = 4, /* the last node sends the enclosed request back toward the requester */
	WIRE_SIG_RESPONSE = 0x81,
	/* A node that took a request tells the node it came from: that node
	 * is not the last on the path, and waits for the response. The header
	 * alone. */
	WIRE_SIG_HERE = 0x82,
};

/* Flags (16 bits). Requests: none defined (0). Responses: */
#define WIRE_SIG_F_TRUNCATED 0x0001 /* a node found the stack full and did not push its entry */

/* Request fields. */
enum wire_sig_field {
	WIRE_SIG_TIME = 1,	  /* 8: seconds since the epoch, when signed */
	WIRE_SIG_NONCE = 2,	  /* 16: random */
	WIRE_SIG_USER = 3,	  /* 1..32: the signer, as the policy names it */
	WIRE_SIG_MODULE = 4,	  /* 1..64: the module's name */
	WIRE_SIG_MOD_VERSION = 5, /* 1..32 */
	WIRE_SIG_DEPENDENCY = 6,  /* 1..64: a module that must be installed (repeated, up to 8) */
	WIRE_SIG_FILTER = 7,	  /* 44: what the module's filter matches (repeated, up to 4) */
	WIRE_SIG_NOTIFY = 8,	  /* 20: an address to tell when the module is installed or removed */
	WIRE_SIG_PROPERTY = 9,	  /* 3..163: "key=value" (repeated, up to 16) */
	WIRE_SIG_LIFETIME = 10,	  /* 4: seconds, 1..86400 */
	WIRE_SIG_URL = 11,	  /* 8..512: where to fetch the module (http:// or https://) */
	WIRE_SIG_HASH = 12,	  /* 32: the module's SHA-256 */
	WIRE_SIG_SIZE = 13,	  /* 4: the module's size in octets, 1..WIRE_SIG_MODULE_MAX */
	WIRE_SIG_MOD_KIND = 14,	  /* 1: 1 packet module, 2 service process */
	WIRE_SIG_ORIGIN = 15,	  /* 20: where responses go (the requester's node) */
	WIRE_SIG_INNER = 16,	  /* TRIGGER: the enclosed request, whole */
	WIRE_SIG_SIGNATURE = 255, /* 64: last */
};

/* Response fields: ENTRY (one per node, up to WIRE_SIG_ENTRIES_MAX),
 * whose value is a run of the entry fields below. */
#define WIRE_SIG_ENTRY 128
enum wire_sig_entry_field {
	WIRE_SIG_E_ADDRESS = 1, /* 20: the node's address */
	WIRE_SIG_E_CAPS =
	    2, /* 16: EE kinds (16 bits), sandbox kinds (16), free module slots (32), free memory, KiB (64) */
	WIRE_SIG_E_LOAD = 3,	  /* 4: load average x 1000 */
	WIRE_SIG_E_RESULT = 4,	  /* 4..204: status (32, 0 or a negative errno), then why (0..200 printable) */
	WIRE_SIG_E_INSTALLED = 5, /* 6..102: remaining lifetime s (32), name length (8), version length (8), name,
				     version (repeated, up to 8) */
};

/* An entry's CAPS: the EE kinds a node runs and its sandbox kinds, bits. */
#define WIRE_SIG_EE_CAPSULE 0x0001 /* capsules (PAN) */
#define WIRE_SIG_EE_PACKET 0x0002  /* packet modules */
#define WIRE_SIG_EE_PROBE 0x0004   /* custom probes */
#define WIRE_SIG_EE_MERGE 0x0008   /* concast merge specifications */
#define WIRE_SIG_EE_PROCESS 0x0010 /* service processes */
#define WIRE_SIG_SANDBOX_BWRAP 0x0001 /* bubblewrap, per user (docs/services.md) */

#define WIRE_SIG_USER_MAX 32
#define WIRE_SIG_NAME_MAX 64
#define WIRE_SIG_VERSION_MAX 32
#define WIRE_SIG_DEPS_MAX 8
#define WIRE_SIG_FILTERS_MAX 4
#define WIRE_SIG_PROPS_MAX 16
#define WIRE_SIG_KEY_MAX 32
#define WIRE_SIG_VALUE_MAX 128
#define WIRE_SIG_URL_MAX 512
#define WIRE_SIG_LIFETIME_MAX 86400
#define WIRE_SIG_MODULE_MAX (16u << 20)
#define WIRE_SIG_ENTRIES_MAX 16
#define WIRE_SIG_INSTALLED_MAX 8
#define WIRE_SIG_WHY_MAX 200
#define WIRE_SIG_SIG_LEN 64

enum wire_sig_mod_kind {
	WIRE_SIG_KIND_PACKET = 1,  /* an eBPF packet module (include/anode/module.h) */
	WIRE_SIG_KIND_PROCESS = 2, /* a service process in the user's sandbox */
};

/* A filter: addresses as an_addr's (IPv4-mapped for IPv4), prefix lengths
 * over those 128 bits' IPv4 part for IPv4 (0..32) or all of them (0..128);
 * ports host order; 0 (and proto 0) match anything. */
struct wire_sig_filter {
	uint8_t proto;
	uint8_t src_len, dst_len;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t src[16], dst[16];
};

struct wire_sig_request {
	uint8_t kind;
	uint64_t id;
	uint32_t present; /* bit (1 << field) for each field seen, SIGNATURE as bit 31 */
	uint64_t time;
	uint8_t nonce[16];
	char user[WIRE_SIG_USER_MAX + 1];
	char module[WIRE_SIG_NAME_MAX + 1];
	char version[WIRE_SIG_VERSION_MAX + 1];
	char deps[WIRE_SIG_DEPS_MAX][WIRE_SIG_NAME_MAX + 1];
	size_t n_deps;
	struct wire_sig_filter filters[WIRE_SIG_FILTERS_MAX];
	size_t n_filters;
	struct {
		char key[WIRE_SIG_KEY_MAX + 1];
		char value[WIRE_SIG_VALUE_MAX + 1];
	} props[WIRE_SIG_PROPS_MAX];
	size_t n_props;
	struct an_addr notify;
	uint32_t lifetime;
	char url[WIRE_SIG_URL_MAX + 1];
	uint8_t hash[32];
	uint32_t size;
	uint8_t mod_kind;
	struct an_addr origin;
	const uint8_t *inner; /* TRIGGER: in the parsed buffer */
	size_t inner_len;
	size_t signed_len;	  /* parse: octets the signature covers (everything before its field) */
	const uint8_t *signature; /* parse: in the parsed buffer */
};

#define WIRE_SIG_HAS(q, f) (((q)->present >> ((f) == WIRE_SIG_SIGNATURE ? 31 : (f))) & 1u)

struct wire_sig_installed {
	uint32_t remaining_s;
	char name[WIRE_SIG_NAME_MAX + 1];
	char version[WIRE_SIG_VERSION_MAX + 1];
};

/* One node's entry on a response's stack. */
struct wire_sig_entry {
	struct an_addr address;
	bool has_caps, has_load, has_result;
	uint16_t ee_kinds, sandbox_kinds;
	uint32_t free_modules;
	uint64_t free_memory_kb;
	uint32_t load_milli;
	int32_t status;
	char why[WIRE_SIG_WHY_MAX + 1];
	struct wire_sig_installed installed[WIRE_SIG_INSTALLED_MAX];
	size_t n_installed;
};

struct wire_sig_response {
	uint64_t id;
	uint16_t flags;
	struct wire_sig_entry entries[WIRE_SIG_ENTRIES_MAX]; /* the last node's first */
	size_t n_entries;
};

/* The kind and id of any signalling message, from its header: 0, or
 * -EBADMSG / -EPROTONOSUPPORT. */
int wire_sig_peek(const void *msg, size_t len, uint8_t *ret_kind, uint64_t *ret_id);

/* A request, checked as the header says; the fields each kind requires:
 * every request TIME, NONCE, USER, ORIGIN and SIGNATURE; SETUP also
 * MODULE, MOD_VERSION, LIFETIME, HASH, SIZE and MOD_KIND (URL optional: the
 * module may come from the origin's node); REMOVE MODULE; TRIGGER INNER (a
 * SETUP, REMOVE or PROBE, itself well formed) and nothing a SETUP takes.
 * Whether the signature is good is wire_sig_verify's business. */
int wire_sig_parse(const void *msg, size_t len, struct wire_sig_request *ret);
/* Build q, signed with sk (libsodium's 64-octet Ed25519 secret key): its
 * length, -EINVAL for what the parser would refuse, -EMSGSIZE. */
ssize_t wire_sig_build(void *buf, size_t cap, const struct wire_sig_request *q, const uint8_t sk[64]);
/* Whether a parsed request's signature is pk's. */
bool wire_sig_verify(const void *msg, const struct wire_sig_request *q, const uint8_t pk[32]);

int wire_sig_response_parse(const void *msg, size_t len, struct wire_sig_response *ret);
/* HERE for request id: its length (WIRE_SIG_HDR_LEN), or -EMSGSIZE. A
 * HERE is a header and nothing else (wire_sig_peek checks it). */
ssize_t wire_sig_here_build(void *buf, size_t cap, uint64_t id);
/* A response with no entries yet, for request id: its length. */
ssize_t wire_sig_response_start(void *buf, size_t cap, uint64_t id);
/* Push e on the response of len octets in buf: the new length; when the
 * stack is full or cap too small, the response is marked TRUNCATED and
 * its length returned unchanged. -EINVAL for an entry the parser would
 * refuse or a buf that is not a response. */
ssize_t wire_sig_response_push(void *buf, size_t cap, size_t len, const struct wire_sig_entry *e);

#endif
