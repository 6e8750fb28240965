/* SPDX-License-Identifier: MIT */
/*
 * The presence probe of watched hosts (presence.c): one UDP socket for all
 * of them, opened when the monitors start.
 */
#ifndef MON_PRESENCE_H
#define MON_PRESENCE_H

#include <stdint.h>

struct presence;

/* NULL with errno set. */
struct presence *presence_open(void);
void presence_close(struct presence *p);
/* Probe host (IPv4, network order) again, at now_ns: 1 when it answered a
 * probe sent at or after since_ns (0: no probe out yet, 0 is returned). */
int presence_probe(struct presence *p, uint32_t host, uint64_t since_ns, uint64_t now_ns);

#endif
