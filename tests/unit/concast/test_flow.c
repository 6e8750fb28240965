/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of concast flow state and merging (src/concast/flow.c) with
 * the shipped merge specifications, run through the real EE: the counting
 * merge (one message per tag, timeouts, the tag limit, tag age, one
 * upstream passes messages on, a specification evicted from the cache is
 * put back), and the audio mixer (its sums against `sox -D -m -v 1`, late
 * and early messages, drift correction).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "concast/kind.h"
#include "check.h"
#include "concast/flow.h"
#include "core/g711.h"

static const char *apps_dir;

struct out {
	size_t n;
	size_t len[64];
	uint8_t msg[64][AN_CONCAST_MSG_MAX];
};

static void emit(void *arg, struct cc_flow *f, const uint8_t *msg, size_t len)
{
	struct out *o = arg;
	(void)f;
	if (o->n < 64) {
		o->len[o->n] = len;
		memcpy(o->msg[o->n++], msg, len);
	}
}

static int route(void *node, const struct an_addr *dst, struct an_addr *next)
{
	(void)node;
	*next = *dst;
	return 0;
}

static bool alive(void *node, uint64_t h)
{
	(void)node;
	(void)h;
	return false;
}

static int64_t info(void *node, uint64_t what)
{
	(void)node;
	(void)what;
	return -EINVAL;
}

static struct ee *new_ee_sized(size_t objects)
{
	struct ee_config cfg = {.cache_objects = objects};
	struct ee_env env = {.route = route, .applink_alive = alive, .node_info = info};
	return ee_new(&cfg, &env);
}

static struct ee *new_ee(void)
{
	return new_ee_sized(0);
}

static void *read_file(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", apps_dir, name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	void *buf = malloc(1 << 16);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

/* A table with one flow using spec file, n upstream slots. */
static struct cc_flow *setup(struct ee *ee, struct cc_table **t, const char *file, int n_up, struct out *o,
			     size_t max_tags)
{
	struct cc_config cfg = {.max_tags = max_tags, .tag_max_ms = 1000};
	*t = cc_table_new(&cfg, ee, emit, o);
	size_t len = 0;
	void *elf = read_file(file, &len);
	CHECK(elf != NULL);
	uint8_t name[32];
	CHECK_INT(ee_code_insert_kind(ee, &concast_kind_merge, elf, len, name), 0);
	struct an_flow id = {.app_id = 7};
	struct cc_flow *f;
	CHECK_INT(cc_flow_add(*t, &id, 0, &f), 0);
	CHECK_INT(cc_flow_set_spec(*t, f, name, elf, len), 0);
	free(elf);
	for (int i = 0; i < n_up; i++) {
		struct an_addr a = {.port = (uint16_t)(i + 1)};
		CHECK_INT(cc_up_add(*t, f, CC_UP_NODE, &a, 0, 0), i);
	}
	return f;
}

static void count_msg(uint8_t m[12], uint64_t tag, uint32_t count)
{
	for (int i = 0; i < 8; i++)
		m[i] = (uint8_t)(tag >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		m[8 + i] = (uint8_t)(count >> (24 - 8 * i));
}

static uint32_t count_of(const uint8_t *m)
{
	return (uint32_t)m[8] << 24 | (uint32_t)m[9] << 16 | (uint32_t)m[10] << 8 | m[11];
}

static void test_count(void)
{
	struct ee *ee = new_ee();
	struct cc_table *t;
	struct out o = {0};
	struct cc_flow *f = setup(ee, &t, "count.ao", 3, &o, 2);
	uint8_t m[12];
	/* Tag 5 from every upstream: one message, count 3. */
	for (int i = 0; i < 3; i++) {
		count_msg(m, 5, 1);
		CHECK_INT(cc_input(t, f, i, m, 12, 10), 0);
	}
	CHECK_INT((int)o.n, 1);
	CHECK_INT((int)count_of(o.msg[0]), 3);
	CHECK_INT((int)cc_flow_tags(t, f), 0);
	/* A count past COUNT_MAX (64) is clamped and flagged, for upstream 1
	 * alone: the sum is 1 + 64 + 1, not 1002. */
	count_msg(m, 4, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, 10), 0);
	count_msg(m, 4, 1000);
	CHECK_INT(cc_input(t, f, 1, m, 12, 10), 0);
	count_msg(m, 4, 1);
	CHECK_INT(cc_input(t, f, 2, m, 12, 10), 0);
	CHECK_INT((int)o.n, 2);
	CHECK_INT((int)count_of(o.msg[1]), 66);
	CHECK_INT((int)cc_counters(t)->flagged, 1);
	CHECK_INT((int)f->up[1].flagged, 1);
	CHECK_INT((int)(f->up[0].flagged + f->up[2].flagged), 0);
	o.n = 1;
	/* Two of three: waits, then the timeout done armed (200 ms) sends 2. */
	count_msg(m, 6, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, 20), 0);
	CHECK_INT(cc_input(t, f, 1, m, 12, 21), 0);
	CHECK_INT((int)o.n, 1);
	CHECK_INT((int)cc_next_deadline(t), 220);
	cc_expire(t, 219);
	CHECK_INT((int)o.n, 1);
	cc_expire(t, 220);
	CHECK_INT((int)o.n, 2);
	CHECK_INT((int)count_of(o.msg[1]), 2);
	CHECK_INT((int)cc_counters(t)->timeouts, 1);
	/* At most two tags in merge: a third is refused (each opened by
	 * another upstream: one holds at most the table less a slot for each
	 * of the others, here one). */
	count_msg(m, 7, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, 300), 0);
	count_msg(m, 8, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, 300), -EDQUOT);
	CHECK_INT((int)cc_counters(t)->tags_share, 1);
	CHECK_INT(cc_input(t, f, 1, m, 12, 300), 0);
	count_msg(m, 9, 1);
	CHECK_INT(cc_input(t, f, 2, m, 12, 300), -EDQUOT);
	CHECK_INT((int)cc_counters(t)->tags_full, 1);
	/* A malformed message is refused by get_tag. */
	CHECK_INT(cc_input(t, f, 0, m, 11, 300), -ECANCELED);
	/* The specification evicted from the cache is put back from the copy. */
	CHECK_INT(ee_code_remove(ee, f->spec), 0);
	count_msg(m, 7, 1);
	CHECK_INT(cc_input(t, f, 1, m, 12, 301), 0);
	CHECK_INT(cc_input(t, f, 2, m, 12, 302), 0);
	CHECK_INT((int)o.n, 3);
	CHECK_INT((int)count_of(o.msg[2]), 3);
	/* Tag 8 waits past its age (1000 ms here): discarded, counted. */
	cc_expire(t, 300 + 1000);
	CHECK_INT((int)cc_counters(t)->tags_expired, 1);
	/* One upstream: passed on as it is, no merge run. */
	cc_up_del(f, 1);
	cc_up_del(f, 2);
	uint64_t merged = cc_counters(t)->merged;
	count_msg(m, 11, 42);
	CHECK_INT(cc_input(t, f, 0, m, 12, 400), 0);
	CHECK_INT((int)cc_counters(t)->merged, (int)merged);
	CHECK_INT((int)count_of(o.msg[o.n - 1]), 42);
	cc_table_free(t);
	ee_free(ee);
}

/* One sender that opens tags fast holds at most its share of the flow's
 * table (issue 18): the others' tags still find room. */
static void test_tag_share(void)
{
	struct ee *ee = new_ee();
	struct cc_table *t;
	struct out o = {0};
	struct cc_flow *f = setup(ee, &t, "count.ao", 3, &o, 6);
	uint8_t m[12];
	/* Upstream 2 opens ten tags nobody else sends: it gets the table
	 * less one slot for each of the two others. */
	for (uint64_t tag = 100; tag < 110; tag++) {
		count_msg(m, tag, 1000);
		cc_input(t, f, 2, m, 12, 10);
	}
	CHECK_INT((int)cc_flow_tags(t, f), 4);
	CHECK_INT((int)cc_counters(t)->tags_share, 6);
	/* The real senders' tag still finds room, and merges (sent at the
	 * timeout the counting specification arms, without upstream 2). */
	count_msg(m, 5, 1);
	for (int i = 0; i < 2; i++)
		CHECK_INT(cc_input(t, f, i, m, 12, 11), 0);
	cc_expire(t, 11 + 200);
	int real = 0;
	for (size_t k = 0; k < o.n; k++)
		real += count_of(o.msg[k]) == 2;
	CHECK_INT(real, 1); /* (with upstream 2's four tags, 1000 each, at their timeouts) */
	CHECK_INT((int)cc_counters(t)->tags_full, 0);
	cc_table_free(t);
	ee_free(ee);
}

/* ---- the audio mixer ---- */

#define SAMPLES 480
#define INTERVALS 40

static void mixer_msg(uint8_t *m, uint32_t seq, const uint8_t *samples)
{
	m[0] = (uint8_t)(seq >> 24);
	m[1] = (uint8_t)(seq >> 16);
	m[2] = (uint8_t)(seq >> 8);
	m[3] = (uint8_t)seq;
	memcpy(m + 4, samples, SAMPLES);
}

static int seg_of(uint8_t u)
{
	return ((uint8_t)~u >> 4) & 7;
}

/* sox's mix of n raw μ-law files of INTERVALS * SAMPLES samples (the
 * reference: `sox -D -m -v 1 a.ul -v 1 b.ul ...`) into out. */
static void sox_mix(const uint8_t *const *in, size_t n, uint8_t *out)
{
	char dir[] = "/tmp/anode-mixer.XXXXXX", cmd[2048], path[128];
	CHECK(mkdtemp(dir) != NULL);
	size_t used = (size_t)snprintf(cmd, sizeof(cmd), "sox -D -m");
	for (size_t k = 0; k < n; k++) {
		snprintf(path, sizeof(path), "%s/%zu.ul", dir, k);
		FILE *f = fopen(path, "wb");
		CHECK(f != NULL);
		fwrite(in[k], 1, INTERVALS * SAMPLES, f);
		fclose(f);
		used += (size_t)snprintf(cmd + used, sizeof(cmd) - used, " -v 1 -t ul -r 8000 -c 1 %s", path);
	}
	snprintf(cmd + used, sizeof(cmd) - used, " -t ul %s/o.ul 2>/dev/null", dir);
	CHECK_INT(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/o.ul", dir);
	FILE *f = fopen(path, "rb");
	CHECK(f != NULL);
	size_t got = f ? fread(out, 1, INTERVALS * SAMPLES, f) : 0;
	if (f)
		fclose(f);
	CHECK_INT((int)got, INTERVALS * SAMPLES);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_INT(system(cmd), 0);
}

/* Samples of the receiver's messages o that equal sox's (*exact) and that
 * are more than one μ-law step from it (the return). */
static size_t vs_sox(const struct out *o, const uint8_t *sx, size_t *exact)
{
	size_t worse = 0;
	*exact = 0;
	for (size_t k = 0; k < o->n; k++) {
		CHECK_INT((int)o->len[k], 4 + SAMPLES);
		for (size_t i = 0; i < SAMPLES; i++) {
			uint8_t u = o->msg[k][4 + i], s = sx[k * SAMPLES + i];
			int d = abs(g711_ulaw_decode(u) - g711_ulaw_decode(s));
			int seg = seg_of(u) > seg_of(s) ? seg_of(u) : seg_of(s);
			*exact += u == s;
			/* One μ-law step at this magnitude: 8 << seg on the 16-bit scale. */
			worse += d > (8 << seg);
		}
	}
	return worse;
}

/* Tones: the second loud enough that a sum clips at times, the third
 * opposite in phase to part of it, so that partial sums leave 16 bits
 * and come back. */
static void tone(uint8_t *x, double amp, double hz)
{
	for (size_t i = 0; i < INTERVALS * SAMPLES; i++)
		x[i] = g711_ulaw_encode((int32_t)(amp * sin(2 * M_PI * hz * (double)i / 8000)));
}

static void test_mixer_vs_sox(void)
{
	static uint8_t a[INTERVALS * SAMPLES], b[INTERVALS * SAMPLES], sx[INTERVALS * SAMPLES];
	tone(a, 9000, 440);
	tone(b, 26000, 660);
	const uint8_t *in[] = {a, b};
	sox_mix(in, 2, sx);

	struct ee *ee = new_ee();
	struct cc_table *t;
	struct out o = {0};
	struct cc_flow *fl = setup(ee, &t, "mixer.ao", 2, &o, 8);
	fl->receiver_app = 1; /* the receiver's node: build encodes μ-law */
	uint8_t m[4 + SAMPLES];
	for (uint32_t k = 0; k < INTERVALS; k++) {
		mixer_msg(m, 1000 + k, a + k * SAMPLES);
		CHECK_INT(cc_input(t, fl, 0, m, sizeof(m), 60 * k), 0);
		mixer_msg(m, 1000 + k, b + k * SAMPLES);
		CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), 60 * k + 1), 0);
	}
	CHECK_INT((int)o.n, INTERVALS < 64 ? INTERVALS : 64);
	size_t exact, worse = vs_sox(&o, sx, &exact);
	printf("mixer vs sox: %zu of %zu samples identical, %zu more than one step apart\n", exact, o.n * SAMPLES,
	       worse);
	CHECK_INT((int)worse, 0);
	CHECK_INT((int)exact, (int)(o.n * SAMPLES));
	cc_table_free(t);
	ee_free(ee);
}

/* One node of a cascade: its table and flow, and where what it builds goes
 * (the next node's upstream slot, or the receiver's messages). */
struct hop {
	struct cc_table *t;
	struct cc_flow *f;
	struct hop *next;
	int slot;
	struct out *o;
};

static uint64_t hop_now; /* the cascade's clock: what is sent on arrives at once */

static void hop_emit(void *arg, struct cc_flow *f, const uint8_t *msg, size_t len)
{
	struct hop *h = arg;
	(void)f;
	if (h->next)
		CHECK_INT(cc_input(h->next->t, h->next->f, h->slot, msg, len, hop_now), 0);
	else
		emit(h->o, f, msg, len);
}

static struct cc_flow *hop_setup(struct ee *ee, struct hop *h, int n_up, bool receiver)
{
	struct cc_config cfg = {.max_tags = 8, .tag_max_ms = 1000};
	h->t = cc_table_new(&cfg, ee, hop_emit, h);
	size_t len = 0;
	void *elf = read_file("mixer.ao", &len);
	CHECK(elf != NULL);
	uint8_t name[32];
	CHECK_INT(ee_code_insert_kind(ee, &concast_kind_merge, elf, len, name), 0);
	struct an_flow id = {.app_id = 7};
	CHECK_INT(cc_flow_add(h->t, &id, 0, &h->f), 0);
	CHECK_INT(cc_flow_set_spec(h->t, h->f, name, elf, len), 0);
	free(elf);
	for (int i = 0; i < n_up; i++) {
		struct an_addr a = {.port = (uint16_t)(i + 1)};
		CHECK_INT(cc_up_add(h->t, h->f, CC_UP_NODE, &a, 0, 0), i);
	}
	h->f->receiver_app = receiver;
	return h->f;
}

/* Seed 001's Figure 4 with audio (issue 18): s1 and s2 merge at g1, g1 and
 * s3 at g2, g2 sends the last hop to r1 (μ-law), and r1 (one upstream)
 * makes the receiver's μ-law. With linear sums between the merging nodes
 * every sample equals sox's mix of the three; with μ-law between them
 * (every node encoding for a receiver: how it was) some do not. */
static size_t cascade(const uint8_t *const *in, const uint8_t *sx, bool mulaw_between, size_t *exact)
{
	struct ee *ee = new_ee();
	struct out o = {0};
	struct hop r1 = {.o = &o}, g2 = {.next = &r1, .slot = 0}, g1 = {.next = &g2, .slot = 0};
	hop_setup(ee, &g1, 2, mulaw_between);
	hop_setup(ee, &g2, 2, mulaw_between);
	hop_setup(ee, &r1, 1, true);
	/* g2's downstream is R's node: its output is the last hop (μ-law,
	 * as compact as the paper's), which r1 merges again alone. */
	g2.f->downstream_is_receiver = true;
	uint8_t m[4 + SAMPLES];
	for (uint32_t k = 0; k < INTERVALS; k++) {
		uint64_t now = hop_now = 60 * k;
		mixer_msg(m, 1000 + k, in[0] + k * SAMPLES);
		CHECK_INT(cc_input(g1.t, g1.f, 0, m, sizeof(m), now), 0);
		mixer_msg(m, 1000 + k, in[2] + k * SAMPLES);
		CHECK_INT(cc_input(g2.t, g2.f, 1, m, sizeof(m), now), 0);
		mixer_msg(m, 1000 + k, in[1] + k * SAMPLES);
		CHECK_INT(cc_input(g1.t, g1.f, 1, m, sizeof(m), now), 0);
	}
	CHECK_INT((int)o.n, INTERVALS);
	size_t worse = vs_sox(&o, sx, exact);
	cc_table_free(g1.t);
	cc_table_free(g2.t);
	cc_table_free(r1.t);
	ee_free(ee);
	return worse;
}

static void test_mixer_cascade(void)
{
	static uint8_t a[INTERVALS * SAMPLES], b[INTERVALS * SAMPLES], c[INTERVALS * SAMPLES], sx[INTERVALS * SAMPLES];
	/* Voices whose sum stays inside 16 bits: sox's reference is the sum.
	 * (sox clips after each input it adds, in order; anode sums in 32
	 * bits and clips once, so louder voices are compared with the sum
	 * below instead.) */
	tone(a, 9000, 440);
	tone(b, 12000, 660);
	tone(c, 8000, 330);
	const uint8_t *in[] = {a, b, c};
	sox_mix(in, 3, sx);
	size_t exact, worse = cascade(in, sx, false, &exact);
	printf("two merging nodes, linear between them: %zu of %d samples identical to sox, %zu more than one "
	       "step apart\n",
	       exact, INTERVALS * SAMPLES, worse);
	CHECK_INT((int)exact, INTERVALS * SAMPLES);
	size_t exact_mulaw, worse_mulaw = cascade(in, sx, true, &exact_mulaw);
	printf("two merging nodes, mu-law between them: %zu of %d identical, %zu more than one step apart\n",
	       exact_mulaw, INTERVALS * SAMPLES, worse_mulaw);
	CHECK(exact_mulaw < exact);
	/* Loud voices, whose partial sums leave 16 bits (s1 + s2 past full
	 * scale, s3 bringing it back): the receiver's μ-law is the one sum of
	 * the three, clipped once, at every sample. */
	tone(b, 26000, 660);
	tone(c, 20000, 330);
	for (size_t i = 0; i < sizeof(sx); i++)
		sx[i] = g711_ulaw_encode(g711_ulaw_decode(a[i]) + g711_ulaw_decode(b[i]) + g711_ulaw_decode(c[i]));
	worse = cascade(in, sx, false, &exact);
	printf("loud voices through two merging nodes: %zu of %d samples equal the exact sum\n", exact,
	       INTERVALS * SAMPLES);
	CHECK_INT((int)exact, INTERVALS * SAMPLES);
}

static void test_mixer_timing(void)
{
	struct ee *ee = new_ee();
	struct cc_table *t;
	struct out o = {0};
	struct cc_flow *fl = setup(ee, &t, "mixer.ao", 2, &o, 8);
	uint8_t s[SAMPLES], m[4 + SAMPLES];
	memset(s, 0xff, sizeof(s)); /* μ-law silence */
	/* Interval 100 from both: sent. */
	mixer_msg(m, 100, s);
	CHECK_INT(cc_input(t, fl, 0, m, sizeof(m), 0), 0);
	CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), 1), 0);
	CHECK_INT((int)o.n, 1);
	/* A second message for it from the same neighbour is late now. */
	CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), 2), -ECANCELED);
	/* Early: 102 waits in its own tag while 101 completes. */
	mixer_msg(m, 102, s);
	CHECK_INT(cc_input(t, fl, 0, m, sizeof(m), 3), 0);
	mixer_msg(m, 101, s);
	CHECK_INT(cc_input(t, fl, 0, m, sizeof(m), 4), 0);
	CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), 5), 0);
	CHECK_INT((int)o.n, 2);
	CHECK_INT(o.msg[1][3], 101);
	mixer_msg(m, 102, s);
	CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), 6), 0);
	CHECK_INT((int)o.n, 3);
	CHECK_INT(o.msg[2][3], 102);
	/* Drift: neighbour 1 runs one interval behind. Its first three are
	 * late (dropped; the intervals go out at their timeouts); the fourth
	 * is re-aligned into the interval being collected. */
	uint64_t now = 100;
	for (uint32_t k = 103; k < 106; k++) {
		mixer_msg(m, k, s);
		CHECK_INT(cc_input(t, fl, 0, m, sizeof(m), now), 0);
		mixer_msg(m, k - 1, s);
		CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), now + 1), -ECANCELED);
		now += 60;
		cc_expire(t, now);
	}
	size_t before = o.n;
	mixer_msg(m, 106, s);
	CHECK_INT(cc_input(t, fl, 0, m, sizeof(m), now), 0);
	mixer_msg(m, 105, s);
	CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), now + 1), 0);
	CHECK_INT((int)o.n, (int)before + 1); /* 106 complete without its timeout */
	CHECK_INT(o.msg[o.n - 1][3], 106);
	/* Re-aligned: its next message, 106 in its own count, joins 107. */
	mixer_msg(m, 107, s);
	CHECK_INT(cc_input(t, fl, 0, m, sizeof(m), now + 60), 0);
	mixer_msg(m, 106, s);
	CHECK_INT(cc_input(t, fl, 1, m, sizeof(m), now + 61), 0);
	CHECK_INT(o.msg[o.n - 1][3], 107);
	cc_table_free(t);
	ee_free(ee);
}

/* A flow's specification stays in the code cache while the flow holds it,
 * however much other code comes; it may go once the flow is gone. */
/* A full table makes room for a sender's new tag by ending early the
 * oldest tag of the neighbour holding the most tags no one else gave to
 * (issue 18: a flood of tags no real sender has goes first). */
static void test_tag_evict(void)
{
	struct ee *ee = new_ee();
	struct cc_table *t;
	struct out o = {0};
	struct cc_flow *f = setup(ee, &t, "count.ao", 3, &o, 4);
	uint8_t m[12];
	/* Upstreams 0 and 1 share tags 1..4 (each joined: sent in full);
	 * upstream 2 opens tags 100..103 no one joins (each at its timeout). */
	uint64_t now = 10;
	for (uint64_t k = 0; k < 4; k++, now += 300) {
		count_msg(m, 1 + k, 1);
		CHECK_INT(cc_input(t, f, 0, m, 12, now), 0);
		CHECK_INT(cc_input(t, f, 1, m, 12, now), 0);
		count_msg(m, 100 + k, 1);
		CHECK_INT(cc_input(t, f, 2, m, 12, now), 0);
		cc_expire(t, now + 250);
	}
	CHECK_INT((int)cc_flow_tags(t, f), 0);
	size_t sent = o.n;
	/* Now upstream 2 holds two tags alone (its share: 4 - 2), and 0 and 1
	 * one each, waiting for the others: the table is full. */
	for (uint64_t tag = 200; tag < 202; tag++) {
		count_msg(m, tag, 1000);
		CHECK_INT(cc_input(t, f, 2, m, 12, now), 0);
	}
	count_msg(m, 5, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, now), 0);
	count_msg(m, 6, 1);
	CHECK_INT(cc_input(t, f, 1, m, 12, now), 0);
	CHECK_INT((int)cc_flow_tags(t, f), 4);
	/* Upstream 0's next tag: upstream 2 opens tags alone: its oldest (200)
	 * ends early (clamped to 64) to make room. */
	count_msg(m, 7, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, now + 1), 0);
	CHECK_INT((int)cc_counters(t)->tags_evicted, 1);
	CHECK_INT((int)o.n, (int)sent + 1);
	CHECK_INT((int)count_of(o.msg[o.n - 1]), 64);
	CHECK_INT(o.msg[o.n - 1][7], 200);
	/* Upstream 2 evicts no one: the others' tags are joined ones' (0 now
	 * holds two alone, 5 and 7, but its history is of tags joined). */
	count_msg(m, 202, 1000);
	CHECK_INT(cc_input(t, f, 2, m, 12, now + 2), -EDQUOT);
	CHECK_INT((int)cc_counters(t)->tags_evicted, 1);
	/* 5 merges in full. */
	count_msg(m, 5, 1);
	CHECK_INT(cc_input(t, f, 1, m, 12, now + 3), 0);
	CHECK_INT(cc_input(t, f, 2, m, 12, now + 3), 0);
	CHECK_INT((int)count_of(o.msg[o.n - 1]), 3);
	cc_table_free(t);
	ee_free(ee);
}

/* An upstream neighbour that joined but sends nothing (issue 18: a host
 * holding slots with keep-alives alone) is waited for during its
 * newcomer's grace (tag_max_ms, 1 s here), then no more: tags complete
 * with those that send, at once instead of at their timeouts. */
static void test_idle_upstream(void)
{
	struct ee *ee = new_ee();
	struct cc_table *t;
	struct out o = {0};
	struct cc_flow *f = setup(ee, &t, "count.ao", 3, &o, 8);
	uint8_t m[12];
	count_msg(m, 1, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, 100), 0);
	CHECK_INT(cc_input(t, f, 1, m, 12, 100), 0);
	CHECK_INT((int)o.n, 0); /* waits for slot 2, still a newcomer */
	cc_expire(t, 300);
	CHECK_INT((int)o.n, 1);
	count_msg(m, 2, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, 900), 0);
	CHECK_INT(cc_input(t, f, 1, m, 12, 900), 0);
	cc_expire(t, 1100);
	CHECK_INT((int)o.n, 2);
	CHECK_INT((int)cc_counters(t)->timeouts, 2);
	count_msg(m, 5, 1);
	CHECK_INT(cc_input(t, f, 0, m, 12, 1500), 0);
	CHECK_INT(cc_input(t, f, 1, m, 12, 1500), 0);
	CHECK_INT((int)o.n, 3); /* slot 2 idle past its grace: not waited for */
	CHECK_INT((int)count_of(o.msg[2]), 2);
	CHECK_INT((int)cc_counters(t)->timeouts, 2);
	/* When it sends, it counts again. */
	count_msg(m, 3, 1);
	CHECK_INT(cc_input(t, f, 2, m, 12, 1600), 0);
	CHECK_INT(cc_input(t, f, 0, m, 12, 1600), 0);
	CHECK_INT((int)o.n, 3);
	CHECK_INT(cc_input(t, f, 1, m, 12, 1600), 0);
	CHECK_INT((int)o.n, 4);
	CHECK_INT((int)count_of(o.msg[3]), 3);
	cc_table_free(t);
	ee_free(ee);
}

static void test_pinned(void)
{
	struct ee *ee = new_ee_sized(2);
	struct cc_table *t;
	struct out o = {0};
	struct cc_flow *f = setup(ee, &t, "count.ao", 2, &o, 8);
	uint8_t spec[32];
	memcpy(spec, f->spec, 32);
	const char *others[] = {"ping.ao", "flood.ao", "trace.ao", "forward.ao"};
	for (size_t i = 0; i < 4; i++) {
		size_t len = 0;
		void *elf = read_file(others[i], &len);
		uint8_t name[32];
		CHECK(elf != NULL);
		CHECK_INT(ee_code_insert(ee, elf, len, name), 0);
		free(elf);
	}
	CHECK_INT(ee_code_status(ee, spec), EE_CODE_READY);
	struct ee_stats st;
	ee_stats_get(ee, &st);
	CHECK_INT((int)st.evicted, 3);
	cc_flow_del(t, f);
	size_t len = 0;
	void *elf = read_file("portmapper.ao", &len);
	uint8_t name[32];
	CHECK_INT(ee_code_insert(ee, elf, len, name), 0);
	free(elf);
	CHECK_INT(ee_code_status(ee, spec), EE_CODE_ABSENT);
	cc_table_free(t);
	ee_free(ee);
}

static const struct check_test tests[] = {
    TEST(test_count),  TEST(test_tag_share),	TEST(test_idle_upstream), TEST(test_tag_evict),
    TEST(test_pinned), TEST(test_mixer_vs_sox), TEST(test_mixer_cascade), TEST(test_mixer_timing),
};

int main(int argc, char **argv)
{
	apps_dir = argc > 1 ? argv[1] : "build/apps";
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
