// SPDX-License-Identifier: MIT
/*
 * Unit tests of RTSP messages (src/wire/rtsp.c, docs/wire.md §12): the
 * exchange a GStreamer RTSP server and client have (SETUP's reply with its
 * session and transport, PLAY, PAUSE) parses to what the caching service
 * needs; messages split anywhere are incomplete until whole, two in one
 * buffer are taken one at a time; what the document refuses is refused;
 * built requests parse back.
 */
#include <errno.h>

#include "check.h"
#include "wire/rtsp.h"

static const char setup_reply[] =
    "RTSP/1.0 200 OK\r\n"
    "CSeq: 3\r\n"
    "Transport: RTP/AVP;unicast;client_port=5000-5001;server_port=36102-36103;ssrc=5A1F2B3C;mode=\"PLAY\"\r\n"
    "Server: GStreamer RTSP server\r\n"
    "Session: Kx7b2P3d9Ql1vUeA;timeout=60\r\n"
    "Date: Thu, 03 Dec 2026 19:00:00 GMT\r\n"
    "\r\n";

static void test_reply(void)
{
	struct wire_rtsp m;
	CHECK_INT(wire_rtsp_parse(setup_reply, sizeof(setup_reply) - 1, &m), sizeof(setup_reply) - 1);
	CHECK(m.response && m.status == 200 && m.has_cseq && m.cseq == 3);
	CHECK(m.has_session && !strcmp(m.session, "Kx7b2P3d9Ql1vUeA") && m.session_timeout == 60);
	CHECK(m.has_transport && m.client_port_lo == 5000 && m.client_port_hi == 5001 && m.server_port_lo == 36102 &&
	      m.server_port_hi == 36103);
	/* Cut anywhere: not yet whole. */
	int incomplete = 1;
	for (size_t n = 0; n < sizeof(setup_reply) - 1; n++)
		incomplete &= wire_rtsp_parse(setup_reply, n, &m) == 0;
	CHECK(incomplete);
	/* A body (DESCRIBE's SDP), and the next message after it. */
	static const char two[] = "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: "
				  "5\r\n\r\nv=0\r\nRTSP/1.0 200 OK\r\nCSeq: 3\r\n\r\n";
	ssize_t first = wire_rtsp_parse(two, sizeof(two) - 1, &m);
	CHECK(first > 0 && m.content_length == 5 && m.hdr_len + 5 == (size_t)first);
	CHECK_INT(wire_rtsp_parse(two, (size_t)first - 1, &m), 0);
	CHECK_INT(wire_rtsp_parse(two + first, sizeof(two) - 1 - (size_t)first, &m), sizeof(two) - 1 - (size_t)first);
	CHECK_INT(m.cseq, 3);
}

static void test_request(void)
{
	char buf[512];
	ssize_t n = wire_rtsp_request(buf, sizeof(buf), "PAUSE", "rtsp://10.200.0.10:8554/test", 7, "Kx7b2P3d9Ql1vUeA");
	static const char want[] =
	    "PAUSE rtsp://10.200.0.10:8554/test RTSP/1.0\r\nCSeq: 7\r\nSession: Kx7b2P3d9Ql1vUeA\r\n\r\n";
	CHECK_INT(n, sizeof(want) - 1);
	CHECK_MEM(buf, want, sizeof(want) - 1);
	struct wire_rtsp m;
	CHECK_INT(wire_rtsp_parse(buf, (size_t)n, &m), n);
	CHECK(!m.response && !strcmp(m.method, "PAUSE") && !strcmp(m.uri, "rtsp://10.200.0.10:8554/test") &&
	      m.cseq == 7 && !strcmp(m.session, "Kx7b2P3d9Ql1vUeA"));
	/* LF alone ends lines too (lenient, as servers are). */
	static const char lf[] = "PLAY rtsp://h/s RTSP/1.0\nCSeq: 8\n\n";
	CHECK_INT(wire_rtsp_parse(lf, sizeof(lf) - 1, &m), sizeof(lf) - 1);
	CHECK_INT(wire_rtsp_request(buf, sizeof(buf), "PA USE", "rtsp://h/s", 1, NULL), -EINVAL);
	CHECK_INT(wire_rtsp_request(buf, sizeof(buf), "PLAY", "rtsp://h/ s", 1, NULL), -EINVAL);
	CHECK_INT(wire_rtsp_request(buf, sizeof(buf), "PLAY", "rtsp://h/s", 1, "a;b"), -EINVAL);
	CHECK_INT(wire_rtsp_request(buf, 20, "PLAY", "rtsp://h/s", 1, NULL), -EMSGSIZE);
}

static void test_refused(void)
{
	struct wire_rtsp m;
	static const char *bad[] = {
	    "HTTP/1.1 200 OK\r\n\r\n",					     /* not RTSP */
	    "RTSP/1.0 99 Too low\r\n\r\n",				     /* status out of range */
	    "RTSP/1.0 200OK\r\n\r\n",					     /* no space after the status */
	    "PLAY rtsp://h/s RTSP/3.0\r\n\r\n",				     /* version */
	    "PL(AY rtsp://h/s RTSP/1.0\r\n\r\n",			     /* method not a token */
	    "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: x\r\n\r\n",		     /* CSeq not a number */
	    "PLAY rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n",	     /* CSeq twice */
	    "PLAY rtsp://h/s RTSP/1.0\r\nSession: a b\r\n\r\n",		     /* session id characters */
	    "PLAY rtsp://h/s RTSP/1.0\r\nSession: ab;expires=3\r\n\r\n",     /* session parameter */
	    "RTSP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n",	     /* body too large */
	    "RTSP/1.0 200 OK\r\nTransport: RTP/AVP;client_port=6-5\r\n\r\n", /* ports backwards */
	    "RTSP/1.0 200 OK\r\nno colon\r\n\r\n",			     /* a header without a name */
	    "RTSP/1.0 200 OK\r\nX: a\x01b\r\n\r\n",			     /* a control character */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t r = wire_rtsp_parse(bad[i], strlen(bad[i]), &m);
		if (r != -EBADMSG) {
			fprintf(stderr, "bad[%zu] gave %zd\n", i, r);
			check_failures++;
		}
	}
	/* A line that never ends, a header block that never ends. */
	static char big[WIRE_RTSP_HDR_MAX + 10];
	memset(big, 'a', sizeof(big));
	CHECK_INT(wire_rtsp_parse(big, WIRE_RTSP_LINE_MAX + 1, &m), -EBADMSG);
	memcpy(big, "RTSP/1.0 200 OK\r\n", 17);
	for (size_t i = 17; i + 8 < sizeof(big); i += 8)
		memcpy(big + i, "X: 1234\n", 8);
	CHECK_INT(wire_rtsp_parse(big, sizeof(big), &m), -EBADMSG);
}

static const struct check_test tests[] = {TEST(test_reply), TEST(test_request), TEST(test_refused)};

int main(void)
{
	return check_run(tests, sizeof(tests) / sizeof(tests[0]));
}
