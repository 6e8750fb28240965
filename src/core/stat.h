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

#define STAT_ROWS_MAX 48

struct stat_row {
	const char *name; /* the JSON key */
	const char *help; /* for people */
	bool real; /* d, else u */
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

static inline void stat_add(struct stat_section *s, const char *name, const char *help, uint64_t v)
{
	if (s->n < STAT_ROWS_MAX)
		s->rows[s->n++] = (struct stat_row){ .name = name, .help = help, .u = v };
}

static inline void stat_add_real(struct stat_section *s, const char *name, const char *help, double v)
{
	if (s->n < STAT_ROWS_MAX)
		s->rows[s->n++] = (struct stat_row){ .name = name, .help = help, .real = true, .d = v };
}

/* Adds every counter of an X-macro list from the struct that src points to
 * to section sec: STAT_ADD_ALL(sec, src, LINK_COUNTERS). */
#define STAT_ADD_ONE_(name, help) stat_add(stat_sec_, #name, help, stat_src_->name);
#define STAT_ADD_ALL(sec, src, LIST)                    \
	do {                                             \
		struct stat_section *stat_sec_ = (sec);  \
		__typeof__(src) stat_src_ = (src);       \
		LIST(STAT_ADD_ONE_)                      \
	} while (0)

#endif
