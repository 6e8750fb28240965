// SPDX-License-Identifier: MIT
/*
 * A proactive service (seed 000 §3, Figure 2) for tests/lab/test_proactive.sh,
 * written against libanode's service API: it subscribes to the transmit
 * rate of one interface, and sleeps while the link is idle (no filter: its
 * flow stays in the kernel). When the monitor says the link is congested
 * it installs a filter for its flow and sees its packets (accepting each);
 * when the link is idle again it removes the filter. It reports what it
 * does on standard error (the node's log).
 *
 * Parameters: dev=IF threshold=BPS dst=A.B.C.D/LEN port=PORT [mode=MODE].
 * The modes other than the default (proactive) misbehave, for the tests of
 * faults: hold (filter at once and never answer a packet), flood (send a
 * stream of verdicts for packets it never got), outside (ask for a filter
 * outside what its user may filter); pass (filter at once and accept every
 * packet, quietly: a pass-through service for bench/services.sh); presence
 * (subscribe to the presence of the host host=A.B.C.D and report it);
 * publish (a custom probe: publish "level", one more every 300 ms);
 * custom (subscribe to the custom probe from=USER's key=KEY, "level" by
 * default: low below 3, high from 3, and report it); capacity (subscribe
 * to the capacity of dev=IF: low below threshold, high from it, and
 * report it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anode/service.h"

#define say(...) (fprintf(stderr, "proactive: " __VA_ARGS__), fputc('\n', stderr))

int main(void)
{
	struct an_service *s = an_service_open();
	if (!s) {
		say("no socket to the node: %s", strerror(errno));
		return 1;
	}
	char dev[32], threshold[32], dst[32], port[16];
	if (an_service_param(s, "dev", dev, sizeof(dev)) < 0 ||
	    an_service_param(s, "threshold", threshold, sizeof(threshold)) < 0 ||
	    an_service_param(s, "dst", dst, sizeof(dst)) < 0 || an_service_param(s, "port", port, sizeof(port)) < 0) {
		say("parameters: dev=IF threshold=BPS dst=A.B.C.D/LEN port=PORT");
		return 2;
	}
	struct an_filter f = { .proto = 17 };
	char *slash = strchr(dst, '/');
	if (!slash || inet_pton(AF_INET, (*slash = 0, dst), &f.dst) != 1) {
		say("bad dst");
		return 2;
	}
	f.dst_prefix = (uint8_t)atoi(slash + 1);
	f.dport_lo = f.dport_hi = (uint16_t)atoi(port);
	char mode[16] = "proactive";
	an_service_param(s, "mode", mode, sizeof(mode));
	if (!strcmp(mode, "flood")) {
		for (uint32_t i = 0; i < 100000; i++)
			an_service_verdict(s, 0x80000000u + i, AN_DROP, NULL, 0);
		say("flooded: 100000 verdicts sent");
	} else if (!strcmp(mode, "outside")) {
		struct an_filter o = f;
		o.dst = htonl(0x0a000000); /* 10.0.0.0/8: wider than any grant of the test */
		o.dst_prefix = 8;
		an_service_filter_add(s, &o, NULL);
	} else if (!strcmp(mode, "hold") || !strcmp(mode, "pass")) {
		an_service_filter_add(s, &f, NULL);
	}
	char spec[160];
	snprintf(spec, sizeof(spec), "iface_tx_bps dev=%s idle=0-%s congested=%s-", dev, threshold, threshold);
	char host[32];
	if (!strcmp(mode, "presence")) {
		if (an_service_param(s, "host", host, sizeof(host)) < 0) {
			say("presence: host=A.B.C.D");
			return 2;
		}
		snprintf(spec, sizeof(spec), "host_up host=%s absent=0-1 present=1-", host);
	} else if (!strcmp(mode, "capacity")) {
		snprintf(spec, sizeof(spec), "iface_capacity_bps dev=%s low=0-%s high=%s-", dev, threshold, threshold);
	} else if (!strcmp(mode, "custom")) {
		char from[40];
		if (an_service_param(s, "from", from, sizeof(from)) < 0) {
			say("custom: from=USER");
			return 2;
		}
		char key[32] = "level";
		an_service_param(s, "key", key, sizeof(key));
		snprintf(spec, sizeof(spec), "custom name=%s.%s low=0-3 high=3-", from, key);
	}
	int64_t level = 0;
	if (an_service_subscribe(s, spec, NULL) < 0) {
		say("cannot subscribe");
		return 1;
	}
	say("asleep: subscribed to %s", spec);
	uint32_t filter = 0, want_tag = 0;
	unsigned long packets = 0;
	for (;;) {
		struct an_service_msg m;
		int r = an_service_recv(s, &m, strcmp(mode, "publish") ? -1 : 300);
		if (r == -ETIMEDOUT) {
			an_service_publish(s, "level", level++);
			continue;
		}
		if (r == -EPIPE)
			break;
		if (r < 0)
			continue;
		switch (m.kind) {
		case AN_SVC_SUBSCRIBED:
			say("subscription %s (handle %u)", m.status ? strerror(-m.status) : "made", m.handle);
			break;
		case AN_SVC_EVENT: {
			if (!strcmp(mode, "presence") || !strcmp(mode, "custom") || !strcmp(mode, "capacity"))
				say("%s event: %.*s", mode, (int)m.len, (const char *)m.data);
			if (strcmp(mode, "proactive") != 0)
				break;
			char text[600];
			snprintf(text, sizeof(text), "%.*s", (int)m.len, (const char *)m.data);
			say("event: %s", text);
			char state[32] = "";
			bool congested = an_service_event_value(&m, "state", state, sizeof(state)) == 0 &&
					 !strcmp(state, "congested");
			if (congested && !filter && !want_tag) {
				an_service_filter_add(s, &f, &want_tag);
			} else if (!congested && filter) {
				an_service_filter_del(s, filter);
				say("filter %u removed: asleep, %lu packets seen", filter, packets);
				filter = 0;
			}
			break;
		}
		case AN_SVC_FILTER:
			if (strcmp(mode, "proactive") != 0) {
				say("filter %s", m.status ? strerror(-m.status) : "installed");
				break;
			}
			if (m.tag != want_tag)
				break;
			want_tag = 0;
			if (m.status) {
				say("filter refused: %s", strerror(-m.status));
				break;
			}
			filter = m.handle;
			say("awake: filter %u installed", filter);
			break;
		case AN_SVC_PACKET:
			packets++;
			if (!strcmp(mode, "hold")) {
				if (packets == 1)
					say("holding packets, never answering");
				break;
			}
			if (!strcmp(mode, "proactive") && (packets == 1 || packets % 50 == 0))
				say("packets=%lu", packets);
			an_service_verdict(s, m.packet_id, AN_ACCEPT, NULL, 0);
			break;
		case AN_SVC_PARAMS:
			say("params: %s", an_service_params(s));
			break;
		}
	}
	say("node gone");
	an_service_close(s);
	return 0;
}
