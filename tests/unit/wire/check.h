/* SPDX-License-Identifier: MIT */
/*
 * A very small test harness for the wire unit tests: each test program
 * lists its test functions in a table, CHECK records a failure with its line
 * and carries on, and main() prints "N passed, N failed" and exits non-zero
 * when anything failed, so meson reports it.
 */
#ifndef WIRE_TEST_CHECK_H
#define WIRE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures; /* in the current test */

#define CHECK(cond)                                                                                                    \
	do {                                                                                                           \
		if (!(cond)) {                                                                                         \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);                       \
			check_failures++;                                                                              \
		}                                                                                                      \
	} while (0)

#define CHECK_INT(got, want)                                                                                           \
	do {                                                                                                           \
		long long g_ = (long long)(got), w_ = (long long)(want);                                               \
		if (g_ != w_) {                                                                                        \
			fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_);           \
			check_failures++;                                                                              \
		}                                                                                                      \
	} while (0)

#define CHECK_MEM(got, want, n) CHECK(check_mem_eq((got), (want), (n), __FILE__, __LINE__))

static inline int check_mem_eq(const void *got, const void *want, size_t n, const char *file, int line)
{
	const unsigned char *g = got, *w = want;

	for (size_t i = 0; i < n; i++) {
		if (g[i] != w[i]) {
			fprintf(stderr, "%s:%d: octet %zu is %02x, want %02x\n", file, line, i, g[i], w[i]);
			return 0;
		}
	}
	return 1;
}

struct check_test {
	const char *name;
	void (*fn)(void);
};

#define TEST(f)                                                                                                        \
	{                                                                                                              \
#f, f                                                                                                  \
	}

static inline int check_run(const struct check_test *tests, size_t n)
{
	unsigned passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		check_failures = 0;
		tests[i].fn();
		if (check_failures) {
			printf("FAIL %s\n", tests[i].name);
			failed++;
		} else {
			printf("ok   %s\n", tests[i].name);
			passed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#define CHECK_MAIN(table)                                                                                              \
	int main(void)                                                                                                 \
	{                                                                                                              \
		return check_run((table), sizeof(table) / sizeof((table)[0]));                                         \
	}

#endif
