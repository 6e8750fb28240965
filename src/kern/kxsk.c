// SPDX-License-Identifier: MIT
/*
 * AF_XDP's privileged half (kxsk.h): what needs CAP_NET_RAW (the sockets),
 * CAP_NET_ADMIN (a mark) and CAP_IPC_LOCK (pinning the UMEM without
 * charging anyone's lock limit). Nothing is bound here: the rings can only
 * be mapped before the bind, by the process that reads them.
 */
#include "kern/kxsk.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

unsigned kxsk_queues(unsigned ifindex)
{
	struct ifreq ifr = {0};
	if (!if_indextoname(ifindex, ifr.ifr_name))
		return 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	struct ethtool_channels ch = {.cmd = ETHTOOL_GCHANNELS};
	ifr.ifr_data = (void *)&ch;
	unsigned n = 1;
	if (ioctl(fd, SIOCETHTOOL, &ifr) == 0) {
		unsigned q = ch.rx_count > ch.combined_count ? ch.rx_count : ch.combined_count;
		if (q > 0)
			n = q;
	}
	close(fd);
	return n;
}

int kxsk_socket(size_t len, unsigned frame, int *ret_sock, int *ret_mem)
{
	int r;
	int mem = memfd_create("anode-xsk-umem", MFD_CLOEXEC);
	if (mem < 0)
		return -errno;
	int sock = socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (sock < 0 || ftruncate(mem, (off_t)len) < 0) {
		r = -errno;
		goto fail;
	}
	void *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, mem, 0);
	if (area == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	struct xdp_umem_reg mr = {.addr = (uintptr_t)area, .len = len, .chunk_size = frame};
	r = setsockopt(sock, SOL_XDP, XDP_UMEM_REG, &mr, sizeof(mr)) < 0 ? -errno : 0;
	/* The pages stay pinned by the UMEM; the child maps them from the
	 * memfd. */
	munmap(area, len);
	if (r < 0)
		goto fail;
	*ret_sock = sock;
	*ret_mem = mem;
	return 0;
fail:
	if (sock >= 0)
		close(sock);
	close(mem);
	return r;
}

int kxsk_raw_socket(uint32_t mark)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_RAW);
	if (fd < 0)
		return -errno;
	/* Marked, so that anode's NFQUEUE rules let a packet that loops back
	 * to this host by. */
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}
