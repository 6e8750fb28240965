// SPDX-License-Identifier: MIT
/*
 * anode lab --netns: a topology file built as Linux network namespaces
 * joined by veth pairs, so that nodes run in router mode (DESIGN.md
 * section 4) over a real kernel data path. This file owns a namespace lab's
 * namespaces, veths, addresses, kernel routes and tbf qdiscs, its `netns`
 * state file, and its routers' node configurations; cmd_lab.c owns the
 * topology file, the nodes file and the processes.
 *
 * Addressing, from the lab's subnet (default 10.200.0.0/16):
 *   - link k (file order, host links included) is the /30 at subnet + 4k;
 *     the node named first on its line gets .1 of it, the other .2;
 *   - router r (file order) has the node address top + 1 + r, a /32 on its
 *     loopback, top being the subnet's last /24 (10.200.255.1, ...). Every
 *     route a router holds, connected ones included, carries it as `src`,
 *     so the router's own packets and its ICMP errors (what traceroute
 *     shows) come from the node address whatever the interface. Link
 *     addresses are added with noprefixroute for that reason: the kernel
 *     would otherwise install the connected route with the link address as
 *     source.
 *   - a host has its link's address and a default route via its router.
 * Routers hold a route to every node address and every link, along the
 * shortest paths cmd_lab.c computes for the overlay lab.
 *
 * Everything is done by ip(8) and tc(8) run with argument vectors, never a
 * shell; the commands for one namespace go in one batch file kept in the
 * lab directory, so that a failure can be read back and re-run by hand.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "core/spawn.h"

/* ip(8) accepts longer names; short ones keep `ip netns list` readable
 * and leave room in interface names for anyone adding their own. */
#define NS_MAX 32
#define NETNS_RUN_DIR "/run/netns"
#define ROUTER_PORT 3322
/* tbf: the queue holds this much time at the link's rate. */
#define TBF_LATENCY_MS 50
/* At least two Ethernet frames of burst: tbf drops a non-GSO packet
 * larger than its bucket. */
#define TBF_MIN_BURST (2 * 1514)
/* OSPF's first adjacencies take a few hello intervals; a lab of 64
 * routers in a line floods its LSAs across 63 hops. */
#define LAB_OSPF_CONVERGE_MS 30000

struct plan {
	const struct lab_topo *t;
	char ns[LAB_MAX_NODES][NS_MAX + 1];
	uint32_t addr[LAB_MAX_NODES];		/* routers: node address; hosts: link address */
	int16_t link_of[LAB_MAX_NODES][LAB_MAX_NODES]; /* link index between two nodes, or -1 */
	char ifname[LAB_MAX_LINKS][2][16];	/* per link, the interface at end a and at end b */
	bool ospf; /* routes from FRR's OSPF, not static ones */
};

static const char *ip4(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = { .s_addr = htonl(a) };
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static uint32_t link_net(const struct plan *p, size_t k)
{
	return p->t->subnet + 4 * (uint32_t)k;
}

/* The address of node `self` on link k. */
static uint32_t link_addr(const struct plan *p, size_t k, int self)
{
	return link_net(p, k) + (p->t->links[k].a == self ? 1 : 2);
}

static const char *link_if(const struct plan *p, size_t k, int self)
{
	return p->ifname[k][p->t->links[k].a == self ? 0 : 1];
}

/* ip and tc live in sbin, which a user's PATH may lack even under sudo. */
static const char *tool(const char *name, char *buf, size_t len)
{
	static const char *const dirs[] = { "/usr/sbin", "/sbin", "/usr/bin", "/bin" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(buf, len, "%s/%s", dirs[i], name);
		if (access(buf, X_OK) == 0)
			return buf;
	}
	snprintf(buf, len, "%s", name);
	return buf;
}

static void print_argv(FILE *f, char *const argv[])
{
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", argv[i]);
}

/* Run a command and wait for it. 0, or -1 after printing the command that
 * failed (the tool has already said why on stderr). */
static int run(char *const argv[])
{
	char err[2048];
	int rc = spawn_run(argv, NULL, 0, err, sizeof(err));
	if (rc == 0)
		return 0;
	if (rc < 0)
		fprintf(stderr, "anode lab: cannot run %s: %s\n", argv[0], strerror(-rc));
	else
		fprintf(stderr, "anode lab: failed (exit %d): ", rc);
	print_argv(stderr, argv);
	fprintf(stderr, "%s%s\n", err[0] ? ": " : "", err);
	return -1;
}

static bool ns_exists(const char *ns)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns);
	return access(path, F_OK) == 0;
}

static int plan_make(struct plan *p, const struct lab_topo *t, const char *lab)
{
	memset(p, 0, sizeof(*p));
	p->t = t;
	memset(p->link_of, 0xff, sizeof(p->link_of));
	uint32_t size = 1u << (32 - t->subnet_len), top = t->subnet + size - 256;
	if (4 * (uint64_t)t->n_links > size - 256) {
		char b[INET_ADDRSTRLEN];
		fprintf(stderr, "anode lab: %zu links need more than subnet %s/%u holds (%u); give a larger 'subnet'\n",
			t->n_links, ip4(t->subnet, b), t->subnet_len, (size - 256) / 4);
		return -ENOSPC;
	}
	uint32_t routers = 0;
	for (size_t i = 0; i < t->n; i++) {
		int len = snprintf(p->ns[i], sizeof(p->ns[i]), "an-%s-%s", lab, t->nodes[i].name);
		if (len < 0 || len > NS_MAX) {
			fprintf(stderr,
				"anode lab: namespace name an-%s-%s is longer than %d characters; "
				"use a shorter lab (file) or node name\n",
				lab, t->nodes[i].name, NS_MAX);
			return -ENAMETOOLONG;
		}
		if (!t->nodes[i].is_host)
			p->addr[i] = top + 1 + routers++;
	}
	for (size_t k = 0; k < t->n_links; k++) {
		const struct lab_link *l = &t->links[k];
		p->link_of[l->a][l->b] = p->link_of[l->b][l->a] = (int16_t)k;
		/* Interface names are per namespace, so naming one after the
		 * peer is unique; IFNAMSIZ leaves 15 characters. */
		for (int end = 0; end < 2; end++) {
			const char *peer = t->nodes[end ? l->a : l->b].name;
			if (strlen(peer) <= 12)
				snprintf(p->ifname[k][end], sizeof(p->ifname[k][end]), "to-%s", peer);
			else
				snprintf(p->ifname[k][end], sizeof(p->ifname[k][end]), "link%zu", k);
		}
		if (t->nodes[l->b].is_host)
			p->addr[l->b] = link_addr(p, k, l->b);
	}
	return 0;
}

/* Kernel settings of one namespace, written from a child that enters it:
 * /proc/sys/net shows the namespace of the process that opens it. */
static int ns_sysctls(const char *ns, bool router)
{
	static const struct {
		const char *key, *value;
		bool router_only;
	} settings[] = {
		/* Asymmetric paths are normal in a lab (shortest paths tie). */
		{ "net/ipv4/conf/all/rp_filter", "0", false },
		{ "net/ipv4/conf/default/rp_filter", "0", false },
		/* traceroute probes faster than the default 1/s per peer. */
		{ "net/ipv4/icmp_ratelimit", "0", false },
		{ "net/ipv4/ip_forward", "1", true },
		/* ARP from the link's own address, not the loopback node
		 * address, which the neighbour has no route for yet. */
		{ "net/ipv4/conf/all/arp_announce", "2", true },
	};
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", ns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			fprintf(stderr, "anode lab: cannot enter namespace %s: %s\n", ns, strerror(errno));
			_exit(1);
		}
		for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
			if (settings[i].router_only && !router)
				continue;
			size_t len = strlen(settings[i].value);
			snprintf(path, sizeof(path), "/proc/sys/%s", settings[i].key);
			int s = open(path, O_WRONLY | O_CLOEXEC);
			if (s < 0 || write(s, settings[i].value, len) != (ssize_t)len) {
				fprintf(stderr, "anode lab: %s: cannot set %s: %s\n", ns, settings[i].key,
					strerror(errno));
				_exit(1);
			}
			close(s);
		}
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	return 0;
}

/* Run one batch file in a namespace: ip -n NS -batch FILE, or tc. */
static int run_batch(const char *which, const char *ns, const char *file)
{
	char exe[PATH_MAX];
	char *argv[] = { (char *)tool(which, exe, sizeof(exe)), "-n", (char *)ns, "-batch", (char *)file, NULL };
	return run(argv);
}

/* Phase 1: loopback, node address, and the veths this node is the first
 * end of, created straight into both namespaces so that no name is ever
 * taken in the caller's namespace. */
static void batch_links(const struct plan *p, size_t i, FILE *f)
{
	const struct lab_topo *t = p->t;
	char a[INET_ADDRSTRLEN];
	fprintf(f, "link set lo up\n");
	if (!t->nodes[i].is_host)
		fprintf(f, "address add %s/32 dev lo\n", ip4(p->addr[i], a));
	for (size_t k = 0; k < t->n_links; k++)
		if (t->links[k].a == (int)i)
			fprintf(f, "link add %s type veth peer name %s netns %s\n", p->ifname[k][0], p->ifname[k][1],
				p->ns[t->links[k].b]);
}

/* Phase 2: link addresses and routes. */
static void batch_routes(const struct plan *p, size_t i, FILE *f)
{
	const struct lab_topo *t = p->t;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN];
	bool host = t->nodes[i].is_host;
	ip4(p->addr[i], src);
	for (size_t k = 0; k < t->n_links; k++) {
		if (t->links[k].a != (int)i && t->links[k].b != (int)i)
			continue;
		const char *ifn = link_if(p, k, (int)i);
		fprintf(f, "link set %s up\n", ifn);
		/* With OSPF the kernel keeps the connected route, so that it
		 * comes back with a link that went down and up. */
		bool own_route = !host && !p->ospf;
		fprintf(f, "address add %s/30 dev %s%s\n", ip4(link_addr(p, k, (int)i), a), ifn,
			own_route ? " noprefixroute" : "");
		if (host)
			fprintf(f, "route add default via %s\n",
				ip4(link_addr(p, k, t->links[k].a == (int)i ? t->links[k].b : t->links[k].a), a));
		else if (own_route)
			fprintf(f, "route add %s/30 dev %s src %s\n", ip4(link_net(p, k), a), ifn, src);
	}
	if (host || p->ospf)
		return;
	int first_hop[LAB_MAX_NODES], dist[LAB_MAX_NODES];
	lab_shortest_paths(t, i, first_hop, dist);
	/* The next hop's address on the link to it. */
#define NEXT_HOP(d) ip4(link_addr(p, (size_t)p->link_of[i][first_hop[d]], first_hop[d]), b)
	for (size_t d = 0; d < t->n; d++)
		if (d != i && !t->nodes[d].is_host && first_hop[d] >= 0)
			fprintf(f, "route add %s/32 via %s src %s\n", ip4(p->addr[d], a), NEXT_HOP(d), src);
	for (size_t k = 0; k < t->n_links; k++) {
		int u = t->links[k].a, v = t->links[k].b;
		if (u == (int)i || v == (int)i || dist[u] < 0)
			continue;
		int near = dist[u] <= dist[v] ? u : v;
		fprintf(f, "route add %s/30 via %s src %s\n", ip4(link_net(p, k), a), NEXT_HOP(near), src);
	}
#undef NEXT_HOP
}

/* Phase 3: a tbf on this node's end of every limited link. Returns
 * whether there is any. */
static bool batch_qdiscs(const struct plan *p, size_t i, FILE *f)
{
	const struct lab_topo *t = p->t;
	bool any = false;
	for (size_t k = 0; k < t->n_links; k++) {
		const struct lab_link *l = &t->links[k];
		if (!l->rate_bps || (l->a != (int)i && l->b != (int)i))
			continue;
		/* 10 ms of the rate: enough for TCP to keep the link busy
		 * without letting bursts far above the rate through. */
		unsigned long long burst = l->rate_bps / 8 / 100;
		if (burst < TBF_MIN_BURST)
			burst = TBF_MIN_BURST;
		fprintf(f, "qdisc add dev %s root tbf rate %llubit burst %llu latency %dms\n", link_if(p, k, (int)i),
			(unsigned long long)l->rate_bps, burst, TBF_LATENCY_MS);
		any = true;
	}
	return any;
}

typedef void batch_fn(const struct plan *p, size_t i, FILE *f);

static int write_batch(const struct plan *p, size_t i, const char *dir, const char *suffix, batch_fn *fn,
		       char *ret_path, size_t len)
{
	snprintf(ret_path, len, "%s/%s.%s", dir, p->t->nodes[i].name, suffix);
	FILE *f = fopen(ret_path, "we");
	if (!f) {
		fprintf(stderr, "anode lab: cannot write %s: %s\n", ret_path, strerror(errno));
		return -errno;
	}
	fn(p, i, f);
	if (fclose(f) != 0) {
		fprintf(stderr, "anode lab: cannot write %s: %s\n", ret_path, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* Phase 4 with --routing ospf: FRR in every router, then wait until each
 * has a route to every other router. */
static int start_ospf(const struct plan *p, FILE *state)
{
	const struct lab_topo *t = p->t;
	static struct lab_ospf_router r[LAB_MAX_NODES];
	size_t n = 0;
	fprintf(state, "routing ospf\n");
	if (fflush(state) != 0)
		return -EIO;
	for (size_t i = 0; i < t->n; i++) {
		if (t->nodes[i].is_host)
			continue;
		struct lab_ospf_router *o = &r[n++];
		memset(o, 0, sizeof(*o));
		o->name = t->nodes[i].name;
		o->ns = p->ns[i];
		o->addr = p->addr[i];
		for (size_t k = 0; k < t->n_links; k++) {
			int u = t->links[k].a, v = t->links[k].b;
			if (u != (int)i && v != (int)i)
				continue;
			o->ifs[o->n_ifs].name = link_if(p, k, (int)i);
			o->ifs[o->n_ifs++].to_host = t->nodes[u == (int)i ? v : u].is_host;
		}
		int ret = lab_ospf_start(o);
		if (ret < 0)
			return ret;
	}
	int ms = lab_ospf_wait(r, n, LAB_OSPF_CONVERGE_MS);
	if (ms < 0)
		return ms;
	/* Progress, on stderr: stdout is lab up's answer (--json: one value). */
	fprintf(stderr, "OSPF converged in %d ms (FRR in /run/frr/an-*; ip netns exec NS vtysh -N NS)\n", ms);
	return 0;
}

static int build_network(const struct plan *p, const char *dir, FILE *state)
{
	const struct lab_topo *t = p->t;
	char exe[PATH_MAX], path[PATH_MAX], a[INET_ADDRSTRLEN];
	for (size_t i = 0; i < t->n; i++) {
		char *argv[] = { (char *)tool("ip", exe, sizeof(exe)), "netns", "add", (char *)p->ns[i], NULL };
		if (run(argv) < 0)
			return -EIO;
		/* Recorded at once, so that a failure later removes it. */
		fprintf(state, "%s %s %s %s", t->nodes[i].is_host ? "host" : "router", t->nodes[i].name, p->ns[i],
			ip4(p->addr[i], a));
		for (size_t k = 0; t->nodes[i].is_host && k < t->n_links; k++)
			if (t->links[k].b == (int)i)
				fprintf(state, " %s", t->nodes[t->links[k].a].name);
		fputc('\n', state);
		if (fflush(state) != 0) {
			fprintf(stderr, "anode lab: cannot write the netns state file: %s\n", strerror(errno));
			return -EIO;
		}
		if (ns_sysctls(p->ns[i], !t->nodes[i].is_host) < 0)
			return -EIO;
	}
	for (size_t i = 0; i < t->n; i++)
		if (write_batch(p, i, dir, "links.ip", batch_links, path, sizeof(path)) < 0 ||
		    run_batch("ip", p->ns[i], path) < 0)
			return -EIO;
	for (size_t i = 0; i < t->n; i++)
		if (write_batch(p, i, dir, "routes.ip", batch_routes, path, sizeof(path)) < 0 ||
		    run_batch("ip", p->ns[i], path) < 0)
			return -EIO;
	for (size_t i = 0; i < t->n; i++) {
		snprintf(path, sizeof(path), "%s/%s.qdisc.tc", dir, t->nodes[i].name);
		FILE *f = fopen(path, "we");
		if (!f)
			return -errno;
		bool any = batch_qdiscs(p, i, f);
		if (fclose(f) != 0 || (any && run_batch("tc", p->ns[i], path) < 0))
			return -EIO;
		if (!any)
			unlink(path);
	}
	for (size_t k = 0; k < t->n_links; k++)
		fprintf(state, "link %s %s %s %s %s/30 %llu\n", t->nodes[t->links[k].a].name,
			t->nodes[t->links[k].b].name, p->ifname[k][0], p->ifname[k][1], ip4(link_net(p, k), a),
			(unsigned long long)t->links[k].rate_bps);
	if (fflush(state) != 0)
		return -EIO;
	return p->ospf ? start_ospf(p, state) : 0;
}

static int write_node_config(const struct plan *p, size_t i, const char *dir, char *ret_path, size_t len)
{
	char a[INET_ADDRSTRLEN];
	const char *name = p->t->nodes[i].name;
	snprintf(ret_path, len, "%s/%s.conf", dir, name);
	FILE *f = fopen(ret_path, "we");
	if (!f) {
		fprintf(stderr, "anode lab: cannot write %s: %s\n", ret_path, strerror(errno));
		return -errno;
	}
	/* No routes: in router mode the kernel forwards. */
	fprintf(f,
		"# written by 'anode lab up --netns': router %s in namespace %s\n"
		"name %s\nmode router\nlisten %s:%d\napp-socket %s/%s.app\nctl-socket %s/%s.ctl\n",
		name, p->ns[i], name, ip4(p->addr[i], a), ROUTER_PORT, dir, name, dir, name);
	for (size_t k = 0; k < p->t->nodes[i].n_sets; k++)
		fprintf(f, "%s\n", p->t->nodes[i].sets[k]);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* Whether this anoded takes the configuration: `anoded -n -f CONF`, its
 * output kept in ret_out. 0, 1 (rejected), or negative. */
static int check_config(const char *conf, char *ret_out, size_t len)
{
	char *argv[] = { (char *)lab_anoded_path(), "-n", "-f", (char *)conf, NULL };
	char err[1024];
	int rc = spawn_run(argv, ret_out, len, err, sizeof(err));
	if (rc < 0)
		return rc;
	/* What anoded said about a configuration it refused is on stderr. */
	if (rc != 0)
		snprintf(ret_out, len, "%s", err);
	return rc == 0 ? 0 : 1;
}

static int spawn_router(struct lab_node *n, const char *ns, const char *dir, const char *conf)
{
	char log[PATH_MAX], exe[PATH_MAX];
	snprintf(log, sizeof(log), "%s/%s.log", dir, n->name);
	char *argv[] = { (char *)tool("ip", exe, sizeof(exe)), "netns", "exec", (char *)ns,
			 (char *)lab_anoded_path(), "-f", (char *)conf, NULL };
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int lfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (lfd < 0 || nullfd < 0 || dup2(nullfd, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0)
			_exit(126);
		setsid();
		/* ip execs anoded in place: the PID recorded is the node's. */
		execv(argv[0], argv);
		fprintf(stderr, "anode lab: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	n->pid = pid;
	return 0;
}

static int start_routers(struct lab_topo *t, const struct plan *p, const char *dir)
{
	char conf[PATH_MAX], out[4096];
	bool checked = false;
	for (size_t i = 0; i < t->n; i++) {
		if (t->nodes[i].is_host || t->nodes[i].is_plain)
			continue;
		if (write_node_config(p, i, dir, conf, sizeof(conf)) < 0)
			return -EIO;
		if (checked)
			continue;
		/* One check is enough: the configurations differ only in
		 * names and addresses the lab made. */
		checked = true;
		int r = check_config(conf, out, sizeof(out));
		if (r < 0) {
			fprintf(stderr, "anode lab: cannot run %s: %s\n", lab_anoded_path(), strerror(-r));
			return r;
		}
		if (r > 0 && strstr(out, "'mode'")) {
			fprintf(stderr,
				"anode lab: this anoded (%s) does not support router mode yet; it said:\n  %s"
				"anode lab: the network is up without nodes, as with --no-nodes\n",
				lab_anoded_path(), out);
			return 0;
		}
		if (r > 0) {
			fprintf(stderr, "anode lab: %s rejects the configuration %s:\n  %s", lab_anoded_path(), conf,
				out[0] ? out : "(it said nothing)\n");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		if (t->nodes[i].is_host || t->nodes[i].is_plain)
			continue;
		snprintf(conf, sizeof(conf), "%s/%s.conf", dir, t->nodes[i].name);
		int r = spawn_router(&t->nodes[i], p->ns[i], dir, conf);
		if (r < 0) {
			fprintf(stderr, "anode lab: cannot start node %s: %s\n", t->nodes[i].name, strerror(-r));
			return r;
		}
	}
	return 0;
}

int lab_netns_up(struct lab_topo *t, const char *file, const char *lab, const char *dir, bool start_nodes,
		 bool ospf)
{
	static struct plan p;
	int r = plan_make(&p, t, lab);
	if (r < 0)
		return r;
	p.ospf = ospf;
	if (ospf && lab_ospf_check() < 0)
		return -ENOENT;
	for (size_t i = 0; i < t->n; i++) {
		if (ns_exists(p.ns[i])) {
			fprintf(stderr,
				"anode lab: network namespace %s exists already; 'anode lab down %s' removes a lab's "
				"namespaces ('ip netns del %s' removes one left by something else)\n",
				p.ns[i], file, p.ns[i]);
			return -EEXIST;
		}
	}
	/* Node addresses are known before anything starts, as in the
	 * overlay lab, so the nodes file has them even on failure. */
	for (size_t i = 0; i < t->n; i++) {
		struct in_addr in = { .s_addr = htonl(p.addr[i]) };
		memset(&t->nodes[i].addr, 0, sizeof(t->nodes[i].addr));
		t->nodes[i].addr.ip[10] = t->nodes[i].addr.ip[11] = 0xff;
		memcpy(&t->nodes[i].addr.ip[12], &in.s_addr, 4);
		t->nodes[i].addr.port = htons(ROUTER_PORT);
		t->nodes[i].pid = 0;
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/netns", dir);
	FILE *state = fopen(path, "we");
	if (!state) {
		fprintf(stderr, "anode lab: cannot write %s: %s\n", path, strerror(errno));
		return -errno;
	}
	fprintf(state, "# kind name namespace address [router] (from %s)\n"
		       "# link a b interface-at-a interface-at-b prefix rate-bits/s\n",
		file);
	r = build_network(&p, dir, state);
	if (fclose(state) != 0 && r == 0)
		r = -EIO;
	if (r == 0 && start_nodes)
		r = start_routers(t, &p, dir);
	return r;
}

struct ns_entry {
	char kind[8], name[LAB_NAME_MAX + 1], ns[NS_MAX + 1], addr[INET_ADDRSTRLEN], router[LAB_NAME_MAX + 1];
};

/* The routers and hosts of a namespace lab, from its state file. A line
 * that does not parse is skipped: the file is ours, in a 0700 directory. */
static int read_state(const char *dir, struct ns_entry **ret, size_t *ret_n)
{
	char path[PATH_MAX], line[512];
	snprintf(path, sizeof(path), "%s/netns", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	struct ns_entry *v = NULL;
	size_t n = 0;
	while (fgets(line, sizeof(line), f)) {
		struct ns_entry e = { 0 };
		if (sscanf(line, "%7s %64s %32s %15s %64s", e.kind, e.name, e.ns, e.addr, e.router) < 4 ||
		    (strcmp(e.kind, "router") != 0 && strcmp(e.kind, "host") != 0))
			continue;
		struct ns_entry *grown = realloc(v, (n + 1) * sizeof(*grown));
		if (!grown) {
			free(v);
			fclose(f);
			return -ENOMEM;
		}
		v = grown;
		v[n++] = e;
	}
	fclose(f);
	*ret = v;
	*ret_n = n;
	return 0;
}

bool lab_netns_present(const char *dir)
{
	struct ns_entry *v;
	size_t n;
	bool any = false;
	if (read_state(dir, &v, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		any |= ns_exists(v[i].ns);
	free(v);
	return any;
}

int lab_netns_remove(const char *dir)
{
	struct ns_entry *v;
	size_t n;
	int r = read_state(dir, &v, &n);
	if (r == -ENOENT)
		return 0; /* an overlay lab */
	if (r < 0) {
		fprintf(stderr, "anode lab: cannot read %s/netns: %s\n", dir, strerror(-r));
		return r;
	}
	char exe[PATH_MAX];
	int deleted = 0;
	r = 0;
	/* Routing daemons first: a namespace lives on while a process is in
	 * it, and a daemon would keep running in a namespace nobody sees. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].kind, "router") == 0 && strncmp(v[i].ns, "an-", 3) == 0 && lab_ospf_stop(v[i].ns) < 0)
			r = -EIO;
	for (size_t i = 0; i < n; i++) {
		/* Only names this code makes: the state file cannot point
		 * lab down at someone else's namespace by accident. */
		if (strncmp(v[i].ns, "an-", 3) != 0 || !ns_exists(v[i].ns))
			continue;
		if (geteuid() != 0) {
			fprintf(stderr, "anode lab: deleting network namespaces needs root\n");
			r = -EPERM;
			break;
		}
		char *argv[] = { (char *)tool("ip", exe, sizeof(exe)), "netns", "del", v[i].ns, NULL };
		if (run(argv) < 0)
			r = -EIO;
		else
			deleted++;
	}
	free(v);
	return r < 0 ? r : deleted;
}

static void format_rate(unsigned long long bps, char *buf, size_t len)
{
	if (!bps)
		snprintf(buf, len, "-");
	else if (bps % 1000000000 == 0)
		snprintf(buf, len, "%llugbit", bps / 1000000000);
	else if (bps % 1000000 == 0)
		snprintf(buf, len, "%llumbit", bps / 1000000);
	else if (bps % 1000 == 0)
		snprintf(buf, len, "%llukbit", bps / 1000);
	else
		snprintf(buf, len, "%llubit", bps);
}

/* A link line of the state file, as build_network writes it. */
struct ns_link {
	char a[LAB_NAME_MAX + 1], b[LAB_NAME_MAX + 1], ia[16], ib[16], prefix[24];
	unsigned long long bps;
};

static bool parse_link(const char *line, struct ns_link *l)
{
	return sscanf(line, "link %64s %64s %15s %15s %23s %llu", l->a, l->b, l->ia, l->ib, l->prefix, &l->bps) == 6;
}

void lab_netns_status(const char *dir)
{
	struct ns_entry *v;
	size_t n;
	if (read_state(dir, &v, &n) < 0)
		return;
	printf("  %-10s %-7s %-24s %-15s %s\n", "NAME", "KIND", "NAMESPACE", "ADDRESS", "STATE");
	for (size_t i = 0; i < n; i++) {
		char on[LAB_NAME_MAX + 8] = "";
		if (v[i].router[0])
			snprintf(on, sizeof(on), " (on %s)", v[i].router);
		printf("  %-10s %-7s %-24s %-15s %s%s\n", v[i].name, v[i].kind, v[i].ns, v[i].addr,
		       ns_exists(v[i].ns) ? "present" : "missing", on);
	}
	free(v);
	char path[PATH_MAX], line[512];
	snprintf(path, sizeof(path), "%s/netns", dir);
	FILE *f = fopen(path, "re");
	bool header = false;
	while (f && fgets(line, sizeof(line), f)) {
		if (strcmp(line, "routing ospf\n") == 0)
			printf("  routes: OSPF (FRR's zebra and ospfd in every router; "
			       "ip netns exec NS vtysh -N NS -c 'show ip ospf neighbor')\n");
		struct ns_link l;
		if (!parse_link(line, &l))
			continue;
		if (!header)
			printf("  %-21s %-18s %-31s %s\n", "LINK", "PREFIX", "INTERFACES", "RATE");
		header = true;
		char ends[2 * LAB_NAME_MAX + 4], ifs[40], rate[32];
		snprintf(ends, sizeof(ends), "%s - %s", l.a, l.b);
		snprintf(ifs, sizeof(ifs), "%s / %s", l.ia, l.ib);
		format_rate(l.bps, rate, sizeof(rate));
		printf("  %-21s %-18s %-31s %s\n", ends, l.prefix, ifs, rate);
	}
	if (f)
		fclose(f);
}

void lab_netns_status_json(const char *dir, FILE *out)
{
	struct ns_entry *v;
	size_t n;
	if (read_state(dir, &v, &n) < 0)
		return;
	char path[PATH_MAX], line[512];
	snprintf(path, sizeof(path), "%s/netns", dir);
	FILE *f = fopen(path, "re");
	bool ospf = false, first = true;
	while (f && fgets(line, sizeof(line), f))
		ospf |= strcmp(line, "routing ospf\n") == 0;
	/* Names, kinds, namespaces and addresses are ours (letters, digits,
	 * - and _; dotted quads): no escaping. */
	fprintf(out, ",\"routing\":\"%s\",\"namespaces\":[", ospf ? "ospf" : "static");
	for (size_t i = 0; i < n; i++)
		fprintf(out,
			"%s{\"name\":\"%s\",\"kind\":\"%s\",\"namespace\":\"%s\",\"address\":\"%s\",\"on\":%s%s%s,"
			"\"present\":%s}",
			i ? "," : "", v[i].name, v[i].kind, v[i].ns, v[i].addr, v[i].router[0] ? "\"" : "",
			v[i].router[0] ? v[i].router : "null", v[i].router[0] ? "\"" : "",
			ns_exists(v[i].ns) ? "true" : "false");
	free(v);
	fprintf(out, "],\"links\":[");
	if (f)
		rewind(f);
	while (f && fgets(line, sizeof(line), f)) {
		struct ns_link l;
		if (!parse_link(line, &l))
			continue;
		fprintf(out,
			"%s{\"a\":\"%s\",\"b\":\"%s\",\"interface_a\":\"%s\",\"interface_b\":\"%s\",\"prefix\":\"%s\","
			"\"rate_bps\":%llu}",
			first ? "" : ",", l.a, l.b, l.ia, l.ib, l.prefix, l.bps);
		first = false;
	}
	fprintf(out, "]");
	if (f)
		fclose(f);
}

int lab_netns_exec(const char *dir, const char *lab, const char *name, char **argv)
{
	struct ns_entry *v;
	size_t n;
	int r = read_state(dir, &v, &n);
	if (r < 0) {
		fprintf(stderr, "anode lab: lab '%s' has no namespaces (it was not brought up with --netns)\n", lab);
		return r;
	}
	char ns[NS_MAX + 1] = "";
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			snprintf(ns, sizeof(ns), "%s", v[i].ns);
	free(v);
	if (!ns[0]) {
		fprintf(stderr, "anode lab: lab '%s' has no router or host '%s' (see 'anode lab status')\n", lab, name);
		return -ENOENT;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "anode lab: entering a network namespace needs root\n");
		return -EPERM;
	}
	size_t argc = 0;
	while (argv[argc])
		argc++;
	char **full = calloc(argc + 5, sizeof(*full)), exe[PATH_MAX];
	if (!full)
		return -ENOMEM;
	full[0] = (char *)tool("ip", exe, sizeof(exe));
	full[1] = "netns";
	full[2] = "exec";
	full[3] = ns;
	memcpy(full + 4, argv, argc * sizeof(*argv));
	fflush(stdout);
	execv(full[0], full);
	fprintf(stderr, "anode lab: cannot run %s: %s\n", full[0], strerror(errno));
	free(full);
	return -errno;
}
