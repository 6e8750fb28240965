// SPDX-License-Identifier: MIT
/*
 * anode trace: the active traceroute of seed 002 from the command line. A
 * trace capsule goes from NODE to DEST and back, collecting a record at
 * each goal node (--at, or every node), in the layout its code object
 * chooses: apps/trace.c's node figures by default, or the user's own code
 * with --code, whose records are printed as they are.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "proto.h"

#define TRACE_WAIT_MS 5000

static void trace_usage(FILE *f)
{
	fputs("Usage: anode -n NODE trace DEST [--at N1,N2,...] [--carry | --on-demand]\n"
	      "                                 [--code FILE.ao] [--json]\n"
	      "\n"
	      "Active traceroute: a capsule goes from NODE to DEST and back, and every goal\n"
	      "node on the way out appends a record of its resources: address, link\n"
	      "capacity, bytes received and sent, link use, memory total/used/available,\n"
	      "load, queue length, processing time and link delay. The node reads them\n"
	      "from the system and its own counters; the record's layout is the code's.\n"
	      "\n"
	      "  --at LIST     collect only at these nodes (names or ADDR:PORT), in ANEP\n"
	      "                GOAL options; default: at every node\n"
	      "  --carry       the code travels in the capsule\n"
	      "  --on-demand   nodes load the code from their previous hop (default)\n"
	      "  --code FILE   use this code object instead of the shipped trace.ao; it\n"
	      "                must keep struct trace_hdr (apps/proto.h) and start each\n"
	      "                record with struct trace_record_head; the rest is printed\n"
	      "                as it is\n"
	      "  --json        print {\"records\": [{\"node\": NAME, ...}, ...]}\n",
	      f);
}

/* The lab name of an address, or the address itself. */
static void node_label(const struct an_addr *a, const char *lab, char *buf, size_t len)
{
	char text[64];
	an_addr_format(a, text, sizeof(text));
	struct an_addr found;
	char label[65];
	/* A lab node whose address is a: cli_dest_find resolves names, so
	 * ask the other way round by trying the text form. */
	if (lab && cli_dest_find(text, lab, &found, label, sizeof(label)) == 0 && strcmp(label, text) != 0)
		snprintf(buf, len, "%s", label);
	else
		snprintf(buf, len, "%s", text);
}

static void print_hex(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

/* Whether a record body is text: printable characters up to a NUL, and
 * nothing but NULs after it (binary figures often look printable byte by
 * byte, but not as a NUL-padded string). */
static bool printable(const uint8_t *b, size_t n)
{
	size_t i = 0;
	while (i < n && b[i] >= 0x20 && b[i] <= 0x7e)
		i++;
	if (i == 0)
		return false;
	for (; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void print_records(const struct trace_hdr *h, const uint8_t *rec, size_t avail, bool ours, bool json,
			  const char *lab, const char *dest_label)
{
	size_t rl = h->record_len;
	size_t n = rl ? avail / rl : 0;
	if (n > h->n_records)
		n = h->n_records;
	if (json)
		printf("{\"destination\":\"%s\",\"rtt_ns\":%llu,\"truncated\":%u,\"records\":[", dest_label,
		       (unsigned long long)h->rtt_ns, h->truncated);
	else if (ours)
		printf("%-3s %-10s %5s %10s %9s %11s %9s %9s %9s %6s %5s %10s %10s\n", "#", "NODE", "VISIT",
		       "LINK Mb/s", "USED Mb/s", "AVAIL Mb/s", "MEM MB", "USED MB", "AVAIL MB", "LOAD", "QUEUE",
		       "PROC us", "DELAY us");
	for (size_t i = 0; i < n; i++) {
		const uint8_t *r = rec + i * rl;
		struct trace_record_head head;
		char name[80];
		memcpy(&head, r, sizeof(head));
		node_label(&head.node, lab, name, sizeof(name));
		if (ours) {
			struct trace_record t;
			memcpy(&t, r, sizeof(t));
			int64_t avail_bps = t.link_capacity_bps >= 0 && t.link_used_bps >= 0 ?
						    t.link_capacity_bps - t.link_used_bps :
						    -1;
			int64_t f[] = { t.link_capacity_bps, t.link_rx_bytes, t.link_tx_bytes, t.link_used_bps,
					avail_bps, t.mem_total_kb, t.mem_used_kb, t.mem_avail_kb,
					t.load_milli, t.queue_len, t.processing_ns, t.delay_ns };
			static const char *const keys[] = { "link_capacity_bps", "link_rx_bytes", "link_tx_bytes",
							    "link_used_bps", "link_available_bps", "mem_total_kb",
							    "mem_used_kb", "mem_available_kb", "load_milli", "queue_len",
							    "processing_ns", "delay_ns" };
			if (json) {
				printf("%s{\"node\":\"%s\",\"visit\":%u", i ? "," : "", name, head.visit);
				/* A figure the node could not read is null. */
				for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
					if (f[k] < 0)
						printf(",\"%s\":null", keys[k]);
					else
						printf(",\"%s\":%lld", keys[k], (long long)f[k]);
				printf("}");
				continue;
			}
			/* Text: the same figures in human units, '-' where unknown. */
			static const double scale[] = { 1e6, 0, 0, 1e6, 1e6, 1024, 1024, 1024, 1000, 1, 1e3, 1e3 };
			static const int shown[] = { 0, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
			printf("%-3zu %-10s %5u", i + 1, name, head.visit);
			for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
				int64_t v = f[shown[k]];
				int width = k == 0 ? 10 : k == 1 ? 9 : k == 2 ? 11 : k < 6 ? 9 : k == 6 ? 6 : k == 7 ? 5 : 10;
				if (v < 0)
					printf(" %*s", width, "-");
				else
					printf(" %*.*f", width, shown[k] >= 5 && shown[k] <= 7 ? 0 : shown[k] == 9 ? 0 : shown[k] == 8 ? 2 : 1,
					       (double)v / scale[shown[k]]);
			}
			printf("\n");
			continue;
		}
		const uint8_t *body = r + sizeof(head);
		size_t blen = rl - sizeof(head);
		bool text = printable(body, blen);
		if (json) {
			printf("%s{\"node\":\"%s\",\"visit\":%u,\"%s\":\"", i ? "," : "", name, head.visit,
			       text ? "text" : "hex");
			if (text) {
				for (size_t k = 0; k < blen && body[k]; k++)
					printf(body[k] == '"' || body[k] == '\\' ? "\\%c" : body[k] < 0x20 ? "\\u%04x" : "%c",
					       body[k]);
			} else {
				print_hex(body, blen);
			}
			printf("\"}");
		} else {
			printf("%-3zu %-10s visit %u  ", i + 1, name, head.visit);
			if (text)
				printf("%.*s\n", (int)strnlen((const char *)body, blen), (const char *)body);
			else {
				print_hex(body, blen);
				printf("\n");
			}
		}
	}
	if (json)
		printf("]}\n");
	else
		printf("round trip %.3f ms, %zu records%s\n", (double)h->rtt_ns / 1e6, n,
		       h->truncated ? " (some left out: no room in the capsule)" : "");
}

/* Parse --at: names or addresses, comma-separated. */
static int parse_goals(const char *list, const char *lab, struct an_addr *goals, size_t *ret_n)
{
	char *copy = strdup(list), *save = NULL;
	size_t n = 0;
	int r = 0;
	if (!copy)
		return -ENOMEM;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char label[65];
		if (n == 16) {
			fprintf(stderr, "anode trace: at most 16 goal nodes\n");
			r = -E2BIG;
			break;
		}
		r = cli_dest_find(t, lab, &goals[n], label, sizeof(label));
		if (r < 0)
			break;
		n++;
	}
	free(copy);
	*ret_n = n;
	return r;
}

int cmd_trace(const char *node, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "at", required_argument, NULL, 'a' },	 { "carry", no_argument, NULL, 'C' },
		{ "on-demand", no_argument, NULL, 'D' }, { "code", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },	 { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *at = NULL, *code_file = NULL;
	bool carry = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			at = optarg;
			break;
		case 'C':
			carry = true;
			break;
		case 'D':
			carry = false;
			break;
		case 'c':
			code_file = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			trace_usage(stdout);
			return 0;
		default:
			trace_usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		trace_usage(stderr);
		return 2;
	}
	struct cli_app app;
	if (cli_app_open(&app, "trace", node, argv[optind], code_file ? code_file : "trace.ao", code_file != NULL) < 0)
		return 1;
	const char *lab = app.node.lab[0] ? app.node.lab : NULL;
	struct an_addr goals[16];
	size_t n_goals = 0;
	if (at && parse_goals(at, lab, goals, &n_goals) < 0) {
		cli_app_close(&app);
		return 1;
	}
	struct an_link *l = app.link;
	const char *label = app.dst_label;
	int rc = 1, r;
	struct trace_hdr h = { .phase = TRACE_NEW, .port = app.port, .dst = app.dst };
	memcpy(h.pm.b, app.pm, AN_NAME_LEN);
	struct an_capsule cap = {
		.code = app.code,
		.dst = &app.dst,
		.carried = carry ? app.code_bytes : NULL,
		.carried_len = app.code_len,
		.data = &h,
		.data_len = sizeof(h),
		.goals = n_goals ? goals : NULL,
		.n_goals = n_goals,
	};
	if (!json)
		printf("TRACE %s (%s) from %s, collecting at %s, code %s\n", label, app.dst_text, app.node.name,
		       at ? at : "every node", carry ? "carried" : "loaded on demand");
	r = an_capsule_send(l, &cap);
	if (r < 0) {
		fprintf(stderr, "anode trace: send: %s\n", strerror(-r));
		goto out;
	}
	for (;;) {
		struct an_delivery d;
		r = an_recv(l, &d, TRACE_WAIT_MS);
		if (r < 0) {
			fprintf(stderr, "anode trace: no answer from %s: %s\n", label, strerror(-r));
			break;
		}
		if (d.error) {
			fprintf(stderr, "anode trace: %s dropped the capsule: %s\n", app.node.name, strerror(-d.error));
			break;
		}
		if (memcmp(d.code, app.code, AN_NAME_LEN) != 0 || d.len < sizeof(struct trace_hdr))
			continue;
		struct trace_hdr got;
		memcpy(&got, d.data, sizeof(got));
		if (got.phase != TRACE_DONE || got.port != app.port)
			continue;
		if (got.record_len < sizeof(struct trace_record_head)) {
			fprintf(stderr, "anode trace: the code's records are too short to name their nodes\n");
			break;
		}
		print_records(&got, d.data + sizeof(got), d.len - sizeof(got), code_file == NULL, json, lab, label);
		rc = 0;
		break;
	}
out:
	cli_app_close(&app);
	return rc;
}
