/* SPDX-License-Identifier: MIT */
/*
 * The kernel's IPv4 routes as /proc/net/route prints them (kroute.c), for
 * the one question signalling asks in router mode: does the route toward
 * an address lead straight onto a link (no router between this one and
 * it), or through a gateway? Read from the file, since the node child may
 * open no new socket (no rtnetlink) but may read /proc.
 */
#ifndef SIG_KROUTE_H
#define SIG_KROUTE_H

#include <stdint.h>
#include <stdio.h>

enum kroute_kind {
	KROUTE_NONE = 0,    /* no route */
	KROUTE_DIRECT = 1,  /* on a link of this host */
	KROUTE_GATEWAY = 2, /* through another router */
};

/* The longest-prefix route (lowest metric among equals) in f, in the
 * format of /proc/net/route, toward dst (network order). Lines that do
 * not parse are skipped. */
enum kroute_kind kroute_lookup(FILE *f, uint32_t dst);

#endif
