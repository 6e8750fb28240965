/* SPDX-License-Identifier: MIT */
/*
 * The node's routing table: next hop per destination node address, from the
 * node's configuration (a lab computes them by shortest path) and changed
 * at run time by `anode route`, plus an optional default. Lookups are
 * exact-match hash probes.
 */
#ifndef NODE_ROUTE_H
#define NODE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "anode/addr.h"

struct route_table;

struct route_table *route_table_new(void);
void route_table_free(struct route_table *t);
/* Add or replace. 0 or -ENOMEM. */
int route_add(struct route_table *t, const struct an_addr *dst, const struct an_addr *next);
/* Remove: 0, or -ENOENT when dst has no route. */
int route_del(struct route_table *t, const struct an_addr *dst);
void route_set_default(struct route_table *t, const struct an_addr *next);
/* Whether there was a default to remove. */
bool route_clear_default(struct route_table *t);
/* 0 and *ret_next, or -EHOSTUNREACH. */
int route_lookup(const struct route_table *t, const struct an_addr *dst, struct an_addr *ret_next);
size_t route_count(const struct route_table *t);
/* Iterate: i from 0 while it returns true. */
bool route_at(const struct route_table *t, size_t i, struct an_addr *ret_dst, struct an_addr *ret_next);
bool route_get_default(const struct route_table *t, struct an_addr *ret_next);

#endif
