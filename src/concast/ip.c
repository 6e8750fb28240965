// SPDX-License-Identifier: MIT
/*
 * Concast on IP, router mode (seed 001 §3; docs/wire.md §9): the raw socket
 * with IP_ROUTER_ALERT that takes concast datagrams (protocol 253, Router
 * Alert, AppID) from the kernel's forwarding path, and sending them with
 * our own IP header (G as the source of data).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "concast/room_impl.h"
#include "core/log.h"

/* Send a concast packet on IP toward `to`, with the flow's AppID, Router
 * Alert when every concast router on the way must see it, and src as the IP
 * source (G for data, this node for signalling). Consumes q. */
void concast_ip_send(struct concast_room *r, struct pkt *q, const struct an_addr *to, const struct an_flow *flow,
		     const struct an_addr *src, bool router_alert)
{
	struct node *n = r->n;
	size_t hl;
	uint32_t s, d;
	memcpy(&s, src->ip + 12, 4);
	memcpy(&d, to->ip + 12, 4);
	if (wire_ipv4_concast_build(r->raw_buf, RAW_BUF, s, d, flow->app_id, router_alert, q->len, &hl) < 0) {
		pkt_put(n->pool, q);
		return;
	}
	memcpy(r->raw_buf + hl, q->ctx.pkt, q->len);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = d};
	if (sendto(r->raw, r->raw_buf, hl + q->len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		r->c.ip_send_errors++;
	else
		n->c.forwarded++;
	pkt_put(n->pool, q);
}

/* ---- concast on IP (router mode) ---- */

/* Datagrams from the raw socket: the ANEP packet inside goes through the
 * node like any other, from the IP source (port 3322: a router node's
 * address). */
static void raw_readable(void *arg, int fd, uint32_t events)
{
	struct concast_room *r = arg;
	struct node *n = r->n;
	(void)events;
	for (int budget = 64; budget > 0; budget--) {
		ssize_t k = recv(fd, r->raw_buf, RAW_BUF, MSG_DONTWAIT | MSG_TRUNC);
		if (k < 0)
			return;
		n->c.received++;
		struct wire_ipv4_concast ip;
		if ((size_t)k > RAW_BUF || wire_ipv4_concast_parse(r->raw_buf, (size_t)k, &ip) < 0 ||
		    ip.payload_len > AN_PKT_MAX || !ip.has_app_id) {
			r->c.malformed++;
			n->c.drop_malformed++;
			continue;
		}
		/* Only concast rides on protocol 253 (the Type ID, before the
		 * node parses the rest); the room checks the AppID against the
		 * flow when it parses the message (concast_app_id_ok). */
		const uint8_t *payload = r->raw_buf + ip.payload_off;
		uint16_t type = ip.payload_len >= 4 ? (uint16_t)(payload[2] << 8 | payload[3]) : 0;
		if (type != WIRE_TYPE_CONCAST_DATA && type != WIRE_TYPE_CONCAST_SIGNAL) {
			r->c.malformed++;
			n->c.drop_malformed++;
			continue;
		}
		struct pkt *p = pkt_get(n->pool);
		if (!p) {
			n->c.drop_no_buffer++;
			continue;
		}
		memcpy(p->ctx.pkt, payload, ip.payload_len);
		p->len = ip.payload_len;
		p->origin = AN_ORIGIN_NET;
		p->rx_ns = loop_now_ns();
		memset(&p->from, 0, sizeof(p->from));
		p->from.ip[10] = p->from.ip[11] = 0xff;
		memcpy(p->from.ip + 12, &ip.src, 4);
		p->from.port = n->local.port;
		p->meta.ingress = PKT_IN_RAW;
		p->meta.ip_src = ip.src;
		p->meta.ip_dst = ip.dst;
		p->meta.has_app_id = 1;
		p->meta.app_id = ip.app_id;
		r->c.ip_received++;
		node_input(n, p);
	}
}

/* Open the raw socket while still root: protocol 253, Router Alert taps,
 * our own IP headers. */
int concast_ip_open(struct concast_room *r)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, WIRE_IPPROTO_CONCAST);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, IPPROTO_IP, IP_ROUTER_ALERT, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	r->raw_buf = malloc(RAW_BUF);
	if (!r->raw_buf || loop_fd_add(r->n->loop, fd, EPOLLIN, raw_readable, r) < 0) {
		close(fd);
		return -ENOMEM;
	}
	r->raw = fd;
	return 0;
}
