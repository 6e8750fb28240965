// SPDX-License-Identifier: MIT
/*
 * The control socket cannot be starved (issue 17): a process of one uid
 * that opens 16 silent connections holds CTL_PER_UID of them and is told
 * why for the rest; another uid and root are still answered; silent
 * clients are closed after CTL_CLIENT_TIMEOUT_MS with a reason; an empty
 * request and one with too many arguments are answered with why; every
 * refusal is counted. Needs root (it acts as other uids); 77 otherwise.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "ctl/ctl.h"

static int checks, failures;
#define CHECK(c)                                                                                                       \
	do {                                                                                                           \
		checks++;                                                                                              \
		if (!(c)) {                                                                                            \
			failures++;                                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c);                                   \
		}                                                                                                      \
	} while (0)

static uint64_t fake_ns = 1000000000ull;
static uint64_t fake_clock(void)
{
	return fake_ns;
}

static int cmd_hello(void *arg, int argc, char **argv, struct ctl_out *out)
{
	ctl_printf(out, "hello\n");
	return 0;
}

static const struct ctl_command table[] = {
    {"hello", "hello [json]", cmd_hello, NULL, 1},
    {NULL, NULL, NULL, NULL, 0},
};

static char path[108];

static int connect_as_is(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* What the node said on fd, or "" (non-blocking). */
static void said(int fd, char *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = 0;
}

static void rounds(struct loop *l, int k)
{
	for (int i = 0; i < k; i++)
		loop_run_once(l, 10);
}

/* A child as uid: opens n connections, sends nothing, waits for the word
 * go on pipe in, then counts the connections the node refused with a
 * reason ("error: uid ..."), writes that count on pipe out, and keeps
 * the others open, silent, until killed. */
static pid_t silent_child(uid_t uid, int n, int in, int out)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	if (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
		_exit(3);
	int fds[32];
	for (int i = 0; i < n; i++)
		fds[i] = connect_as_is();
	char c;
	if (write(out, "c", 1) != 1 || read(in, &c, 1) != 1)
		_exit(4);
	int refused = 0;
	for (int i = 0; i < n; i++) {
		char buf[256];
		said(fds[i], buf, sizeof(buf));
		refused += strncmp(buf, "error: uid ", 11) == 0;
	}
	unsigned char r = (unsigned char)refused;
	if (write(out, &r, 1) != 1)
		_exit(5);
	/* Silent on the connections let in, until killed. */
	if (read(in, &c, 1) < 0)
		_exit(6);
	_exit(0);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: acting as other uids needs root\n");
		return 77;
	}
	log_init("test_ctl", LOG_ERR, false);
	char dir[] = "/tmp/test_ctl.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	chmod(dir, 0755);
	snprintf(path, sizeof(path), "%s/ctl", dir);
	loop_clock_set(fake_clock);
	struct loop *l = loop_new();
	struct ctl_server *s = ctl_server_open(path, l, table, NULL);
	CHECK(s);
	if (!s)
		return 1;
	chmod(path, 0666); /* the test's other uids may connect */

	/* Mallory (uid 65534) opens 16 silent connections. */
	int to_child[2], from_child[2];
	CHECK(pipe(to_child) == 0 && pipe(from_child) == 0);
	pid_t pid = silent_child(65534, 16, to_child[0], from_child[1]);
	char c;
	CHECK(read(from_child[0], &c, 1) == 1);
	rounds(l, 5);
	CHECK(write(to_child[1], "g", 1) == 1);
	unsigned char refused = 0;
	CHECK(read(from_child[0], &refused, 1) == 1);
	CHECK(refused == 16 - CTL_PER_UID);
	const struct ctl_counters *cc = ctl_server_counters(s);
	CHECK(cc->refused_user == 16 - CTL_PER_UID);

	/* Another uid and root are answered meanwhile. */
	pid_t other = fork();
	if (other == 0) {
		if (setresuid(65533, 65533, 65533) < 0)
			_exit(3);
		int fd = connect_as_is();
		if (fd < 0 || send(fd, "hello", 5, 0) != 5)
			_exit(4);
		char buf[256];
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
		_exit(n > 3 && !strncmp(buf, "ok\nhello", 8) ? 0 : 6);
	}
	int st = -1;
	for (int i = 0; i < 100 && waitpid(other, &st, WNOHANG) == 0; i++)
		rounds(l, 1);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	int fd = connect_as_is();
	CHECK(fd >= 0 && send(fd, "hello json", 10, 0) == 10);
	rounds(l, 3);
	char buf[512];
	said(fd, buf, sizeof(buf));
	CHECK(!strncmp(buf, "ok\nhello", 8));
	close(fd);

	/* An empty request, and too many arguments: answered with why. */
	fd = connect_as_is();
	CHECK(fd >= 0 && send(fd, "", 0, 0) == 0);
	rounds(l, 3);
	said(fd, buf, sizeof(buf));
	CHECK(strstr(buf, "error: empty request; commands: hello") == buf);
	close(fd);
	fd = connect_as_is();
	CHECK(fd >= 0 && send(fd, "hello json extra", 16, 0) == 16);
	rounds(l, 3);
	said(fd, buf, sizeof(buf));
	CHECK(strstr(buf, "error: too many arguments for 'hello'; usage: hello [json]") == buf);
	close(fd);
	CHECK(cc->bad_requests == 2);

	/* Mallory's four that were let in say nothing: closed after the
	 * timeout, with the reason. */
	fake_ns += (CTL_CLIENT_TIMEOUT_MS + 10) * 1000000ull;
	rounds(l, 3);
	CHECK(cc->silent_closed == CTL_PER_UID);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	/* The Prometheus text format: counters with _total, gauges, HELP and
	 * label values escaped, the strings as labels and an info metric. */
	struct stat_section sec = {.key = "link", .title = "UDP link"};
	stat_add_counter(&sec, "rx", "datagrams \\ received\nin all", 7);
	stat_add(&sec, "queued", "waiting now", 2);
	stat_add_real(&sec, "rate", "per second", 1.5);
	stat_add(&sec, "wait_us", "longest wait", 2500);
	const struct ctl_string strs[] = {{"node", "b\"x"}};
	struct ctl_out o = {.cap = 4096};
	o.buf = malloc(o.cap);
	CHECK(o.buf != NULL);
	if (o.buf) {
		o.buf[0] = 0;
		ctl_print_stats(&o, CTL_PROMETHEUS, strs, 1, &sec, 1);
		const char *want = "# HELP anode_info the node: its name, mode and link\n"
				   "# TYPE anode_info gauge\n"
				   "anode_info{node=\"b\\\"x\"} 1\n"
				   "# HELP anode_link_rx_total datagrams \\\\ received\\nin all (UDP link)\n"
				   "# TYPE anode_link_rx_total counter\n"
				   "anode_link_rx_total{node=\"b\\\"x\"} 7\n"
				   "# HELP anode_link_queued waiting now (UDP link)\n"
				   "# TYPE anode_link_queued gauge\n"
				   "anode_link_queued{node=\"b\\\"x\"} 2\n"
				   "# HELP anode_link_rate per second (UDP link)\n"
				   "# TYPE anode_link_rate gauge\n"
				   "anode_link_rate{node=\"b\\\"x\"} 1.5\n"
				   "# HELP anode_link_wait_seconds longest wait (UDP link)\n"
				   "# TYPE anode_link_wait_seconds gauge\n"
				   "anode_link_wait_seconds{node=\"b\\\"x\"} 0.0025\n";
		CHECK(strcmp(o.buf, want) == 0);
		if (strcmp(o.buf, want) != 0)
			fprintf(stderr, "got:\n%s", o.buf);
		free(o.buf);
	}

	/* Moments for people: a date in UTC and an age in the unit that
	 * reads best. 1796310000 is 2026-12-03 15:00:00 UTC. */
	{
		static const struct {
			uint64_t when, now;
			const char *want;
		} m[] = {
			{1796310000, 1796310042, "2026-12-03 15:00:00 UTC, 42 s ago"},
			{1796310000, 1796310000 + 5 * 60, "2026-12-03 15:00:00 UTC, 5 min ago"},
			{1796310000, 1796310000 + 3 * 3600, "2026-12-03 15:00:00 UTC, 3 h ago"},
			{1796310000, 1796310000 + 9 * 86400, "2026-12-03 15:00:00 UTC, 9 days ago"},
			{1796310000, 1796309999, "2026-12-03 15:00:00 UTC, in the future"},
		};
		for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
			struct ctl_out mo = {0};
			ctl_print_moment(&mo, m[i].when, m[i].now);
			CHECK(mo.buf && strcmp(mo.buf, m[i].want) == 0);
			if (mo.buf && strcmp(mo.buf, m[i].want) != 0)
				fprintf(stderr, "got '%s', want '%s'\n", mo.buf, m[i].want);
			free(mo.buf);
		}
	}

	ctl_server_close(s);
	loop_free(l);
	loop_clock_set(NULL);
	rmdir(dir);
	printf("ctl: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
