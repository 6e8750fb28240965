// SPDX-License-Identifier: MIT
/* The node's word to the service manager (see notify.h). */
#include "core/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "core/log.h"

void notify_state(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	int r = sd_notify(0, buf);
	if (r < 0)
		log_ratelimited(LOG_WARNING, "cannot tell the service manager '%.40s': %s", buf, strerror(-r));
}

void notify_forget(void)
{
	unsetenv("NOTIFY_SOCKET");
}
