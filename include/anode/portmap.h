/* SPDX-License-Identifier: MIT */
/*
 * The portmapper's capsule data (PAN §4.8.3): the code object apps/portmapper.c
 * binds port numbers to application links; libanode's an_portmap_bind and
 * an_portmap_release send these requests, and other code objects look a port
 * up with an_call(portmapper, PM_LOOKUP, port). Fields are in host byte
 * order (see apps/proto.h).
 */
#ifndef ANODE_PORTMAP_H
#define ANODE_PORTMAP_H

#include <stdint.h>

#define PM_BIND 1 /* capsule from an application: bind port (0 = any free) */
#define PM_RELEASE 2 /* capsule from an application: release port */
#define PM_LOOKUP 3 /* an_call op from another code object: port -> handle */
#define PM_EPHEMERAL_FIRST 49152

struct pm_msg {
	uint32_t op;
	uint32_t port;
	int32_t status; /* set by the portmapper in its reply */
	uint32_t zero;
};

#endif
