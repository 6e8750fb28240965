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

#define CTL_REPLY_MAX (256 * 1024)
#define CTL_ARGS_MAX 16

/* Output of one command, bounded by CTL_REPLY_MAX. */
struct ctl_out {
	char *buf;
	size_t len, cap;
	bool truncated;
};
void ctl_printf(struct ctl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct ctl_command {
	const char *name;
	const char *usage;
	/* 0, or a negative errno after writing the reason to out. */
	int (*fn)(void *arg, int argc, char **argv, struct ctl_out *out);
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
