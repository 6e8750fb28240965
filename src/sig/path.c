// SPDX-License-Identifier: MIT
/*
 * The requests in flight (path.h). A flat array searched end to end: a
 * node holds at most a few thousand (the table's size, `sig-requests`),
 * signalling is rare beside packets, and only a request that authenticated
 * takes an entry, so no attacker without a key fills it.
 */
#include "sig/path.h"

#include <stdlib.h>

struct sig_paths {
	struct sig_path *e;
	size_t n, max;
};

struct sig_paths *sig_paths_new(size_t max)
{
	struct sig_paths *t = calloc(1, sizeof(*t));
	if (!t || !(t->e = calloc(max ? max : 1, sizeof(*t->e)))) {
		free(t);
		return NULL;
	}
	t->max = max;
	return t;
}

void sig_paths_free(struct sig_paths *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->e[i].held);
		free(t->e[i].inner);
	}
	free(t->e);
	free(t);
}

size_t sig_paths_count(const struct sig_paths *t)
{
	return t->n;
}

size_t sig_paths_max(const struct sig_paths *t)
{
	return t->max;
}

struct sig_path *sig_path_find(struct sig_paths *t, uint64_t id)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].id == id)
			return &t->e[i];
	return NULL;
}

struct sig_path *sig_path_add(struct sig_paths *t, uint64_t id, uint64_t now_ms)
{
	if (t->n == t->max)
		sig_paths_expire(t, now_ms, NULL, NULL);
	if (t->n == t->max)
		return NULL;
	struct sig_path *p = &t->e[t->n++];
	*p = (struct sig_path){.id = id};
	return p;
}

void sig_path_del(struct sig_paths *t, struct sig_path *p)
{
	size_t i = (size_t)(p - t->e);
	free(p->held);
	free(p->inner);
	t->e[i] = t->e[--t->n];
}

uint64_t sig_paths_next_deadline(const struct sig_paths *t)
{
	uint64_t d = UINT64_MAX;
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].state != SIG_PATH_ANSWERED && t->e[i].deadline_ms < d)
			d = t->e[i].deadline_ms;
	return d;
}

void sig_paths_due(struct sig_paths *t, uint64_t now_ms, void (*fn)(void *arg, struct sig_path *p), void *arg)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].state != SIG_PATH_ANSWERED && t->e[i].deadline_ms <= now_ms)
			fn(arg, &t->e[i]);
}

size_t sig_paths_expire(struct sig_paths *t, uint64_t now_ms, void (*gone)(void *arg, struct sig_path *p), void *arg)
{
	size_t k = 0;
	for (size_t i = 0; i < t->n;) {
		if (t->e[i].expires_ms <= now_ms) {
			if (gone)
				gone(arg, &t->e[i]);
			sig_path_del(t, &t->e[i]);
			k++;
		} else {
			i++;
		}
	}
	return k;
}
