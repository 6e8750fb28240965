/* SPDX-License-Identifier: MIT */
/*
 * The checks the EE makes on a code object's ELF bytes before it hands them
 * to librte_bpf's loader and validator (objcheck.c).
 */
#ifndef EE_OBJCHECK_H
#define EE_OBJCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "ee/ee.h" /* EE_SECTIONS_MAX, EE_LABEL_MAX */

/* Entry points of one kind of program (struct ee_kind): at most this many. */
#define EE_SECTIONS_MAX 8

/* Check that the bytes are a relocatable eBPF ELF object whose entry point
 * sections (the n names given; bit i of required: section i must be there)
 * librte_bpf can load, and that each entry point's jump graph has no cycle,
 * no jump out of it, at most EE_MAX_PATHS paths and EE_MAX_WALK
 * instructions on them. 0, *ret_found (bit i per entry point found) and
 * ret_longest[i] (its longest path, in instructions); -EINVAL with why (a
 * sentence for the code's author); -ENOMEM. */
int ee_elf_check(const uint8_t *b, size_t len, const char *const *sections, unsigned n, unsigned required,
		 unsigned *ret_found, uint32_t ret_longest[EE_SECTIONS_MAX], char *why, size_t why_len);

/* The label its author gave an object ee_elf_check accepted: the string in
 * its section EE_LABEL_SECTION (what `anode code build --label` puts there),
 * if it is 1 to EE_LABEL_MAX characters of [A-Za-z0-9._-] ended by a NUL or
 * the section's end; else "" (a label is for people, the hash is the name:
 * a bad one is dropped, not refused). */
#define EE_LABEL_SECTION ".anode.label"
void ee_elf_label(const uint8_t *b, size_t len, char ret[EE_LABEL_MAX + 1]);

/* The instructions of entry point section of an object ee_elf_check accepted,
 * each call to a helper resolved by lookup (its index in the node's helper
 * table, or negative: not offered) into the immediate librte_bpf expects.
 * 0, *ret_insns (malloc'ed) and *ret_n instructions; -EINVAL with why;
 * -ENOMEM. */
int ee_elf_insns(const uint8_t *b, size_t len, const char *section, int (*lookup)(const char *name, void *arg),
		 void *arg, uint8_t **ret_insns, size_t *ret_n, char *why, size_t why_len);

#endif
