// SPDX-License-Identifier: MIT
/*
 * Dropping privileges in the node child (priv.h): from root to the
 * configured user, keeping CAP_NET_ADMIN alone, then no_new_privs and a
 * system call allow-list (libseccomp). Done after the child has opened
 * its sockets and before it reads a packet.
 *
 * Why CAP_NET_ADMIN stays: the kernel checks it on every message sent on
 * an NFQUEUE socket, verdicts included (nfnetlink_rcv: both the socket's
 * opener and the sender must have it). What it would still allow a child
 * taken over by hostile input (netlink changes to routes and netfilter) is
 * narrowed by the allow-list: no new socket but AF_UNIX, rtnetlink (the
 * link capacity monitor) and UDP over IPv4 (the presence monitor's probe), no ioctl but terminal and FIONREAD queries,
 * no exec, no ptrace, no mount, no namespaces, files opened read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/netlink.h>
#include <pwd.h>
#include <linux/bpf.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "priv/priv.h"

#if defined(__SANITIZE_ADDRESS__)
#define PRIV_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PRIV_SANITIZED 1
#endif
#endif
#ifndef PRIV_SANITIZED
#define PRIV_SANITIZED 0
#endif

bool priv_seccomp_enabled(void)
{
	return !PRIV_SANITIZED;
}

int priv_user_lookup(const char *name, struct priv_user *ret, char *err, size_t errsz)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw) {
		snprintf(err, errsz, "no user '%s'%s%s", name, errno ? ": " : "", errno ? strerror(errno) : "");
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errsz, "user '%s' is root: the node child must run unprivileged", name);
		return -EPERM;
	}
	ret->uid = pw->pw_uid;
	ret->gid = pw->pw_gid;
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	return 0;
}

/* System calls the node uses after it starts: the event loop, sockets it
 * already has, timers, memory (mprotect for the JIT), reading /proc and
 * /sys, and what libc, libsodium and librte_bpf call underneath. */
static const int allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(close),
    SCMP_SYS(lseek),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(fcntl),
    SCMP_SYS(getdents64),
    SCMP_SYS(readlink),
    SCMP_SYS(readlinkat),
    SCMP_SYS(access),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(unlink),
    SCMP_SYS(unlinkat),
    SCMP_SYS(dup),
    SCMP_SYS(dup3),
    SCMP_SYS(recvfrom),
    SCMP_SYS(recvmsg),
    SCMP_SYS(recvmmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(sendmsg),
    SCMP_SYS(sendmmsg),
    SCMP_SYS(accept4),
    SCMP_SYS(bind),
    SCMP_SYS(connect),
    SCMP_SYS(shutdown),
    SCMP_SYS(getsockname),
    SCMP_SYS(getpeername),
    SCMP_SYS(getsockopt),
    SCMP_SYS(epoll_create1),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(epoll_wait),
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_pwait2),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(timerfd_create),
    SCMP_SYS(timerfd_settime),
    SCMP_SYS(timerfd_gettime),
    SCMP_SYS(signalfd4),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(mmap),
    SCMP_SYS(memfd_create), /* a kernel program's instructions, for the parent (src/kern) */
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(mprotect),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(getrandom),
    SCMP_SYS(futex),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(getppid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(uname),
    SCMP_SYS(sysinfo),
    SCMP_SYS(getrusage),
    SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(sched_yield),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(tgkill),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(rseq),
    SCMP_SYS(set_robust_list),
};

static int seccomp_load_node(void)
{
	/* Anything else kills the child: the parent logs SIGSYS and starts a
	 * new one, with the rules consistent. A refused call with an errno
	 * would let a compromised child probe at leisure. */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; r == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* Files: read-only (the monitors read /proc and /sys). */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				     SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT | O_TRUNC, O_RDONLY));
	/* No new socket of any family: every socket the child uses was opened
	 * before this (links, application and control sockets, the presence
	 * probe, syslog's) or came from the parent (queues, services), and
	 * what needs rtnetlink (the link capacity) the parent reads. socket()
	 * kills, as anything else not allowed; AF_UNIX alone fails with
	 * EACCES instead, so that syslog(3) reconnecting after a journal
	 * restart loses a line rather than the node. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	/* bpf(2): soft state in the kernel path's maps, whose descriptors the
	 * parent passed (src/kern): look up, update, delete, walk. The
	 * kernel refuses everything else to an unprivileged process anyway;
	 * the list says so first. */
	for (int cmd = BPF_MAP_LOOKUP_ELEM; r == 0 && cmd <= BPF_MAP_GET_NEXT_KEY; cmd++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bpf), 1, SCMP_A0(SCMP_CMP_EQ, cmd));
	/* setsockopt at every level but the netfilter tables' commands: the
	 * kernel takes iptables', arptables' and ebtables' replace and
	 * counters commands (64 and up at IPPROTO_IP, IPVS's too) and
	 * ip6tables' (64 and 65 at IPPROTO_IPV6) on any IPv4 or IPv6 socket
	 * from a process with CAP_NET_ADMIN, which the child has for its
	 * queues; it holds such sockets (its links; with kernel-up afxdp the
	 * parent's raw socket). Levels: SOL_SOCKET, TCP, UDP, and everything
	 * above IPPROTO_IPV6 (netlink, XDP). */
	static const int open_levels[] = {SOL_SOCKET, IPPROTO_TCP, IPPROTO_UDP};
	for (size_t i = 0; r == 0 && i < sizeof(open_levels) / sizeof(open_levels[0]); i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1,
				     SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)open_levels[i]));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 1, SCMP_A1(SCMP_CMP_GT, IPPROTO_IPV6));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, IPPROTO_IP),
				     SCMP_A2(SCMP_CMP_LT, 64));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, IPPROTO_IPV6),
				     SCMP_A2(SCMP_CMP_LT, 64));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setsockopt), 2, SCMP_A1(SCMP_CMP_EQ, IPPROTO_IPV6),
				     SCMP_A2(SCMP_CMP_GT, 65));
	/* ioctl: is this a terminal (stdio), bytes waiting. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, TCGETS));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1, SCMP_A1(SCMP_CMP_EQ, FIONREAD));
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

static int keep_net_admin_only(char *err, size_t errsz)
{
	cap_t caps = cap_init(); /* all clear */
	cap_value_t keep[] = {CAP_NET_ADMIN};
	int r = -ENOMEM;
	if (caps && cap_set_flag(caps, CAP_PERMITTED, 1, keep, CAP_SET) == 0 &&
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, keep, CAP_SET) == 0)
		r = cap_set_proc(caps) == 0 ? 0 : -errno;
	if (r < 0)
		snprintf(err, errsz, "cannot keep CAP_NET_ADMIN alone: %s", strerror(-r));
	cap_free(caps);
	return r;
}

int priv_drop_node(const struct priv_user *u, char *err, size_t errsz)
{
	pid_t parent = getppid();
	/* Capabilities other processes could inherit: none but NET_ADMIN,
	 * while we may still drop them (CAP_SETPCAP). */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (c != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL) {
			snprintf(err, errsz, "cannot drop capability %d from the bounding set: %s", c, strerror(errno));
			return -errno;
		}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0) {
		int e = errno;
		snprintf(err, errsz, "cannot become user %s (%u:%u): %s", u->name, (unsigned)u->uid, (unsigned)u->gid,
			 strerror(e));
		return -e;
	}
	int r = keep_net_admin_only(err, errsz);
	if (r < 0)
		return r;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	if (setuid(0) == 0) {
		snprintf(err, errsz, "could become root again after dropping privileges");
		return -EPERM;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errsz, "cannot set no_new_privs: %s", strerror(errno));
		return -errno;
	}
	/* Changing credentials cleared the parent death signal: set it now,
	 * and make sure the parent did not go in between. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != parent) {
		snprintf(err, errsz, "the privileged parent is gone");
		return -ESRCH;
	}
	if (PRIV_SANITIZED) {
		/* LeakSanitizer stops the process with ptrace at exit, which a
		 * process that changed its uid (not dumpable) refuses. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		return 0;
	}
	r = seccomp_load_node();
	if (r < 0) {
		snprintf(err, errsz, "cannot load the system call allow-list: %s", strerror(-r));
		return r;
	}
	return 0;
}
