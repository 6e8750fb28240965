// SPDX-License-Identifier: MIT
/*
 * anode signal: on-path signalling from the command line (NetServ, seed
 * 004 §4; docs/signalling.md), through libanode's an_sig_request. Prints
 * the response's stack, nearest node first, as text or JSON.
 */
#include <errno.h>
#include <pwd.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anode/signal.h"
#include <curl/curl.h>
#include <sodium.h>
#include "cli.h"

static const char signal_usage[] =
    "Usage: anode [-n NODE] signal probe DEST [options]\n"
    "       anode [-n NODE] signal setup DEST --module FILE|URL [--url URL] [--filter F]... [options]\n"
    "       anode [-n NODE] signal remove DEST --name NAME|--module FILE [options]\n"
    "       anode -n NODE signal list [--json]\n"
    "\n"
    "Send one signed request toward DEST; every anode node on the path checks\n"
    "it against its policy (your key, the signature, the time, the nonce, the\n"
    "filters you may ask for), acts on it and passes it on, and the last one\n"
    "answers. The answer comes back through the same nodes, each adding its\n"
    "entry: its address, what it runs, free memory, load, its modules and what\n"
    "it did. Plain routers on the path just forward the request (router mode:\n"
    "UDP to DEST port 3322 with IP Router Alert). The request is sent again\n"
    "after 0.5, 1, 2, 4 s ... until an answer comes or --timeout ends.\n"
    "\n"
    "  probe   each node's state and modules\n"
    "  setup   install a packet module (include/anode/module.h) on every anode\n"
    "          router on the path, on the traffic its filters match, for\n"
    "          --lifetime seconds; the same SETUP again renews it\n"
    "  remove  take it out\n"
    "  list    the modules signalling installed at NODE (name, version, user,\n"
    "          state, hash, size, filters, lifetime left, collector)\n"
    "\n"
    "DEST is a node of a running lab (by name), or ADDR[:PORT] (default port\n"
    "3322): in a namespace lab, the end host toward which the path goes.\n"
    "\n"
    "Options:\n"
    "  --via NODE|ADDR:PORT  send to this node first: in an overlay lab the\n"
    "                node where the request enters (default: -n NODE; without\n"
    "                either, DEST itself, as in router mode)\n"
    "  --key FILE    your key (default $ANODE_KEY, else ~/.config/anode/key)\n"
    "  --user NAME   your name in the nodes' policy (default $ANODE_USER, else\n"
    "                your login name)\n"
    "  --module FILE|URL  the module (a code object, `anode code build`): its\n"
    "                SHA-256 and size go in the request; a URL is downloaded\n"
    "                here to learn them, and is where nodes fetch it\n"
    "  --url URL     where the nodes fetch the module (http:// or https://;\n"
    "                default: --module's URL; none: nodes use their cache)\n"
    "  --name NAME   the module's name (default: --module's file name without\n"
    "                .ao)\n"
    "  --version V   its version (default 1)\n"
    "  --lifetime S  seconds it stays unless renewed (default 300, at most 86400)\n"
    "  --filter F    what it sees, up to 4 times: comma-separated proto=udp|tcp|\n"
    "                icmp, dst=PREFIX, src=PREFIX, dport=LO[-HI], sport=LO[-HI]\n"
    "                (inside the filters the nodes' policy grants you)\n"
    "  --dep NAME    a module that must be installed already (up to 8)\n"
    "  --prop K=V    a property (up to 16)\n"
    "  --reverse     act on the reverse path (seed 004 §8): the request goes toward\n"
    "                DEST inside a TRIGGER, and the last anode node there starts it\n"
    "                back toward you, so that it reaches the routers DEST's traffic\n"
    "                to you crosses; the answer is the reverse path's\n"
    "  --nonce HEX   sign with this nonce (32 hex digits) instead of a random one:\n"
    "                for tests of the nodes' replay protection\n"
    "  --timeout S   give up after S seconds (default 10)\n"
    "  --hop-limit N links the request may cross (default 64)\n"
    "  --json        one JSON object\n"
    "\n"
    "Exit status: 0 when an answer came and every node took the request, 1\n"
    "when a node refused it (its entry says why), 3 when no answer came.\n"
    "\n"
    "Example (the lab of README.md's signalling section):\n"
    "  anode lab exec sig-lab h1 -- anode signal probe 10.200.0.14 --user alice\n";

static const char *status_word(const struct an_sig_entry *e)
{
	return !e->has_result ? "-" : e->status == 0 ? "ok" : "refused";
}

static void print_kinds(FILE *f, uint16_t k)
{
	static const char *names[] = {"capsule", "packet", "probe", "merge", "process"};
	bool any = false;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (k & (1u << i)) {
			fprintf(f, "%s%s", any ? "," : "", names[i]);
			any = true;
		}
	if (!any)
		fputs("-", f);
}

static void print_text(const struct an_sig_spec *s, const struct an_sig_answer *a, const char *dest_label)
{
	char buf[64];
	if (s->reverse)
		printf(
		    "%s on the reverse path from %s (a TRIGGER's last node started it back%s%s): answered in %.1f ms "
		    "after %u send%s, %zu anode node%s on the path%s\n",
		    an_sig_kind_name(s->kind), dest_label, a->n_forward ? ": " : "",
		    a->n_forward ? an_addr_format(&a->forward[0], buf, sizeof(buf)) : "", (double)a->rtt_us / 1000.0,
		    a->attempts, a->attempts == 1 ? "" : "s", a->n_entries, a->n_entries == 1 ? "" : "s",
		    a->truncated ? " (stack full: more nodes left no entry)" : "");
	else
		printf("%s toward %s: answered in %.1f ms after %u send%s, %zu anode node%s on the path%s\n",
		       an_sig_kind_name(s->kind), dest_label, (double)a->rtt_us / 1000.0, a->attempts,
		       a->attempts == 1 ? "" : "s", a->n_entries, a->n_entries == 1 ? "" : "s",
		       a->truncated ? " (stack full: more nodes left no entry)" : "");
	/* The stack holds the last node first: print from the nearest. */
	for (size_t k = a->n_entries; k-- > 0;) {
		const struct an_sig_entry *e = &a->entries[k];
		printf("  %zu  %-21s %s", a->n_entries - k, an_addr_format(&e->address, buf, sizeof(buf)),
		       status_word(e));
		if (e->has_result && e->status)
			printf(" (%s)", strerror(-e->status));
		if (e->why[0])
			printf(": %s", e->why);
		putchar('\n');
		if (e->has_caps) {
			fputs("       runs ", stdout);
			print_kinds(stdout, e->ee_kinds);
			printf(", sandboxes %s, %u module slots free, %llu MiB free", e->sandbox_kinds ? "bwrap" : "-",
			       e->free_modules, (unsigned long long)(e->free_memory_kb / 1024));
			if (e->has_load)
				printf(", load %.2f", e->load_milli / 1000.0);
			putchar('\n');
		}
		for (size_t i = 0; i < e->n_installed; i++)
			printf("       module %s %s, %u s left\n", e->installed[i].name, e->installed[i].version,
			       e->installed[i].remaining_s);
	}
}

static void print_json(const struct an_sig_spec *s, const struct an_sig_answer *a, int rc, const char *dest_label)
{
	char buf[64];
	printf("{\"kind\":\"%s\",\"dest\":", an_sig_kind_name(s->kind));
	cli_json_string(stdout, dest_label);
	printf(",\"id\":\"%016llx\",\"answered\":%s,\"attempts\":%u,\"heard\":%s", (unsigned long long)a->id,
	       rc == 0 ? "true" : "false", a->attempts, a->heard ? "true" : "false");
	if (rc == 0)
		printf(",\"rtt_ms\":%.3f,\"truncated\":%s", (double)a->rtt_us / 1000.0,
		       a->truncated ? "true" : "false");
	if (s->reverse) {
		printf(",\"reverse\":true,\"trigger_id\":\"%016llx\",\"forward\":[", (unsigned long long)a->trigger_id);
		for (size_t k = a->n_forward; k-- > 0;)
			printf("%s\"%s\"", k + 1 == a->n_forward ? "" : ",",
			       an_addr_format(&a->forward[k], buf, sizeof(buf)));
		putchar(']');
	}
	fputs(",\"nodes\":[", stdout);
	for (size_t k = a->n_entries; k-- > 0;) {
		const struct an_sig_entry *e = &a->entries[k];
		printf("%s{\"address\":\"%s\"", k + 1 == a->n_entries ? "" : ",",
		       an_addr_format(&e->address, buf, sizeof(buf)));
		if (e->has_caps)
			printf(",\"ee_kinds\":%u,\"sandbox_kinds\":%u,\"free_modules\":%u,\"free_memory_kb\":%llu",
			       e->ee_kinds, e->sandbox_kinds, e->free_modules, (unsigned long long)e->free_memory_kb);
		if (e->has_load)
			printf(",\"load\":%.3f", e->load_milli / 1000.0);
		if (e->has_result) {
			printf(",\"status\":%d,\"why\":", (int)e->status);
			cli_json_string(stdout, e->why);
		}
		fputs(",\"installed\":[", stdout);
		for (size_t i = 0; i < e->n_installed; i++) {
			printf("%s{\"name\":", i ? "," : "");
			cli_json_string(stdout, e->installed[i].name);
			fputs(",\"version\":", stdout);
			cli_json_string(stdout, e->installed[i].version);
			printf(",\"remaining_s\":%u}", e->installed[i].remaining_s);
		}
		fputs("]}", stdout);
	}
	fputs("]}\n", stdout);
}

/* ADDR[:PORT] with 3322 by default, or a lab's node. */
static int dest_of(const char *spec, struct an_addr *ret, char *label, size_t len)
{
	if (!strchr(spec, ':') && strchr(spec, '.')) {
		char with[80];
		snprintf(with, sizeof(with), "%s:3322", spec);
		if (an_addr_parse(with, ret) == 0) {
			snprintf(label, len, "%s", spec);
			return 0;
		}
	}
	return cli_dest_find(spec, getenv("ANODE_LAB"), ret, label, len);
}

/* A filter: "proto=udp,dst=10.1.0.0/16,dport=5000-6000". */
static int filter_parse(const char *spec, struct an_sig_filter *f)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", spec);
	memset(f, 0, sizeof(*f));
	char *save;
	for (char *kv = strtok_r(buf, ", ", &save); kv; kv = strtok_r(NULL, ", ", &save)) {
		char *v = strchr(kv, '=');
		if (!v)
			return -1;
		*v++ = '\0';
		if (!strcmp(kv, "proto")) {
			f->proto = !strcmp(v, "udp") ? 17 : !strcmp(v, "tcp") ? 6 : !strcmp(v, "icmp") ? 1 : 0;
			if (!f->proto)
				return -1;
		} else if (!strcmp(kv, "dst") || !strcmp(kv, "src")) {
			struct an_prefix p;
			if (an_prefix_parse(v, &p) < 0)
				return -1;
			memcpy(!strcmp(kv, "dst") ? f->dst : f->src, p.ip, 16);
			uint8_t len = an_ip_is_v4(p.ip) && p.len >= 96 ? (uint8_t)(p.len - 96) : p.len;
			*(!strcmp(kv, "dst") ? &f->dst_len : &f->src_len) = len;
		} else if (!strcmp(kv, "dport") || !strcmp(kv, "sport")) {
			unsigned lo, hi;
			int k = sscanf(v, "%u-%u", &lo, &hi);
			if (k < 1 || lo > 65535 || (k == 2 && (hi > 65535 || hi < lo)))
				return -1;
			uint16_t *l = !strcmp(kv, "dport") ? &f->dport_lo : &f->sport_lo;
			l[0] = (uint16_t)lo;
			l[1] = (uint16_t)(k == 2 ? hi : lo);
		} else {
			return -1;
		}
	}
	return 0;
}

struct body {
	uint8_t *b;
	size_t len;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *bd = arg;
	size_t n = size * nmemb;
	if (n > AN_SIG_MODULE_MAX - bd->len)
		return 0;
	uint8_t *nb = realloc(bd->b, bd->len + n);
	if (!nb)
		return 0;
	memcpy(nb + bd->len, data, n);
	bd->b = nb;
	bd->len += n;
	return n;
}

/* The module's octets from a file, or from a URL (libcurl, as the nodes'
 * fetcher will). 0, or -1 after saying why. */
static int module_bytes(const char *where, void **ret, size_t *ret_len)
{
	if (strncmp(where, "http://", 7) && strncmp(where, "https://", 8)) {
		int r = an_code_read_file(where, ret, ret_len);
		if (r < 0)
			fprintf(stderr, "anode signal: cannot read %s: %s\n", where, strerror(-r));
		return r < 0 ? -1 : 0;
	}
	struct body bd = {0};
	long http = 0;
	CURL *e = curl_easy_init();
	CURLcode rc = CURLE_FAILED_INIT;
	if (e) {
		curl_easy_setopt(e, CURLOPT_URL, where);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_TIMEOUT, 10L);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &bd);
		rc = curl_easy_perform(e);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &http);
		curl_easy_cleanup(e);
	}
	if (rc != CURLE_OK || http != 200 || bd.len == 0) {
		fprintf(stderr, "anode signal: cannot download %s: %s\n", where,
			rc != CURLE_OK ? curl_easy_strerror(rc)
			: http != 200  ? "not HTTP status 200"
				       : "empty");
		free(bd.b);
		return -1;
	}
	*ret = bd.b;
	*ret_len = bd.len;
	return 0;
}

/* NAME from a path or URL: its last component without ".ao". */
static void name_of(const char *where, char *out, size_t len)
{
	const char *b = strrchr(where, '/');
	snprintf(out, len, "%s", b ? b + 1 : where);
	char *dot = strstr(out, ".ao");
	if (dot && dot[3] == '\0')
		*dot = '\0';
}

int cmd_signal(const char *node, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(signal_usage, stdout);
			return 0;
		}
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		bool json = argc == 3 && !strcmp(argv[2], "--json");
		if (argc > 3 || (argc == 3 && !json) || !node) {
			fprintf(stderr, "anode signal: usage: anode -n NODE signal list [--json]\n");
			return 2;
		}
		struct cli_node n;
		char *body;
		if (cli_node_find(node, &n) < 0 || cli_ctl(&n, json ? "sig json" : "sig", &body) < 0)
			return 1;
		fputs(body, stdout);
		free(body);
		return 0;
	}
	static const char *verbs[] = {[AN_SIG_SETUP] = "setup", [AN_SIG_REMOVE] = "remove", [AN_SIG_PROBE] = "probe"};
	int kind = 0;
	for (int k = 1; argc >= 3 && k <= 3; k++)
		if (!strcmp(argv[1], verbs[k]))
			kind = k;
	if (!kind) {
		fputs(signal_usage, stderr);
		return 2;
	}
	static struct an_sig_spec s;
	s = (struct an_sig_spec){.kind = (enum an_sig_kind)kind, .hop_limit = 64, .lifetime_s = 300, .module_kind = 1};
	char defkey[4096], dest_label[80], name[65] = "";
	const char *key = cli_key_default_path(defkey, sizeof(defkey)), *via = NULL, *module = NULL, *url = NULL;
	const char *version = "1";
	s.user = getenv("ANODE_USER");
	bool json = false;
	if (dest_of(argv[2], &s.dest, dest_label, sizeof(dest_label)) < 0)
		return 2;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (!strcmp(a, "--json"))
			json = true;
		else if (!strcmp(a, "--via") && more)
			via = argv[++i];
		else if (!strcmp(a, "--key") && more)
			key = argv[++i];
		else if (!strcmp(a, "--user") && more)
			s.user = argv[++i];
		else if (!strcmp(a, "--module") && more && kind != AN_SIG_PROBE)
			module = argv[++i];
		else if (!strcmp(a, "--url") && more && kind == AN_SIG_SETUP)
			url = argv[++i];
		else if (!strcmp(a, "--name") && more && kind != AN_SIG_PROBE)
			snprintf(name, sizeof(name), "%s", argv[++i]);
		else if (!strcmp(a, "--version") && more && kind == AN_SIG_SETUP)
			version = argv[++i];
		else if (!strcmp(a, "--lifetime") && more && kind == AN_SIG_SETUP) {
			char *end;
			unsigned long l = strtoul(argv[++i], &end, 10);
			if (*end || l < 1 || l > 86400) {
				fprintf(stderr, "anode signal: --lifetime takes 1..86400 seconds\n");
				return 2;
			}
			s.lifetime_s = (uint32_t)l;
		} else if (!strcmp(a, "--filter") && more && kind == AN_SIG_SETUP) {
			if (s.n_filters == AN_SIG_FILTERS_MAX || filter_parse(argv[++i], &s.filters[s.n_filters]) < 0) {
				fprintf(stderr, "anode signal: bad or too many --filter '%s' (see anode signal -h)\n",
					argv[i]);
				return 2;
			}
			s.n_filters++;
		} else if (!strcmp(a, "--dep") && more && kind == AN_SIG_SETUP && s.n_deps < AN_SIG_DEPS_MAX)
			s.deps[s.n_deps++] = argv[++i];
		else if (!strcmp(a, "--prop") && more && kind == AN_SIG_SETUP && s.n_props < AN_SIG_PROPS_MAX)
			s.props[s.n_props++] = argv[++i];
		else if (!strcmp(a, "--reverse"))
			s.reverse = true;
		else if (!strcmp(a, "--nonce") && more) {
			static uint8_t nonce[16];
			size_t got = 0;
			const char *hex = argv[++i];
			if (sodium_hex2bin(nonce, sizeof(nonce), hex, strlen(hex), NULL, &got, NULL) < 0 ||
			    got != sizeof(nonce)) {
				fprintf(stderr, "anode signal: --nonce takes 32 hexadecimal digits\n");
				return 2;
			}
			s.nonce = nonce;
		} else if (!strcmp(a, "--timeout") && more) {
			char *end;
			double t = strtod(argv[++i], &end);
			if (*end || t <= 0 || t > 3600) {
				fprintf(stderr,
					"anode signal: --timeout takes seconds, more than 0 and at most 3600\n");
				return 2;
			}
			s.timeout_ms = (unsigned)(t * 1000);
		} else if (!strcmp(a, "--hop-limit") && more) {
			char *end;
			long h = strtol(argv[++i], &end, 10);
			if (*end || h < 1 || h > 255) {
				fprintf(stderr, "anode signal: --hop-limit takes 1..255\n");
				return 2;
			}
			s.hop_limit = (uint8_t)h;
		} else {
			fprintf(stderr, "anode signal: unexpected '%s' (see anode signal -h)\n", a);
			return 2;
		}
	}
	if (kind == AN_SIG_SETUP) {
		void *code;
		size_t len;
		if (!module) {
			fprintf(stderr, "anode signal: setup needs --module FILE|URL\n");
			return 2;
		}
		if (module_bytes(module, &code, &len) < 0)
			return 2;
		crypto_hash_sha256(s.hash, code, len);
		s.size = (uint32_t)len;
		free(code);
		if (!url && (!strncmp(module, "http://", 7) || !strncmp(module, "https://", 8)))
			url = module;
		s.url = url;
		s.version = version;
		if (s.n_filters == 0) {
			fprintf(stderr, "anode signal: a packet module needs at least one --filter\n");
			return 2;
		}
	}
	if (kind != AN_SIG_PROBE) {
		if (!name[0] && module)
			name_of(module, name, sizeof(name));
		if (!name[0]) {
			fprintf(stderr, "anode signal: %s needs --name NAME or --module FILE\n", verbs[kind]);
			return 2;
		}
		s.module = name;
	}
	if (!s.user) {
		struct passwd *pw = getpwuid(getuid());
		s.user = pw ? pw->pw_name : "";
	}
	if (!via && node)
		via = node;
	if (via) {
		struct cli_node n;
		if (an_addr_parse(via, &s.via) < 0) {
			if (cli_node_find(via, &n) < 0)
				return 2;
			if (!n.have_addr) {
				fprintf(stderr, "anode signal: node %s has no known address: give --via ADDR:PORT\n",
					via);
				return 2;
			}
			s.via = n.addr;
		}
	} else {
		s.router_alert = true;
	}
	uint8_t sk[64];
	if (cli_key_load(key, sk) < 0)
		return 2;
	s.secret_key = sk;
	static struct an_sig_answer a;
	int rc = an_sig_request(&s, &a);
	if (rc < 0 && rc != -ETIMEDOUT) {
		fprintf(stderr, "anode signal: %s\n",
			rc == -EINVAL ? "a name outside [A-Za-z0-9._-] or too long" : strerror(-rc));
		return 2;
	}
	if (json)
		print_json(&s, &a, rc, dest_label);
	else if (rc == 0)
		print_text(&s, &a, dest_label);
	if (rc < 0) {
		if (!json)
			fprintf(stderr, "anode signal: no answer from %s after %u sends in %.1f s%s\n", dest_label,
				a.attempts, (s.timeout_ms ? s.timeout_ms : 10000) / 1000.0,
				a.heard ? " (a node said it took the request: the path beyond it is silent)"
					: " (no anode node said it took the request: is one on the path?)");
		return 3;
	}
	for (size_t k = 0; k < a.n_entries; k++)
		if (a.entries[k].has_result && a.entries[k].status)
			return 1;
	return 0;
}
