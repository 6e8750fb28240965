/* SPDX-License-Identifier: MIT */
/*
 * The control module's policy (seed 000 §3, §4.3; docs/services.md): who
 * the node's administrators and users are (each with an Ed25519 public
 * key), which services are deployed (a name bound to a program or a code
 * object: the paper's service database), which services each user may
 * activate, what traffic each may filter, and their quotas. Read from a
 * file at start; nothing in it comes from the network.
 *
 *   admin NAME ed25519:KEY
 *   user NAME ed25519:KEY
 *   service NAME program PATH [ARG ...]   a native program, sandboxed per user
 *   service NAME server PATH [ARG ...]    the same in a network namespace of its
 *                                         own, the traffic named when it is
 *                                         activated redirected to it
 *   service NAME module FILE              a packet module (eBPF code object)
 *   service NAME probe FILE               a custom probe (eBPF code object)
 *   allow USER service NAME[,NAME ...]
 *   allow USER filter PREFIX [proto udp|tcp|icmp] [ports LO[-HI]]
 *   quota USER [services N] [filters N] [memory BYTES[k|M|G]] [cpu PCT] [state BYTES[k|M|G]]
 */
#ifndef SVC_POLICY_H
#define SVC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wire/wire.h"

#define POLICY_PRINCIPALS_MAX 256
#define POLICY_SERVICES_MAX 128
#define POLICY_GRANTS_MAX 128 /* services and filters, each, per user */
#define POLICY_ARGS_MAX 16
#define POLICY_PATH_MAX 256

#define POLICY_DEFAULT_SERVICES 4
#define POLICY_DEFAULT_FILTERS 8
#define POLICY_DEFAULT_MEMORY (64u << 20)
#define POLICY_DEFAULT_CPU 25
#define POLICY_DEFAULT_STATE (1u << 20)

enum policy_service_kind {
	POLICY_PROGRAM, /* a service process */
	POLICY_MODULE,	/* a packet module */
	POLICY_PROBE,	/* a custom probe */
};

struct policy_service {
	char name[WIRE_SVC_NAME_MAX + 1];
	enum policy_service_kind kind;
	char path[POLICY_PATH_MAX];
	char *argv[POLICY_ARGS_MAX + 1]; /* program: its arguments after the path */
	size_t argc;
	bool server; /* a program in a network namespace of its own, traffic redirected to it */
};

/* Traffic an activation names in its parameters: dst=A.B.C.D[/LEN] (or
 * src=) proto=udp|tcp|icmp [port=LO[-HI]]: a packet module's filter, a
 * server's redirected traffic. Addresses in network order. */
struct policy_flow {
	uint32_t src, dst;
	uint8_t src_prefix, dst_prefix, proto;
	uint16_t port_lo, port_hi;
};

/* Traffic a user may filter: an IPv4 prefix, a protocol (0 = any), a port
 * range (0, 0 = any). */
struct policy_filter_grant {
	uint32_t addr; /* network order */
	uint8_t prefix;
	uint8_t proto;
	uint16_t port_lo, port_hi;
};

struct policy_quota {
	size_t services, filters, memory, cpu_pct, state;
};

struct policy_principal {
	char name[WIRE_SVC_NAME_MAX + 1];
	bool admin;
	uint8_t pk[32];
	/* What a user may use (administrators may use everything). */
	size_t n_services;
	char services[POLICY_GRANTS_MAX][WIRE_SVC_NAME_MAX + 1];
	size_t n_filters;
	struct policy_filter_grant filters[POLICY_GRANTS_MAX];
	struct policy_quota quota;
};

struct policy {
	size_t n_principals;
	struct policy_principal *principals;
	size_t n_services;
	struct policy_service *services;
};

/* Read a policy file. 0, or a negative errno with err saying where and
 * why ("FILE:LINE: ..."). */
int policy_load(const char *path, struct policy *ret, char *err, size_t errlen);
/* The same from text in memory (the privileged parent read the file),
 * named name in errors. */
int policy_parse(const char *text, size_t len, const char *name, struct policy *ret, char *err, size_t errlen);
void policy_free(struct policy *p);
/* Write p back in the file's syntax, one directive per line. */
void policy_print(const struct policy *p, FILE *f);

const struct policy_principal *policy_principal(const struct policy *p, const char *name);
/* "program", "module" or "probe". */
const char *policy_kind_name(enum policy_service_kind k);
const struct policy_service *policy_service(const struct policy *p, const char *name);
/* Whether who may activate service. */
bool policy_may_use(const struct policy_principal *who, const char *service);
/* Whether who may filter this traffic: the filter's destination (or
 * source) prefix inside one of its grants, with the grant's protocol and
 * port range covering the filter's. */
bool policy_may_filter(const struct policy_principal *who, uint32_t addr, uint8_t prefix, uint8_t proto,
		       uint16_t port_lo, uint16_t port_hi);

/* Parse a flow from parameters: 0, or -EINVAL with why filled. */
int policy_flow_parse(const char *params, struct policy_flow *ret, char *why, size_t whylen);
/* Whether who may name this flow: the prefix it names (destination, else
 * source) inside one of who's grants, with its protocol and ports. */
bool policy_may_flow(const struct policy_principal *who, const struct policy_flow *f);
/* The traffic a server's activation names: parsed, a destination, TCP or
 * UDP with ports, inside who's grants. 0 and *ret, or -EINVAL or -EPERM
 * with why filled. The node and the privileged parent both ask. */
int policy_server_flow(const char *params, const struct policy_principal *who, struct policy_flow *ret, char *why,
		       size_t whylen);

/* "ed25519:BASE64" <-> 32 octets. */
int policy_key_parse(const char *s, uint8_t pk[32]);
void policy_key_format(const uint8_t pk[32], char *out, size_t outlen);
#define POLICY_KEY_STRLEN 64

#endif
