/* SPDX-License-Identifier: MIT */
/*
 * The host's interfaces as rtnetlink tells them (links.c): one socket in
 * the RTMGRP_LINK and RTMGRP_TC groups, opened when the monitors start
 * (a router node's child opens no socket once it runs), which first dumps
 * the links and the qdiscs and from then on hears every change as it
 * happens: an interface losing or getting back its carrier, a tc token
 * bucket (tbf) added, changed or removed. Each interface's capacity is
 * its tbf's rate where one shapes it, else its speed
 * (/sys/class/net/NAME/speed), read when asked.
 */
#ifndef MON_LINKS_H
#define MON_LINKS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/loop.h"

struct links;

struct links_ops {
	void *arg;
	/* An interface's carrier changed. */
	void (*carrier)(void *arg, const char *name, bool running);
	/* An interface's shaping changed (a tbf came, changed or went). */
	void (*shaping)(void *arg, const char *name);
};

/* NULL with errno set when the socket cannot open or join its groups. */
struct links *links_open(struct loop *loop, const struct links_ops *ops);
void links_close(struct links *l);

/* The capacity of the interface name in bits/s: its tbf's rate, else its
 * speed; -ENOENT when the interface is not known, -ENODATA when it has
 * neither (down, or a virtual interface that reports no speed). */
int64_t links_capacity(const struct links *l, const char *name);

/* The rate of the tbf an RTM_NEWQDISC message describes, in bits/s (0:
 * none given); -ENOENT for another qdisc, -EBADMSG. */
struct nlmsghdr;
int64_t links_tbf_bps(const struct nlmsghdr *nlh);

/* Messages heard since the start (the dumps included). */
uint64_t links_events(const struct links *l);

#endif
