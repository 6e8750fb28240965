// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the checks a code object's ELF bytes go through before
 * librte_bpf's loader sees them (src/ee/objcheck.c). The bytes come from the
 * network (carried code, fetched chunks), so the checker must never read
 * out of bounds, and what it reports must hold together.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ee/ee.h"
#include "ee/objcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly the input's size, so that overreads show. */
	uint8_t *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	unsigned found = 0x5a5a;
	uint32_t longest[EE_SEC_N] = { 7, 7, 7, 7 };
	char why[160] = "";
	int r = ee_elf_check(b, size, &found, longest, why, sizeof(why));
	if (r == 0) {
		/* accept is required; each entry point found has a longest
		 * path of at least one instruction and no more than fit. */
		if (!(found & 1u << EE_SEC_ACCEPT) || found >> EE_SEC_N)
			abort();
		for (unsigned s = 0; s < EE_SEC_N; s++)
			if ((found & 1u << s) && (longest[s] == 0 || longest[s] > size / 8))
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
