// SPDX-License-Identifier: MIT
/*
 * anode lab: start, inspect and stop a topology of nodes on this machine.
 * This file owns the topology file, the lab's state directory and its nodes
 * file, the anoded processes, and the overlay lab: without privileges, the
 * lab binds every node's UDP socket itself (so that all addresses are known
 * before any node starts), computes routes by shortest path, writes one
 * configuration per node, and starts one anoded per node with its socket
 * handed over. With --netns, lab_netns.c builds the same topology as network
 * namespaces instead (router mode, DESIGN.md section 4). State lives in
 * $ANODE_RUN_DIR/LAB (default /tmp/anode-UID/LAB), LAB being the topology
 * file's name without its extension.
 *
 * Topology files: one directive per line, '#' comments.
 *   node NAME [ADDR:PORT]    a node (default: 127.0.0.1 and a free port)
 *   plain NAME               a router without anoded (netns only)
 *   link NAME NAME [RATE]    a bidirectional link; RATE limits it (netns only)
 *   host NAME ROUTER [RATE]  an end host on a router (netns only)
 *   subnet A.B.C.D/LEN       address space of a netns lab (10.200.0.0/16)
 *   set NAME|all KEY VALUE   a line of a node's anoded.conf
 */
#include <dirent.h>
#include <arpa/inet.h>
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

#define LAB_READY_MS 5000
#define LAB_STOP_MS 3000

static void lab_usage(FILE *f)
{
	fputs("Usage: anode lab up FILE [--netns [--no-nodes] [--routing static|ospf]] [--json]\n"
	      "       anode lab status [FILE] [--json]\n"
	      "       anode lab down FILE\n"
	      "       anode lab exec LAB NAME [--] COMMAND [ARGS...]\n"
	      "\n"
	      "Start, show or stop a lab: the nodes and links that a topology file\n"
	      "describes, with routes computed by shortest path. Nodes start with empty\n"
	      "code caches.\n"
	      "\n"
	      "Without --netns, every node is an anoded process on this machine's loopback\n"
	      "and every link a UDP overlay link; no privileges are needed.\n"
	      "\n"
	      "With --netns (as root), the topology becomes Linux network namespaces joined\n"
	      "by veth pairs, one namespace per node named an-LAB-NAME, and the kernel\n"
	      "forwards between them (router mode). Each link gets a /30 from the lab's\n"
	      "subnet, in file order: the first node named on the line gets the first\n"
	      "address. Each router gets a node address, a /32 on its loopback taken\n"
	      "from the top /24 of the subnet in file order (10.200.255.1 for the first\n"
	      "router), and uses it as the source of every route: it is the address that\n"
	      "capsules are sent to (port 3322) and that traceroute(8) shows. Routes to\n"
	      "every node address and every link are installed with 'ip route' along\n"
	      "shortest paths; forwarding is on and rp_filter off in every router. A\n"
	      "link with a RATE gets a tc tbf qdisc of that rate on both veth ends (burst\n"
	      "10 ms of the rate, at least two frames; queue 50 ms). Each router runs\n"
	      "'ip netns exec an-LAB-NAME anoded -f LABDIR/NAME.conf' with 'mode router'\n"
	      "and 'listen NODE-ADDRESS:3322'; hosts run no node. If anoded rejects\n"
	      "router mode, the network stays up without nodes and lab up says so.\n"
	      "Namespace labs are IPv4 (router mode intercepts IPv4; anoded refuses an IPv6\n"
	      "'listen' in router mode). An overlay lab is IPv4 or IPv6, not both: lab up\n"
	      "refuses a file that mixes the two (a node reaches its own family only).\n"
	      "  --no-nodes   build only the network (for tests, or to compare with plain\n"
	      "               kernel forwarding)\n"
	      "  --routing ospf\n"
	      "               instead of static routes, run FRR's zebra and ospfd in every\n"
	      "               router (needs the frr package): point-to-point area 0 on\n"
	      "               every router link, hello 1 s, dead 3 s, host links and node\n"
	      "               addresses passive; lab up waits until every router has a\n"
	      "               route to every other (at most 30 s) and says how long it took.\n"
	      "               anode routers forward capsules by the kernel's routes, so they\n"
	      "               follow OSPF around a failed link. FRR's files are in\n"
	      "               /run/frr/an-LAB-NAME; ask it with\n"
	      "               ip netns exec an-LAB-NAME vtysh -N an-LAB-NAME -c 'show ip route'\n"
	      "               (default: --routing static, the shortest paths above)\n"
	      "lab up refuses when a namespace of that name exists, and on any failure\n"
	      "removes what it made. lab down stops the nodes (by the PIDs it recorded)\n"
	      "and deletes the namespaces, which deletes their veths and qdiscs.\n"
	      "\n"
	      "--json (up, status): one JSON value. status prints {\"labs\":[LAB...]}, up the\n"
	      "LAB it started; a LAB is {name, dir, nodes: [{name, address, state (running,\n"
	      "dead, no node), pid, control_socket, and while running received, forwarded,\n"
	      "delivered, dropped, code_objects}]}, and for a namespace lab also routing\n"
	      "(static or ospf), namespaces: [{name, kind (router or host), namespace,\n"
	      "address, on (a host's router, else null), present}] and links: [{a, b,\n"
	      "interface_a, interface_b, prefix, rate_bps}]. Progress goes to stderr.\n"
	      "\n"
	      "lab exec runs COMMAND in the namespace of router or host NAME of lab LAB\n"
	      "(a name or its topology file), with 'ip netns exec', e.g.\n"
	      "  anode lab exec line5-hosts h1 -- ping -c 3 10.200.0.18\n"
	      "\n"
	      "Topology file: one directive per line, '#' starts a comment.\n"
	      "  node NAME [ADDR:PORT]    a node; default address 127.0.0.1, a free port\n"
	      "                           (--netns: a router; the address is ignored)\n"
	      "  plain NAME               --netns only: a router that runs no node (the\n"
	      "                           kernel forwards; 'set' lines do not apply)\n"
	      "  link NAME NAME [RATE]    a link between two nodes; RATE (--netns only)\n"
	      "                           is tc's, e.g. 10mbit, 500kbit, 1gbit\n"
	      "  host NAME ROUTER [RATE]  --netns only: an end host with one link to\n"
	      "                           ROUTER and a default route through it\n"
	      "  subnet A.B.C.D/LEN       --netns only: the lab's addresses, LEN 8 to 22\n"
	      "                           (default 10.200.0.0/16)\n"
	      "  set NAME|all KEY VALUE   add 'KEY VALUE' to the configuration of node\n"
	      "                           NAME (or of every node), e.g. set g1 concast-flows 1\n"
	      "The overlay lab ignores hosts, rates and subnet, so one file serves both.\n"
	      "Names are letters, digits, - and _; with --netns, an-LAB-NAME must fit in\n"
	      "32 characters.\n"
	      "\n"
	      "A lab is named after its file (examples/line3.topo is lab 'line3'); its\n"
	      "state, configurations and node logs are in $ANODE_RUN_DIR/LAB\n"
	      "(default /tmp/anode-UID/LAB): 'nodes' lists each node's address, sockets\n"
	      "and PID, 'netns' each namespace, host and link. Other commands name its\n"
	      "nodes with -n NAME.\n"
	      "\n"
	      "Example:\n"
	      "  anode lab up examples/line5-hosts.topo --netns --no-nodes\n"
	      "  anode lab status\n"
	      "  anode lab exec line5-hosts h1 -- traceroute -n 10.200.0.18\n"
	      "  anode lab down examples/line5-hosts.topo\n",
	      f);
}

static int find_node(const struct lab_topo *t, const char *name)
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

/* A rate as tc writes it: a number and bit, kbit, mbit or gbit (decimal
 * multiples, as in tc). Bounded so that tbf's burst arithmetic stays sane. */
static int parse_rate(const char *s, uint64_t *ret)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = { { "bit", 1 }, { "kbit", 1e3 }, { "mbit", 1e6 }, { "gbit", 1e9 } };
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !(v > 0))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(end, units[i].unit) != 0)
			continue;
		double bps = v * units[i].mult;
		if (bps < 8000 || bps > 100e9)
			return -ERANGE;
		*ret = (uint64_t)bps;
		return 0;
	}
	return -EINVAL;
}

static int parse_subnet(const char *s, uint32_t *ret, unsigned *ret_len)
{
	char buf[32], *slash, *end;
	struct in_addr in;
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	unsigned long len = strtoul(slash + 1, &end, 10);
	/* At most /22: the top /24 holds node addresses, the rest links. */
	if (inet_pton(AF_INET, buf, &in) != 1 || *end || end == slash + 1 || len < 8 || len > 22)
		return -EINVAL;
	uint32_t a = ntohl(in.s_addr);
	if (a & ((1u << (32 - len)) - 1))
		return -EINVAL;
	*ret = a;
	*ret_len = (unsigned)len;
	return 0;
}

static int add_node(struct lab_topo *t, const char *path, int lineno, const char *name, bool is_host)
{
	if (!valid_name(name))
		fprintf(stderr, "%s:%d: bad name '%s' (letters, digits, - and _)\n", path, lineno, name);
	else if (find_node(t, name) >= 0)
		fprintf(stderr, "%s:%d: '%s' given twice\n", path, lineno, name);
	else if (t->n == LAB_MAX_NODES)
		fprintf(stderr, "%s:%d: more than %d nodes and hosts\n", path, lineno, LAB_MAX_NODES);
	else {
		struct lab_node *n = &t->nodes[t->n++];
		snprintf(n->name, sizeof(n->name), "%s", name);
		n->fd = -1;
		n->is_host = is_host;
		return (int)(t->n - 1);
	}
	return -EINVAL;
}

static int add_link(struct lab_topo *t, const char *path, int lineno, int a, int b, const char *rate)
{
	struct lab_link l = { .a = a, .b = b };
	if (t->adj[a][b]) {
		fprintf(stderr, "%s:%d: '%s' and '%s' are already linked\n", path, lineno, t->nodes[a].name,
			t->nodes[b].name);
		return -EINVAL;
	}
	if (rate && parse_rate(rate, &l.rate_bps) < 0) {
		fprintf(stderr, "%s:%d: bad rate '%s' (e.g. 10mbit; from 8kbit to 100gbit)\n", path, lineno, rate);
		return -EINVAL;
	}
	t->adj[a][b] = t->adj[b][a] = true;
	t->links[t->n_links++] = l;
	return 0;
}

static int topo_load(const char *path, struct lab_topo *t)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "anode lab: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	memset(t, 0, sizeof(*t));
	t->subnet = 10u << 24 | 200u << 16;
	t->subnet_len = 16;
	char line[512];
	int lineno = 0, r = 0;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *save = NULL, *w[5] = { 0 };
		int nw = 0;
		for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
			w[nw < 5 ? nw++ : 4] = tok;
		if (nw == 0)
			continue;
		r = -EINVAL;
		if (strcmp(w[0], "node") == 0 && (nw == 2 || nw == 3)) {
			struct an_addr addr;
			if (nw == 3 && an_addr_parse(w[2], &addr) < 0) {
				fprintf(stderr, "%s:%d: bad address '%s'\n", path, lineno, w[2]);
			} else {
				int i = add_node(t, path, lineno, w[1], false);
				if (i >= 0) {
					if (nw == 3) {
						t->nodes[i].addr = addr;
						t->nodes[i].fixed_addr = true;
					}
					r = 0;
				}
			}
		} else if (strcmp(w[0], "plain") == 0 && nw == 2) {
			/* A router that runs no node: on-path signalling and
			 * capsules must cross it as any router would. */
			int i = add_node(t, path, lineno, w[1], false);
			if (i >= 0) {
				t->nodes[i].is_plain = true;
				r = 0;
			}
		} else if (strcmp(w[0], "link") == 0 && (nw == 3 || nw == 4)) {
			int a = find_node(t, w[1]), b = find_node(t, w[2]);
			if (a < 0 || b < 0)
				fprintf(stderr, "%s:%d: link names an unknown node '%s'\n", path, lineno,
					a < 0 ? w[1] : w[2]);
			else if (a == b)
				fprintf(stderr, "%s:%d: link from '%s' to itself\n", path, lineno, w[1]);
			else if (t->nodes[a].is_host || t->nodes[b].is_host)
				/* A host has exactly one link, the one its 'host' line makes. */
				fprintf(stderr, "%s:%d: '%s' is a host; a host's link is on its 'host' line\n", path,
					lineno, t->nodes[a].is_host ? w[1] : w[2]);
			else
				r = add_link(t, path, lineno, a, b, nw == 4 ? w[3] : NULL);
		} else if (strcmp(w[0], "set") == 0 && nw == 4) {
			/* A directive for one node's configuration, or every node's;
			 * anoded checks it when the lab starts the node. */
			bool all = strcmp(w[1], "all") == 0;
			int k = all ? 0 : find_node(t, w[1]);
			if (k < 0)
				fprintf(stderr, "%s:%d: set names an unknown node '%s'\n", path, lineno, w[1]);
			for (size_t i = all ? 0 : (size_t)k; k >= 0 && i < (all ? t->n : (size_t)k + 1); i++) {
				struct lab_node *ln = &t->nodes[i];
				if (ln->n_sets == LAB_NODE_SETS ||
				    snprintf(ln->sets[ln->n_sets], LAB_SET_LEN, "%s %s", w[2], w[3]) >= LAB_SET_LEN) {
					fprintf(stderr, "%s:%d: too many or too long 'set' lines for '%s'\n", path,
						lineno, ln->name);
					k = -1;
					break;
				}
				ln->n_sets++;
			}
			r = k >= 0 ? 0 : -EINVAL;
		} else if (strcmp(w[0], "host") == 0 && (nw == 3 || nw == 4)) {
			int router = find_node(t, w[2]);
			if (router < 0 || t->nodes[router].is_host) {
				fprintf(stderr, "%s:%d: host '%s' names '%s', which is not a node given before it\n",
					path, lineno, w[1], w[2]);
			} else {
				int h = add_node(t, path, lineno, w[1], true);
				if (h >= 0)
					r = add_link(t, path, lineno, router, h, nw == 4 ? w[3] : NULL);
			}
		} else if (strcmp(w[0], "subnet") == 0 && nw == 2) {
			r = parse_subnet(w[1], &t->subnet, &t->subnet_len);
			if (r < 0)
				fprintf(stderr,
					"%s:%d: bad subnet '%s' (an IPv4 prefix from /8 to /22, e.g. 10.200.0.0/16)\n",
					path, lineno, w[1]);
		} else {
			fprintf(stderr,
				"%s:%d: expected 'node NAME [ADDR:PORT]', 'plain NAME', 'link NAME NAME [RATE]', "
				"'host NAME ROUTER [RATE]', 'subnet PREFIX/LEN' or 'set NAME KEY VALUE'\n",
				path, lineno);
		}
	}
	fclose(f);
	size_t routers = 0;
	for (size_t i = 0; i < t->n; i++)
		routers += !t->nodes[i].is_host;
	if (r == 0 && routers == 0) {
		fprintf(stderr, "%s: no nodes\n", path);
		r = -EINVAL;
	}
	return r;
}

void lab_shortest_paths(const struct lab_topo *t, size_t s, int *ret_first_hop, int *ret_dist)
{
	int queue[LAB_MAX_NODES], dist[LAB_MAX_NODES], head = 0, tail = 0;
	for (size_t i = 0; i < t->n; i++)
		ret_first_hop[i] = dist[i] = -1;
	dist[s] = 0;
	queue[tail++] = (int)s;
	while (head < tail) {
		int u = queue[head++];
		for (size_t v = 0; v < t->n; v++) {
			if (!t->adj[u][v] || dist[v] >= 0)
				continue;
			dist[v] = dist[u] + 1;
			ret_first_hop[v] = (size_t)u == s ? (int)v : ret_first_hop[u];
			queue[tail++] = (int)v;
		}
	}
	if (ret_dist)
		memcpy(ret_dist, dist, t->n * sizeof(*dist));
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

/* Stop the nodes of a lab directory, delete its namespaces, and remove it.
 * The directory stays when a namespace could not be deleted, so that a
 * later 'lab down' (as root) still knows what to remove. */
static int lab_stop_dir(const char *dir, bool quiet)
{
	struct cli_node *nodes = NULL;
	size_t n = 0;
	cli_lab_read(dir, &nodes, &n);
	bool *started = calloc(n ? n : 1, sizeof(*started));
	if (!started) {
		free(nodes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		started[i] = nodes[i].pid > 0;
		if (nodes[i].pid > 0 && pid_is_our_node(nodes[i].pid, dir))
			kill(nodes[i].pid, SIGTERM);
	}
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
		if (!quiet && started[i])
			printf("stopped %s\n", nodes[i].name);
	}
	free(started);
	free(nodes);
	/* Processes first: a namespace whose node still runs would outlive
	 * its deletion until the node exits. */
	int deleted = lab_netns_remove(dir);
	if (deleted < 0)
		return -EBUSY;
	if (!quiet && deleted > 0)
		printf("deleted %d network namespaces\n", deleted);
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

const char *lab_anoded_path(void)
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

static int bind_node_socket(struct lab_node *n)
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

static int write_config(const struct lab_topo *t, size_t i, const char *dir)
{
	char path[PATH_MAX], a[64], b[64];
	snprintf(path, sizeof(path), "%s/%s.conf", dir, t->nodes[i].name);
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	fprintf(f, "# written by 'anode lab up'\nname %s\nlisten %s\napp-socket %s/%s.app\nctl-socket %s/%s.ctl\n",
		t->nodes[i].name, an_addr_format(&t->nodes[i].addr, a, sizeof(a)), dir, t->nodes[i].name, dir,
		t->nodes[i].name);
	for (size_t k = 0; k < t->nodes[i].n_sets; k++)
		fprintf(f, "%s\n", t->nodes[i].sets[k]);
	int first_hop[LAB_MAX_NODES];
	lab_shortest_paths(t, i, first_hop, NULL);
	for (size_t d = 0; d < t->n; d++)
		if (first_hop[d] >= 0 && !t->nodes[d].is_host)
			fprintf(f, "route %s %s # %s via %s\n", an_addr_format(&t->nodes[d].addr, a, sizeof(a)),
				an_addr_format(&t->nodes[first_hop[d]].addr, b, sizeof(b)), t->nodes[d].name,
				t->nodes[first_hop[d]].name);
	return fclose(f) == 0 ? 0 : -errno;
}

static int spawn_node(struct lab_node *n, const char *dir)
{
	char conf[PATH_MAX], log[PATH_MAX];
	snprintf(conf, sizeof(conf), "%s/%s.conf", dir, n->name);
	snprintf(log, sizeof(log), "%s/%s.log", dir, n->name);
	const char *exe = lab_anoded_path();
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

/* Ready when every node that was started answers on its control socket. */
static int wait_ready(const struct lab_topo *t, const char *dir)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->nodes[i].pid <= 0)
			continue;
		char ctl[PATH_MAX];
		snprintf(ctl, sizeof(ctl), "%s/%s.ctl", dir, t->nodes[i].name);
		bool ready = false;
		for (int waited = 0; !ready && waited < LAB_READY_MS; waited += 10) {
			char *body = NULL;
			if (ctl_request(ctl, "info", 1000, &body) == 0)
				ready = true;
			free(body);
			if (waitpid(t->nodes[i].pid, NULL, WNOHANG) == t->nodes[i].pid)
				break;
			if (!ready)
				sleep_ms(10);
		}
		if (!ready) {
			fprintf(stderr, "anode lab: node %s did not start; its log:\n", t->nodes[i].name);
			print_log_tail(dir, t->nodes[i].name);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

static int overlay_up(struct lab_topo *t, const char *dir)
{
	int r = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->nodes[i].is_plain) {
			/* In the overlay every node is an anoded: a plain one would cut the path. */
			fprintf(stderr, "anode lab: '%s' is a plain router, which exists only in namespace labs (--netns)\n",
				t->nodes[i].name);
			return -EINVAL;
		}
	for (size_t i = 0; r == 0 && i < t->n; i++) {
		char a[64];
		if (t->nodes[i].is_host)
			continue;
		r = bind_node_socket(&t->nodes[i]);
		if (r < 0)
			fprintf(stderr, "anode lab: node %s: cannot bind %s: %s\n", t->nodes[i].name,
				an_addr_format(&t->nodes[i].addr, a, sizeof(a)), strerror(-r));
	}
	for (size_t i = 0; r == 0 && i < t->n; i++)
		if (!t->nodes[i].is_host)
			r = write_config(t, i, dir);
	for (size_t i = 0; r == 0 && i < t->n; i++)
		if (!t->nodes[i].is_host)
			r = spawn_node(&t->nodes[i], dir);
	for (size_t i = 0; i < t->n; i++)
		if (t->nodes[i].fd >= 0)
			close(t->nodes[i].fd);
	return r;
}

/* An overlay lab is one address family: a node's UDP socket reaches
 * neighbours of its own family only, so a mixed lab would start and lose
 * every capsule between the two halves. A node without an address is on
 * 127.0.0.1. */
static int check_families(const struct lab_topo *t, const char *file)
{
	int v4 = -1, v6 = -1;
	for (size_t i = 0; i < t->n; i++) {
		if (t->nodes[i].is_host)
			continue;
		bool four = !t->nodes[i].fixed_addr || an_ip_is_v4(t->nodes[i].addr.ip);
		if (four && v4 < 0)
			v4 = (int)i;
		if (!four && v6 < 0)
			v6 = (int)i;
	}
	if (v4 < 0 || v6 < 0)
		return 0;
	char a[64], b[64];
	const struct lab_node *n4 = &t->nodes[v4];
	fprintf(stderr,
		"anode lab: %s mixes IPv4 and IPv6 nodes (%s is on %s, %s on %s): an overlay node reaches "
		"neighbours of its own family only; give every node an address of one family "
		"(e.g. [::1]:PORT for all)\n",
		file, n4->name, n4->fixed_addr ? an_addr_format(&n4->addr, a, sizeof(a)) : "127.0.0.1 (the default)",
		t->nodes[v6].name, an_addr_format(&t->nodes[v6].addr, b, sizeof(b)));
	return -EAFNOSUPPORT;
}

static void status_dir_json(const char *dir, const char *lab);

static int lab_up(const char *file, bool netns, bool start_nodes, bool ospf, bool json)
{
	static struct lab_topo t;
	if (topo_load(file, &t) < 0)
		return 1;
	char lab[LAB_NAME_MAX + 1], dir[PATH_MAX];
	lab_name_of(file, lab, sizeof(lab));
	snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), lab);
	/* Every socket path is DIR/NODE.app and must fit in sun_path. */
	size_t longest = 0;
	for (size_t i = 0; i < t.n; i++)
		if (strlen(t.nodes[i].name) > longest)
			longest = strlen(t.nodes[i].name);
	if (strlen(dir) + 1 + longest + 4 >= CLI_PATH_MAX) {
		fprintf(stderr, "anode lab: %s is too long for unix socket paths; set a shorter ANODE_RUN_DIR\n", dir);
		return 1;
	}
	if (netns && geteuid() != 0) {
		fprintf(stderr, "anode lab: --netns creates network namespaces and needs root\n");
		return 1;
	}
	if (!netns && check_families(&t, file) < 0)
		return 1;
	if (lab_running(dir) || lab_netns_present(dir)) {
		fprintf(stderr, "anode lab: lab '%s' is already up; 'anode lab down %s' first\n", lab, file);
		return 1;
	}
	if (lab_stop_dir(dir, true) < 0) /* leftovers of a lab whose nodes died */
		return 1;
	if ((mkdir(cli_run_dir(), 0700) < 0 && errno != EEXIST) || mkdir(dir, 0700) < 0) {
		fprintf(stderr, "anode lab: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int r = netns ? lab_netns_up(&t, file, lab, dir, start_nodes, ospf) : overlay_up(&t, dir);
	/* The nodes file is written even on failure, so that stopping finds
	 * every process that did start. Hosts are not nodes: they are in the
	 * netns file only. */
	char path[PATH_MAX], a[64];
	snprintf(path, sizeof(path), "%s/nodes", dir);
	FILE *f = fopen(path, "we");
	if (f) {
		fprintf(f, "# name address app-socket ctl-socket pid (from %s)\n", file);
		for (size_t i = 0; i < t.n; i++)
			if (!t.nodes[i].is_host)
				fprintf(f, "%s %s %s/%s.app %s/%s.ctl %d\n", t.nodes[i].name,
					an_addr_format(&t.nodes[i].addr, a, sizeof(a)), dir, t.nodes[i].name, dir,
					t.nodes[i].name, t.nodes[i].pid);
		if (fclose(f) != 0)
			f = NULL;
	}
	if (!f)
		fprintf(stderr, "anode lab: cannot write %s: %s\n", path, strerror(errno));
	if (r < 0 || !f || wait_ready(&t, dir) < 0) {
		lab_stop_dir(dir, true);
		return 1;
	}
	if (json) {
		/* What lab status --json says of it, as one value. */
		status_dir_json(dir, lab);
		printf("\n");
		return 0;
	}
	size_t routers = 0, running = 0;
	for (size_t i = 0; i < t.n; i++) {
		routers += !t.nodes[i].is_host;
		running += t.nodes[i].pid > 0;
	}
	if (netns)
		printf("lab %s: %zu routers (%zu with a node), %zu hosts in namespaces an-%s-* (state in %s)\n", lab,
		       routers, running, t.n - routers, lab, dir);
	else
		printf("lab %s: %zu nodes up (state in %s)\n", lab, routers, dir);
	printf("%-10s %-22s %s\n", "NODE", "ADDRESS", "CONTROL SOCKET");
	for (size_t i = 0; i < t.n; i++)
		if (!t.nodes[i].is_host)
			printf("%-10s %-22s %s/%s.ctl%s\n", t.nodes[i].name,
			       an_addr_format(&t.nodes[i].addr, a, sizeof(a)), dir, t.nodes[i].name,
			       t.nodes[i].pid > 0 ? "" : " (no node)");
	if (netns)
		lab_netns_status(dir);
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
		/* pid 0: a namespace router brought up without a node. */
		const char *state = up ? "running" : nodes[i].pid > 0 ? "dead" : "no node";
		printf("  %-10s %-22s %-8s %8d", nodes[i].name, an_addr_format(&nodes[i].addr, a, sizeof(a)), state,
		       nodes[i].pid);
		if (up && ctl_request(nodes[i].ctl_path, "stats json", 2000, &body) == 0)
			printf(" %9llu %9llu %9llu %7llu %5llu", json_u64(body, "received") + json_u64(body, "injected"),
			       json_u64(body, "forwarded"), json_u64(body, "delivered"), json_drops(body),
			       json_u64(body, "objects"));
		free(body);
		printf("\n");
	}
	free(nodes);
	lab_netns_status(dir);
}

/* One lab as a JSON object: its nodes with their state and counters,
 * and for a namespace lab its routing, namespaces and links. */
static void status_dir_json(const char *dir, const char *lab)
{
	struct cli_node *nodes;
	size_t n;
	if (cli_lab_read(dir, &nodes, &n) < 0)
		n = 0, nodes = NULL;
	printf("{\"name\":\"%s\",\"dir\":", lab);
	cli_json_string(stdout, dir);
	printf(",\"nodes\":[");
	for (size_t i = 0; i < n; i++) {
		char a[64], *body = NULL;
		bool up = nodes[i].pid > 0 && pid_is_our_node(nodes[i].pid, dir);
		printf("%s{\"name\":\"%s\",\"address\":\"%s\",\"state\":\"%s\",\"pid\":%d,\"control_socket\":",
		       i ? "," : "", nodes[i].name, an_addr_format(&nodes[i].addr, a, sizeof(a)),
		       up		  ? "running"
		       : nodes[i].pid > 0 ? "dead"
					  : "no node",
		       nodes[i].pid);
		cli_json_string(stdout, nodes[i].ctl_path);
		if (up && ctl_request(nodes[i].ctl_path, "stats json", 2000, &body) == 0)
			printf(",\"received\":%llu,\"forwarded\":%llu,\"delivered\":%llu,\"dropped\":%llu,\"code_"
			       "objects\":%llu",
			       json_u64(body, "received") + json_u64(body, "injected"), json_u64(body, "forwarded"),
			       json_u64(body, "delivered"), json_drops(body), json_u64(body, "objects"));
		free(body);
		printf("}");
	}
	printf("]");
	free(nodes);
	lab_netns_status_json(dir, stdout);
	printf("}");
}

static int lab_status(const char *file, bool json)
{
	if (file) {
		char lab[LAB_NAME_MAX + 1], dir[PATH_MAX];
		lab_name_of(file, lab, sizeof(lab));
		snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), lab);
		if (access(dir, F_OK) < 0) {
			if (json)
				printf("{\"labs\":[]}\n");
			else
				printf("lab %s is not up\n", lab);
			return 1;
		}
		if (json) {
			printf("{\"labs\":[");
			status_dir_json(dir, lab);
			printf("]}\n");
		} else {
			status_dir(dir, lab);
		}
		return 0;
	}
	if (json)
		printf("{\"labs\":[");
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
		if (json) {
			if (found)
				printf(",");
			status_dir_json(dir, e->d_name);
		} else {
			status_dir(dir, e->d_name);
		}
		found++;
	}
	if (d)
		closedir(d);
	if (json)
		printf("]}\n");
	else if (!found)
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
	if (lab_stop_dir(dir, false) < 0) {
		fprintf(stderr, "anode lab: lab '%s' is only partly down; its state stays in %s\n", lab, dir);
		return 1;
	}
	printf("lab %s down\n", lab);
	return 0;
}

static int lab_exec(const char *spec, const char *name, char **argv)
{
	char lab[LAB_NAME_MAX + 1], dir[PATH_MAX];
	lab_name_of(spec, lab, sizeof(lab));
	snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), lab);
	if (access(dir, F_OK) < 0) {
		fprintf(stderr, "anode lab: lab '%s' is not up\n", lab);
		return 1;
	}
	lab_netns_exec(dir, lab, name, argv);
	return 126;
}

int cmd_lab(const char *node, int argc, char **argv)
{
	(void)node;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		lab_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "exec") == 0) {
		/* Everything after NAME (and an optional --) is the command's own. */
		int cmd = argc > 4 && strcmp(argv[4], "--") == 0 ? 5 : 4;
		if (argc <= cmd) {
			fprintf(stderr, "anode lab: usage: anode lab exec LAB NAME [--] COMMAND [ARGS...]\n");
			return 2;
		}
		return lab_exec(argv[2], argv[3], argv + cmd);
	}
	const char *file = NULL;
	bool netns = false, start_nodes = true, ospf = false, json = false;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0 && (strcmp(verb, "up") == 0 || strcmp(verb, "status") == 0)) {
			json = true;
		} else if (strcmp(argv[i], "--netns") == 0 && strcmp(verb, "up") == 0) {
			netns = true;
		} else if (strcmp(argv[i], "--no-nodes") == 0 && strcmp(verb, "up") == 0) {
			start_nodes = false;
		} else if (strcmp(argv[i], "--routing") == 0 && strcmp(verb, "up") == 0 && i + 1 < argc) {
			const char *how = argv[++i];
			if (strcmp(how, "ospf") != 0 && strcmp(how, "static") != 0) {
				fprintf(stderr, "anode lab: --routing is static or ospf, not '%s'\n", how);
				return 2;
			}
			ospf = strcmp(how, "ospf") == 0;
		} else if (argv[i][0] == '-' || file) {
			fprintf(stderr, "anode lab: unexpected '%s' (see anode lab -h)\n", argv[i]);
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (ospf && !netns) {
		fprintf(stderr, "anode lab: --routing ospf goes with --netns (overlay nodes route by their "
				"configuration and 'anode route')\n");
		return 2;
	}
	if (!start_nodes && !netns) {
		fprintf(stderr, "anode lab: --no-nodes goes with --netns (an overlay lab is its nodes)\n");
		return 2;
	}
	if (strcmp(verb, "up") == 0 && file)
		return lab_up(file, netns, start_nodes, ospf, json);
	if (strcmp(verb, "status") == 0)
		return lab_status(file, json);
	if (strcmp(verb, "down") == 0 && file)
		return lab_down(file);
	lab_usage(stderr);
	return 2;
}
