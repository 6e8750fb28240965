// SPDX-License-Identifier: MIT
/*
 * What the application commands (ping, flood, trace) share: find the node
 * and the destination, connect to the node, insert the portmapper and the
 * command's code object, and bind a port for the answers to come back to.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int cli_app_open(struct cli_app *a, const char *cmd, const char *node, const char *dest, const char *code,
		 bool user_path)
{
	memset(a, 0, sizeof(*a));
	if (cli_node_find(node, &a->node) < 0)
		return -ENOENT;
	const char *lab = a->node.lab[0] ? a->node.lab : NULL;
	if (cli_dest_find(dest, lab, &a->dst, a->dst_label, sizeof(a->dst_label)) < 0)
		return -ENOENT;
	an_addr_format(&a->dst, a->dst_text, sizeof(a->dst_text));
	a->link = cli_link_open(&a->node);
	if (!a->link)
		return -ENOTCONN;
	int r = cli_code_insert(a->link, "portmapper.ao", a->pm, NULL, NULL);
	if (r == 0 && !user_path)
		r = cli_code_insert(a->link, code, a->code, &a->code_bytes, &a->code_len);
	if (r == 0 && user_path) {
		r = an_code_read_file(code, &a->code_bytes, &a->code_len);
		if (r == 0)
			r = an_code_insert(a->link, a->code_bytes, a->code_len, a->code);
		if (r < 0)
			fprintf(stderr, "anode %s: %s: %s\n", cmd, code,
				an_link_refusal(a->link)[0] ? an_link_refusal(a->link) :
				r == -EINVAL		    ? "fails validation" :
							      strerror(-r));
	}
	if (r == 0) {
		r = an_portmap_bind(a->link, a->pm, 0, &a->port);
		if (r < 0)
			fprintf(stderr, "anode %s: cannot bind a port at %s: %s\n", cmd, a->node.name, strerror(-r));
	}
	if (r < 0)
		cli_app_close(a);
	return r;
}

void cli_app_close(struct cli_app *a)
{
	if (a->link && a->port)
		an_portmap_release(a->link, a->pm, a->port);
	a->port = 0;
	free(a->code_bytes);
	a->code_bytes = NULL;
	an_link_close(a->link);
	a->link = NULL;
}

int cli_app_code_gone(struct cli_app *a, const char *cmd)
{
	static struct timespec last;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (last.tv_sec && (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 < 200)
		return 0;
	last = now;
	fprintf(stderr, "anode %s: %s no longer has our code (evicted from its cache?): inserting it again\n", cmd,
		a->node.name);
	int r = cli_code_insert(a->link, "portmapper.ao", a->pm, NULL, NULL);
	if (r == 0)
		r = an_code_insert(a->link, a->code_bytes, a->code_len, NULL);
	uint32_t port = 0;
	/* The portmapper's soft state may have gone with it: the same port. */
	if (r == 0)
		r = an_portmap_bind(a->link, a->pm, a->port, &port);
	if (r == -EADDRINUSE)
		r = 0; /* still bound to us */
	if (r < 0)
		fprintf(stderr, "anode %s: cannot insert the code again at %s: %s\n", cmd, a->node.name,
			an_link_refusal(a->link)[0] ? an_link_refusal(a->link) : strerror(-r));
	return r;
}
