// SPDX-License-Identifier: MIT
/*
 * What a node pays to take a code object into its cache, without I/O: the
 * time of ee_code_insert (SHA-256 name, ELF checks, path count, librte_bpf
 * load, validation and JIT) in a fresh EE, as a lab node's is. It separates,
 * in bench/codeload.sh's figures, the cost of installing code from the cost
 * of getting it there (carried, or fetched in chunks).
 *
 * Usage: ee_insert CODE.ao... [-r N]
 * Inserts each object in order into one new EE and prints the microseconds
 * each insert took, on one line. With -r N it then removes and inserts the
 * last object N more times and prints the median of those ("warm": the
 * process has done it before).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ee/ee.h"

static int no_route(void *node, const struct an_addr *dst, struct an_addr *ret_next)
{
	(void)node;
	(void)dst;
	(void)ret_next;
	return -EHOSTUNREACH;
}

static bool alive(void *node, uint64_t handle)
{
	(void)node;
	(void)handle;
	return true;
}

static int64_t no_info(void *node, uint64_t what)
{
	(void)node;
	(void)what;
	return -EINVAL;
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static size_t read_file(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(1);
	}
	size_t len = fread(buf, 1, cap, f);
	fclose(f);
	return len;
}

int main(int argc, char **argv)
{
	static uint8_t elf[EE_CODE_MAX + 1];
	long repeat = 0;
	int n_files = 0;
	const char *files[64];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") == 0 && i + 1 < argc)
			repeat = atol(argv[++i]);
		else if (n_files < 64)
			files[n_files++] = argv[i];
	}
	if (!n_files || repeat < 0 || repeat > 100000) {
		fprintf(stderr, "usage: %s CODE.ao... [-r N]\n", argv[0]);
		return 2;
	}
	log_init("ee_insert", LOG_WARNING, false);
	struct ee_env env = { .route = no_route, .applink_alive = alive, .node_info = no_info };
	struct ee *ee = ee_new(NULL, &env);
	if (!ee) {
		perror("ee_new");
		return 1;
	}
	uint8_t name[EE_NAME_LEN];
	size_t len = 0;
	for (int i = 0; i < n_files; i++) {
		len = read_file(files[i], elf, sizeof(elf));
		double t0 = now_us();
		int rc = ee_code_insert(ee, elf, len, name);
		double t = now_us() - t0;
		if (rc < 0) {
			fprintf(stderr, "ee_insert: %s: %s\n", files[i], strerror(-rc));
			return 1;
		}
		printf("%s%.1f", i ? " " : "", t);
	}
	if (repeat) {
		double *t = calloc((size_t)repeat, sizeof(*t));
		if (!t)
			return 1;
		for (long i = 0; i < repeat; i++) {
			ee_code_remove(ee, name);
			double t0 = now_us();
			int rc = ee_code_insert(ee, elf, len, name);
			t[i] = now_us() - t0;
			if (rc < 0) {
				fprintf(stderr, "ee_insert: %s: %s\n", files[n_files - 1], strerror(-rc));
				return 1;
			}
		}
		qsort(t, (size_t)repeat, sizeof(*t), cmp_double);
		printf(" warm %.1f", t[repeat / 2]);
		free(t);
	}
	printf("\n");
	ee_free(ee);
	return 0;
}
