// SPDX-License-Identifier: MIT
/*
 * syscall_deny NAME... -- PROGRAM [ARGS...]: run PROGRAM under a seccomp
 * filter that kills the process on any of the named system calls, and on
 * any system call of another architecture: what systemd does for a unit's
 * SystemCallFilter=~NAMES and SystemCallArchitectures=native. The
 * unit-hardening test applies the unit's filter this way, on a machine
 * without systemd as PID 1. Names no architecture knows here are skipped
 * (systemd does the same).
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int sep = 1;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (sep + 1 >= argc) {
		fprintf(stderr, "usage: syscall_deny NAME... -- PROGRAM [ARGS...]\n");
		return 2;
	}
	/* Only the native architecture: libseccomp's default context. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) < 0)
		return 125;
	int denied = 0;
	for (int i = 1; i < sep; i++) {
		int nr = seccomp_syscall_resolve_name(argv[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;
		int r = seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
		if (r < 0 && r != -EACCES) { /* -EACCES: a pseudo-syscall here */
			fprintf(stderr, "syscall_deny: %s: %s\n", argv[i], strerror(-r));
			return 125;
		}
		denied += r == 0;
	}
	if (seccomp_load(ctx) < 0) {
		fprintf(stderr, "syscall_deny: cannot load the filter: %s\n", strerror(errno));
		return 125;
	}
	seccomp_release(ctx);
	fprintf(stderr, "syscall_deny: %d system calls denied\n", denied);
	execvp(argv[sep + 1], argv + sep + 1);
	fprintf(stderr, "syscall_deny: %s: %s\n", argv[sep + 1], strerror(errno));
	return 127;
}
