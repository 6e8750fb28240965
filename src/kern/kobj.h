/* SPDX-License-Identifier: MIT */
/*
 * A code object's kernel section (docs/kernel.md), read and checked without
 * libbpf: the node child reads it out of a .ao that came from the network,
 * and the privileged parent checks the instructions it is given again before
 * it asks the kernel to load them. Pure functions on bytes: fuzzed on their
 * own (tests/fuzz/fuzz_kobj.c).
 */
#ifndef KERN_KOBJ_H
#define KERN_KOBJ_H

#include <stddef.h>
#include <stdint.h>

/* The maps a kernel section may name, by the index its map loads carry
 * between kobj_read and the loader (which puts each map's fd there). */
enum kobj_map {
	KOBJ_MAP_SCRATCH = 0, /* an_kscratch: the node's per-CPU context */
	KOBJ_MAP_NODE = 1,    /* an_knode: the node's address and figures */
	KOBJ_MAP_PROGS = 2,   /* an_kprogs: the tail call table */
	KOBJ_MAP_STATE = 3,   /* an_kstate: the code object's own soft state */
	KOBJ_MAP_PKT = 4,     /* an_kpkt: the packet a module runs on (anode/module.h) */
	KOBJ_MAP_MAX
};

#define KOBJ_INSNS_MAX 16384 /* instructions a kernel section may have */

/* The kernel section's bytes inside a .ao (an ELF object; the section
 * AN_KERNEL_SECTION). 0 with *ret_off, *ret_len; -ENOENT when it has none;
 * -EINVAL when the .ao's layout is bad. */
int kobj_find(const uint8_t *ao, size_t len, size_t *ret_off, size_t *ret_len);

/*
 * A kernel section is not an ELF object but the program ready to load:
 *
 *   "ANK1" | kernel ABI (16, AN_KERNEL_ABI) | 0 (16) | n (32) | n instructions of 8 octets
 *
 * (host order: code objects travel between nodes of one architecture), its
 * functions after its entry, each map load carrying its enum kobj_map in
 * the immediate and BPF_PSEUDO_MAP_FD in its source register, each call to
 * a function of its own pc-relative. The build makes it (kobj_link); the
 * node reads it (kobj_read) without any ELF parsing beyond finding the
 * section.
 */
#define KOBJ_MAGIC "ANK1"
#define KOBJ_HDR_LEN 12

/* Make a kernel section from the kernel build's ELF object (anode code
 * build): the "tc" program, then .text (the helpers of anode/kernel.h),
 * relocated, checked with kobj_check_insns. 0, *ret_blob (malloc'ed) and
 * *ret_len; -EINVAL with why (a sentence for the code's author); -ENOMEM. */
int kobj_link(const uint8_t *obj, size_t len, uint8_t **ret_blob, size_t *ret_len, char *why, size_t why_len);

/* The instructions of a kernel section, checked with kobj_check_insns. 0,
 * *ret_insns (malloc'ed), *ret_n; -EINVAL with why; -ENOMEM. */
int kobj_read(const uint8_t *sec, size_t len, uint8_t **ret_insns, size_t *ret_n, char *why, size_t why_len);

/* What the kernel path lets a kernel section do, checked on instructions
 * kobj_read made (the parent checks them again: it does not trust the
 * node child): calls only to the helpers of the node interface (map lookup,
 * update and delete, time, CPU number, tail call) or to a function inside
 * the program, none to kernel functions, and no 64-bit load naming
 * anything but the maps of enum kobj_map. 0, or -EINVAL with why. */
int kobj_check_insns(const uint8_t *insns, size_t n, char *why, size_t why_len);

#endif
