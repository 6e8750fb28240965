/* SPDX-License-Identifier: MIT */
/*
 * Service process sandboxes (issue 9; seed 000 §4.3, seed 004 §4.4): the
 * privileged parent starts each service instance as its user's own uid,
 * in a cgroup of its own (memory, CPU share, pids; frozen to suspend it),
 * with rlimits, under bubblewrap (new user, mount, pid, ipc, uts and cgroup
 * namespaces; the system read-only; no_new_privs; the node's network, as
 * services may talk to the network) and a seccomp
 * allow-list (libseccomp, handed to bwrap as a BPF program). The service
 * gets one AF_UNIX SOCK_SEQPACKET socket to its node as fd 3
 * (ANODE_SERVICE_FD) and its parameters in ANODE_PARAMS.
 */
#ifndef PRIV_SANDBOX_H
#define PRIV_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SANDBOX_UID_BASE 200000 /* a service of the policy's Nth principal runs as uid BASE + N */
#define SANDBOX_PIDS_MAX 64
#define SANDBOX_FILES_MAX 256
#define SANDBOX_CGROUP_ROOT "/sys/fs/cgroup"
/* The cgroups of a node's module fetcher (src/sig/fetch.c), by node name:
 * the node child makes them, and the parent, which outlives it and may
 * write cgroups, removes them at its exit. */
#define SANDBOX_FETCHER_NAME "anode-fetch-%s"

struct sandbox_spec {
	char name[96]; /* the cgroup's name, unique while it runs: anode-TAG-ID */
	uid_t uid;
	gid_t gid;
	const char *path; /* the program, absolute */
	char *const *args; /* its arguments after the path, NULL-ended */
	const char *service, *user, *params; /* for its environment */
	int chan_fd; /* becomes fd 3 */
	/* A network namespace of its own (a server): bwrap writes its child's
	 * pid as JSON to info_fd, and starts the program only when block_fd
	 * becomes readable, once its caller has wired the namespace. */
	bool net;
	int info_fd, block_fd;
	/* More of the host to see, read-only, where it exists (NULL-ended;
	 * may be NULL): the module fetcher's name resolution and CAs. */
	const char *const *ro_binds;
	size_t memory; /* bytes */
	unsigned cpu_pct; /* of one CPU */
	unsigned pids;
};

/* A process made ahead of time, already in cgroups of its own, waiting for
 * the next activation: attaching a process to the four cgroup v1
 * hierarchies takes ~14 ms (each attach waits for an RCU grace period),
 * most of an activation. pid 0: none. */
struct sandbox_spare {
	pid_t pid;
	int fd; /* where its activation's spec goes */
	char name[96]; /* its cgroups */
};

/* Make a spare in cgroups called name. 0, or a negative errno. */
int sandbox_spare_make(const char *name, struct sandbox_spare *ret);
/* Kill a spare and remove its cgroups. */
void sandbox_spare_drop(struct sandbox_spare *sp);

/* Start a sandboxed service: *ret_pid is bwrap's pid (the whole sandbox
 * ends with it). With a spare (spare->pid > 0), it becomes the service
 * (spare->pid is 0 after) and s->name is set to its cgroups' name;
 * otherwise a process is forked and attached to cgroups called s->name.
 * 0, or a negative errno with err saying why. */
int sandbox_start(struct sandbox_spec *s, struct sandbox_spare *spare, pid_t *ret_pid, char *err, size_t errlen);
/* Ask the service to end: SIGTERM to every process of the sandbox but
 * bubblewrap's own (which would take the service down with SIGKILL). How
 * many were signalled, or a negative errno. */
int sandbox_terminate(const char *name);
/* Freeze (suspend) or thaw (resume) every process of the sandbox. */
int sandbox_freeze(const char *name, bool freeze);
/* Kill what is left in the sandbox's cgroups and remove them. */
void sandbox_cleanup(const char *name);
/* Whether this host has what sandboxes need (bwrap, the cgroup v1
 * controllers): 0, or a negative errno with err saying what is missing. */
int sandbox_check(char *err, size_t errlen);
/* Make sure the controllers are there: when they are not mounted where
 * this process sees (`ip netns exec` mounts a sysfs of its own over /sys),
 * mount them in a mount namespace of this process's own, so that nothing
 * changes for anyone else. 0, or a negative errno with err saying why. */
int sandbox_prepare(char *err, size_t errlen);

#endif
