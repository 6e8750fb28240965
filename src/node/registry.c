// SPDX-License-Identifier: MIT
/*
 * The registry of rooms (room.h): every ROOM_REGISTER in the program puts
 * a pointer to its descriptor in the linker section anode_rooms, whose
 * bounds the linker names __start_anode_rooms and __stop_anode_rooms. The
 * registry reads them once, checks the descriptors, and orders them by
 * rank then name, so that the order does not depend on how the linker laid
 * the objects out.
 */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "node/room.h"

/* Weak: a program linked with no room at all has an empty registry. */
extern const struct room *const __start_anode_rooms[] __attribute__((weak));
extern const struct room *const __stop_anode_rooms[] __attribute__((weak));

static const struct room *sorted[ROOMS_MAX];
static size_t n_sorted;
static bool ready;

static int by_rank(const void *a, const void *b)
{
	const struct room *x = *(const struct room *const *)a, *y = *(const struct room *const *)b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* A descriptor that breaks the registry's rules is a build mistake: say
 * which and stop at start-up. */
static void check(const struct room *r)
{
	if (!r->name || !r->init)
		fatal("room registry: a room without a name or an init function");
	for (size_t i = 0; i < n_sorted; i++) {
		if (strcmp(sorted[i]->name, r->name) == 0)
			fatal("room registry: two rooms named %s", r->name);
		for (const struct conf_directive *d = r->directives; d && d->name; d++)
			if (conf_find(sorted[i]->directives, d->name))
				fatal("room registry: rooms %s and %s both have the directive %s", sorted[i]->name,
				      r->name, d->name);
	}
	if (r->directives && r->cfg_size == 0)
		fatal("room registry: room %s has directives and no configuration", r->name);
}

static void load(void)
{
	if (ready)
		return;
	size_t n = (size_t)(__stop_anode_rooms - __start_anode_rooms);
	if (!__start_anode_rooms)
		n = 0;
	if (n > ROOMS_MAX)
		fatal("room registry: %zu rooms linked in, at most %d", n, ROOMS_MAX);
	for (size_t i = 0; i < n; i++) {
		check(__start_anode_rooms[i]);
		sorted[n_sorted++] = __start_anode_rooms[i];
	}
	qsort(sorted, n_sorted, sizeof(sorted[0]), by_rank);
	ready = true;
}

size_t rooms_count(void)
{
	load();
	return n_sorted;
}

const struct room *rooms_at(size_t i)
{
	load();
	return i < n_sorted ? sorted[i] : NULL;
}

int rooms_index(const char *name)
{
	load();
	for (size_t i = 0; i < n_sorted; i++)
		if (strcmp(sorted[i]->name, name) == 0)
			return (int)i;
	return -1;
}
