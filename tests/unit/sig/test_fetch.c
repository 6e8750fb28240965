// SPDX-License-Identifier: MIT
/*
 * The node's side of the module fetcher (src/sig/fetch.c), on a whole
 * node in this process (tests/node), with the test playing the fetcher
 * over a socket pair, honest and not: a body in order that hashes right
 * reaches every waiter, once per module however many asked; a fetcher
 * that lies (another length, a chunk out of order, a body of another hash,
 * a record for no fetch, garbage) fails the fetch or is counted and
 * ignored, never believed; a fetcher that says nothing is given up on; a
 * fetcher that goes away fails what waits and refuses what comes.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../wire/check.h"
#include "nodetest.h"
#include "sig/fetch.h"
#include "wire/fetch.h"

static struct nodetest *t;
static struct sig_fetcher *sf;
static int peer; /* the test's end: the fetcher */

struct got {
	int calls, status;
	char why[256];
	size_t len;
	uint8_t first;
};

static void cb(void *arg, int status, const char *why, const uint8_t *body, size_t len)
{
	struct got *g = arg;
	g->calls++;
	g->status = status;
	snprintf(g->why, sizeof(g->why), "%s", why);
	g->len = len;
	g->first = body && len ? body[0] : 0;
}

static uint64_t read_get(uint32_t *ret_max)
{
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	struct wire_fetch g;
	ssize_t n = recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
	if (n <= 0 || wire_fetch_parse(buf, (size_t)n, &g) < 0 || g.kind != WIRE_FETCH_GET)
		return 0;
	if (ret_max)
		*ret_max = g.max;
	return g.id;
}

static void say(const struct wire_fetch *f)
{
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	ssize_t n = wire_fetch_build(buf, sizeof(buf), f);
	if (n > 0 && send(peer, buf, (size_t)n, 0) == n)
		nt_run(t);
}

static void result(uint64_t id, int32_t status, uint32_t length, const char *why)
{
	struct wire_fetch r = {.kind = WIRE_FETCH_RESULT, .id = id, .status = status, .http = 200, .length = length};
	snprintf(r.why, sizeof(r.why), "%s", why);
	say(&r);
}

static void chunk(uint64_t id, uint32_t off, const uint8_t *d, size_t n)
{
	struct wire_fetch c = {.kind = WIRE_FETCH_CHUNK, .id = id, .offset = off, .data = d, .data_len = n};
	say(&c);
}

static uint8_t body[40000], hash[32];

static void test_honest(void)
{
	struct got a = {0}, b = {0};
	char why[128];
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7);
	crypto_hash_sha256(hash, body, sizeof(body));
	CHECK_INT(sig_fetch(sf, "http://h/m.ao", hash, sizeof(body), 1000, cb, &a, why, sizeof(why)), 0);
	CHECK_INT(sig_fetch(sf, "http://other/m.ao", hash, sizeof(body), 1000, cb, &b, why, sizeof(why)), 0);
	uint32_t max = 0;
	uint64_t id = read_get(&max);
	CHECK(id != 0 && max == sizeof(body));
	CHECK_INT(read_get(NULL), 0); /* one fetch for both */
	CHECK_INT(sig_fetcher_counters(sf)->fetches_shared, 1);
	result(id, 0, sizeof(body), "");
	chunk(id, 0, body, WIRE_FETCH_CHUNK_MAX);
	CHECK_INT(a.calls, 0);
	chunk(id, WIRE_FETCH_CHUNK_MAX, body + WIRE_FETCH_CHUNK_MAX, sizeof(body) - WIRE_FETCH_CHUNK_MAX);
	CHECK(a.calls == 1 && a.status == 0 && a.len == sizeof(body) && a.first == body[0]);
	CHECK(b.calls == 1 && b.status == 0 && b.len == sizeof(body));
	CHECK_INT(sig_fetcher_counters(sf)->fetched, 1);
	CHECK_INT(sig_fetcher_active(sf), 0);
}

static void test_lies(void)
{
	struct got g = {0};
	char why[128];
	uint64_t id;
	long long bad = (long long)sig_fetcher_counters(sf)->fetch_bad_hash;
	/* Another length than the signed size. */
	sig_fetch(sf, "http://h/a", hash, 100, 1000, cb, &g, why, sizeof(why));
	id = read_get(NULL);
	result(id, 0, 101, "");
	CHECK(g.calls == 1 && g.status == -EBADMSG && strstr(g.why, "the body is 101 octets, the request says 100"));
	/* A chunk out of order. */
	g = (struct got){0};
	sig_fetch(sf, "http://h/a", hash, 100, 1000, cb, &g, why, sizeof(why));
	id = read_get(NULL);
	result(id, 0, 100, "");
	chunk(id, 10, body, 10);
	CHECK(g.calls == 1 && g.status == -EBADMSG && strstr(g.why, "out of order"));
	/* The right size, another hash. */
	g = (struct got){0};
	sig_fetch(sf, "http://h/a", hash, 100, 1000, cb, &g, why, sizeof(why));
	id = read_get(NULL);
	result(id, 0, 100, "");
	chunk(id, 0, body, 100);
	CHECK(g.calls == 1 && g.status == -EBADMSG && strstr(g.why, "does not hash"));
	CHECK_INT(sig_fetcher_counters(sf)->fetch_bad_hash, bad + 2);
	/* Records for no fetch, and garbage: counted, nothing else. */
	long long mal = (long long)sig_fetcher_counters(sf)->fetcher_malformed;
	g = (struct got){0};
	result(999, 0, 5, "");
	uint8_t junk[20] = {9};
	CHECK(send(peer, junk, sizeof(junk), 0) == sizeof(junk));
	nt_run(t);
	CHECK_INT(sig_fetcher_counters(sf)->fetcher_malformed, mal + 2);
	CHECK_INT(g.calls, 0);
	/* A failure the fetcher reports goes to the waiter as it is. */
	sig_fetch(sf, "http://h/b", hash, 100, 1000, cb, &g, why, sizeof(why));
	id = read_get(NULL);
	result(id, -ENOENT, 0, "HTTP status 404");
	CHECK(g.calls == 1 && g.status == -ENOENT && !strcmp(g.why, "HTTP status 404"));
}

static void test_bounds(void)
{
	struct got g[SIG_FETCHES_MAX + 1] = {{0}};
	char why[128];
	uint8_t h[32];
	/* SIG_FETCHES_MAX at once; the next is refused, saying why. */
	for (int i = 0; i < SIG_FETCHES_MAX; i++) {
		memset(h, i + 1, sizeof(h));
		CHECK_INT(sig_fetch(sf, "http://h/x", h, 10, 1000, cb, &g[i], why, sizeof(why)), 0);
	}
	memset(h, 0x77, sizeof(h));
	CHECK_INT(sig_fetch(sf, "http://h/y", h, 10, 1000, cb, &g[SIG_FETCHES_MAX], why, sizeof(why)), -EBUSY);
	CHECK(strstr(why, "fetching 8 modules already") != NULL);
	while (read_get(NULL))
		;
	/* A fetcher that says nothing: given up on past its time. */
	nt_advance(t, 1000 + 2000 + 100);
	sig_fetcher_tick(sf);
	for (int i = 0; i < SIG_FETCHES_MAX; i++)
		CHECK(g[i].calls == 1 && g[i].status == -ETIMEDOUT);
	CHECK_INT(sig_fetcher_counters(sf)->fetch_timeouts, SIG_FETCHES_MAX);
	/* A fetcher that goes away: what waits fails, what comes is refused. */
	struct got w = {0};
	sig_fetch(sf, "http://h/z", hash, 10, 1000, cb, &w, why, sizeof(why));
	close(peer);
	nt_run(t);
	CHECK(w.calls == 1 && w.status == -EPIPE);
	CHECK_INT(sig_fetch(sf, "http://h/z", hash, 10, 1000, cb, &w, why, sizeof(why)), -EPIPE);
}

static const struct check_test tests[] = {TEST(test_honest), TEST(test_lies), TEST(test_bounds)};

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return 1;
	t = nt_new(NULL);
	if (!t)
		return 1;
	sf = sig_fetcher_on(t->node, sp[0]);
	peer = sp[1];
	if (!sf)
		return 1;
	int rc = check_run(tests, sizeof(tests) / sizeof(tests[0]));
	sig_fetcher_stop(sf);
	nt_free(t);
	return rc;
}
