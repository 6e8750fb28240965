/* SPDX-License-Identifier: MIT */
/*
 * Application links: the node's side of the AF_UNIX SOCK_SEQPACKET socket
 * that applications (through libanode) use to insert code, inject capsules
 * and receive deliveries (PAN §4.8). Each connection gets a random 64-bit
 * handle: code objects can only deliver to a handle they were given by a
 * capsule the application inserted, and guessing one is hopeless, which is
 * what PAN's unforgeable pniAppLink gave.
 */
#ifndef LINK_APPLINK_H
#define LINK_APPLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anode/addr.h"
#include "core/loop.h"
#include "core/stat.h"

struct wire_applink;

struct applink_handler {
	void *arg;
	/* An ANEP packet the application wants run at the node. */
	void (*inject)(void *arg, uint64_t handle, const void *pkt, size_t len);
	/* A code object to insert; answer with applink_reply(CODE_RESULT). */
	void (*code_insert)(void *arg, uint64_t handle, const void *elf, size_t len);
	/* Any other message an application sent, parsed (the node hands it
	 * to the room that serves its type): 0, or -EOPNOTSUPP when nothing
	 * here serves it (the application is told; counted as bad). */
	int (*message)(void *arg, uint64_t handle, const struct wire_applink *m);
	/* The application closed its link; may be NULL. Not called when the
	 * server itself closes. */
	void (*closed)(void *arg, uint64_t handle);
};

#define APPLINK_COUNTERS(X)                                                               \
	X(accepted, "application links accepted")                                         \
	X(closed, "application links closed")                                             \
	X(refused_user, "connections refused: the user (uid) held its share")             \
	X(refused_full, "connections refused: every slot taken")                          \
	X(bad_messages, "messages that did not parse")                                    \
	X(delivered, "deliveries sent to applications")                                   \
	X(deliver_full, "deliveries to an application whose socket was full")             \
	X(deliver_gone, "deliveries to an application that had gone")

struct applink_counters {
	APPLINK_COUNTERS(STAT_FIELD)
};

struct applink_server;

struct applink_server *applink_server_open(const char *path, struct loop *loop, const struct an_addr *node_addr,
					   const char *node_name, const struct applink_handler *h);
void applink_server_close(struct applink_server *s); /* also unlinks the path */

/* Deliver capsule data from code object `code` to an application.
 * 0; -ENOTCONN when no such application; -EAGAIN when it does not keep up
 * (its socket buffer is full): the caller counts a drop. */
int applink_deliver(struct applink_server *s, uint64_t handle, const uint8_t code[32], const void *data, size_t len);
/* Send a reply message (CODE_RESULT, ERROR) to one application. */
int applink_reply(struct applink_server *s, uint64_t handle, uint8_t type, int32_t status, const void *body,
		  size_t len);
bool applink_alive(struct applink_server *s, uint64_t handle);
size_t applink_count(struct applink_server *s);
const struct applink_counters *applink_counters(struct applink_server *s);

#endif
