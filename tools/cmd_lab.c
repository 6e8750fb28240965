// SPDX-License-Identifier: MIT
/*
 * anode lab: start, inspect and stop a topology of overlay nodes on this
 * machine, without privileges. The lab binds every node's UDP socket itself
 * (so that all addresses are known before any node starts), computes routes
 * by shortest path, writes one configuration per node, and starts one
 * anoded per node with its socket handed over. State lives in
 * $ANODE_RUN_DIR/LAB (default /tmp/anode-UID/LAB), LAB being the topology
 * file's name without its extension.
 *
 * Topology files: one directive per line, '#' comments.
 *   node NAME [ADDR:PORT]    a node (default: 127.0.0.1 and a free port)
 *   link NAME NAME           a bidirectional overlay link
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anode-config.h"
#include "cli.h"
#include "ctl/ctl.h"
#include "link/link.h"

#define LAB_MAX_NODES 64
#define LAB_NAME_MAX 64
#define LAB_READY_MS 5000
#define LAB_STOP_MS 3000

struct topo_node {
	char name[LAB_NAME_MAX + 1];
	struct an_addr addr;
	bool fixed_addr;
	int fd;
	int pid;
};

struct topo {
	struct topo_node nodes[LAB_MAX_NODES];
	size_t n;
	bool adj[LAB_MAX_NODES][LAB_MAX_NODES];
};

static void lab_usage(FILE *f)
{
	fputs("Usage: anode lab up FILE\n"
	      "       anode lab status [FILE]\n"
	      "       anode lab down FILE\n"
	      "\n"
	      "Start, show or stop a lab: the overlay nodes and links that a topology\n"
	      "file describes, each node an anoded process on this machine's loopback,\n"
	      "with routes computed by shortest path. Nodes start with empty code caches.\n"
	      "No privileges are needed.\n"
	      "\n"
	      "Topology file: one directive per line, '#' starts a comment.\n"
	      "  node NAME [ADDR:PORT]   a node; default address 127.0.0.1, a free port\n"
	      "  link NAME NAME          a link between two nodes\n"
	      "\n"
	      "A lab is named after its file (examples/line3.topo is lab 'line3'); its\n"
	      "state, configurations and node logs are in $ANODE_RUN_DIR/LAB\n"
	      "(default /tmp/anode-UID/LAB). Other commands name its nodes with -n NAME.\n",
	      f);
}

static int find_node(const struct topo *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > LAB_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return false;
	return true;
}

static int topo_load(const char *path, struct topo *t)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "anode lab: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	memset(t, 0, sizeof(*t));
	char line[512];
	int lineno = 0, r = 0;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL, *w[4] = { 0 };
		int nw = 0;
		for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
			w[nw < 4 ? nw++ : 3] = tok;
		if (nw == 0)
			continue;
		r = -EINVAL;
		if (strcmp(w[0], "node") == 0 && (nw == 2 || nw == 3)) {
			if (!valid_name(w[1]))
				fprintf(stderr, "%s:%d: bad node name '%s' (letters, digits, - and _)\n", path, lineno,
					w[1]);
			else if (find_node(t, w[1]) >= 0)
				fprintf(stderr, "%s:%d: node '%s' given twice\n", path, lineno, w[1]);
			else if (t->n == LAB_MAX_NODES)
				fprintf(stderr, "%s:%d: more than %d nodes\n", path, lineno, LAB_MAX_NODES);
			else {
				struct topo_node *n = &t->nodes[t->n];
				snprintf(n->name, sizeof(n->name), "%s", w[1]);
				n->fd = -1;
				if (nw == 3 && an_addr_parse(w[2], &n->addr) < 0)
					fprintf(stderr, "%s:%d: bad address '%s'\n", path, lineno, w[2]);
				else {
					n->fixed_addr = nw == 3;
					t->n++;
					r = 0;
				}
			}
		} else if (strcmp(w[0], "link") == 0 && nw == 3) {
			int a = find_node(t, w[1]), b = find_node(t, w[2]);
			if (a < 0 || b < 0)
				fprintf(stderr, "%s:%d: link names an unknown node '%s'\n", path, lineno,
					a < 0 ? w[1] : w[2]);
			else if (a == b)
				fprintf(stderr, "%s:%d: link from '%s' to itself\n", path, lineno, w[1]);
			else {
				t->adj[a][b] = t->adj[b][a] = true;
				r = 0;
			}
		} else {
			fprintf(stderr, "%s:%d: expected 'node NAME [ADDR:PORT]' or 'link NAME NAME'\n", path,
				lineno);
		}
	}
	fclose(f);
	if (r == 0 && t->n == 0) {
		fprintf(stderr, "%s: no nodes\n", path);
		r = -EINVAL;
	}
	return r;
}

/* first_hop[d] = the neighbour of s on a shortest path from s to d, or -1. */
static void shortest_paths(const struct topo *t, size_t s, int *first_hop)
{
	int queue[LAB_MAX_NODES], head = 0, tail = 0;
	bool seen[LAB_MAX_NODES] = { 0 };
	for (size_t i = 0; i < t->n; i++)
		first_hop[i] = -1;
	seen[s] = true;
	queue[tail++] = (int)s;
	while (head < tail) {
		int u = queue[head++];
		for (size_t v = 0; v < t->n; v++) {
			if (!t->adj[u][v] || seen[v])
				continue;
			seen[v] = true;
			first_hop[v] = (size_t)u == s ? (int)v : first_hop[u];
			queue[tail++] = (int)v;
		}
	}
}

static void lab_name_of(const char *file, char *ret, size_t len)
{
	const char *base = strrchr(file, '/');
	base = base ? base + 1 : file;
	const char *dot = strrchr(base, '.');
	size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	snprintf(ret, len, "%.*s", (int)n, base);
}

static bool pid_is_our_node(int pid, const char *lab_dir)
{
	/* Only a process whose command line is anoded with a configuration in
	 * this lab's directory is ours to stop. */
	char path[64], cmd[4096];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0)
		return false;
	bool is_anoded = false, in_lab = false;
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(cmd + i) + 1) {
		cmd[n] = '\0';
		const char *arg = cmd + i;
		const char *base = strrchr(arg, '/');
		if (strcmp(base ? base + 1 : arg, "anoded") == 0)
			is_anoded = true;
		if (strncmp(arg, lab_dir, strlen(lab_dir)) == 0 && arg[strlen(lab_dir)] == '/')
			in_lab = true;
	}
	return is_anoded && in_lab;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Stop the nodes of a lab directory and remove it. */
static int lab_stop_dir(const char *dir, bool quiet)
{
	struct cli_node *nodes = NULL;
	size_t n = 0;
	cli_lab_read(dir, &nodes, &n);
	for (size_t i = 0; i < n; i++)
		if (nodes[i].pid > 0 && pid_is_our_node(nodes[i].pid, dir))
			kill(nodes[i].pid, SIGTERM);
	for (int waited = 0; waited < LAB_STOP_MS; waited += 20) {
		bool any = false;
		for (size_t i = 0; i < n; i++) {
			if (nodes[i].pid <= 0)
				continue;
			waitpid(nodes[i].pid, NULL, WNOHANG); /* ours if we started them in this process */
			if (pid_is_our_node(nodes[i].pid, dir))
				any = true;
			else
				nodes[i].pid = 0;
		}
		if (!any)
			break;
		sleep_ms(20);
	}
	for (size_t i = 0; i < n; i++) {
		if (nodes[i].pid > 0 && pid_is_our_node(nodes[i].pid, dir)) {
			fprintf(stderr, "anode lab: node %s (pid %d) did not stop; killing it\n", nodes[i].name,
				nodes[i].pid);
			kill(nodes[i].pid, SIGKILL);
		}
		if (!quiet)
			printf("stopped %s\n", nodes[i].name);
	}
	free(nodes);
	/* Remove what the lab made: configurations, logs, sockets, nodes file.
	 * The directory is flat and only the lab writes into it. */
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0))
			unlinkat(dirfd(d), e->d_name, 0);
	if (d)
		closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		fprintf(stderr, "anode lab: could not remove %s: %s\n", dir, strerror(errno));
	return 0;
}

static bool lab_running(const char *dir)
{
	struct cli_node *nodes;
	size_t n;
	if (cli_lab_read(dir, &nodes, &n) < 0)
		return false;
	bool any = false;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].pid > 0 && pid_is_our_node(nodes[i].pid, dir))
			any = true;
	free(nodes);
	return any;
}

static const char *anoded_path(void)
{
	const char *env = getenv("ANODED");
	if (env && *env)
		return env;
	if (access(ANODE_BUILD_ANODED, X_OK) == 0)
		return ANODE_BUILD_ANODED;
	if (access(ANODE_INSTALL_ANODED, X_OK) == 0)
		return ANODE_INSTALL_ANODED;
	return "anoded";
}

static int bind_node_socket(struct topo_node *n)
{
	if (!n->fixed_addr) {
		/* 127.0.0.1 as an IPv4-mapped address; the kernel picks a port. */
		memset(&n->addr, 0, sizeof(n->addr));
		n->addr.ip[10] = n->addr.ip[11] = 0xff;
		n->addr.ip[12] = 127;
		n->addr.ip[15] = 1;
	}
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int off = 0;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	struct sockaddr_in6 sa;
	link_addr_to_sa(&n->addr, &sa);
	socklen_t len = sizeof(sa);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	link_addr_from_sa(&sa, &n->addr);
	n->fd = fd;
	return 0;
}

static int write_config(const struct topo *t, size_t i, const char *dir)
{
	char path[PATH_MAX], a[64], b[64];
	snprintf(path, sizeof(path), "%s/%s.conf", dir, t->nodes[i].name);
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "# written by 'anode lab up'\nname %s\nlisten %s\napp-socket %s/%s.app\nctl-socket %s/%s.ctl\n",
		t->nodes[i].name, an_addr_format(&t->nodes[i].addr, a, sizeof(a)), dir, t->nodes[i].name, dir,
		t->nodes[i].name);
	int first_hop[LAB_MAX_NODES];
	shortest_paths(t, i, first_hop);
	for (size_t d = 0; d < t->n; d++)
		if (first_hop[d] >= 0)
			fprintf(f, "route %s %s # %s via %s\n", an_addr_format(&t->nodes[d].addr, a, sizeof(a)),
				an_addr_format(&t->nodes[first_hop[d]].addr, b, sizeof(b)), t->nodes[d].name,
				t->nodes[first_hop[d]].name);
	return fclose(f) == 0 ? 0 : -errno;
}

static int spawn_node(struct topo_node *n, const char *dir)
{
	char conf[PATH_MAX], log[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, n->name);
	snprintf(log, sizeof(log), "%s/%s.log", dir, n->name);
	const char *exe = anoded_path();
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		int nullfd = open("/dev/null", O_RDONLY);
		if (lfd < 0 || nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0 ||
		    dup2(n->fd, 3) < 0)
			_exit(126);
		/* dup2 onto itself keeps close-on-exec: clear it explicitly. */
		if (fcntl(3, F_SETFD, 0) < 0)
			_exit(126);
		setsid();
		execl(exe, "anoded", "-f", conf, "--udp-fd", "3", (char *)NULL);
		fprintf(stderr, "anode lab: cannot run %s: %s\n", exe, strerror(errno));
		_exit(127);
	}
	n->pid = pid;
	return 0;
}

static void print_log_tail(const char *dir, const char *name)
{
	char path[PATH_MAX], line[512];
	snprintf(path, sizeof(path), "%s/%s.log", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "  %s: %s", name, line);
	fclose(f);
}

static int lab_up(const char *file)
{
	static struct topo t;
	if (topo_load(file, &t) < 0)
		return 1;
	char lab[LAB_NAME_MAX + 1], dir[PATH_MAX];
	lab_name_of(file, lab, sizeof(lab));
	snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), lab);
	/* Every socket path is DIR/NODE.app and must fit in sun_path. */
	if (strlen(dir) + 1 + LAB_NAME_MAX + 4 >= CLI_PATH_MAX) {
		fprintf(stderr, "anode lab: %s is too long for unix socket paths; set a shorter ANODE_RUN_DIR\n", dir);
		return 1;
	}
	if (lab_running(dir)) {
		fprintf(stderr, "anode lab: lab '%s' is already up; 'anode lab down %s' first\n", lab, file);
		return 1;
	}
	lab_stop_dir(dir, true); /* leftovers of a lab whose nodes died */
	if ((mkdir(cli_run_dir(), 0700) < 0 && errno != EEXIST) || mkdir(dir, 0700) < 0) {
		fprintf(stderr, "anode lab: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int r = 0;
	for (size_t i = 0; r == 0 && i < t.n; i++) {
		char a[64];
		r = bind_node_socket(&t.nodes[i]);
		if (r < 0)
			fprintf(stderr, "anode lab: node %s: cannot bind %s: %s\n", t.nodes[i].name,
				an_addr_format(&t.nodes[i].addr, a, sizeof(a)), strerror(-r));
	}
	for (size_t i = 0; r == 0 && i < t.n; i++)
		r = write_config(&t, i, dir);
	for (size_t i = 0; r == 0 && i < t.n; i++)
		r = spawn_node(&t.nodes[i], dir);
	for (size_t i = 0; i < t.n; i++)
		if (t.nodes[i].fd >= 0)
			close(t.nodes[i].fd);
	/* The nodes file is written even on failure, so that stopping finds
	 * every process that did start. */
	char path[PATH_MAX], a[64];
	snprintf(path, sizeof(path), "%s/nodes", dir);
	FILE *f = fopen(path, "we");
	if (f) {
		fprintf(f, "# name address app-socket ctl-socket pid (from %s)\n", file);
		for (size_t i = 0; i < t.n; i++)
			fprintf(f, "%s %s %s/%s.app %s/%s.ctl %d\n", t.nodes[i].name,
				an_addr_format(&t.nodes[i].addr, a, sizeof(a)), dir, t.nodes[i].name, dir,
				t.nodes[i].name, t.nodes[i].pid);
		fclose(f);
	}
	if (r < 0 || !f) {
		lab_stop_dir(dir, true);
		return 1;
	}
	/* Ready when every node answers on its control socket. */
	for (size_t i = 0; i < t.n; i++) {
		char ctl[PATH_MAX];
		snprintf(ctl, sizeof(ctl), "%s/%s.ctl", dir, t.nodes[i].name);
		bool ready = false;
		for (int waited = 0; !ready && waited < LAB_READY_MS; waited += 10) {
			char *body = NULL;
			if (ctl_request(ctl, "info", 1000, &body) == 0)
				ready = true;
			free(body);
			if (waitpid(t.nodes[i].pid, NULL, WNOHANG) == t.nodes[i].pid)
				break;
			if (!ready)
				sleep_ms(10);
		}
		if (!ready) {
			fprintf(stderr, "anode lab: node %s did not start; its log:\n", t.nodes[i].name);
			print_log_tail(dir, t.nodes[i].name);
			lab_stop_dir(dir, true);
			return 1;
		}
	}
	printf("lab %s: %zu nodes up (state in %s)\n", lab, t.n, dir);
	printf("%-10s %-22s %s\n", "NODE", "ADDRESS", "CONTROL SOCKET");
	for (size_t i = 0; i < t.n; i++)
		printf("%-10s %-22s %s/%s.ctl\n", t.nodes[i].name, an_addr_format(&t.nodes[i].addr, a, sizeof(a)), dir,
		       t.nodes[i].name);
	return 0;
}

/* A number from a JSON object, by key; 0 when absent. Enough for our own
 * stats output, whose keys are unique. */
static unsigned long long json_u64(const char *json, const char *key)
{
	char pat[80];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(json, pat);
	return p ? strtoull(p + strlen(pat), NULL, 10) : 0;
}

static unsigned long long json_drops(const char *json)
{
	unsigned long long sum = 0;
	for (const char *p = strstr(json, "\"drop_"); p; p = strstr(p + 1, "\"drop_")) {
		const char *colon = strchr(p, ':');
		if (colon)
			sum += strtoull(colon + 1, NULL, 10);
	}
	return sum;
}

static void status_dir(const char *dir, const char *lab)
{
	struct cli_node *nodes;
	size_t n;
	if (cli_lab_read(dir, &nodes, &n) < 0)
		return;
	printf("lab %s (%s)\n", lab, dir);
	printf("  %-10s %-22s %-8s %8s %9s %9s %9s %7s %5s\n", "NODE", "ADDRESS", "STATE", "PID", "RECEIVED",
	       "FORWARDED", "DELIVERED", "DROPPED", "CODE");
	for (size_t i = 0; i < n; i++) {
		char a[64], *body = NULL;
		bool up = nodes[i].pid > 0 && pid_is_our_node(nodes[i].pid, dir);
		printf("  %-10s %-22s %-8s %8d", nodes[i].name, an_addr_format(&nodes[i].addr, a, sizeof(a)),
		       up ? "running" : "dead", nodes[i].pid);
		if (up && ctl_request(nodes[i].ctl_path, "stats json", 2000, &body) == 0)
			printf(" %9llu %9llu %9llu %7llu %5llu", json_u64(body, "received") + json_u64(body, "injected"),
			       json_u64(body, "forwarded"), json_u64(body, "delivered"), json_drops(body),
			       json_u64(body, "objects"));
		free(body);
		printf("\n");
	}
	free(nodes);
}

static int lab_status(const char *file)
{
	if (file) {
		char lab[LAB_NAME_MAX + 1], dir[PATH_MAX];
		lab_name_of(file, lab, sizeof(lab));
		snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), lab);
		if (access(dir, F_OK) < 0) {
			printf("lab %s is not up\n", lab);
			return 1;
		}
		status_dir(dir, lab);
		return 0;
	}
	size_t found = 0;
	DIR *d = opendir(cli_run_dir());
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char dir[PATH_MAX], nodes_file[PATH_MAX + 8];
		snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), e->d_name);
		snprintf(nodes_file, sizeof(nodes_file), "%s/nodes", dir);
		if (access(nodes_file, R_OK) < 0)
			continue;
		status_dir(dir, e->d_name);
		found++;
	}
	if (d)
		closedir(d);
	if (!found)
		printf("no lab is up\n");
	return 0;
}

static int lab_down(const char *file)
{
	char lab[LAB_NAME_MAX + 1], dir[PATH_MAX];
	lab_name_of(file, lab, sizeof(lab));
	snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), lab);
	if (access(dir, F_OK) < 0) {
		fprintf(stderr, "anode lab: lab '%s' is not up\n", lab);
		return 1;
	}
	lab_stop_dir(dir, false);
	printf("lab %s down\n", lab);
	return 0;
}

int cmd_lab(const char *node, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		lab_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1], *file = argc > 2 ? argv[2] : NULL;
	if (argc > 3) {
		lab_usage(stderr);
		return 2;
	}
	if (strcmp(verb, "up") == 0 && file)
		return lab_up(file);
	if (strcmp(verb, "status") == 0)
		return lab_status(file);
	if (strcmp(verb, "down") == 0 && file)
		return lab_down(file);
	lab_usage(stderr);
	return 2;
}
