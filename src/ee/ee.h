/* SPDX-License-Identifier: MIT */
/*
 * The capsule execution environment: code objects (eBPF ELF objects named by
 * their SHA-256), validated and JIT-compiled by DPDK's librte_bpf, kept in a
 * bounded LRU code cache with a memory of names that failed validation, each
 * with its own soft state; and the run of a capsule through a code object's
 * accept entry point. The EE does no I/O: a run records what the code asked
 * for (sends, deliveries) in a struct ee_verdict, and the node carries it out.
 * It asks the node what only the node knows through struct ee_env.
 */
#ifndef EE_H
#define EE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "anode/node.h"
#include "core/stat.h"
#include "wire/wire.h"

#define EE_NAME_LEN 32
#define EE_CODE_MAX WIRE_CODE_MAX /* largest code object accepted, in bytes */
#define EE_MAX_SENDS 4
#define EE_MAX_DELIVERS 4
#define EE_CALL_DEPTH 4
/* Paths through one entry point that the validator may have to walk; more
 * is refused as invalid (see ee_count_paths in ee.c). */
#define EE_MAX_PATHS 65536
/* Instructions the validator may have to visit for one entry point, summed
 * over its paths: librte_bpf walks the paths of code whose branches leave
 * different states (stack writes, say) one by one, at up to about 14 ns per
 * instruction here (8192 paths of about 100 instructions: 11.6 ms; 65536:
 * 60 ms; bench/hostile.sh part 2). Code that would cost more is refused as
 * invalid, so that checking no object holds the node for more than about
 * 7 ms. Code whose branches converge is checked faster than this counts,
 * so the bound refuses some code the validator would pass quickly. */
#define EE_MAX_WALK (500 * 1000)
/* Default work budget of one capsule at one node, in instruction units:
 * the longest path of every entry point run plus the fixed cost of every
 * helper called (helpers.c). */
#define EE_DEFAULT_BUDGET 100000

struct rte_bpf_xsym;

/*
 * A kind of program (DESIGN §1, "EE kinds"): one loader, cache, memory of
 * failed names and soft state serve several kinds, each declaring its entry
 * points (ELF sections), the context its entry points run on, and the
 * helpers its code may call. Capsule code is the EE's own kind; the rooms
 * declare theirs (ee/helper.h).
 */
struct ee_kind {
	const char *name;
	const char *const *sections; /* entry points; [main] runs for each packet */
	unsigned n_sections;
	unsigned required;		 /* bit i: sections[i] must be there */
	unsigned main;			 /* the entry point ee_run runs */
	int init, fini;			 /* run when cached and before eviction, or -1 */
	int call;			 /* what an_call runs, or -1 */
	size_t ctx_size;		 /* the context every entry point gets */
	const struct rte_bpf_xsym *xsym; /* the helpers, by name */
	uint32_t n_xsym;
};

/* Capsule code (PAN): accept (required, the main entry), init, fini and
 * call, on a struct an_ctx, with the helpers of include/anode/node.h. */
extern const struct ee_kind ee_kind_capsule;
/* The other kinds belong to their rooms, which declare them with
 * ee/helper.h: packet modules and custom probes (src/svc/kinds.h),
 * concast merge specifications (src/concast/kind.h). */

/* What the EE asks of the node. Every callback is required. */
struct ee_env {
	void *node;
	/* The next hop toward dst: 0 and *ret_next, or -EHOSTUNREACH. */
	int (*route)(void *node, const struct an_addr *dst, struct an_addr *ret_next);
	/* Whether an application link handle names a connected application. */
	bool (*applink_alive)(void *node, uint64_t handle);
	/* A node figure for an_node_info(), or -EINVAL. */
	int64_t (*node_info)(void *node, uint64_t what);
	/* This node's address. */
	struct an_addr local;
	/* Optional (may be NULL): a code object entered the cache (after its
	 * init ran), or left it (evicted or removed; not when the EE is freed),
	 * so that the node can keep a copy elsewhere in step (the kernel
	 * path, src/kern). */
	void (*cached)(void *node, const uint8_t name[EE_NAME_LEN], const struct ee_kind *kind, const void *elf,
		       size_t len);
	void (*uncached)(void *node, const uint8_t name[EE_NAME_LEN]);
};

/* What the node tells one run about its capsule, worked out before the run
 * from the parsed header, so that the EE never calls back into the node for
 * the packet being run. */
struct ee_run_in {
	uint64_t budget; /* work units this run may use (ee_run: the configured run_budget) */
	int is_goal;	 /* an_is_goal(): 1 if this node is one of the capsule's goals (or it names none), else 0 */
	int visit;	 /* an_add_result(): the visit number the node would record, or a negative errno */
	int64_t rx_ns;	 /* an_node_info(AN_INFO_RX_NS): when the node received the capsule */
};

/* Defaults: the node's configuration starts from these (src/node/config.c). */
#define EE_DEFAULT_OBJECTS 64
#define EE_DEFAULT_BYTES (4 * 1024 * 1024)
#define EE_DEFAULT_FAILED 256
#define EE_DEFAULT_STATE 4096

struct ee_config {
	size_t cache_objects; /* code objects kept, 0 = default 64 */
	size_t cache_bytes;   /* bytes of code kept, 0 = default 4 MiB */
	size_t failed_names;  /* names of bad code remembered, 0 = default 256 */
	size_t state_entries; /* soft state entries per code object, 0 = default 4096 */
	uint64_t run_budget;  /* work units per capsule, 0 = EE_DEFAULT_BUDGET */
};

/* What a run asked the node to do. */
struct ee_verdict {
	int64_t rc; /* the accept entry point's return value */
	unsigned n_sends;
	struct an_addr send_dst[EE_MAX_SENDS];	/* final destinations */
	struct an_addr send_next[EE_MAX_SENDS]; /* next hops (from env->route) */
	unsigned n_delivers;
	uint64_t deliver_to[EE_MAX_DELIVERS];
	uint16_t data_len; /* capsule data length after the run */
	bool over_budget;  /* the run spent its work budget: drop the capsule */
	uint64_t work;	   /* work units the run used */
	int visit;	   /* > 0: the code asked to be recorded as a result node, this visit */
};

enum ee_code_status {
	EE_CODE_ABSENT,
	EE_CODE_READY,
	EE_CODE_FAILED, /* failed validation once: refused without a second try */
};

/* One line of ee_code_list(). */
/* A code object's label (anode code build --label; objcheck.h). */
#define EE_LABEL_MAX 32

struct ee_code_info {
	uint8_t name[EE_NAME_LEN];
	char label[EE_LABEL_MAX + 1]; /* "" when it has none */
	size_t size; /* bytes of the ELF object */
	uint64_t runs;
	uint64_t errors; /* runs that returned a negative value */
	size_t state_entries;
	uint64_t last_used_ns;
};

#define EE_STATS(X)                                                                                                    \
	X(inserted, "code objects cached")                                                                             \
	X(evicted, "code objects evicted to keep the cache in bounds")                                                 \
	X(failed_validation, "code objects that failed validation")                                                    \
	X(refused_known_bad, "inserts refused by name: known to fail validation")                                      \
	X(runs, "entry point runs for capsules")                                                                       \
	X(run_errors, "runs that returned an error or spent their work budget")                                        \
	X(state_evictions, "soft state entries evicted at a code object's quota")                                      \
	X(over_budget, "runs that spent their work budget")                                                            \
	X(copies_refused, "sends refused past a capsule's copy budget")

struct ee_stats {
	EE_STATS(STAT_FIELD)
};

struct ee;

struct ee *ee_new(const struct ee_config *cfg, const struct ee_env *env);
void ee_free(struct ee *ee); /* runs fini of every cached object */
/* The work budget of the runs the EE starts itself (init, fini, probes,
 * merges, modules): a reloaded configuration's run-budget. */
void ee_set_run_budget(struct ee *ee, size_t budget);

/* Why the last insert that failed validation was refused, for the person
 * who wrote the code: librte_bpf's own explanation where it gave one
 * ("... at pc 12"), else what anode's checks found. "" when none. */
const char *ee_last_refusal(const struct ee *ee);

/* Add a code object given as its ELF bytes. Its name is the SHA-256 of the
 * bytes; it is validated and JIT-compiled (accept required; init, fini and
 * call optional), init runs, and the least recently used objects are evicted
 * (their fini runs) to keep the cache in bounds. 0 and *ret_name (also when
 * already cached); -EINVAL when it fails validation (and the name is then
 * remembered as bad); -EPERM when the name is already known to be bad;
 * -EFBIG when larger than EE_CODE_MAX. */
int ee_code_insert(struct ee *ee, const void *elf, size_t len, uint8_t ret_name[EE_NAME_LEN]);
/* ee_code_insert for a given kind of program (ee_code_insert is capsule
 * code). A name already cached as another kind is refused (-EEXIST). */
int ee_code_insert_kind(struct ee *ee, const struct ee_kind *kind, const void *elf, size_t len,
			uint8_t ret_name[EE_NAME_LEN]);

/* As ee_code_insert for code that arrived under a claimed name: -EBADMSG
 * (and nothing remembered) when the bytes do not hash to it. */
int ee_code_insert_named(struct ee *ee, const uint8_t name[EE_NAME_LEN], const void *elf, size_t len);
/* The same for a given kind of program. */
int ee_code_insert_named_kind(struct ee *ee, const struct ee_kind *kind, const uint8_t name[EE_NAME_LEN],
			      const void *elf, size_t len);

enum ee_code_status ee_code_status(struct ee *ee, const uint8_t name[EE_NAME_LEN]);

/* The bytes of a cached code object (valid until the next insert or
 * eviction), for answering code requests. 0 or -ENOENT. */
int ee_code_get(struct ee *ee, const uint8_t name[EE_NAME_LEN], const void **ret_elf, size_t *ret_len);

/* Keep a cached code object from eviction while something depends on it
 * (a concast flow's merge specification); pins count, every pin is undone
 * by an unpin. Pinned objects may hold the cache over its bounds. 0 or
 * -ENOENT (not cached; unpin: not pinned). ee_code_remove removes a pinned
 * object all the same. */
int ee_code_pin(struct ee *ee, const uint8_t name[EE_NAME_LEN]);
int ee_code_unpin(struct ee *ee, const uint8_t name[EE_NAME_LEN]);

/* A code object's soft state kept in another store than the EE's own
 * table: the kernel path's BPF map (src/kern), so that a capsule run in the
 * kernel and one run here see the same state. get, put and del as
 * an_state_get/put/del; each: fn for up to max entries; count: entries now. */
struct ee_state_ops {
	int (*get)(void *arg, const struct an_key *key, struct an_val *ret);
	int (*put)(void *arg, const struct an_key *key, const struct an_val *val);
	int (*del)(void *arg, const struct an_key *key);
	size_t (*each)(void *arg, size_t max, void (*fn)(void *fnarg, const struct an_key *key,
							const struct an_val *val),
		       void *fnarg);
	size_t (*count)(void *arg);
};
/* Move a cached object's soft state into ops's store (its entries now go
 * there first) or, with ops NULL, back to an empty table of the EE's own.
 * 0 or -ENOENT. ops and arg must outlive the object's stay in the cache:
 * the node drops them when the EE says the object left (env.uncached). */
int ee_code_state_external(struct ee *ee, const uint8_t name[EE_NAME_LEN], const struct ee_state_ops *ops,
			   void *arg);
/* The entries a cached object's soft state may hold (its quota), or 0. */
size_t ee_code_state_cap(struct ee *ee, const uint8_t name[EE_NAME_LEN]);

/* Remove a code object (its fini runs). 0 or -ENOENT. */
int ee_code_remove(struct ee *ee, const uint8_t name[EE_NAME_LEN]);

/* Fill up to max entries, most recently used first; returns how many
 * objects are cached in all. */
size_t ee_code_list(struct ee *ee, struct ee_code_info *ret, size_t max);

/* Run the accept entry point of the code object ctx->code names on ctx.
 * The caller fills ctx (all fields before pkt[] and the capsule bytes).
 * 0 and *ret (ret->rc < 0 means the code failed); -ENOENT when the code is
 * not cached; -EPERM when it is known bad. */
int ee_run(struct ee *ee, struct an_ctx *ctx, struct ee_verdict *ret);
/* ee_run with what the node knows of the capsule (in: its work budget, a
 * capsule that code sent to its own node going on with what its sender
 * left; goal and visit; receive time). ee_run is this with the configured
 * budget, every node a goal, no results, no receive time. */
int ee_run_with(struct ee *ee, struct an_ctx *ctx, const struct ee_run_in *in, struct ee_verdict *ret);

/* Run the main entry point of code object name, of the given kind (not
 * capsules: ee_run), on ctx, with the configured work budget. 0 and
 * *ret_rc (what it returned, or a negative errno: -EDQUOT past its
 * budget); -ENOENT when the code is not cached, -EPERM when it is known
 * bad or of another kind. */
int ee_run_kind(struct ee *ee, const uint8_t name[EE_NAME_LEN], const struct ee_kind *kind, void *ctx, int64_t *ret_rc);
/* ee_run_kind for the entry point `entry` (an index into the kind's
 * sections) instead of the main one. */
int ee_run_entry(struct ee *ee, const uint8_t name[EE_NAME_LEN], const struct ee_kind *kind, unsigned entry, void *ctx,
		 int64_t *ret_rc);
/* The work units the last ee_run_kind or ee_run_entry used (the budget
 * it was given when it spent it all): what bench/helper_cost.c divides
 * its times by. */
uint64_t ee_last_work(const struct ee *ee);
/* The kind a cached code object was inserted as, or NULL when it is not
 * cached. */
const struct ee_kind *ee_code_kind(struct ee *ee, const uint8_t name[EE_NAME_LEN]);
/* Bound a cached code object's soft state to at most entries (those beyond
 * go now, least recently used first). 0 or -ENOENT. */
int ee_code_limit_state(struct ee *ee, const uint8_t name[EE_NAME_LEN], size_t entries);
/* Read a cached code object's soft state: fn for up to max entries, most
 * recently used first (their order is not changed): how many; 0 when the
 * code is not cached. */
size_t ee_code_state_each(struct ee *ee, const uint8_t name[EE_NAME_LEN], size_t max,
			  void (*fn)(void *arg, const struct an_key *key, const struct an_val *val), void *arg);

void ee_stats_get(struct ee *ee, struct ee_stats *ret);

/* Run code objects through librte_bpf's interpreter instead of its JIT (for
 * benchmarks and for telling a JIT fault from a code fault); the JIT is on by
 * default. Applies to cached and future objects. */
void ee_use_jit(struct ee *ee, bool on);

/* SHA-256 of a buffer (libsodium). */
void ee_hash(const void *buf, size_t len, uint8_t ret_name[EE_NAME_LEN]);

/* Hex form of a name (65 bytes with the NUL) and back (0 or -EINVAL). */
void ee_name_hex(const uint8_t name[EE_NAME_LEN], char ret_hex[65]);
int ee_name_parse(const char *hex, uint8_t ret_name[EE_NAME_LEN]);

#endif
