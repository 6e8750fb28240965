// SPDX-License-Identifier: MIT
/*
 * The code cache's bookkeeping: lookup by name, the LRU order that eviction
 * follows and ee_code_list reports, and the bounded memory of names whose
 * code failed validation (PAN §4.5.3: a flood of bad code costs one
 * validation). Names are SHA-256 digests, but whoever sends bad code can grind
 * them, so buckets are chosen by a multiplicative hash with a random key.
 * Loading, running and freeing code objects is ee.c's business.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ee/ee_impl.h"

static size_t ee_tab_size(size_t n)
{
	size_t s = 16;
	while (s < 2 * n && s < ((size_t)1 << 20))
		s <<= 1;
	return s;
}

int ee_cache_init(struct ee *ee)
{
	size_t nc = ee_tab_size(ee->cfg.cache_objects), nf = ee_tab_size(ee->cfg.failed_names);

	ee->code_tab = calloc(nc, sizeof(*ee->code_tab));
	ee->failed_tab = calloc(nf, sizeof(*ee->failed_tab));
	if (!ee->code_tab || !ee->failed_tab)
		return -ENOMEM;
	ee->code_mask = nc - 1;
	ee->failed_mask = nf - 1;
	ee_list_init(&ee->code_lru);
	ee_list_init(&ee->failed_lru);
	randombytes_buf(&ee->hash_xor, sizeof(ee->hash_xor));
	randombytes_buf(&ee->hash_mul, sizeof(ee->hash_mul));
	ee->hash_mul |= 1;
	return 0;
}

void ee_cache_done(struct ee *ee)
{
	while (ee->failed_lru.next != &ee->failed_lru) {
		struct ee_failed *f = ee_container_of(ee->failed_lru.next, struct ee_failed, lru);
		ee_list_del(&f->lru);
		free(f);
	}
	free(ee->code_tab);
	free(ee->failed_tab);
}

static size_t ee_name_bucket(const struct ee *ee, const uint8_t name[EE_NAME_LEN], size_t mask)
{
	uint64_t w;
	memcpy(&w, name, sizeof(w));
	return (size_t)(((w ^ ee->hash_xor) * ee->hash_mul) >> 40) & mask;
}

uint64_t ee_coarse_ns(void)
{
	/* Coarse: a code object's last use only orders the cache listing, and
	 * the fine clock would cost a fifth of a capsule's budget. */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct ee_code *ee_cache_lookup(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	struct ee_code *c = ee->code_tab[ee_name_bucket(ee, name, ee->code_mask)];
	while (c && memcmp(c->name, name, EE_NAME_LEN) != 0)
		c = c->hnext;
	return c;
}

void ee_cache_add(struct ee *ee, struct ee_code *c)
{
	struct ee_code **pp = &ee->code_tab[ee_name_bucket(ee, c->name, ee->code_mask)];
	c->hnext = *pp;
	*pp = c;
	ee_list_add_head(&ee->code_lru, &c->lru);
	ee->n_code++;
	ee->n_bytes += c->len;
	c->last_used_ns = ee_coarse_ns();
}

void ee_cache_unlink(struct ee *ee, struct ee_code *c)
{
	struct ee_code **pp = &ee->code_tab[ee_name_bucket(ee, c->name, ee->code_mask)];
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	ee_list_del(&c->lru);
	ee->n_code--;
	ee->n_bytes -= c->len;
}

void ee_cache_touch(struct ee *ee, struct ee_code *c)
{
	ee_list_move_head(&ee->code_lru, &c->lru);
	c->last_used_ns = ee_coarse_ns();
}

bool ee_failed_lookup(struct ee *ee, const uint8_t name[EE_NAME_LEN], bool touch)
{
	struct ee_failed *f = ee->failed_tab[ee_name_bucket(ee, name, ee->failed_mask)];
	while (f && memcmp(f->name, name, EE_NAME_LEN) != 0)
		f = f->hnext;
	if (f && touch)
		ee_list_move_head(&ee->failed_lru, &f->lru);
	return f != NULL;
}

static void ee_failed_unlink(struct ee *ee, struct ee_failed *f)
{
	struct ee_failed **pp = &ee->failed_tab[ee_name_bucket(ee, f->name, ee->failed_mask)];
	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;
	ee_list_del(&f->lru);
	ee->n_failed--;
}

void ee_failed_add(struct ee *ee, const uint8_t name[EE_NAME_LEN])
{
	struct ee_failed *f;

	if (ee_failed_lookup(ee, name, true))
		return;
	if (ee->n_failed >= ee->cfg.failed_names) {
		/* Forget the oldest bad name; it costs one more validation. */
		f = ee_container_of(ee->failed_lru.prev, struct ee_failed, lru);
		ee_failed_unlink(ee, f);
	} else {
		f = malloc(sizeof(*f));
		if (!f)
			return; /* remembering is an optimisation */
	}
	memcpy(f->name, name, EE_NAME_LEN);
	struct ee_failed **pp = &ee->failed_tab[ee_name_bucket(ee, name, ee->failed_mask)];
	f->hnext = *pp;
	*pp = f;
	ee_list_add_head(&ee->failed_lru, &f->lru);
	ee->n_failed++;
}
