// SPDX-License-Identifier: MIT
/*
 * Directive tables (conf.h): parse, defaults, print-back and help from one
 * declaration per directive.
 */
#include "core/conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 28 /* where the text of a directive's help starts */
#define HELP_WIDTH 79

static void *at(void *cfg, const struct conf_directive *d)
{
	return (char *)cfg + d->offset;
}

static const void *at_const(const void *cfg, const struct conf_directive *d)
{
	return (const char *)cfg + d->offset;
}

FILE *conf_stream_open(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
	static char empty[] = "\n"; /* fmemopen takes no empty buffer */
	FILE *f = !text ? fopen(name, "re") : len ? fmemopen((void *)text, len, "r") : fmemopen(empty, 1, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", name, strerror(e));
		errno = e;
	}
	return f;
}

void conf_defaults(const struct conf_directive *table, void *cfg)
{
	for (const struct conf_directive *d = table; d && d->name; d++) {
		switch (d->kind) {
		case CONF_SIZE:
			*(size_t *)at(cfg, d) = (size_t)d->def;
			break;
		case CONF_BOOL:
			*(bool *)at(cfg, d) = d->def != 0;
			break;
		case CONF_PATH:
			((char *)at(cfg, d))[0] = '\0';
			break;
		case CONF_WORD:
			snprintf(at(cfg, d), d->size, "%s", d->def_text ? d->def_text : "");
			break;
		case CONF_CUSTOM:
			if (d->set_default)
				d->set_default(cfg);
			break;
		}
	}
}

const struct conf_directive *conf_find(const struct conf_directive *table, const char *name)
{
	for (const struct conf_directive *d = table; d && d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static int parse_size(const char *s, uint64_t min, uint64_t max, size_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v < min || v > max)
		return -EINVAL;
	*ret = (size_t)v;
	return 0;
}

int conf_apply(const struct conf_directive *d, void *cfg, char **args, unsigned n_args, char *err, size_t errlen)
{
	unsigned want = d->kind == CONF_CUSTOM && d->n_args ? d->n_args : 1;
	if (n_args != want) {
		snprintf(err, errlen, "'%s' takes %u argument%s", d->name, want, want == 1 ? "" : "s");
		return -EINVAL;
	}
	int r = 0;
	switch (d->kind) {
	case CONF_SIZE:
		r = parse_size(args[0], d->min, d->max, at(cfg, d));
		if (r < 0) {
			snprintf(err, errlen, "bad value for '%s': %.64s (a number from %llu to %llu)", d->name,
				 args[0], (unsigned long long)d->min, (unsigned long long)d->max);
		}
		return r;
	case CONF_BOOL:
		if (strcmp(args[0], "yes") != 0 && strcmp(args[0], "no") != 0) {
			snprintf(err, errlen, "bad value for '%s': %.64s (yes or no)", d->name, args[0]);
			return -EINVAL;
		}
		*(bool *)at(cfg, d) = args[0][0] == 'y';
		return 0;
	case CONF_PATH:
		if (strlen(args[0]) >= CONF_PATH_MAX) {
			snprintf(err, errlen, "bad value for '%s': longer than %d octets", d->name, CONF_PATH_MAX - 1);
			return -ENAMETOOLONG;
		}
		strcpy(at(cfg, d), args[0]);
		return 0;
	case CONF_WORD:
		if (strlen(args[0]) >= d->size || !d->word_ok(args[0])) {
			snprintf(err, errlen, "bad value for '%s': '%.64s': %s", d->name, args[0], d->word_rule);
			return -EINVAL;
		}
		strcpy(at(cfg, d), args[0]);
		return 0;
	case CONF_CUSTOM:
		err[0] = '\0';
		r = d->parse(cfg, args, err, errlen);
		if (r < 0 && !err[0])
			snprintf(err, errlen, "bad value for '%s': %.64s", d->name, args[0]);
		return r;
	}
	return -EINVAL;
}

void conf_print(const struct conf_directive *table, const void *cfg, FILE *f)
{
	for (const struct conf_directive *d = table; d && d->name; d++) {
		switch (d->kind) {
		case CONF_SIZE:
			fprintf(f, "%s %zu\n", d->name, *(const size_t *)at_const(cfg, d));
			break;
		case CONF_BOOL:
			fprintf(f, "%s %s\n", d->name, *(const bool *)at_const(cfg, d) ? "yes" : "no");
			break;
		case CONF_PATH:
		case CONF_WORD: {
			const char *p = at_const(cfg, d);
			if (p[0])
				fprintf(f, "%s %s\n", d->name, p);
			break;
		}
		case CONF_CUSTOM:
			if (d->print)
				d->print(cfg, f);
			break;
		}
	}
}

/* Write text from column HELP_COLUMN, wrapped at HELP_WIDTH; col is where
 * the cursor is now. */
static void wrap(FILE *f, const char *text, size_t col)
{
	const char *w = text;
	bool first = true;
	while (*w) {
		while (*w == ' ')
			w++;
		if (!*w)
			break;
		size_t len = strcspn(w, " ");
		if (!first && col + 1 + len > HELP_WIDTH) {
			fprintf(f, "\n%*s", HELP_COLUMN, "");
			col = HELP_COLUMN;
			first = true;
		}
		if (!first) {
			fputc(' ', f);
			col++;
		}
		fwrite(w, 1, len, f);
		col += len;
		w += len;
		first = false;
	}
	fputc('\n', f);
}

void conf_help(const struct conf_directive *table, FILE *f)
{
	for (const struct conf_directive *d = table; d && d->name; d++) {
		char head[128], text[1024], def[64] = "";
		int hl = snprintf(head, sizeof(head), "  %s %s", d->name, d->args ? d->args : "");
		if (d->kind == CONF_SIZE)
			snprintf(def, sizeof(def), " (%llu)", (unsigned long long)d->def);
		else if (d->kind == CONF_BOOL)
			snprintf(def, sizeof(def), " (%s)", d->def ? "yes" : "no");
		else if (d->def_text)
			snprintf(def, sizeof(def), " (%s)", d->def_text);
		snprintf(text, sizeof(text), "%s%s", d->help, def);
		fputs(head, f);
		/* Two blanks at least part the head from the text (man/conf.sh
		 * reads the head up to them). */
		int pad = hl + 2 > HELP_COLUMN ? 2 : HELP_COLUMN - hl;
		fprintf(f, "%*s", pad, "");
		wrap(f, text, (size_t)(hl + pad));
	}
}
