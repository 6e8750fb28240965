/* SPDX-License-Identifier: MIT */
/*
 * Figures for `anode stats`: each module lists its counters once, as an
 * X-macro of (name, help) pairs that declares its counters struct and feeds
 * a section of rows here; one writer (ctl_print_stats) prints every section
 * as text for people and as JSON for programs, so that no counter exists
 * without being shown and no two printers drift apart.
 */
#ifndef CORE_STAT_H
#define CORE_STAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STAT_ROWS_MAX 64
/* Rows a section may add besides its X-macro list (stat_add by hand). */
#define STAT_ROWS_EXTRA 8

struct stat_row {
	const char *name; /* the JSON key */
	const char *help; /* for people */
	bool real;	  /* d, else u */
	bool counter;	  /* only grows (events counted), else a figure now (a gauge, for Prometheus) */
	uint64_t u;
	double d;
};

/* One section: a JSON object named key, a paragraph of text headed title. */
struct stat_section {
	const char *key;
	const char *title;
	size_t n;
	struct stat_row rows[STAT_ROWS_MAX];
};

/* Declares one uint64_t field of a counters struct from an X-macro list. */
#define STAT_FIELD(name, help) uint64_t name;

/* A row past STAT_ROWS_MAX is a bug that the build catches for X-macro
 * lists (STAT_ADD_ALL) and that aborts for rows added by hand: a counter
 * is never lost without a word. */
/* A figure now (a gauge): what is cached, connected, waiting. */
static inline void stat_add(struct stat_section *s, const char *name, const char *help, uint64_t v)
{
	if (s->n >= STAT_ROWS_MAX)
		abort();
	s->rows[s->n++] = (struct stat_row){.name = name, .help = help, .u = v};
}

/* A count of events, which only grows while the node runs. */
static inline void stat_add_counter(struct stat_section *s, const char *name, const char *help, uint64_t v)
{
	if (s->n >= STAT_ROWS_MAX)
		abort();
	s->rows[s->n++] = (struct stat_row){.name = name, .help = help, .counter = true, .u = v};
}

static inline void stat_add_real(struct stat_section *s, const char *name, const char *help, double v)
{
	if (s->n >= STAT_ROWS_MAX)
		abort();
	s->rows[s->n++] = (struct stat_row){.name = name, .help = help, .real = true, .d = v};
}

/* The sections of one `stats` answer, grown as parts add theirs. */
struct stat_list {
	struct stat_section *v;
	size_t n, cap;
};

/* A new empty section at the end of l; NULL when memory ran out. */
static inline struct stat_section *stat_list_add(struct stat_list *l, const char *key, const char *title)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct stat_section *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	struct stat_section *s = &l->v[l->n++];
	memset(s, 0, sizeof(*s));
	s->key = key;
	s->title = title;
	return s;
}

/* Adds every counter of an X-macro list from the struct that src points to
 * to section sec: STAT_ADD_ALL(sec, src, LINK_COUNTERS). */
#define STAT_ADD_ONE_(name, help) stat_add_counter(stat_sec_, #name, help, stat_src_->name);
#define STAT_COUNT_ONE_(name, help) +1
/* How many counters an X-macro list has: for a build-time check of a
 * section that holds several lists. */
#define STAT_COUNT(LIST) (0 LIST(STAT_COUNT_ONE_))
#define STAT_ADD_ALL(sec, src, LIST)                                                                                   \
	do {                                                                                                           \
		_Static_assert((0 LIST(STAT_COUNT_ONE_)) <= STAT_ROWS_MAX - STAT_ROWS_EXTRA,                           \
			       "a counter list longer than a stats section holds: split it");                          \
		struct stat_section *stat_sec_ = (sec);                                                                \
		__typeof__(src) stat_src_ = (src);                                                                     \
		LIST(STAT_ADD_ONE_)                                                                                    \
	} while (0)

#endif
