// SPDX-License-Identifier: MIT
/*
 * anode svc: signed requests to a node's control module (src/svc). The
 * request is built and signed here with the user's Ed25519 key and sent
 * over the node's control socket as one line of URL-safe base64; the node
 * checks it (signer, signature, time, nonce) and its policy before it acts.
 */
#include <errno.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "wire/wire.h"

static const char svc_usage[] = "Usage: anode -n NODE svc activate SERVICE [KEY=VALUE ...] [options]\n"
				"       anode -n NODE svc suspend|resume|stop SERVICE [--owner USER] [options]\n"
				"       anode -n NODE svc param SERVICE KEY=VALUE ... [--owner USER] [options]\n"
				"       anode -n NODE svc list [options]\n"
				"       anode [-n NODE] svc sign OP [SERVICE] [KEY=VALUE ...] [--node NAME] [options]\n"
				"       anode -n NODE svc send REQUEST [--json]\n"
				"\n"
				"Act on NODE's services through its control module (seed 000 §4.3). Every\n"
				"request is signed with your Ed25519 key ('anode key gen') and names the\n"
				"node, you, the time and a random nonce; the node refuses it, saying why,\n"
				"unless your key is in its policy, the signature is good, it was signed\n"
				"within 30 s, the nonce is new, and the policy allows what it asks.\n"
				"\n"
				"  activate  start your instance of SERVICE, with parameters\n"
				"  suspend   pause your instance; resume: carry on\n"
				"  stop      end your instance\n"
				"  param     pass new parameters to your instance\n"
				"  list      the services you may use, and your instances\n"
				"  sign      print the signed request (base64) instead of sending it\n"
				"  send      send a request signed earlier\n"
				"\n"
				"Options:\n"
				"  --key FILE   your key (default $ANODE_KEY, else ~/.config/anode/key)\n"
				"  --user NAME  your name in the node's policy (default $ANODE_USER, else\n"
				"               your login name)\n"
				"  --node NAME  the node's name, for 'sign' without -n (with -n it is asked)\n"
				"  --owner USER act on USER's instance instead of yours: administrators\n"
				"               only (suspend, resume, stop, param)\n"
				"  --time SECS  sign as of this time (seconds since the epoch; default now)\n"
				"  --json       the node's answer as JSON\n";

static int op_of(const char *s)
{
	static const char *ops[] = {NULL, "activate", "suspend", "resume", "stop", "param", "list"};
	for (int i = 1; i < (int)(sizeof(ops) / sizeof(ops[0])); i++)
		if (!strcmp(s, ops[i]))
			return i;
	return -1;
}

/* The node's own name, from "info json". */
static int node_name(const struct cli_node *n, char *out, size_t len)
{
	char *body;
	if (cli_ctl(n, "info json", &body) < 0)
		return -1;
	const char *k = strstr(body, "\"name\":\"");
	int r = -1;
	if (k) {
		k += 8;
		size_t m = strcspn(k, "\"");
		if (m > 0 && m < len) {
			memcpy(out, k, m);
			out[m] = 0;
			r = 0;
		}
	}
	free(body);
	if (r < 0)
		fprintf(stderr, "anode: node %s did not say its name\n", n->name);
	return r;
}

static int send_request(const struct cli_node *n, const char *b64, bool json)
{
	size_t len = strlen(b64) + 16;
	char *line = malloc(len);
	if (!line)
		return 1;
	snprintf(line, len, "svc %s%s", b64, json ? " json" : "");
	char *body;
	int r = cli_ctl(n, line, &body);
	free(line);
	if (r < 0)
		return 1;
	fputs(body, stdout);
	free(body);
	return 0;
}

int cmd_svc(const char *node, int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(svc_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	char defkey[4096];
	const char *key = cli_key_default_path(defkey, sizeof(defkey));
	const char *user = getenv("ANODE_USER"), *node_opt = NULL, *owner = NULL;
	bool json = false, sign_only = false;
	uint64_t when = (uint64_t)time(NULL);
	char *pos[WIRE_SVC_PARAMS_MAX];
	int npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(a, "--user") && i + 1 < argc)
			user = argv[++i];
		else if (!strcmp(a, "--node") && i + 1 < argc)
			node_opt = argv[++i];
		else if (!strcmp(a, "--owner") && i + 1 < argc)
			owner = argv[++i];
		else if (!strcmp(a, "--time") && i + 1 < argc) {
			char *end;
			when = strtoull(argv[++i], &end, 10);
			if (*end) {
				fprintf(stderr, "anode: svc: --time takes seconds since the epoch\n");
				return 2;
			}
		} else if (!strcmp(a, "--json"))
			json = true;
		else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "anode: svc: unknown option %s\n", a);
			fputs(svc_usage, stderr);
			return 2;
		} else
			pos[npos++] = argv[i];
	}
	if (npos == 0) {
		fputs(svc_usage, stderr);
		return 2;
	}
	struct cli_node n;
	bool have_node = false;
	if (node && strcmp(pos[0], "sign") != 0) {
		if (cli_node_find(node, &n) < 0)
			return 1;
		have_node = true;
	}
	if (!strcmp(pos[0], "send")) {
		if (npos != 2 || !have_node) {
			fputs(svc_usage, stderr);
			return 2;
		}
		return send_request(&n, pos[1], json);
	}
	if (!strcmp(pos[0], "sign")) {
		sign_only = true;
		pos[0] = pos[1];
		memmove(pos + 1, pos + 2, (size_t)(npos - 2 > 0 ? npos - 2 : 0) * sizeof(pos[0]));
		npos--;
		if (npos < 1) {
			fputs(svc_usage, stderr);
			return 2;
		}
		if (!node_opt && node) {
			if (cli_node_find(node, &n) < 0)
				return 1;
			have_node = true;
		}
	}
	int op = op_of(pos[0]);
	if (op < 0) {
		fprintf(stderr, "anode: svc: unknown request '%s'\n", pos[0]);
		fputs(svc_usage, stderr);
		return 2;
	}
	if (!have_node && !node_opt) {
		fprintf(stderr, "anode: svc: which node? (-n NODE, or --node NAME with sign)\n");
		return 2;
	}
	struct wire_svc_request q = {.op = (uint8_t)op, .time = when};
	randombytes_buf(q.nonce, sizeof(q.nonce));
	if (op != WIRE_SVC_LIST) {
		if (npos < 2) {
			fprintf(stderr, "anode: svc %s: which service?\n", pos[0]);
			return 2;
		}
		snprintf(q.service, sizeof(q.service), "%s", pos[1]);
	}
	if (owner) {
		if (op == WIRE_SVC_ACTIVATE || op == WIRE_SVC_LIST) {
			fprintf(stderr, "anode: svc %s: --owner goes with suspend, resume, stop and param\n", pos[0]);
			return 2;
		}
		snprintf(q.owner, sizeof(q.owner), "%s", owner);
	}
	int first_param = op == WIRE_SVC_LIST ? 1 : 2;
	if (npos > first_param && op != WIRE_SVC_ACTIVATE && op != WIRE_SVC_PARAM) {
		fprintf(stderr, "anode: svc %s takes no parameters\n", pos[0]);
		return 2;
	}
	size_t off = 0;
	for (int i = first_param; i < npos; i++) {
		size_t m = strlen(pos[i]);
		if (!strchr(pos[i], '=') || off + m + 1 > WIRE_SVC_PARAMS_MAX) {
			fprintf(stderr, "anode: svc: parameters are KEY=VALUE, %d octets in all at most\n",
				WIRE_SVC_PARAMS_MAX);
			return 2;
		}
		off += (size_t)snprintf(q.params + off, sizeof(q.params) - off, "%s%s", off ? " " : "", pos[i]);
	}
	if (!user || !*user) {
		struct passwd *pw = getpwuid(getuid());
		user = pw ? pw->pw_name : "";
	}
	snprintf(q.user, sizeof(q.user), "%s", user);
	if (node_opt)
		snprintf(q.node, sizeof(q.node), "%s", node_opt);
	else if (node_name(&n, q.node, sizeof(q.node)) < 0)
		return 1;
	uint8_t sk[64];
	if (cli_key_load(key, sk) < 0)
		return 1;
	uint8_t msg[WIRE_SVC_REQUEST_MAX];
	ssize_t len = wire_svc_build(msg, sizeof(msg), &q, sk);
	sodium_memzero(sk, sizeof(sk));
	if (len < 0) {
		fprintf(stderr,
			"anode: svc: cannot build the request: names are 1 to %d letters, digits, '_' "
			"or '-' (users also '.'); parameters printable\n",
			WIRE_SVC_NAME_MAX);
		return 2;
	}
	char b64[sodium_base64_ENCODED_LEN(WIRE_SVC_REQUEST_MAX, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
	sodium_bin2base64(b64, sizeof(b64), msg, (size_t)len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (sign_only) {
		printf("%s\n", b64);
		return 0;
	}
	return send_request(&n, b64, json);
}
