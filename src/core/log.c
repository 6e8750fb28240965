// SPDX-License-Identifier: MIT
/*
 * The log module (see log.h). Kept deliberately small, after OpenBGPD's
 * log.c: a tag, a level, stderr or syslog.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_RL_WINDOW_MS 1000
#define LOG_RL_BURST 5

static const char *log_tag = "anode";
static int log_level = LOG_INFO;
static bool log_syslog;

void log_init(const char *tag, int level, bool use_syslog)
{
	log_tag = tag;
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(tag, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int level)
{
	log_level = level;
}

int log_get_level(void)
{
	return log_level;
}

static void log_vmsg(int level, const char *fmt, va_list ap)
{
	if (level > log_level)
		return;
	if (log_syslog) {
		vsyslog(level, fmt, ap);
		return;
	}
	static const char *names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
	fprintf(stderr, "%s: %s: ", log_tag, names[level & 7]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

bool log_rl_allow(struct log_rl *rl)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - rl->window_start_ms >= LOG_RL_WINDOW_MS) {
		if (rl->suppressed)
			log_msg(LOG_NOTICE, "%u similar messages suppressed", rl->suppressed);
		rl->window_start_ms = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	if (rl->count < LOG_RL_BURST) {
		rl->count++;
		return true;
	}
	rl->suppressed++;
	return false;
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
