/* SPDX-License-Identifier: MIT */
/*
 * The kernel path's counters, shared by its BPF programs (anode_tc.bpf.c)
 * and the node that shows them (room.c). One row per CPU in an mmap-able
 * array, so that the unprivileged node child reads them without bpf(2).
 */
#ifndef KERN_KCOUNTERS_H
#define KERN_KCOUNTERS_H

#define KERN_COUNTERS(X)                                                                                               \
	X(seen, "capsules the kernel path looked at (UDP to the node's port)")                                         \
	X(unknown_code, "capsules whose code has no kernel section here: to the user-space node")                      \
	X(not_capsule, "packets to the node's port that are no capsule the kernel path reads: to the user-space node") \
	X(runs, "code runs in the kernel")                                                                             \
	X(forwarded, "capsules sent on by the kernel path")                                                            \
	X(redirected, "capsules and module-accepted packets forwarded by the kernel path itself (FIB, redirect)")    \
	X(consumed, "capsules that ended at this node in the kernel (no send)")                                        \
	X(drop_hop_limit, "capsules dropped in the kernel: hop limit spent")                                           \
	X(drop_code_error, "capsules dropped in the kernel: their code returned an error")                             \
	X(punted, "runs handed to the user-space node (a second send, a delivery, an_call, ...)")                      \
	X(tail_call_failed, "capsules left to the user-space node: a tail call could not be made")                      \
	X(module_runs, "packets a filter matched whose packet module ran in the kernel")                            \
	X(module_accepted, "...which it let go on")                                                                   \
	X(module_dropped, "...which it dropped")                                                                      \
	X(module_punted, "...handed up to the user-space node (hold, search, checksums, what the kernel cannot send)") \
	X(module_modified, "...which it rewrote, within its filter, and let go on")                                  \
	X(module_answered, "...which it answered, sent back by the interface it came in by")                         \
	X(module_refused, "...whose rewrite or answer left its filter's grant: dropped")                             \
	X(module_too_big, "packets a filter matched, longer than a module takes: on without it")                     \
	X(up_xsk, "packets sent up to the user-space node by AF_XDP (kernel-up afxdp)")                              \
	X(up_no_socket, "packets for AF_XDP with no node socket on their queue: up through the stack")

enum kern_counter {
#define KERN_COUNTER_ENUM(name, help) KERN_C_##name,
	KERN_COUNTERS(KERN_COUNTER_ENUM)
#undef KERN_COUNTER_ENUM
	KERN_C_MAX
};

#define KERN_COUNTER_SLOTS 32 /* per CPU row; room to grow without changing the map */

struct kern_counters {
	__u64 c[KERN_COUNTER_SLOTS];
};

#endif
