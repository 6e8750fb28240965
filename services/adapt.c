// SPDX-License-Identifier: MIT
/*
 * anode-adapt: the adaptation service (seed 000 §3.2; docs/apps/adapt.md),
 * a service process on libanode's service API.
 *
 * A layered stream, MPEG-TS over UDP whose renditions or layers travel
 * under PIDs of their own (ffmpeg's -f mpegts with several encodings of
 * one source), crosses this node toward a receiver behind the link dev.
 * The service subscribes to that link's capacity (iface_capacity_bps,
 * heard as tc changes it) and sleeps while it is at least rate=, the
 * stream's whole rate. When it falls below, the service installs a filter
 * for the stream and thins every datagram to the layers it was told to
 * keep (keep=PID,...) and the stream's tables (the PAT, the PMTs it
 * names, and the PIDs below 0x20): the packets of other PIDs are cut out,
 * a datagram left with none is dropped, one left whole goes on as it
 * came. The receiver's demultiplexer finds the kept layers whole. When
 * the capacity is back to rate= or more it removes the filter and sleeps.
 *
 * Parameters: dev=IF dst=A.B.C.D port=PORT rate=BPS keep=PID[,PID...]
 * (PIDs in decimal or 0x hexadecimal) [src=A.B.C.D: only the sender's
 * datagrams are thinned and read for PATs, so that another host sending
 * to the port cannot name the PIDs kept]. It says what it does on
 * standard error (the node's log).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "anode/service.h"
#include "wire/mpegts.h"
#include "wire/wire.h"

#define say(...) (fprintf(stderr, "adapt: " __VA_ARGS__), fputc('\n', stderr))

#define ADAPT_KEEP_MAX 8
#define ADAPT_PMT_MAX 8

struct adapt {
	struct an_service *s;
	struct an_filter f;
	uint16_t keep[ADAPT_KEEP_MAX];
	size_t n_keep;
	uint16_t pmt[ADAPT_PMT_MAX];
	size_t n_pmt;
	uint32_t filter, filter_tag;
	bool thin; /* the link is slower than the stream */
	uint64_t thin_ns;
	uint64_t datagrams, kept, cut, dropped, passed;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_pids(struct adapt *a, const char *list)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long pid = strtoul(w, &end, 0);
		if (*end || end == w || pid >= WIRE_TS_PID_NULL || a->n_keep == ADAPT_KEEP_MAX)
			return -EINVAL;
		a->keep[a->n_keep++] = (uint16_t)pid;
	}
	return a->n_keep ? 0 : -EINVAL;
}

static bool kept(const struct adapt *a, uint16_t pid)
{
	if (pid < 0x20) /* the PAT and the other tables of the standard */
		return true;
	for (size_t i = 0; i < a->n_keep; i++)
		if (a->keep[i] == pid)
			return true;
	for (size_t i = 0; i < a->n_pmt; i++)
		if (a->pmt[i] == pid)
			return true;
	return false;
}

/* A datagram of the stream: its verdict, and in out the thinned packet
 * for AN_MODIFIED. */
static enum an_verdict thin_packet(struct adapt *a, const uint8_t *p, size_t len, uint8_t *out, size_t *ret_len)
{
	struct wire_ipv4_udp u;
	if (wire_ipv4_udp_parse(p, len, &u) < 0)
		return AN_ACCEPT;
	const uint8_t *ts = p + u.payload_off;
	int n = wire_ts_count(ts, u.payload_len);
	if (n < 0)
		return AN_ACCEPT; /* not MPEG-TS: not ours to thin */
	a->datagrams++;
	size_t o = u.payload_off;
	for (int i = 0; i < n; i++) {
		const uint8_t *t = ts + (size_t)i * WIRE_TS_PACKET;
		uint16_t pmt[ADAPT_PMT_MAX];
		int k = wire_ts_pat(t, pmt, ADAPT_PMT_MAX);
		if (k > 0) {
			a->n_pmt = (size_t)(k < ADAPT_PMT_MAX ? k : ADAPT_PMT_MAX);
			memcpy(a->pmt, pmt, a->n_pmt * sizeof(pmt[0]));
		}
		if (!kept(a, wire_ts_pid(t))) {
			a->cut++;
			continue;
		}
		memcpy(out + o, t, WIRE_TS_PACKET);
		o += WIRE_TS_PACKET;
		a->kept++;
	}
	if (o == u.payload_off) {
		a->dropped++;
		return AN_DROP;
	}
	if (o == (size_t)u.payload_off + u.payload_len) {
		a->passed++;
		return AN_ACCEPT;
	}
	/* The same headers, shorter: the node puts the lengths and checksums
	 * right, and the lengths are set here too. */
	memcpy(out, p, u.payload_off);
	out[2] = (uint8_t)(o >> 8);
	out[3] = (uint8_t)o;
	size_t udp_len = o - (u.payload_off - 8);
	out[u.payload_off - 4] = (uint8_t)(udp_len >> 8);
	out[u.payload_off - 3] = (uint8_t)udp_len;
	*ret_len = o;
	return AN_MODIFIED;
}

static void set_thin(struct adapt *a, bool thin, const char *event)
{
	if (thin == a->thin)
		return;
	a->thin = thin;
	if (thin) {
		a->thin_ns = now_ns();
		if (!a->filter && !a->filter_tag && an_service_filter_add(a->s, &a->f, &a->filter_tag) < 0)
			say("cannot ask for the stream's filter");
		say("the link is slower than the stream (%s): thinning", event);
	} else {
		say("the link carries the stream again (%s): %llu datagrams seen, %llu TS packets kept, %llu cut, "
		    "%llu datagrams dropped, %llu whole",
		    event, (unsigned long long)a->datagrams, (unsigned long long)a->kept, (unsigned long long)a->cut,
		    (unsigned long long)a->dropped, (unsigned long long)a->passed);
		if (a->filter) {
			an_service_filter_del(a->s, a->filter);
			say("filter %u removed: asleep", a->filter);
			a->filter = 0;
		}
	}
}

int main(void)
{
	static struct adapt a;
	static uint8_t out[65536];
	a.s = an_service_open();
	if (!a.s) {
		say("no socket to the node: %s", strerror(errno));
		return 1;
	}
	char dev[32], dst[32], port[16], rate[32], keep[128];
	if (an_service_param(a.s, "dev", dev, sizeof(dev)) < 0 || an_service_param(a.s, "dst", dst, sizeof(dst)) < 0 ||
	    an_service_param(a.s, "port", port, sizeof(port)) < 0 ||
	    an_service_param(a.s, "rate", rate, sizeof(rate)) < 0 ||
	    an_service_param(a.s, "keep", keep, sizeof(keep)) < 0) {
		say("parameters: dev=IF dst=A.B.C.D port=PORT rate=BPS keep=PID[,PID...]");
		return 2;
	}
	char *end;
	long p = strtol(port, &end, 10);
	unsigned long long bps = strtoull(rate, NULL, 10);
	if (inet_pton(AF_INET, dst, &a.f.dst) != 1 || *end || p <= 0 || p > 65535 || bps == 0 ||
	    parse_pids(&a, keep) < 0) {
		say("bad parameters: dst an IPv4 address, port 1-65535, rate in bits/s, keep up to %d PIDs below "
		    "0x1fff",
		    ADAPT_KEEP_MAX);
		return 2;
	}
	a.f.dst_prefix = 32;
	char src[32];
	if (an_service_param(a.s, "src", src, sizeof(src)) == 0) {
		if (inet_pton(AF_INET, src, &a.f.src) != 1) {
			say("bad src '%s' (an IPv4 address)", src);
			return 2;
		}
		a.f.src_prefix = 32;
	}
	a.f.proto = IPPROTO_UDP;
	a.f.dport_lo = a.f.dport_hi = (uint16_t)p;
	char spec[160];
	snprintf(spec, sizeof(spec), "iface_capacity_bps dev=%s thin=0-%llu full=%llu-", dev, bps, bps);
	if (an_service_subscribe(a.s, spec, NULL) < 0) {
		say("cannot subscribe");
		return 1;
	}
	say("asleep: the stream to %s:%ld needs %llu bits/s; below that on %s, only PIDs %s and the tables go on", dst,
	    p, bps, dev, keep);
	for (;;) {
		struct an_service_msg m;
		int r = an_service_recv(a.s, &m, -1);
		if (r == -EPIPE)
			break;
		if (r < 0)
			continue;
		switch (m.kind) {
		case AN_SVC_SUBSCRIBED:
			if (m.status)
				say("the link's capacity cannot be watched: %s", strerror(-m.status));
			break;
		case AN_SVC_EVENT: {
			char text[512], state[32] = "";
			snprintf(text, sizeof(text), "%.*s", (int)m.len, m.data ? (const char *)m.data : "");
			if (m.handle == 0)
				say("node: %s", text);
			else if (an_service_event_value(&m, "state", state, sizeof(state)) == 0 &&
				 !strcmp(state, "thin"))
				set_thin(&a, true, text);
			else if (!strcmp(state, "full"))
				set_thin(&a, false, text);
			break;
		}
		case AN_SVC_FILTER:
			if (m.tag != a.filter_tag)
				break;
			a.filter_tag = 0;
			if (m.status) {
				say("the stream's filter is refused: %s", strerror(-m.status));
				break;
			}
			a.filter = m.handle;
			say("awake: filter %u installed %.1f ms after the event", a.filter,
			    (double)(now_ns() - a.thin_ns) / 1e6);
			if (!a.thin) {
				an_service_filter_del(a.s, a.filter);
				a.filter = 0;
			}
			break;
		case AN_SVC_PACKET: {
			size_t n = 0;
			enum an_verdict v = a.thin ? thin_packet(&a, m.data, m.len, out, &n) : AN_ACCEPT;
			an_service_verdict(a.s, m.packet_id, v, v == AN_MODIFIED ? out : NULL, n);
			break;
		}
		case AN_SVC_PARAMS:
			say("new parameters are not taken: restart the service to change them");
			break;
		}
	}
	say("node gone");
	an_service_close(a.s);
	return 0;
}
