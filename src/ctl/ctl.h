/* SPDX-License-Identifier: MIT */
/*
 * The control socket: how the `anode` CLI asks a running node for its
 * counters, code cache and routes. An AF_UNIX SOCK_SEQPACKET socket; a
 * request is one record holding a command line ("stats json"); the answer
 * is one record whose first line is "ok" or "error: <text>", followed by
 * the command's output (text for people, JSON when asked).
 */
#ifndef CTL_H
#define CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"
#include "core/stat.h"

#define CTL_REPLY_MAX (256 * 1024)
#define CTL_ARGS_MAX 16

/* Output of one command, bounded by CTL_REPLY_MAX. */
struct ctl_out {
	char *buf;
	size_t len, cap;
	bool truncated;
};
void ctl_printf(struct ctl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string: quotes and backslashes escaped, control characters
 * dropped (what anode prints is text it made or checked). */
void ctl_json_string(struct ctl_out *o, const char *s);

/* Print figures, one section after another: as one JSON object whose
 * first members are the strings given (key, value pairs) and whose other
 * members are the sections, each an object of its rows; or as text, a title
 * line per section and a line per row with its help. Text leaves out rows
 * named drop_* that are zero, to keep what happened in view; JSON has all. */
struct ctl_string {
	const char *key, *value;
};
void ctl_print_stats(struct ctl_out *o, bool json, const struct ctl_string *strings, size_t n_strings,
		     const struct stat_section *sections, size_t n_sections);

struct ctl_command {
	const char *name;
	const char *usage;
	/* 0, or a negative errno after writing the reason to out. */
	int (*fn)(void *arg, int argc, char **argv, struct ctl_out *out);
	void *arg; /* fn's argument; NULL: the server's */
};

struct ctl_server;

/* table ends with an entry whose name is NULL. */
struct ctl_server *ctl_server_open(const char *path, struct loop *loop, const struct ctl_command *table, void *arg);
void ctl_server_close(struct ctl_server *s); /* also unlinks the path */

/* Client side: send cmd and wait (up to timeout_ms) for the answer.
 * 0 and *ret_body (malloc'ed, NUL-terminated; the text after the status
 * line) when the node said ok; -EREMOTEIO with *ret_body holding the
 * node's error text; another negative errno when the node could not be
 * reached. */
int ctl_request(const char *path, const char *cmd, int timeout_ms, char **ret_body);

#endif
