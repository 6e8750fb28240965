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
#include <sys/types.h>

#include "core/loop.h"
#include "core/stat.h"

#define CTL_REPLY_MAX (256 * 1024)
#define CTL_ARGS_MAX 16

/* Output of one command, bounded by CTL_REPLY_MAX. */
struct ctl_out {
	char *buf;
	size_t len, cap;
	bool truncated;
	/* Whether the asking process may change the node (root, the node's
	 * own user, or a member of the admin group): a command that changes
	 * something returns ctl_refuse_change(out) when not. */
	bool may_change;
	const char *admin_group; /* for the refusal's words; NULL: none */
};
void ctl_printf(struct ctl_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string: quotes and backslashes escaped, control characters
 * dropped (what anode prints is text it made or checked). */
void ctl_json_string(struct ctl_out *o, const char *s);
/* A moment for people: "2026-12-03 15:44:28 UTC, 5 min ago" (UTC: the
 * node and the one reading may be in different zones), given the time now;
 * "in the future" when the clock says so. Both in seconds since the epoch. */
void ctl_print_moment(struct ctl_out *o, uint64_t when, uint64_t now);

/* Print figures, one section after another: as one JSON object whose
 * first members are the strings given (key, value pairs) and whose other
 * members are the sections, each an object of its rows; or as text, a title
 * line per section and a line per row with its help. Text leaves out rows
 * named drop_* that are zero, to keep what happened in view; JSON has all. */
struct ctl_string {
	const char *key, *value;
};
enum ctl_format {
	CTL_TEXT,
	CTL_JSON,
	/* The Prometheus text exposition format (0.0.4; node_exporter's
	 * textfile collector and Prometheus read it): one metric per row,
	 * anode_SECTION_ROW, counters with _total, each with its HELP and
	 * TYPE; the strings become labels of every sample and of an
	 * anode_info gauge of 1. */
	CTL_PROMETHEUS,
};
void ctl_print_stats(struct ctl_out *o, enum ctl_format format, const struct ctl_string *strings, size_t n_strings,
		     const struct stat_section *sections, size_t n_sections);

struct ctl_command {
	const char *name;
	const char *usage;
	/* 0, or a negative errno after writing the reason to out. */
	int (*fn)(void *arg, int argc, char **argv, struct ctl_out *out);
	void *arg;    /* fn's argument; NULL: the server's */
	int max_args; /* words after the name it takes; more are refused with the usage */
};

/*
 * Who may wait for an answer: CTL_CLIENTS connections whose request has
 * not come yet, at most CTL_PER_UID of them from one uid other than root,
 * and CTL_ROOT_SHARE of them kept for root, so that no local process locks
 * the others (or root) out; one that says nothing is closed after
 * CTL_CLIENT_TIMEOUT_MS. Every refusal is answered ("error: ...") before
 * the connection is closed, and counted.
 */
#define CTL_CLIENTS 16
#define CTL_PER_UID 4
#define CTL_ROOT_SHARE 4
#define CTL_CLIENT_TIMEOUT_MS 1000

#define CTL_COUNTERS(X)                                                                                                \
	X(requests, "requests answered")                                                                               \
	X(refused_user, "connections refused: the uid held its share of waiting connections")                          \
	X(refused_full, "connections refused: every slot was taken (a share is kept for root)")                        \
	X(silent_closed, "connections closed: no request within a second")                                             \
	X(bad_requests, "requests refused: empty, unknown command, or too many arguments")                             \
	X(refused_changes, "requests refused: a change from a process that may only look")

struct ctl_counters {
	CTL_COUNTERS(STAT_FIELD)
};

struct ctl_server;

/* Refuse a change to a process that may only look: "error: changing the
 * node needs root, its own user or group G". -EPERM. */
int ctl_refuse_change(struct ctl_out *o);

/* table ends with an entry whose name is NULL. */
struct ctl_server *ctl_server_open(const char *path, struct loop *loop, const struct ctl_command *table, void *arg);
/* Who may change the node besides root and its own user: members of the
 * group gid (name, for words), or nobody else (name NULL). Everyone who
 * may connect may look (the socket's group and mode say who). */
void ctl_server_set_admin(struct ctl_server *s, gid_t gid, const char *name);
void ctl_server_close(struct ctl_server *s); /* also unlinks the path */
const struct ctl_counters *ctl_server_counters(const struct ctl_server *s);

/* Client side: send cmd and wait (up to timeout_ms) for the answer.
 * 0 and *ret_body (malloc'ed, NUL-terminated; the text after the status
 * line) when the node said ok; -EREMOTEIO with *ret_body holding the
 * node's error text; another negative errno when the node could not be
 * reached. */
int ctl_request(const char *path, const char *cmd, int timeout_ms, char **ret_body);

#endif
