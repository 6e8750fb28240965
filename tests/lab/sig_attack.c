// SPDX-License-Identifier: MIT
/*
 * Attacks on on-path signalling, for tests/lab/test_signal.sh. Each sends
 * COUNT datagrams to TARGET (an address and port) from a socket of its
 * own and prints the octets it sent (UDP payloads), so the test can weigh
 * what the nodes sent back against it:
 *
 *   sig_attack reflect TARGET VICTIM COUNT
 *       PROBEs with a signature by a key no policy holds, naming VICTIM as
 *       their origin and previous hop: a node must send VICTIM no more
 *       octets than it was sent, and pass nothing on.
 *   sig_attack unknown TARGET USER COUNT
 *       PROBEs signed by USER, whom no policy names: refused, no state.
 *   sig_attack forge TARGET COUNT
 *       HERE and RESPONSE for random message ids (none in flight), from an
 *       address that is no node's next hop: nothing changes, nothing sent.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wire/sig.h"
#include "wire/wire.h"

static int fd = -1;
static struct sockaddr_in target;
static unsigned long long sent;

static void send_msg(const struct an_addr *src, const struct an_addr *dst, const struct an_addr *prev,
		     const uint8_t *msg, size_t len)
{
	uint8_t pkt[WIRE_SIG_MSG_MAX + 256];
	struct wire_anep_spec spec = {.type_id = WIRE_TYPE_SIGNAL, .src = src, .dst = dst, .prev_hop = prev};
	size_t hl;
	if (wire_anep_build(pkt, sizeof(pkt), &spec, len, &hl) < 0)
		exit(1);
	memcpy(pkt + hl, msg, len);
	if (sendto(fd, pkt, hl + len, 0, (struct sockaddr *)&target, sizeof(target)) > 0)
		sent += hl + len;
	usleep(200); /* a flood, not a burst the socket drops */
}

static void probe(const struct an_addr *dst, const struct an_addr *origin, const char *user, const uint8_t *sk)
{
	static struct wire_sig_request q;
	memset(&q, 0, sizeof(q));
	q.kind = WIRE_SIG_PROBE;
	randombytes_buf(&q.id, sizeof(q.id));
	randombytes_buf(q.nonce, sizeof(q.nonce));
	q.time = (uint64_t)time(NULL);
	snprintf(q.user, sizeof(q.user), "%s", user);
	q.origin = *origin;
	uint8_t msg[WIRE_SIG_MSG_MAX];
	ssize_t m = wire_sig_build(msg, sizeof(msg), &q, sk);
	if (m < 0)
		exit(1);
	send_msg(origin, dst, origin, msg, (size_t)m);
}

int main(int argc, char **argv)
{
	if (argc < 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: sig_attack reflect|unknown|forge TARGET ... COUNT\n");
		return 2;
	}
	struct an_addr t, victim;
	if (wire_addr_parse(argv[2], &t) < 0 || !an_ip_is_v4(t.ip)) {
		fprintf(stderr, "sig_attack: bad target %s\n", argv[2]);
		return 2;
	}
	target.sin_family = AF_INET;
	target.sin_port = t.port;
	memcpy(&target.sin_addr, t.ip + 12, 4);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	int count = atoi(argv[argc - 1]);
	uint8_t pk[32], sk[64];
	crypto_sign_keypair(pk, sk);
	if (!strcmp(argv[1], "reflect") && argc == 5 && wire_addr_parse(argv[3], &victim) == 0) {
		for (int i = 0; i < count; i++)
			probe(&t, &victim, "alice", sk);
	} else if (!strcmp(argv[1], "unknown") && argc == 5) {
		struct sockaddr_in me;
		socklen_t ml = sizeof(me);
		connect(fd, (struct sockaddr *)&target, sizeof(target));
		getsockname(fd, (struct sockaddr *)&me, &ml);
		struct an_addr self = {.ip = {[10] = 0xff, [11] = 0xff}, .port = me.sin_port};
		memcpy(self.ip + 12, &me.sin_addr, 4);
		for (int i = 0; i < count; i++)
			probe(&t, &self, argv[3], sk);
	} else if (!strcmp(argv[1], "forge") && argc == 4) {
		for (int i = 0; i < count; i++) {
			uint8_t m[WIRE_SIG_MSG_MAX];
			uint64_t id;
			randombytes_buf(&id, sizeof(id));
			ssize_t n =
			    i % 2 ? wire_sig_here_build(m, sizeof(m), id) : wire_sig_response_start(m, sizeof(m), id);
			if (n < 0)
				return 1;
			if (!(i % 2)) {
				struct wire_sig_entry e = {.address = t, .has_result = true};
				n = wire_sig_response_push(m, sizeof(m), (size_t)n, &e);
			}
			send_msg(&t, &t, NULL, m, (size_t)n);
		}
	} else {
		fprintf(stderr, "sig_attack: bad arguments\n");
		return 2;
	}
	printf("%llu\n", sent);
	return 0;
}
