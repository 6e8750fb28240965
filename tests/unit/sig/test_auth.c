// SPDX-License-Identifier: MIT
/*
 * Unit tests of the signalling request checks (src/sig/auth.c): a request
 * signed by a user of the policy, inside her grants, is taken; the same
 * octets again are a repeat (a retransmission), another request with the
 * same nonce a replay; an unknown user, another key, a time outside the
 * window either way, a filter outside the grants (or IPv6) are refused, in
 * that order, and a refusal by the grants does not spend the nonce.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>

#include "../wire/check.h"
#include "sig/auth.h"

static uint8_t jane_pk[32], jane_sk[64], eve_pk[32], eve_sk[64];
static struct policy pol;
#define NOW 1796310000ull

static void setup_policy(void)
{
	char text[1024], k[POLICY_KEY_STRLEN];
	crypto_sign_keypair(jane_pk, jane_sk);
	crypto_sign_keypair(eve_pk, eve_sk);
	policy_key_format(jane_pk, k, sizeof(k));
	snprintf(text, sizeof(text),
		 "user janedoe %s\n"
		 "allow janedoe filter 10.1.0.0/16 proto udp ports 5000-6000\n",
		 k);
	char err[256];
	CHECK_INT(policy_parse(text, strlen(text), "test", &pol, err, sizeof(err)), 0);
}

static void request(struct wire_sig_request *q, uint8_t nonce_octet)
{
	memset(q, 0, sizeof(*q));
	q->kind = WIRE_SIG_SETUP;
	q->id = 7;
	q->time = NOW;
	memset(q->nonce, nonce_octet, 16);
	strcpy(q->user, "janedoe");
	strcpy(q->module, "NetMonitor");
	strcpy(q->version, "1.0.0");
	q->filters[0] = (struct wire_sig_filter){.proto = 17, .dst_len = 24, .dport_lo = 5060, .dport_hi = 5060};
	q->filters[0].dst[10] = q->filters[0].dst[11] = 0xff;
	q->filters[0].dst[12] = 10;
	q->filters[0].dst[13] = 1;
	q->filters[0].dst[14] = 2;
	q->n_filters = 1;
	q->lifetime = 60;
	memset(q->hash, 1, 32);
	q->size = 100;
	q->mod_kind = WIRE_SIG_KIND_PACKET;
	q->origin.ip[10] = q->origin.ip[11] = 0xff;
	q->origin.port = htons(3322);
}

static ssize_t sign(const struct wire_sig_request *q, const uint8_t sk[64], uint8_t *buf)
{
	return wire_sig_build(buf, WIRE_SIG_MSG_MAX, q, sk);
}

static void test_order(void)
{
	struct sig_auth *a = sig_auth_new();
	struct wire_sig_request q, r;
	const struct policy_principal *who;
	uint8_t buf[WIRE_SIG_MSG_MAX], other[WIRE_SIG_MSG_MAX];
	request(&q, 1);
	ssize_t n = sign(&q, jane_sk, buf);
	CHECK(n > 0);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW + 5, &r, &who), SIG_AUTH_OK);
	CHECK(!strcmp(who->name, "janedoe") && !strcmp(r.module, "NetMonitor"));
	/* The same octets again: a retransmission. */
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW + 6, &r, &who), SIG_AUTH_REPEATED);
	/* Another request with that nonce: a replay. */
	q.lifetime = 120;
	ssize_t m = sign(&q, jane_sk, other);
	CHECK_INT(sig_auth_check(a, &pol, other, (size_t)m, NOW + 6, &r, &who), SIG_AUTH_REPLAYED);
	/* Unknown user, another key, outside the window. */
	request(&q, 2);
	strcpy(q.user, "eve");
	m = sign(&q, eve_sk, other);
	CHECK_INT(sig_auth_check(a, &pol, other, (size_t)m, NOW, &r, &who), SIG_AUTH_UNKNOWN);
	request(&q, 2);
	m = sign(&q, eve_sk, other);
	CHECK_INT(sig_auth_check(a, &pol, other, (size_t)m, NOW, &r, &who), SIG_AUTH_FORGED);
	m = sign(&q, jane_sk, other);
	CHECK_INT(sig_auth_check(a, &pol, other, (size_t)m, NOW + SIG_AUTH_WINDOW_S + 1, &r, &who), SIG_AUTH_EXPIRED);
	CHECK_INT(sig_auth_check(a, &pol, other, (size_t)m, NOW - SIG_AUTH_WINDOW_S - 1, &r, &who), SIG_AUTH_FUTURE);
	CHECK_INT(sig_auth_check(a, &pol, other, 10, NOW, &r, &who), SIG_AUTH_MALFORMED);
	sig_auth_free(a);
}

static void test_grants(void)
{
	struct sig_auth *a = sig_auth_new();
	struct wire_sig_request q, r;
	const struct policy_principal *who;
	uint8_t buf[WIRE_SIG_MSG_MAX];
	/* Outside the granted prefix. */
	request(&q, 3);
	q.filters[0].dst[13] = 2; /* 10.2.2.0/24 */
	ssize_t n = sign(&q, jane_sk, buf);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW, &r, &who), SIG_AUTH_FILTER);
	/* Outside the granted ports, or protocol. */
	request(&q, 3);
	q.filters[0].dport_lo = q.filters[0].dport_hi = 7000;
	n = sign(&q, jane_sk, buf);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW, &r, &who), SIG_AUTH_FILTER);
	request(&q, 3);
	q.filters[0].proto = 6;
	n = sign(&q, jane_sk, buf);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW, &r, &who), SIG_AUTH_FILTER);
	/* A wider prefix than granted. */
	request(&q, 3);
	q.filters[0].dst_len = 8;
	q.filters[0].dst[13] = q.filters[0].dst[14] = 0;
	n = sign(&q, jane_sk, buf);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW, &r, &who), SIG_AUTH_FILTER);
	/* IPv6: no grant names one. */
	request(&q, 3);
	memset(q.filters[0].dst, 0, 16);
	q.filters[0].dst[0] = 0x20;
	q.filters[0].dst[1] = 0x01;
	q.filters[0].dst_len = 32;
	n = sign(&q, jane_sk, buf);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW, &r, &who), SIG_AUTH_FILTER);
	/* The refusals spent no nonce: the request fixed, with the same
	 * nonce, is taken. */
	request(&q, 3);
	n = sign(&q, jane_sk, buf);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW, &r, &who), SIG_AUTH_OK);
	/* A PROBE has no filter: nothing to grant. */
	request(&q, 4);
	q.kind = WIRE_SIG_PROBE;
	n = sign(&q, jane_sk, buf);
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW, &r, &who), SIG_AUTH_OK);
	/* Nonces expire with their window: the table does not grow for
	 * ever. */
	CHECK_INT(sig_auth_check(a, &pol, buf, (size_t)n, NOW + SIG_AUTH_WINDOW_S, &r, &who), SIG_AUTH_REPEATED);
	sig_auth_free(a);
}

static void test_setup(void)
{
	if (sodium_init() < 0)
		abort();
	setup_policy();
}

static void test_teardown(void)
{
	policy_free(&pol);
}

static const struct check_test tests[] = {
    TEST(test_setup),
    TEST(test_order),
    TEST(test_grants),
    TEST(test_teardown),
};

CHECK_MAIN(tests)
