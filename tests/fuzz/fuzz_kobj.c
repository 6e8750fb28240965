// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a code object's kernel section as the node child reads it
 * (src/kern/kobj.c) before it asks the parent to load it, and the kernel
 * build's ELF object as anode code build links it. The .ao comes from the
 * network, so the reader must never read out of bounds, and what it accepts
 * must pass the parent's own check of the instructions: the maps it names
 * are the node's, the calls the node interface's or the program's own.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kern/kobj.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	/* The input as a whole .ao: its kernel section, when it has one, in
	 * bounds. */
	size_t off = 7, len = 7;
	int r = kobj_find(b, size, &off, &len);
	if (r == 0 && (off > size || len > size - off))
		abort();
	if (r != 0 && r != -ENOENT && r != -EINVAL)
		abort();
	/* The input as a kernel section (what a node reads). */
	uint8_t *insns = NULL;
	size_t n = 0;
	char why[256] = "";
	r = kobj_read(b, size, &insns, &n, why, sizeof(why));
	if (r == 0) {
		char again[256] = "";
		if (!insns || n == 0 || n > KOBJ_INSNS_MAX || KOBJ_HDR_LEN + n * 8 != size ||
		    kobj_check_insns(insns, n, again, sizeof(again)) != 0)
			abort();
		free(insns);
	} else if (r == -EINVAL) {
		if (!why[0] || insns)
			abort();
	} else if (r != -ENOMEM) {
		abort();
	}
	/* The input as a kernel build's ELF object (what anode code build
	 * links): what it makes, a node reads back. */
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	why[0] = '\0';
	r = kobj_link(b, size, &blob, &blob_len, why, sizeof(why));
	if (r == 0) {
		insns = NULL;
		if (!blob || kobj_read(blob, blob_len, &insns, &n, why, sizeof(why)) != 0)
			abort();
		free(insns);
		free(blob);
	} else if (r == -EINVAL) {
		if (!why[0] || blob)
			abort();
	} else if (r != -ENOMEM) {
		abort();
	}
	/* The input as instructions, as the parent gets them. */
	if (size % 8 == 0 && size) {
		why[0] = '\0';
		r = kobj_check_insns(b, size / 8, why, sizeof(why));
		if (r != 0 && (r != -EINVAL || !why[0]))
			abort();
	}
	free(b);
	return 0;
}
