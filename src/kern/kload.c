// SPDX-License-Identifier: MIT
/*
 * The kernel path's loader (kload.h): libbpf for the node's own object,
 * which is built into anoded (kern_tc_obj, made from anode_tc.bpf.c), and
 * plain BPF_PROG_LOAD for code objects' kernel sections, whose instructions
 * were read without libbpf (kobj.c): the parent never parses an ELF object
 * that came from the network.
 */
#include "kern/kload.h"

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

#include "core/log.h"
#include "kern/kcounters.h"
#include "kern/kobj.h"
#include "link/xsk_frame.h"

/* The node's TC object, built into anoded (kern/meson.build). */
extern const unsigned char kern_tc_obj[];
extern const size_t kern_tc_obj_len;

#define KLOAD_IFACES_MAX 32

struct kload_iface {
	int ifindex;
	bool made_hook; /* anode created the clsact qdisc: it goes with anode */
};

struct kload_slot {
	uint8_t name[32];
	int prog_fd, state_fd; /* -1: free */
};

struct kload {
	struct bpf_object *obj;
	int map_fd[KOBJ_MAP_MAX]; /* the shared maps; KOBJ_MAP_STATE is per code */
	int code_fd, counters_fd, filters_fd;
	struct kload_iface ifs[KLOAD_IFACES_MAX];
	size_t n_ifs;
	struct kload_slot slots[AN_KPROGS_MAX]; /* slot 0 is the verdict program's */
	size_t n_code;
	/* AF_XDP (kload_xdp_open): a link per interface, the tables. */
	struct bpf_link *xdp[KLOAD_IFACES_MAX];
	int xfilters_fd, xtop_fd, xsks_fd, xports_fd;
	unsigned n_xports;
	bool xused[XSK_FILTERS_MAX];
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	size_t n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	log_info("kernel path: libbpf: %s", line);
	return 0;
}

static int attach(struct kload *k, int ifindex, int prog_fd)
{
	struct kload_iface *i = &k->ifs[k->n_ifs];
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	int r = bpf_tc_hook_create(&hook);
	if (r < 0 && r != -EEXIST)
		return r;
	i->ifindex = ifindex;
	i->made_hook = r == 0;
	/* Replace: what an anoded killed with SIGKILL left attached (the
	 * kernel keeps an attached program) is taken over, not doubled. */
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .handle = KLOAD_TC_HANDLE,
			    .priority = KLOAD_TC_PRIORITY, .flags = BPF_TC_F_REPLACE);
	r = bpf_tc_attach(&hook, &opts);
	if (r < 0) {
		if (i->made_hook)
			bpf_tc_hook_destroy(&hook);
		return r;
	}
	k->n_ifs++;
	return 0;
}

static void detach(struct kload_iface *i)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = i->ifindex, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = KLOAD_TC_HANDLE, .priority = KLOAD_TC_PRIORITY);
	bpf_tc_detach(&hook, &opts);
	if (i->made_hook) {
		/* The clsact qdisc anode made goes with it (with any filter
		 * someone added to it since: document, not guess). */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}

static int attach_all(struct kload *k, const char *ifaces, int prog_fd, char *err, size_t errlen)
{
	if (strcmp(ifaces, "all") == 0) {
		struct if_nameindex *ni = if_nameindex();
		if (!ni) {
			snprintf(err, errlen, "cannot list interfaces: %s", strerror(errno));
			return -errno;
		}
		int r = 0;
		for (struct if_nameindex *p = ni; p->if_index && r == 0; p++) {
			if (strcmp(p->if_name, "lo") == 0)
				continue;
			if (k->n_ifs == KLOAD_IFACES_MAX) {
				snprintf(err, errlen, "more than %d interfaces", KLOAD_IFACES_MAX);
				r = -E2BIG;
			} else if ((r = attach(k, (int)p->if_index, prog_fd)) < 0) {
				snprintf(err, errlen, "cannot attach to %s: %s", p->if_name, strerror(-r));
			}
		}
		if_freenameindex(ni);
		return r;
	}
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", ifaces);
	char *save = NULL;
	for (char *name = strtok_r(buf, " ", &save); name; name = strtok_r(NULL, " ", &save)) {
		unsigned idx = if_nametoindex(name);
		if (!idx) {
			snprintf(err, errlen, "no interface %s", name);
			return -ENODEV;
		}
		if (k->n_ifs == KLOAD_IFACES_MAX) {
			snprintf(err, errlen, "more than %d interfaces", KLOAD_IFACES_MAX);
			return -E2BIG;
		}
		int r = attach(k, (int)idx, prog_fd);
		if (r < 0) {
			snprintf(err, errlen, "cannot attach to %s: %s", name, strerror(-r));
			return r;
		}
	}
	return 0;
}

int kload_open(const char *ifaces, struct kload **ret, char *err, size_t errlen)
{
	libbpf_set_print(libbpf_print);
	struct kload *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < AN_KPROGS_MAX; i++)
		k->slots[i].prog_fd = k->slots[i].state_fd = -1;
	DECLARE_LIBBPF_OPTS(bpf_object_open_opts, oo, .object_name = "anode_tc");
	k->obj = bpf_object__open_mem(kern_tc_obj, kern_tc_obj_len, &oo);
	int r = libbpf_get_error(k->obj);
	if (r) {
		k->obj = NULL;
		snprintf(err, errlen, "cannot open the node's TC object: %s", strerror(-r));
		goto fail;
	}
	if ((r = bpf_object__load(k->obj)) < 0) {
		snprintf(err, errlen, "the kernel refused the node's TC programs: %s", strerror(-r));
		goto fail;
	}
	static const char *const names[KOBJ_MAP_MAX] = {"an_kscratch", "an_knode", "an_kprogs", NULL, "an_kpkt"};
	for (int m = 0; m < KOBJ_MAP_MAX; m++)
		k->map_fd[m] = names[m] ? bpf_object__find_map_fd_by_name(k->obj, names[m]) : -1;
	k->filters_fd = bpf_object__find_map_fd_by_name(k->obj, "an_kfilters");
	k->code_fd = bpf_object__find_map_fd_by_name(k->obj, "an_kcode");
	k->counters_fd = bpf_object__find_map_fd_by_name(k->obj, "an_kcounters");
	struct bpf_program *disp = bpf_object__find_program_by_name(k->obj, "an_dispatch");
	struct bpf_program *verd = bpf_object__find_program_by_name(k->obj, "an_verdict");
	struct bpf_program *pverd = bpf_object__find_program_by_name(k->obj, "an_pkt_verdict");
	if (!disp || !verd || !pverd || k->map_fd[0] < 0 || k->map_fd[1] < 0 || k->map_fd[2] < 0 ||
	    k->map_fd[KOBJ_MAP_PKT] < 0 || k->code_fd < 0 || k->counters_fd < 0 || k->filters_fd < 0) {
		snprintf(err, errlen, "the node's TC object lacks a program or map");
		r = -EINVAL;
		goto fail;
	}
	uint32_t slot = AN_KSLOT_VERDICT;
	int vfd = bpf_program__fd(verd);
	if ((r = bpf_map_update_elem(k->map_fd[KOBJ_MAP_PROGS], &slot, &vfd, BPF_ANY)) < 0) {
		snprintf(err, errlen, "cannot install the verdict program: %s", strerror(-r));
		goto fail;
	}
	k->slots[AN_KSLOT_VERDICT].prog_fd = -2; /* taken, not ours to close */
	slot = AN_KSLOT_PKT_VERDICT;
	vfd = bpf_program__fd(pverd);
	if ((r = bpf_map_update_elem(k->map_fd[KOBJ_MAP_PROGS], &slot, &vfd, BPF_ANY)) < 0) {
		snprintf(err, errlen, "cannot install the module verdict program: %s", strerror(-r));
		goto fail;
	}
	k->slots[AN_KSLOT_PKT_VERDICT].prog_fd = -2;
	if ((r = attach_all(k, ifaces, bpf_program__fd(disp), err, errlen)) < 0)
		goto fail;
	if (k->n_ifs == 0) {
		snprintf(err, errlen, "no interface to attach to");
		r = -ENODEV;
		goto fail;
	}
	*ret = k;
	return 0;
fail:
	kload_close(k);
	return r;
}

void kload_close(struct kload *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < KLOAD_IFACES_MAX; i++)
		bpf_link__destroy(k->xdp[i]);
	for (size_t i = 0; i < k->n_ifs; i++)
		detach(&k->ifs[i]);
	for (size_t i = 0; i < AN_KPROGS_MAX; i++) {
		if (k->slots[i].prog_fd >= 0)
			close(k->slots[i].prog_fd);
		if (k->slots[i].state_fd >= 0)
			close(k->slots[i].state_fd);
	}
	bpf_object__close(k->obj);
	free(k);
}

int kload_set_node(struct kload *k, const struct an_knode *kn)
{
	uint32_t z = 0;
	return bpf_map_update_elem(k->map_fd[KOBJ_MAP_NODE], &z, kn, BPF_ANY);
}

/* Lower CAP_SYS_ADMIN and CAP_PERFMON in the effective set (or raise them
 * again): the verifier then checks a program as it would one loaded with
 * CAP_BPF and CAP_NET_ADMIN alone. */
static int caps_lower(bool lower)
{
	cap_t caps = cap_get_proc();
	if (!caps)
		return -errno;
	cap_value_t v[] = {CAP_SYS_ADMIN, CAP_PERFMON};
	int r = cap_set_flag(caps, CAP_EFFECTIVE, 2, v, lower ? CAP_CLEAR : CAP_SET) == 0 && cap_set_proc(caps) == 0
		    ? 0
		    : -errno;
	cap_free(caps);
	return r;
}

static long slot_of(const struct kload *k, const uint8_t name[32])
{
	for (size_t i = AN_KSLOT_FIRST_CODE; i < AN_KPROGS_MAX; i++)
		if (k->slots[i].prog_fd >= 0 && memcmp(k->slots[i].name, name, 32) == 0)
			return (long)i;
	return -1;
}

int kload_code(struct kload *k, const uint8_t name[32], const uint8_t *insns, size_t n, uint32_t state_max,
	       char *log, size_t loglen)
{
	log[0] = '\0';
	if (slot_of(k, name) >= 0)
		return -EEXIST;
	size_t slot = AN_KSLOT_FIRST_CODE;
	while (slot < AN_KPROGS_MAX && k->slots[slot].prog_fd != -1)
		slot++;
	if (slot == AN_KPROGS_MAX)
		return -ENOSPC;
	/* Checked again: the instructions come from the node child. */
	int r = kobj_check_insns(insns, n, log, loglen);
	if (r < 0)
		return r;
	uint8_t *prog = malloc(n * 8);
	if (!prog)
		return -ENOMEM;
	memcpy(prog, insns, n * 8);
	DECLARE_LIBBPF_OPTS(bpf_map_create_opts, mo);
	int state_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "an_kstate", sizeof(struct an_key), sizeof(struct an_val),
				      state_max ? state_max : AN_KSTATE_MAX, &mo);
	if (state_fd < 0) {
		free(prog);
		snprintf(log, loglen, "cannot make its soft state map: %s", strerror(-state_fd));
		return state_fd;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t *in = prog + i * 8;
		if (in[0] != 0x18)
			continue;
		if (in[1] >> 4 == 1) {
			int32_t m, fd;
			memcpy(&m, in + 4, 4);
			fd = m == KOBJ_MAP_STATE ? state_fd : k->map_fd[m];
			memcpy(in + 4, &fd, 4);
		}
		i++;
	}
	char pname[16];
	snprintf(pname, sizeof(pname), "an_%02x%02x%02x%02x", name[0], name[1], name[2], name[3]);
	static char vlog[65536];
	vlog[0] = '\0';
	DECLARE_LIBBPF_OPTS(bpf_prog_load_opts, po, .log_buf = vlog, .log_size = sizeof(vlog), .log_level = 0);
	bool lowered = caps_lower(true) == 0;
	int fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, pname, "Dual MIT/GPL", (const struct bpf_insn *)prog, n, &po);
	if (fd < 0 && !vlog[0]) {
		/* Ask again with the log on: the verifier says why. */
		po.log_level = 1;
		fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, pname, "Dual MIT/GPL", (const struct bpf_insn *)prog, n,
				   &po);
	}
	if (lowered)
		caps_lower(false);
	free(prog);
	if (fd < 0) {
		/* The verifier's last lines say why. */
		size_t len = strlen(vlog);
		const char *tail = vlog;
		while (len && (vlog[len - 1] == '\n' || vlog[len - 1] == ' '))
			vlog[--len] = '\0';
		int lines = 0;
		for (size_t i = len; i > 0; i--)
			if (vlog[i - 1] == '\n' && ++lines == 3) {
				tail = vlog + i;
				break;
			}
		snprintf(log, loglen, "the kernel's verifier refused it (%s)%s%s", strerror(-fd), tail[0] ? ": " : "",
			 tail);
		for (char *c = log; *c; c++)
			if (*c == '\n')
				*c = ' ';
		close(state_fd);
		return -EINVAL;
	}
	uint32_t s = (uint32_t)slot;
	uint64_t key;
	struct an_kcode_entry ke = {.slot = s};
	memcpy(&key, name, sizeof(key));
	memcpy(ke.name, name, 32);
	/* Two names that share their first 8 octets: the second stays in
	 * user space (BPF_NOEXIST). */
	if ((r = bpf_map_update_elem(k->map_fd[KOBJ_MAP_PROGS], &s, &fd, BPF_ANY)) < 0 ||
	    (r = bpf_map_update_elem(k->code_fd, &key, &ke, BPF_NOEXIST)) < 0) {
		bpf_map_delete_elem(k->map_fd[KOBJ_MAP_PROGS], &s);
		close(fd);
		close(state_fd);
		snprintf(log, loglen, "cannot install it: %s", strerror(-r));
		return r;
	}
	memcpy(k->slots[slot].name, name, 32);
	k->slots[slot].prog_fd = fd;
	k->slots[slot].state_fd = state_fd;
	k->n_code++;
	return 0;
}

int kload_code_remove(struct kload *k, const uint8_t name[32])
{
	long slot = slot_of(k, name);
	if (slot < 0)
		return -ENOENT;
	uint32_t s = (uint32_t)slot;
	/* The name first, so that no new capsule reaches the slot. */
	uint64_t key;
	memcpy(&key, name, sizeof(key));
	bpf_map_delete_elem(k->code_fd, &key);
	bpf_map_delete_elem(k->map_fd[KOBJ_MAP_PROGS], &s);
	close(k->slots[slot].prog_fd);
	close(k->slots[slot].state_fd);
	k->slots[slot].prog_fd = k->slots[slot].state_fd = -1;
	k->n_code--;
	return 0;
}

int kload_code_state_fd(const struct kload *k, const uint8_t name[32])
{
	long slot = slot_of(k, name);
	return slot < 0 ? -ENOENT : k->slots[slot].state_fd;
}

int kload_filter_set(struct kload *k, unsigned index, const struct an_kfilter *f, const uint8_t name[32])
{
	if (index >= AN_KFILTERS_MAX)
		return -ERANGE;
	struct an_kfilter v = {0};
	if (f) {
		long slot = slot_of(k, name);
		if (slot < 0)
			return -ENOENT;
		v = *f;
		v.slot = (uint32_t)slot;
		v.active = 1;
		/* Only what a mask lets through may be set. */
		v.src &= v.src_mask;
		v.dst &= v.dst_mask;
	}
	uint32_t i = index;
	return bpf_map_update_elem(k->filters_fd, &i, &v, BPF_ANY) < 0 ? -errno : 0;
}

size_t kload_code_count(const struct kload *k)
{
	return k->n_code;
}

int kload_counters_fd(const struct kload *k)
{
	return k->counters_fd;
}

size_t kload_ifaces(const struct kload *k)
{
	return k->n_ifs;
}

int kload_ifindex(const struct kload *k, size_t i)
{
	return i < k->n_ifs ? k->ifs[i].ifindex : -1;
}

int kload_xdp_open(struct kload *k, char *err, size_t errlen)
{
	if (k->xdp[0])
		return 0;
	struct bpf_program *up = bpf_object__find_program_by_name(k->obj, "an_xdp_up");
	k->xfilters_fd = bpf_object__find_map_fd_by_name(k->obj, "an_xfilters");
	k->xtop_fd = bpf_object__find_map_fd_by_name(k->obj, "an_xtop");
	k->xsks_fd = bpf_object__find_map_fd_by_name(k->obj, "an_xsks");
	k->xports_fd = bpf_object__find_map_fd_by_name(k->obj, "an_xports");
	if (!up || k->xfilters_fd < 0 || k->xtop_fd < 0 || k->xsks_fd < 0 || k->xports_fd < 0) {
		snprintf(err, errlen, "the node's TC object lacks its XDP program or maps");
		return -EINVAL;
	}
	for (size_t i = 0; i < k->n_ifs; i++) {
		/* No mode asked: the driver's own XDP where it has one
		 * (veth does), the generic one elsewhere. */
		struct bpf_link *l = bpf_program__attach_xdp(up, k->ifs[i].ifindex);
		int r = libbpf_get_error(l);
		if (r) {
			char name[IF_NAMESIZE] = "?";
			if_indextoname((unsigned)k->ifs[i].ifindex, name);
			snprintf(err, errlen, "cannot attach the XDP program to %s: %s%s", name, strerror(-r),
				 r == -EBUSY || r == -EEXIST ? " (it has an XDP program of another)" : "");
			for (size_t j = 0; j < i; j++) {
				bpf_link__destroy(k->xdp[j]);
				k->xdp[j] = NULL;
			}
			return r;
		}
		k->xdp[i] = l;
	}
	return 0;
}

int kload_xsks_fd(const struct kload *k)
{
	return k->xdp[0] ? k->xsks_fd : -1;
}

int kload_xport(struct kload *k, unsigned ifindex, unsigned queue)
{
	if (!k->xdp[0])
		return -ENOTCONN;
	if (k->n_xports == XSK_PORTS_MAX)
		return -ENOSPC;
	uint64_t key = (uint64_t)ifindex << 32 | queue;
	uint32_t slot = k->n_xports;
	if (bpf_map_update_elem(k->xports_fd, &key, &slot, BPF_NOEXIST) < 0)
		return -errno;
	k->n_xports++;
	return (int)slot;
}

int kload_xfilter_set(struct kload *k, unsigned id, const struct an_kfilter *f)
{
	if (id >= XSK_FILTERS_MAX)
		return -ERANGE;
	if (!k->xdp[0])
		return 0;
	struct an_kfilter v = {0};
	if (f) {
		v = *f; /* the parent's own (kfilter_of): masked already */
		v.active = 1;
	}
	uint32_t i = id, z = 0, top = 0;
	/* The entry first, then the bound: a walk in between finds the
	 * entry inactive, or stops before it. */
	if (bpf_map_update_elem(k->xfilters_fd, &i, &v, BPF_ANY) < 0)
		return -errno;
	k->xused[id] = f != NULL;
	for (unsigned j = 0; j < XSK_FILTERS_MAX; j++)
		if (k->xused[j])
			top = j + 1;
	return bpf_map_update_elem(k->xtop_fd, &z, &top, BPF_ANY) < 0 ? -errno : 0;
}
