// SPDX-License-Identifier: MIT
/*
 * Unit tests of the on-path signalling messages (src/wire/sig.c, docs/wire.md
 * §10): a SETUP with every field builds to the octets of the document's test
 * vector (Ed25519 is deterministic: the key comes from a fixed seed), parses
 * back to the same fields, and verifies with its key and no other; a changed
 * octet fails the signature; each malformation the document lists is
 * refused; a TRIGGER carries a request, not a TRIGGER; a response's stack
 * grows entry by entry, parses back, and is marked truncated when full.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>

#include "check.h"
#include "wire/sig.h"

static uint8_t pk[32], sk[64];

static void keys(void)
{
	uint8_t seed[32];
	memset(seed, 1, sizeof(seed));
	crypto_sign_seed_keypair(pk, sk, seed);
}

static struct an_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct an_addr x = {.ip = {[10] = 0xff, [11] = 0xff, [12] = a, [13] = b, [14] = c, [15] = d}};
	x.port = htons(port);
	return x;
}

/* Figure 4's SETUP, as anode carries it. */
static void setup_request(struct wire_sig_request *q)
{
	memset(q, 0, sizeof(*q));
	q->kind = WIRE_SIG_SETUP;
	q->id = 0x0102030405060708ull;
	q->time = 1796310000;
	memset(q->nonce, 0xab, sizeof(q->nonce));
	strcpy(q->user, "janedoe");
	strcpy(q->module, "NetMonitor");
	strcpy(q->version, "1.0.0");
	q->filters[0] = (struct wire_sig_filter){.proto = 17, .dport_lo = 5060, .dport_hi = 5060};
	q->n_filters = 1;
	strcpy(q->props[0].key, "collector");
	strcpy(q->props[0].value, "10.200.0.1:5678");
	q->n_props = 1;
	q->lifetime = 3600;
	strcpy(q->url, "http://10.200.0.1/modules/netmonitor.ao");
	memset(q->hash, 0x5a, sizeof(q->hash));
	q->size = 1234;
	q->mod_kind = WIRE_SIG_KIND_PACKET;
	q->origin = v4(10, 200, 0, 1, 3322);
}

/* docs/wire.md §10, vector 11: the SETUP above signed with the key of
 * seed 01 x 32. */
#include "sig_vector.h"

static void test_setup_vector(void)
{
	struct wire_sig_request q, r;
	uint8_t buf[WIRE_SIG_MSG_MAX];
	setup_request(&q);
	ssize_t n = wire_sig_build(buf, sizeof(buf), &q, sk);
	CHECK_INT(n, sizeof(sig_vector_11));
	CHECK_MEM(buf, sig_vector_11, sizeof(sig_vector_11));
	CHECK_INT(wire_sig_parse(buf, (size_t)n, &r), 0);
	CHECK_INT(r.kind, WIRE_SIG_SETUP);
	CHECK(r.id == q.id && r.time == q.time);
	CHECK(!strcmp(r.user, "janedoe") && !strcmp(r.module, "NetMonitor") && !strcmp(r.version, "1.0.0"));
	CHECK_INT(r.n_filters, 1);
	CHECK_INT(r.filters[0].proto, 17);
	CHECK_INT(r.filters[0].dport_lo, 5060);
	CHECK_INT(r.n_props, 1);
	CHECK(!strcmp(r.props[0].key, "collector") && !strcmp(r.props[0].value, "10.200.0.1:5678"));
	CHECK_INT(r.lifetime, 3600);
	CHECK(!strcmp(r.url, q.url));
	CHECK_MEM(r.hash, q.hash, 32);
	CHECK_INT(r.size, 1234);
	CHECK_INT(r.mod_kind, WIRE_SIG_KIND_PACKET);
	CHECK(an_addr_eq(&r.origin, &q.origin));
	CHECK(wire_sig_verify(buf, &r, pk));
	uint8_t other_pk[32], other_sk[64];
	crypto_sign_keypair(other_pk, other_sk);
	CHECK(!wire_sig_verify(buf, &r, other_pk));
	/* Any octet the signature covers, changed, fails it (the layout may
	 * still parse). */
	for (size_t i = 0; i < r.signed_len; i += 7) {
		buf[i] ^= 0x01;
		struct wire_sig_request t;
		if (wire_sig_parse(buf, (size_t)n, &t) == 0)
			CHECK(!wire_sig_verify(buf, &t, pk));
		buf[i] ^= 0x01;
	}
	CHECK_INT(wire_sig_build(buf, (size_t)n - 1, &q, sk), -EMSGSIZE);
}

/* Build q, then apply a change to the octets and re-sign, so that only
 * the layout is wrong. */
static int parse_after(const struct wire_sig_request *q, void (*edit)(uint8_t *, size_t *))
{
	uint8_t buf[WIRE_SIG_MSG_MAX];
	ssize_t n = wire_sig_build(buf, sizeof(buf), q, sk);
	if (n < 0)
		return (int)n;
	size_t len = (size_t)n;
	edit(buf, &len);
	struct wire_sig_request r;
	return wire_sig_parse(buf, len, &r);
}

static void cut_last(uint8_t *b, size_t *len)
{
	(*len)--;
}
static void add_trailer(uint8_t *b, size_t *len)
{
	b[(*len)++] = 0;
	b[(*len)++] = 1;
	b[(*len)++] = 0;
	b[(*len)++] = 0;
}
static void version_2(uint8_t *b, size_t *len)
{
	b[0] = 2;
}
static void flags_set(uint8_t *b, size_t *len)
{
	b[3] = 1;
}
static void kind_9(uint8_t *b, size_t *len)
{
	b[1] = 9;
}
/* The USER field is the third, after TIME (12) and NONCE (20). */
static void user_bad_char(uint8_t *b, size_t *len)
{
	b[12 + 12 + 20 + 4] = ' ';
}
/* TIME's type becomes NONCE's: NONCE twice. */
static void nonce_twice(uint8_t *b, size_t *len)
{
	b[12 + 1] = WIRE_SIG_NONCE;
}

static void test_refused(void)
{
	struct wire_sig_request q;
	setup_request(&q);
	CHECK_INT(parse_after(&q, cut_last), -EBADMSG);
	CHECK_INT(parse_after(&q, add_trailer), -EBADMSG); /* nothing after the signature */
	CHECK_INT(parse_after(&q, version_2), -EPROTONOSUPPORT);
	CHECK_INT(parse_after(&q, flags_set), -EBADMSG);
	CHECK_INT(parse_after(&q, kind_9), -EBADMSG);
	CHECK_INT(parse_after(&q, user_bad_char), -EBADMSG);
	CHECK_INT(parse_after(&q, nonce_twice), -EBADMSG);
	uint8_t buf[WIRE_SIG_MSG_MAX];
	/* The builder refuses what the parser would. */
	struct wire_sig_request b = q;
	b.n_filters = 0; /* a packet module without a filter */
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b = q;
	b.filters[0].dst_len = 8;
	b.filters[0].dst[12] = 10;
	b.filters[0].dst[13] = 1; /* host bits past /8 */
	b.filters[0].dst[10] = b.filters[0].dst[11] = 0xff;
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b = q;
	b.filters[0].proto = 1; /* ports with ICMP */
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b = q;
	b.lifetime = WIRE_SIG_LIFETIME_MAX + 1;
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b = q;
	strcpy(b.url, "ftp://10.200.0.1/x.ao");
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b = q;
	b.size = WIRE_SIG_MODULE_MAX + 1;
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b = q;
	strcpy(b.props[0].value, "a\tb");
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b = q;
	b.origin.port = 0;
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	/* A REMOVE needs the module's name; a PROBE does not. */
	b = q;
	b.kind = WIRE_SIG_REMOVE;
	b.module[0] = '\0';
	CHECK_INT(wire_sig_build(buf, sizeof(buf), &b, sk), -EINVAL);
	b.kind = WIRE_SIG_PROBE;
	ssize_t n = wire_sig_build(buf, sizeof(buf), &b, sk);
	struct wire_sig_request r;
	CHECK(n > 0 && wire_sig_parse(buf, (size_t)n, &r) == 0 && wire_sig_verify(buf, &r, pk));
	CHECK(!WIRE_SIG_HAS(&r, WIRE_SIG_HASH) && !WIRE_SIG_HAS(&r, WIRE_SIG_FILTER));
	/* Every truncation of a good message is refused. */
	setup_request(&q);
	n = wire_sig_build(buf, sizeof(buf), &q, sk);
	for (ssize_t k = 0; k < n; k++)
		CHECK(wire_sig_parse(buf, (size_t)k, &r) < 0);
}

static void test_trigger(void)
{
	struct wire_sig_request q, t, r;
	uint8_t inner[WIRE_SIG_MSG_MAX], buf[WIRE_SIG_MSG_MAX], outer[WIRE_SIG_MSG_MAX];
	setup_request(&q);
	ssize_t in = wire_sig_build(inner, sizeof(inner), &q, sk);
	CHECK(in > 0);
	memset(&t, 0, sizeof(t));
	t.kind = WIRE_SIG_TRIGGER;
	t.id = 9;
	t.time = q.time;
	memset(t.nonce, 0xcd, 16);
	strcpy(t.user, "janedoe");
	t.origin = q.origin;
	t.inner = inner;
	t.inner_len = (size_t)in;
	ssize_t n = wire_sig_build(buf, sizeof(buf), &t, sk);
	CHECK(n > 0);
	CHECK_INT(wire_sig_parse(buf, (size_t)n, &r), 0);
	CHECK(r.inner_len == (size_t)in && r.inner && !memcmp(r.inner, inner, (size_t)in));
	CHECK(wire_sig_verify(buf, &r, pk));
	struct wire_sig_request ir;
	CHECK(wire_sig_parse(r.inner, r.inner_len, &ir) == 0 && wire_sig_verify(r.inner, &ir, pk));
	/* A TRIGGER around a TRIGGER, or around bytes that are not a request. */
	t.inner = buf;
	t.inner_len = (size_t)n;
	CHECK_INT(wire_sig_build(outer, sizeof(outer), &t, sk), -EINVAL);
	inner[0] = 7;
	t.inner = inner;
	t.inner_len = (size_t)in;
	CHECK_INT(wire_sig_build(outer, sizeof(outer), &t, sk), -EINVAL);
}

static void test_response(void)
{
	uint8_t buf[WIRE_SIG_MSG_MAX];
	ssize_t n = wire_sig_response_start(buf, sizeof(buf), 0x42);
	CHECK_INT(n, WIRE_SIG_HDR_LEN);
	struct wire_sig_entry e = {.address = v4(10, 200, 255, 2, 3322),
				   .has_caps = true,
				   .ee_kinds = 3,
				   .sandbox_kinds = 1,
				   .free_modules = 7,
				   .free_memory_kb = 65536,
				   .has_load = true,
				   .load_milli = 250,
				   .has_result = true,
				   .status = 0};
	strcpy(e.why, "installed");
	e.installed[0].remaining_s = 3599;
	strcpy(e.installed[0].name, "NetMonitor");
	strcpy(e.installed[0].version, "1.0.0");
	e.n_installed = 1;
	n = wire_sig_response_push(buf, sizeof(buf), (size_t)n, &e);
	CHECK(n > WIRE_SIG_HDR_LEN);
	struct wire_sig_entry f = {.address = v4(10, 200, 255, 1, 3322), .has_result = true, .status = -EACCES};
	strcpy(f.why, "filter outside janedoe's prefixes");
	n = wire_sig_response_push(buf, sizeof(buf), (size_t)n, &f);
	static struct wire_sig_response r;
	CHECK_INT(wire_sig_response_parse(buf, (size_t)n, &r), 0);
	CHECK(r.id == 0x42 && r.flags == 0);
	CHECK_INT(r.n_entries, 2);
	CHECK(an_addr_eq(&r.entries[0].address, &e.address) && r.entries[0].free_modules == 7 &&
	      r.entries[0].free_memory_kb == 65536 && r.entries[0].load_milli == 250);
	CHECK(r.entries[0].n_installed == 1 && r.entries[0].installed[0].remaining_s == 3599 &&
	      !strcmp(r.entries[0].installed[0].name, "NetMonitor"));
	CHECK(r.entries[1].status == -EACCES && !strcmp(r.entries[1].why, f.why) && !r.entries[1].has_caps);
	/* A request is not a response, nor the other way round. */
	struct wire_sig_request q;
	CHECK_INT(wire_sig_parse(buf, (size_t)n, &q), -EBADMSG);
	/* Full: the 17th node does not push, and says the stack is cut. */
	n = wire_sig_response_start(buf, sizeof(buf), 1);
	for (int i = 0; i < WIRE_SIG_ENTRIES_MAX; i++)
		n = wire_sig_response_push(buf, sizeof(buf), (size_t)n, &f);
	ssize_t full = n;
	n = wire_sig_response_push(buf, sizeof(buf), (size_t)n, &f);
	CHECK_INT(n, full);
	CHECK_INT(wire_sig_response_parse(buf, (size_t)n, &r), 0);
	CHECK_INT(r.n_entries, WIRE_SIG_ENTRIES_MAX);
	CHECK(r.flags & WIRE_SIG_F_TRUNCATED);
	/* No room in the buffer: the same. */
	n = wire_sig_response_start(buf, sizeof(buf), 2);
	ssize_t m = wire_sig_response_push(buf, (size_t)n + 10, (size_t)n, &e);
	CHECK_INT(m, n);
	CHECK_INT(wire_sig_response_parse(buf, (size_t)m, &r), 0);
	CHECK(r.n_entries == 0 && (r.flags & WIRE_SIG_F_TRUNCATED));
	/* Entries the parser would refuse are not pushed. */
	struct wire_sig_entry bad = f;
	bad.status = 5;
	CHECK_INT(wire_sig_response_push(buf, sizeof(buf), (size_t)m, &bad), -EINVAL);
	bad = f;
	strcpy(bad.why, "new\nline");
	CHECK_INT(wire_sig_response_push(buf, sizeof(buf), (size_t)m, &bad), -EINVAL);
	/* An entry without the node's address does not parse. */
	uint8_t noaddr[] = {1, 0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, WIRE_SIG_ENTRY, 0, 8, 0, 3, 0, 4, 0, 0, 0, 1};
	CHECK_INT(wire_sig_response_parse(noaddr, sizeof(noaddr), &r), -EBADMSG);
}

/* HERE: the header alone, of its id; anything after it, flags, or a
 * short header refuse it; it is neither a request nor a response. */
static void test_here(void)
{
	uint8_t buf[64];
	CHECK_INT(wire_sig_here_build(buf, sizeof(buf), 0x1122334455667788ull), WIRE_SIG_HDR_LEN);
	static const uint8_t want[] = {1, 0x82, 0, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	CHECK_MEM(buf, want, sizeof(want));
	uint8_t kind;
	uint64_t id;
	CHECK_INT(wire_sig_peek(buf, WIRE_SIG_HDR_LEN, &kind, &id), 0);
	CHECK(kind == WIRE_SIG_HERE && id == 0x1122334455667788ull);
	CHECK_INT(wire_sig_peek(buf, WIRE_SIG_HDR_LEN + 1, &kind, &id), -EBADMSG);
	CHECK_INT(wire_sig_peek(buf, WIRE_SIG_HDR_LEN - 1, &kind, &id), -EBADMSG);
	buf[3] = 1;
	CHECK_INT(wire_sig_peek(buf, WIRE_SIG_HDR_LEN, &kind, &id), -EBADMSG);
	buf[3] = 0;
	struct wire_sig_request q;
	static struct wire_sig_response r;
	CHECK_INT(wire_sig_parse(buf, WIRE_SIG_HDR_LEN, &q), -EBADMSG);
	CHECK_INT(wire_sig_response_parse(buf, WIRE_SIG_HDR_LEN, &r), -EBADMSG);
	CHECK_INT(wire_sig_here_build(buf, WIRE_SIG_HDR_LEN - 1, 1), -EMSGSIZE);
}

static void test_main_keys(void)
{
	/* Runs first: the vector's key. */
	keys();
	CHECK(pk[0] != 0 || pk[1] != 0);
}

/* The vector as docs/wire.md prints it is the vector the code builds. */
static const char *docs_path;

static void test_docs_vector(void)
{
	FILE *f = docs_path ? fopen(docs_path, "r") : NULL;
	CHECK(f != NULL);
	if (!f)
		return;
	char line[256];
	uint8_t got[WIRE_SIG_MSG_MAX];
	size_t n = 0;
	int state = 0; /* 0: before the heading, 1: before its block, 2: in it */
	while (state < 3 && fgets(line, sizeof(line), f)) {
		if (state == 0 && !strncmp(line, "### Vector 11:", 14))
			state = 1;
		else if (state >= 1 && !strncmp(line, "```", 3))
			state++;
		else if (state == 2)
			for (char *p = line; *p && n < sizeof(got);) {
				unsigned v;
				int used;
				if (sscanf(p, " %2x%n", &v, &used) != 1)
					break;
				got[n++] = (uint8_t)v;
				p += used;
			}
	}
	fclose(f);
	CHECK_INT(n, sizeof(sig_vector_11));
	CHECK_MEM(got, sig_vector_11, n < sizeof(sig_vector_11) ? n : sizeof(sig_vector_11));
}

static const struct check_test tests[] = {
    TEST(test_main_keys), TEST(test_setup_vector), TEST(test_refused),
    TEST(test_trigger),	  TEST(test_response),	   TEST(test_here), TEST(test_docs_vector),
};

int main(int argc, char **argv)
{
	docs_path = argc > 1 ? argv[1] : NULL;
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
