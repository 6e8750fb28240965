// SPDX-License-Identifier: MIT
/*
 * Unit tests of the control module (src/svc): the policy file (every
 * directive, its errors with their line, printing back what was read), the
 * policy's two questions, the signed request format (a request built and
 * signed parses back; each malformation is refused), and authentication in
 * its order: other node, unknown signer, bad signature, expired, from the
 * future, replayed; then the control module's refusals by policy, state
 * and quota, with a runner that records what it was asked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../wire/check.h"
#include "svc/rewrite.h"
#include "svc/svc.h"

static uint8_t alice_pk[32], alice_sk[64], bob_pk[32], bob_sk[64];
static char dir[] = "/tmp/anode-test-svc.XXXXXX";

static const char *write_policy(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static const char *good_policy(void)
{
	static char text[2048];
	char a[POLICY_KEY_STRLEN], b[POLICY_KEY_STRLEN];
	policy_key_format(alice_pk, a, sizeof(a));
	policy_key_format(bob_pk, b, sizeof(b));
	snprintf(text, sizeof(text),
		 "# a comment\n"
		 "admin alice %s\n"
		 "user bob.smith %s   # trailing comment\n"
		 "service cache program /usr/lib/anode/cache --verbose\n"
		 "service counter module /usr/lib/anode/counter.ao\n"
		 "service spare program /bin/true\n"
		 "service web server /usr/bin/python3 -m http.server 8080\n"
		 "allow bob.smith service cache,counter\n"
		 "allow bob.smith filter 10.1.0.0/16 proto udp ports 5000-6000\n"
		 "allow bob.smith filter 192.168.7.0/24\n"
		 "quota bob.smith services 1 memory 32M\n",
		 a, b);
	return write_policy("good", text);
}

static void test_policy_load(void)
{
	struct policy p;
	char err[256];
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	CHECK_INT(p.n_principals, 2);
	CHECK_INT(p.n_services, 4);
	CHECK(policy_service(&p, "web")->server && !policy_service(&p, "cache")->server);
	const struct policy_principal *bob = policy_principal(&p, "bob.smith");
	CHECK(bob && !bob->admin);
	CHECK_MEM(bob->pk, bob_pk, 32);
	CHECK_INT(bob->quota.services, 1);
	CHECK_INT(bob->quota.memory, 32 << 20);
	CHECK_INT(bob->quota.filters, POLICY_DEFAULT_FILTERS);
	const struct policy_service *c = policy_service(&p, "cache");
	CHECK(c && c->kind == POLICY_PROGRAM && c->argc == 1 && !strcmp(c->argv[0], "--verbose"));
	CHECK(policy_may_use(bob, "cache"));
	CHECK(!policy_may_use(bob, "spare"));
	CHECK(policy_may_use(policy_principal(&p, "alice"), "spare"));
	uint32_t a;
	inet_pton(AF_INET, "10.1.2.0", &a);
	CHECK(policy_may_filter(bob, a, 24, 17, 5000, 5001));
	CHECK(!policy_may_filter(bob, a, 24, 6, 5000, 5001));  /* another protocol */
	CHECK(!policy_may_filter(bob, a, 24, 17, 4000, 5001)); /* ports outside */
	CHECK(!policy_may_filter(bob, a, 24, 17, 0, 0));       /* every port */
	inet_pton(AF_INET, "10.0.0.0", &a);
	CHECK(!policy_may_filter(bob, a, 8, 17, 5000, 5000)); /* wider than granted */
	inet_pton(AF_INET, "192.168.7.9", &a);
	CHECK(policy_may_filter(bob, a, 32, 6, 80, 80)); /* any protocol there */
	/* Printed back, it reads the same. */
	char path[256];
	snprintf(path, sizeof(path), "%s/printed", dir);
	FILE *f = fopen(path, "w");
	policy_print(&p, f);
	fclose(f);
	struct policy q;
	CHECK_INT(policy_load(path, &q, err, sizeof(err)), 0);
	CHECK_INT(q.n_principals, 2);
	CHECK_INT(q.n_services, 4);
	CHECK(policy_service(&q, "web")->server); /* printed back as a server */
	CHECK_INT(policy_principal(&q, "bob.smith")->n_filters, 2);
	CHECK_INT(policy_principal(&q, "bob.smith")->quota.memory, 32 << 20);
	policy_free(&q);
	policy_free(&p);
}

static void test_flow(void)
{
	struct policy p;
	char err[256];
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	const struct policy_principal *bob = policy_principal(&p, "bob.smith");
	struct policy_flow f;
	CHECK_INT(policy_flow_parse("x=1 dst=10.1.2.0/24 proto=udp port=5000-5010", &f, err, sizeof(err)), 0);
	CHECK_INT(f.dst_prefix, 24);
	CHECK_INT(f.proto, 17);
	CHECK_INT(f.port_lo, 5000);
	CHECK_INT(f.port_hi, 5010);
	CHECK(policy_may_flow(bob, &f));
	CHECK_INT(policy_flow_parse("dst=10.1.2.2 proto=tcp port=80", &f, err, sizeof(err)), 0);
	CHECK_INT(f.dst_prefix, 32);
	CHECK(!policy_may_flow(bob, &f)); /* TCP is not granted in 10.1/16 */
	CHECK_INT(policy_flow_parse("proto=udp port=1", &f, err, sizeof(err)), -EINVAL); /* no prefix */
	CHECK_INT(policy_flow_parse("dst=10.1.0.0/33 proto=udp", &f, err, sizeof(err)), -EINVAL);
	CHECK_INT(policy_flow_parse("dst=10.1.0.0/16 proto=icmp port=1", &f, err, sizeof(err)), -EINVAL);
	CHECK_INT(policy_flow_parse("dst=10.1.0.0/16 proto=sctp", &f, err, sizeof(err)), -EINVAL);
	CHECK_INT(policy_flow_parse("dst=10.1.0.0/16 proto=udp port=9-2", &f, err, sizeof(err)), -EINVAL);
	policy_free(&p);
}

static void expect_refused(const char *text, int line, const char *words)
{
	struct policy p;
	char err[256] = "";
	CHECK(policy_load(write_policy("bad", text), &p, err, sizeof(err)) < 0);
	char where[32];
	snprintf(where, sizeof(where), ":%d: ", line);
	if (!strstr(err, where) || !strstr(err, words)) {
		fprintf(stderr, "policy error '%s' lacks '%s' or '%s'\n", err, where, words);
		check_failures++;
	}
}

static void test_policy_errors(void)
{
	char k[POLICY_KEY_STRLEN], t[512];
	policy_key_format(bob_pk, k, sizeof(k));
	expect_refused("frobnicate x\n", 1, "unknown directive");
	expect_refused("user bob ed25519:AAAA\n", 1, "bad key");
	snprintf(t, sizeof(t), "user bob %s\nuser bob %s\n", k, k);
	expect_refused(t, 2, "twice");
	snprintf(t, sizeof(t), "user b/ob %s\n", k);
	expect_refused(t, 1, "bad name");
	expect_refused("\nservice x program relative/path\n", 2, "absolute");
	expect_refused("service x daemon /bin/true\n", 1, "program, server, module or probe");
	snprintf(t, sizeof(t), "user bob %s\nallow bob service nothere\n", k);
	expect_refused(t, 2, "not a service deployed");
	expect_refused("allow nobody service x\n", 1, "declared before");
	snprintf(t, sizeof(t), "user bob %s\nallow bob filter 10.1.0.1/16\n", k);
	expect_refused(t, 2, "no host bits");
	snprintf(t, sizeof(t), "user bob %s\nallow bob filter 10.1.0.0/16 ports 80\n", k);
	expect_refused(t, 2, "ports need proto");
	snprintf(t, sizeof(t), "user bob %s\nquota bob cpu 101\n", k);
	expect_refused(t, 2, "quota");
	snprintf(t, sizeof(t), "user bob %s\nquota bob memory 1T\n", k);
	expect_refused(t, 2, "quota");
	struct policy p;
	char err[256];
	CHECK_INT(policy_load("/nonexistent/policy", &p, err, sizeof(err)), -ENOENT);
}

static size_t sign(uint8_t *buf, uint8_t op, const char *node, const char *user, const char *service,
		   const char *params, uint64_t when, const uint8_t *sk)
{
	struct wire_svc_request q = {.op = op, .time = when};
	randombytes_buf(q.nonce, sizeof(q.nonce));
	snprintf(q.node, sizeof(q.node), "%s", node);
	snprintf(q.user, sizeof(q.user), "%s", user);
	snprintf(q.service, sizeof(q.service), "%s", service);
	snprintf(q.params, sizeof(q.params), "%s", params);
	ssize_t n = wire_svc_build(buf, WIRE_SVC_REQUEST_MAX, &q, sk);
	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

static void test_wire(void)
{
	uint8_t b[WIRE_SVC_REQUEST_MAX];
	struct wire_svc_request q;
	size_t n = sign(b, WIRE_SVC_ACTIVATE, "r1", "bob.smith", "cache", "rate=5 hold=1", 1000, bob_sk);
	CHECK_INT(n, WIRE_SVC_FIXED_LEN + 2 + 9 + 5 + 13 + WIRE_SVC_SIG_LEN);
	CHECK_INT(wire_svc_parse(b, n, &q), 0);
	CHECK(!strcmp(q.node, "r1") && !strcmp(q.user, "bob.smith") && !strcmp(q.service, "cache"));
	CHECK(!strcmp(q.params, "rate=5 hold=1"));
	CHECK_INT(q.time, 1000);
	CHECK(wire_svc_verify(b, &q, bob_pk));
	CHECK(!wire_svc_verify(b, &q, alice_pk));
	for (size_t i = 0; i < n; i++) /* every truncation */
		CHECK(wire_svc_parse(b, i, &q) < 0);
	uint8_t c[WIRE_SVC_REQUEST_MAX + 1];
	memcpy(c, b, n);
	c[n] = 0;
	CHECK_INT(wire_svc_parse(c, n + 1, &q), -EBADMSG); /* after the signature */
	c[0] = 2;
	CHECK_INT(wire_svc_parse(c, n, &q), -EPROTONOSUPPORT);
	c[0] = 1;
	c[1] = 9;
	CHECK_INT(wire_svc_parse(c, n, &q), -EOPNOTSUPP);
	c[1] = 1;
	c[36] = '/'; /* a node name out of its alphabet */
	CHECK_INT(wire_svc_parse(c, n, &q), -EBADMSG);
	/* Every octet the signature covers counts: flip one, the parse may
	 * pass but the signature fails. */
	memcpy(c, b, n);
	c[5] ^= 1; /* the time */
	CHECK_INT(wire_svc_parse(c, n, &q), 0);
	CHECK(!wire_svc_verify(c, &q, bob_pk));
	/* Parameters only on activate and param; LIST needs no service. */
	struct wire_svc_request r = {.op = WIRE_SVC_STOP, .time = 1};
	strcpy(r.node, "r1");
	strcpy(r.user, "bob");
	strcpy(r.service, "x");
	strcpy(r.params, "a=1");
	CHECK_INT(wire_svc_build(b, sizeof(b), &r, bob_sk), -EINVAL);
	r.op = WIRE_SVC_LIST;
	r.params[0] = 0;
	r.service[0] = 0;
	CHECK(wire_svc_build(b, sizeof(b), &r, bob_sk) > 0);
	r.op = WIRE_SVC_STOP;
	CHECK_INT(wire_svc_build(b, sizeof(b), &r, bob_sk), -EINVAL);
	strcpy(r.service, "x");
	strcpy(r.params, "tab\there");
	r.op = WIRE_SVC_PARAM;
	CHECK_INT(wire_svc_build(b, sizeof(b), &r, bob_sk), -EINVAL);
	/* An owner (whose instance) on the requests that act on one, in the
	 * octet that was reserved; not on activate or list. */
	r.params[0] = 0;
	r.op = WIRE_SVC_STOP;
	strcpy(r.owner, "carol.x");
	ssize_t m = wire_svc_build(b, sizeof(b), &r, alice_sk);
	CHECK_INT(m, WIRE_SVC_FIXED_LEN + 2 + 3 + 1 + 7 + WIRE_SVC_SIG_LEN);
	CHECK_INT(b[31], 7);
	CHECK_INT(wire_svc_parse(b, (size_t)m, &q), 0);
	CHECK(!strcmp(q.owner, "carol.x") && !strcmp(q.service, "x"));
	CHECK(wire_svc_verify(b, &q, alice_pk));
	r.op = WIRE_SVC_ACTIVATE;
	CHECK_INT(wire_svc_build(b, sizeof(b), &r, alice_sk), -EINVAL);
	strcpy(r.owner, "a/b");
	r.op = WIRE_SVC_STOP;
	CHECK_INT(wire_svc_build(b, sizeof(b), &r, alice_sk), -EINVAL);
	/* A list with an owner octet set does not parse. */
	n = sign(b, WIRE_SVC_LIST, "r1", "bob", "", "", 1, bob_sk);
	b[31] = 1;
	CHECK_INT(wire_svc_parse(b, n, &q), -EBADMSG);
}

static void test_auth(void)
{
	struct policy p;
	char err[256];
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	struct svc_auth *a = svc_auth_new();
	uint8_t b[WIRE_SVC_REQUEST_MAX];
	struct wire_svc_request q;
	const struct policy_principal *who;
	uint64_t now = 1000000;
	size_t n = sign(b, WIRE_SVC_LIST, "r1", "bob.smith", "", "", now, bob_sk);
	CHECK_INT(svc_auth_check(a, &p, "r2", b, n, now, &q, &who), AUTH_OTHER_NODE);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n - 1, now, &q, &who), AUTH_MALFORMED);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now + AUTH_WINDOW_S + 1, &q, &who), AUTH_EXPIRED);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now - AUTH_WINDOW_S - 1, &q, &who), AUTH_FUTURE);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now + 5, &q, &who), AUTH_OK);
	CHECK(!strcmp(who->name, "bob.smith"));
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now + 6, &q, &who), AUTH_REPLAYED);
	/* Signed by alice's key, claiming to be bob: forged. */
	n = sign(b, WIRE_SVC_LIST, "r1", "bob.smith", "", "", now, alice_sk);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now, &q, &who), AUTH_FORGED);
	/* All-zero signature (unsigned). */
	n = sign(b, WIRE_SVC_LIST, "r1", "bob.smith", "", "", now, bob_sk);
	memset(b + n - WIRE_SVC_SIG_LEN, 0, WIRE_SVC_SIG_LEN);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now, &q, &who), AUTH_FORGED);
	n = sign(b, WIRE_SVC_LIST, "r1", "mallory", "", "", now, bob_sk);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now, &q, &who), AUTH_UNKNOWN);
	/* The same request again after the window: expired, not a replay,
	 * and its nonce has been forgotten. */
	n = sign(b, WIRE_SVC_LIST, "r1", "bob.smith", "", "", now, bob_sk);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now, &q, &who), AUTH_OK);
	CHECK_INT(svc_auth_check(a, &p, "r1", b, n, now + 2 * AUTH_WINDOW_S, &q, &who), AUTH_EXPIRED);
	svc_auth_free(a);
	policy_free(&p);
}

/* A runner that says yes (or no, when told) and remembers. */
static int starts, stops, fail_start;

static int r_start(void *arg, struct svc_instance *in, const struct policy_service *s,
		   const struct policy_principal *who, const void *request, size_t len, char *why, size_t whylen)
{
	if (fail_start) {
		snprintf(why, whylen, "runner says no");
		return -EIO;
	}
	starts++;
	return 0;
}

static void r_stop(void *arg, struct svc_instance *in)
{
	stops++;
}

static int r_suspend(void *arg, struct svc_instance *in, bool suspend, char *why, size_t whylen)
{
	return 0;
}

static int r_param(void *arg, struct svc_instance *in, const char *params, char *why, size_t whylen)
{
	return 0;
}

/* A runner whose instances fall outside a reloaded policy's grants when
 * told (a packet module's filter). */
static bool outside_grants;

static bool r_allowed(void *arg, struct svc_instance *in, const struct policy_principal *who)
{
	return !outside_grants;
}

static int request(struct svc *s, uint8_t op, const char *user, const char *service, const char *params,
		   const uint8_t *sk, char *out, size_t outlen)
{
	uint8_t b[WIRE_SVC_REQUEST_MAX];
	size_t n = sign(b, op, "r1", user, service, params, 5000, sk);
	struct ctl_out o = {.cap = 4096};
	o.buf = malloc(o.cap);
	o.buf[0] = 0;
	int r = svc_request(s, b, n, 5000, false, &o);
	snprintf(out, outlen, "%s", o.buf);
	free(o.buf);
	return r;
}

static void test_control(void)
{
	struct policy p;
	char err[256], out[4096];
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	struct svc_ops ops = {r_start, r_stop, r_suspend, r_param, NULL, NULL};
	struct svc *s = svc_new("r1", &p, &ops);
	CHECK_INT(request(s, WIRE_SVC_ACTIVATE, "bob.smith", "spare", "", bob_sk, out, sizeof(out)), -EPERM);
	CHECK(strstr(out, "does not allow") != NULL);
	CHECK_INT(request(s, WIRE_SVC_ACTIVATE, "bob.smith", "nothere", "", bob_sk, out, sizeof(out)), -ENOENT);
	fail_start = 1;
	CHECK_INT(request(s, WIRE_SVC_ACTIVATE, "bob.smith", "cache", "", bob_sk, out, sizeof(out)), -EIO);
	CHECK(strstr(out, "runner says no") != NULL);
	fail_start = 0;
	CHECK_INT(request(s, WIRE_SVC_ACTIVATE, "bob.smith", "cache", "x=1", bob_sk, out, sizeof(out)), 0);
	CHECK_INT(starts, 1);
	CHECK_INT(request(s, WIRE_SVC_ACTIVATE, "bob.smith", "cache", "", bob_sk, out, sizeof(out)), -EEXIST);
	/* bob's quota is one service. */
	CHECK_INT(request(s, WIRE_SVC_ACTIVATE, "bob.smith", "counter", "", bob_sk, out, sizeof(out)), -EDQUOT);
	CHECK_INT(request(s, WIRE_SVC_RESUME, "bob.smith", "cache", "", bob_sk, out, sizeof(out)), -EALREADY);
	CHECK_INT(request(s, WIRE_SVC_SUSPEND, "bob.smith", "cache", "", bob_sk, out, sizeof(out)), 0);
	CHECK(strstr(out, "suspended") != NULL);
	CHECK_INT(request(s, WIRE_SVC_PARAM, "bob.smith", "cache", "y=2", bob_sk, out, sizeof(out)), 0);
	/* alice (an administrator) has no instance of cache: hers to start. */
	CHECK_INT(request(s, WIRE_SVC_STOP, "alice", "cache", "", alice_sk, out, sizeof(out)), -ENOENT);
	CHECK_INT(request(s, WIRE_SVC_LIST, "alice", "", "", alice_sk, out, sizeof(out)), 0);
	CHECK(strstr(out, "service spare") && strstr(out, "cache of bob.smith"));
	CHECK_INT(request(s, WIRE_SVC_STOP, "bob.smith", "cache", "", bob_sk, out, sizeof(out)), 0);
	CHECK_INT(stops, 1);
	CHECK_INT(svc_instance_count(s), 0);
	const struct svc_counters *c = svc_counters(s);
	CHECK_INT(c->requests, 12);
	CHECK_INT(c->refused_policy, 2);
	CHECK_INT(c->refused_quota, 1);
	CHECK_INT(c->refused_state, 3);
	CHECK_INT(c->failed, 1);
	CHECK_INT(c->activated, 1);
	CHECK_INT(c->stopped, 1);
	CHECK_INT(c->accepted, 5);
	/* Instances still running are stopped with the module. */
	CHECK_INT(request(s, WIRE_SVC_ACTIVATE, "bob.smith", "counter", "", bob_sk, out, sizeof(out)), 0);
	svc_free(s);
	CHECK_INT(stops, 2);
}

/* The C API any room calls (signalling will): an administrator acts on any
 * user's instance, a user on its own only, and refusals say why. */
static void test_act(void)
{
	struct policy p;
	char err[256];
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	struct svc_ops ops = {r_start, r_stop, r_suspend, r_param, NULL, NULL};
	struct svc *s = svc_new("r1", &p, &ops);
	const struct policy_principal *bob = policy_principal(svc_policy(s), "bob.smith");
	const struct policy_principal *alice = policy_principal(svc_policy(s), "alice");
	CHECK(bob && alice && alice->admin);
	struct svc_result res;
	struct svc_action a = {.op = WIRE_SVC_ACTIVATE, .service = "cache", .params = "k=v", .now = 77};
	CHECK_INT(svc_act(s, bob, &a, &res), 0);
	CHECK(res.has_in && !strcmp(res.in.user, "bob.smith") && !strcmp(res.in.params, "k=v"));
	CHECK_INT(res.in.since, 77);
	/* Nobody activates for another. */
	a.owner = "bob.smith";
	CHECK_INT(svc_act(s, alice, &a, &res), -EPERM);
	CHECK(strstr(res.why, "activated by its own user"));
	/* bob cannot touch alice's (nor anyone's) instance. */
	struct svc_action st = {.op = WIRE_SVC_SUSPEND, .service = "cache", .owner = "alice", .now = 78};
	CHECK_INT(svc_act(s, bob, &st, &res), -EPERM);
	CHECK(strstr(res.why, "only administrators"));
	/* alice suspends, passes parameters to, and stops bob's. */
	st.owner = "bob.smith";
	CHECK_INT(svc_act(s, alice, &st, &res), 0);
	CHECK(res.has_in && res.in.state == SVC_SUSPENDED);
	st.op = WIRE_SVC_PARAM;
	st.params = "z=9";
	CHECK_INT(svc_act(s, alice, &st, &res), 0);
	CHECK(!strcmp(res.in.params, "z=9"));
	st.op = WIRE_SVC_STOP;
	st.params = NULL;
	CHECK_INT(svc_act(s, alice, &st, &res), 0);
	CHECK(res.stopped && !strcmp(res.in.user, "bob.smith"));
	CHECK_INT(svc_instance_count(s), 0);
	CHECK_INT(svc_act(s, alice, &st, &res), -ENOENT);
	CHECK(strstr(res.why, "that user runs no such service"));
	st.op = WIRE_SVC_LIST;
	CHECK_INT(svc_act(s, alice, &st, &res), -EOPNOTSUPP);
	const struct svc_counters *c = svc_counters(s);
	CHECK_INT(c->refused_policy, 2);
	CHECK_INT(c->refused_state, 1);
	CHECK_INT(c->stopped, 1);
	svc_free(s);

	/* A reload whose grants no longer cover what an instance runs revokes
	 * it, though the service itself is still granted. */
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	ops.allowed = r_allowed;
	s = svc_new("r1", &p, &ops);
	bob = policy_principal(svc_policy(s), "bob.smith");
	a.owner = NULL;
	CHECK_INT(svc_act(s, bob, &a, &res), 0);
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	svc_reload(s, &p);
	CHECK_INT(svc_instance_count(s), 1);
	outside_grants = true;
	CHECK_INT(policy_load(good_policy(), &p, err, sizeof(err)), 0);
	svc_reload(s, &p);
	CHECK_INT(svc_instance_count(s), 0);
	CHECK_INT(svc_counters(s)->revoked, 1);
	outside_grants = false;
	svc_free(s);
}

/* A 28-octet IPv4/UDP packet from src:sport to dst:dport. */
static void udp_pkt(uint8_t *b, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	memset(b, 0, 28);
	b[0] = 0x45;
	b[3] = 28;
	b[8] = 64;
	b[9] = 17;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	b[20] = (uint8_t)(sport >> 8), b[21] = (uint8_t)sport;
	b[22] = (uint8_t)(dport >> 8), b[23] = (uint8_t)dport;
	b[25] = 8;
}

/* Rewrites stay inside the filter that caught the packet (issue 17). */
static void test_rewrite(void)
{
	struct match_filter f = {.dst_prefix = 24, .proto = 17, .dport_lo = 7000, .dport_hi = 7010};
	inet_pton(AF_INET, "10.231.2.0", &f.dst);
	uint8_t o[28], n[28];
	char why[128];
	udp_pkt(o, "10.231.1.2", 4000, "10.231.2.2", 7000);
	memcpy(n, o, 28);
	n[27] = 'x'; /* the payload: anything goes */
	CHECK(svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	udp_pkt(n, "10.231.1.2", 4000, "10.231.2.9", 7010); /* inside the filter */
	CHECK(svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	/* The attack: UDP from 192.0.2.66:53 to wherever. */
	udp_pkt(n, "192.0.2.66", 53, "10.231.2.2", 7000);
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	CHECK(strstr(why, "source 192.0.2.66 outside the filter") != NULL);
	udp_pkt(n, "10.231.1.2", 53, "10.231.2.2", 7000);
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	CHECK(strstr(why, "source port 53") != NULL);
	udp_pkt(n, "10.231.1.2", 4000, "10.9.9.9", 7000);
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	CHECK(strstr(why, "destination 10.9.9.9") != NULL);
	udp_pkt(n, "10.231.1.2", 4000, "10.231.2.2", 53);
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	udp_pkt(n, "10.231.1.2", 4000, "10.231.2.2", 7000);
	n[9] = 6;
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	CHECK(strstr(why, "protocol 17 changed to 6") != NULL);
	n[9] = 17;
	n[6] = 0x20; /* more fragments */
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 12, why, sizeof(why)));
	n[0] = 0x65; /* IPv6 */
	n[6] = 0;
	CHECK(!svc_rewrite_allowed(&f, o, 28, n, 28, why, sizeof(why)));
}

static const struct check_test tests[] = {
    TEST(test_rewrite), TEST(test_policy_load), TEST(test_policy_errors), TEST(test_flow),
    TEST(test_wire),	TEST(test_auth),	TEST(test_control),	  TEST(test_act),
};

int main(void)
{
	if (sodium_init() < 0 || !mkdtemp(dir))
		return 1;
	crypto_sign_keypair(alice_pk, alice_sk);
	crypto_sign_keypair(bob_pk, bob_sk);
	int r = check_run(tests, sizeof(tests) / sizeof(tests[0]));
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = 1;
	return r;
}
