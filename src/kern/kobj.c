// SPDX-License-Identifier: MIT
/*
 * Reading a code object's kernel section (kobj.h). The bytes come from the
 * network: every offset and size is checked against the buffer before it is
 * used, as src/ee/objcheck.c does for the user-space sections.
 */
#include "kern/kobj.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anode/kernel.h"

#define REFUSE(...) (snprintf(why, why_len, __VA_ARGS__), -EINVAL)

/* BPF instruction classes and the fields kobj needs (linux/bpf.h's values;
 * not included so that this file builds and fuzzes without kernel headers). */
#define OP_CALL 0x85   /* BPF_JMP | BPF_CALL */
#define OP_LDDW 0x18   /* BPF_LD | BPF_IMM | BPF_DW: two slots */
#define PSEUDO_MAP_FD 1
#define PSEUDO_CALL 1 /* a call's source register: a function of the program */

/* The helpers of the node interface in the kernel (include/anode/kernel.h),
 * by their numbers in the kernel's enum bpf_func_id. */
static const int32_t helpers_allowed[] = {
    1,	/* map_lookup_elem */
    2,	/* map_update_elem */
    3,	/* map_delete_elem */
    5,	/* ktime_get_ns */
    8,	/* get_smp_processor_id */
    12, /* tail_call */
};

static const char *const map_names[KOBJ_MAP_MAX] = {
    [KOBJ_MAP_SCRATCH] = "an_kscratch",
    [KOBJ_MAP_NODE] = "an_knode",
    [KOBJ_MAP_PROGS] = "an_kprogs",
    [KOBJ_MAP_STATE] = "an_kstate",
    [KOBJ_MAP_PKT] = "an_kpkt",
};

/* A checked view of an ELF object's section headers and names. */
struct elf_view {
	const uint8_t *b;
	size_t len;
	Elf64_Ehdr eh;
	const char *names;
	size_t names_len;
};

static int elf_open(struct elf_view *v, const uint8_t *b, size_t len)
{
	Elf64_Shdr strh;
	if (len < sizeof(v->eh))
		return -EINVAL;
	memcpy(&v->eh, b, sizeof(v->eh));
	const Elf64_Ehdr *eh = &v->eh;
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_type != ET_REL || eh->e_machine != EM_BPF)
		return -EINVAL;
	if (eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shnum == 0 || eh->e_shstrndx == SHN_UNDEF ||
	    eh->e_shstrndx >= eh->e_shnum || eh->e_shoff > len ||
	    (len - eh->e_shoff) / sizeof(Elf64_Shdr) < eh->e_shnum)
		return -EINVAL;
	memcpy(&strh, b + eh->e_shoff + (size_t)eh->e_shstrndx * sizeof(Elf64_Shdr), sizeof(strh));
	if (strh.sh_type != SHT_STRTAB || strh.sh_offset > len || strh.sh_size > len - strh.sh_offset ||
	    strh.sh_size == 0 || b[strh.sh_offset + strh.sh_size - 1] != '\0')
		return -EINVAL;
	v->b = b;
	v->len = len;
	v->names = (const char *)b + strh.sh_offset;
	v->names_len = strh.sh_size;
	return 0;
}

/* Section i's header, its data in bounds (NOBITS aside). */
static int elf_section(const struct elf_view *v, size_t i, Elf64_Shdr *sh)
{
	if (i == 0 || i >= v->eh.e_shnum)
		return -EINVAL;
	memcpy(sh, v->b + v->eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(*sh));
	if (sh->sh_type != SHT_NOBITS && (sh->sh_offset > v->len || sh->sh_size > v->len - sh->sh_offset))
		return -EINVAL;
	if (sh->sh_name >= v->names_len)
		return -EINVAL;
	return 0;
}

/* The index of the section called name, 0 when there is none, -EINVAL when
 * the table is bad or the name appears twice. */
static long elf_find(const struct elf_view *v, const char *name, Elf64_Shdr *ret)
{
	long found = 0;
	for (size_t i = 1; i < v->eh.e_shnum; i++) {
		Elf64_Shdr sh;
		if (elf_section(v, i, &sh) < 0)
			return -EINVAL;
		if (strcmp(v->names + sh.sh_name, name) != 0)
			continue;
		if (found)
			return -EINVAL;
		found = (long)i;
		*ret = sh;
	}
	return found;
}

int kobj_find(const uint8_t *ao, size_t len, size_t *ret_off, size_t *ret_len)
{
	struct elf_view v;
	Elf64_Shdr sh;
	if (elf_open(&v, ao, len) < 0)
		return -EINVAL;
	long i = elf_find(&v, AN_KERNEL_SECTION, &sh);
	if (i < 0 || (i > 0 && sh.sh_type != SHT_PROGBITS))
		return -EINVAL;
	if (i == 0)
		return -ENOENT;
	*ret_off = sh.sh_offset;
	*ret_len = sh.sh_size;
	return 0;
}

static bool helper_allowed(int32_t id)
{
	for (size_t i = 0; i < sizeof(helpers_allowed) / sizeof(helpers_allowed[0]); i++)
		if (helpers_allowed[i] == id)
			return true;
	return false;
}

int kobj_check_insns(const uint8_t *insns, size_t n, char *why, size_t why_len)
{
	if (n == 0 || n > KOBJ_INSNS_MAX)
		return REFUSE("the kernel section has %zu instructions (1 to %d)", n, KOBJ_INSNS_MAX);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *in = insns + i * 8;
		uint8_t src = in[1] >> 4;
		int32_t imm;
		memcpy(&imm, in + 4, 4);
		if (in[0] == OP_CALL) {
			if (src == PSEUDO_CALL) {
				/* A function of the program: inside it. */
				long target = (long)i + 1 + imm;
				if (target < 0 || target >= (long)n)
					return REFUSE("kernel section: pc %zu calls past the program", i);
				continue;
			}
			if (src != 0)
				return REFUSE("kernel section: pc %zu calls a kernel function (only the node "
					      "interface's helpers may be called)",
					      i);
			if (!helper_allowed(imm))
				return REFUSE("kernel section: pc %zu calls kernel helper %d, which the node "
					      "interface does not offer",
					      i, imm);
		} else if (in[0] == OP_LDDW) {
			if (i + 1 >= n)
				return REFUSE("kernel section: pc %zu: a 64-bit load cut short", i);
			if (src == PSEUDO_MAP_FD) {
				if (imm < 0 || imm >= KOBJ_MAP_MAX || insns[(i + 1) * 8 + 4] | insns[(i + 1) * 8 + 5] |
									      insns[(i + 1) * 8 + 6] | insns[(i + 1) * 8 + 7])
					return REFUSE("kernel section: pc %zu names a map the node does not offer", i);
			} else if (src != 0) {
				return REFUSE("kernel section: pc %zu loads a kernel object (type %u): only the "
					      "node's maps may be named",
					      i, src);
			}
			i++; /* its second slot */
		}
	}
	return 0;
}

/* Resolve the relocations of one code section (its instructions at base in
 * the combined program): map loads to their enum kobj_map, calls into
 * .text (at text_base) to pc-relative offsets. 0, or -EINVAL with why. */
static int link_relocs(const struct elf_view *v, const uint8_t *obj, long idx, long text_idx, uint8_t *insns, size_t n,
		       size_t base, size_t text_base, char *why, size_t why_len)
{
	for (size_t i = 1; i < v->eh.e_shnum; i++) {
		Elf64_Shdr rel, sym, str;
		if (elf_section(v, i, &rel) < 0)
			return REFUSE("the kernel object's ELF section %zu is bad", i);
		if ((rel.sh_type != SHT_REL && rel.sh_type != SHT_RELA) || rel.sh_info != (Elf64_Word)idx)
			continue;
		if (rel.sh_type == SHT_RELA || rel.sh_entsize != sizeof(Elf64_Rel) || elf_section(v, rel.sh_link, &sym) < 0 ||
		    sym.sh_type != SHT_SYMTAB || sym.sh_entsize != sizeof(Elf64_Sym) ||
		    elf_section(v, sym.sh_link, &str) < 0 || str.sh_type != SHT_STRTAB || str.sh_size == 0)
			return REFUSE("the kernel object's relocations are not ones anode can read");
		const char *symnames = (const char *)obj + str.sh_offset;
		size_t n_syms = sym.sh_size / sizeof(Elf64_Sym);
		for (size_t r = 0; r < rel.sh_size / sizeof(Elf64_Rel); r++) {
			Elf64_Rel e;
			Elf64_Sym s;
			memcpy(&e, obj + rel.sh_offset + r * sizeof(e), sizeof(e));
			size_t at = base + e.r_offset / 8, si = ELF64_R_SYM(e.r_info);
			if (e.r_offset % 8 || at >= n || si >= n_syms)
				return REFUSE("the kernel object's relocations are not ones anode can read");
			memcpy(&s, obj + sym.sh_offset + si * sizeof(s), sizeof(s));
			if (s.st_name >= str.sh_size || !memchr(symnames + s.st_name, '\0', str.sh_size - s.st_name))
				return REFUSE("the kernel object's relocations are not ones anode can read");
			const char *name = symnames + s.st_name;
			uint8_t *in = insns + at * 8;
			if (in[0] == OP_CALL && (in[1] >> 4) == PSEUDO_CALL) {
				/* A call into .text (a helper of anode/kernel.h made
				 * a function of its own): libbpf's rule, a section
				 * symbol's target is its value plus imm + 1. */
				int32_t imm;
				memcpy(&imm, in + 4, 4);
				if (text_idx <= 0 || s.st_shndx != (Elf64_Half)text_idx || s.st_value % 8)
					return REFUSE("kernel section: pc %zu calls %s, outside the object's functions", at,
						      name[0] ? name : "a nameless symbol");
				long target = ELF64_ST_TYPE(s.st_info) == STT_SECTION ? (long)(s.st_value / 8) + imm + 1
										    : (long)(s.st_value / 8);
				long abs = (long)text_base + target;
				if (target < 0 || abs >= (long)n)
					return REFUSE("kernel section: pc %zu calls past the program", at);
				imm = (int32_t)(abs - (long)at - 1);
				memcpy(in + 4, &imm, 4);
				continue;
			}
			int map = -1;
			for (int m = 0; m < KOBJ_MAP_MAX; m++)
				if (strcmp(name, map_names[m]) == 0)
					map = m;
			if (map < 0 || in[0] != OP_LDDW || at + 1 >= n)
				return REFUSE("kernel section: pc %zu uses %s: only the node's maps (an_kscratch, an_knode, "
					      "an_kprogs, an_kstate, an_kpkt) may be named; global variables and string "
					      "literals are not supported",
					      at, name[0] ? name : "a nameless symbol");
			in[1] = (uint8_t)((in[1] & 0x0f) | PSEUDO_MAP_FD << 4);
			int32_t imm = map;
			memcpy(in + 4, &imm, 4);
		}
	}
	return 0;
}

int kobj_link(const uint8_t *obj, size_t len, uint8_t **ret_blob, size_t *ret_len, char *why, size_t why_len)
{
	struct elf_view v;
	Elf64_Shdr tc, text = {0};
	if (elf_open(&v, obj, len) < 0)
		return REFUSE("the kernel build is not a relocatable eBPF ELF object");
	long idx = elf_find(&v, "tc", &tc);
	if (idx <= 0)
		return REFUSE("the kernel build has no tc program");
	long text_idx = elf_find(&v, ".text", &text);
	if (text_idx < 0)
		return REFUSE("the kernel build's .text is bad");
	if (text_idx > 0 && text.sh_size == 0)
		text_idx = 0;
	if (tc.sh_type != SHT_PROGBITS || tc.sh_size == 0 || tc.sh_size % 8 ||
	    (text_idx > 0 && (text.sh_type != SHT_PROGBITS || text.sh_size % 8)))
		return REFUSE("the kernel build's program is not eBPF code");
	/* The program and the functions it calls; nothing else holds code. */
	for (size_t i = 1; i < v.eh.e_shnum; i++) {
		Elf64_Shdr sh;
		if (elf_section(&v, i, &sh) < 0)
			return REFUSE("the kernel build's ELF section %zu is bad", i);
		if ((long)i != idx && (long)i != text_idx && (sh.sh_flags & SHF_EXECINSTR) && sh.sh_size > 0)
			return REFUSE("the kernel build holds code besides its tc program (section %s)", v.names + sh.sh_name);
	}
	size_t n_tc = tc.sh_size / 8, n_text = text_idx > 0 ? text.sh_size / 8 : 0, n = n_tc + n_text;
	if (n > KOBJ_INSNS_MAX)
		return REFUSE("the kernel section has %zu instructions (at most %d)", n, KOBJ_INSNS_MAX);
	uint8_t *blob = malloc(KOBJ_HDR_LEN + n * 8);
	if (!blob)
		return -ENOMEM;
	uint8_t *insns = blob + KOBJ_HDR_LEN;
	memcpy(insns, obj + tc.sh_offset, tc.sh_size);
	if (n_text)
		memcpy(insns + tc.sh_size, obj + text.sh_offset, text.sh_size);
	int rc = link_relocs(&v, obj, idx, text_idx, insns, n, 0, n_tc, why, why_len);
	if (rc == 0 && n_text)
		rc = link_relocs(&v, obj, text_idx, text_idx, insns, n, n_tc, n_tc, why, why_len);
	if (rc == 0)
		rc = kobj_check_insns(insns, n, why, why_len);
	if (rc < 0) {
		free(blob);
		return rc;
	}
	memcpy(blob, KOBJ_MAGIC, 4);
	uint16_t abi = AN_KERNEL_ABI, zero = 0;
	uint32_t n32 = (uint32_t)n;
	memcpy(blob + 4, &abi, 2);
	memcpy(blob + 6, &zero, 2);
	memcpy(blob + 8, &n32, 4);
	*ret_blob = blob;
	*ret_len = KOBJ_HDR_LEN + n * 8;
	return 0;
}

int kobj_read(const uint8_t *sec, size_t len, uint8_t **ret_insns, size_t *ret_n, char *why, size_t why_len)
{
	uint16_t abi, reserved;
	uint32_t n;
	if (len < KOBJ_HDR_LEN || memcmp(sec, KOBJ_MAGIC, 4) != 0)
		return REFUSE("the kernel section is not one anode reads (no %s header)", KOBJ_MAGIC);
	memcpy(&abi, sec + 4, 2);
	memcpy(&reserved, sec + 6, 2);
	memcpy(&n, sec + 8, 4);
	if (abi != AN_KERNEL_ABI)
		return REFUSE("the kernel section is for the node interface's kernel ABI %u, this node has %d", abi,
			      AN_KERNEL_ABI);
	if (reserved || n == 0 || n > KOBJ_INSNS_MAX || len - KOBJ_HDR_LEN != (size_t)n * 8)
		return REFUSE("the kernel section's length does not match its %u instructions", n);
	int rc = kobj_check_insns(sec + KOBJ_HDR_LEN, n, why, why_len);
	if (rc < 0)
		return rc;
	uint8_t *insns = malloc((size_t)n * 8);
	if (!insns)
		return -ENOMEM;
	memcpy(insns, sec + KOBJ_HDR_LEN, (size_t)n * 8);
	*ret_insns = insns;
	*ret_n = n;
	return 0;
}
