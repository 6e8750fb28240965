/* SPDX-License-Identifier: MIT */
/*
 * The kernel path's loader (docs/kernel.md), in the privileged parent: it
 * loads the node's own TC programs (anode_tc.bpf.c, built into anoded),
 * attaches the dispatcher at the ingress of the router's interfaces beside
 * whatever else is there (a clsact filter of its own priority), and loads
 * code objects' kernel sections, which the node child read out of their
 * .ao and checked (kobj.h), after checking them again.
 */
#ifndef KERN_KLOAD_H
#define KERN_KLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "anode/node.h"
#include "anode/kernel.h"

struct kload;

/* The TC filter anode's dispatcher sits in: a handle and priority of its
 * own on the clsact ingress hook, so that it coexists with other programs
 * (lower priorities run first). */
#define KLOAD_TC_HANDLE 0xa0de
#define KLOAD_TC_PRIORITY 0xa0de

/* Start the kernel path on the interfaces named in ifaces (names separated
 * by spaces, or "all": every interface but lo). 0 and *ret; a negative
 * errno with why in err (nothing left behind). */
int kload_open(const char *ifaces, struct kload **ret, char *err, size_t errlen);
/* Detach and unload everything (the clsact hooks anode made go too). */
void kload_close(struct kload *k);
/* The node's address and figures for code in the kernel. */
int kload_set_node(struct kload *k, const struct an_knode *kn);
/* Load a code object's kernel program (instructions from kobj_read, each
 * map load carrying its enum kobj_map) under its name, with state_max
 * soft state entries (0: AN_KSTATE_MAX). 0; -EEXIST when it is loaded;
 * -ENOSPC when every slot is taken; -EINVAL with the kernel verifier's
 * words (or kobj_check_insns's) in log. Loaded with CAP_SYS_ADMIN and
 * CAP_PERFMON lowered, so that the verifier treats it as it would a
 * program of a user with CAP_BPF alone (no pointer leaks, Spectre
 * mitigations on). */
int kload_code(struct kload *k, const uint8_t name[32], const uint8_t *insns, size_t n, uint32_t state_max,
	       char *log, size_t loglen);
/* Unload it: capsules naming it go to the user-space node again. 0 or
 * -ENOENT. */
int kload_code_remove(struct kload *k, const uint8_t name[32]);
/* The soft state map of a loaded code object (the node child keeps the
 * object's state there too, so that both paths share it), or -ENOENT. */
int kload_code_state_fd(const struct kload *k, const uint8_t name[32]);
/* Put filter f (NULL: none) at index of the table of filters whose packet
 * module runs in the kernel, the module being the loaded code object name.
 * 0, -ERANGE, -ENOENT (not loaded), or bpf(2)'s errno. */
int kload_filter_set(struct kload *k, unsigned index, const struct an_kfilter *f, const uint8_t name[32]);
/* Code objects loaded now. */
size_t kload_code_count(const struct kload *k);
/* The counters map (mmap-able: AN_KCPUS_MAX rows of struct
 * kern_counters), for the node child. */
int kload_counters_fd(const struct kload *k);
/* Interfaces the dispatcher is attached to. */
size_t kload_ifaces(const struct kload *k);
/* The index of the i-th of them. */
int kload_ifindex(const struct kload *k, size_t i);

/* What goes up, by AF_XDP (kernel-up afxdp): attach an_xdp_up at each
 * interface of the kernel path, by a BPF link, which the kernel takes away
 * when anoded goes however it goes. An interface that has an XDP program
 * already is not taken from its owner: the whole start fails, and says
 * which. 0, or a negative errno with why in err (nothing left behind). */
int kload_xdp_open(struct kload *k, char *err, size_t errlen);
/* The socket map the node child puts its bound sockets in. */
int kload_xsks_fd(const struct kload *k);
/* The slot of that map for interface ifindex's receive queue: a number,
 * or a negative errno (-ENOSPC past XSK_PORTS_MAX). */
int kload_xport(struct kload *k, unsigned ifindex, unsigned queue);
/* The matching engine's filter id as an_xdp_up matches it (NULL: none). */
int kload_xfilter_set(struct kload *k, unsigned id, const struct an_kfilter *f);

#endif
