// SPDX-License-Identifier: MIT
/*
 * The control module's policy file (policy.h): parsing, checking, printing
 * back, and the two questions asked of it (may this principal use this
 * service, may it filter this traffic).
 */
#include "svc/policy.h"

#include "core/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define LINE_MAX_LEN 1024
#define WORDS_MAX (POLICY_ARGS_MAX + 8)

static bool name_ok(const char *s, bool dots)
{
	size_t n = strlen(s);
	if (n == 0 || n > WIRE_SVC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && !(dots && s[i] == '.'))
			return false;
	return true;
}

int policy_key_parse(const char *s, uint8_t pk[32])
{
	static const char pre[] = "ed25519:";
	size_t bin_len;
	if (strncmp(s, pre, sizeof(pre) - 1) != 0)
		return -EINVAL;
	s += sizeof(pre) - 1;
	if (sodium_base642bin(pk, 32, s, strlen(s), NULL, &bin_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != 32)
		return -EINVAL;
	return 0;
}

void policy_key_format(const uint8_t pk[32], char *out, size_t outlen)
{
	char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), pk, 32, sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, outlen, "ed25519:%s", b64);
}

/* "123", "64k", "64M", "1G". */
static int parse_bytes(const char *s, size_t max, size_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	unsigned long long mul = 1;
	if (*end == 'k' || *end == 'K')
		mul = 1ull << 10, end++;
	else if (*end == 'M')
		mul = 1ull << 20, end++;
	else if (*end == 'G')
		mul = 1ull << 30, end++;
	if (*end || v > max / mul)
		return -EINVAL;
	*ret = (size_t)(v * mul);
	return 0;
}

static int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;
	if (end == s || a == 0 || a > 65535)
		return -EINVAL;
	if (*end == '-') {
		const char *t = end + 1;
		b = strtoul(t, &end, 10);
		if (end == t || b < a || b > 65535)
			return -EINVAL;
	} else {
		b = a;
	}
	if (*end)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static int parse_prefix(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char buf[INET_ADDRSTRLEN + 4];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	unsigned long len = 32;
	if (slash) {
		char *end;
		*slash = 0;
		len = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || len > 32)
			return -EINVAL;
	}
	struct in_addr a;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	uint32_t mask = len ? htonl(~0u << (32 - len)) : 0;
	if (a.s_addr & ~mask)
		return -EINVAL; /* host bits set: say what you mean */
	*addr = a.s_addr;
	*prefix = (uint8_t)len;
	return 0;
}

static int parse_proto(const char *s, uint8_t *ret)
{
	if (!strcmp(s, "udp"))
		*ret = 17;
	else if (!strcmp(s, "tcp"))
		*ret = 6;
	else if (!strcmp(s, "icmp"))
		*ret = 1;
	else if (!strcmp(s, "any"))
		*ret = 0;
	else
		return -EINVAL;
	return 0;
}

static const char *proto_name(uint8_t p)
{
	return p == 17 ? "udp" : p == 6 ? "tcp" : p == 1 ? "icmp" : "any";
}

static struct policy_principal *find_principal(struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_principals; i++)
		if (!strcmp(p->principals[i].name, name))
			return &p->principals[i];
	return NULL;
}

const char *policy_kind_name(enum policy_service_kind k)
{
	return k == POLICY_PROGRAM ? "program" : k == POLICY_MODULE ? "module" : "probe";
}

const struct policy_principal *policy_principal(const struct policy *p, const char *name)
{
	return find_principal((struct policy *)p, name);
}

const struct policy_service *policy_service(const struct policy *p, const char *name)
{
	for (size_t i = 0; i < p->n_services; i++)
		if (!strcmp(p->services[i].name, name))
			return &p->services[i];
	return NULL;
}

/* One directive, split into words; err gets the reason without the place. */
static int directive(struct policy *p, char **w, size_t n, char *err, size_t errlen)
{
	const char *key = w[0];
	if (!strcmp(key, "admin") || !strcmp(key, "user")) {
		if (n != 3) {
			snprintf(err, errlen, "'%s' takes a name and a key", key);
			return -EINVAL;
		}
		if (!name_ok(w[1], true)) {
			snprintf(err, errlen, "bad name '%.40s': 1 to %d letters, digits, '.', '_' or '-'", w[1],
				 WIRE_SVC_NAME_MAX);
			return -EINVAL;
		}
		if (find_principal(p, w[1])) {
			snprintf(err, errlen, "'%s' is declared twice", w[1]);
			return -EEXIST;
		}
		if (p->n_principals == POLICY_PRINCIPALS_MAX) {
			snprintf(err, errlen, "more than %d administrators and users", POLICY_PRINCIPALS_MAX);
			return -ENOSPC;
		}
		struct policy_principal pr = {
		    .admin = key[0] == 'a',
		    .quota = {POLICY_DEFAULT_SERVICES, POLICY_DEFAULT_FILTERS, POLICY_DEFAULT_MEMORY,
			      POLICY_DEFAULT_CPU, POLICY_DEFAULT_STATE},
		};
		strcpy(pr.name, w[1]);
		if (policy_key_parse(w[2], pr.pk) < 0) {
			snprintf(err, errlen,
				 "bad key for '%s': want ed25519:BASE64 (32 octets), as 'anode key gen' prints", w[1]);
			return -EINVAL;
		}
		p->principals[p->n_principals++] = pr;
		return 0;
	}
	if (!strcmp(key, "service")) {
		if (n < 4 || ((!strcmp(w[2], "module") || !strcmp(w[2], "probe")) && n != 4)) {
			snprintf(err, errlen,
				 "'service' takes NAME program PATH [ARG ...], NAME module FILE or NAME probe FILE");
			return -EINVAL;
		}
		if (!name_ok(w[1], false)) {
			snprintf(err, errlen, "bad service name '%.40s'", w[1]);
			return -EINVAL;
		}
		if (policy_service(p, w[1])) {
			snprintf(err, errlen, "service '%s' is deployed twice", w[1]);
			return -EEXIST;
		}
		if (p->n_services == POLICY_SERVICES_MAX) {
			snprintf(err, errlen, "more than %d services", POLICY_SERVICES_MAX);
			return -ENOSPC;
		}
		struct policy_service *s = &p->services[p->n_services];
		memset(s, 0, sizeof(*s));
		strcpy(s->name, w[1]);
		if (!strcmp(w[2], "program") || !strcmp(w[2], "server")) {
			s->kind = POLICY_PROGRAM;
			s->server = w[2][0] == 's';
		} else if (!strcmp(w[2], "module"))
			s->kind = POLICY_MODULE;
		else if (!strcmp(w[2], "probe"))
			s->kind = POLICY_PROBE;
		else {
			snprintf(err, errlen, "service kind '%.20s': program, server, module or probe", w[2]);
			return -EINVAL;
		}
		if (w[3][0] != '/' || strlen(w[3]) >= sizeof(s->path)) {
			snprintf(err, errlen, "service '%s': the path must be absolute (and shorter than %d)", w[1],
				 POLICY_PATH_MAX);
			return -EINVAL;
		}
		strcpy(s->path, w[3]);
		if (n - 4 > POLICY_ARGS_MAX) {
			snprintf(err, errlen, "service '%s': more than %d arguments", w[1], POLICY_ARGS_MAX);
			return -E2BIG;
		}
		for (size_t i = 4; i < n; i++) {
			s->argv[s->argc] = strdup(w[i]);
			if (!s->argv[s->argc])
				return -ENOMEM;
			s->argc++;
		}
		p->n_services++;
		return 0;
	}
	if (!strcmp(key, "allow") || !strcmp(key, "quota")) {
		struct policy_principal *pr = n >= 2 ? find_principal(p, w[1]) : NULL;
		if (!pr) {
			snprintf(err, errlen, "'%s' needs a user declared before it", key);
			return -ENOENT;
		}
		if (!strcmp(key, "quota")) {
			if (n < 4 || (n - 2) % 2) {
				snprintf(err, errlen, "'quota' takes USER and pairs of a resource and a value");
				return -EINVAL;
			}
			for (size_t i = 2; i < n; i += 2) {
				size_t *slot = !strcmp(w[i], "services")  ? &pr->quota.services
					       : !strcmp(w[i], "filters") ? &pr->quota.filters
					       : !strcmp(w[i], "memory")  ? &pr->quota.memory
					       : !strcmp(w[i], "cpu")	  ? &pr->quota.cpu_pct
					       : !strcmp(w[i], "state")	  ? &pr->quota.state
									  : NULL;
				size_t max = slot == &pr->quota.cpu_pct ? 100 : (size_t)1 << 40;
				if (!slot || parse_bytes(w[i + 1], max, slot) < 0) {
					snprintf(err, errlen,
						 "quota '%.20s %.20s': services|filters N, memory|state BYTES, cpu PCT",
						 w[i], w[i + 1]);
					return -EINVAL;
				}
			}
			return 0;
		}
		if (n >= 4 && !strcmp(w[2], "service")) {
			if (n != 4) {
				snprintf(err, errlen, "'allow USER service' takes one comma-separated list");
				return -EINVAL;
			}
			char *save = NULL;
			for (char *t = strtok_r(w[3], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
				if (!name_ok(t, false) || !policy_service(p, t)) {
					snprintf(err, errlen, "'%.40s' is not a service deployed above", t);
					return -ENOENT;
				}
				if (pr->n_services == POLICY_GRANTS_MAX) {
					snprintf(err, errlen, "more than %d services for '%s'", POLICY_GRANTS_MAX,
						 pr->name);
					return -ENOSPC;
				}
				strcpy(pr->services[pr->n_services++], t);
			}
			return 0;
		}
		if (n >= 4 && !strcmp(w[2], "filter")) {
			struct policy_filter_grant g = {0};
			if (parse_prefix(w[3], &g.addr, &g.prefix) < 0) {
				snprintf(err, errlen, "bad prefix '%.40s' (A.B.C.D/LEN, no host bits)", w[3]);
				return -EINVAL;
			}
			for (size_t i = 4; i < n; i += 2) {
				int r = i + 1 >= n		 ? -EINVAL
					: !strcmp(w[i], "proto") ? parse_proto(w[i + 1], &g.proto)
					: !strcmp(w[i], "ports") ? parse_port_range(w[i + 1], &g.port_lo, &g.port_hi)
								 : -EINVAL;
				if (r < 0) {
					snprintf(err, errlen, "filter grant: proto udp|tcp|icmp|any, ports LO[-HI]");
					return -EINVAL;
				}
			}
			if (g.port_lo && g.proto != 17 && g.proto != 6) {
				snprintf(err, errlen, "filter grant: ports need proto udp or tcp");
				return -EINVAL;
			}
			if (pr->n_filters == POLICY_GRANTS_MAX) {
				snprintf(err, errlen, "more than %d filter grants for '%s'", POLICY_GRANTS_MAX,
					 pr->name);
				return -ENOSPC;
			}
			pr->filters[pr->n_filters++] = g;
			return 0;
		}
		snprintf(err, errlen, "'allow' takes USER service LIST or USER filter PREFIX ...");
		return -EINVAL;
	}
	snprintf(err, errlen, "unknown directive '%.40s'", key);
	return -EINVAL;
}

/* Read a policy from f, named path in errors; f stays open. */
static int policy_read(FILE *f, const char *path, struct policy *ret, char *err, size_t errlen)
{
	struct policy p = {0};
	p.principals = calloc(POLICY_PRINCIPALS_MAX, sizeof(*p.principals));
	p.services = calloc(POLICY_SERVICES_MAX, sizeof(*p.services));
	int r = p.principals && p.services ? 0 : -ENOMEM;
	char line[LINE_MAX_LEN + 2];
	int lineno = 0;
	while (r == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %d", path, lineno, LINE_MAX_LEN);
			r = -E2BIG;
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *w[WORDS_MAX];
		size_t n = 0;
		char *save = NULL;
		for (char *t = strtok_r(line, " \t\r\n", &save); t; t = strtok_r(NULL, " \t\r\n", &save)) {
			if (n == WORDS_MAX) {
				snprintf(err, errlen, "%s:%d: too many words", path, lineno);
				r = -E2BIG;
				break;
			}
			w[n++] = t;
		}
		if (r < 0 || n == 0)
			continue;
		char why[256];
		r = directive(&p, w, n, why, sizeof(why));
		if (r < 0)
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
	}
	if (r == 0 && ferror(f))
		snprintf(err, errlen, "%s: cannot read it", path), r = -EIO;
	if (r < 0) {
		policy_free(&p);
		if (r == -ENOMEM)
			snprintf(err, errlen, "%s: out of memory", path);
		return r;
	}
	*ret = p;
	return 0;
}

/* A policy from the file at name, or from text (conf_stream_open). */
static int policy_from(const char *name, const char *text, size_t len, struct policy *ret, char *err, size_t errlen)
{
	FILE *f = conf_stream_open(name, text, len, err, errlen);
	if (!f)
		return -errno;
	int r = policy_read(f, name, ret, err, errlen);
	fclose(f);
	return r;
}

int policy_load(const char *path, struct policy *ret, char *err, size_t errlen)
{
	return policy_from(path, NULL, 0, ret, err, errlen);
}

int policy_parse(const char *text, size_t len, const char *name, struct policy *ret, char *err, size_t errlen)
{
	/* An empty policy is a policy with nobody in it. */
	return policy_from(name, text ? text : "", len, ret, err, errlen);
}

void policy_free(struct policy *p)
{
	if (p->services)
		for (size_t i = 0; i < p->n_services; i++)
			for (size_t j = 0; j < p->services[i].argc; j++)
				free(p->services[i].argv[j]);
	free(p->services);
	free(p->principals);
	memset(p, 0, sizeof(*p));
}

void policy_print(const struct policy *p, FILE *f)
{
	char key[POLICY_KEY_STRLEN];
	for (size_t i = 0; i < p->n_principals; i++) {
		const struct policy_principal *pr = &p->principals[i];
		policy_key_format(pr->pk, key, sizeof(key));
		fprintf(f, "%s %s %s\n", pr->admin ? "admin" : "user", pr->name, key);
	}
	for (size_t i = 0; i < p->n_services; i++) {
		const struct policy_service *s = &p->services[i];
		fprintf(f, "service %s %s %s", s->name, s->server ? "server" : policy_kind_name(s->kind), s->path);
		for (size_t j = 0; j < s->argc; j++)
			fprintf(f, " %s", s->argv[j]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < p->n_principals; i++) {
		const struct policy_principal *pr = &p->principals[i];
		if (pr->admin)
			continue;
		if (pr->n_services) {
			fprintf(f, "allow %s service ", pr->name);
			for (size_t j = 0; j < pr->n_services; j++)
				fprintf(f, "%s%s", j ? "," : "", pr->services[j]);
			fputc('\n', f);
		}
		for (size_t j = 0; j < pr->n_filters; j++) {
			const struct policy_filter_grant *g = &pr->filters[j];
			char a[INET_ADDRSTRLEN];
			inet_ntop(AF_INET, &g->addr, a, sizeof(a));
			fprintf(f, "allow %s filter %s/%u proto %s", pr->name, a, g->prefix, proto_name(g->proto));
			if (g->port_lo)
				fprintf(f, " ports %u-%u", g->port_lo, g->port_hi);
			fputc('\n', f);
		}
		fprintf(f, "quota %s services %zu filters %zu memory %zu cpu %zu state %zu\n", pr->name,
			pr->quota.services, pr->quota.filters, pr->quota.memory, pr->quota.cpu_pct, pr->quota.state);
	}
}

int policy_flow_parse(const char *params, struct policy_flow *f, char *why, size_t whylen)
{
	char buf[WIRE_SVC_PARAMS_MAX + 1];
	snprintf(buf, sizeof(buf), "%s", params);
	memset(f, 0, sizeof(*f));
	char *save = NULL;
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		char *v = strchr(w, '=');
		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(w, "dst") || !strcmp(w, "src")) {
			char *slash = strchr(v, '/');
			struct in_addr a;
			int len = slash ? atoi(slash + 1) : 32;
			if (slash)
				*slash = 0;
			if (inet_pton(AF_INET, v, &a) != 1 || len < 1 || len > 32)
				goto bad;
			if (w[0] == 'd') {
				f->dst = a.s_addr;
				f->dst_prefix = (uint8_t)len;
			} else {
				f->src = a.s_addr;
				f->src_prefix = (uint8_t)len;
			}
		} else if (!strcmp(w, "proto")) {
			if (parse_proto(v, &f->proto) < 0 || !f->proto)
				goto bad;
		} else if (!strcmp(w, "port")) {
			if (parse_port_range(v, &f->port_lo, &f->port_hi) < 0)
				goto bad;
		}
	}
	if (!f->dst_prefix && !f->src_prefix) {
		snprintf(why, whylen,
			 "the activation names no traffic: dst=A.B.C.D/LEN (or src=) proto=udp|tcp|icmp "
			 "[port=LO[-HI]]");
		return -EINVAL;
	}
	if (f->port_lo && f->proto != 17 && f->proto != 6)
		goto bad;
	return 0;
bad:
	snprintf(why, whylen, "bad traffic parameters (dst=A.B.C.D/LEN proto=udp|tcp|icmp port=LO[-HI])");
	return -EINVAL;
}

bool policy_may_flow(const struct policy_principal *who, const struct policy_flow *f)
{
	bool by_dst = f->dst_prefix > 0;
	return policy_may_filter(who, by_dst ? f->dst : f->src, by_dst ? f->dst_prefix : f->src_prefix, f->proto,
				 f->port_lo, f->port_hi);
}

int policy_server_flow(const char *params, const struct policy_principal *who, struct policy_flow *f, char *why,
		       size_t whylen)
{
	int r = policy_flow_parse(params, f, why, whylen);
	if (r < 0)
		return r;
	if (!f->dst_prefix || !f->port_lo || (f->proto != 6 && f->proto != 17)) {
		snprintf(why, whylen, "a server needs the traffic it serves: dst=A.B.C.D[/LEN] proto=tcp|udp port=P");
		return -EINVAL;
	}
	if (!who->admin && !policy_may_flow(who, f)) {
		snprintf(why, whylen, "the traffic is outside what the policy lets this user filter");
		return -EPERM;
	}
	return 0;
}

bool policy_may_use(const struct policy_principal *who, const char *service)
{
	if (who->admin)
		return true;
	for (size_t i = 0; i < who->n_services; i++)
		if (!strcmp(who->services[i], service))
			return true;
	return false;
}

bool policy_may_filter(const struct policy_principal *who, uint32_t addr, uint8_t prefix, uint8_t proto,
		       uint16_t port_lo, uint16_t port_hi)
{
	if (who->admin)
		return true;
	for (size_t i = 0; i < who->n_filters; i++) {
		const struct policy_filter_grant *g = &who->filters[i];
		uint32_t mask = g->prefix ? htonl(~0u << (32 - g->prefix)) : 0;
		if (prefix < g->prefix || (addr & mask) != g->addr)
			continue; /* not inside the granted prefix */
		if (g->proto && proto != g->proto)
			continue;
		if (g->port_lo && (!port_lo || port_lo < g->port_lo || port_hi > g->port_hi))
			continue;
		return true;
	}
	return false;
}
