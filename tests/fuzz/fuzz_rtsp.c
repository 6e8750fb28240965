// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for RTSP messages (src/wire/rtsp.c), which the caching
 * service reads off a client's control connection: a message that parses
 * fits in the input and its header block in the message; a request that
 * parses builds again (method, URI, CSeq, session) and parses back to the
 * same.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/rtsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct wire_rtsp m, m2;
	static char out[WIRE_RTSP_HDR_MAX];
	ssize_t n = wire_rtsp_parse(data, size, &m);
	if (n <= 0)
		return 0;
	if ((size_t)n > size || m.hdr_len > (size_t)n || m.len != (size_t)n)
		abort();
	if (m.response)
		return 0;
	ssize_t k = wire_rtsp_request(out, sizeof(out), m.method, m.uri, m.cseq, m.has_session ? m.session : NULL);
	if (k < 0 || wire_rtsp_parse(out, (size_t)k, &m2) != k)
		abort();
	if (strcmp(m.method, m2.method) || strcmp(m.uri, m2.uri) || m.cseq != m2.cseq ||
	    m.has_session != m2.has_session || strcmp(m.session, m2.session))
		abort();
	return 0;
}
