// SPDX-License-Identifier: MIT
/*
 * anode-cache: the caching service for a mobile host (seed 000 §3.2;
 * docs/apps/caching.md), a service process on libanode's service API.
 *
 * A client on a mobile host plays an RTSP stream from a server across this
 * node. While the client is there the service only reads the RTSP control
 * connection (two filters on its TCP port, a few packets per session) to
 * learn the session, its control URL and the client's RTP ports; the
 * stream crosses the node with no filter. It subscribes to the presence of
 * the client. When the client goes, it installs a filter for the stream,
 * stores what comes (dropping it: the link is gone) and sends PAUSE on the
 * client's session from an RTSP connection of its own, which it keeps
 * open (GStreamer's server stops a session whose connection closes). When
 * the client comes back it sends it what it stored, in order, sends PLAY
 * on that connection, lets the stream through its filter until the filter
 * is gone, and sleeps again.
 *
 * Parameters: server=A.B.C.D[:PORT] (the RTSP server, port 554 by
 * default), client=A.B.C.D (the mobile host), store=BYTES (at most this
 * much kept while the client is away; 4M by default; K and M suffixes),
 * pause=yes|no (no: keep the stream while the client is away without
 * pausing the session, for a short absence or a server that must not
 * stop; yes by default). New parameters (anode svc param) take effect
 * at the client's next absence.
 * It says what it does on standard error (the node's log), a line each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "anode/service.h"
#include "wire/rtsp.h"
#include "wire/wire.h"

#define say(...) (fprintf(stderr, "cache: " __VA_ARGS__), fputc('\n', stderr))

#define CACHE_PKT_MAX 2048 /* an RTP or RTCP datagram's payload, at most */
#define CACHE_SETUPS 8	   /* SETUPs awaiting their answers */

struct setup_seen {
	uint16_t port; /* the client's end of the connection; 0: free */
	uint32_t cseq;
};

struct stored {
	uint16_t dport, len;
	uint8_t data[];
};

/* The service's own RTSP connection to the server: one request at a time. */
struct rtsp_conn {
	int fd; /* -1: none */
	bool connected;
	uint32_t cseq;
	char out[1024];
	size_t out_len;
	char in[WIRE_RTSP_HDR_MAX];
	size_t in_len;
	char method[WIRE_RTSP_METHOD_MAX + 1]; /* the request in flight */
};

struct cache {
	struct an_service *s;
	uint32_t server, client; /* network order */
	uint16_t rtsp_port;
	size_t store_max;
	bool pause;

	/* What the control connection told. */
	char session[WIRE_RTSP_SESSION_MAX + 1];
	char uri[WIRE_RTSP_URI_MAX + 1]; /* PLAY's (the aggregate control URL) */
	uint16_t rtp_lo, rtp_hi;	 /* the client's ports */
	uint32_t ctl_filters[2];	 /* handles: requests, replies */
	struct setup_seen setups[CACHE_SETUPS];
	size_t next_setup;
	uint64_t unmatched; /* answers naming a session, to no SETUP seen */

	/* The stream's filter while the client is away or just back. */
	uint32_t filter, filter_tag;
	bool away;   /* the client is absent: store what comes */
	bool paused; /* PAUSE sent for this absence: PLAY at the end */
	uint64_t away_ns;

	struct stored **store;
	size_t n_stored, cap_stored, bytes_stored;
	uint64_t overflow; /* packets not kept this absence: the store was full */

	struct rtsp_conn conn;
	int udp; /* replays go out from here */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_size(const char *v, size_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		n <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		n <<= 20, end++;
	if (*end || n == 0 || n > (1ull << 30))
		return -EINVAL;
	*ret = (size_t)n;
	return 0;
}

static int parse_params(struct cache *c)
{
	char server[64], client[32], store[32] = "4M", pause[8] = "yes";
	if (an_service_param(c->s, "server", server, sizeof(server)) < 0 ||
	    an_service_param(c->s, "client", client, sizeof(client)) < 0) {
		say("parameters: server=A.B.C.D[:PORT] client=A.B.C.D [store=BYTES]");
		return -EINVAL;
	}
	an_service_param(c->s, "store", store, sizeof(store));
	char *colon = strchr(server, ':');
	c->rtsp_port = 554;
	if (colon) {
		*colon = 0;
		long p = strtol(colon + 1, NULL, 10);
		if (p <= 0 || p > 65535) {
			say("bad server port '%s'", colon + 1);
			return -EINVAL;
		}
		c->rtsp_port = (uint16_t)p;
	}
	if (inet_pton(AF_INET, server, &c->server) != 1 || inet_pton(AF_INET, client, &c->client) != 1) {
		say("server and client are IPv4 addresses");
		return -EINVAL;
	}
	if (parse_size(store, &c->store_max) < 0) {
		say("bad store '%s' (bytes, K or M: at most 1G)", store);
		return -EINVAL;
	}
	an_service_param(c->s, "pause", pause, sizeof(pause));
	if (strcmp(pause, "yes") != 0 && strcmp(pause, "no") != 0) {
		say("bad pause '%s' (yes or no)", pause);
		return -EINVAL;
	}
	c->pause = !strcmp(pause, "yes");
	return 0;
}

/* New parameters: store= and pause= change, each on its own; the server
 * and the client stay those of the start. */
static void params_changed(struct cache *c)
{
	char v[32];
	size_t size;
	if (an_service_param(c->s, "store", v, sizeof(v)) == 0) {
		if (parse_size(v, &size) == 0)
			c->store_max = size;
		else
			say("bad store '%s' (bytes, K or M: at most 1G): unchanged", v);
	}
	if (an_service_param(c->s, "pause", v, sizeof(v)) == 0) {
		if (!strcmp(v, "yes") || !strcmp(v, "no"))
			c->pause = !strcmp(v, "yes");
		else
			say("bad pause '%s' (yes or no): unchanged", v);
	}
	if (an_service_param(c->s, "server", v, sizeof(v)) == 0 || an_service_param(c->s, "client", v, sizeof(v)) == 0)
		say("server and client are those of the start: restart the service to change them");
	say("parameters: store %zu octets, pause %s", c->store_max, c->pause ? "yes" : "no");
}

/* ---- the service's own RTSP connection ---- */

static void conn_close(struct rtsp_conn *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->connected = false;
	k->out_len = k->in_len = 0;
	k->method[0] = 0;
}

static void conn_flush(struct rtsp_conn *k)
{
	while (k->connected && k->out_len) {
		ssize_t n = send(k->fd, k->out, k->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				say("RTSP connection: %s", strerror(errno));
				conn_close(k);
			}
			return;
		}
		memmove(k->out, k->out + n, k->out_len - (size_t)n);
		k->out_len -= (size_t)n;
	}
}

/* METHOD on the client's session, from the service's connection (opened
 * at the first request and kept: the session moves to it). */
static void conn_request(struct cache *c, const char *method)
{
	struct rtsp_conn *k = &c->conn;
	if (k->fd < 0) {
		k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {
		    .sin_family = AF_INET, .sin_port = htons(c->rtsp_port), .sin_addr.s_addr = c->server};
		if (k->fd < 0 || (connect(k->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS)) {
			say("cannot connect to the RTSP server: %s", strerror(errno));
			conn_close(k);
			return;
		}
	}
	if (k->method[0])
		say("%s sent before the answer to %s", method, k->method);
	ssize_t n =
	    wire_rtsp_request(k->out + k->out_len, sizeof(k->out) - k->out_len, method, c->uri, ++k->cseq, c->session);
	if (n < 0) {
		say("cannot write %s: %s", method, strerror((int)-n));
		return;
	}
	k->out_len += (size_t)n;
	snprintf(k->method, sizeof(k->method), "%s", method);
	conn_flush(k);
}

static void conn_event(struct cache *c, short revents)
{
	struct rtsp_conn *k = &c->conn;
	if (!k->connected && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			say("cannot connect to the RTSP server: %s", strerror(err));
			conn_close(k);
			return;
		}
		k->connected = true;
	}
	conn_flush(k);
	if (!(revents & (POLLIN | POLLHUP)) || k->fd < 0)
		return;
	ssize_t n = recv(k->fd, k->in + k->in_len, sizeof(k->in) - k->in_len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		say("the RTSP server closed the service's connection");
		conn_close(k);
		return;
	}
	if (n < 0)
		return;
	k->in_len += (size_t)n;
	for (;;) {
		struct wire_rtsp m;
		ssize_t used = wire_rtsp_parse(k->in, k->in_len, &m);
		if (used == 0 && k->in_len == sizeof(k->in))
			used = -EBADMSG;
		if (used < 0) {
			say("the RTSP server's answer does not parse: connection closed");
			conn_close(k);
			return;
		}
		if (used == 0)
			return;
		if (m.response)
			say("%s %u", k->method[0] ? k->method : "answer", m.status);
		k->method[0] = 0;
		memmove(k->in, k->in + used, k->in_len - (size_t)used);
		k->in_len -= (size_t)used;
	}
}

/* ---- what the client's control connection says ---- */

/* A SETUP the client sent, waiting for its answer. */
static struct setup_seen *setup_slot(struct cache *c, uint16_t port, uint32_t cseq, bool add)
{
	for (size_t i = 0; i < CACHE_SETUPS; i++)
		if (c->setups[i].port == port && c->setups[i].cseq == cseq)
			return &c->setups[i];
	if (!add)
		return NULL;
	struct setup_seen *e = &c->setups[c->next_setup++ % CACHE_SETUPS];
	*e = (struct setup_seen){.port = port, .cseq = cseq};
	return e;
}

/* What the client's requests and the server's answers say. The session
 * is taken only from a 200 answer on the connection, and with the CSeq, of
 * a SETUP the client was seen sending: an answer forged from the server's
 * address would have to guess both, and a request forged from the
 * client's cannot name a session. */
static void learn(struct cache *c, const struct wire_rtsp *m, uint16_t port)
{
	if (!m->response) {
		if (!strcmp(m->method, "SETUP") && m->has_cseq) {
			setup_slot(c, port, m->cseq, true);
			if (m->has_transport && m->client_port_lo && m->client_port_lo != c->rtp_lo) {
				c->rtp_lo = m->client_port_lo;
				c->rtp_hi = m->client_port_hi ? m->client_port_hi : m->client_port_lo;
				say("the client receives on ports %u-%u", c->rtp_lo, c->rtp_hi);
			}
		}
		if ((!strcmp(m->method, "PLAY") || (!c->uri[0] && !strcmp(m->method, "SETUP"))) &&
		    strcmp(m->uri, c->uri) != 0) {
			snprintf(c->uri, sizeof(c->uri), "%s", m->uri);
			say("control URL %s", c->uri);
		}
		return;
	}
	struct setup_seen *e = m->has_cseq ? setup_slot(c, port, m->cseq, false) : NULL;
	if (!e) {
		/* PLAY's and PAUSE's answers name the session known: fine. */
		if (m->has_session && strcmp(m->session, c->session) != 0 &&
		    (++c->unmatched <= 3 || c->unmatched % 100 == 0))
			say("an answer naming session %s to no SETUP seen from the client: ignored (%llu so far)",
			    m->session, (unsigned long long)c->unmatched);
		return;
	}
	e->port = 0; /* answered */
	if (m->status == 200 && m->has_session && strcmp(m->session, c->session) != 0) {
		snprintf(c->session, sizeof(c->session), "%s", m->session);
		say("session %s", c->session);
	}
}

/* Every whole RTSP message in one segment (the common case: a request or
 * an answer is a few hundred octets); a message split over segments is
 * not read, and the next one is. */
static void watch_control(struct cache *c, const uint8_t *pkt, size_t len, bool request)
{
	struct wire_ipv4_tcp t;
	if (wire_ipv4_tcp_parse(pkt, len, &t) < 0)
		return;
	const uint8_t *p = pkt + t.payload_off;
	size_t n = t.payload_len;
	uint16_t port = request ? t.sport : t.dport; /* the client's end */
	while (n) {
		struct wire_rtsp m;
		ssize_t used = wire_rtsp_parse(p, n, &m);
		if (used <= 0)
			return;
		if (m.response != !request) /* a request from the server, an answer from the client */
			return;
		learn(c, &m, port);
		p += used;
		n -= (size_t)used;
	}
}

/* ---- the stream while the client is away ---- */

static void store_clear(struct cache *c)
{
	for (size_t i = 0; i < c->n_stored; i++)
		free(c->store[i]);
	c->n_stored = c->bytes_stored = 0;
}

/* Keep an RTP (or RTCP) datagram for the client: true when kept. */
static bool store_add(struct cache *c, const uint8_t *p, size_t len)
{
	struct wire_ipv4_udp u;
	if (wire_ipv4_udp_parse(p, len, &u) < 0)
		return false;
	size_t n = u.payload_len;
	if (n > CACHE_PKT_MAX || c->bytes_stored + n > c->store_max) {
		c->overflow++;
		return false;
	}
	if (c->n_stored == c->cap_stored) {
		size_t cap = c->cap_stored ? c->cap_stored * 2 : 256;
		struct stored **s = realloc(c->store, cap * sizeof(*s));
		if (!s) {
			c->overflow++;
			return false;
		}
		c->store = s;
		c->cap_stored = cap;
	}
	struct stored *e = malloc(sizeof(*e) + n);
	if (!e) {
		c->overflow++;
		return false;
	}
	e->dport = ntohs(u.dport);
	e->len = (uint16_t)n;
	memcpy(e->data, p + u.payload_off, n);
	c->store[c->n_stored++] = e;
	c->bytes_stored += n;
	return true;
}

static void replay(struct cache *c)
{
	size_t sent = 0;
	for (size_t i = 0; i < c->n_stored; i++) {
		struct sockaddr_in sa = {
		    .sin_family = AF_INET, .sin_port = htons(c->store[i]->dport), .sin_addr.s_addr = c->client};
		/* Blocking: a full socket buffer waits rather than loses. */
		if (sendto(c->udp, c->store[i]->data, c->store[i]->len, 0, (struct sockaddr *)&sa, sizeof(sa)) >= 0)
			sent++;
	}
	say("client back after %llu ms: replayed %zu of %zu packets (%zu octets, %llu not kept)",
	    (unsigned long long)((now_ns() - c->away_ns) / 1000000), sent, c->n_stored, c->bytes_stored,
	    (unsigned long long)c->overflow);
	store_clear(c);
	c->overflow = 0;
}

static void client_gone(struct cache *c)
{
	if (c->away)
		return;
	if (!c->session[0] || !c->uri[0] || !c->rtp_lo) {
		say("client absent, but no session seen yet: nothing to keep");
		return;
	}
	c->away = true;
	c->away_ns = now_ns();
	if (!c->filter && !c->filter_tag) {
		struct an_filter f = {.src = c->server,
				      .src_prefix = 32,
				      .dst = c->client,
				      .dst_prefix = 32,
				      .proto = IPPROTO_UDP,
				      .dport_lo = c->rtp_lo,
				      .dport_hi = c->rtp_hi};
		if (an_service_filter_add(c->s, &f, &c->filter_tag) < 0)
			say("cannot ask for the stream's filter");
	}
	c->paused = c->pause;
	if (c->paused)
		conn_request(c, "PAUSE");
	say("client absent: keeping the stream%s", c->paused ? ", PAUSE sent" : " (no PAUSE)");
}

static void client_back(struct cache *c)
{
	if (!c->away)
		return;
	c->away = false;
	replay(c);
	if (c->paused)
		conn_request(c, "PLAY");
	if (c->filter) {
		an_service_filter_del(c->s, c->filter);
		say("filter %u removed: asleep", c->filter);
		c->filter = 0;
	}
}

static void on_packet(struct cache *c, const struct an_service_msg *m)
{
	enum an_verdict v = AN_ACCEPT;
	if (m->handle == c->ctl_filters[0] || m->handle == c->ctl_filters[1]) {
		watch_control(c, m->data, m->len, m->handle == c->ctl_filters[0]);
	} else if (c->away) {
		store_add(c, m->data, m->len);
		v = AN_DROP; /* kept for the client: the kernel would lose it */
	}
	an_service_verdict(c->s, m->packet_id, v, NULL, 0);
}

static void on_filter(struct cache *c, const struct an_service_msg *m, const uint32_t ctl_tags[2])
{
	for (int i = 0; i < 2; i++)
		if (m->tag == ctl_tags[i]) {
			if (m->status)
				say("the control connection's filter is refused: %s", strerror(-m->status));
			else
				c->ctl_filters[i] = m->handle;
			return;
		}
	if (m->tag != c->filter_tag)
		return;
	c->filter_tag = 0;
	if (m->status) {
		say("the stream's filter is refused: %s", strerror(-m->status));
		return;
	}
	c->filter = m->handle;
	say("awake: filter %u installed %.1f ms after the client went", c->filter,
	    (double)(now_ns() - c->away_ns) / 1e6);
	if (!c->away) { /* back before it was in */
		an_service_filter_del(c->s, c->filter);
		c->filter = 0;
	}
}

int main(void)
{
	static struct cache c = {.conn.fd = -1};
	c.s = an_service_open();
	if (!c.s) {
		say("no socket to the node: %s", strerror(errno));
		return 1;
	}
	if (parse_params(&c) < 0)
		return 2;
	c.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c.udp < 0) {
		say("socket: %s", strerror(errno));
		return 1;
	}
	/* The control connection, both ways: requests to the server's port,
	 * answers from it. */
	struct an_filter req = {.src = c.client,
				.src_prefix = 32,
				.dst = c.server,
				.dst_prefix = 32,
				.proto = IPPROTO_TCP,
				.dport_lo = c.rtsp_port,
				.dport_hi = c.rtsp_port};
	struct an_filter ans = {.src = c.server,
				.src_prefix = 32,
				.dst = c.client,
				.dst_prefix = 32,
				.proto = IPPROTO_TCP,
				.sport_lo = c.rtsp_port,
				.sport_hi = c.rtsp_port};
	uint32_t ctl_tags[2] = {0, 0};
	char spec[96], client[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &c.client, client, sizeof(client));
	snprintf(spec, sizeof(spec), "host_up host=%s absent=0-1 present=1-", client);
	if (an_service_filter_add(c.s, &req, &ctl_tags[0]) < 0 || an_service_filter_add(c.s, &ans, &ctl_tags[1]) < 0 ||
	    an_service_subscribe(c.s, spec, NULL) < 0) {
		say("cannot ask the node for filters and the client's presence");
		return 1;
	}
	say("watching %s's RTSP sessions with the server (port %u), keeping up to %zu octets", client, c.rtsp_port,
	    c.store_max);
	for (;;) {
		struct pollfd pf[2] = {{.fd = an_service_fd(c.s), .events = POLLIN},
				       {.fd = c.conn.fd, .events = POLLIN | (c.conn.connected ? 0 : POLLOUT)}};
		if (c.conn.connected && c.conn.out_len)
			pf[1].events |= POLLOUT;
		if (poll(pf, c.conn.fd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			break;
		if (c.conn.fd >= 0 && pf[1].revents)
			conn_event(&c, pf[1].revents);
		if (!pf[0].revents)
			continue;
		struct an_service_msg m;
		int r = an_service_recv(c.s, &m, 0);
		if (r == -EPIPE)
			break;
		if (r < 0)
			continue;
		switch (m.kind) {
		case AN_SVC_PACKET:
			on_packet(&c, &m);
			break;
		case AN_SVC_FILTER:
			on_filter(&c, &m, ctl_tags);
			break;
		case AN_SVC_SUBSCRIBED:
			if (m.status)
				say("the client's presence cannot be watched: %s", strerror(-m.status));
			break;
		case AN_SVC_EVENT: {
			char state[32] = "";
			if (m.handle == 0)
				say("node: %.*s", (int)m.len, m.data ? (const char *)m.data : "");
			else if (an_service_event_value(&m, "state", state, sizeof(state)) == 0 &&
				 !strcmp(state, "absent"))
				client_gone(&c);
			else if (!strcmp(state, "present"))
				client_back(&c);
			break;
		}
		case AN_SVC_PARAMS:
			params_changed(&c);
			break;
		}
	}
	say("node gone");
	store_clear(&c);
	free(c.store);
	conn_close(&c.conn);
	an_service_close(c.s);
	return 0;
}
