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
static bool log_timestamps;

void log_init(const char *tag, int level, bool use_syslog)
{
	log_tag = tag;
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(tag, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_timestamps(bool on)
{
	log_timestamps = on;
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
	static const char *names[] = {"emerg", "alert", "crit", "error", "warning", "notice", "info", "debug"};
	struct timespec ts;
	struct tm tm;
	char when[40] = "";
	if (log_timestamps && clock_gettime(CLOCK_REALTIME, &ts) == 0 && gmtime_r(&ts.tv_sec, &tm)) {
		size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(when + n, sizeof(when) - n, ".%03ldZ ", ts.tv_nsec / 1000000);
	}
	fprintf(stderr, "%s%s: %s: ", when, log_tag, names[level & 7]);
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

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A window of one limiter: a new one starts after LOG_RL_WINDOW_MS, and
 * says first what the last one left out (about what: NULL for a call
 * site's own). */
static bool rl_allow(struct log_rl *rl, const char *about)
{
	long long now = now_ms();
	if (now - rl->window_start_ms >= LOG_RL_WINDOW_MS) {
		if (rl->suppressed && about)
			log_msg(LOG_NOTICE, "%u similar messages suppressed (%s)", rl->suppressed, about);
		else if (rl->suppressed)
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

bool log_rl_allow(struct log_rl *rl)
{
	return rl_allow(rl, NULL);
}

/* Keyed limiters: one per (cause, who) seen lately, the least recently
 * used one taken over for a new key (what it had suppressed is said
 * first, so no count is lost). */
#define LOG_RL_KEYS 64
static struct {
	char about[96]; /* "cause, who": the key, and what its notice names */
	struct log_rl rl;
	long long used_ms;
} keyed[LOG_RL_KEYS];

bool log_rl_allow_keyed(const char *cause, const char *who)
{
	char about[sizeof(keyed[0].about)];
	snprintf(about, sizeof(about), "%s, %s", cause, who && who[0] ? who : "-");
	size_t lru = 0;
	for (size_t i = 0; i < LOG_RL_KEYS; i++) {
		if (keyed[i].about[0] && !strcmp(keyed[i].about, about)) {
			keyed[i].used_ms = now_ms();
			return rl_allow(&keyed[i].rl, keyed[i].about);
		}
		if (keyed[i].used_ms < keyed[lru].used_ms)
			lru = i;
	}
	if (keyed[lru].rl.suppressed)
		log_msg(LOG_NOTICE, "%u similar messages suppressed (%s)", keyed[lru].rl.suppressed, keyed[lru].about);
	memset(&keyed[lru], 0, sizeof(keyed[lru]));
	memcpy(keyed[lru].about, about, sizeof(about));
	keyed[lru].used_ms = now_ms();
	return rl_allow(&keyed[lru].rl, keyed[lru].about);
}

void fatal(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_CRIT, fmt, ap);
	va_end(ap);
	exit(1);
}
