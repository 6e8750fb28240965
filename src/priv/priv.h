/* SPDX-License-Identifier: MIT */
/*
 * Privilege separation for router mode (DESIGN §1, OpenBGPD's model).
 *
 * anoded in router mode is two processes. The parent stays root and does
 * only what needs it: it binds NFQUEUE queues and runs iptables for the
 * node's filters, hands each bound queue socket to the child (SCM_RIGHTS),
 * removes the rules when the child goes, and restarts a child that dies.
 * The child parses packets and runs code from the network: it opens its
 * sockets, then becomes an unprivileged user keeping only CAP_NET_ADMIN
 * (the kernel wants it on every NFQUEUE verdict), with no_new_privs and a
 * system call allow-list, and asks the parent for everything else over
 * their socket pair (messages in src/wire, docs/wire.md §5a).
 */
#ifndef PRIV_PRIV_H
#define PRIV_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/loop.h"
#include "link/match.h"

/* ---- the parent (parent.c) ---- */

/* A configuration's text and its policy's, as read from their files. */
struct priv_texts {
	char *config; /* malloc'ed */
	size_t config_len;
	char *policy; /* malloc'ed; NULL without a policy */
	size_t policy_len;
	bool has_policy;
	char policy_name[256]; /* its path, for errors */
};

struct priv_parent_config {
	const char *tag; /* the node's name: rule comments "anode:TAG:ID" */
	unsigned first_queue;
	const char *user;		   /* the child's user */
	const char *const *unlink_at_exit; /* socket paths the child cannot remove; NULL-ended */
	/* The control module's policy, as read at start (NULL: no services). */
	const char *policy_text;
	size_t policy_len;
	/* SIGHUP: read the configuration and its policy again and check them
	 * (as root): 0 with ret filled, or a negative errno with why in err
	 * (the configuration in force stays). NULL: nothing to reload. */
	int (*reread)(void *arg, struct priv_texts *ret, char *err, size_t errlen);
	/* The configuration's text as read at start (with policy_text: what
	 * the child is given, in a sealed memfd, before anything else). */
	const char *config_text;
	size_t config_len;
	/* The child is this program again, by fork and exec (a fresh address
	 * space), with these arguments (NULL-ended) and --node-child FD, its
	 * end of the socket pair; keep_fd (>= 0) stays open across the exec
	 * (a UDP socket a lab bound). */
	const char *const *child_args;
	int keep_fd;
	void *arg;
};

/* Run the parent until SIGTERM or SIGINT (blocked by the caller), or until
 * the child cannot be kept running. Returns the exit status for anoded. */
int priv_parent_run(const struct priv_parent_config *cfg);

/* ---- records with descriptors (msg.c) ---- */

/* Receive one record (without blocking) and at most one descriptor:
 * *ret_fd is it or -1; descriptors beyond it are closed and counted in
 * *ret_extra. The record's length, 0 when the peer is gone, -EAGAIN when
 * none waits, -EMSGSIZE when it was cut (its descriptor, if any, still
 * returned), or another negative errno. */
ssize_t priv_msg_recv(int fd, void *buf, size_t len, int *ret_fd, int *ret_extra);
/* Send one record (without blocking), with pass_fd when it is >= 0. 0 or a
 * negative errno. */
int priv_msg_send(int fd, const void *buf, size_t len, int pass_fd);

/* ---- the child's end of the socket pair (chan.c) ---- */

/* In a child just started (anoded --node-child FD): wait for the parent's
 * first CONFIG on chan_fd and read its text (configuration, then policy)
 * into *ret_text (malloc'ed). 0, or a negative errno with why in err. */
int priv_child_config(int chan_fd, char **ret_text, size_t *ret_cfg_len, size_t *ret_policy_len, char *err,
		      size_t errlen);

struct priv_chan;

/* Watch chan_fd on loop. gone runs when the parent is gone (the child
 * should stop). */
struct priv_chan *priv_chan_open(struct loop *loop, int chan_fd, void (*gone)(void *arg), void *arg);
void priv_chan_close(struct priv_chan *c);
/* A matching engine backend that asks the parent; then tell the channel
 * which engine its answers are for. */
struct match_backend priv_chan_match_backend(struct priv_chan *c);
/* Requests waiting for room in the socket to the parent: now, and the
 * most at once (none is dropped: they wait, in order). */
void priv_chan_queue(const struct priv_chan *c, size_t *ret_now, size_t *ret_most);
void priv_chan_set_engine(struct priv_chan *c, struct match_engine *m);

/* Service processes: ask the parent to start one from the user's signed
 * activation (which it checks again), to stop one, to freeze or thaw one.
 * Answers come to the handler: started (err 0 with the pid and the node's
 * end of the service's socket, which the handler owns) and ended (a wait
 * status). */
struct priv_svc_handler {
	void (*started)(void *arg, unsigned id, int err, pid_t pid, int fd);
	void (*ended)(void *arg, unsigned id, int wstatus);
	void *arg;
};
void priv_chan_set_svc_handler(struct priv_chan *c, const struct priv_svc_handler *h);
/* A configuration the parent read and checked (WIRE_PRIV_CONFIG): fn puts
 * it in force as a whole and returns 0, or a negative errno after logging
 * why it kept the one in force; the parent hears which. */
void priv_chan_set_config_handler(struct priv_chan *c,
				  int (*fn)(void *arg, const char *cfg, size_t cfg_len, const char *policy,
					    size_t policy_len),
				  void *arg);
/* The link capacity the parent measured (bits/s; 0: not known). */
void priv_chan_set_capacity_handler(struct priv_chan *c, void (*fn)(void *arg, int64_t bps), void *arg);
int priv_chan_svc_start(struct priv_chan *c, unsigned id, const void *request, size_t len);
int priv_chan_svc_stop(struct priv_chan *c, unsigned id);
int priv_chan_svc_freeze(struct priv_chan *c, unsigned id, bool freeze);

/* The kernel path (src/kern, docs/kernel.md): ask the parent to start it
 * on interfaces ("all", or names separated by spaces), to load a code
 * object's checked kernel instructions (kobj_read's; passed in a sealed
 * memfd: -EAGAIN while other requests wait, try again), to unload one,
 * and tell it the node's figures. Answers: ready (err 0 and the counters
 * map's fd, which the handler owns; or why it is off) and loaded (id, err,
 * the verifier's words; with err 0, the code's soft state map, which the
 * handler owns). */
struct an_knode;
struct wire_priv_kxsk;
struct priv_kern_handler {
	void (*ready)(void *arg, int err, const char *why, int counters_fd);
	void (*loaded)(void *arg, unsigned id, int err, const char *log, int state_fd);
	void *arg;
	/* AF_XDP's pieces, one per call (priv_chan_kern_up): fd is the
	 * handler's (-1 for DONE, err then 0, or why it is off and why). */
	void (*xsk)(void *arg, unsigned id, const struct wire_priv_kxsk *x, int err, const char *why, int fd);
};
void priv_chan_set_kern_handler(struct priv_chan *c, const struct priv_kern_handler *h);
int priv_chan_kern_start(struct priv_chan *c, const char *ifaces);
int priv_chan_kern_load(struct priv_chan *c, unsigned id, const uint8_t name[32], uint32_t state_max,
			const uint8_t *insns, size_t n);
int priv_chan_kern_unload(struct priv_chan *c, const uint8_t name[32]);
int priv_chan_kern_node(struct priv_chan *c, const struct an_knode *kn);
/* Ask for what goes up to come by AF_XDP (after ready): the answers come to
 * the handler's xsk. */
int priv_chan_kern_up(struct priv_chan *c);
/* Run the loaded module name in the kernel on what f matches, at index of
 * the kernel path's filter table; f NULL clears the entry. */
struct an_kfilter;
int priv_chan_kern_filter(struct priv_chan *c, unsigned index, const uint8_t name[32], const struct an_kfilter *f);

/* ---- dropping privileges in the child (drop.c) ---- */

struct priv_user {
	uid_t uid;
	gid_t gid;
	char name[33];
};

/* Look a user up (getpwnam). 0, or -ENOENT with err filled. */
int priv_user_lookup(const char *name, struct priv_user *ret, char *err, size_t errsz);

/* Become u keeping only CAP_NET_ADMIN, set no_new_privs and the parent
 * death signal, and load the node's system call allow-list (not in a
 * sanitizer build: its runtime needs ptrace and more at exit). Call after
 * every socket is open. 0, or a negative errno with err filled. */
int priv_drop_node(const struct priv_user *u, char *err, size_t errsz);

/* Whether this build runs the allow-list (false under ASan). */
bool priv_seccomp_enabled(void);

#endif
