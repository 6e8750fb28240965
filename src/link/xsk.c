// SPDX-License-Identifier: MIT
/*
 * AF_XDP ports and the raw socket behind them (xsk.h). The rings are read
 * and written with libxdp's accessors (xdp/xsk.h), which carry the memory
 * ordering the kernel's side expects; the setup is done here rather than by
 * libxdp's xsk_socket__create, because that one makes the socket, registers
 * the UMEM and binds in one process, and in anoded the first two need the
 * privileged parent and the rest the child's own memory.
 */
#include "link/xsk.h"

#include <errno.h>
#include <stddef.h>
#include <linux/if_xdp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <xdp/xsk.h>

#include "core/log.h"
#include "link/xsk_frame.h"
#include "wire/wire.h"

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

#define XSK_TX_SIZE 512 /* the TX and completion rings */

struct xsk_port {
	int fd, mem;
	unsigned ifindex, queue, frame;
	uint8_t *umem;
	size_t umem_len;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp, rx;
	void *fill_map, *comp_map, *rx_map, *tx_map;
	size_t fill_len, comp_len, rx_len, tx_len;
	uint64_t malformed;
	/* Frames to send from (the UMEM's second half) not in the kernel's
	 * hands: a stack of their addresses. */
	uint64_t *tx_free;
	unsigned n_tx_free, tx_queued;
};

static void *ring_map(int fd, off_t pgoff, size_t len)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, pgoff);
	return m == MAP_FAILED ? NULL : m;
}

int xsk_port_open(int sock, int mem, size_t mem_len, unsigned frame, unsigned ifindex, unsigned queue,
		  struct xsk_port **ret)
{
	struct xsk_port *p = calloc(1, sizeof(*p));
	if (!p) {
		close(sock);
		close(mem);
		return -ENOMEM;
	}
	p->fd = sock;
	p->mem = mem;
	p->ifindex = ifindex;
	p->queue = queue;
	p->frame = frame;
	const char *step = "the UMEM";
	int r = -EINVAL;
	size_t n = frame ? mem_len / frame / 2 : 0; /* frames to receive into; as many to send from */
	if (frame < 2048 || (frame & (frame - 1)) || n == 0 || (n & (n - 1)) || n > 65536)
		goto fail;
	p->tx_free = calloc(n, sizeof(*p->tx_free));
	if (!p->tx_free) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		p->tx_free[p->n_tx_free++] = (uint64_t)(2 * n - 1 - i) * frame;
	p->umem = mmap(NULL, mem_len, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
	if (p->umem == MAP_FAILED) {
		p->umem = NULL;
		r = -errno;
		goto fail;
	}
	p->umem_len = mem_len;
	uint32_t fill_n = (uint32_t)n, comp_n = XSK_TX_SIZE, rx_n = (uint32_t)n, tx_n = XSK_TX_SIZE;
	step = "its rings";
	if (setsockopt(sock, SOL_XDP, XDP_UMEM_FILL_RING, &fill_n, sizeof(fill_n)) < 0 ||
	    setsockopt(sock, SOL_XDP, XDP_UMEM_COMPLETION_RING, &comp_n, sizeof(comp_n)) < 0 ||
	    setsockopt(sock, SOL_XDP, XDP_RX_RING, &rx_n, sizeof(rx_n)) < 0 ||
	    setsockopt(sock, SOL_XDP, XDP_TX_RING, &tx_n, sizeof(tx_n)) < 0) {
		r = -errno;
		goto fail;
	}
	struct xdp_mmap_offsets off;
	socklen_t ol = sizeof(off);
	if (getsockopt(sock, SOL_XDP, XDP_MMAP_OFFSETS, &off, &ol) < 0) {
		r = -errno;
		goto fail;
	}
	step = "mapping its rings";
	p->fill_len = off.fr.desc + fill_n * sizeof(uint64_t);
	p->comp_len = off.cr.desc + comp_n * sizeof(uint64_t);
	p->rx_len = off.rx.desc + rx_n * sizeof(struct xdp_desc);
	p->tx_len = off.tx.desc + tx_n * sizeof(struct xdp_desc);
	p->fill_map = ring_map(sock, XDP_UMEM_PGOFF_FILL_RING, p->fill_len);
	p->comp_map = ring_map(sock, XDP_UMEM_PGOFF_COMPLETION_RING, p->comp_len);
	p->rx_map = ring_map(sock, XDP_PGOFF_RX_RING, p->rx_len);
	p->tx_map = ring_map(sock, XDP_PGOFF_TX_RING, p->tx_len);
	if (!p->fill_map || !p->comp_map || !p->rx_map || !p->tx_map) {
		r = -errno;
		goto fail;
	}
	uint8_t *fm = p->fill_map, *cm = p->comp_map, *rm = p->rx_map, *tm = p->tx_map;
	p->fill = (struct xsk_ring_prod){.mask = fill_n - 1,
					 .size = fill_n,
					 .producer = (void *)(fm + off.fr.producer),
					 .consumer = (void *)(fm + off.fr.consumer),
					 .ring = fm + off.fr.desc,
					 .flags = (void *)(fm + off.fr.flags)};
	p->fill.cached_prod = *p->fill.producer;
	p->fill.cached_cons = *p->fill.consumer + fill_n; /* as libxdp keeps it: size ahead */
	p->comp = (struct xsk_ring_cons){.mask = comp_n - 1,
					 .size = comp_n,
					 .producer = (void *)(cm + off.cr.producer),
					 .consumer = (void *)(cm + off.cr.consumer),
					 .ring = cm + off.cr.desc,
					 .flags = (void *)(cm + off.cr.flags)};
	p->rx = (struct xsk_ring_cons){.mask = rx_n - 1,
				       .size = rx_n,
				       .producer = (void *)(rm + off.rx.producer),
				       .consumer = (void *)(rm + off.rx.consumer),
				       .ring = rm + off.rx.desc,
				       .flags = (void *)(rm + off.rx.flags)};
	p->rx.cached_prod = *p->rx.producer;
	p->rx.cached_cons = *p->rx.consumer;
	p->tx = (struct xsk_ring_prod){.mask = tx_n - 1,
				       .size = tx_n,
				       .producer = (void *)(tm + off.tx.producer),
				       .consumer = (void *)(tm + off.tx.consumer),
				       .ring = tm + off.tx.desc,
				       .flags = (void *)(tm + off.tx.flags)};
	p->tx.cached_prod = *p->tx.producer;
	p->tx.cached_cons = *p->tx.consumer + tx_n;
	p->comp.cached_prod = *p->comp.producer;
	p->comp.cached_cons = *p->comp.consumer;
	/* Every frame waits in the fill ring for the kernel. */
	uint32_t idx;
	if (xsk_ring_prod__reserve(&p->fill, fill_n, &idx) != fill_n) {
		r = -ENOBUFS;
		goto fail;
	}
	for (uint32_t i = 0; i < fill_n; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = (uint64_t)i * frame;
	xsk_ring_prod__submit(&p->fill, fill_n);
	step = "binding it";
	struct sockaddr_xdp sx = {.sxdp_family = AF_XDP, .sxdp_ifindex = ifindex, .sxdp_queue_id = queue};
	if (bind(sock, (struct sockaddr *)&sx, sizeof(sx)) < 0) {
		r = -errno;
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	log_warn("AF_XDP: interface %u queue %u: %s: %s", ifindex, queue, step, strerror(-r));
	xsk_port_close(p);
	return r;
}

void xsk_port_close(struct xsk_port *p)
{
	if (!p)
		return;
	if (p->tx_map)
		munmap(p->tx_map, p->tx_len);
	if (p->rx_map)
		munmap(p->rx_map, p->rx_len);
	if (p->comp_map)
		munmap(p->comp_map, p->comp_len);
	if (p->fill_map)
		munmap(p->fill_map, p->fill_len);
	if (p->umem)
		munmap(p->umem, p->umem_len);
	/* The socket's close takes it out of the XDP program's map: what
	 * comes next goes up the stack again. */
	close(p->fd);
	close(p->mem);
	free(p->tx_free);
	free(p);
}

int xsk_port_fd(const struct xsk_port *p)
{
	return p->fd;
}

unsigned xsk_port_ifindex(const struct xsk_port *p)
{
	return p->ifindex;
}

uint64_t xsk_port_malformed(const struct xsk_port *p)
{
	return p->malformed;
}

/*
 * A packet sent by this host (a veth's peer, a local socket) may arrive
 * with its UDP or TCP checksum left to offload: the field holds the
 * pseudo-header's sum only (CHECKSUM_PARTIAL). NFQUEUE finishes such
 * checksums before queueing; XDP sees the frame as it is, so it is done
 * here, for the handlers and for whoever receives the packet. A field that
 * is anything else is left alone: a router does not mend a checksum that
 * was wrong.
 */
static void finish_partial_checksum(uint8_t *ip, size_t len)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	uint8_t proto = ip[9];
	if (ihl < 20 || len <= ihl || (ip[6] & 0x3f) || ip[7] || (proto != IPPROTO_UDP && proto != IPPROTO_TCP))
		return;
	size_t l4 = len - ihl, at = proto == IPPROTO_UDP ? 6 : 16;
	if (l4 < at + 2)
		return;
	uint8_t *c = ip + ihl + at;
	if (proto == IPPROTO_UDP && !c[0] && !c[1])
		return; /* no checksum */
	uint8_t ph[4] = {0, proto, (uint8_t)(l4 >> 8), (uint8_t)l4};
	uint32_t sum = wire_csum_add(wire_csum_add(0, ip + 12, 8), ph, 4);
	/* The kernel leaves the sum folded, not inverted, in the field. A
	 * finished checksum that happens to equal it is recomputed to itself. */
	if ((uint16_t)(c[0] << 8 | c[1]) == wire_csum_fold(sum))
		wire_ipv4_fix_checksums(ip, len);
}

uint64_t xsk_port_kernel_drops(const struct xsk_port *p)
{
	struct xdp_statistics st = {0};
	socklen_t l = sizeof(st);
	if (getsockopt(p->fd, SOL_XDP, XDP_STATISTICS, &st, &l) < 0)
		return 0;
	return st.rx_dropped + st.rx_ring_full;
}

unsigned xsk_port_read(struct xsk_port *p, unsigned max, void (*fn)(void *arg, struct xsk_packet *pkt), void *arg)
{
	uint32_t idx, fidx;
	unsigned n = xsk_ring_cons__peek(&p->rx, max, &idx);
	if (!n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx + i);
		/* The kernel's numbers, checked all the same: a frame is
		 * read only inside the UMEM. */
		uint64_t a = xsk_umem__add_offset_to_addr(d->addr);
		size_t hl = sizeof(struct xsk_frame_hdr) + 14;
		if (a >= p->umem_len || d->len > p->umem_len - a || d->len < hl + 20) {
			p->malformed++;
			continue;
		}
		uint8_t *f = p->umem + a;
		struct xsk_frame_hdr h;
		memcpy(&h, f, sizeof(h));
		if (h.version != XSK_FRAME_VERSION) {
			p->malformed++;
			continue;
		}
		/* Writable to the end of its frame (a rewrite may grow it). */
		size_t frame_end = (a / p->frame + 1) * p->frame;
		struct xsk_packet pkt = {
		    .filter = h.filter,
		    .ifindex = h.ifindex,
		    .out_ifindex = (h.flags & XSK_FRAME_FORWARD) ? h.out_ifindex : 0,
		    .dmac = f + offsetof(struct xsk_frame_hdr, dmac),
		    .smac = f + offsetof(struct xsk_frame_hdr, smac),
		    .data = f + hl,
		    .len = d->len - hl,
		    .cap = frame_end - (a + hl),
		};
		finish_partial_checksum(pkt.data, pkt.len);
		fn(arg, &pkt);
	}
	xsk_ring_cons__release(&p->rx, n);
	/* Each buffer back to the kernel: the handlers copied what they keep.
	 * The fill ring holds every frame, so there is room. */
	if (xsk_ring_prod__reserve(&p->fill, n, &fidx) == n) {
		for (unsigned i = 0; i < n; i++) {
			uint64_t a = xsk_ring_cons__rx_desc(&p->rx, idx + i)->addr;
			*xsk_ring_prod__fill_addr(&p->fill, fidx + i) = xsk_umem__extract_addr(a) / p->frame * p->frame;
		}
		xsk_ring_prod__submit(&p->fill, n);
	}
	return n;
}

/* ---- going on by the port ---- */

/* Frames the kernel has sent come back from the completion ring. */
static void tx_reclaim(struct xsk_port *p)
{
	uint32_t idx;
	unsigned n = xsk_ring_cons__peek(&p->comp, XSK_TX_SIZE, &idx);
	for (unsigned i = 0; i < n; i++)
		p->tx_free[p->n_tx_free++] = *xsk_ring_cons__comp_addr(&p->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&p->comp, n);
}

bool xsk_port_send(struct xsk_port *p, const uint8_t *pkt, size_t len, const uint8_t dmac[6], const uint8_t smac[6])
{
	if (len < 20 || len + 14 > p->frame || pkt[8] <= 1)
		return false;
	if (!p->n_tx_free)
		tx_reclaim(p);
	uint32_t idx;
	if (!p->n_tx_free || xsk_ring_prod__reserve(&p->tx, 1, &idx) != 1)
		return false;
	uint64_t a = p->tx_free[--p->n_tx_free];
	uint8_t *f = p->umem + a;
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	f[13] = 0x00;
	uint8_t *ip = f + 14;
	memcpy(ip, pkt, len);
	/* TTL - 1 and its checksum (RFC 1624): the TTL is the high octet of
	 * its 16-bit word. */
	uint32_t c = (uint16_t) ~(ip[10] << 8 | ip[11]) + (uint16_t) ~(ip[8] << 8) + (uint16_t)((ip[8] - 1) << 8);
	c = (c & 0xffff) + (c >> 16);
	c = (c & 0xffff) + (c >> 16);
	ip[8]--;
	ip[10] = (uint8_t)(~c >> 8);
	ip[11] = (uint8_t)~c;
	*xsk_ring_prod__tx_desc(&p->tx, idx) = (struct xdp_desc){.addr = a, .len = (uint32_t)(len + 14)};
	xsk_ring_prod__submit(&p->tx, 1);
	p->tx_queued++;
	return true;
}

void xsk_port_kick(struct xsk_port *p)
{
	/* The kernel sends a bounded batch per call (copy mode): call again
	 * while it takes some and some are left. What it leaves waits in the
	 * ring for the next kick. */
	for (int tries = 0; p->tx_queued && tries < 64; tries++) {
		uint32_t before = __atomic_load_n(p->tx.consumer, __ATOMIC_ACQUIRE);
		int e = sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 ? errno : 0;
		if (e && e != EAGAIN && e != EBUSY && e != ENOBUFS && e != EINTR) {
			log_ratelimited(LOG_INFO, "AF_XDP: interface %u: cannot send: %s", p->ifindex, strerror(e));
			break;
		}
		uint32_t taken = __atomic_load_n(p->tx.consumer, __ATOMIC_ACQUIRE) - before;
		p->tx_queued -= taken < p->tx_queued ? taken : p->tx_queued;
		if (!taken && e != EINTR)
			break;
	}
	tx_reclaim(p);
}

/* ---- going on by the raw socket ---- */

#define XSK_OUT_BATCH 32
#define XSK_OUT_SLOT 0xffff

struct xsk_out {
	int fd;
	unsigned n;
	uint8_t *slot[XSK_OUT_BATCH];
	struct sockaddr_in to[XSK_OUT_BATCH];
	struct iovec iov[XSK_OUT_BATCH];
	struct mmsghdr msg[XSK_OUT_BATCH];
	unsigned lost; /* refused since the caller last heard */
};

struct xsk_out *xsk_out_new(int fd)
{
	struct xsk_out *o = calloc(1, sizeof(*o));
	if (!o) {
		close(fd);
		return NULL;
	}
	o->fd = fd;
	for (unsigned i = 0; i < XSK_OUT_BATCH; i++) {
		o->slot[i] = malloc(XSK_OUT_SLOT);
		if (!o->slot[i]) {
			xsk_out_free(o);
			return NULL;
		}
	}
	return o;
}

void xsk_out_free(struct xsk_out *o)
{
	if (!o)
		return;
	xsk_out_flush(o);
	for (unsigned i = 0; i < XSK_OUT_BATCH; i++)
		free(o->slot[i]);
	close(o->fd);
	free(o);
}

bool xsk_out_send(struct xsk_out *o, const uint8_t *pkt, size_t len)
{
	if (len < 20 || len > XSK_OUT_SLOT || pkt[0] >> 4 != 4 || pkt[8] <= 1)
		return false;
	if (o->n == XSK_OUT_BATCH)
		o->lost = xsk_out_flush(o);
	unsigned i = o->n++;
	memcpy(o->slot[i], pkt, len);
	/* The hop a router's forwarding takes. The header checksum is the
	 * kernel's: it writes it for every IP_HDRINCL packet. */
	o->slot[i][8]--;
	o->to[i] = (struct sockaddr_in){.sin_family = AF_INET};
	memcpy(&o->to[i].sin_addr, pkt + 16, 4);
	o->iov[i] = (struct iovec){.iov_base = o->slot[i], .iov_len = len};
	o->msg[i].msg_hdr = (struct msghdr){
	    .msg_name = &o->to[i], .msg_namelen = sizeof(o->to[i]), .msg_iov = &o->iov[i], .msg_iovlen = 1};
	return true;
}

unsigned xsk_out_flush(struct xsk_out *o)
{
	unsigned i = 0, lost = o->lost;
	while (i < o->n) {
		int r = sendmmsg(o->fd, o->msg + i, o->n - i, MSG_DONTWAIT);
		if (r > 0) {
			i += (unsigned)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* The first one the kernel refused (no route, too big for the
		 * next link, a full buffer): lost, as a router's drop. */
		log_ratelimited(LOG_INFO, "AF_XDP: a packet could not go on: %s", strerror(errno));
		lost++;
		i++;
	}
	o->n = 0;
	o->lost = 0;
	return lost;
}

