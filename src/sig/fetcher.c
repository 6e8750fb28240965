// SPDX-License-Identifier: MIT
/*
 * anode-fetch: the module fetcher of on-path signalling (issue 20, item 3;
 * docs/signalling.md). A node starts one at start in a sandbox of its own
 * (src/priv/sandbox.c: its own uid, cgroups, bubblewrap, the service
 * allow-list), with the node's network, and asks it for modules by URL
 * over fd 3 (src/wire/fetch.h). It runs up to FETCH_PARALLEL transfers at
 * once with libcurl's multi interface, each bounded by the octets and
 * milliseconds the node gives (the body is cut off past its bound, not
 * read to the end), HTTP and HTTPS only, no redirects, and answers with a
 * result and the body in chunks. Whatever it sends, the node checks
 * against the request's signed SHA-256 and size: the fetcher is trusted
 * with nothing but doing the transfer. It ends when the node closes fd 3.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/fetch.h"

#define FETCH_FD 3
#define FETCH_PARALLEL 8

struct transfer {
	CURL *easy;
	uint64_t id;
	uint32_t max, timeout_ms;
	uint8_t *body;
	size_t len;
	bool too_big;
};

static struct transfer slots[FETCH_PARALLEL];
/* The CAs the node gave (sig-fetch-ca), else the system's. */
static uint8_t ca[WIRE_FETCH_CHUNK_MAX];
static size_t ca_len;

static void send_msg(const struct wire_fetch *f)
{
	uint8_t buf[WIRE_FETCH_MSG_MAX];
	ssize_t n = wire_fetch_build(buf, sizeof(buf), f);
	/* The node reads as fast as it can; a full socket waits here, which
	 * only holds up this fetcher. */
	if (n > 0 && send(FETCH_FD, buf, (size_t)n, 0) < 0)
		exit(0); /* the node is gone */
}

static void result(uint64_t id, int32_t status, long http, const char *why)
{
	struct wire_fetch f = {.kind = WIRE_FETCH_RESULT, .id = id, .status = status, .http = (uint16_t)http};
	snprintf(f.why, sizeof(f.why), "%s", why);
	send_msg(&f);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct transfer *t = arg;
	size_t n = size * nmemb;
	if (n > t->max - t->len) {
		t->too_big = true;
		return 0; /* aborts the transfer */
	}
	memcpy(t->body + t->len, data, n);
	t->len += n;
	return n;
}

static void start(CURLM *multi, const struct wire_fetch *g)
{
	struct transfer *t = NULL;
	for (size_t i = 0; i < FETCH_PARALLEL && !t; i++)
		if (!slots[i].easy)
			t = &slots[i];
	if (!t)
		return result(g->id, -EBUSY, 0, "the fetcher is busy: too many fetches at once");
	*t = (struct transfer){.id = g->id, .max = g->max, .timeout_ms = g->timeout_ms};
	t->body = malloc(g->max);
	t->easy = curl_easy_init();
	if (!t->body || !t->easy) {
		free(t->body);
		if (t->easy)
			curl_easy_cleanup(t->easy);
		t->easy = NULL;
		return result(g->id, -ENOMEM, 0, "the fetcher is out of memory");
	}
	CURL *e = t->easy;
	curl_easy_setopt(e, CURLOPT_URL, g->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)g->timeout_ms);
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)g->max);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "anode-fetch");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(e, CURLOPT_PRIVATE, t);
	if (ca_len) {
		struct curl_blob b = {.data = ca, .len = ca_len, .flags = CURL_BLOB_COPY};
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &b);
	}
	curl_multi_add_handle(multi, e);
}

static void done(CURLM *multi, CURL *e, CURLcode code)
{
	struct transfer *t;
	long http = 0;
	char why[WIRE_FETCH_WHY_MAX + 1];
	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
	if (t->too_big || code == CURLE_FILESIZE_EXCEEDED) {
		snprintf(why, sizeof(why), "the body is larger than %u octets", t->max);
		result(t->id, -EFBIG, http, why);
	} else if (code == CURLE_OPERATION_TIMEDOUT) {
		snprintf(why, sizeof(why), "timed out after %u ms", t->timeout_ms);
		result(t->id, -ETIMEDOUT, http, why);
	} else if (code != CURLE_OK) {
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(code));
		result(t->id, -EIO, http, why);
	} else if (http != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld", http);
		result(t->id, http == 404 || http == 410 ? -ENOENT : http == 403 ? -EACCES : -EIO, http, why);
	} else if (t->len == 0) {
		result(t->id, -ENODATA, http, "an empty body");
	} else {
		struct wire_fetch r = {.kind = WIRE_FETCH_RESULT, .id = t->id, .http = 200, .length = (uint32_t)t->len};
		send_msg(&r);
		for (size_t off = 0; off < t->len; off += WIRE_FETCH_CHUNK_MAX) {
			size_t n = t->len - off < WIRE_FETCH_CHUNK_MAX ? t->len - off : WIRE_FETCH_CHUNK_MAX;
			struct wire_fetch c = {.kind = WIRE_FETCH_CHUNK,
					       .id = t->id,
					       .offset = (uint32_t)off,
					       .data = t->body + off,
					       .data_len = n};
			send_msg(&c);
		}
	}
	curl_multi_remove_handle(multi, e);
	curl_easy_cleanup(e);
	free(t->body);
	*t = (struct transfer){0};
}

int main(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return 1;
	CURLM *multi = curl_multi_init();
	if (!multi)
		return 1;
	for (;;) {
		struct curl_waitfd w = {.fd = FETCH_FD, .events = CURL_WAIT_POLLIN};
		int running;
		curl_multi_poll(multi, &w, 1, 1000, NULL);
		for (;;) {
			uint8_t buf[WIRE_FETCH_MSG_MAX];
			ssize_t n = recv(FETCH_FD, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0)
				return 0; /* the node closed its end */
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				return 0;
			}
			struct wire_fetch g;
			if (wire_fetch_parse(buf, (size_t)n, &g) < 0)
				continue;
			if (g.kind == WIRE_FETCH_GET)
				start(multi, &g);
			else if (g.kind == WIRE_FETCH_CA) {
				memcpy(ca, g.data, g.data_len);
				ca_len = g.data_len;
			}
		}
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(multi, &left)))
			if (m->msg == CURLMSG_DONE)
				done(multi, m->easy_handle, m->data.result);
	}
}
