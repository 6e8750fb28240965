// SPDX-License-Identifier: MIT
/*
 * Finding nodes and code objects for the CLI (see cli.h).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "anode-config.h"
#include "cli.h"
#include "ctl/ctl.h"

const char *cli_run_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("ANODE_RUN_DIR");
	if (env && *env)
		return env;
	snprintf(dir, sizeof(dir), "/tmp/anode-%u", (unsigned)getuid());
	return dir;
}

int cli_lab_read(const char *lab_dir, struct cli_node **ret, size_t *ret_n)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/nodes", lab_dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	struct cli_node *nodes = NULL;
	size_t n = 0;
	char line[1024];
	const char *lab = strrchr(lab_dir, '/');
	lab = lab ? lab + 1 : lab_dir;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		struct cli_node c = { 0 };
		char addr[128];
		if (sscanf(line, "%64s %127s %107s %107s %d", c.name, addr, c.app_path, c.ctl_path, &c.pid) != 5)
			continue;
		c.have_addr = an_addr_parse(addr, &c.addr) == 0;
		snprintf(c.lab, sizeof(c.lab), "%s", lab);
		struct cli_node *grown = realloc(nodes, (n + 1) * sizeof(*grown));
		if (!grown) {
			free(nodes);
			fclose(f);
			return -ENOMEM;
		}
		nodes = grown;
		nodes[n++] = c;
	}
	fclose(f);
	*ret = nodes;
	*ret_n = n;
	return 0;
}

/* Calls fn for every node of every lab (or only of `lab`); stops at the
 * first nonzero return and returns it. */
static int for_each_lab_node(const char *lab, int (*fn)(const struct cli_node *, void *), void *arg)
{
	DIR *d = opendir(cli_run_dir());
	if (!d)
		return 0;
	struct dirent *e;
	int r = 0;
	while (r == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.' || (lab && strcmp(lab, e->d_name) != 0))
			continue;
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/%s", cli_run_dir(), e->d_name);
		struct cli_node *nodes;
		size_t n;
		if (cli_lab_read(dir, &nodes, &n) < 0)
			continue;
		for (size_t i = 0; r == 0 && i < n; i++)
			r = fn(&nodes[i], arg);
		free(nodes);
	}
	closedir(d);
	return r;
}

struct find {
	const char *spec;
	struct an_addr addr;
	bool by_addr;
	struct cli_node found;
	int matches;
};

static int match_node(const struct cli_node *c, void *arg)
{
	struct find *f = arg;
	bool hit = f->by_addr ? c->have_addr && an_addr_eq(&c->addr, &f->addr) : strcmp(c->name, f->spec) == 0;
	if (hit) {
		if (f->matches++ == 0)
			f->found = *c;
	}
	return 0;
}

static int find_in_labs(const char *spec, const char *lab, struct find *f)
{
	*f = (struct find){ .spec = spec };
	f->by_addr = an_addr_parse(spec, &f->addr) == 0;
	const char *env_lab = getenv("ANODE_LAB");
	for_each_lab_node(lab ? lab : (env_lab && *env_lab ? env_lab : NULL), match_node, f);
	return f->matches;
}

int cli_node_find(const char *spec, struct cli_node *ret)
{
	if (!spec) {
		fprintf(stderr, "anode: which node? give -n NODE (a node of a running lab, see 'anode lab status')\n");
		return -ENOENT;
	}
	if (strchr(spec, '/')) {
		/* Socket paths: NAME.app with NAME.ctl beside it. */
		struct cli_node c = { 0 };
		size_t len = strlen(spec);
		if (len < 4 || strcmp(spec + len - 4, ".app") != 0 || len >= CLI_PATH_MAX) {
			fprintf(stderr, "anode: %s: expected the path of a node's application socket (NAME.app)\n", spec);
			return -ENOENT;
		}
		snprintf(c.app_path, sizeof(c.app_path), "%s", spec);
		snprintf(c.ctl_path, sizeof(c.ctl_path), "%.*s.ctl", (int)(len - 4), spec);
		const char *base = strrchr(spec, '/') + 1;
		snprintf(c.name, sizeof(c.name), "%.*s", (int)(strlen(base) - 4), base);
		*ret = c;
		return 0;
	}
	struct find f;
	int n = find_in_labs(spec, NULL, &f);
	if (n == 0) {
		fprintf(stderr, "anode: no running lab has a node '%s' (see 'anode lab status')\n", spec);
		return -ENOENT;
	}
	if (n > 1 && !getenv("ANODE_LAB"))
		fprintf(stderr, "anode: %d running labs have a node '%s'; using lab '%s' (set ANODE_LAB to choose)\n",
			n, spec, f.found.lab);
	*ret = f.found;
	return 0;
}

int cli_dest_find(const char *spec, const char *lab, struct an_addr *ret, char *ret_label, size_t label_len)
{
	struct find f;
	if (find_in_labs(spec, lab, &f) > 0 && f.found.have_addr) {
		*ret = f.found.addr;
		snprintf(ret_label, label_len, "%s", f.found.name);
		return 0;
	}
	if (an_addr_parse(spec, ret) == 0) {
		snprintf(ret_label, label_len, "%s", spec);
		return 0;
	}
	fprintf(stderr, "anode: %s: not a node of the lab, nor an address (ADDR:PORT)\n", spec);
	return -ENOENT;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cli_code_path(const char *file, char *ret, size_t len)
{
	const char *dirs[] = { getenv("ANODE_CODE_DIR"), ANODE_BUILD_APPS, ANODE_INSTALL_APPS };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(ret, len, "%s/%s", dirs[i], file);
		if (is_file(ret))
			return 0;
	}
	fprintf(stderr, "anode: cannot find the code object %s (looked in $ANODE_CODE_DIR, %s, %s)\n", file,
		ANODE_BUILD_APPS, ANODE_INSTALL_APPS);
	return -ENOENT;
}

int cli_code_insert(struct an_link *l, const char *file, uint8_t ret_name[AN_NAME_LEN], void **ret_code,
		    size_t *ret_len)
{
	char path[PATH_MAX];
	int r = cli_code_path(file, path, sizeof(path));
	if (r < 0)
		return r;
	void *code;
	size_t len;
	r = an_code_read_file(path, &code, &len);
	if (r < 0) {
		fprintf(stderr, "anode: %s: %s\n", path, strerror(-r));
		return r;
	}
	r = an_code_insert(l, code, len, ret_name);
	if (r < 0) {
		const char *why = an_link_refusal(l);
		fprintf(stderr, "anode: node refused %s: %s\n", path, why[0] ? why : strerror(-r));
		free(code);
		return r;
	}
	if (ret_code) {
		*ret_code = code;
		*ret_len = len;
	} else {
		free(code);
	}
	return 0;
}

struct an_link *cli_link_open(const struct cli_node *n)
{
	struct an_link *l = an_link_open(n->app_path);
	if (!l)
		fprintf(stderr, "anode: cannot reach node %s at %s: %s\n", n->name, n->app_path, strerror(errno));
	return l;
}

int cli_ctl(const struct cli_node *n, const char *cmd, char **ret_body)
{
	char *body = NULL;
	int r = ctl_request(n->ctl_path, cmd, 5000, &body);
	if (r == -EREMOTEIO) {
		fprintf(stderr, "anode: node %s: %s\n", n->name, body);
		free(body);
		return r;
	}
	if (r < 0) {
		fprintf(stderr, "anode: cannot reach node %s at %s: %s\n", n->name, n->ctl_path, strerror(-r));
		return r;
	}
	*ret_body = body;
	return 0;
}

void cli_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
