// SPDX-License-Identifier: MIT
/*
 * The kern room (docs/kernel.md): PAN's kernel node, in the node child.
 *
 * With `kernel-path` set in router mode, the room asks the privileged
 * parent to attach the node's TC programs to the router's interfaces, then
 * keeps the kernel's table of code in step with the node's code cache:
 * every capsule code object that enters the cache with a kernel section has
 * that section read and checked here (kobj.c) and its instructions sent to
 * the parent, which checks them again and loads them; every one that leaves
 * the cache is unloaded. Capsules whose code is loaded are run in the
 * kernel; the others, and every run the kernel hands up, come to the
 * user-space node through NFQUEUE as before. The kernel path's counters
 * are an mmap-ed map, read here without a system call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/types.h>

#include "anode/kernel.h"
#include "capsule/capsule.h"
#include "core/log.h"
#include "kern/kcounters.h"
#include "kern/kern.h"
#include "kern/kfilter.h"
#include "kern/kobj.h"
#include "link/match.h"
#include "link/xsk.h"
#include "node/room.h"
#include "priv/priv.h"
#include "wire/wire.h"

#define KERN_IFACES_MAX 256

struct kern_config {
	char ifaces[KERN_IFACES_MAX]; /* "off", "all", or names separated by commas */
	bool stack;		      /* kernel-forward stack: capsules sent on go through the stack */
	char up[16];		      /* kernel-up: "nfqueue" or "afxdp" */
};

/* What goes up to the node: by NFQUEUE alone, or by AF_XDP too. */
enum kern_up_state { UP_NFQUEUE, UP_ASKED, UP_AFXDP, UP_FAILED };

enum kern_entry_state { KE_PENDING, KE_SENT, KE_LOADED, KE_REFUSED };

/* A loaded code object's soft state: its BPF map, shared with the kernel
 * program (the EE keeps the object's state here, ee_code_state_external). */
struct kern_state {
	int fd;
	uint64_t errors; /* map operations that failed for another reason than absence */
};

/* A cached code object with a kernel section. */
struct kern_entry {
	uint8_t name[32];
	enum kern_entry_state state;
	unsigned id;	/* of its last KERN_LOAD */
	uint8_t *insns; /* while PENDING */
	size_t n;
	char why[160]; /* REFUSED: the verifier's or the checker's words */
	struct kern_state *kstate; /* LOADED: its soft state map */
};

#define KERN_COUNTERS_ROOM(X)                                                                                          \
	X(sections_seen, "code objects cached with a kernel section")                                                  \
	X(sections_refused_here, "kernel sections this node's checker refused (kobj)")                               \
	X(loaded, "kernel sections the kernel loaded")                                                                 \
	X(refused, "kernel sections the parent or the kernel's verifier refused")                                     \
	X(unloaded, "kernel sections unloaded as their code left the cache")

struct kern_room_counters {
	KERN_COUNTERS_ROOM(STAT_FIELD)
};

/* A filter whose module should run in the kernel (kern_filter_bind): an
 * entry of the kernel path's filter table once the module is loaded. */
struct kern_bind {
	bool used, sent;
	unsigned filter_id;
	uint8_t name[32];
	struct an_kfilter f;
};

struct kern_room {
	struct node *n;
	struct kern_bind binds[AN_KFILTERS_MAX];
	struct kern_config cfg;
	bool asked, ready;
	char off_why[256];
	const struct kern_counters *rows; /* the counters map, mmap-ed read-only */
	size_t rows_len;
	struct kern_entry entries[AN_KPROGS_MAX];
	size_t n_entries;
	unsigned next_id;
	struct loop_timer *send_t;
	struct kern_room_counters c;
	/* AF_XDP (kernel-up afxdp): the parent's pieces as they come. */
	enum kern_up_state up;
	char up_why[160];
	int xsks_fd, umem_fd;
	struct wire_priv_kxsk umem;
	unsigned umem_slot;
	size_t n_ports;
};

static struct kern_entry *entry_find(struct kern_room *r, const uint8_t name[32])
{
	for (size_t i = 0; i < r->n_entries; i++)
		if (memcmp(r->entries[i].name, name, 32) == 0)
			return &r->entries[i];
	return NULL;
}

static void entry_drop(struct kern_room *r, struct kern_entry *e)
{
	if (e->kstate) {
		close(e->kstate->fd);
		free(e->kstate);
	}
	free(e->insns);
	*e = r->entries[--r->n_entries];
}

/* Send what waits; a memfd cannot wait in the channel's queue, so -EAGAIN
 * leaves it for the next tick. */
static void send_pending(struct kern_room *r)
{
	if (!r->ready)
		return;
	for (size_t i = 0; i < r->n_entries; i++) {
		struct kern_entry *e = &r->entries[i];
		if (e->state != KE_PENDING)
			continue;
		e->id = ++r->next_id;
		/* The soft state map holds what the owner's quota lets the
		 * EE's table hold (set once the object was cached). */
		size_t cap = ee_code_state_cap(r->n->ee, e->name);
		int rc = priv_chan_kern_load(r->n->priv, e->id, e->name, (uint32_t)(cap < AN_KSTATE_MAX ? cap : AN_KSTATE_MAX),
					     e->insns, e->n);
		if (rc == -EAGAIN)
			return;
		free(e->insns);
		e->insns = NULL;
		if (rc < 0) {
			e->state = KE_REFUSED;
			snprintf(e->why, sizeof(e->why), "cannot ask the parent: %s", strerror(-rc));
		} else {
			e->state = KE_SENT;
		}
	}
}

/* Put the binds of a loaded module into the kernel's filter table, or
 * (loaded false) take them out. */
static void binds_sync(struct kern_room *r, const uint8_t name[32], bool loaded)
{
	for (unsigned i = 0; i < AN_KFILTERS_MAX; i++) {
		struct kern_bind *b = &r->binds[i];
		if (!b->used || memcmp(b->name, name, 32) != 0 || b->sent == loaded)
			continue;
		if (priv_chan_kern_filter(r->n->priv, i, b->name, loaded ? &b->f : NULL) == 0)
			b->sent = loaded;
	}
}

void kern_filter_bind(void *room, unsigned filter_id, const struct match_filter *mf, const uint8_t name[32])
{
	struct kern_room *r = room;
	if (!r->asked)
		return;
	struct kern_bind *b = NULL;
	for (unsigned i = 0; i < AN_KFILTERS_MAX && !b; i++)
		if (!r->binds[i].used)
			b = &r->binds[i];
	if (!b) {
		log_ratelimited(LOG_INFO, "kernel path: %d filters run modules in the kernel already; this one runs "
					  "in user space",
				AN_KFILTERS_MAX);
		return;
	}
	*b = (struct kern_bind){.used = true, .filter_id = filter_id};
	memcpy(b->name, name, 32);
	b->f = kfilter_of(mf, filter_id);
	struct kern_entry *e = entry_find(r, name);
	if (r->ready && e && e->state == KE_LOADED)
		binds_sync(r, name, true);
}

void kern_filter_unbind(void *room, unsigned filter_id)
{
	struct kern_room *r = room;
	for (unsigned i = 0; i < AN_KFILTERS_MAX; i++) {
		struct kern_bind *b = &r->binds[i];
		if (!b->used || b->filter_id != filter_id)
			continue;
		if (b->sent)
			priv_chan_kern_filter(r->n->priv, i, NULL, NULL);
		b->used = b->sent = false;
	}
}

static void send_soon(void *arg)
{
	struct kern_room *r = arg;
	r->send_t = NULL;
	send_pending(r);
}

static void kern_code_cached(void *room, const uint8_t name[32], const struct ee_kind *kind, const void *elf,
			     size_t len)
{
	struct kern_room *r = room;
	size_t off, klen;
	bool runs_here = kind == &ee_kind_capsule || strcmp(kind->name, "module") == 0;
	if (!r->asked || !runs_here || kobj_find(elf, len, &off, &klen) < 0 || entry_find(r, name))
		return;
	r->c.sections_seen++;
	if (r->n_entries == AN_KPROGS_MAX - 1) {
		log_ratelimited(LOG_INFO, "kernel path: %d code objects in the kernel already; this one runs in user space",
				AN_KPROGS_MAX - 1);
		return;
	}
	struct kern_entry *e = &r->entries[r->n_entries++];
	memset(e, 0, sizeof(*e));
	memcpy(e->name, name, 32);
	int rc = kobj_read((const uint8_t *)elf + off, klen, &e->insns, &e->n, e->why, sizeof(e->why));
	if (rc < 0) {
		e->state = KE_REFUSED;
		if (rc == -ENOMEM)
			snprintf(e->why, sizeof(e->why), "out of memory");
		r->c.sections_refused_here++;
		log_info("kernel path: code %02x%02x%02x%02x stays in user space: %s", name[0], name[1], name[2], name[3],
			 e->why);
		return;
	}
	e->state = KE_PENDING;
	/* Sent from the loop, not now: whoever inserted the object sets its
	 * soft state quota right after the insert (src/svc/module.c). */
	if (!r->send_t)
		r->send_t = loop_timer_add(r->n->loop, 0, send_soon, r);
}

static void kern_code_gone(void *room, const uint8_t name[32])
{
	struct kern_room *r = room;
	struct kern_entry *e = entry_find(r, name);
	if (!e)
		return;
	binds_sync(r, name, false);
	if (e->state == KE_SENT || e->state == KE_LOADED) {
		priv_chan_kern_unload(r->n->priv, name);
		r->c.unloaded++;
	}
	entry_drop(r, e);
}

static void kern_ready(void *arg, int err, const char *why, int counters_fd)
{
	struct kern_room *r = arg;
	if (err < 0) {
		snprintf(r->off_why, sizeof(r->off_why), "%s", why[0] ? why : strerror(-err));
		log_warn("kernel path off: %s (capsules run in user space)", r->off_why);
		return;
	}
	size_t len = AN_KCPUS_MAX * sizeof(struct kern_counters);
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, counters_fd, 0);
	close(counters_fd);
	if (m == MAP_FAILED) {
		log_warn("kernel path: cannot map its counters: %s", strerror(errno));
	} else {
		r->rows = m;
		r->rows_len = len;
	}
	r->ready = true;
	r->off_why[0] = '\0';
	log_info("kernel path on (%s)", r->cfg.ifaces);
	send_pending(r);
	if (strcmp(r->cfg.up, "afxdp") == 0 && r->up == UP_NFQUEUE) {
		int rc = priv_chan_kern_up(r->n->priv);
		if (rc < 0) {
			r->up = UP_FAILED;
			snprintf(r->up_why, sizeof(r->up_why), "cannot ask the parent: %s", strerror(-rc));
		} else {
			r->up = UP_ASKED;
		}
	}
}

/* ---- what goes up, by AF_XDP (link/xsk.h) ---- */

static void up_failed(struct kern_room *r, const char *why, int err)
{
	if (r->up == UP_FAILED)
		return;
	r->up = UP_FAILED;
	snprintf(r->up_why, sizeof(r->up_why), "%s%s%s", why, err ? ": " : "", err ? strerror(-err) : "");
	log_warn("AF_XDP off: %s (what goes up comes by NFQUEUE)", r->up_why);
}

/* One of the parent's pieces: the socket map, the raw socket, then a
 * UMEM and its socket per interface and queue, then DONE. */
static void kern_xsk(void *arg, unsigned id, const struct wire_priv_kxsk *x, int err, const char *why, int fd)
{
	struct kern_room *r = arg;
	struct match_engine *m = r->n->match;
	if (x->kind == WIRE_PRIV_KXSK_DONE) {
		if (err < 0)
			up_failed(r, why[0] ? why : "the parent could not set it up", why[0] ? 0 : err);
		else if (r->up != UP_FAILED && r->n_ports)
			r->up = UP_AFXDP;
		else
			up_failed(r, "no socket could be bound", 0);
		if (r->up == UP_AFXDP)
			log_info("AF_XDP on: %zu socket%s", r->n_ports, r->n_ports == 1 ? "" : "s");
		return;
	}
	if (fd < 0 || !m || r->up == UP_FAILED) {
		if (fd >= 0)
			close(fd);
		if (!m)
			up_failed(r, "no matching engine", 0);
		return;
	}
	switch (x->kind) {
	case WIRE_PRIV_KXSK_MAP:
		if (r->xsks_fd >= 0)
			close(r->xsks_fd);
		r->xsks_fd = fd;
		break;
	case WIRE_PRIV_KXSK_RAW: {
		struct xsk_out *o = xsk_out_new(fd);
		if (!o)
			up_failed(r, "no memory", -ENOMEM);
		else
			match_xsk_out(m, o);
		break;
	}
	case WIRE_PRIV_KXSK_UMEM:
		if (r->umem_fd >= 0)
			close(r->umem_fd);
		r->umem_fd = fd;
		r->umem = *x;
		r->umem_slot = id;
		break;
	case WIRE_PRIV_KXSK_SOCKET: {
		if (r->umem_fd < 0 || r->umem.ifindex != x->ifindex || r->umem.queue != x->queue || r->umem_slot != id ||
		    r->xsks_fd < 0) {
			close(fd);
			up_failed(r, "the parent's pieces came out of order", -EPROTO);
			break;
		}
		struct xsk_port *p;
		int mem = r->umem_fd;
		r->umem_fd = -1;
		int rc = xsk_port_open(fd, mem, r->umem.umem_len, r->umem.frame, x->ifindex, x->queue, &p);
		if (rc < 0) {
			up_failed(r, "cannot bind a socket", rc);
			break;
		}
		/* Into the XDP program's map at the slot the parent chose
		 * (the message's id); the entry goes when the socket does. */
		uint32_t slot = r->umem_slot;
		int sfd = xsk_port_fd(p);
		if (bpf_map_update_elem(r->xsks_fd, &slot, &sfd, BPF_ANY) < 0) {
			rc = -errno;
			xsk_port_close(p);
			up_failed(r, "cannot put a socket in the XDP program's map", rc);
			break;
		}
		if ((rc = match_xsk_add(m, p)) < 0) {
			up_failed(r, "the matching engine cannot read a socket", rc);
			break;
		}
		r->n_ports++;
		break;
	}
	default:
		close(fd);
		break;
	}
}

/* ---- soft state in the kernel path's map (struct ee_state_ops) ---- */

static int ks_get(void *arg, const struct an_key *key, struct an_val *ret)
{
	struct kern_state *ks = arg;
	if (bpf_map_lookup_elem(ks->fd, key, ret) == 0)
		return 0;
	if (errno != ENOENT)
		ks->errors++;
	return -ENOENT;
}

static int ks_put(void *arg, const struct an_key *key, const struct an_val *val)
{
	struct kern_state *ks = arg;
	if (bpf_map_update_elem(ks->fd, key, val, BPF_ANY) == 0)
		return 0;
	ks->errors++;
	return -ENOSPC;
}

static int ks_del(void *arg, const struct an_key *key)
{
	struct kern_state *ks = arg;
	return bpf_map_delete_elem(ks->fd, key) == 0 ? 0 : -ENOENT;
}

static size_t ks_each(void *arg, size_t max, void (*fn)(void *, const struct an_key *, const struct an_val *),
		      void *fnarg)
{
	struct kern_state *ks = arg;
	struct an_key key, next;
	struct an_val val;
	size_t k = 0;
	const void *prev = NULL;
	while (k < max && bpf_map_get_next_key(ks->fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(ks->fd, &key, &val) == 0 && fn) {
			fn(fnarg, &key, &val);
			k++;
		} else if (!fn) {
			k++;
		}
	}
	return k;
}

static size_t ks_count(void *arg)
{
	return ks_each(arg, AN_KSTATE_MAX, NULL, NULL);
}

static const struct ee_state_ops kern_state_ops = {
    .get = ks_get, .put = ks_put, .del = ks_del, .each = ks_each, .count = ks_count,
};

static void kern_loaded(void *arg, unsigned id, int err, const char *log, int state_fd)
{
	struct kern_room *r = arg;
	for (size_t i = 0; i < r->n_entries; i++) {
		struct kern_entry *e = &r->entries[i];
		if (e->state != KE_SENT || e->id != id)
			continue;
		if (err < 0) {
			e->state = KE_REFUSED;
			snprintf(e->why, sizeof(e->why), "%s", log[0] ? log : strerror(-err));
			r->c.refused++;
			log_info("kernel path: code %02x%02x%02x%02x stays in user space: %s", e->name[0], e->name[1],
				 e->name[2], e->name[3], e->why);
		} else {
			e->state = KE_LOADED;
			r->c.loaded++;
			/* One soft state for both paths: the EE's entries move
			 * into the map, and the EE uses the map from now on. */
			struct kern_state *ks = state_fd >= 0 ? calloc(1, sizeof(*ks)) : NULL;
			if (ks) {
				ks->fd = state_fd;
				state_fd = -1;
				e->kstate = ks;
				ee_code_state_external(r->n->ee, e->name, &kern_state_ops, ks);
			} else {
				log_warn("kernel path: code %02x%02x%02x%02x: no shared soft state; its state in the "
					 "two paths differs",
					 e->name[0], e->name[1], e->name[2], e->name[3]);
			}
			log_info("kernel path: code %02x%02x%02x%02x runs in the kernel", e->name[0], e->name[1],
				 e->name[2], e->name[3]);
			binds_sync(r, e->name, true);
		}
	}
	if (state_fd >= 0)
		close(state_fd);
}

/* The node's figures, for an_node_info() and an_local_addr() in the
 * kernel: its address at start (the monitors start after the rooms, so
 * the figures come with the first tick), then all of it once a second. */
static void send_node(struct kern_room *r, bool figures)
{
	struct an_knode kn = {.local = r->n->local, .mark = AN_KMARK, .flags = r->cfg.stack ? 0 : AN_KNODE_REDIRECT};
	const void *cr = node_room_state(r->n, "capsule");
	kn.max_copies = cr ? (uint32_t)capsule_room_max_copies(cr) : 0;
	for (uint64_t w = 1; figures && w < AN_KINFO_MAX; w++)
		kn.info[w] = w == AN_INFO_RX_NS ? 0 : figures_node_info(r->n, w);
	priv_chan_kern_node(r->n->priv, &kn);
}

static void kern_tick(void *room)
{
	struct kern_room *r = room;
	if (!r->asked)
		return;
	send_node(r, true);
	send_pending(r);
}

static bool ifaces_ok(const char *w)
{
	if (!*w || strlen(w) >= KERN_IFACES_MAX)
		return false;
	for (; *w; w++)
		if (!((*w >= 'a' && *w <= 'z') || (*w >= 'A' && *w <= 'Z') || (*w >= '0' && *w <= '9') || *w == ',' ||
		      *w == '-' || *w == '_' || *w == '.'))
			return false;
	return true;
}

static bool up_ok(const char *w)
{
	return strcmp(w, "nfqueue") == 0 || strcmp(w, "afxdp") == 0;
}

static int kern_init(struct node *n, const void *cfg, void **ret_state)
{
	struct kern_room *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->n = n;
	memcpy(&r->cfg, cfg, sizeof(r->cfg));
	r->xsks_fd = r->umem_fd = -1;
	*ret_state = r;
	if (strcmp(r->cfg.ifaces, "off") == 0)
		return 0;
	if (!n->cfg.router || !n->priv) {
		snprintf(r->off_why, sizeof(r->off_why), "only a router node (mode router) has a kernel path");
		log_warn("kernel-path %s: %s", r->cfg.ifaces, r->off_why);
		return 0;
	}
	char list[KERN_IFACES_MAX];
	snprintf(list, sizeof(list), "%s", r->cfg.ifaces);
	for (char *c = list; *c; c++)
		if (*c == ',')
			*c = ' ';
	priv_chan_set_kern_handler(n->priv, &(struct priv_kern_handler){
						.ready = kern_ready, .loaded = kern_loaded, .arg = r, .xsk = kern_xsk});
	/* The figures before the start, so that the first capsule sees them. */
	r->asked = true;
	int rc = priv_chan_kern_start(n->priv, list);
	if (rc == 0)
		send_node(r, false);
	else
		log_warn("kernel path: cannot ask the parent: %s", strerror(-rc));
	return 0;
}

static void kern_done(void *room)
{
	struct kern_room *r = room;
	if (!r)
		return;
	if (r->send_t)
		loop_timer_cancel(r->n->loop, r->send_t);
	while (r->n_entries)
		entry_drop(r, &r->entries[r->n_entries - 1]);
	if (r->rows)
		munmap((void *)r->rows, r->rows_len);
	if (r->xsks_fd >= 0)
		close(r->xsks_fd);
	if (r->umem_fd >= 0)
		close(r->umem_fd);
	free(r);
}

static void counters_sum(const struct kern_room *r, uint64_t ret[KERN_C_MAX])
{
	memset(ret, 0, sizeof(uint64_t) * KERN_C_MAX);
	if (!r->rows)
		return;
	for (size_t cpu = 0; cpu < AN_KCPUS_MAX; cpu++)
		for (size_t i = 0; i < KERN_C_MAX; i++)
			ret[i] += __atomic_load_n(&r->rows[cpu].c[i], __ATOMIC_RELAXED);
}

static size_t count_state(const struct kern_room *r, enum kern_entry_state s)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n_entries; i++)
		k += r->entries[i].state == s;
	return k;
}

static void kern_stats(void *room, struct stat_list *l)
{
	struct kern_room *r = room;
	if (!r->asked)
		return;
	struct stat_section *sec = stat_list_add(l, "kernel_path", "PAN's kernel node: capsules run by TC programs");
	if (!sec)
		return;
	uint64_t c[KERN_C_MAX];
	counters_sum(r, c);
	stat_add(sec, "on", "1 when the kernel path runs on the router's interfaces", r->ready);
	stat_add(sec, "code_loaded", "code objects whose kernel section runs in the kernel now",
		 count_state(r, KE_LOADED));
	stat_add(sec, "afxdp", "1 when what goes up to the node comes by AF_XDP (kernel-up afxdp)", r->up == UP_AFXDP);
	stat_add(sec, "afxdp_sockets", "AF_XDP sockets the node reads", r->n_ports);
#define KERN_STAT_ROW(name, help) stat_add_counter(sec, #name, help, c[KERN_C_##name]);
	KERN_COUNTERS(KERN_STAT_ROW)
#undef KERN_STAT_ROW
	STAT_ADD_ALL(sec, &r->c, KERN_COUNTERS_ROOM);
}

static const char *state_name(enum kern_entry_state s)
{
	return s == KE_PENDING ? "pending" : s == KE_SENT ? "loading" : s == KE_LOADED ? "kernel" : "refused";
}

/* "kernel [json]": whether the kernel path runs, and the code in it. */
static int kern_ctl(void *room, int argc, char **argv, struct ctl_out *o)
{
	struct kern_room *r = room;
	bool json = argc > 1 && (!strcmp(argv[1], "json") || !strcmp(argv[1], "--json"));
	if (argc > 1 && !json) {
		ctl_printf(o, "usage: kernel [json]\n");
		return -EINVAL;
	}
	const char *status = !r->asked ? "off" : r->ready ? "on" : r->off_why[0] ? "failed" : "starting";
	const char *up = r->up == UP_AFXDP ? "afxdp" : r->up == UP_ASKED ? "starting" : r->up == UP_FAILED ? "failed" : "nfqueue";
	if (json) {
		ctl_printf(o, "{\"kernel_path\":\"%s\",\"interfaces\":", status);
		ctl_json_string(o, r->cfg.ifaces);
		ctl_printf(o, ",\"why\":");
		ctl_json_string(o, r->off_why);
		ctl_printf(o, ",\"up\":\"%s\",\"afxdp_sockets\":%zu,\"up_why\":", up, r->n_ports);
		ctl_json_string(o, r->up_why);
		ctl_printf(o, ",\"code\":[");
	} else {
		ctl_printf(o, "kernel path: %s (interfaces: %s)%s%s\n", status, r->cfg.ifaces, r->off_why[0] ? ": " : "",
			   r->off_why);
		ctl_printf(o, "up to the node: %s", up);
		if (r->up == UP_AFXDP)
			ctl_printf(o, " (%zu socket%s; NFQUEUE for the rest)", r->n_ports, r->n_ports == 1 ? "" : "s");
		ctl_printf(o, "%s%s\n", r->up_why[0] ? ": " : "", r->up_why);
	}
	for (size_t i = 0; i < r->n_entries; i++) {
		const struct kern_entry *e = &r->entries[i];
		char hex[65];
		for (int k = 0; k < 32; k++)
			snprintf(hex + 2 * k, 3, "%02x", e->name[k]);
		if (json) {
			ctl_printf(o, "%s{\"name\":\"%s\",\"state\":\"%s\",\"why\":", i ? "," : "", hex,
				   state_name(e->state));
			ctl_json_string(o, e->why);
			ctl_printf(o, "}");
		} else {
			ctl_printf(o, "%s  %-8s %s\n", hex, state_name(e->state), e->why);
		}
	}
	if (json)
		ctl_printf(o, "]}\n");
	return 0;
}

static const struct ctl_command kern_commands[] = {
    {"kernel", "kernel [json] (the kernel path and the code it runs)", kern_ctl, NULL, 1},
    {NULL, NULL, NULL, NULL, 0},
};

static const struct conf_directive kern_directives[] = {
    CONF_WORD_AT("kernel-path", "off|all|IFACE[,IFACE...]",
		 "router mode: run capsules whose code has a kernel section in the kernel (TC programs at the "
		 "ingress of these interfaces, or of all but lo); everything else still reaches the node through "
		 "NFQUEUE (docs/kernel.md)",
		 struct kern_config, ifaces, ifaces_ok, "interface names separated by commas, all, or off", "off"),
    CONF_YESNO("kernel-via-stack",
	       "yes: capsules the kernel path sends on go through the kernel's stack (routing, netfilter's FORWARD "
	       "and POSTROUTING, neighbour resolution), marked so that the node's NFQUEUE rule lets them pass; no: "
	       "the kernel path forwards them itself (FIB lookup, TTL, redirect), past netfilter, and only what the "
	       "FIB cannot answer at once goes through the stack",
	       struct kern_config, stack, false),
    CONF_WORD_AT("kernel-up", "nfqueue|afxdp",
		 "with kernel-path: how packets that go up to the user-space node reach it. afxdp: an XDP program on "
		 "the kernel path's interfaces sends what the node's filters take (and the TC programs would not "
		 "finish) to AF_XDP sockets, and what the node lets go on leaves by a raw socket; NFQUEUE stays "
		 "for the rest, and for everything when the node is gone (fail-open). nfqueue: NFQUEUE alone",
		 struct kern_config, up, up_ok, "nfqueue or afxdp", "nfqueue"),
    CONF_END,
};

static const struct room kern_room = {
    .name = "kern",
    .rank = 25, /* after the capsule room, whose max-copies it reads */
    .cfg_size = sizeof(struct kern_config),
    .directives = kern_directives,
    .init = kern_init,
    .done = kern_done,
    .commands = kern_commands,
    .stats = kern_stats,
    .tick = kern_tick,
    .code_cached = kern_code_cached,
    .code_gone = kern_code_gone,
};

ROOM_REGISTER(kern_room);
