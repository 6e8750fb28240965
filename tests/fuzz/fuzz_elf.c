// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the checks a code object's ELF bytes go through before
 * librte_bpf's loader sees them (src/ee/objcheck.c). The bytes come from the
 * network (carried code, fetched chunks), so the checker must never read
 * out of bounds, and what it reports must hold together; the label read
 * from an accepted object (ee_elf_label) is empty or made of its charset.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ee/ee.h"
#include "ee/objcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The capsule kind's entry points, accept required. */
static const char *const sections[] = { "accept", "init", "fini", "call" };
#define N_SECTIONS 4

/* Helpers as the node names them: any an_* name, at an index from its length. */
static int lookup(const char *name, void *arg)
{
	(void)arg;
	return strncmp(name, "an_", 3) == 0 ? (int)strlen(name) : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the input's size, so that overreads show. */
	uint8_t *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	unsigned found = 0x5a5a;
	uint32_t longest[EE_SECTIONS_MAX] = { 7, 7, 7, 7 };
	char why[160] = "";
	int r = ee_elf_check(b, size, sections, N_SECTIONS, 1u << 0, &found, longest, why, sizeof(why));
	if (r == 0) {
		/* accept is required; each entry point found has a longest
		 * path of at least one instruction and no more than fit. */
		if (!(found & 1u << 0) || found >> N_SECTIONS)
			abort();
		for (unsigned s = 0; s < N_SECTIONS; s++) {
			if (!(found & 1u << s))
				continue;
			if (longest[s] == 0 || longest[s] > size / 8)
				abort();
			/* Its instructions, relocations applied: as many as the
			 * section holds, or a refusal that says why. */
			uint8_t *insns = NULL;
			size_t n = 0;
			why[0] = '\0';
			int ri = ee_elf_insns(b, size, sections[s], lookup, NULL, &insns, &n, why, sizeof(why));
			if (ri == 0 && (!insns || n == 0 || n > size / 8 || n < longest[s]))
				abort();
			if (ri == -EINVAL && !why[0])
				abort();
			if (ri != 0 && ri != -EINVAL && ri != -ENOMEM)
				abort();
			free(insns);
		}
		/* Its label: empty, or 1 to EE_LABEL_MAX of [A-Za-z0-9._-]. */
		char label[EE_LABEL_MAX + 1];
		memset(label, 'x', sizeof(label));
		ee_elf_label(b, size, label);
		size_t ln = strnlen(label, sizeof(label));
		if (ln > EE_LABEL_MAX || strspn(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != ln)
			abort();
	} else if (r == -EINVAL) {
		/* A refusal always says why, and leaves the outputs alone. */
		if (!why[0] || found != 0x5a5a || longest[0] != 7)
			abort();
	} else if (r != -ENOMEM) {
		abort();
	}
	free(b);
	return 0;
}
