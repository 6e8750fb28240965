// SPDX-License-Identifier: MIT
/*
 * Packet buffer pool (see pkt.h): one allocation, a free list.
 */
#include "core/pkt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct pkt_pool {
	struct pkt *all;
	struct pkt *free;
	size_t n, available;
	size_t share;
	uint32_t held[PKT_OWNERS];
};

struct pkt_pool *pkt_pool_new(size_t n)
{
	struct pkt_pool *pool = calloc(1, sizeof(*pool));
	if (!pool)
		return NULL;
	/* Aligned so that contexts start on a cache line. */
	if (posix_memalign((void **)&pool->all, 64, n * sizeof(struct pkt))) {
		free(pool);
		return NULL;
	}
	pool->n = n;
	pool->share = n;
	for (size_t i = 0; i < n; i++) {
		pool->all[i].owner = 0;
		pkt_put(pool, &pool->all[i]);
	}
	return pool;
}

void pkt_pool_free(struct pkt_pool *pool)
{
	if (!pool)
		return;
	free(pool->all);
	free(pool);
}

struct pkt *pkt_get(struct pkt_pool *pool)
{
	struct pkt *p = pool->free;
	if (!p)
		return NULL;
	pool->free = p->next;
	pool->available--;
	p->next = NULL;
	p->len = 0;
	p->origin = AN_ORIGIN_NET;
	p->resumed = 0;
	p->hop_taken = 0;
	p->truncated = 0;
	p->work_set = 0;
	p->held = NULL;
	p->queued = NULL;
	p->applink = 0;
	memset(&p->meta, 0, sizeof(p->meta));
	return p;
}

void pkt_put(struct pkt_pool *pool, struct pkt *p)
{
	if (p->owner) {
		pool->held[p->owner]--;
		p->owner = 0;
	}
	p->next = pool->free;
	pool->free = p;
	pool->available++;
}

size_t pkt_pool_available(const struct pkt_pool *pool)
{
	return pool->available;
}

size_t pkt_pool_size(const struct pkt_pool *pool)
{
	return pool->n;
}

void pkt_queue_push(struct pkt_queue *q, struct pkt *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
}

struct pkt *pkt_queue_pop(struct pkt_queue *q)
{
	struct pkt *p = q->head;
	if (!p)
		return NULL;
	q->head = p->next;
	if (!q->head)
		q->tail = NULL;
	q->len--;
	p->next = NULL;
	return p;
}

void pkt_pool_set_share(struct pkt_pool *pool, size_t max_per_owner)
{
	pool->share = max_per_owner ? max_per_owner : pool->n;
}

int pkt_charge(struct pkt_pool *pool, struct pkt *p, uint16_t owner)
{
	if (owner == 0 || owner >= PKT_OWNERS)
		return -EINVAL;
	if (p->owner == owner)
		return 0;
	if (pool->held[owner] >= pool->share)
		return -ENOBUFS;
	if (p->owner)
		pool->held[p->owner]--;
	pool->held[owner]++;
	p->owner = owner;
	return 0;
}

size_t pkt_owner_held(const struct pkt_pool *pool, uint16_t owner)
{
	return owner < PKT_OWNERS ? pool->held[owner] : 0;
}
