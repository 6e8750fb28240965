// SPDX-License-Identifier: MIT
/*
 * Starting service processes in their sandboxes (sandbox.h). bubblewrap
 * does the namespaces and the file system view; this file does what bwrap
 * leaves to its caller: the cgroups, rlimits, the unprivileged uid bwrap
 * runs as, and the seccomp program bwrap installs just before the exec.
 */
#include "priv/sandbox.h"

#include <poll.h>
#include <sys/wait.h>

#include "priv/priv.h"

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

static int cgroups_dirs(const char *name, char *err, size_t errlen)
{
	char p[256];
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		cg_path(p, sizeof(p), controllers[i], NULL, NULL);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			goto fail;
		cg_path(p, sizeof(p), controllers[i], name, NULL);
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "cannot make cgroup %s: %s", p, strerror(errno));
	return -errno;
}

static int cgroups_make(const struct sandbox_spec *s, char *err, size_t errlen)
{
	char p[256], v[64];
	int r0 = cgroups_dirs(s->name, err, errlen);
	if (r0 < 0)
		return r0;
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
	/* A suspended (frozen) service takes no signal until thawed: it
	 * would never end, and its node would wait for it. */
	cg_path(p, sizeof(p), "freezer", name, "freezer.state");
	write_file(p, "THAWED");
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

/* Move this process into the cgroups called name. */
static int attach_self(const char *name)
{
	char p[256], pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	for (size_t i = 0; i < N_CONTROLLERS; i++) {
		cg_path(p, sizeof(p), controllers[i], name, "cgroup.procs");
		int r = write_file(p, pid);
		if (r < 0)
			return r;
	}
	return 0;
}

/* In the forked child, as root still, in its cgroups: never returns. */
static void child(const struct sandbox_spec *s, int bpf_fd)
{
	struct rlimit core = { 0, 0 }, files = { SANDBOX_FILES_MAX, SANDBOX_FILES_MAX };
	setrlimit(RLIMIT_CORE, &core);
	setrlimit(RLIMIT_NOFILE, &files);
	/* fd 3: the service's socket; fd 4: the seccomp program; a server's
	 * fd 5 and 6: bwrap's info and block descriptors. */
	/* Out of the way first, so that no move clobbers another's source. */
	int ch = fcntl(s->chan_fd, F_DUPFD, 16), bp = fcntl(bpf_fd, F_DUPFD, 16);
	int in = s->net ? fcntl(s->info_fd, F_DUPFD, 16) : -1, bl = s->net ? fcntl(s->block_fd, F_DUPFD, 16) : -1;
	if (ch < 0 || bp < 0 || dup2(ch, 3) < 0 || dup2(bp, 4) < 0)
		_exit(125);
	if (s->net && (in < 0 || bl < 0 || dup2(in, 5) < 0 || dup2(bl, 6) < 0))
		_exit(125);
	close_range(s->net ? 7 : 5, ~0U, 0);
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
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) - 1; i++)
		argv[n++] = fixed[i];
	if (s->net) {
		static const char *const net[] = { "--unshare-net", "--info-fd", "5", "--block-fd", "6" };
		for (size_t i = 0; i < sizeof(net) / sizeof(net[0]); i++)
			argv[n++] = net[i];
	}
	for (size_t i = 0; s->ro_binds && s->ro_binds[i] && n < 64; i++) {
		argv[n++] = "--ro-bind-try";
		argv[n++] = s->ro_binds[i];
		argv[n++] = s->ro_binds[i];
	}
	argv[n++] = "--";
	argv[n++] = s->path;
	for (size_t i = 0; s->args && s->args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
		argv[n++] = s->args[i];
	argv[n] = NULL;
	execve(BWRAP, (char *const *)argv, envp);
	_exit(127);
}

/* ---- spares ---- */

/* The spec of an activation, for a spare: fixed fields, then the strings
 * NUL-terminated one after another (path, service, user, params, args). */
#define SPARE_SPEC_MAX 4096

struct spare_spec_hdr {
	uint32_t uid, gid, nargs;
};

static ssize_t spec_pack(const struct sandbox_spec *s, uint8_t *buf, size_t cap)
{
	struct spare_spec_hdr h = { .uid = s->uid, .gid = s->gid };
	size_t off = sizeof(h);
	const char *fixed[] = { s->path, s->service, s->user, s->params ? s->params : "" };
	for (size_t i = 0; i < 4 + 16; i++) {
		const char *str = i < 4 ? fixed[i] : (s->args ? s->args[i - 4] : NULL);
		if (!str)
			break;
		size_t n = strlen(str) + 1;
		if (off + n > cap)
			return -E2BIG;
		memcpy(buf + off, str, n);
		off += n;
		if (i >= 4)
			h.nargs++;
	}
	memcpy(buf, &h, sizeof(h));
	return (ssize_t)off;
}

/* In a spare: wait for the spec and the service's socket, then become the
 * sandbox. Never returns. */
static void spare_main(int fd, const char *name)
{
	/* Nothing of the parent's but its socket to us: not the node child's
	 * socket pair, whose end of file the child waits for. */
	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			_exit(125);
		fd = 3;
	}
	close_range(4, ~0U, 0);
	if (attach_self(name) < 0)
		_exit(125);
	static uint8_t buf[SPARE_SPEC_MAX + 1];
	int chan = -1, extra;
	ssize_t n;
	do
		n = priv_msg_recv(fd, buf, SPARE_SPEC_MAX, &chan, &extra);
	while (n == -EAGAIN && poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, -1) >= 0);
	if (n < (ssize_t)sizeof(struct spare_spec_hdr) || chan < 0)
		_exit(0); /* the parent went, or let us go */
	buf[n] = 0;
	struct spare_spec_hdr h;
	memcpy(&h, buf, sizeof(h));
	const char *str[4 + 16 + 1] = { 0 };
	size_t off = sizeof(h);
	for (size_t i = 0; i < 4 + h.nargs && i < 4 + 16 && off < (size_t)n; i++) {
		str[i] = (const char *)buf + off;
		off += strlen(str[i]) + 1;
	}
	if (!str[3])
		_exit(125);
	char *args[17] = { 0 };
	for (size_t i = 0; i < h.nargs && i < 16; i++)
		args[i] = (char *)str[4 + i];
	struct sandbox_spec s = { .uid = h.uid, .gid = h.gid, .path = str[0], .args = args, .service = str[1],
				  .user = str[2], .params = str[3], .chan_fd = chan };
	snprintf(s.name, sizeof(s.name), "%s", name);
	char err[128];
	int bpf_fd = seccomp_program(err, sizeof(err));
	if (bpf_fd < 0)
		_exit(125);
	close(fd);
	child(&s, bpf_fd);
}

int sandbox_spare_make(const char *name, struct sandbox_spare *ret)
{
	char err[256];
	*ret = (struct sandbox_spare){ .fd = -1 };
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	if (sandbox_check(err, sizeof(err)) < 0 || cgroups_dirs(name, err, sizeof(err)) < 0)
		return -ENOENT;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(sv[0]);
		close(sv[1]);
		sandbox_cleanup(name);
		return e;
	}
	if (pid == 0) {
		close(sv[0]);
		spare_main(sv[1], name);
	}
	close(sv[1]);
	ret->pid = pid;
	ret->fd = sv[0];
	return 0;
}

void sandbox_spare_drop(struct sandbox_spare *sp)
{
	if (sp->pid > 0) {
		kill(sp->pid, SIGKILL);
		waitpid(sp->pid, NULL, 0);
		sandbox_cleanup(sp->name);
	}
	if (sp->fd >= 0)
		close(sp->fd);
	sp->pid = 0;
	sp->fd = -1;
}

static int start_with_spare(struct sandbox_spec *s, struct sandbox_spare *sp, pid_t *ret_pid, char *err,
			    size_t errlen)
{
	/* The spare's cgroups get this activation's limits, then the spare
	 * its spec; it is the sandbox from here on. */
	snprintf(s->name, sizeof(s->name), "%s", sp->name);
	int r = cgroups_make(s, err, errlen);
	static uint8_t buf[SPARE_SPEC_MAX];
	ssize_t n = r < 0 ? r : spec_pack(s, buf, sizeof(buf));
	if (n < 0 || (r = priv_msg_send(sp->fd, buf, (size_t)n, s->chan_fd)) < 0) {
		if (n < 0)
			r = (int)n;
		if (!err[0])
			snprintf(err, errlen, "cannot hand the activation to the spare: %s", strerror(-r));
		sandbox_spare_drop(sp);
		return r;
	}
	close(sp->fd);
	*ret_pid = sp->pid;
	sp->pid = 0;
	sp->fd = -1;
	return 0;
}

int sandbox_start(struct sandbox_spec *s, struct sandbox_spare *spare, pid_t *ret_pid, char *err, size_t errlen)
{
	int r = sandbox_check(err, errlen);
	if (r < 0)
		return r;
	err[0] = 0;
	if (spare && spare->pid > 0)
		return start_with_spare(s, spare, ret_pid, err, errlen);
	r = cgroups_make(s, err, errlen);	if (r < 0) {
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
	if (pid == 0) {
		if (attach_self(s->name) < 0)
			_exit(125);
		child(s, bpf_fd);
	}
	close(bpf_fd);
	*ret_pid = pid;
	return 0;
}
