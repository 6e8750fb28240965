// SPDX-License-Identifier: MIT
/*
 * Starting service processes in their sandboxes (sandbox.h). bubblewrap
 * does the namespaces and the file system view; this file does what bwrap
 * leaves to its caller: the cgroups, rlimits, the unprivileged uid bwrap
 * runs as, and the seccomp program bwrap installs just before the exec.
 */
#include "priv/sandbox.h"

#include "wire/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define BWRAP "/usr/bin/bwrap"

static const char *const controllers[] = { "memory", "cpu", "pids", "freezer" };
#define N_CONTROLLERS (sizeof(controllers) / sizeof(controllers[0]))

static void cg_path(char *out, size_t len, const char *ctl, const char *name, const char *file)
{
	snprintf(out, len, SANDBOX_CGROUP_ROOT "/%s/anode%s%s%s%s", ctl, name ? "/" : "", name ? name : "",
		 file ? "/" : "", file ? file : "");
}

static int write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, value, strlen(value));
	int e = n < 0 ? -errno : 0;
	close(fd);
	return e;
}

int sandbox_check(char *err, size_t errlen)
{
	if (access(BWRAP, X_OK) != 0) {
		snprintf(err, errlen, "%s is missing (install bubblewrap)", BWRAP);
		return -ENOENT;
	}
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		char p[256];
		snprintf(p, sizeof(p), SANDBOX_CGROUP_ROOT "/%s/cgroup.procs", controllers[i]);
		if (access(p, W_OK) != 0) {
			snprintf(err, errlen, "the cgroup v1 '%s' controller is not mounted at %s/%s", controllers[i],
				 SANDBOX_CGROUP_ROOT, controllers[i]);
			return -ENOENT;
		}
	}
	return 0;
}

int sandbox_prepare(char *err, size_t errlen)
{
	if (sandbox_check(err, errlen) == 0 || access(BWRAP, X_OK) != 0)
		return sandbox_check(err, errlen);
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("anode-cgroup", SANDBOX_CGROUP_ROOT, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot mount cgroups in a mount namespace of our own: %s", strerror(e));
		return -e;
	}
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		char p[256];
		snprintf(p, sizeof(p), SANDBOX_CGROUP_ROOT "/%s", controllers[i]);
		/* A controller may share its hierarchy with another (cpu with
		 * cpuacct on some hosts): the same set must be named. */
		const char *opts[] = { controllers[i], !strcmp(controllers[i], "cpu") ? "cpu,cpuacct" : NULL };
		int r = mkdir(p, 0755) < 0 ? -errno : -EINVAL;
		for (size_t k = 0; k < 2 && opts[k]; k++)
			if (mount("cgroup", p, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts[k]) == 0) {
				r = 0;
				break;
			} else {
				r = -errno;
			}
		if (r < 0) {
			snprintf(err, errlen, "cannot mount the cgroup v1 '%s' controller: %s", controllers[i],
				 strerror(-r));
			return r;
		}
	}
	return sandbox_check(err, errlen);
}

static int cgroups_make(const struct sandbox_spec *s, char *err, size_t errlen)
{
	char p[256], v[64];
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		cg_path(p, sizeof(p), controllers[i], NULL, NULL);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			goto fail;
		cg_path(p, sizeof(p), controllers[i], s->name, NULL);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			goto fail;
	}
	struct {
		const char *ctl, *file;
		unsigned long long value;
	} limits[] = {
		{ "memory", "memory.limit_in_bytes", s->memory },
		{ "cpu", "cpu.cfs_period_us", 100000 },
		{ "cpu", "cpu.cfs_quota_us", (unsigned long long)s->cpu_pct * 1000 },
		{ "pids", "pids.max", s->pids },
	};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		cg_path(p, sizeof(p), limits[i].ctl, s->name, limits[i].file);
		snprintf(v, sizeof(v), "%llu", limits[i].value);
		int r = write_file(p, v);
		if (r < 0) {
			snprintf(err, errlen, "cannot set %s to %s: %s", p, v, strerror(-r));
			return r;
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot make cgroup %s: %s", p, strerror(errno));
	return -errno;
}

void sandbox_cleanup(const char *name)
{
	char p[256];
	/* Whatever is left (the sandbox's init went, and took its pid
	 * namespace with it; this is for a sandbox that never got that far). */
	cg_path(p, sizeof(p), "freezer", name, "freezer.state");
	write_file(p, "THAWED");
	cg_path(p, sizeof(p), "pids", name, "cgroup.procs");
	FILE *f = fopen(p, "re");
	if (f) {
		int pid;
		while (fscanf(f, "%d", &pid) == 1)
			if (pid > 1)
				kill(pid, SIGKILL);
		fclose(f);
	}
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		cg_path(p, sizeof(p), controllers[i], name, NULL);
		for (int tries = 0; rmdir(p) < 0 && errno == EBUSY && tries < 100; tries++)
			usleep(1000); /* the killed are still leaving */
	}
}

int sandbox_terminate(const char *name)
{
	char p[256];
	cg_path(p, sizeof(p), "pids", name, "cgroup.procs");
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	int pid, n = 0;
	while (fscanf(f, "%d", &pid) == 1) {
		char comm[32] = "", cp[64];
		snprintf(cp, sizeof(cp), "/proc/%d/comm", pid);
		FILE *c = fopen(cp, "re");
		if (c) {
			if (!fgets(comm, sizeof(comm), c))
				comm[0] = 0;
			fclose(c);
		}
		if (!strcmp(comm, "bwrap\n"))
			continue;
		if (kill(pid, SIGTERM) == 0)
			n++;
	}
	fclose(f);
	return n;
}

int sandbox_freeze(const char *name, bool freeze)
{
	char p[256];
	cg_path(p, sizeof(p), "freezer", name, "freezer.state");
	return write_file(p, freeze ? "FROZEN" : "THAWED");
}

/* System calls a service may make: what programs in any language need to
 * compute, use files in their sandbox, talk on their sockets, run threads
 * and children. Not on it, and answered EPERM: mount, namespaces,
 * ptrace, bpf, perf, kernel modules and keys, raw and netlink sockets,
 * clock and system changes. EPERM rather than death, so that programs
 * that probe for features carry on; the refusal is the containment. */
static const int svc_allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev), SCMP_SYS(pread64), SCMP_SYS(pwrite64),
	SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(close), SCMP_SYS(close_range), SCMP_SYS(lseek),
	SCMP_SYS(stat), SCMP_SYS(fstat), SCMP_SYS(lstat), SCMP_SYS(newfstatat), SCMP_SYS(statx),
	SCMP_SYS(statfs), SCMP_SYS(fstatfs), SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2),
	SCMP_SYS(readlink), SCMP_SYS(readlinkat), SCMP_SYS(getdents64), SCMP_SYS(getcwd), SCMP_SYS(chdir),
	SCMP_SYS(fchdir), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2), SCMP_SYS(link),
	SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat), SCMP_SYS(chmod), SCMP_SYS(fchmod),
	SCMP_SYS(fchmodat), SCMP_SYS(truncate), SCMP_SYS(ftruncate), SCMP_SYS(fsync), SCMP_SYS(fdatasync),
	SCMP_SYS(fcntl), SCMP_SYS(flock), SCMP_SYS(dup), SCMP_SYS(dup2), SCMP_SYS(dup3), SCMP_SYS(pipe),
	SCMP_SYS(pipe2), SCMP_SYS(umask), SCMP_SYS(utimensat), SCMP_SYS(sendfile), SCMP_SYS(copy_file_range),
	SCMP_SYS(splice), SCMP_SYS(tee), SCMP_SYS(fadvise64), SCMP_SYS(memfd_create), SCMP_SYS(eventfd2),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(mprotect), SCMP_SYS(madvise),
	SCMP_SYS(brk), SCMP_SYS(mlock), SCMP_SYS(munlock), SCMP_SYS(msync), SCMP_SYS(mincore),
	SCMP_SYS(socketpair), SCMP_SYS(bind), SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(connect), SCMP_SYS(shutdown), SCMP_SYS(recvfrom), SCMP_SYS(recvmsg), SCMP_SYS(recvmmsg),
	SCMP_SYS(sendto), SCMP_SYS(sendmsg), SCMP_SYS(sendmmsg), SCMP_SYS(getsockname), SCMP_SYS(getpeername),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(select),
	SCMP_SYS(pselect6), SCMP_SYS(epoll_create), SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl),
	SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(timerfd_create),
	SCMP_SYS(timerfd_settime), SCMP_SYS(timerfd_gettime), SCMP_SYS(signalfd), SCMP_SYS(signalfd4),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(clock_nanosleep), SCMP_SYS(nanosleep),
	SCMP_SYS(gettimeofday), SCMP_SYS(time), SCMP_SYS(alarm), SCMP_SYS(getitimer), SCMP_SYS(setitimer),
	SCMP_SYS(times), SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
	SCMP_SYS(clone3), SCMP_SYS(wait4), SCMP_SYS(waitid), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(kill), SCMP_SYS(tkill), SCMP_SYS(tgkill), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask),
	SCMP_SYS(rt_sigreturn), SCMP_SYS(rt_sigsuspend), SCMP_SYS(rt_sigpending), SCMP_SYS(rt_sigtimedwait),
	SCMP_SYS(rt_sigqueueinfo), SCMP_SYS(sigaltstack), SCMP_SYS(pause), SCMP_SYS(futex),
	SCMP_SYS(set_robust_list), SCMP_SYS(get_robust_list), SCMP_SYS(set_tid_address), SCMP_SYS(rseq),
	SCMP_SYS(arch_prctl), SCMP_SYS(prctl), SCMP_SYS(getpid), SCMP_SYS(getppid), SCMP_SYS(gettid),
	SCMP_SYS(getuid), SCMP_SYS(geteuid), SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getgroups),
	SCMP_SYS(getresuid), SCMP_SYS(getresgid), SCMP_SYS(getpgrp), SCMP_SYS(getpgid), SCMP_SYS(setpgid),
	SCMP_SYS(getsid), SCMP_SYS(setsid), SCMP_SYS(uname), SCMP_SYS(sysinfo), SCMP_SYS(getrusage),
	SCMP_SYS(getrlimit), SCMP_SYS(setrlimit), SCMP_SYS(prlimit64), SCMP_SYS(getpriority),
	SCMP_SYS(setpriority), SCMP_SYS(sched_yield), SCMP_SYS(sched_getaffinity), SCMP_SYS(sched_setaffinity),
	SCMP_SYS(sched_getparam), SCMP_SYS(sched_getscheduler), SCMP_SYS(getrandom), SCMP_SYS(getcpu),
	SCMP_SYS(restart_syscall), SCMP_SYS(capget), SCMP_SYS(ioctl), SCMP_SYS(membarrier),
	SCMP_SYS(inotify_init1), SCMP_SYS(inotify_add_watch), SCMP_SYS(inotify_rm_watch),
};

/* The allow-list as a BPF program in a memfd, for bwrap --seccomp. */
static int seccomp_program(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	int fd = -1, r = ctx ? 0 : -ENOMEM;
	for (size_t i = 0; r == 0 && i < sizeof(svc_allowed) / sizeof(svc_allowed[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, svc_allowed[i], 0);
	/* Sockets: local and IP, stream, datagram and seqpacket; no raw,
	 * packet or netlink sockets. */
	const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	for (size_t i = 0; r == 0 && i < 3; i++)
		for (size_t j = 0; r == 0 && j < 3; j++)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
					     SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i]),
					     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf, (scmp_datum_t)types[j]));
	/* clone for threads and children, never for namespaces. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, 0x7e020000ULL, 0)); /* CLONE_NEW* */
	if (r == 0) {
		fd = memfd_create("anode-svc-seccomp", 0); /* inherited by bwrap */
		r = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
	}
	if (ctx)
		seccomp_release(ctx);
	if (r < 0) {
		snprintf(err, errlen, "cannot build the service allow-list: %s", strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

/* In the forked child, as root still: never returns. */
static void child(const struct sandbox_spec *s, int bpf_fd)
{
	char p[256], pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		cg_path(p, sizeof(p), controllers[i], s->name, "cgroup.procs");
		if (write_file(p, pid) < 0)
			_exit(125);
	}
	struct rlimit core = { 0, 0 }, files = { SANDBOX_FILES_MAX, SANDBOX_FILES_MAX };
	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_NOFILE, &files);
	/* fd 3: the service's socket; fd 4: the seccomp program. */
	if (dup2(s->chan_fd, 3) < 0 || dup2(bpf_fd, 4) < 0)
		_exit(125);
	close_range(5, ~0U, 0);
	setsid();
	if (setgroups(0, NULL) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
	    setresuid(s->uid, s->uid, s->uid) < 0)
		_exit(125);
	char env_params[WIRE_SVC_PARAMS_MAX + 16], env_svc[96], env_user[96];
	snprintf(env_params, sizeof(env_params), "ANODE_PARAMS=%s", s->params ? s->params : "");
	snprintf(env_svc, sizeof(env_svc), "ANODE_SERVICE=%s", s->service);
	snprintf(env_user, sizeof(env_user), "ANODE_USER=%s", s->user);
	char *envp[] = { "PATH=/usr/bin:/bin", "ANODE_SERVICE_FD=3", env_params, env_svc, env_user, NULL };
	const char *argv[64 + 32];
	size_t n = 0;
	const char *fixed[] = {
		BWRAP, "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
		"--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
		"--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
		"--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev",
		"--tmpfs", "/tmp", "--dir", "/run", "--ro-bind", s->path, s->path, "--chdir", "/tmp",
		"--seccomp", "4", "--",
	};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = fixed[i];
	argv[n++] = s->path;
	for (size_t i = 0; s->args && s->args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = s->args[i];
	argv[n] = NULL;
	execve(BWRAP, (char *const *)argv, envp);
	_exit(127);
}

int sandbox_start(const struct sandbox_spec *s, pid_t *ret_pid, char *err, size_t errlen)
{
	int r = sandbox_check(err, errlen);
	if (r < 0)
		return r;
	r = cgroups_make(s, err, errlen);
	if (r < 0) {
		sandbox_cleanup(s->name);
		return r;
	}
	int bpf_fd = seccomp_program(err, errlen);
	if (bpf_fd < 0) {
		sandbox_cleanup(s->name);
		return bpf_fd;
	}
	pid_t pid = fork();
	if (pid < 0) {
		r = -errno;
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(bpf_fd);
		sandbox_cleanup(s->name);
		return r;
	}
	if (pid == 0)
		child(s, bpf_fd);
	close(bpf_fd);
	*ret_pid = pid;
	return 0;
}
