// SPDX-License-Identifier: MIT
/*
 * On-demand code loading (see fetch.h). Fetches are few (bounded by
 * max_fetches) and live in a small array searched by name. Requests ask
 * for a window of chunks at a time (a node answers a request with at most
 * three times its size, and a request pays for three chunks at most by its
 * padding), and each destination gets a bounded rate of requests, so that
 * a capsule cannot aim this node's requests at someone else.
 */
#include "codeload/fetch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct fetch {
	uint8_t name[32];
	const void *kind; /* what kind of code the first parker wanted (the install's business) */
	struct pkt_queue parked;
	struct an_addr prev, home;
	bool have_prev, have_home, asked_home;
	uint32_t total_len; /* 0 until the first chunk */
	uint16_t count;
	uint64_t have;	     /* bitmap of chunks received */
	uint64_t asked;	     /* the window last asked for */
	unsigned backoff_ms; /* until the next retry: doubles while nothing comes */
	bool progress;	     /* a chunk came since the last retry */
	uint8_t *code;
	uint64_t deadline_ms;
	struct loop_timer *timer;
	struct fetcher *owner;
};

/* Requests sent to one destination: a token bucket, refilled faster once
 * the destination has answered (sent a chunk of code that was asked for):
 * a node that never answers is a node we may be aimed at. */
struct fetch_rate {
	struct an_addr dst;
	uint64_t last_ms;
	unsigned tokens_milli; /* thousandths of a request */
	bool answered;
};
#define FETCH_RATES 64
/* Chunks per request: one at first (a small request, to a destination that
 * has not answered yet), then three. */
#define FETCH_WINDOW 3
#define FETCH_WINDOWS_AT_ONCE 4
/* Retries back off while nothing comes, up to this. */
#define FETCH_BACKOFF_MAX_MS 1000

struct fetcher {
	struct loop *loop;
	struct fetch_rate rates[FETCH_RATES];
	struct fetch_config cfg;
	struct fetch_ops ops;
	struct fetch **fetches;
	size_t n_fetches;
	size_t n_parked;
	struct fetch_counters c;
};

static const struct an_addr zero_addr;

struct fetcher *fetch_new(struct loop *loop, const struct fetch_config *cfg, const struct fetch_ops *ops)
{
	struct fetcher *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->loop = loop;
	f->cfg = *cfg;
	if (!f->cfg.park_per_code)
		f->cfg.park_per_code = FETCH_DEFAULT_PARK_PER_CODE;
	if (!f->cfg.park_total)
		f->cfg.park_total = FETCH_DEFAULT_PARK_TOTAL;
	if (!f->cfg.max_fetches)
		f->cfg.max_fetches = FETCH_DEFAULT_MAX_FETCHES;
	if (!f->cfg.retry_ms)
		f->cfg.retry_ms = FETCH_DEFAULT_RETRY_MS;
	if (!f->cfg.timeout_ms)
		f->cfg.timeout_ms = FETCH_DEFAULT_TIMEOUT_MS;
	if (!f->cfg.requests_per_s)
		f->cfg.requests_per_s = 50;
	if (!f->cfg.unanswered_per_s)
		f->cfg.unanswered_per_s = 5;
	f->ops = *ops;
	f->fetches = calloc(f->cfg.max_fetches, sizeof(*f->fetches));
	if (!f->fetches) {
		free(f);
		return NULL;
	}
	return f;
}

static struct fetch *find(struct fetcher *f, const uint8_t name[32], size_t *ret_at)
{
	for (size_t i = 0; i < f->n_fetches; i++)
		if (memcmp(f->fetches[i]->name, name, 32) == 0) {
			if (ret_at)
				*ret_at = i;
			return f->fetches[i];
		}
	return NULL;
}

/* End a fetch: run or drop what it parked, free it. why == 0 means the code
 * is in the cache now. */
static void finish(struct fetcher *f, struct fetch *x, int why)
{
	size_t at = 0;
	find(f, x->name, &at);
	f->fetches[at] = f->fetches[--f->n_fetches];
	if (x->timer)
		loop_timer_cancel(f->loop, x->timer);
	struct pkt *p;
	while ((p = pkt_queue_pop(&x->parked))) {
		f->n_parked--;
		p->resumed = 1;
		if (why == 0)
			f->ops.resume(f->ops.arg, p);
		else
			f->ops.expire(f->ops.arg, p, why);
	}
	free(x->code);
	free(x);
}

static uint64_t missing(const struct fetch *x)
{
	if (!x->count)
		return ~0ull; /* size unknown: ask for everything */
	uint64_t all = x->count == 64 ? ~0ull : (1ull << x->count) - 1;
	return all & ~x->have;
}

/* The next chunks to ask for among want: the first one until some chunk
 * has come, then the first FETCH_WINDOW. */
static uint64_t window(const struct fetch *x, uint64_t want)
{
	uint64_t w = 0;
	int size = x->have ? FETCH_WINDOW : 1;
	for (int k = 0; k < size && want; k++) {
		uint64_t low = want & -want;
		w |= low;
		want &= ~low;
	}
	return w;
}

/* Whether one more request may go to dst now (a bucket of requests_per_s
 * tokens, refilled continuously). The least recently used bucket makes
 * room for a new destination. */
static struct fetch_rate *rate_find(struct fetcher *f, const struct an_addr *dst)
{
	for (size_t i = 0; i < FETCH_RATES; i++)
		if (f->rates[i].last_ms && an_addr_eq(&f->rates[i].dst, dst))
			return &f->rates[i];
	return NULL;
}

static bool rate_ok(struct fetcher *f, const struct an_addr *dst)
{
	uint64_t now = loop_now_ms();
	struct fetch_rate *b = rate_find(f, dst);
	if (!b) {
		b = &f->rates[0];
		for (size_t i = 1; i < FETCH_RATES; i++)
			if (f->rates[i].last_ms < b->last_ms)
				b = &f->rates[i];
		*b = (struct fetch_rate){.dst = *dst, .last_ms = now, .tokens_milli = f->cfg.unanswered_per_s * 1000};
	}
	unsigned per_s = b->answered ? f->cfg.requests_per_s : f->cfg.unanswered_per_s;
	unsigned burst = per_s * 1000;
	if (b->tokens_milli > burst)
		b->tokens_milli = burst;
	uint64_t add = (now - b->last_ms) * per_s;
	b->tokens_milli = add >= burst - b->tokens_milli ? burst : b->tokens_milli + (unsigned)add;
	b->last_ms = now ? now : 1;
	if (b->tokens_milli < 1000)
		return false;
	b->tokens_milli -= 1000;
	return true;
}

/* Ask the previous hop first; once it has had its chance, the home. */
static void ask(struct fetcher *f, struct fetch *x)
{
	const struct an_addr *to = NULL;
	if (x->have_prev && (!x->asked_home || an_addr_eq(&x->prev, &x->home))) {
		to = &x->prev; /* its turn, or it is the home too */
	} else if (!x->have_home) {
		to = &x->prev; /* nobody else to ask */
	} else {
		x->asked_home = true;
	}
	if (!rate_ok(f, to ? to : &x->home)) {
		f->c.requests_limited++; /* the retry timer tries again */
		return;
	}
	/* One window while the source has not answered; once it has, a
	 * request per window of what is missing, all at once (each pays for
	 * its own three chunks), so a code object of up to FETCH_WINDOW *
	 * FETCH_WINDOWS_AT_ONCE chunks takes one more round trip, not one per
	 * window. The rate limit counts each request. */
	uint64_t left = missing(x);
	x->asked = 0;
	for (int k = 0; k < (x->have ? FETCH_WINDOWS_AT_ONCE : 1) && left; k++) {
		if (k > 0 && !rate_ok(f, to ? to : &x->home))
			break;
		uint64_t w = window(x, left);
		left &= ~w;
		x->asked |= w;
		int r = f->ops.request(f->ops.arg, x->name, w, to, to ? NULL : &x->home);
		if (r == -EHOSTUNREACH && !to && x->have_prev) /* no route to the home: the previous hop again */
			r = f->ops.request(f->ops.arg, x->name, w, &x->prev, NULL);
		if (r < 0) {
			log_ratelimited(LOG_DEBUG, "code request could not be sent: %s", strerror(-r));
			break;
		}
		f->c.requests_sent++;
	}
}

static void on_timer(void *arg)
{
	struct fetch *x = arg;
	struct fetcher *f = x->owner;
	x->timer = NULL;
	if (loop_now_ms() >= x->deadline_ms) {
		f->c.timeouts++;
		finish(f, x, -ETIMEDOUT);
		return;
	}
	/* Nothing at all from the previous hop: the home gets a turn. A
	 * source that sent some chunks is asked again for the rest. */
	if (x->have == 0 && x->have_prev && !x->asked_home && x->have_home)
		x->asked_home = true;
	f->c.retries++;
	ask(f, x);
	/* Nothing since the last retry: wait twice as long before the next,
	 * so that a silent destination gets a few requests, not dozens. */
	x->backoff_ms = x->progress ? f->cfg.retry_ms : x->backoff_ms * 2;
	if (x->backoff_ms > FETCH_BACKOFF_MAX_MS)
		x->backoff_ms = FETCH_BACKOFF_MAX_MS;
	x->progress = false;
	x->timer = loop_timer_add(f->loop, x->backoff_ms, on_timer, x);
}

int fetch_park(struct fetcher *f, struct pkt *p, const uint8_t name[32], const struct an_addr *prev,
	       const struct an_addr *home, const struct an_addr *local, const void *kind)
{
	struct fetch *x = find(f, name, NULL);
	if (f->n_parked >= f->cfg.park_total || (x && x->parked.len >= f->cfg.park_per_code) ||
	    (!x && f->n_fetches >= f->cfg.max_fetches)) {
		f->c.park_overflow++;
		return -ENOBUFS;
	}
	if (!x) {
		bool have_prev = prev && !an_addr_eq(prev, local) && !an_addr_eq(prev, &zero_addr);
		bool have_home = !an_addr_eq(home, local) && !an_addr_eq(home, &zero_addr);
		if (!have_prev && !have_home)
			return -EHOSTUNREACH;
		x = calloc(1, sizeof(*x));
		if (!x)
			return -ENOBUFS;
		memcpy(x->name, name, 32);
		x->kind = kind;
		x->owner = f;
		x->have_prev = have_prev;
		x->have_home = have_home;
		if (have_prev)
			x->prev = *prev;
		if (have_home)
			x->home = *home;
		x->asked_home = !have_prev;
		x->deadline_ms = loop_now_ms() + f->cfg.timeout_ms;
		x->backoff_ms = f->cfg.retry_ms;
		x->timer = loop_timer_add(f->loop, f->cfg.retry_ms, on_timer, x);
		if (!x->timer) {
			free(x);
			return -ENOBUFS;
		}
		f->fetches[f->n_fetches++] = x;
		ask(f, x);
	}
	pkt_queue_push(&x->parked, p);
	f->n_parked++;
	return 0;
}

int fetch_chunk(struct fetcher *f, const struct wire_code_chunk *c, const uint8_t *pkt, const struct an_addr *from)
{
	struct fetch *x = find(f, c->name, NULL);
	if (!x)
		return -ENOENT;
	/* It answered what we asked: it is a node, not someone we were aimed at. */
	struct fetch_rate *b = rate_find(f, from);
	if (b)
		b->answered = true;
	x->progress = true;
	if ((x->count && (c->count != x->count || c->total_len != x->total_len)) || (x->have & (1ull << c->index))) {
		f->c.chunks_unexpected++;
		return -EALREADY;
	}
	if (!x->count) {
		x->code = malloc(c->total_len);
		if (!x->code)
			return -ENOMEM;
		x->count = c->count;
		x->total_len = c->total_len;
	}
	memcpy(x->code + (size_t)c->index * WIRE_CODE_CHUNK, pkt + c->data_off, c->data_len);
	x->have |= 1ull << c->index;
	f->c.chunks_received++;
	if (missing(x)) {
		/* The window is complete: ask for the next one at once. */
		if (!(x->asked & ~x->have))
			ask(f, x);
		return 0;
	}
	int r = f->ops.install(f->ops.arg, x->name, x->code, x->total_len, x->kind);
	if (r == 0)
		f->c.completed++;
	else if (r == -EBADMSG)
		f->c.mismatches++;
	else
		f->c.invalid++;
	finish(f, x, r);
	return 0;
}

void fetch_set_limits(struct fetcher *f, size_t park_per_code, size_t park_total, unsigned retry_ms,
		      unsigned timeout_ms)
{
	f->cfg.park_per_code = park_per_code ? park_per_code : FETCH_DEFAULT_PARK_PER_CODE;
	f->cfg.park_total = park_total ? park_total : FETCH_DEFAULT_PARK_TOTAL;
	f->cfg.retry_ms = retry_ms ? retry_ms : FETCH_DEFAULT_RETRY_MS;
	f->cfg.timeout_ms = timeout_ms ? timeout_ms : FETCH_DEFAULT_TIMEOUT_MS;
}

size_t fetch_parked(const struct fetcher *f)
{
	return f->n_parked;
}

size_t fetch_active(const struct fetcher *f)
{
	return f->n_fetches;
}

const struct fetch_counters *fetch_counters(const struct fetcher *f)
{
	return &f->c;
}

void fetch_free(struct fetcher *f)
{
	if (!f)
		return;
	while (f->n_fetches)
		finish(f, f->fetches[0], -ECANCELED);
	free(f->fetches);
	free(f);
}
