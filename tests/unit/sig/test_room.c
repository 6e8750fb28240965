// SPDX-License-Identifier: MIT
/*
 * The signalling room (src/sig/room.c) on a whole node in this process
 * (tests/node/nodetest.h): a requester's PROBE is taken, told (HERE),
 * passed on to the next hop, and the response that comes back gets this
 * node's entry and goes to the requester; the last node answers at once;
 * a node that hears no HERE answers as the last one, one that heard HERE
 * and no response answers alone and says so; a retransmission goes on
 * again without moving where the response goes; refusals (bad signature,
 * unknown user, replay, stale time, an id in use) are answered alone, no
 * larger than the request, and go no further; HERE and responses from
 * anyone but the next hop change nothing. Every buffer is back at the end.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../wire/check.h"
#include "anode/node.h"
#include "nodetest.h"
#include "sig/auth.h"
#include "wire/sig.h"
#include "wire/wire.h"

static uint8_t pk[32], sk[64], other_pk[32], other_sk[64];
static struct an_addr req; /* the requester */
static struct nodetest *t;
static size_t free_at_start;

static long long stat_of(const char *key)
{
	char *out = nt_ctl(t, "stats json");
	long long v = -1;
	const char *s = out ? strstr(out, "\"sig\":{") : NULL;
	if (s) {
		char pat[96];
		snprintf(pat, sizeof(pat), "\"%s\":", key);
		const char *k = strstr(s, pat), *end = strchr(s, '}');
		if (k && end && k < end)
			v = strtoll(k + strlen(pat), NULL, 10);
	}
	free(out);
	return v;
}

/* A PROBE (or kind) by user signed with key, toward dst, as the requester
 * sends it: ANEP, SRC and PREV_HOP the requester. Its length. */
static size_t request(uint8_t *buf, size_t cap, uint8_t kind, uint64_t id, const char *user, const uint8_t *key,
		      const struct an_addr *dst, uint64_t when, uint8_t nonce_byte)
{
	static struct wire_sig_request q;
	memset(&q, 0, sizeof(q));
	q.kind = kind;
	q.id = id;
	q.time = when;
	memset(q.nonce, nonce_byte, sizeof(q.nonce));
	snprintf(q.user, sizeof(q.user), "%s", user);
	q.origin = req;
	if (kind == WIRE_SIG_REMOVE || kind == WIRE_SIG_SETUP)
		strcpy(q.module, "NetMonitor");
	if (kind == WIRE_SIG_SETUP) {
		strcpy(q.version, "1");
		q.lifetime = 60;
		memset(q.hash, 7, sizeof(q.hash));
		q.size = 100;
		q.mod_kind = WIRE_SIG_KIND_PACKET;
		q.filters[0] = (struct wire_sig_filter){
		    .proto = 17, .dst_len = 16, .dst = {[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 99}};
		q.n_filters = 1;
	}
	uint8_t msg[WIRE_SIG_MSG_MAX];
	ssize_t m = wire_sig_build(msg, sizeof(msg), &q, key);
	if (m < 0)
		return 0;
	struct wire_anep_spec spec = {.type_id = WIRE_TYPE_SIGNAL, .src = &req, .dst = dst, .prev_hop = &req};
	size_t hl;
	if (wire_anep_build(buf, cap, &spec, (size_t)m, &hl) < 0)
		return 0;
	memcpy(buf + hl, msg, (size_t)m);
	return hl + (size_t)m;
}

/* A HERE or response from `from` to the node. */
static size_t reply(uint8_t *buf, size_t cap, const struct an_addr *from, const struct an_addr *to, const void *msg,
		    size_t len)
{
	struct wire_anep_spec spec = {.type_id = WIRE_TYPE_SIGNAL, .src = from, .dst = to};
	size_t hl;
	if (wire_anep_build(buf, cap, &spec, len, &hl) < 0)
		return 0;
	memcpy(buf + hl, msg, len);
	return hl + len;
}

/* The next packet the node sent: its kind (-1 none), id, destination and
 * the signalling message. */
struct sent {
	int kind;
	uint64_t id;
	struct an_addr to;
	size_t total, len;
	uint8_t msg[AN_PKT_MAX];
};

static struct sent next_sent(void)
{
	struct sent s = {.kind = -1};
	uint8_t buf[AN_PKT_MAX];
	int n = nt_sent(t, buf, sizeof(buf), &s.to);
	struct wire_anep a;
	uint8_t kind;
	if (n < 0 || wire_anep_parse(buf, (size_t)n, &a) < 0 || a.type_id != WIRE_TYPE_SIGNAL)
		return s;
	s.total = (size_t)n;
	s.len = (size_t)(a.pkt_len - a.hdr_len);
	memcpy(s.msg, buf + a.hdr_len, s.len);
	if (wire_sig_peek(s.msg, s.len, &kind, &s.id) == 0)
		s.kind = kind;
	return s;
}

static struct wire_sig_response resp;

static void test_through(void)
{
	uint8_t buf[AN_PKT_MAX], m[WIRE_SIG_MSG_MAX];
	/* One signing time for the request and its retransmission below: a
	 * retransmission is the same octets (signed again a second later, it
	 * would be another request, and the test failed when the clock ticked
	 * between the two). */
	uint64_t signed_at = (uint64_t)time(NULL);
	size_t n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 11, "alice", sk, &t->far, signed_at, 1);
	CHECK(n > 0);
	CHECK(nt_push(t, buf, n, &req) == 0);
	struct sent h = next_sent(), f = next_sent();
	CHECK(h.kind == WIRE_SIG_HERE && h.id == 11 && an_addr_eq(&h.to, &req));
	CHECK(f.kind == WIRE_SIG_PROBE && an_addr_eq(&f.to, &t->peer) && f.id == 11);
	CHECK(next_sent().kind == -1);
	/* HERE from anyone but the next hop changes nothing; the next hop's
	 * does, and a response from anyone else is not taken. */
	ssize_t hl = wire_sig_here_build(m, sizeof(m), 11);
	n = reply(buf, sizeof(buf), &t->far, &t->self, m, (size_t)hl);
	nt_push(t, buf, n, &t->far);
	CHECK(stat_of("here_unexpected") == 1);
	n = reply(buf, sizeof(buf), &t->peer, &t->self, m, (size_t)hl);
	nt_push(t, buf, n, &t->peer);
	CHECK(stat_of("here_received") == 1);
	ssize_t rl = wire_sig_response_start(m, sizeof(m), 11);
	struct wire_sig_entry e = {.address = t->peer, .has_result = true, .status = 0};
	strcpy(e.why, "peer's own");
	rl = wire_sig_response_push(m, sizeof(m), (size_t)rl, &e);
	n = reply(buf, sizeof(buf), &t->far, &t->self, m, (size_t)rl);
	nt_push(t, buf, n, &t->far);
	CHECK(stat_of("responses_unexpected") == 1);
	CHECK(next_sent().kind == -1);
	n = reply(buf, sizeof(buf), &t->peer, &t->self, m, (size_t)rl);
	nt_push(t, buf, n, &t->peer);
	struct sent r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && an_addr_eq(&r.to, &req));
	CHECK(wire_sig_response_parse(r.msg, r.len, &resp) == 0);
	CHECK(resp.n_entries == 2 && an_addr_eq(&resp.entries[0].address, &t->peer) &&
	      an_addr_eq(&resp.entries[1].address, &t->self));
	CHECK(resp.entries[1].status == 0 && resp.entries[1].has_caps &&
	      (resp.entries[1].ee_kinds & WIRE_SIG_EE_CAPSULE) && (resp.entries[1].ee_kinds & WIRE_SIG_EE_PACKET));
	CHECK(stat_of("requests_passed_on") == 1 && stat_of("responses_sent") == 1);
	/* The retransmission of the request, sent by someone else: it goes
	 * on again, the answer still to the requester. */
	n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 11, "alice", sk, &t->far, signed_at, 1);
	struct an_addr attacker = t->far;
	attacker.port = htons(9);
	nt_push(t, buf, n, &attacker);
	h = next_sent();
	f = next_sent();
	CHECK(h.kind == WIRE_SIG_HERE && an_addr_eq(&h.to, &req));
	CHECK(f.kind == WIRE_SIG_PROBE && an_addr_eq(&f.to, &t->peer));
	CHECK(stat_of("requests_repeated") == 1);
	n = reply(buf, sizeof(buf), &t->peer, &t->self, m, (size_t)rl);
	nt_push(t, buf, n, &t->peer);
	r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && an_addr_eq(&r.to, &req));
	CHECK_INT(nt_free_buffers(t), free_at_start);
}

static void test_last(void)
{
	uint8_t buf[AN_PKT_MAX];
	size_t n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 12, "alice", sk, &t->self, (uint64_t)time(NULL), 2);
	long long last = stat_of("requests_last");
	nt_push(t, buf, n, &req);
	struct sent h = next_sent(), r = next_sent();
	CHECK(h.kind == WIRE_SIG_HERE);
	CHECK(r.kind == WIRE_SIG_RESPONSE && r.id == 12 && an_addr_eq(&r.to, &req));
	CHECK(wire_sig_response_parse(r.msg, r.len, &resp) == 0 && resp.n_entries == 1 &&
	      an_addr_eq(&resp.entries[0].address, &t->self));
	CHECK(stat_of("requests_last") == last + 1);
	/* A REMOVE of a module that is not here: authenticated, and answered
	 * with why in the node's entry. */
	n = request(buf, sizeof(buf), WIRE_SIG_REMOVE, 13, "alice", sk, &t->self, (uint64_t)time(NULL), 3);
	nt_push(t, buf, n, &req);
	next_sent();
	r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && wire_sig_response_parse(r.msg, r.len, &resp) == 0 &&
	      resp.entries[0].status == -ENOENT && strstr(resp.entries[0].why, "not installed here"));
	/* A SETUP on an overlay node: packet modules need router mode. */
	n = request(buf, sizeof(buf), WIRE_SIG_SETUP, 14, "alice", sk, &t->self, (uint64_t)time(NULL), 11);
	nt_push(t, buf, n, &req);
	next_sent();
	r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && wire_sig_response_parse(r.msg, r.len, &resp) == 0 &&
	      resp.entries[0].status == -EOPNOTSUPP && strstr(resp.entries[0].why, "router nodes only"));
	CHECK(resp.entries[0].free_modules == 32 && resp.entries[0].n_installed == 0);
}

static void test_timeouts(void)
{
	uint8_t buf[AN_PKT_MAX], m[64];
	/* Nobody further on says HERE: after sig-here-ms this node is the
	 * last. */
	size_t n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 21, "alice", sk, &t->far, (uint64_t)time(NULL), 4);
	nt_push(t, buf, n, &req);
	CHECK(next_sent().kind == WIRE_SIG_HERE && next_sent().kind == WIRE_SIG_PROBE);
	nt_advance(t, 150);
	CHECK(next_sent().kind == -1);
	nt_advance(t, 100);
	struct sent r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && r.id == 21 && an_addr_eq(&r.to, &req));
	CHECK(wire_sig_response_parse(r.msg, r.len, &resp) == 0 && resp.n_entries == 1 &&
	      strstr(resp.entries[0].why, "nothing further on said it took") != NULL);
	/* HERE came, the response did not: after sig-response-ms the node
	 * answers alone and says who went silent. */
	n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 22, "alice", sk, &t->far, (uint64_t)time(NULL), 5);
	nt_push(t, buf, n, &req);
	next_sent();
	next_sent();
	ssize_t hl = wire_sig_here_build(m, sizeof(m), 22);
	n = reply(buf, sizeof(buf), &t->peer, &t->self, m, (size_t)hl);
	nt_push(t, buf, n, &t->peer);
	nt_advance(t, 1000);
	CHECK(next_sent().kind == -1);
	nt_advance(t, 15000);
	r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && r.id == 22);
	CHECK(wire_sig_response_parse(r.msg, r.len, &resp) == 0 && resp.n_entries == 1 &&
	      strstr(resp.entries[0].why, "did not answer") != NULL);
	CHECK(stat_of("responses_alone") == 1);
}

/* A refusal: one response, to the sender, of the node's entry alone, no
 * larger than the request, and nothing passed on. */
static void refused(const uint8_t *buf, size_t n, uint64_t id, int status, const char *why)
{
	long long before = stat_of("requests_refused");
	nt_push(t, buf, n, &req);
	struct sent r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && r.id == id && an_addr_eq(&r.to, &req));
	CHECK(r.total <= n);
	CHECK(wire_sig_response_parse(r.msg, r.len, &resp) == 0 && resp.n_entries == 1);
	CHECK(resp.entries[0].status == status && !resp.entries[0].has_caps);
	if (!strstr(resp.entries[0].why, why)) {
		check_failures++;
		fprintf(stderr, "FAIL: refusal says '%s', not '%s'\n", resp.entries[0].why, why);
	}
	CHECK(next_sent().kind == -1);
	CHECK(stat_of("requests_refused") == before + 1);
}

static void test_refusals(void)
{
	uint8_t buf[AN_PKT_MAX];
	uint64_t now = (uint64_t)time(NULL);
	size_t n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 31, "alice", other_sk, &t->far, now, 6);
	refused(buf, n, 31, -EPERM, "bad signature");
	n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 32, "mallory", other_sk, &t->far, now, 7);
	refused(buf, n, 32, -EACCES, "unknown user");
	n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 33, "alice", sk, &t->far, now - 60, 8);
	refused(buf, n, 33, -ETIME, "expired");
	/* Nonce 1 was test_through's request: another one with it is a
	 * replay. */
	n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 34, "alice", sk, &t->far, now, 1);
	refused(buf, n, 34, -EALREADY, "replayed");
	/* Another request with the id of one in flight. */
	n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 11, "alice", sk, &t->far, now, 9);
	refused(buf, n, 11, -EEXIST, "message id");
	/* Not a message at all: dropped, unanswered. */
	n = request(buf, sizeof(buf), WIRE_SIG_PROBE, 35, "alice", sk, &t->far, now, 10);
	buf[n - 70] ^= 0xff; /* the signature field's header */
	long long mal = stat_of("requests_malformed");
	nt_push(t, buf, n, &req);
	CHECK(next_sent().kind == -1);
	CHECK(stat_of("requests_malformed") == mal + 1);
}

/* TRIGGER (seed 004 §8): its last node answers it, then starts the
 * enclosed request toward the requester as its first node: passed on
 * toward the requester, and the reverse path's response, with this
 * node's entry pushed, goes to the requester. */
static void test_trigger(void)
{
	uint8_t buf[AN_PKT_MAX], inner[WIRE_SIG_MSG_MAX], m[WIRE_SIG_MSG_MAX];
	static struct wire_sig_request q, trig;
	memset(&q, 0, sizeof(q));
	q.kind = WIRE_SIG_PROBE;
	q.id = 41;
	q.time = (uint64_t)time(NULL);
	memset(q.nonce, 41, sizeof(q.nonce));
	strcpy(q.user, "alice");
	q.origin = req;
	ssize_t il = wire_sig_build(inner, sizeof(inner), &q, sk);
	memset(&trig, 0, sizeof(trig));
	trig.kind = WIRE_SIG_TRIGGER;
	trig.id = 40;
	trig.time = q.time;
	memset(trig.nonce, 40, sizeof(trig.nonce));
	strcpy(trig.user, "alice");
	trig.origin = req;
	trig.inner = inner;
	trig.inner_len = (size_t)il;
	ssize_t ml = wire_sig_build(m, sizeof(m), &trig, sk);
	CHECK(il > 0 && ml > 0);
	size_t n = reply(buf, sizeof(buf), &req, &t->self, m, (size_t)ml);
	long long fired = stat_of("triggered");
	nt_push(t, buf, n, &req);
	struct sent h = next_sent(), r = next_sent(), f = next_sent();
	CHECK(h.kind == WIRE_SIG_HERE && h.id == 40);
	/* The TRIGGER's own answer: this node, the last, started it back. */
	CHECK(r.kind == WIRE_SIG_RESPONSE && r.id == 40 && an_addr_eq(&r.to, &req));
	CHECK(wire_sig_response_parse(r.msg, r.len, &resp) == 0 && resp.n_entries == 1 &&
	      strstr(resp.entries[0].why, "started the enclosed request back toward 10.99.0.9:40000"));
	/* The enclosed PROBE goes on toward the requester (by route: the
	 * peer), from this node, which sends itself no HERE. */
	CHECK(f.kind == WIRE_SIG_PROBE && f.id == 41 && an_addr_eq(&f.to, &t->peer));
	CHECK(next_sent().kind == -1);
	CHECK(stat_of("triggered") == fired + 1);
	/* The reverse path answers; this node pushes its entry and sends the
	 * whole stack to the requester. */
	ssize_t rl = wire_sig_response_start(m, sizeof(m), 41);
	struct wire_sig_entry e = {.address = t->peer, .has_result = true};
	rl = wire_sig_response_push(m, sizeof(m), (size_t)rl, &e);
	n = reply(buf, sizeof(buf), &t->peer, &t->self, m, (size_t)rl);
	nt_push(t, buf, n, &t->peer);
	r = next_sent();
	CHECK(r.kind == WIRE_SIG_RESPONSE && r.id == 41 && an_addr_eq(&r.to, &req));
	CHECK(wire_sig_response_parse(r.msg, r.len, &resp) == 0 && resp.n_entries == 2 &&
	      an_addr_eq(&resp.entries[1].address, &t->self));
}

/* Every request forgotten once its time is past, every buffer back. */
static void test_end(void)
{
	nt_sent_clear(t);
	nt_advance(t, 100000);
	CHECK_INT(nt_free_buffers(t), free_at_start);
	CHECK_INT(stat_of("requests_in_flight"), 0);
}

static const struct check_test tests[] = {
    TEST(test_through), TEST(test_last), TEST(test_timeouts), TEST(test_refusals), TEST(test_trigger), TEST(test_end),
};

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(other_pk, other_sk);
	wire_addr_parse("10.99.0.9:40000", &req);
	char dir[] = "/tmp/sigroom.XXXXXX", path[128], b64[64], conf[256];
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/policy", dir);
	sodium_bin2base64(b64, sizeof(b64), pk, sizeof(pk), sodium_base64_VARIANT_ORIGINAL);
	FILE *f = fopen(path, "w");
	fprintf(f, "user alice ed25519:%s\nallow alice filter 10.99.0.0/16 proto udp\n", b64);
	fclose(f);
	snprintf(conf, sizeof(conf), "policy %s\n", path);
	t = nt_new(conf);
	unlink(path);
	rmdir(dir);
	if (!t)
		return 1;
	free_at_start = nt_free_buffers(t);
	int rc = check_run(tests, sizeof(tests) / sizeof(tests[0]));
	nt_free(t);
	return rc;
}
