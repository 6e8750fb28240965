// SPDX-License-Identifier: MIT
/*
 * Checks on a code object's ELF bytes before librte_bpf sees them (objcheck.h):
 * the layout, read with every offset and size checked, since the bytes come
 * from the network; and the jump graph of each entry point, walked once to
 * count its paths, the instructions on them and its longest path. No I/O,
 * no librte_bpf: fuzzed on its own (tests/fuzz/fuzz_elf.c).
 */
#include "ee/objcheck.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ee/ee.h"

/*
 * librte_bpf's validator walks every path through a program, one after the
 * other: its time grows with the instructions it visits, the sum of the
 * lengths of all paths (measured here: 1.6 million paths, 1.6 s; 5.4
 * million, 12 s). A node runs to completion, so code it cannot validate
 * quickly is refused before the validator sees it. clang shares tails of
 * code with backward jumps, so the counts are a memoised walk of the jump
 * graph; a cycle (a loop, which the validator refuses too) or a jump out of
 * the program makes the object invalid. Counts saturate past the limits.
 *
 * The same walk gives the longest path, which bounds what one run of the
 * entry point can execute (there are no loops): the run's cost in the
 * capsule's work budget.
 */
struct ee_paths {
	const uint8_t *code;
	size_t n;
	uint64_t *memo; /* paths from here; 0: not yet counted */
	uint64_t *walk; /* instructions visited over those paths */
	uint32_t *longest; /* instructions on the longest of them */
	uint8_t *busy; /* on the current walk: reaching it again is a cycle */
};

struct ee_path_count {
	uint64_t paths, walk;
	uint32_t longest;
};

static uint64_t ee_sat_add(uint64_t a, uint64_t b, uint64_t max)
{
	return a > max || b > max - a ? max + 1 : a + b;
}

static int ee_paths_from(struct ee_paths *w, size_t i, unsigned depth, struct ee_path_count *ret)
{
	if (i >= w->n || depth > w->n)
		return -EINVAL;
	if (w->memo[i]) {
		*ret = (struct ee_path_count){ w->memo[i], w->walk[i], w->longest[i] };
		return 0;
	}
	if (w->busy[i])
		return -EINVAL;
	w->busy[i] = 1;
	uint8_t op = w->code[i * 8];
	int16_t off;
	memcpy(&off, w->code + i * 8 + 2, sizeof(off));
	uint8_t class = op & 0x07, jop = op & 0xf0;
	struct ee_path_count a = { 0 }, b = { 0 };
	int rc = 0;
	if (class != 0x05 && class != 0x06) { /* not a jump */
		rc = ee_paths_from(w, i + (op == 0x18 ? 2 : 1), depth + 1, &a); /* lddw takes two slots */
	} else if (jop == 0x90) { /* exit */
		a.paths = 0;
	} else if (jop == 0x80) { /* call */
		rc = ee_paths_from(w, i + 1, depth + 1, &a);
	} else {
		long target = (long)i + 1 + off;
		rc = target < 0 ? -EINVAL : ee_paths_from(w, (size_t)target, depth + 1, &a);
		if (rc == 0 && jop != 0x00) /* conditional: both ways */
			rc = ee_paths_from(w, i + 1, depth + 1, &b);
	}
	w->busy[i] = 0;
	if (rc < 0)
		return rc;
	struct ee_path_count t;
	t.paths = jop == 0x90 && (class == 0x05 || class == 0x06) ? 1 : ee_sat_add(a.paths, b.paths, EE_MAX_PATHS);
	/* This instruction is visited once per path through it. */
	t.walk = ee_sat_add(ee_sat_add(a.walk, b.walk, EE_MAX_WALK), t.paths, EE_MAX_WALK);
	t.longest = 1 + (a.longest > b.longest ? a.longest : b.longest);
	w->memo[i] = t.paths;
	w->walk[i] = t.walk;
	w->longest[i] = t.longest;
	*ret = t;
	return 0;
}

static int ee_count_paths(const uint8_t *code, size_t n_insns, struct ee_path_count *ret)
{
	struct ee_paths w = { .code = code, .n = n_insns };
	w.memo = calloc(n_insns, sizeof(*w.memo));
	w.walk = calloc(n_insns, sizeof(*w.walk));
	w.longest = calloc(n_insns, sizeof(*w.longest));
	w.busy = calloc(n_insns, 1);
	int rc = w.memo && w.walk && w.longest && w.busy ? ee_paths_from(&w, 0, 0, ret) : -ENOMEM;
	free(w.memo);
	free(w.walk);
	free(w.longest);
	free(w.busy);
	return rc;
}

/*
 * Find the entry point sections with every offset and size checked against
 * the buffer, so that a malformed object is refused here and libelf only ever
 * parses a sound layout. Sets bit EE_SEC_* in *ret_found for each entry point
 * present and its longest path in ret_longest[]; an entry point section that
 * librte_bpf would not load (wrong type or flags, empty, duplicated) makes
 * the whole object invalid. why says what was wrong.
 */
#define EE_REFUSE(...) (snprintf(why, why_len, __VA_ARGS__), -EINVAL)

int ee_elf_check(const uint8_t *b, size_t len, const char *const *sections, unsigned n_sections, unsigned required,
		 unsigned *ret_found, uint32_t ret_longest[EE_SECTIONS_MAX], char *why, size_t why_len)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strh;
	unsigned found = 0;
	uint32_t longest[EE_SECTIONS_MAX] = { 0 };

	if (n_sections > EE_SECTIONS_MAX)
		return -EINVAL;

	if (len < sizeof(eh))
		return EE_REFUSE("not an ELF object (%zu bytes)", len);
	memcpy(&eh, b, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_ident[EI_OSABI] != ELFOSABI_NONE || eh.e_type != ET_REL ||
	    eh.e_machine != EM_BPF)
		return EE_REFUSE("not a relocatable 64-bit little-endian eBPF ELF object");
	if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shstrndx == SHN_UNDEF ||
	    eh.e_shstrndx >= eh.e_shnum)
		return EE_REFUSE("bad ELF section header table");
	if (eh.e_shoff > len || (len - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
		return EE_REFUSE("ELF section headers run past the object");

	memcpy(&strh, b + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strh));
	if (strh.sh_type != SHT_STRTAB || strh.sh_offset > len || strh.sh_size > len - strh.sh_offset ||
	    strh.sh_size == 0)
		return EE_REFUSE("bad ELF section name table");
	const char *strtab = (const char *)b + strh.sh_offset;

	for (size_t i = 0; i < eh.e_shnum; i++) {
		memcpy(&sh, b + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		if (i == 0)
			continue; /* SHN_UNDEF */
		if (sh.sh_type != SHT_NOBITS && (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset))
			return EE_REFUSE("ELF section %zu runs past the object", i);
		if (sh.sh_name >= strh.sh_size || !memchr(strtab + sh.sh_name, '\0', strh.sh_size - sh.sh_name))
			return EE_REFUSE("ELF section %zu has a bad name", i);
		for (unsigned s = 0; s < n_sections; s++) {
			if (strcmp(strtab + sh.sh_name, sections[s]) != 0)
				continue;
			if ((found & 1u << s) || sh.sh_type != SHT_PROGBITS ||
			    sh.sh_flags != (SHF_ALLOC | SHF_EXECINSTR) || sh.sh_size == 0 || sh.sh_size % 8 != 0)
				return EE_REFUSE("section %s is not one block of eBPF code", sections[s]);
			struct ee_path_count pc = { 0 };
			int rc = ee_count_paths(b + sh.sh_offset, sh.sh_size / 8, &pc);
			if (rc == -ENOMEM)
				return rc;
			if (rc < 0)
				return EE_REFUSE("section %s has a loop or a jump out of the program", sections[s]);
			if (pc.paths > EE_MAX_PATHS)
				return EE_REFUSE("section %s has more than %d paths: too costly to validate (fewer branches, "
						 "see docs/code-objects.md)",
						 sections[s], EE_MAX_PATHS);
			if (pc.walk > EE_MAX_WALK)
				return EE_REFUSE("section %s: its paths hold more than %d instructions in all: too costly "
						 "to validate (fewer branches, or shorter code after them)",
						 sections[s], EE_MAX_WALK);
			longest[s] = pc.longest;
			found |= 1u << s;
		}
	}
	for (unsigned s = 0; s < n_sections; s++)
		if ((required & 1u << s) && !(found & 1u << s))
			return EE_REFUSE("no %s section (the entry point this kind of code must have)", sections[s]);
	*ret_found = found;
	memcpy(ret_longest, longest, sizeof(longest));
	return 0;
}


void ee_elf_label(const uint8_t *b, size_t len, char ret[EE_LABEL_MAX + 1])
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strh;
	ret[0] = '\0';
	/* The layout was checked (ee_elf_check): offsets and names are sound. */
	memcpy(&eh, b, sizeof(eh));
	memcpy(&strh, b + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strh));
	const char *strtab = (const char *)b + strh.sh_offset;
	for (size_t i = 1; i < eh.e_shnum; i++) {
		memcpy(&sh, b + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		if (sh.sh_type != SHT_PROGBITS || strcmp(strtab + sh.sh_name, EE_LABEL_SECTION) != 0)
			continue;
		size_t n = 0;
		const uint8_t *v = b + sh.sh_offset;
		while (n < sh.sh_size && v[n] != '\0') {
			uint8_t c = v[n];
			bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
				  c == '_' || c == '-';
			if (!ok || n == EE_LABEL_MAX)
				return;
			n++;
		}
		if (n == 0)
			return;
		memcpy(ret, v, n);
		ret[n] = '\0';
		return;
	}
}

/*
 * The instructions of one entry point, with its relocations applied: a
 * code object calls the node's helpers by name, through relocations against
 * undefined symbols, and librte_bpf wants each call's immediate to be the
 * helper's index in its table. Reading them here means the ELF is parsed
 * once, by this checked reader, instead of once per section by libelf.
 */
int ee_elf_insns(const uint8_t *b, size_t len, const char *section, int (*lookup)(const char *name, void *arg),
		 void *arg, uint8_t **ret_insns, size_t *ret_n, char *why, size_t why_len)
{
	Elf64_Ehdr eh;
	Elf64_Shdr sh, strh;
	/* ee_elf_check accepted the layout: headers and names are in bounds. */
	memcpy(&eh, b, sizeof(eh));
	memcpy(&strh, b + eh.e_shoff + (size_t)eh.e_shstrndx * sizeof(Elf64_Shdr), sizeof(strh));
	const char *names = (const char *)b + strh.sh_offset;
	size_t idx = 0;
	for (size_t i = 1; i < eh.e_shnum && !idx; i++) {
		memcpy(&sh, b + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(sh));
		if (strcmp(names + sh.sh_name, section) == 0)
			idx = i;
	}
	if (!idx)
		return EE_REFUSE("no section %s", section);
	memcpy(&sh, b + eh.e_shoff + idx * sizeof(Elf64_Shdr), sizeof(sh));
	uint8_t *insns = malloc(sh.sh_size);
	if (!insns)
		return -ENOMEM;
	memcpy(insns, b + sh.sh_offset, sh.sh_size);
	size_t n = sh.sh_size / 8;

	for (size_t i = 1; i < eh.e_shnum; i++) {
		Elf64_Shdr rel, sym, str;
		memcpy(&rel, b + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof(rel));
		if ((rel.sh_type != SHT_REL && rel.sh_type != SHT_RELA) || rel.sh_info != idx)
			continue;
		if (rel.sh_type == SHT_RELA || rel.sh_entsize != sizeof(Elf64_Rel) || rel.sh_link == 0 ||
		    rel.sh_link >= eh.e_shnum) {
			free(insns);
			return EE_REFUSE("section %s has relocations anode cannot read", section);
		}
		memcpy(&sym, b + eh.e_shoff + (size_t)rel.sh_link * sizeof(Elf64_Shdr), sizeof(sym));
		if (sym.sh_type != SHT_SYMTAB || sym.sh_entsize != sizeof(Elf64_Sym) || sym.sh_link == 0 ||
		    sym.sh_link >= eh.e_shnum) {
			free(insns);
			return EE_REFUSE("section %s: its relocations have no symbol table", section);
		}
		memcpy(&str, b + eh.e_shoff + (size_t)sym.sh_link * sizeof(Elf64_Shdr), sizeof(str));
		if (str.sh_type != SHT_STRTAB || str.sh_size == 0) {
			free(insns);
			return EE_REFUSE("section %s: its symbols have no names", section);
		}
		const char *symnames = (const char *)b + str.sh_offset;
		size_t n_syms = sym.sh_size / sizeof(Elf64_Sym);
		for (size_t r = 0; r < rel.sh_size / sizeof(Elf64_Rel); r++) {
			Elf64_Rel e;
			Elf64_Sym s;
			memcpy(&e, b + rel.sh_offset + r * sizeof(e), sizeof(e));
			size_t at = e.r_offset / 8, si = ELF64_R_SYM(e.r_info);
			if (e.r_offset % 8 || at >= n || si >= n_syms) {
				free(insns);
				return EE_REFUSE("section %s: a relocation points outside it", section);
			}
			memcpy(&s, b + sym.sh_offset + si * sizeof(s), sizeof(s));
			if (s.st_name >= str.sh_size || !memchr(symnames + s.st_name, '\0', str.sh_size - s.st_name)) {
				free(insns);
				return EE_REFUSE("section %s: a symbol has a bad name", section);
			}
			const char *name = symnames + s.st_name;
			/* A section symbol (string literals: .rodata) is nameless:
			 * its section's name says what it is. */
			if (!name[0] && s.st_shndx > 0 && s.st_shndx < eh.e_shnum) {
				Elf64_Shdr target;
				memcpy(&target, b + eh.e_shoff + (size_t)s.st_shndx * sizeof(target), sizeof(target));
				name = names + target.sh_name;
			}
			uint8_t *insn = insns + at * 8;
			if (insn[0] != 0x85) { /* BPF_JMP | BPF_CALL */
				free(insns);
				return EE_REFUSE("section %s: pc %zu uses %s, not a helper call (global variables and "
						 "string literals are not supported)",
						 section, at, name);
			}
			int h = lookup(name, arg);
			if (h < 0) {
				free(insns);
				return EE_REFUSE("section %s: pc %zu calls %s, which the node does not offer",
						 section, at, name);
			}
			/* An external function, so an ordinary call: no pseudo
			 * call (src register 1), the helper's index as immediate. */
			insn[1] &= 0x0f;
			int32_t imm = h;
			memcpy(insn + 4, &imm, 4);
		}
	}
	*ret_insns = insns;
	*ret_n = n;
	return 0;
}
