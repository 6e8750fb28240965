/* SPDX-License-Identifier: MIT */
/*
 * Running a program and waiting for it: the one place that forks and execs
 * for anode (the matching engine's iptables, the CLI's clang, ip and tc).
 */
#ifndef CORE_SPAWN_H
#define CORE_SPAWN_H

#include <stddef.h>

/* Run argv (no shell; argv[0] looked up in PATH, then /usr/sbin and
 * /sbin), its standard output into out and its standard error into err
 * (both NUL-terminated and cut to size; either may be NULL, then the output
 * is read and dropped; err's trailing space is trimmed). Returns its exit
 * status, 128 + the signal that ended it, or a negative errno when it could
 * not be run at all. */
int spawn_run(char *const argv[], char *out, size_t out_sz, char *err, size_t err_sz);

#endif
