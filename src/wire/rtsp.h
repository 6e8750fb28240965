/* SPDX-License-Identifier: MIT */
/*
 * RTSP messages (RFC 2326, RTSP/1.0; docs/wire.md §12), as far as the
 * proactive services of seed 000 §3.2 need them (issue 21): the caching
 * service watches a client's control connection to learn its session, and
 * sends PAUSE and PLAY on that session itself. A parser of one message at
 * the start of a buffer (requests and responses: start line, the headers
 * the services use, the body's length) and a builder of requests. Strict
 * on what it reads (CRLF or LF line ends, bounded lines and headers, a
 * decimal CSeq and Content-Length, a session id of RFC 2326's characters);
 * headers it does not know are skipped. No I/O; fuzzed (fuzz_rtsp).
 */
#ifndef WIRE_RTSP_H
#define WIRE_RTSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WIRE_RTSP_HDR_MAX 8192 /* start line and headers */
#define WIRE_RTSP_LINE_MAX 1024
#define WIRE_RTSP_HEADERS_MAX 48
#define WIRE_RTSP_BODY_MAX 65536
#define WIRE_RTSP_METHOD_MAX 15
#define WIRE_RTSP_URI_MAX 255
#define WIRE_RTSP_SESSION_MAX 64

struct wire_rtsp {
	bool response;
	char method[WIRE_RTSP_METHOD_MAX + 1]; /* requests */
	char uri[WIRE_RTSP_URI_MAX + 1];
	uint16_t status; /* responses: 100..599 */
	bool has_cseq, has_session, has_transport;
	uint32_t cseq;
	char session[WIRE_RTSP_SESSION_MAX + 1]; /* the id, without ";timeout=" */
	uint32_t session_timeout;		 /* seconds, 0 when not given */
	/* Transport: the first spec's client_port and server_port (0: absent). */
	uint16_t client_port_lo, client_port_hi, server_port_lo, server_port_hi;
	size_t content_length;
	size_t hdr_len; /* the start line, the headers and the empty line */
	size_t len;	/* hdr_len + content_length: the whole message */
};

/* The message at the start of buf: its length (the caller's next message
 * starts there), 0 when buf holds only part of one (read more), or
 * -EBADMSG. */
ssize_t wire_rtsp_parse(const void *buf, size_t len, struct wire_rtsp *ret);

/* A request without a body: "METHOD URI RTSP/1.0", CSeq, and Session when
 * session is not NULL. Its length, or -EINVAL (a method that is not a
 * token, a URI with spaces or control characters, a session id outside
 * its characters), -EMSGSIZE. */
ssize_t wire_rtsp_request(void *buf, size_t cap, const char *method, const char *uri, uint32_t cseq,
			  const char *session);

#endif
