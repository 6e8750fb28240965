// SPDX-License-Identifier: MIT
/*
 * The matching engine's iptables rules (rules.h): building each rule's
 * argument vector from a filter, running iptables without a shell (through
 * core/spawn), and removing the rules a node killed with SIGKILL left. This
 * is what needs privileges in router mode; the queues do not.
 */
#include "link/rules.h"
#include "anode/kernel.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/spawn.h"

#define MATCH_CMD_OUT_MAX 65536


/* Seconds iptables may wait for the xtables lock that another program
 * holds: whoever runs it waits too (the privileged parent in anoded, the
 * loop of a process using the matching engine alone), so not for ever. */
#define MATCH_XTABLES_WAIT_S "2"

/* The argument vector of one rule: "iptables -w -t mangle OP PREROUTING
 * <match> -m comment --comment anode:TAG:ID -j NFQUEUE ...". */
struct rule_args {
	char *argv[40];
	char buf[8][64];
};

static void add_prefix(char *out, size_t sz, uint32_t addr, uint8_t len)
{
	char a[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	snprintf(out, sz, "%s/%u", a, len);
}

static void add_ports(char *out, size_t sz, uint16_t lo, uint16_t hi)
{
	if (hi == 0 || hi == lo)
		snprintf(out, sz, "%u", lo);
	else
		snprintf(out, sz, "%u:%u", lo, hi);
}

static int rule_args_build(struct rule_args *r, const char *op, const char *tag, unsigned id, uint16_t queue,
			   const struct match_filter *f)
{
	unsigned n = 0, b = 0;
	char **v = r->argv;
	v[n++] = "iptables";
	v[n++] = "-w"; /* wait for the xtables lock, but not for ever */
	v[n++] = MATCH_XTABLES_WAIT_S;
	v[n++] = "-t";
	v[n++] = "mangle";
	v[n++] = (char *)op;
	v[n++] = "PREROUTING";
	if (f->src_prefix) {
		add_prefix(r->buf[b], sizeof(r->buf[b]), f->src, f->src_prefix);
		v[n++] = "-s";
		v[n++] = r->buf[b++];
	}
	if (f->dst_prefix) {
		add_prefix(r->buf[b], sizeof(r->buf[b]), f->dst, f->dst_prefix);
		v[n++] = "-d";
		v[n++] = r->buf[b++];
	}
	if (f->proto) {
		v[n++] = "-p";
		switch (f->proto) {
		case IPPROTO_UDP:
			v[n++] = "udp";
			break;
		case IPPROTO_TCP:
			v[n++] = "tcp";
			break;
		case IPPROTO_ICMP:
			v[n++] = "icmp";
			break;
		default:
			snprintf(r->buf[b], sizeof(r->buf[b]), "%u", f->proto);
			v[n++] = r->buf[b++];
		}
	}
	if (f->sport_lo || f->sport_hi) {
		add_ports(r->buf[b], sizeof(r->buf[b]), f->sport_lo, f->sport_hi);
		v[n++] = "--sport";
		v[n++] = r->buf[b++];
	}
	if (f->dport_lo || f->dport_hi) {
		add_ports(r->buf[b], sizeof(r->buf[b]), f->dport_lo, f->dport_hi);
		v[n++] = "--dport";
		v[n++] = r->buf[b++];
	}
	/* Not what the kernel path (src/kern) already ran and sent on. */
	v[n++] = "-m";
	v[n++] = "mark";
	v[n++] = "!";
	v[n++] = "--mark";
	v[n++] = ANODE_KMARK_TEXT;
	v[n++] = "-m";
	v[n++] = "comment";
	v[n++] = "--comment";
	snprintf(r->buf[b], sizeof(r->buf[b]), "anode:%s:%u", tag, id);
	v[n++] = r->buf[b++];
	v[n++] = "-j";
	v[n++] = "NFQUEUE";
	v[n++] = "--queue-num";
	snprintf(r->buf[b], sizeof(r->buf[b]), "%u", queue);
	v[n++] = r->buf[b++];
	v[n++] = "--queue-bypass";
	v[n] = NULL;
	return 0;
}

static int rules_run(const char *op, const char *tag, unsigned id, uint16_t queue, const struct match_filter *f)
{
	struct rule_args r;
	rule_args_build(&r, op, tag, id, queue, f);
	char err[512];
	int rc = spawn_run(r.argv, NULL, 0, err, sizeof(err));
	if (rc == 0)
		return 0;
	if (rc < 0)
		return log_errno_ret(-rc, "match: cannot run iptables: %s", strerror(-rc));
	log_err("match: iptables %s anode:%s:%u failed (exit %d): %s", op, tag, id, rc, err);
	return rc == 127 ? -ENOENT : -EIO;
}

bool rules_tag_ok(const char *tag)
{
	size_t n = strlen(tag);
	if (n == 0 || n > MATCH_TAG_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)tag[i]) && tag[i] != '-' && tag[i] != '_')
			return false;
	return true;
}

/* Split one line of "iptables -S" into words, with iptables' double quotes
 * removed (in place). */
static unsigned split_words(char *s, char **ret, unsigned max)
{
	unsigned n = 0;
	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		char *w = s, *o = s;
		bool q = false;
		while (*s && (q || *s != ' ')) {
			if (*s == '"')
				q = !q;
			else if (*s == '\\' && s[1])
				*o++ = *++s;
			else
				*o++ = *s;
			s++;
		}
		if (*s)
			s++;
		*o = 0;
		ret[n++] = w;
	}
	return n;
}

static int cleanup_table(const char *tag, const char *table)
{
	char *out = malloc(MATCH_CMD_OUT_MAX);
	if (!out)
		return -ENOMEM;
	char err[512];
	char *list[] = {"iptables", "-w", MATCH_XTABLES_WAIT_S, "-t", (char *)table, "-S", "PREROUTING", NULL};
	int rc = spawn_run(list, out, MATCH_CMD_OUT_MAX, err, sizeof(err));
	if (rc != 0) {
		free(out);
		if (rc < 0)
			return log_errno_ret(-rc, "match: cannot run iptables: %s", strerror(-rc));
		log_err("match: iptables -S PREROUTING failed (exit %d): %s", rc, err);
		return -EIO;
	}
	char prefix[MATCH_TAG_MAX + 8];
	snprintf(prefix, sizeof(prefix), "anode:%s:", tag);
	int removed = 0, failed = 0;
	char *save = NULL;
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *w[64];
		unsigned n = split_words(line, w + 5, 58);
		if (n < 2 || strcmp(w[5], "-A") != 0)
			continue;
		bool ours = false;
		for (unsigned i = 5; i + 1 < n + 5; i++)
			if (!strcmp(w[i], "--comment") && !strncmp(w[i + 1], prefix, strlen(prefix)))
				ours = true;
		if (!ours)
			continue;
		w[0] = "iptables";
		w[1] = "-w";
		w[2] = MATCH_XTABLES_WAIT_S;
		w[3] = "-t";
		w[4] = (char *)table;
		w[5] = "-D";
		w[5 + n] = NULL;
		rc = spawn_run(w, NULL, 0, err, sizeof(err));
		if (rc == 0) {
			removed++;
		} else {
			log_err("match: removing a stale %s rule failed (exit %d): %s", prefix, rc, err);
			failed++;
		}
	}
	free(out);
	if (removed)
		log_info("match: removed %d stale rule(s) of %s", removed, tag);
	return failed ? -EIO : removed;
}

int rules_cleanup_stale(const char *tag)
{
	if (!rules_tag_ok(tag))
		return -EINVAL;
	/* The filters' queues (mangle), the servers' redirections (nat). */
	int a = cleanup_table(tag, "mangle"), b = cleanup_table(tag, "nat");
	return a < 0 ? a : b < 0 ? b : a + b;
}

/* A server's redirection: "iptables -t nat OP PREROUTING -d DST -p PROTO
 * --dport LO:HI -m comment --comment anode:TAG:sID -j DNAT
 * --to-destination TO". */
static int dnat_run(const char *op, const char *tag, unsigned id, const struct match_filter *f, uint32_t to)
{
	char dst[INET_ADDRSTRLEN + 4], ports[16], comment[MATCH_TAG_MAX + 24], toa[INET_ADDRSTRLEN];
	add_prefix(dst, sizeof(dst), f->dst, f->dst_prefix);
	add_ports(ports, sizeof(ports), f->dport_lo, f->dport_hi);
	snprintf(comment, sizeof(comment), "anode:%s:s%u", tag, id);
	inet_ntop(AF_INET, &to, toa, sizeof(toa));
	char *argv[] = { "iptables", "-w", MATCH_XTABLES_WAIT_S, "-t", "nat", (char *)op, "PREROUTING", "-d", dst, "-p",
			 f->proto == IPPROTO_UDP ? "udp" : "tcp", "--dport", ports, "-m", "comment", "--comment", comment,
			 "-j", "DNAT", "--to-destination", toa, NULL };
	char err[512];
	int rc = spawn_run(argv, NULL, 0, err, sizeof(err));
	if (rc == 0)
		return 0;
	if (rc < 0)
		return log_errno_ret(-rc, "match: cannot run iptables: %s", strerror(-rc));
	log_err("match: iptables -t nat %s %s failed (exit %d): %s", op, comment, rc, err);
	return -EIO;
}

int rules_dnat_add(const char *tag, unsigned id, const struct match_filter *f, uint32_t to)
{
	if (!f->dst_prefix || (f->proto != IPPROTO_TCP && f->proto != IPPROTO_UDP) || !f->dport_lo)
		return -EINVAL;
	return dnat_run("-A", tag, id, f, to);
}

int rules_dnat_del(const char *tag, unsigned id, const struct match_filter *f, uint32_t to)
{
	return dnat_run("-D", tag, id, f, to);
}

/* ---- verdicts ---- */

int rules_add(const char *tag, unsigned id, uint16_t queue, const struct match_filter *f)
{
	return rules_run("-A", tag, id, queue, f);
}

int rules_del(const char *tag, unsigned id, uint16_t queue, const struct match_filter *f)
{
	return rules_run("-D", tag, id, queue, f);
}
