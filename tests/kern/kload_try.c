// SPDX-License-Identifier: MIT
/*
 * kload_try IFACE FILE.ao...: start the kernel path on IFACE as anoded's
 * parent does (src/kern/kload.c), load each code object's kernel section
 * (read with kobj_read as the node child does) and print, per object,
 * "loaded NAME" or "refused NAME: WHY" (the checker's or the kernel
 * verifier's words); then detach. For tests/lab/test_kernel.sh: the
 * hostile kernel sections and what is left behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anode/anode.h"
#include "core/log.h"
#include "kern/kload.h"
#include "kern/kobj.h"

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: kload_try IFACE FILE.ao...\n");
		return 2;
	}
	log_init("kload_try", LOG_INFO, false);
	struct kload *k;
	char err[256];
	if (kload_open(argv[1], &k, err, sizeof(err)) < 0) {
		fprintf(stderr, "kload_try: %s\n", err);
		return 1;
	}
	int bad = 0;
	for (int i = 2; i < argc; i++) {
		void *ao;
		size_t len, off, klen;
		if (an_code_read_file(argv[i], &ao, &len) < 0 || kobj_find(ao, len, &off, &klen) < 0) {
			printf("refused %s: no kernel section\n", argv[i]);
			bad++;
			continue;
		}
		uint8_t name[32], *insns;
		size_t n;
		char why[1536];
		an_code_name(ao, len, name);
		int r = kobj_read((uint8_t *)ao + off, klen, &insns, &n, why, sizeof(why));
		if (r == 0) {
			r = kload_code(k, name, insns, n, 0, why, sizeof(why));
			free(insns);
		}
		free(ao);
		if (r < 0) {
			printf("refused %s: %s\n", argv[i], why);
			bad++;
		} else {
			printf("loaded %s\n", argv[i]);
		}
	}
	kload_close(k);
	return bad ? 1 : 0;
}
