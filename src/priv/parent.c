// SPDX-License-Identifier: MIT
/*
 * The privileged parent of a router node (priv.h). It keeps root for three
 * jobs and does nothing else: binding NFQUEUE queues, adding and deleting
 * the iptables rules that feed them, and keeping a node child running.
 *
 * - The child is hostile until checked: its requests are decoded by
 *   src/wire (wire_priv_parse), filter ids are checked against the
 *   parent's own table, queue numbers are derived here, and a child that
 *   sends a malformed request is killed and replaced.
 * - Rules follow the child: when it dies, every rule tagged with the
 *   node's name is removed (traffic goes on in the kernel, --queue-bypass
 *   covers the gap), and the new child installs what it needs.
 * - A child that dies of a signal, or exits with an error after running a
 *   while, is restarted after PRIV_RESTART_MS; more than
 *   PRIV_RESTART_BURST deaths within PRIV_RESTART_WINDOW_S, or an error
 *   within PRIV_START_GRACE_S of starting (a configuration it cannot
 *   serve), and the parent gives up. A child that exits 0 was told to stop:
 *   so does the parent.
 * - iptables runs here, synchronously, which blocks only this process: the
 *   child's packets keep flowing while a rule is being installed.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/notify.h"
#include "kern/kload.h"
#include "kern/kfilter.h"
#include "kern/kobj.h"
#include "kern/kxsk.h"
#include "link/xsk.h"
#include "link/nfq.h"
#include "link/rules.h"
#include "priv/priv.h"
#include "priv/sandbox.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include "core/spawn.h"
#include "svc/auth.h"
#include "mon/mon.h"
#include "svc/policy.h"
#include "wire/wire.h"

#define PRIV_RESTART_MS 500
#define PRIV_RESTART_BURST 5
#define PRIV_RESTART_WINDOW_S 60
#define PRIV_START_GRACE_S 2
#define PRIV_STOP_TIMEOUT_MS 5000
#define PRIV_SERVICES_MAX 1024
#define PRIV_SVC_STOP_MS 3000 /* a service asked to stop (SIGTERM) has this long */
#define PRIV_CAPACITY_MS 5000 /* the link capacity measured for the child, this often */

struct priv_rule {
	bool in;
	struct match_filter f;
};

/* A service process this parent started for the node child. */
struct priv_service {
	unsigned id;   /* the node's instance id */
	pid_t pid;     /* bwrap's: the sandbox ends with it */
	char name[96]; /* its cgroup */
	char user[WIRE_SVC_NAME_MAX + 1];
	char service[WIRE_SVC_NAME_MAX + 1];
	bool stopping; /* stopped on request, not reaped yet: no longer the user's */
	bool server;   /* with a network namespace and a redirection (dnat, to) */
	struct match_filter dnat;
	uint32_t to;
	struct loop_timer *kill_t; /* SIGKILL if it is still there */
	struct priv_parent *pp;
};

struct priv_parent {
	const struct priv_parent_config *cfg;
	struct loop *loop;
	int sfd;
	pid_t child;
	int chan; /* our end of the socket pair, -1 when there is no child */
	time_t started;
	time_t deaths[PRIV_RESTART_BURST];
	unsigned n_deaths;
	struct loop_timer *restart_t, *kill_t;
	bool stopping;
	bool notified_ready; /* READY=1 sent to the service manager */
	int status; /* anoded's exit status */
	struct priv_rule rules[MATCH_FILTERS_MAX];
	/* Services: the parent checks every activation itself, against its own
	 * copy of the policy, from the user's signed request (the child could
	 * lie about anything else). */
	struct policy policy;
	bool have_policy;
	struct svc_auth *auth;
	struct priv_service *svcs[PRIV_SERVICES_MAX];
	struct sandbox_spare spare; /* the next activation's process, ready in its cgroups */
	unsigned spare_seq;
	struct loop_timer *spare_t;
	/* A reloaded configuration sent to the child (CONFIG), whose policy
	 * becomes this parent's copy once the child says it is in force. */
	uint32_t config_gen;
	struct policy pending;
	bool have_pending, pending_none, policy_change;
	/* The memfds of the configuration sent last and of the one in force
	 * (sent again to a restarted child), with their texts' lengths. */
	int pending_fd, force_fd;
	uint32_t pending_lens[2], force_lens[2];
	struct loop_timer *capacity_t; /* the link capacity, measured for the child */
	struct kload *kern; /* the kernel path, when the child asked for it (KERN_START) */
};

static void child_start(void *arg);
static void child_kill(struct priv_parent *pp, const char *why);
static void capacity_tick(void *arg);
struct priv_texts;
static int config_memfd(const struct priv_texts *t);
static int config_send(struct priv_parent *pp, int fd, const uint32_t lens[2]);

static time_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void rules_forget_all(struct priv_parent *pp)
{
	int r = rules_cleanup_stale(pp->cfg->tag);
	if (r < 0)
		log_warn("priv: rules of %s may remain: %s", pp->cfg->tag, strerror(-r));
	memset(pp->rules, 0, sizeof(pp->rules));
}

/* ---- requests from the child ---- */

#define PRIV_REPLY_WAIT_MS 5000

static void reply_value(struct priv_parent *pp, uint8_t type, unsigned id, int status, uint32_t value, int fd)
{
	struct wire_priv msg = {.type = type, .id = id, .status = status, .value = value};
	uint8_t buf[WIRE_PRIV_MSG_MAX];
	ssize_t n = wire_priv_build(buf, sizeof(buf), &msg);
	if (n < 0)
		return;
	int r = priv_msg_send(pp->chan, buf, (size_t)n, fd);
	/* The child reads every round, but may be behind: an answer waits
	 * for room (a lost one would leave it waiting for a filter for ever)
	 * up to PRIV_REPLY_WAIT_MS, the parent having nothing more urgent. */
	for (int waited = 0; r == -EAGAIN && waited < PRIV_REPLY_WAIT_MS; waited += 100) {
		struct pollfd pf = {.fd = pp->chan, .events = POLLOUT};
		if (poll(&pf, 1, 100) < 0 && errno != EINTR)
			break;
		r = priv_msg_send(pp->chan, buf, (size_t)n, fd);
	}
	if (r == 0)
		return;
	errno = -r;
	/* A child that stops does not wait for the answers to its last
	 * requests: not worth a warning. */
	if (errno == EPIPE || errno == ECONNRESET)
		log_debug("priv: the node child left before its answer");
	else
		log_warn("priv: cannot answer the node child: %s", strerror(errno));
}

static void reply(struct priv_parent *pp, uint8_t type, unsigned id, int status, int fd)
{
	reply_value(pp, type, id, status, 0, fd);
}

static void reply_text(struct priv_parent *pp, uint8_t type, unsigned id, int status, const char *text, int fd)
{
	struct wire_priv msg = {.type = type, .id = id, .status = status, .data = (const uint8_t *)text};
	msg.data_len = strlen(text);
	if (msg.data_len > WIRE_PRIV_TEXT_MAX)
		msg.data_len = WIRE_PRIV_TEXT_MAX;
	uint8_t buf[WIRE_PRIV_MSG_MAX];
	ssize_t n = wire_priv_build(buf, sizeof(buf), &msg);
	if (n >= 0 && priv_msg_send(pp->chan, buf, (size_t)n, fd) < 0)
		log_warn("priv: cannot answer the node child's kernel path request");
}

/* ---- the kernel path (src/kern, docs/kernel.md) ---- */

static void kern_stop(struct priv_parent *pp)
{
	if (!pp->kern)
		return;
	kload_close(pp->kern);
	pp->kern = NULL;
	log_info("priv: kernel path stopped");
}

static void kern_start(struct priv_parent *pp, const struct wire_priv *msg)
{
	char ifaces[WIRE_PRIV_TEXT_MAX + 1], err[256] = "";
	memcpy(ifaces, msg->data, msg->data_len);
	ifaces[msg->data_len] = '\0';
	for (char *c = ifaces; *c; c++)
		if (!(isalnum((unsigned char)*c) || *c == ' ' || *c == '-' || *c == '_' || *c == '.' || *c == '@')) {
			child_kill(pp, "the node child named interfaces with odd characters");
			return;
		}
	kern_stop(pp);
	int r = kload_open(ifaces, &pp->kern, err, sizeof(err));
	if (r < 0) {
		log_warn("priv: kernel path off: %s", err);
		reply_text(pp, WIRE_PRIV_KERN_READY, 0, r, err, -1);
		return;
	}
	log_info("priv: kernel path on %zu interface%s (%s)", kload_ifaces(pp->kern),
		 kload_ifaces(pp->kern) == 1 ? "" : "s", ifaces);
	reply_text(pp, WIRE_PRIV_KERN_READY, 0, 0, "", kload_counters_fd(pp->kern));
}

/* A code object's kernel program: its instructions in the memfd the child
 * passed, read once into our own buffer and checked again by kload_code. */
static void kern_load(struct priv_parent *pp, const struct wire_priv *msg, int fd)
{
	char log[WIRE_PRIV_TEXT_MAX] = "";
	int r = -ENOTCONN;
	uint8_t *insns = NULL;
	struct stat st;
	if (!pp->kern) {
		snprintf(log, sizeof(log), "the kernel path is off");
	} else if (fd < 0 || fstat(fd, &st) < 0 || st.st_size <= 0 || st.st_size % 8 ||
		   st.st_size > KOBJ_INSNS_MAX * 8) {
		r = -EINVAL;
		snprintf(log, sizeof(log), "no instructions, or too many");
	} else if (!(insns = malloc((size_t)st.st_size))) {
		r = -ENOMEM;
	} else if (pread(fd, insns, (size_t)st.st_size, 0) != st.st_size) {
		r = -EIO;
	} else {
		uint32_t state_max = wire_priv_kload_state_max(msg->data);
		if (state_max == 0 || state_max > AN_KSTATE_MAX)
			state_max = AN_KSTATE_MAX;
		r = kload_code(pp->kern, msg->data, insns, (size_t)st.st_size / 8, state_max, log, sizeof(log));
	}
	free(insns);
	if (fd >= 0)
		close(fd);
	if (r < 0 && r != -EEXIST)
		log_info("priv: kernel program %02x%02x%02x%02x refused: %s", msg->data[0], msg->data[1], msg->data[2],
			 msg->data[3], log[0] ? log : strerror(-r));
	/* With its soft state map: the node child keeps the object's state
	 * there too, so that a run in the kernel and one in user space share
	 * it (the child may look up, update and delete in it: its seccomp
	 * list allows those bpf(2) commands and no other). */
	int state_fd = r == 0 || r == -EEXIST ? kload_code_state_fd(pp->kern, msg->data) : -1;
	reply_text(pp, WIRE_PRIV_KERN_LOADED, msg->id, r == -EEXIST ? 0 : r, log, state_fd >= 0 ? state_fd : -1);
}

/* A filter whose module runs in the kernel, or its entry cleared. */
static void kern_filter(struct priv_parent *pp, const struct wire_priv *msg)
{
	if (!pp->kern)
		return;
	if (msg->id >= AN_KFILTERS_MAX) {
		child_kill(pp, "the node child named a kernel filter past the table");
		return;
	}
	int r;
	if (msg->data_len == 0) {
		r = kload_filter_set(pp->kern, msg->id, NULL, NULL);
	} else {
		struct an_kfilter f;
		wire_priv_kfilter_get(msg->data, &f);
		r = kload_filter_set(pp->kern, msg->id, &f, msg->data);
	}
	if (r < 0)
		log_warn("priv: kernel filter %u: %s", msg->id, strerror(-r));
}

/* ---- what goes up, by AF_XDP ---- */

static void xsk_send(struct priv_parent *pp, unsigned id, int status, const struct wire_priv_kxsk *x, const char *why,
		     int fd)
{
	uint8_t d[WIRE_PRIV_KXSK_LEN + WIRE_PRIV_TEXT_MAX];
	wire_priv_kxsk_put(d, x);
	size_t wl = why ? strlen(why) : 0; /* a string of ours, shorter than the text's bound */
	if (wl > WIRE_PRIV_TEXT_MAX)
		wl = WIRE_PRIV_TEXT_MAX;
	memcpy(d + WIRE_PRIV_KXSK_LEN, why ? why : "", wl);
	struct wire_priv msg = {
	    .type = WIRE_PRIV_KERN_XSK, .id = id, .status = status, .data = d, .data_len = WIRE_PRIV_KXSK_LEN + wl};
	uint8_t buf[WIRE_PRIV_MSG_MAX];
	ssize_t n = wire_priv_build(buf, sizeof(buf), &msg);
	if (n < 0 || priv_msg_send(pp->chan, buf, (size_t)n, fd) < 0)
		log_warn("priv: cannot hand the node child its AF_XDP sockets");
}

/* The sockets of one interface: a UMEM and a socket per receive queue. */
static int xsk_iface(struct priv_parent *pp, unsigned ifindex, char *err, size_t errlen)
{
	unsigned nq = kxsk_queues(ifindex);
	for (unsigned q = 0; q < nq; q++) {
		int slot = kload_xport(pp->kern, ifindex, q);
		if (slot < 0) {
			snprintf(err, errlen, "no AF_XDP slot for interface %u queue %u: %s", ifindex, q,
				 strerror(-slot));
			return slot;
		}
		int sock, mem;
		size_t len = (size_t)XSK_FRAMES * XSK_FRAME_SIZE;
		int r = kxsk_socket(len, XSK_FRAME_SIZE, &sock, &mem);
		if (r < 0) {
			snprintf(err, errlen, "cannot make an AF_XDP socket: %s", strerror(-r));
			return r;
		}
		struct wire_priv_kxsk x = {.kind = WIRE_PRIV_KXSK_UMEM, .ifindex = ifindex, .queue = q,
					   .umem_len = (uint32_t)len, .frame = XSK_FRAME_SIZE};
		xsk_send(pp, (unsigned)slot, 0, &x, NULL, mem);
		x.kind = WIRE_PRIV_KXSK_SOCKET;
		xsk_send(pp, (unsigned)slot, 0, &x, NULL, sock);
		/* The child's now: when it goes, the socket goes, and with
		 * it the map's entry (fail-open). */
		close(mem);
		close(sock);
	}
	return 0;
}

static void kern_up(struct priv_parent *pp)
{
	char err[256] = "";
	int r = -ENOTCONN;
	if (!pp->kern) {
		snprintf(err, sizeof(err), "the kernel path is off");
		goto done;
	}
	if (kload_xsks_fd(pp->kern) >= 0) {
		/* Once per kernel path: each answer pins new UMEMs. */
		r = -EALREADY;
		snprintf(err, sizeof(err), "AF_XDP is on already");
		goto done;
	}
	if ((r = kload_xdp_open(pp->kern, err, sizeof(err))) < 0)
		goto done;
	for (unsigned id = 0; id < MATCH_FILTERS_MAX; id++)
		if (pp->rules[id].in) {
			struct an_kfilter xf = kfilter_of(&pp->rules[id].f, id);
			kload_xfilter_set(pp->kern, id, &xf);
		}
	struct wire_priv_kxsk x = {.kind = WIRE_PRIV_KXSK_MAP};
	xsk_send(pp, 0, 0, &x, NULL, kload_xsks_fd(pp->kern));
	int raw = kxsk_raw_socket(AN_KMARK);
	if (raw < 0) {
		r = raw;
		snprintf(err, sizeof(err), "cannot make the raw socket packets go on by: %s", strerror(-r));
		goto done;
	}
	x.kind = WIRE_PRIV_KXSK_RAW;
	xsk_send(pp, 0, 0, &x, NULL, raw);
	close(raw);
	for (size_t i = 0; i < kload_ifaces(pp->kern); i++)
		if ((r = xsk_iface(pp, (unsigned)kload_ifindex(pp->kern, i), err, sizeof(err))) < 0)
			goto done;
	r = 0;
done:
	if (r < 0)
		log_warn("priv: AF_XDP off: %s", err);
	else
		log_info("priv: what goes up comes by AF_XDP on %zu interface%s", kload_ifaces(pp->kern),
			 kload_ifaces(pp->kern) == 1 ? "" : "s");
	struct wire_priv_kxsk done = {.kind = WIRE_PRIV_KXSK_DONE};
	xsk_send(pp, 0, r < 0 ? r : 0, &done, r < 0 ? err : NULL, -1);
}

static void kern_node(struct priv_parent *pp, const struct wire_priv *msg)
{
	if (!pp->kern)
		return;
	struct an_knode kn;
	wire_priv_knode_get(msg->data, &kn);
	kn.mark = AN_KMARK; /* not the child's to choose */
	kn.flags &= AN_KNODE_REDIRECT;
	if (kload_set_node(pp->kern, &kn) < 0)
		log_warn("priv: cannot update the kernel path's node figures");
}

static int filter_add(struct priv_parent *pp, const struct wire_priv *msg, int *ret_fd)
{
	struct match_filter f = {
	    .src = msg->filter.src,
	    .dst = msg->filter.dst,
	    .src_prefix = msg->filter.src_prefix,
	    .dst_prefix = msg->filter.dst_prefix,
	    .proto = msg->filter.proto,
	    .sport_lo = msg->filter.sport_lo,
	    .sport_hi = msg->filter.sport_hi,
	    .dport_lo = msg->filter.dport_lo,
	    .dport_hi = msg->filter.dport_hi,
	};
	if (msg->id >= MATCH_FILTERS_MAX || pp->cfg->first_queue + msg->id > 0xffff)
		return -ERANGE;
	if (pp->rules[msg->id].in)
		return -EEXIST;
	if (match_filter_check(&f) < 0)
		return -EINVAL;
	uint16_t queue = (uint16_t)(pp->cfg->first_queue + msg->id);
	int fd = nfq_queue_open(queue);
	if (fd < 0)
		return log_errno_ret(-fd, "priv: queue %u: %s%s", queue, strerror(-fd),
				     fd == -EBUSY ? " (bound by another process)" : "");
	int r = rules_add(pp->cfg->tag, msg->id, queue, &f);
	if (r < 0) {
		close(fd);
		return r;
	}
	pp->rules[msg->id] = (struct priv_rule){.in = true, .f = f};
	if (pp->kern) {
		struct an_kfilter xf = kfilter_of(&f, msg->id);
		kload_xfilter_set(pp->kern, msg->id, &xf);
	}
	*ret_fd = fd;
	return 0;
}

static int filter_del(struct priv_parent *pp, const struct wire_priv *msg)
{
	if (msg->id >= MATCH_FILTERS_MAX || !pp->rules[msg->id].in)
		return -ENOENT;
	struct priv_rule *ru = &pp->rules[msg->id];
	ru->in = false; /* a rule iptables kept is removed with the child's */
	if (pp->kern)
		kload_xfilter_set(pp->kern, msg->id, NULL);
	return rules_del(pp->cfg->tag, msg->id, (uint16_t)(pp->cfg->first_queue + msg->id), &ru->f);
}

/* ---- services ---- */

static struct priv_service **svc_find_id(struct priv_parent *pp, unsigned id)
{
	for (size_t i = 0; i < PRIV_SERVICES_MAX; i++)
		if (pp->svcs[i] && pp->svcs[i]->id == id)
			return &pp->svcs[i];
	return NULL;
}

static void svc_forget(struct priv_parent *pp, struct priv_service **ps)
{
	/* The veth went with the service's namespace; the redirection is ours. */
	if ((*ps)->server)
		rules_dnat_del(pp->cfg->tag, (*ps)->id, &(*ps)->dnat, (*ps)->to);
	if ((*ps)->kill_t)
		loop_timer_cancel(pp->loop, (*ps)->kill_t);
	sandbox_cleanup((*ps)->name);
	free(*ps);
	*ps = NULL;
}

static void spare_refill(void *arg)
{
	struct priv_parent *pp = arg;
	pp->spare_t = NULL;
	if (!pp->have_policy || pp->spare.pid > 0 || pp->stopping)
		return;
	char name[96];
	/* Unique on the host: two nodes of the same name may run in two labs. */
	snprintf(name, sizeof(name), "%s-%d-s%u", pp->cfg->tag, (int)getpid(), pp->spare_seq++);
	int r = sandbox_spare_make(name, &pp->spare);
	if (r < 0)
		log_debug("priv: no spare sandbox process: %s", strerror(-r));
}

/* A server's network namespace, wired once bwrap has made it: a veth pair
 * (anvSLOT on the router, eth0 in the sandbox) on 169.254.x.y/30, the
 * sandbox's default route through the router, and its traffic redirected
 * to it. info_fd is where bwrap says its child's pid. */
#define PRIV_SERVER_WAIT_MS 3000

static int run_tool(char *const argv[])
{
	char err[256];
	int rc = spawn_run(argv, NULL, 0, err, sizeof(err));
	if (rc != 0)
		log_err("priv: %s %s: %s", argv[0], argv[1], rc < 0 ? strerror(-rc) : err);
	return rc == 0 ? 0 : -EIO;
}

static int server_wire(struct priv_parent *pp, struct priv_service *ps, size_t slot, int info_fd)
{
	char buf[512] = "";
	size_t got = 0;
	long child = 0;
	uint64_t until = loop_now_ns() + PRIV_SERVER_WAIT_MS * 1000000ull;
	while (!child && got < sizeof(buf) - 1 && loop_now_ns() < until) {
		struct pollfd p = {.fd = info_fd, .events = POLLIN};
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = read(info_fd, buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = 0;
		const char *k = strstr(buf, "\"child-pid\":");
		if (k)
			child = strtol(k + 12, NULL, 10);
	}
	if (child <= 0)
		return -ETIMEDOUT;
	uint32_t base = htonl(0xa9fe0000u | (uint32_t)(slot << 2)); /* 169.254.0.0 + 4 * slot */
	uint32_t host = htonl(ntohl(base) + 1);
	ps->to = htonl(ntohl(base) + 2);
	char veth[16], pid[24], ha[INET_ADDRSTRLEN + 4], sa[INET_ADDRSTRLEN], hv[INET_ADDRSTRLEN];
	snprintf(veth, sizeof(veth), "anv%zu", slot);
	snprintf(pid, sizeof(pid), "%ld", child);
	inet_ntop(AF_INET, &host, hv, sizeof(hv));
	snprintf(ha, sizeof(ha), "%s/30", hv);
	inet_ntop(AF_INET, &ps->to, sa, sizeof(sa));
	char sa30[INET_ADDRSTRLEN + 4];
	snprintf(sa30, sizeof(sa30), "%s/30", sa);
	char *add[] = {"ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", pid, NULL};
	char *addr[] = {"ip", "addr", "add", ha, "dev", veth, NULL};
	char *up[] = {"ip", "link", "set", veth, "up", NULL};
	char *in_addr[] = {"nsenter", "-t", pid, "-n", "ip", "addr", "add", sa30, "dev", "eth0", NULL};
	char *in_up[] = {"nsenter", "-t", pid, "-n", "ip", "link", "set", "eth0", "up", NULL};
	char *in_lo[] = {"nsenter", "-t", pid, "-n", "ip", "link", "set", "lo", "up", NULL};
	char *in_route[] = {"nsenter", "-t", pid, "-n", "ip", "route", "add", "default", "via", hv, NULL};
	char *const *steps[] = {add, addr, up, in_addr, in_up, in_lo, in_route};
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (run_tool(steps[i]) < 0)
			return -EIO;
	int r = rules_dnat_add(pp->cfg->tag, ps->id, &ps->dnat, ps->to);
	if (r == 0)
		ps->server = true;
	return r;
}

/* Check an activation as the child did, then start the sandbox. 0 with the
 * node's end of the service's socket in *ret_fd and its pid in *ret_pid. */
static int svc_start(struct priv_parent *pp, const struct wire_priv *msg, int *ret_fd, pid_t *ret_pid)
{
	if (!pp->have_policy)
		return -EOPNOTSUPP;
	struct wire_svc_request q;
	const struct policy_principal *who;
	enum auth_result ar = svc_auth_check(pp->auth, &pp->policy, pp->cfg->tag, msg->request, msg->request_len,
					     (uint64_t)time(NULL), &q, &who);
	if (ar != AUTH_OK || q.op != WIRE_SVC_ACTIVATE) {
		log_warn("priv: the node child asked to start a service with a request that does not check out (%s)",
			 ar != AUTH_OK ? svc_auth_why(ar) : "not an activation");
		return -EACCES;
	}
	const struct policy_service *sv = policy_service(&pp->policy, q.service);
	if (!sv || sv->kind != POLICY_PROGRAM || !policy_may_use(who, sv->name))
		return -EPERM;
	size_t mine = 0, slot = PRIV_SERVICES_MAX;
	for (size_t i = 0; i < PRIV_SERVICES_MAX; i++) {
		if (!pp->svcs[i]) {
			if (slot == PRIV_SERVICES_MAX)
				slot = i;
			continue;
		}
		if (!pp->svcs[i]->stopping && !strcmp(pp->svcs[i]->user, who->name)) {
			mine++;
			if (!strcmp(pp->svcs[i]->service, sv->name))
				return -EEXIST;
		}
	}
	if ((!who->admin && mine >= who->quota.services) || slot == PRIV_SERVICES_MAX)
		return -EDQUOT;
	if (svc_find_id(pp, msg->id))
		return -EEXIST;
	struct policy_flow flow;
	char why[256];
	if (sv->server) {
		/* Its redirected traffic, inside the user's grants, as the
		 * node checked it: a destination, TCP or UDP, ports. */
		if (policy_server_flow(q.params, who, &flow, why, sizeof(why)) < 0)
			return -EPERM;
	}
	struct priv_service *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	ps->id = msg->id;
	if (sv->server)
		ps->dnat = (struct match_filter){.dst = flow.dst,
						 .dst_prefix = flow.dst_prefix,
						 .proto = flow.proto,
						 .dport_lo = flow.port_lo,
						 .dport_hi = flow.port_hi};
	snprintf(ps->user, sizeof(ps->user), "%s", who->name);
	snprintf(ps->service, sizeof(ps->service), "%s", sv->name);
	snprintf(ps->name, sizeof(ps->name), "%s-%d-%u", pp->cfg->tag, (int)getpid(), msg->id);
	int sv_pair[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv_pair) < 0) {
		free(ps);
		return -errno;
	}
	/* Each principal has its own uid, from its place in the policy. */
	uid_t uid = SANDBOX_UID_BASE + (uid_t)(who - pp->policy.principals);
	struct sandbox_spec spec = {
	    .uid = uid,
	    .gid = uid,
	    .path = sv->path,
	    .args = sv->argv,
	    .service = sv->name,
	    .user = who->name,
	    .params = q.params,
	    .chan_fd = sv_pair[1],
	    .memory = who->quota.memory,
	    .cpu_pct = (unsigned)who->quota.cpu_pct,
	    .pids = SANDBOX_PIDS_MAX,
	};
	snprintf(spec.name, sizeof(spec.name), "%s", ps->name);
	char err[256];
	int info[2] = {-1, -1}, block[2] = {-1, -1};
	if (sv->server) {
		if (pipe2(info, O_CLOEXEC) < 0 || pipe2(block, O_CLOEXEC) < 0) {
			close(sv_pair[0]);
			close(sv_pair[1]);
			free(ps);
			return -errno;
		}
		spec.net = true;
		spec.info_fd = info[1];
		spec.block_fd = block[0];
	}
	uint64_t t0 = loop_now_ns();
	/* A server needs bwrap's info and block descriptors: no spare. */
	int r = sandbox_start(&spec, sv->server ? NULL : &pp->spare, &ps->pid, err, sizeof(err));
	close(sv_pair[1]);
	if (sv->server) {
		close(info[1]);
		close(block[0]);
		if (r == 0) {
			r = server_wire(pp, ps, slot, info[0]);
			if (r < 0) {
				snprintf(err, sizeof(err), "cannot wire its network: %s", strerror(-r));
				kill(ps->pid, SIGKILL);
				waitpid(ps->pid, NULL, 0);
				sandbox_cleanup(spec.name);
			} else if (write(block[1], "", 1) != 1) { /* go */
				r = -EIO;
			}
		}
		close(info[0]);
		close(block[1]);
	}
	snprintf(ps->name, sizeof(ps->name), "%s", spec.name); /* the spare's cgroups, when it was one */
	if (pp->spare.pid == 0 && !pp->spare_t)		       /* a new spare, after the answer has gone */
		pp->spare_t = loop_timer_add(pp->loop, 0, spare_refill, pp);
	if (r < 0) {
		log_err("priv: service %s for %s: %s", sv->name, who->name, err);
		close(sv_pair[0]);
		free(ps);
		return r;
	}
	pp->svcs[slot] = ps;
	log_info("priv: service %s for %s started: pid %d, uid %u, cgroup anode/%s (sandbox set up in %llu us)",
		 sv->name, who->name, (int)ps->pid, (unsigned)uid, ps->name,
		 (unsigned long long)((loop_now_ns() - t0) / 1000));
	*ret_fd = sv_pair[0];
	*ret_pid = ps->pid;
	return 0;
}

static void svc_kill_late(void *arg)
{
	struct priv_service *ps = arg;
	ps->kill_t = NULL;
	log_info("priv: service %s of %s did not end on SIGTERM within %d ms: killed", ps->service, ps->user,
		 PRIV_SVC_STOP_MS);
	sandbox_freeze(ps->name, false);
	kill(ps->pid, SIGKILL);
}

/* A service process ended: tell the node, clean up after it. */
static void svc_reaped(struct priv_parent *pp, struct priv_service **ps, int wstatus)
{
	/* bwrap, the sandbox's pid 1, exits with 128 + N when its program
	 * was killed by signal N. */
	int sig = WIFSIGNALED(wstatus)				     ? WTERMSIG(wstatus)
		  : WIFEXITED(wstatus) && WEXITSTATUS(wstatus) > 128 ? WEXITSTATUS(wstatus) - 128
								     : 0;
	if (sig)
		log_info("priv: service %s of %s (pid %d) ended: killed by signal %d (%s)", (*ps)->service, (*ps)->user,
			 (int)(*ps)->pid, sig, strsignal(sig));
	else
		log_info("priv: service %s of %s (pid %d) ended: exit status %d", (*ps)->service, (*ps)->user,
			 (int)(*ps)->pid, WEXITSTATUS(wstatus));
	if (pp->chan >= 0) {
		struct wire_priv m = {.type = WIRE_PRIV_SVC_ENDED, .id = (*ps)->id, .value = (uint32_t)wstatus};
		uint8_t buf[WIRE_PRIV_MSG_MAX];
		ssize_t n = wire_priv_build(buf, sizeof(buf), &m);
		if (n > 0 && send(pp->chan, buf, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
			log_warn("priv: cannot tell the node child that a service ended: %s", strerror(errno));
	}
	svc_forget(pp, ps);
}

/* The node child went: its services go with it (they would have no node). */
static void svc_kill_all(struct priv_parent *pp)
{
	for (size_t i = 0; i < PRIV_SERVICES_MAX; i++)
		if (pp->svcs[i]) {
			/* Thawed first: a suspended service would not die, and
			 * waitpid would wait for ever. */
			sandbox_freeze(pp->svcs[i]->name, false);
			kill(pp->svcs[i]->pid, SIGKILL);
			waitpid(pp->svcs[i]->pid, NULL, 0);
			svc_forget(pp, &pp->svcs[i]);
		}
}

static void config_done(struct priv_parent *pp, const struct wire_priv *msg);

static void child_kill(struct priv_parent *pp, const char *why)
{
	log_err("priv: %s: killing the node child %d", why, (int)pp->child);
	kill(pp->child, SIGKILL);
}

static void chan_readable(void *arg, int fd, uint32_t events)
{
	struct priv_parent *pp = arg;
	for (;;) {
		uint8_t buf[WIRE_PRIV_MSG_MAX + 1];
		int pfd, extra;
		ssize_t n = priv_msg_recv(fd, buf, sizeof(buf), &pfd, &extra);
		if (n == -EAGAIN)
			return;
		bool may_pass_fd = n >= 1 && buf[0] == WIRE_PRIV_KERN_LOAD && !extra;
		if ((pfd >= 0 && !may_pass_fd) || extra) {
			/* The child has no business sending descriptors, but
			 * a kernel program's instructions. */
			if (pfd >= 0)
				close(pfd);
			child_kill(pp, "the node child sent descriptors");
			return;
		}
		if (n <= 0 && n != -EMSGSIZE) {
			/* The child is going; SIGCHLD does the rest. */
			loop_fd_del(pp->loop, fd);
			close(pp->chan);
			pp->chan = -1;
			return;
		}
		struct wire_priv msg;
		int r = n < 0 ? -EBADMSG : wire_priv_parse(buf, (size_t)n, &msg);
		bool request = msg.type == WIRE_PRIV_FILTER_ADD || msg.type == WIRE_PRIV_FILTER_DEL ||
			       msg.type == WIRE_PRIV_SVC_START || msg.type == WIRE_PRIV_SVC_STOP ||
			       msg.type == WIRE_PRIV_SVC_FREEZE || msg.type == WIRE_PRIV_CONFIG_DONE ||
			       msg.type == WIRE_PRIV_KERN_START || msg.type == WIRE_PRIV_KERN_LOAD ||
			       msg.type == WIRE_PRIV_KERN_UNLOAD || msg.type == WIRE_PRIV_KERN_NODE ||
			       msg.type == WIRE_PRIV_KERN_FILTER || msg.type == WIRE_PRIV_KERN_UP;
		if (r < 0 || !request) {
			if (pfd >= 0)
				close(pfd);
			child_kill(pp, r < 0 ? "the node child sent a malformed request"
					     : "the node child sent an answer, not a request");
			return;
		}
		if (msg.type == WIRE_PRIV_KERN_LOAD) {
			kern_load(pp, &msg, pfd);
		} else if (msg.type == WIRE_PRIV_KERN_START) {
			kern_start(pp, &msg);
		} else if (msg.type == WIRE_PRIV_KERN_UNLOAD) {
			if (pp->kern)
				kload_code_remove(pp->kern, msg.data);
		} else if (msg.type == WIRE_PRIV_KERN_NODE) {
			kern_node(pp, &msg);
		} else if (msg.type == WIRE_PRIV_KERN_FILTER) {
			kern_filter(pp, &msg);
		} else if (msg.type == WIRE_PRIV_KERN_UP) {
			kern_up(pp);
		} else if (msg.type == WIRE_PRIV_CONFIG_DONE) {
			config_done(pp, &msg);
		} else if (msg.type == WIRE_PRIV_FILTER_ADD) {
			int qfd = -1;
			r = filter_add(pp, &msg, &qfd);
			if (r < 0)
				log_warn("priv: filter %u refused: %s", msg.id, strerror(-r));
			/* The child's first filter is the router's own (its
			 * capsule port): with it in, the node's links are open. */
			if (r == 0 && !pp->notified_ready) {
				pp->notified_ready = true;
				notify_state("READY=1\nSTATUS=router node %s: intercepting, node child %d",
					     pp->cfg->tag, (int)pp->child);
			}
			reply(pp, WIRE_PRIV_FILTER_ADDED, msg.id, r, qfd);
			if (qfd >= 0)
				close(qfd); /* the child has it now: the queue unbinds when it goes */
		} else if (msg.type == WIRE_PRIV_FILTER_DEL) {
			r = filter_del(pp, &msg);
			reply(pp, WIRE_PRIV_FILTER_DELETED, msg.id, r, -1);
		} else if (msg.type == WIRE_PRIV_SVC_START) {
			int sfd = -1;
			pid_t pid = 0;
			r = svc_start(pp, &msg, &sfd, &pid);
			reply_value(pp, WIRE_PRIV_SVC_STARTED, msg.id, r, (uint32_t)pid, sfd);
			if (sfd >= 0)
				close(sfd);
		} else if (msg.type == WIRE_PRIV_SVC_STOP) {
			/* SIGTERM to the service, SIGKILL PRIV_SVC_STOP_MS later
			 * if it is still there (at once if its cgroup is gone);
			 * SIGCHLD tells the node it ended. When only bwrap took
			 * no signal, the program already ended (the node closed
			 * its socket first, and it left on its own): bwrap is on
			 * its way out with the program's status, which a SIGKILL
			 * now would replace with "killed by signal 9". */
			struct priv_service **ps = svc_find_id(pp, msg.id);
			if (ps && !(*ps)->stopping) {
				(*ps)->stopping = true;
				(*ps)->pp = pp;
				if (sandbox_terminate((*ps)->name) >= 0)
					(*ps)->kill_t = loop_timer_add(pp->loop, PRIV_SVC_STOP_MS, svc_kill_late, *ps);
				if (!(*ps)->kill_t)
					kill((*ps)->pid, SIGKILL);
			}
		} else {
			struct priv_service **ps = svc_find_id(pp, msg.id);
			r = ps ? sandbox_freeze((*ps)->name, msg.value) : -ENOENT;
			if (r < 0)
				log_warn("priv: %s instance %u: %s", msg.value ? "freezing" : "thawing", msg.id,
					 strerror(-r));
		}
	}
}

/* ---- the child's life ---- */

static void child_start(void *arg)
{
	struct priv_parent *pp = arg;
	pp->restart_t = NULL;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_err("priv: socketpair: %s", strerror(errno));
		pp->status = 1;
		loop_stop(pp->loop);
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		log_err("priv: fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		pp->status = 1;
		loop_stop(pp->loop);
		return;
	}
	if (pid == 0) {
		/* The child: this program again, with a fresh address space;
		 * only its end of the socket pair (and keep_fd) go with it.
		 * Its own signals come through its own signalfd. */
		close(sv[0]);
		close(pp->sfd);
		notify_forget(); /* the parent speaks for the node to systemd */
		sigset_t none;
		sigemptyset(&none);
		sigaddset(&none, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &none, NULL); /* SIGHUP stays blocked: the node's signalfd takes it */
		int keep[2] = {sv[1], pp->cfg->keep_fd};
		for (int i = 0; i < 2; i++)
			if (keep[i] >= 0)
				fcntl(keep[i], F_SETFD, fcntl(keep[i], F_GETFD) & ~FD_CLOEXEC);
		char fdarg[16];
		snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
		const char *argv[16];
		size_t k = 0;
		argv[k++] = "anoded";
		for (const char *const *a = pp->cfg->child_args; a && *a && k < 12; a++)
			argv[k++] = *a;
		argv[k++] = "--node-child";
		argv[k++] = fdarg;
		argv[k] = NULL;
		execv("/proc/self/exe", (char *const *)argv);
		log_err("priv: cannot run the node child: %s", strerror(errno));
		_exit(1);
	}
	close(sv[1]);
	pp->child = pid;
	pp->chan = sv[0];
	pp->started = now_s();
	if (loop_fd_add(pp->loop, pp->chan, EPOLLIN, chan_readable, pp) < 0) {
		child_kill(pp, "cannot watch the socket pair");
		return;
	}
	log_info("priv: node child %d started (user %s)", (int)pid, pp->cfg->user);
	/* Its configuration: the one in force (the start's, or the last
	 * reload's that a child took), before anything else. */
	int r = config_send(pp, pp->force_fd, pp->force_lens);
	if (r < 0)
		log_err("priv: cannot send the configuration in force to the new node child: %s", strerror(-r));
	/* Then its first figure of the link capacity. */
	if (pp->capacity_t)
		loop_timer_cancel(pp->loop, pp->capacity_t);
	capacity_tick(pp);
}

static void child_kill_late(void *arg)
{
	struct priv_parent *pp = arg;
	pp->kill_t = NULL;
	if (pp->child > 0)
		child_kill(pp, "it did not stop in time");
}

/* The child's module fetcher (src/sig/fetch.c) ends with it (bubblewrap
 * --die-with-parent); its cgroups, which the child may no longer remove,
 * go here. */
static void fetcher_cleanup(struct priv_parent *pp)
{
	char name[96];
	snprintf(name, sizeof(name), SANDBOX_FETCHER_NAME, pp->cfg->tag);
	sandbox_cleanup(name);
}

/* The child is gone: its rules go, and it comes back unless it should not. */
static void child_reaped(struct priv_parent *pp, int wstatus)
{
	pid_t pid = pp->child;
	pp->child = 0;
	if (pp->chan >= 0) {
		loop_fd_del(pp->loop, pp->chan);
		close(pp->chan);
		pp->chan = -1;
	}
	rules_forget_all(pp);
	svc_kill_all(pp);
	fetcher_cleanup(pp);
	kern_stop(pp); /* the next child's code cache starts empty */
	/* A reloaded configuration it did not answer is not in force: the
	 * next child gets the one that is, and this parent keeps its policy. */
	if (pp->pending_fd >= 0) {
		log_warn("priv: configuration %u was not taken before the node child went: the one in force stays",
			 pp->config_gen);
		close(pp->pending_fd);
		pp->pending_fd = -1;
		if (pp->have_pending)
			policy_free(&pp->pending);
		pp->have_pending = pp->pending_none = pp->policy_change = false;
	}
	bool clean = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0;
	if (WIFSIGNALED(wstatus))
		log_err("priv: node child %d killed by signal %d (%s)%s", (int)pid, WTERMSIG(wstatus),
			strsignal(WTERMSIG(wstatus)),
			WTERMSIG(wstatus) == SIGSYS ? ": a system call not on its allow-list" : "");
	else if (!clean)
		log_err("priv: node child %d exited with status %d", (int)pid, WEXITSTATUS(wstatus));
	if (pp->stopping || clean) {
		pp->status = pp->stopping ? 0 : WEXITSTATUS(wstatus);
		loop_stop(pp->loop);
		return;
	}
	time_t now = now_s();
	if (WIFEXITED(wstatus) && now - pp->started < PRIV_START_GRACE_S) {
		log_err("priv: the node child failed as it started: not restarting it");
		pp->status = 1;
		loop_stop(pp->loop);
		return;
	}
	/* Deaths in a ring: the oldest of the last PRIV_RESTART_BURST. */
	time_t oldest = pp->deaths[pp->n_deaths % PRIV_RESTART_BURST];
	pp->deaths[pp->n_deaths % PRIV_RESTART_BURST] = now;
	pp->n_deaths++;
	if (pp->n_deaths >= PRIV_RESTART_BURST && now - oldest < PRIV_RESTART_WINDOW_S) {
		log_err("priv: the node child died %d times in %d s: giving up", PRIV_RESTART_BURST,
			PRIV_RESTART_WINDOW_S);
		pp->status = 1;
		loop_stop(pp->loop);
		return;
	}
	log_info("priv: restarting the node child in %d ms", PRIV_RESTART_MS);
	pp->restart_t = loop_timer_add(pp->loop, PRIV_RESTART_MS, child_start, pp);
	if (!pp->restart_t) {
		pp->status = 1;
		loop_stop(pp->loop);
	}
}

/* The texts a CONFIG carries, in a memfd sealed so that neither side can
 * change them after the parent checked them. The descriptor, or -1. */
static int config_memfd(const struct priv_texts *t)
{
	int fd = memfd_create("anoded-config", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -1;
	const char *parts[2] = {t->config, t->policy};
	size_t lens[2] = {t->config_len, t->policy_len};
	for (int i = 0; i < 2; i++)
		for (size_t off = 0; off < lens[i];) {
			ssize_t k = write(fd, parts[i] + off, lens[i] - off);
			if (k <= 0) {
				close(fd);
				return -1;
			}
			off += (size_t)k;
		}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send the configuration in memfd fd to the child as generation gen. */
static int config_send(struct priv_parent *pp, int fd, const uint32_t lens[2])
{
	struct wire_priv msg = {
	    .type = WIRE_PRIV_CONFIG, .id = ++pp->config_gen, .config_len = lens[0], .policy_len = lens[1]};
	uint8_t buf[WIRE_PRIV_MSG_MAX];
	ssize_t n = wire_priv_build(buf, sizeof(buf), &msg);
	return n < 0 ? (int)n : priv_msg_send(pp->chan, buf, (size_t)n, fd);
}

/* SIGHUP (systemctl reload): read the configuration and its policy again
 * (here, as root: the child reads no file), check them, and send them to
 * the child, which puts them in force as a whole or keeps the ones in
 * force and says why. The new policy becomes this parent's copy (what it
 * checks activations against) once the child took it. */
static void parent_reload(struct priv_parent *pp)
{
	if (!pp->cfg->reread) {
		log_info("priv: SIGHUP: nothing to reload");
		return;
	}
	struct priv_texts t = {0};
	char err[512];
	notify_state("RELOADING=1");
	if (pp->cfg->reread(pp->cfg->arg, &t, err, sizeof(err)) < 0) {
		log_err("priv: reload refused: %s: the configuration in force stays", err);
		notify_state("READY=1\nSTATUS=reload refused: %s", err);
		return;
	}
	struct policy p = {0};
	int r = t.has_policy ? policy_parse(t.policy, t.policy_len, t.policy_name, &p, err, sizeof(err)) : 0;
	int fd = r < 0 || pp->chan < 0 ? -1 : config_memfd(&t);
	if (r < 0 || fd < 0) {
		if (r == 0)
			snprintf(err, sizeof(err), "%s",
				 pp->chan < 0 ? "no node child to send it to" : strerror(errno));
		log_err("priv: reload refused: %s: the configuration in force stays", err);
		notify_state("READY=1\nSTATUS=reload refused: %s", err);
		free(t.config);
		free(t.policy);
		return;
	}
	if (pp->have_pending)
		policy_free(&pp->pending);
	pp->pending = p;
	pp->have_pending = t.has_policy;
	pp->pending_none = !t.has_policy;
	pp->policy_change = true;
	if (pp->pending_fd >= 0)
		close(pp->pending_fd);
	pp->pending_fd = fd;
	pp->pending_lens[0] = (uint32_t)t.config_len;
	pp->pending_lens[1] = (uint32_t)t.policy_len;
	free(t.config);
	free(t.policy);
	r = config_send(pp, fd, pp->pending_lens);
	if (r < 0) {
		log_err("priv: reload: cannot send configuration %u to the node child: %s", pp->config_gen,
			strerror(-r));
		notify_state("READY=1\nSTATUS=reload failed: configuration %u not sent", pp->config_gen);
	} else
		log_info("priv: reload: configuration %u sent to the node child", pp->config_gen);
}

/* The link capacity, measured here over rtnetlink (the child may open no
 * socket) and sent to the child every PRIV_CAPACITY_MS. */
static void capacity_tick(void *arg)
{
	struct priv_parent *pp = arg;
	pp->capacity_t = loop_timer_add(pp->loop, PRIV_CAPACITY_MS, capacity_tick, pp);
	if (pp->chan < 0)
		return;
	int64_t bps = mon_capacity_measure();
	uint64_t kbps = bps > 0 ? (uint64_t)bps / 1000 : 0;
	reply_value(pp, WIRE_PRIV_CAPACITY, 0, 0, kbps > UINT32_MAX ? UINT32_MAX : (uint32_t)kbps, -1);
}

/* The child's word on a configuration it was sent. */
static void config_done(struct priv_parent *pp, const struct wire_priv *msg)
{
	if (msg->id != pp->config_gen) {
		log_warn("priv: the node child answered configuration %u; %u is the last sent", msg->id,
			 pp->config_gen);
		return;
	}
	if (msg->status < 0) {
		log_err("priv: the node child kept its configuration (%s): so does this parent",
			strerror(-msg->status));
		notify_state("READY=1\nSTATUS=reload refused by the node: %s", strerror(-msg->status));
		if (pp->have_pending)
			policy_free(&pp->pending);
		pp->have_pending = pp->pending_none = pp->policy_change = false;
		if (pp->pending_fd >= 0)
			close(pp->pending_fd);
		pp->pending_fd = -1;
		return;
	}
	if (pp->pending_fd >= 0) {
		if (pp->force_fd >= 0)
			close(pp->force_fd);
		pp->force_fd = pp->pending_fd;
		memcpy(pp->force_lens, pp->pending_lens, sizeof(pp->force_lens));
		pp->pending_fd = -1;
	}
	if (pp->policy_change) {
		if (pp->have_policy)
			policy_free(&pp->policy);
		pp->have_policy = pp->have_pending;
		if (pp->have_pending)
			pp->policy = pp->pending;
		memset(&pp->pending, 0, sizeof(pp->pending));
		if (pp->have_policy && !pp->auth)
			pp->auth = svc_auth_new();
	}
	pp->have_pending = pp->pending_none = pp->policy_change = false;
	log_info("priv: configuration %u in force", msg->id);
	notify_state("READY=1\nSTATUS=router node %s: configuration %u in force", pp->cfg->tag, msg->id);
}

static void signal_readable(void *arg, int fd, uint32_t events)
{
	struct priv_parent *pp = arg;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			int ws;
			pid_t pid;
			while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
				if (pid == pp->child) {
					child_reaped(pp, ws);
					continue;
				}
				if (pid == pp->spare.pid) {
					/* It should not die on its own: make another later. */
					pp->spare.pid = 0;
					close(pp->spare.fd);
					pp->spare.fd = -1;
					sandbox_cleanup(pp->spare.name);
					if (!pp->spare_t)
						pp->spare_t = loop_timer_add(pp->loop, 1000, spare_refill, pp);
					continue;
				}
				for (size_t i = 0; i < PRIV_SERVICES_MAX; i++)
					if (pp->svcs[i] && pp->svcs[i]->pid == pid)
						svc_reaped(pp, &pp->svcs[i], ws);
			}
			continue;
		}
		if (si.ssi_signo == SIGHUP) {
			parent_reload(pp);
			continue;
		}
		log_info("priv: signal %u: stopping", si.ssi_signo);
		notify_state("STOPPING=1");
		pp->stopping = true;
		if (pp->restart_t) {
			loop_timer_cancel(pp->loop, pp->restart_t);
			pp->restart_t = NULL;
		}
		if (pp->child > 0) {
			kill(pp->child, SIGTERM);
			if (!pp->kill_t)
				pp->kill_t = loop_timer_add(pp->loop, PRIV_STOP_TIMEOUT_MS, child_kill_late, pp);
		} else {
			loop_stop(pp->loop);
		}
	}
}

int priv_parent_run(const struct priv_parent_config *cfg)
{
	struct priv_parent *pp = calloc(1, sizeof(*pp));
	if (!pp)
		return 1;
	pp->cfg = cfg;
	pp->chan = -1;
	pp->spare.fd = -1;
	pp->sfd = -1;
	pp->pending_fd = pp->force_fd = -1;
	char err[256];
	struct priv_user u;
	if (priv_user_lookup(cfg->user, &u, err, sizeof(err)) < 0) {
		log_err("priv: %s", err);
		free(pp);
		return 1;
	}
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	pp->loop = loop_new();
	pp->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (!pp->loop || pp->sfd < 0 || loop_fd_add(pp->loop, pp->sfd, EPOLLIN, signal_readable, pp) < 0) {
		log_err("priv: cannot start: %s", strerror(errno));
		pp->status = 1;
		goto out;
	}
	if (cfg->policy_text) {
		if (policy_parse(cfg->policy_text, cfg->policy_len, "policy", &pp->policy, err, sizeof(err)) < 0) {
			log_err("priv: %s", err);
			pp->status = 1;
			goto out;
		}
		pp->have_policy = true;
		pp->auth = svc_auth_new();
		if (!pp->auth) {
			pp->status = 1;
			goto out;
		}
		if (sandbox_prepare(err, sizeof(err)) < 0)
			log_warn("priv: services cannot start on this host: %s", err);
		else
			spare_refill(pp);
	}
	/* What the child is given at start: the configuration and policy as
	 * read, sealed; and again to a child started anew. */
	struct priv_texts start = {
	    .config = (char *)cfg->config_text,
	    .config_len = cfg->config_len,
	    .policy = (char *)cfg->policy_text,
	    .policy_len = cfg->policy_text ? cfg->policy_len : 0,
	};
	pp->force_fd = config_memfd(&start);
	pp->force_lens[0] = (uint32_t)start.config_len;
	pp->force_lens[1] = (uint32_t)start.policy_len;
	if (pp->force_fd < 0) {
		log_err("priv: cannot pass the configuration to the node child: %s", strerror(errno));
		pp->status = 1;
		goto out;
	}
	/* What a parent killed with SIGKILL left behind. */
	rules_forget_all(pp);
	child_start(pp);
	if (pp->child > 0 || pp->restart_t)
		loop_run(pp->loop);
	if (pp->child > 0) {
		/* Out of the loop with a child still there: stop it. */
		kill(pp->child, SIGKILL);
		waitpid(pp->child, NULL, 0);
	}
	rules_forget_all(pp);
	svc_kill_all(pp);
	fetcher_cleanup(pp);
	kern_stop(pp);
	if (pp->spare_t)
		loop_timer_cancel(pp->loop, pp->spare_t);
	if (pp->capacity_t)
		loop_timer_cancel(pp->loop, pp->capacity_t);
	sandbox_spare_drop(&pp->spare);
	for (const char *const *p = cfg->unlink_at_exit; p && *p; p++)
		unlink(*p);
out:
	svc_auth_free(pp->auth);
	if (pp->have_policy)
		policy_free(&pp->policy);
	policy_free(&pp->pending);
	if (pp->pending_fd >= 0)
		close(pp->pending_fd);
	if (pp->force_fd >= 0)
		close(pp->force_fd);
	if (pp->chan >= 0)
		close(pp->chan);
	if (pp->sfd >= 0)
		close(pp->sfd);
	loop_free(pp->loop);
	int status = pp->status;
	free(pp);
	return status;
}
