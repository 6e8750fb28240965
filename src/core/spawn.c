// SPDX-License-Identifier: MIT
/*
 * Running a program (spawn.h), for the matching engine (iptables) and the
 * CLI (clang, ip, tc): no shell, output captured, and the signal mask a
 * node sets for its signalfd not inherited.
 */
#include "core/spawn.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int spawn_run(char *const argv[], char *out, size_t out_sz, char *err, size_t err_sz)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		return -e;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(po[0]);
		close(po[1]);
		close(pe[0]);
		close(pe[1]);
		return -e;
	}
	if (pid == 0) {
		/* A node blocks the signals it reads through signalfd; the
		 * program must not inherit that. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execvp(argv[0], argv);
		/* Root's PATH usually holds sbin; a service's may not. */
		char path[64];
		snprintf(path, sizeof(path), "/usr/sbin/%s", argv[0]);
		execv(path, argv);
		snprintf(path, sizeof(path), "/sbin/%s", argv[0]);
		execv(path, argv);
		dprintf(STDERR_FILENO, "%s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	size_t n_out = 0, n_err = 0;
	struct pollfd pfd[2] = {{.fd = po[0], .events = POLLIN}, {.fd = pe[0], .events = POLLIN}};
	char sink[512];
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			char *buf = i == 0 ? out : err;
			size_t sz = i == 0 ? out_sz : err_sz;
			size_t *n = i == 0 ? &n_out : &n_err;
			ssize_t r;
			if (buf && *n + 1 < sz)
				r = read(pfd[i].fd, buf + *n, sz - 1 - *n);
			else
				r = read(pfd[i].fd, sink, sizeof(sink)); /* keep the child from blocking */
			if (r > 0 && buf && *n + 1 < sz)
				*n += (size_t)r;
			if (r == 0 || (r < 0 && errno != EINTR)) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pfd[i].fd >= 0)
			close(pfd[i].fd);
	if (out && out_sz)
		out[n_out] = 0;
	if (err && err_sz) {
		err[n_err] = 0;
		while (n_err > 0 && isspace((unsigned char)err[n_err - 1]))
			err[--n_err] = 0;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

