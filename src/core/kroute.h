/* SPDX-License-Identifier: MIT */
/*
 * The kernel's IPv4 routes as /proc/net/route prints them (kroute.c), for
 * the questions rooms ask of the route toward an address: does it lead
 * straight onto a link (no router between this one and it), or through a
 * gateway (signalling, in router mode)? Onto which interface (the presence
 * monitor, which hears that interface's carrier go)? Read from the file,
 * since the node child may open no new socket (no rtnetlink) but may read
 * /proc.
 */
#ifndef CORE_KROUTE_H
#define CORE_KROUTE_H

#include <stdint.h>
#include <stdio.h>

enum kroute_kind {
	KROUTE_NONE = 0,    /* no route */
	KROUTE_DIRECT = 1,  /* on a link of this host */
	KROUTE_GATEWAY = 2, /* through another router */
};

#define KROUTE_DEV_MAX 16 /* IFNAMSIZ */

/* The longest-prefix route (lowest metric among equals) in f, in the
 * format of /proc/net/route, toward dst (network order); its interface's
 * name into ret_dev when not NULL ("" for none). Lines that do not parse
 * are skipped. */
enum kroute_kind kroute_lookup(FILE *f, uint32_t dst, char ret_dev[KROUTE_DEV_MAX]);

#endif
