/* SPDX-License-Identifier: MIT */
/*
 * Configuration directives as tables: each part of a program that takes
 * directives declares them once (name, arguments, help, default, where the
 * value goes in its own config struct), and this module parses a line into
 * them, fills in the defaults, prints a config back (`anoded -n`) and writes
 * the help text (`anoded -h`, from which anoded.conf(5) is made). The help,
 * the defaults and the parser are one table, so they cannot disagree.
 */
#ifndef CORE_CONF_H
#define CORE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_PATH_MAX 108 /* sun_path: control and application sockets */
#define CONF_ARGS_MAX 3

enum conf_kind {
	CONF_SIZE,   /* a size_t in [min, max] */
	CONF_BOOL,   /* a bool, written yes or no */
	CONF_PATH,   /* a char[CONF_PATH_MAX]; empty when not given (then not printed) */
	CONF_WORD,   /* a char[size], checked by word_ok; def_text is its default */
	CONF_CUSTOM, /* parse and print are the directive's own */
};

struct conf_directive {
	const char *name; /* NULL ends a table */
	const char *args; /* for the help: "N", "PATH", "DEST NEXT-HOP" */
	const char *help; /* one paragraph; the writer wraps it and adds the default */
	enum conf_kind kind;
	size_t offset;		/* of the value in the config struct */
	uint64_t min, max, def; /* CONF_SIZE; CONF_BOOL: def */
	const char *def_text;	/* CONF_CUSTOM, CONF_PATH, CONF_WORD: the default as help shows it, or NULL */
	size_t size;		/* CONF_WORD: of the char array, NUL included */
	bool (*word_ok)(const char *word); /* CONF_WORD */
	const char *word_rule;		   /* CONF_WORD: what word_ok wants, for the error */
	unsigned n_args;		   /* CONF_CUSTOM: arguments it takes (1 when 0) */
	/* CONF_CUSTOM: 0, or a negative errno after writing why into err
	 * (without file and line: the caller adds them). */
	int (*parse)(void *cfg, char **args, char *err, size_t errlen);
	void (*print)(const void *cfg, FILE *f);
	/* CONF_CUSTOM: the default, set before the file is read (may be NULL). */
	void (*set_default)(void *cfg);
};

/* Table entries: a number in [lo, hi], yes|no, a path; CONF_CUSTOM ones
 * are written out with designated initializers. CONF_END ends a table. */
#define CONF_NUM(nm, a, h, type, field, lo, hi, dflt)                                                                  \
	{                                                                                                              \
		.name = (nm), .args = (a), .help = (h), .kind = CONF_SIZE, .offset = offsetof(type, field),            \
		.min = (lo), .max = (hi), .def = (dflt)                                                                \
	}
#define CONF_YESNO(nm, h, type, field, dflt)                                                                           \
	{                                                                                                              \
		.name = (nm), .args = "yes|no", .help = (h), .kind = CONF_BOOL, .offset = offsetof(type, field),       \
		.def = (dflt)                                                                                          \
	}
#define CONF_FILE(nm, a, h, type, field)                                                                               \
	{                                                                                                              \
		.name = (nm), .args = (a), .help = (h), .kind = CONF_PATH, .offset = offsetof(type, field)             \
	}
#define CONF_WORD_AT(nm, a, h, type, field, ok, rule, dflt)                                                            \
	{                                                                                                              \
		.name = (nm), .args = (a), .help = (h), .kind = CONF_WORD, .offset = offsetof(type, field),            \
		.size = sizeof(((type *)0)->field), .word_ok = (ok), .word_rule = (rule), .def_text = (dflt)           \
	}
#define CONF_END                                                                                                       \
	{                                                                                                              \
		.name = NULL                                                                                           \
	}

/* A stream for a reader of lines: the file at name (text NULL), or len
 * octets of text in memory named name (the privileged parent read the
 * file; empty text reads as an empty file). NULL with errno set and
 * "NAME: why" in err. */
FILE *conf_stream_open(const char *name, const char *text, size_t len, char *err, size_t errlen);

/* Set every directive of table in cfg to its default. */
void conf_defaults(const struct conf_directive *table, void *cfg);
/* The directive of table named name, or NULL. */
const struct conf_directive *conf_find(const struct conf_directive *table, const char *name);
/* Apply one directive with its n_args arguments to cfg: 0, or -EINVAL
 * with why in err ("bad value for 'x': y", "'x' takes 2 arguments"). */
int conf_apply(const struct conf_directive *d, void *cfg, char **args, unsigned n_args, char *err, size_t errlen);
/* Print every directive of table with its value in cfg, one per line, as
 * the parser reads it. */
void conf_print(const struct conf_directive *table, const void *cfg, FILE *f);
/* Write the help of every directive in table: "  name ARGS", the text
 * from column 29, wrapped at 79 columns, the default in parentheses. */
void conf_help(const struct conf_directive *table, FILE *f);

#endif
