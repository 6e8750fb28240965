// SPDX-License-Identifier: MIT
/*
 * An RTSP client on src/wire/rtsp.c, for tests/lab/test_rtsp.sh (issue
 * 21): what the caching service will do to a real server, done alone.
 *
 *   rtsp_ctl open URL CLIENT_PORT
 *       DESCRIBE, SETUP (RTP to CLIENT_PORT on this host) and PLAY as a
 *       client; prints "session=ID server_port=N" and keeps its control
 *       connection open until killed (the session lives with it).
 *   rtsp_ctl send METHOD URL SESSION
 *       METHOD on that session from a connection of its own; prints the
 *       status; exit 0 on 200.
 *   rtsp_ctl pauseplay URL SESSION MS
 *       PAUSE on that session from a connection of its own, MS later PLAY
 *       on the same connection, as the caching service does (GStreamer's
 *       server answers 404 to a PLAY from yet another connection once a
 *       PAUSE moved the session, and stops the stream when that
 *       connection closes: it is held until killed); prints both
 *       statuses.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "wire/rtsp.h"

static char host[256], port[16];

/* rtsp://HOST:PORT/... */
static int url_parse(const char *url)
{
	if (strncmp(url, "rtsp://", 7))
		return -1;
	const char *h = url + 7, *colon = strchr(h, ':'), *slash = strchr(h, '/');
	if (!colon || !slash || colon > slash || (size_t)(colon - h) >= sizeof(host) ||
	    (size_t)(slash - colon - 1) >= sizeof(port))
		return -1;
	memcpy(host, h, (size_t)(colon - h));
	memcpy(port, colon + 1, (size_t)(slash - colon - 1));
	return 0;
}

static int dial(void)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = {.tv_sec = 3};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		freeaddrinfo(ai);
		close(fd);
		return -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* Send text, read one whole reply into m. */
static int ask(int fd, const char *text, size_t len, struct wire_rtsp *m)
{
	static char buf[WIRE_RTSP_HDR_MAX + WIRE_RTSP_BODY_MAX];
	if (send(fd, text, len, 0) != (ssize_t)len)
		return -1;
	size_t got = 0;
	for (;;) {
		ssize_t r = wire_rtsp_parse(buf, got, m);
		if (r > 0)
			return m->response ? 0 : -1;
		if (r < 0 || got == sizeof(buf))
			return -1;
		ssize_t n = recv(fd, buf + got, sizeof(buf) - got, 0);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	struct wire_rtsp m;
	char req[1024];
	if (argc == 4 && !strcmp(argv[1], "open") && url_parse(argv[2]) == 0) {
		int fd = dial();
		if (fd < 0)
			return 1;
		int n = snprintf(req, sizeof(req), "DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n",
				 argv[2]);
		if (ask(fd, req, (size_t)n, &m) < 0 || m.status != 200)
			return 1;
		int p = atoi(argv[3]);
		n = snprintf(
		    req, sizeof(req),
		    "SETUP %s/stream=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;client_port=%d-%d\r\n\r\n",
		    argv[2], p, p + 1);
		if (ask(fd, req, (size_t)n, &m) < 0 || m.status != 200 || !m.has_session)
			return 1;
		char session[WIRE_RTSP_SESSION_MAX + 1];
		strcpy(session, m.session);
		unsigned sport = m.server_port_lo;
		ssize_t k = wire_rtsp_request(req, sizeof(req), "PLAY", argv[2], 3, session);
		if (k < 0 || ask(fd, req, (size_t)k, &m) < 0 || m.status != 200)
			return 1;
		printf("session=%s server_port=%u\n", session, sport);
		fflush(stdout);
		for (;;)
			pause();
	}
	if (argc == 5 && !strcmp(argv[1], "send") && url_parse(argv[3]) == 0) {
		int fd = dial();
		ssize_t k = wire_rtsp_request(req, sizeof(req), argv[2], argv[3], 1, argv[4]);
		if (fd < 0 || k < 0 || ask(fd, req, (size_t)k, &m) < 0)
			return 1;
		printf("%u\n", m.status);
		return m.status == 200 ? 0 : 1;
	}
	if (argc == 5 && !strcmp(argv[1], "pauseplay") && url_parse(argv[2]) == 0) {
		int fd = dial();
		ssize_t k = wire_rtsp_request(req, sizeof(req), "PAUSE", argv[2], 1, argv[3]);
		if (fd < 0 || k < 0 || ask(fd, req, (size_t)k, &m) < 0)
			return 1;
		unsigned paused = m.status;
		printf("PAUSE %u\n", paused);
		fflush(stdout);
		usleep((useconds_t)atoi(argv[4]) * 1000);
		k = wire_rtsp_request(req, sizeof(req), "PLAY", argv[2], 2, argv[3]);
		if (k < 0 || ask(fd, req, (size_t)k, &m) < 0)
			return 1;
		printf("PLAY %u\n", m.status);
		fflush(stdout);
		if (paused != 200 || m.status != 200)
			return 1;
		/* The session is this connection's now: closing it would stop
		 * the stream. Held until killed, as the client's own. */
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: rtsp_ctl open URL CLIENT_PORT | rtsp_ctl send METHOD URL SESSION | "
			"rtsp_ctl pauseplay URL SESSION MS\n");
	return 2;
}
