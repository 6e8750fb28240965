// SPDX-License-Identifier: MIT
/*
 * anode lab up --netns --routing ospf: FRR's zebra and ospfd in every
 * router's namespace instead of the static shortest-path routes, so that a
 * failed link is routed around as on a real network, and anode routers
 * (which send capsules on by the kernel's FIB) follow. This file writes the
 * daemons' configurations, starts them, waits for OSPF to converge, and
 * stops them by the PIDs they recorded.
 *
 * Each router's FRR lives in /run/frr/NS (NS its namespace name, unique on
 * the machine): zebra.conf, ospfd.conf, the daemons' PID files, logs and
 * vty sockets. FRR's own path space (-N NS) names the same directory, so
 * an operator can ask the daemons directly:
 *   ip netns exec NS vtysh -N NS -c 'show ip ospf neighbor'
 * The daemons run as user frr, as FRR's packaging runs them, so the
 * directory is theirs; the lab directory (0700, root's) holds nothing of
 * FRR's.
 *
 * OSPF settings, for a lab of veth links that should reconverge in well
 * under a second after a link goes down: point-to-point links (no DR
 * election to wait for), hello 1 s and dead 3 s (a silent failure is seen
 * within 3 s), SPF at once and then at most every second, every interface
 * in area 0, host links and the loopback passive. A route-map in zebra
 * gives OSPF's routes the router's node address as source, as the static
 * lab's routes carry it, so the routers' own packets and ICMP errors come
 * from the node address.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/spawn.h"

#define FRR_RUN_DIR "/run/frr"
#define FRR_BIN_DIR "/usr/lib/frr"
#define OSPF_HELLO_S 1
#define OSPF_DEAD_S 3
#define STOP_WAIT_MS 3000

static const char *const daemons[] = {"zebra", "ospfd"};

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *ip4(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = {.s_addr = htonl(a)};
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

int lab_ospf_check(void)
{
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
		snprintf(path, sizeof(path), FRR_BIN_DIR "/%s", daemons[i]);
		if (access(path, X_OK) < 0) {
			fprintf(stderr,
				"anode lab: --routing ospf runs FRR's zebra and ospfd, and %s is missing "
				"(apt install frr; scripts/deps.sh installs it)\n",
				path);
			return -ENOENT;
		}
	}
	if (!getpwnam("frr")) {
		fprintf(stderr, "anode lab: --routing ospf runs FRR as user frr, which does not exist "
				"(is the frr package installed?)\n");
		return -ENOENT;
	}
	return 0;
}

static void dir_of(const char *ns, char *buf, size_t len)
{
	snprintf(buf, len, FRR_RUN_DIR "/%s", ns);
}

/* Write a file in the router's FRR directory, owned by frr. */
static FILE *open_conf(const char *dir, const char *file, uid_t uid, gid_t gid, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", dir, file);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || fchown(fd, uid, gid) < 0) {
		fprintf(stderr, "anode lab: cannot write %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return fdopen(fd, "w");
}

static int write_confs(const struct lab_ospf_router *r, const char *dir, uid_t uid, gid_t gid)
{
	char path[PATH_MAX], a[INET_ADDRSTRLEN];
	FILE *f = open_conf(dir, "zebra.conf", uid, gid, path, sizeof(path));
	if (!f)
		return -EIO;
	fprintf(f,
		"! written by 'anode lab up --netns --routing ospf' for router %s\n"
		"hostname %s\n"
		"! OSPF's routes leave from the node address, as the static lab's do.\n"
		"route-map ANODE-SRC permit 10\n"
		" set src %s\n"
		"ip protocol ospf route-map ANODE-SRC\n",
		r->name, r->name, ip4(r->addr, a));
	if (fclose(f) != 0)
		return -EIO;
	if (!(f = open_conf(dir, "ospfd.conf", uid, gid, path, sizeof(path))))
		return -EIO;
	fprintf(f, "! written by 'anode lab up --netns --routing ospf' for router %s\nhostname %s\n", r->name, r->name);
	fprintf(f, "interface lo\n ip ospf area 0\n");
	for (size_t i = 0; i < r->n_ifs; i++)
		fprintf(f,
			"interface %s\n ip ospf area 0\n ip ospf network point-to-point\n"
			" ip ospf hello-interval %d\n ip ospf dead-interval %d\n",
			r->ifs[i].name, OSPF_HELLO_S, OSPF_DEAD_S);
	fprintf(f,
		"router ospf\n ospf router-id %s\n timers throttle spf 0 50 1000\n timers throttle lsa all 0\n timers "
		"lsa min-arrival 0\n passive-interface lo\n",
		ip4(r->addr, a));
	for (size_t i = 0; i < r->n_ifs; i++)
		if (r->ifs[i].to_host)
			fprintf(f, " passive-interface %s\n", r->ifs[i].name);
	return fclose(f) == 0 ? 0 : -EIO;
}

int lab_ospf_start(const struct lab_ospf_router *r)
{
	const struct passwd *pw = getpwnam("frr");
	if (!pw)
		return -ENOENT;
	char dir[PATH_MAX];
	dir_of(r->ns, dir, sizeof(dir));
	/* /run/frr is FRR's, made by its package or its service (made here,
	 * as theirs, where neither ran: a container without systemd); our
	 * directory in it is new (the namespace name was free) and the
	 * daemons'. */
	if (access(FRR_RUN_DIR, F_OK) < 0 &&
	    (mkdir(FRR_RUN_DIR, 0755) < 0 || chown(FRR_RUN_DIR, pw->pw_uid, pw->pw_gid) < 0)) {
		fprintf(stderr, "anode lab: cannot make %s for user frr: %s\n", FRR_RUN_DIR, strerror(errno));
		return -errno;
	}
	if (mkdir(dir, 0750) < 0 || chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
		fprintf(stderr, "anode lab: cannot create %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	int ret = write_confs(r, dir, pw->pw_uid, pw->pw_gid);
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++) {
		char exe[PATH_MAX], conf[PATH_MAX], pid[PATH_MAX], zsock[PATH_MAX], log[PATH_MAX + 8];
		char err[1024], out[256];
		snprintf(exe, sizeof(exe), FRR_BIN_DIR "/%s", daemons[i]);
		snprintf(conf, sizeof(conf), "%s/%s.conf", dir, daemons[i]);
		snprintf(pid, sizeof(pid), "%s/%s.pid", dir, daemons[i]);
		snprintf(zsock, sizeof(zsock), "%s/zserv.api", dir);
		snprintf(log, sizeof(log), "file:%s/%s.log", dir, daemons[i]);
		/* -d: the daemon forks and has written its PID file when the
		 * command returns; -P 0: no vty TCP port, the socket only. */
		char *argv[] = {"/usr/sbin/ip", "netns", "exec",  (char *)r->ns, exe, "-d", "-N",
				(char *)r->ns,	"-f",	 conf,	  "-i",		 pid, "-z", zsock,
				"-P",		"0",	 "--log", log,		 NULL};
		if (access(argv[0], X_OK) < 0)
			argv[0] = "/sbin/ip";
		int rc = spawn_run(argv, out, sizeof(out), err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "anode lab: %s in %s did not start (%s): %s\n", daemons[i], r->ns,
				rc < 0 ? strerror(-rc) : "it failed", err);
			return -EIO;
		}
	}
	return 0;
}

/* Whether the kernel routes of namespace ns hold a route to every address
 * in want (n of them). */
static bool has_routes(const char *ns, const uint32_t *want, size_t n)
{
	static char out[1 << 16];
	char err[256], a[INET_ADDRSTRLEN + 2];
	char *argv[] = {"/usr/sbin/ip", "-n", (char *)ns, "-4", "-o", "route", "show", "proto", "ospf", NULL};
	if (access(argv[0], X_OK) < 0)
		argv[0] = "/sbin/ip";
	if (spawn_run(argv, out, sizeof(out), err, sizeof(err)) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		ip4(want[i], a);
		strcat(a, " ");
		bool found = strncmp(out, a, strlen(a)) == 0;
		for (const char *p = strchr(out, '\n'); !found && p; p = strchr(p + 1, '\n'))
			found = strncmp(p + 1, a, strlen(a)) == 0;
		if (!found)
			return false;
	}
	return true;
}

int lab_ospf_wait(const struct lab_ospf_router *r, size_t n, int timeout_ms)
{
	uint32_t want[LAB_MAX_NODES];
	long long start = now_ms();
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		for (size_t j = 0; j < n; j++)
			if (j != i)
				want[k++] = r[j].addr;
		while (!has_routes(r[i].ns, want, k)) {
			if (now_ms() - start > timeout_ms) {
				fprintf(stderr,
					"anode lab: OSPF did not converge within %d ms: router %s has no route to "
					"every other router (see %s/%s/ospfd.log, or vtysh -N %s)\n",
					timeout_ms, r[i].name, FRR_RUN_DIR, r[i].ns, r[i].ns);
				return -ETIMEDOUT;
			}
			usleep(100 * 1000);
		}
	}
	return (int)(now_ms() - start);
}

/* The PID in a daemon's PID file, if that process is still that daemon
 * (a PID file outlives its process, and PIDs are reused). */
static pid_t daemon_pid(const char *dir, const char *daemon)
{
	char path[PATH_MAX], buf[64], exe[PATH_MAX], want[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.pid", dir, daemon);
	FILE *f = fopen(path, "re");
	long pid = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
		pid = 0;
	fclose(f);
	if (!pid)
		return 0;
	snprintf(buf, sizeof(buf), "/proc/%ld/exe", pid);
	ssize_t len = readlink(buf, exe, sizeof(exe) - 1);
	if (len < 0)
		return 0;
	exe[len] = 0;
	snprintf(want, sizeof(want), FRR_BIN_DIR "/%s", daemon);
	return strcmp(exe, want) == 0 ? (pid_t)pid : 0;
}

int lab_ospf_stop(const char *ns)
{
	char dir[PATH_MAX];
	dir_of(ns, dir, sizeof(dir));
	if (access(dir, F_OK) < 0)
		return 0;
	pid_t pids[sizeof(daemons) / sizeof(daemons[0])];
	size_t n = 0;
	for (size_t i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
		if ((pids[n] = daemon_pid(dir, daemons[i])) > 0 && kill(pids[n], SIGTERM) == 0)
			n++;
	/* Not our children (they daemonized): poll until they are gone. */
	long long until = now_ms() + STOP_WAIT_MS;
	for (size_t i = 0; i < n; i++) {
		while (kill(pids[i], 0) == 0 && now_ms() < until)
			usleep(20 * 1000);
		if (kill(pids[i], 0) == 0)
			kill(pids[i], SIGKILL);
	}
	/* Everything in the directory is FRR's or ours: files and sockets,
	 * no subdirectories. unlinkat removes a symbolic link, never what it
	 * names. */
	DIR *d = opendir(dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT) {
		fprintf(stderr, "anode lab: cannot remove %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	return (int)n;
}
