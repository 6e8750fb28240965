/* SPDX-License-Identifier: MIT */
/*
 * Logging for every anode process: stderr in the foreground, syslog when
 * asked, one tag per process, the level checked before any formatting, and a
 * rate limit for the data path (log_ratelimited) so that a flood of bad input
 * costs a counter, not a disk.
 */
#ifndef CORE_LOG_H
#define CORE_LOG_H

#include <errno.h>
#include <stdbool.h>
#include <syslog.h>

void log_init(const char *tag, int level, bool use_syslog);
/* Start each line on stderr with the time, in UTC to the millisecond
 * ("2026-12-03T15:44:28.123Z "): for a daemon's log files (syslog and the
 * journal stamp their own). */
void log_set_timestamps(bool on);
void log_set_level(int level);
int log_get_level(void);
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* At most a few messages per second for each call site. */
#define log_ratelimited(level, ...)                                                                                    \
	do {                                                                                                           \
		static struct log_rl log_rl_site_;                                                                     \
		if (log_get_level() >= (level) && log_rl_allow(&log_rl_site_))                                         \
			log_msg((level), __VA_ARGS__);                                                                 \
	} while (0)

struct log_rl {
	long long window_start_ms;
	unsigned count;
	unsigned suppressed;
};
bool log_rl_allow(struct log_rl *rl);

/* At most a few messages per second for each cause and each user (or
 * peer) it concerns, so that one user's flood of one refusal hides
 * neither another user's nor another cause; what was left out is counted
 * in a notice naming the cause and the user. cause: a short constant
 * text (the reason); who: the user, or NULL. */
#define log_ratelimited_by(level, cause, who, ...)                                                                     \
	do {                                                                                                           \
		if (log_get_level() >= (level) && log_rl_allow_keyed((cause), (who)))                                  \
			log_msg((level), __VA_ARGS__);                                                                 \
	} while (0)
bool log_rl_allow_keyed(const char *cause, const char *who);

#define log_debug(...)                                                                                                 \
	do {                                                                                                           \
		if (log_get_level() >= LOG_DEBUG)                                                                      \
			log_msg(LOG_DEBUG, __VA_ARGS__);                                                               \
	} while (0)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)

/* Log at error level and return -errno_value, in one expression. */
#define log_errno_ret(errno_value, ...) (log_err(__VA_ARGS__), -(errno_value))

/* Start-up failures and broken invariants only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
