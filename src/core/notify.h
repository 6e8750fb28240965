/* SPDX-License-Identifier: MIT */
/*
 * Telling the service manager how the node is (sd_notify(3), libsystemd):
 * READY=1 once its links are open, RELOADING=1 and READY=1 around a reload,
 * STOPPING=1 on the way out, with a STATUS= line that systemctl status
 * shows. Without $NOTIFY_SOCKET (not started by systemd with Type=notify)
 * every call does nothing. Only the process systemd started sends: a
 * router node's parent, or an overlay node; the node child never does (its
 * allow-list has no socket()).
 */
#ifndef CORE_NOTIFY_H
#define CORE_NOTIFY_H

void notify_state(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Forget $NOTIFY_SOCKET, so that the processes this one starts never
 * speak for it. */
void notify_forget(void);

#endif
