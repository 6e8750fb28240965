// SPDX-License-Identifier: MIT
/*
 * /proc/net/route (kroute.h): a header line, then per route "Iface
 * Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT", the
 * addresses as the kernel's __be32 printed with %08X, so that the value
 * read back is the address in network order on this host. Flags: RTF_UP
 * 0x1, RTF_GATEWAY 0x2.
 */
#include "core/kroute.h"

#include <net/route.h>
#include <string.h>

enum kroute_kind kroute_lookup(FILE *f, uint32_t dst, char ret_dev[KROUTE_DEV_MAX])
{
	char line[256];
	enum kroute_kind best = KROUTE_NONE;
	int best_len = -1;
	unsigned best_metric = 0;
	if (ret_dev)
		ret_dev[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char ifname[KROUTE_DEV_MAX];
		unsigned d, gw, flags, refcnt, use, metric, mask;
		if (sscanf(line, "%15s %x %x %x %u %u %u %x", ifname, &d, &gw, &flags, &refcnt, &use, &metric, &mask) !=
			8 ||
		    !(flags & RTF_UP) || (dst & mask) != (d & mask))
			continue;
		int len = __builtin_popcount(mask);
		if (len > best_len || (len == best_len && metric < best_metric)) {
			best_len = len;
			best_metric = metric;
			best = (flags & RTF_GATEWAY) && gw ? KROUTE_GATEWAY : KROUTE_DIRECT;
			if (ret_dev)
				memcpy(ret_dev, ifname, sizeof(ifname));
		}
	}
	return best;
}
